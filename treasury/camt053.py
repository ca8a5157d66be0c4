"""ISO 20022 CAMT.053 (`BkToCstmrStmt`), any version 001.02 … 001.13, read into `engine.bank` values.

Elements are found by their local names (`{*}`), so every version's
namespace reads alike; the few places where versions differ are handled
where they occur: `Sts` is a bare code in 001.02 and `Sts/Cd` from 001.08;
parties are `Dbtr/Nm` in 001.02 and `Dbtr/Pty/Nm` from 001.08; a
transaction's amount is `AmtDtls/TxAmt/Amt` in 001.02 and `Amt` from 001.04.

The XML is parsed with entities left unresolved, no DTD and no network; a
file with a DOCTYPE is refused outright (no bank sends one), so no entity is
ever expanded. Only booked entries (`BOOK`) count, because the booked
closing balance (`CLBD`) counts only them. A batch entry whose transaction
details each carry an amount, adding up to the entry's, becomes one line per
transaction, so that each client's payment can be matched (rule 11).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from engine.bank import Statement, StatementLine
from treasury.reading import StatementFileError, account_iban, exact_amount, iban_or_none, joined

FORMAT = "CAMT.053"
_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(camt\.\d{3})\.\d{3}\.\d{2}")
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)
# What a bank puts in EndToEndId when the payer gave none (SEPA rulebook).
_NO_END_TO_END = "NOTPROVIDED"


def _path(path: str) -> str:
    return "/".join("{*}" + step for step in path.split("/"))


def _text(element: etree._Element | None, path: str) -> str | None:
    """The stripped text at `path` under `element`, or None when absent or blank."""
    if element is None:
        return None
    found = element.find(_path(path))
    if found is None or found.text is None or not found.text.strip():
        return None
    return found.text.strip()


def _texts(element: etree._Element, path: str) -> list[str]:
    return [
        found.text.strip() for found in element.iterfind(_path(path)) if found.text and found.text.strip()
    ]


def _where(element: etree._Element, what: str) -> str:
    return f"line {element.sourceline} ({what})"


def _date(element: etree._Element, path: str, what: str) -> date | None:
    """`Dt` or `DtTm` under `path`: the date as the bank wrote it, before any offset.

    `2014-12-31T13:15:00+01:00` is booked on the 31st in the bank's day, and
    some banks write a date with an offset (`2017-04-01+02:00`).
    """
    found = _text(element, path + "/Dt") or _text(element, path + "/DtTm")
    if found is None:
        return None
    try:
        return date.fromisoformat(found[:10])
    except ValueError:
        raise StatementFileError(FORMAT, _where(element, what), f"{found!r} is not a date") from None


def _amount(element: etree._Element, path: str, what: str) -> tuple[Decimal, str] | None:
    """An `Amt` with its currency, or None when absent."""
    found = element.find(_path(path))
    if found is None:
        return None
    text = (found.text or "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise StatementFileError(FORMAT, _where(found, what), f"amount {text!r} is not a number") from None
    if value < 0:
        raise StatementFileError(
            FORMAT, _where(found, what), f"amount {text} is negative (the sign is CdtDbtInd)"
        )
    return exact_amount(value, FORMAT, _where(found, what)), found.get("Ccy", "")


def _sign(element: etree._Element, what: str) -> int:
    indicator = _text(element, "CdtDbtInd")
    if indicator == "CRDT":
        return 1
    if indicator == "DBIT":
        return -1
    raise StatementFileError(
        FORMAT, _where(element, what), f"CdtDbtInd {indicator!r} is neither CRDT nor DBIT"
    )


@dataclass(frozen=True)
class _Party:
    name: str | None
    iban: str | None


def _party(details: etree._Element, role: str) -> _Party:
    """`Dbtr` or `Cdtr` of a transaction (001.02 `Dbtr/Nm`, 001.08 `Dbtr/Pty/Nm`), else its ultimate one."""
    parties = details.find(_path("RltdPties"))
    if parties is None:
        return _Party(None, None)
    name = (
        _text(parties, f"{role}/Nm")
        or _text(parties, f"{role}/Pty/Nm")
        or _text(parties, f"Ultmt{role}/Nm")
        or _text(parties, f"Ultmt{role}/Pty/Nm")
    )
    return _Party(name, iban_or_none(_text(parties, f"{role}Acct/Id/IBAN")))


def _counterparty(entry: etree._Element, details: etree._Element | None, amount: Decimal) -> _Party:
    """The other side: the debtor of a credit, the creditor of a debit.

    A reversal (`RvslInd`) undoes a movement of the other direction (ISO
    20022), so its counterparty is that movement's: a returned direct debit is
    credited back, and the other side is still the creditor. Banks do not all
    agree (ING's example names the creditor on a reversed debit), so a
    reversal with nobody in the expected role takes the other one.
    """
    if details is None:
        return _Party(None, None)
    role, other = ("Dbtr", "Cdtr") if amount > 0 else ("Cdtr", "Dbtr")
    if _text(entry, "RvslInd") != "true":
        return _party(details, role)
    found = _party(details, other)
    return found if found.name or found.iban else _party(details, role)


def _remittance(details: etree._Element | None, entry: etree._Element) -> str | None:
    """Unstructured and structured remittance; failing both, the bank's additional information."""
    parts: list[str] = []
    if details is not None:
        parts = _texts(details, "RmtInf/Ustrd") + _texts(details, "RmtInf/Strd/CdtrRefInf/Ref")
        parts = parts or _texts(details, "AddtlTxInf")
    return joined(parts or _texts(entry, "AddtlNtryInf"))


def _end_to_end(details: etree._Element | None) -> str | None:
    found = _text(details, "Refs/EndToEndId")
    return None if found == _NO_END_TO_END else found


def _detail_amount(details: etree._Element, entry_sign: int, currency: str, what: str) -> Decimal | None:
    """A transaction's signed amount in the statement's currency, or None when it has none."""
    amount = _amount(details, "Amt", what) or _amount(details, "AmtDtls/TxAmt/Amt", what)
    if amount is None or amount[1] != currency:
        return None
    sign = _sign(details, what) if _text(details, "CdtDbtInd") else entry_sign
    return sign * amount[0]


def _line(
    entry: etree._Element, details: etree._Element | None, amount: Decimal, bank_ref: str | None, what: str
) -> StatementLine:
    booked = _date(entry, "BookgDt", what)
    if booked is None:
        raise StatementFileError(FORMAT, _where(entry, what), "the entry has no booking date (BookgDt)")
    party = _counterparty(entry, details, amount)
    ref = bank_ref or (_text(details, "Refs/AcctSvcrRef") if details is not None else None)
    return StatementLine(
        booked_on=booked,
        value_on=_date(entry, "ValDt", what),
        amount=amount,
        remittance=_remittance(details, entry),
        counterparty_name=party.name,
        counterparty_iban=party.iban,
        end_to_end_id=_end_to_end(details),
        bank_ref=ref,
    )


def _amount_in(element: etree._Element, currency: str, where: str, missing: str, kind: str) -> Decimal:
    """The element's `Amt`, which must be there and in the statement's currency (a file is one currency)."""
    amount = _amount(element, "Amt", where)
    if amount is None:
        raise StatementFileError(FORMAT, _where(element, where), missing)
    if amount[1] != currency:
        raise StatementFileError(FORMAT, _where(element, where), f"{kind} in {amount[1]} in a {currency} statement")
    return amount[0]


def _entry_lines(entry: etree._Element, currency: str, what: str) -> list[StatementLine]:
    sign = _sign(entry, what)
    signed = sign * _amount_in(entry, currency, what, "the entry has no amount (Amt)", "amount")
    ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    details = list(entry.iterfind(_path("NtryDtls/TxDtls")))
    if len(details) > 1:
        parts = [_detail_amount(d, sign, currency, what) for d in details]
        amounts = [part for part in parts if part is not None]
        if len(amounts) == len(details) and sum(amounts, Decimal(0)) == signed:
            return [
                _line(entry, d, part, f"{ref}/{rank}" if ref else None, what)
                for rank, (d, part) in enumerate(zip(details, amounts, strict=True), start=1)
            ]
    return [_line(entry, details[0] if len(details) == 1 else None, signed, ref, what)]


def _balance(
    statement: etree._Element, codes: tuple[str, ...], currency: str, what: str
) -> tuple[Decimal, date]:
    """The first balance of the first code present (`OPBD`, else `PRCD`; `CLBD`), signed, with its date."""
    for code in codes:
        for balance in statement.iterfind(_path("Bal")):
            if _text(balance, "Tp/CdOrPrtry/Cd") != code:
                continue
            where = f"{code} balance of {what}"
            amount = _amount_in(balance, currency, where, "the balance has no amount", "balance")
            on = _date(balance, "Dt", where)
            if on is None:
                raise StatementFileError(FORMAT, _where(balance, where), "the balance has no date")
            return _sign(balance, where) * amount, on
    raise StatementFileError(FORMAT, _where(statement, what), f"no {' or '.join(codes)} balance")


def _account(statement: etree._Element, what: str) -> str:
    """The account's IBAN, checked; an account known only by another id (`Othr/Id`) keeps that id."""
    iban = _text(statement, "Acct/Id/IBAN")
    if iban is not None:
        return account_iban(iban, FORMAT, _where(statement, what))
    other = _text(statement, "Acct/Id/Othr/Id")
    if other is None:
        raise StatementFileError(FORMAT, _where(statement, what), "the statement names no account (Acct/Id)")
    return iban_or_none(other) or other


def _statement(element: etree._Element, rank: int) -> Statement:
    bank_id = _text(element, "Id")
    what = f"statement {bank_id or rank}"
    if bank_id is None:
        raise StatementFileError(FORMAT, _where(element, what), "the statement has no Id")
    account = _account(element, what)
    currency = _text(element, "Acct/Ccy") or _balance_currency(element)
    opening, opened_on = _balance(element, ("OPBD", "PRCD"), currency, what)
    closing, closed_on = _balance(element, ("CLBD",), currency, what)
    lines: list[StatementLine] = []
    for number, entry in enumerate(element.iterfind(_path("Ntry")), start=1):
        status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
        if status is None:
            raise StatementFileError(
                FORMAT, _where(entry, f"entry {number} of {what}"), "the entry has no status (Sts)"
            )
        if status != "BOOK":
            continue
        lines += _entry_lines(entry, currency, f"entry {number} of {what}")
    return Statement(
        account=account,
        statement_id=bank_id,
        currency=currency,
        opening_balance=opening,
        closing_balance=closing,
        from_date=opened_on,
        to_date=closed_on,
        lines=tuple(lines),
    )


def _balance_currency(statement: etree._Element) -> str:
    found = statement.find(_path("Bal/Amt"))
    return found.get("Ccy", "") if found is not None else ""


def read(data: bytes) -> list[Statement]:
    """Every statement of a CAMT.053 file, in the file's order."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        raise StatementFileError(
            FORMAT, f"line {error.lineno}", f"not well-formed XML ({error.msg})"
        ) from None
    if root.getroottree().docinfo.doctype:
        raise StatementFileError(FORMAT, "line 1", "the file declares a DOCTYPE, which no bank statement has")
    namespace = etree.QName(root).namespace or ""
    kind = _NAMESPACE.fullmatch(namespace)
    if kind is not None and kind.group(1) != "camt.053":
        raise StatementFileError(
            FORMAT, "line 1", f"this is a {kind.group(1)} message, not a camt.053 statement"
        )
    statements = root.findall(_path("BkToCstmrStmt/Stmt"))
    if not statements:
        raise StatementFileError(FORMAT, "line 1", "no BkToCstmrStmt/Stmt: not a bank-to-customer statement")
    return [_statement(element, rank) for rank, element in enumerate(statements, start=1)]
