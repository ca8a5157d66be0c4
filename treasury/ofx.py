"""OFX bank statements (1.x SGML and 2.x XML) read with ofxtools into `engine.bank` values.

OFX gives no opening balance, only the ledger balance at `DTASOF`; the
opening is therefore the closing less the lines, which makes the "adds up"
half of rule 10 true by construction for OFX: only the continuity with the
account's previous closing balance can catch a missing line there.

Dates are taken as the bank wrote them (`20240323000000[+1:CET]` is the
23rd): ofxtools turns them into UTC instants, which would book that line on
the 22nd. French banks fill `BANKID` (5 digits), `BRANCHID` (5) and `ACCTID`
(11) but rarely an IBAN: the IBAN is then built from them, as for CFONB 120,
so one account has one name whatever its bank sends.
"""

from __future__ import annotations

import io
import re
import warnings
from datetime import date
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element

from ofxtools.header import OFXHeaderError
from ofxtools.models.bank.stmt import STMTRS
from ofxtools.Parser import OFXTree

from engine.bank import Statement, StatementLine, derived_statement_id
from treasury.reading import StatementFileError, exact_amount, french_iban, iban_or_none, joined

FORMAT = "OFX"
# Some banks send the body alone; ofxtools wants a header, so a file that
# starts at <OFX> gets the plainest one (its text is read as UTF-8).
_HEADER = (
    b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:UTF-8\n"
    b"CHARSET:NONE\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)
# What ofxtools raises on a file it cannot read: header and parse errors are
# SyntaxErrors, type and spec errors ValueErrors, a misplaced element a
# TypeError or KeyError.
_UNREADABLE = (SyntaxError, ValueError, TypeError, KeyError, IndexError)
_RIB = (re.compile(r"[0-9]{5}"), re.compile(r"[0-9A-Z]{5}"), re.compile(r"[0-9A-Z]{11}"))


def _raw_date(element: Element, tag: str, where: str) -> date | None:
    """The date part of an OFX datetime as written, before ofxtools moves it to UTC."""
    found = element.find(tag)
    if found is None or not (found.text or "").strip():
        return None
    text = (found.text or "").strip()
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise StatementFileError(FORMAT, where, f"{tag} {text!r} is not a date") from None


def _account(account: Any, where: str) -> str:
    """The account's IBAN: as given, or built from a French RIB, else the ACCTID as the bank gives it."""
    given = iban_or_none(account.acctid)
    if given:
        return given
    parts = (account.bankid or "", getattr(account, "branchid", None) or "", account.acctid or "")
    if all(pattern.fullmatch(part) for pattern, part in zip(_RIB, parts, strict=True)):
        iban = french_iban(*parts, FORMAT, where)
        key = getattr(account, "acctkey", None)
        if key and key != iban[-2:]:
            raise StatementFileError(
                FORMAT, where, f"ACCTKEY {key} is not the RIB key {iban[-2:]} of the account"
            )
        return iban
    return str(account.acctid)


def _line(transaction: Any, raw: Element, where: str) -> StatementLine:
    booked = _raw_date(raw, "DTPOSTED", where)
    if booked is None:
        raise StatementFileError(FORMAT, where, "the transaction has no DTPOSTED")
    payee = getattr(transaction.payee, "name", None) if transaction.payee is not None else None
    other = transaction.bankacctto
    return StatementLine(
        booked_on=booked,
        value_on=_raw_date(raw, "DTAVAIL", where),
        amount=exact_amount(transaction.trnamt, FORMAT, where),
        remittance=joined((transaction.name, transaction.memo)),
        counterparty_name=joined((payee or transaction.name,)),
        counterparty_iban=iban_or_none(other.acctid) if other is not None else None,
        bank_ref=transaction.fitid,
    )


def _statement(converted: STMTRS, raw: Element, rank: int) -> Statement:
    what = f"statement {rank}"
    account = _account(converted.account, what)
    balance = converted.balance
    if balance is None:
        raise StatementFileError(FORMAT, what, "the statement has no LEDGERBAL (closing balance)")
    closing = exact_amount(balance.balamt, FORMAT, what)
    raw_balance = raw.find("LEDGERBAL")
    closed_on = _raw_date(raw_balance, "DTASOF", what) if raw_balance is not None else None
    if closed_on is None:
        raise StatementFileError(FORMAT, what, "LEDGERBAL has no DTASOF")
    raw_list = raw.find("BANKTRANLIST")
    raw_lines = raw_list.findall("STMTTRN") if raw_list is not None else []
    transactions = list(converted.banktranlist or [])
    lines = tuple(
        _line(transaction, element, f"transaction {number} of {what}")
        for number, (transaction, element) in enumerate(zip(transactions, raw_lines, strict=True), start=1)
    )
    opened_on = (_raw_date(raw_list, "DTSTART", what) if raw_list is not None else None) or closed_on
    return Statement(
        account=account,
        statement_id=derived_statement_id(account, opened_on, closed_on),
        currency=converted.curdef,
        opening_balance=closing - sum((line.amount for line in lines), Decimal(0)),
        closing_balance=closing,
        from_date=opened_on,
        to_date=closed_on,
        lines=lines,
    )


def _reason(error: Exception) -> str:
    """ofxtools' message on one line, without the stretch of file it sometimes quotes."""
    text = " ".join(str(error).split()) or type(error).__name__
    head = text.split(": <", 1)[0]
    return head if len(head) <= 160 else head[:157] + "..."


def read(data: bytes) -> list[Statement]:
    """Every bank statement (`STMTRS`) of an OFX file, in the file's order."""
    if data.lstrip().upper().startswith(b"<OFX>"):
        data = _HEADER + data.lstrip()
    tree = OFXTree()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # banks' private tags (<INTU.BID>) are skipped, not news
            tree.parse(io.BytesIO(data))
            converted = tree.convert()
    except _UNREADABLE as error:
        part = "its header" if isinstance(error, OFXHeaderError) else "its body"
        raise StatementFileError(FORMAT, part, _reason(error)) from None
    root = tree.getroot()
    raw_statements = list(root.iter("STMTRS")) if root is not None else []
    statements = [s for s in converted.statements if isinstance(s, STMTRS)]
    if len(statements) != len(converted.statements):
        raise StatementFileError(
            FORMAT,
            "its statements",
            "only bank account statements (STMTRS) are taken, not card or investment ones",
        )
    if not statements:
        raise StatementFileError(FORMAT, "its statements", "no bank statement (STMTRS)")
    return [
        _statement(statement, raw, rank)
        for rank, (statement, raw) in enumerate(zip(statements, raw_statements, strict=True), start=1)
    ]
