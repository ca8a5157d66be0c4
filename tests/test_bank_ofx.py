"""OFX through ofxtools, on ofxparse's and ofxtools' published files and on our OFX 2.x file.

Origins and licences of the files: tests/data/README.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.bank import check_adds_up, line_refs
from tests.bank_support import DATA
from treasury import ofx
from treasury.reading import StatementFileError


def read(name: str) -> list:
    return ofx.read((DATA / name).read_bytes())


def test_a_french_banks_sgml_file_with_two_accounts_gets_their_ibans_from_the_rib() -> None:
    first, second = read("ofxparse_multiple_accounts.ofx")
    assert first.account == "FR7618206001667893456788931"  # 18206 00166 78934567889, RIB key 31
    assert second.account == "FR7618206001668927382918248"
    # OFX gives the closing balance only: the opening is what the lines leave.
    assert (first.opening_balance, first.closing_balance) == (Decimal("123266.87"), Decimal("123450.00"))
    assert (first.from_date, first.to_date) == (date(2011, 7, 25), date(2011, 8, 29))
    debit = first.lines[1]
    assert (debit.amount, debit.bank_ref, debit.remittance) == (
        Decimal("-43.20"),
        "1015000016",
        "qtgiuaretnaruise tsriuenrauise",
    )
    check_adds_up(first)


def test_an_account_that_is_no_iban_keeps_what_the_bank_gives() -> None:
    [statement] = read("ofxparse_bank_medium.ofx")
    assert (statement.account, statement.currency) == ("12300 000012345678", "CAD")
    # 12:20:17 on 1 April at UTC−5 is still 1 April; private tags (INTU.BID) are skipped.
    assert [line.booked_on for line in statement.lines] == [
        date(2009, 4, 1),
        date(2009, 4, 2),
        date(2009, 4, 3),
    ]


def test_a_file_without_header_is_read() -> None:
    [statement] = read("ofxtools_stmtrs.ofx")
    assert (statement.account, statement.closing_balance, statement.to_date) == (
        "999988",
        Decimal("200.29"),
        date(2005, 10, 29),
    )
    assert [line.bank_ref for line in statement.lines] == ["00002", "00003"]


def test_ofx_2_xml_french_account_key_decimal_comma_and_dates_as_written() -> None:
    [statement] = read("own_ofx2_fr.ofx")
    assert statement.account == "FR7630004008190001012345632"
    credit, debit = statement.lines
    assert credit.amount == Decimal("1250.50")
    assert credit.booked_on == date(2024, 1, 31)  # midnight in Paris; ofxtools' UTC instant is the 30th
    assert (credit.counterparty_name, credit.remittance) == (
        "VIR SEPA ATELIER DUPONT",
        "VIR SEPA ATELIER DUPONT FACTURE F2024-003",
    )
    assert statement.opening_balance == Decimal("2000.00")
    assert len(set(line_refs(statement))) == 2


def test_an_account_key_that_is_not_the_rib_key_is_refused() -> None:
    data = (DATA / "own_ofx2_fr.ofx").read_bytes().replace(b"<ACCTKEY>32<", b"<ACCTKEY>33<")
    with pytest.raises(StatementFileError, match="ACCTKEY 33 is not the RIB key 32"):
        ofx.read(data)


def test_a_credit_card_statement_or_a_broken_file_is_refused_in_one_line() -> None:
    card = (DATA / "ofxparse_multiple_accounts.ofx").read_bytes()
    card = card.replace(b"BANKMSGSRSV1", b"CREDITCARDMSGSRSV1").replace(b"<STMTTRNRS>", b"<CCSTMTTRNRS>")
    card = card.replace(b"</STMTTRNRS>", b"</CCSTMTTRNRS>").replace(b"STMTRS>", b"CCSTMTRS>")
    card = (
        card.replace(b"BANKACCTFROM>", b"CCACCTFROM>")
        .replace(b"<BANKID>18206\n", b"")
        .replace(b"<BRANCHID>00166\n", b"")
        .replace(b"<ACCTTYPE>CHECKING\n", b"")
    )
    with pytest.raises(StatementFileError, match="only bank account statements"):
        ofx.read(card)
    with pytest.raises(StatementFileError) as refused:
        ofx.read(b"OFXHEADER:100\nDATA:OFXSGML\n" + b"x" * 5000)
    message = str(refused.value)
    assert message.startswith("OFX file unreadable at its header: ") and len(message) < 250
