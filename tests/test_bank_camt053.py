"""CAMT.053 on banks' published examples (001.02, 001.08) and on files written for the edge cases.

Origins and licences of the files: tests/data/README.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.bank import StatementError, check_adds_up, check_statements, event_body, line_refs
from tests.bank_support import DATA
from treasury import camt053, cfonb120
from treasury.reading import StatementFileError


def read(name: str) -> list:
    return camt053.read((DATA / name).read_bytes())


def test_ing_example_001_02_reads_and_adds_up() -> None:
    [statement] = read("ing_example_camt053_v02.xml")
    assert statement.account == "NL08INGB0000001234"
    assert statement.statement_id == "201401030009999"
    # PRCD (2 January) and OPBD (3 January) are both there: the opening booked balance wins.
    assert (statement.opening_balance, statement.from_date) == (Decimal("1000.00"), date(2014, 1, 3))
    assert (statement.closing_balance, statement.to_date) == (Decimal("1605.00"), date(2014, 1, 3))
    assert [str(line.amount) for line in statement.lines] == [
        "350.00",
        "125.00",
        "120.00",
        "270.00",
        "125.00",
        "-25.00",
        "-300.00",
        "-30.00",
        "-30.00",
    ]
    check_adds_up(statement)
    first = statement.lines[0]
    assert (first.counterparty_name, first.counterparty_iban) == ("INGTestrekening", "NL20INGB0001234567")
    assert (first.remittance, first.bank_ref) == ("0010008346912014", "59999208N9")
    assert statement.lines[2].end_to_end_id == "20140103E2EIdA1INGBankNV"


def test_ing_reuses_an_entry_reference_and_both_lines_stay() -> None:
    """Two 125.00 credits of 3 January share AcctSvcrRef 98888208N8, two 30.00 debits 3101963431841."""
    [statement] = read("ing_example_camt053_v02.xml")
    assert statement.lines[1].bank_ref == statement.lines[4].bank_ref == "98888208N8"
    assert len(set(line_refs(statement))) == 9


def test_ing_reversal_names_the_creditor_it_names() -> None:
    [statement] = read("ing_example_camt053_v02.xml")
    reversal = statement.lines[8]
    assert reversal.amount == Decimal("-30.00")  # CdtDbtInd gives the direction, RvslInd only flags it
    assert reversal.counterparty_name == "INGTestrekening"
    assert reversal.value_on == date(2013, 12, 20)


def test_a_swiss_bank_export_001_08_is_read_faithfully_and_refused_for_its_currency() -> None:
    [statement] = read("kedder_iso20022_camt053_v08.xml")
    assert statement.account == "0035-2915203-10-000"  # known by Othr/Id, not an IBAN
    assert statement.currency == "CHF"
    [credit] = statement.lines
    assert (credit.amount, credit.counterparty_name, credit.remittance) == (
        Decimal("1284.30"),
        "PAYEE",
        "PAYMENT INFO",
    )
    assert (credit.end_to_end_id, credit.bank_ref) == ("9502830971", "8082230156M02SJ62/1010")
    check_adds_up(statement)
    with pytest.raises(StatementError, match="is in CHF"):
        check_statements([statement], {})


def test_a_statement_with_balances_in_three_currencies_is_refused_where_it_breaks() -> None:
    with pytest.raises(
        StatementFileError, match=r"^CAMT\.053 file unreadable at line 74 \(CLBD balance .*SEK in a EUR"
    ):
        read("genkgo_camt053_v08.xml")


def test_odoo_sample_splits_its_batch_and_is_refused_for_not_adding_up() -> None:
    [statement] = read("oca_bank_statement_import_test_camt053_v02.xml")
    assert [str(line.amount) for line in statement.lines] == ["-754.25", "-564.05", "-100.00", "1405.31"]
    assert [line.end_to_end_id for line in statement.lines[1:3]] == [
        "TESTBANK/NL/20141229/01206408",
        "TESTBANK/NL/20141229/01206407",
    ]
    assert statement.lines[1].counterparty_name == "Test Customer"
    assert statement.lines[3].remittance == "#RD PARTY MEDIA CUSNO 90782 4210773"  # AddtlTxInf when no RmtInf
    with pytest.raises(
        StatementError,
        match=r"opening 15568\.27 \+ 4 lines -12\.99 = 15555\.28, but the closing balance is 15121\.12",
    ):
        check_adds_up(statement)


def test_own_file_dates_batch_reversal_pending_and_refs() -> None:
    [statement] = read("own_camt053_v08_fr.xml")
    credit, alice, bruno, returned, fees = statement.lines
    assert credit.booked_on == date(2024, 1, 15)  # 00:30 in Paris, whatever UTC says
    assert (credit.counterparty_iban, credit.end_to_end_id) == ("FR7630004008190001012345632", "F2024-001")
    assert [(alice.amount, alice.bank_ref), (bruno.amount, bruno.bank_ref)] == [
        (Decimal("-900.00"), "FR24011400002/1"),
        (Decimal("-600.00"), "FR24011400002/2"),
    ]
    assert (alice.counterparty_name, bruno.end_to_end_id) == ("Alice Martin", "PAY-2024-01-M002")
    assert returned.amount == Decimal("45.50") and returned.counterparty_name == "URSSAF Ile-de-France"
    assert returned.end_to_end_id is None  # NOTPROVIDED
    assert (fees.bank_ref, fees.remittance) == ("0005", "FRAIS TENUE DE COMPTE")
    assert len(statement.lines) == 5  # the pending (PDNG) entry does not count
    check_adds_up(statement)


def test_a_camt053_continues_a_cfonb_statement_of_the_same_account_and_a_cfonb_continues_it() -> None:
    before = cfonb120.read((DATA / "oca_l10n_france_cfonb_classic.cfo").read_bytes())
    middle = read("own_camt053_v08_fr.xml")
    after = cfonb120.read((DATA / "own_cfonb_crlf_blank_lines.txt").read_bytes())
    closings = check_statements([*before, *middle, *after], {})
    assert closings == {"FR7630003012340123456789057": Decimal("1032638.18")}


def test_the_event_of_a_camt_statement() -> None:
    [statement] = read("own_camt053_v08_fr.xml")
    body = event_body(statement)
    assert (body["account"], body["statement_id"], body["from"], body["to"]) == (
        "FR7630003012340123456789057",
        "OWN-STMT-20240115",
        "2024-01-13",
        "2024-01-15",
    )
    assert body["lines"][1]["amount"] == "-900.00" and body["lines"][1]["counterparty_name"] == "Alice Martin"
    assert "value_on" in body["lines"][4] and body["lines"][4]["value_on"] == "2024-01-14"


MINIMAL = """<?xml version="1.0"?>{doctype}
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{message}"><BkToCstmrStmt><Stmt><Id>{id}</Id>
<Acct><Id><IBAN>FR7630003012340123456789057</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-01-01</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-01-02</Dt></Dt></Bal>
{entries}</Stmt></BkToCstmrStmt></Document>"""


def camt(
    doctype: str = "",
    message: str = "camt.053.001.08",
    id: str = "S",
    closing: str = "10.00",
    entries: str = "",
) -> bytes:
    return MINIMAL.format(doctype=doctype, message=message, id=id, closing=closing, entries=entries).encode()


def test_an_external_entity_is_never_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("PASSWORD-42")
    hostile = camt(doctype=f'<!DOCTYPE Document [<!ENTITY x SYSTEM "file://{secret}">]>', id="&x;")
    with pytest.raises(StatementFileError, match="DOCTYPE") as refused:
        camt053.read(hostile)
    assert "PASSWORD-42" not in str(refused.value)


def test_an_entity_bomb_is_refused_without_expanding_it() -> None:
    expansions = ((n, f"&l{n - 1};" * 10) for n in range(1, 10))
    bomb = "".join(f'<!ENTITY l{n} "{text}">' for n, text in expansions)
    hostile = camt(doctype=f'<!DOCTYPE Document [<!ENTITY l0 "lol">{bomb}]>', id="&l9;")
    with pytest.raises(StatementFileError, match=r"^CAMT\.053 file unreadable at line 1: "):
        camt053.read(hostile)  # libxml2 stops it at its amplification limit, or the DOCTYPE rule does


def test_other_camt_messages_and_broken_xml_are_refused_in_one_line() -> None:
    with pytest.raises(StatementFileError, match="this is a camt.054 message, not a camt.053 statement"):
        camt053.read(camt(message="camt.054.001.08"))
    with pytest.raises(
        StatementFileError, match=r"^CAMT\.053 file unreadable at line \d+: not well-formed XML"
    ):
        camt053.read(b"<Document><BkToCstmrStmt></Document>")


ENTRY = """<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>{booked}</Ntry>"""


def test_an_entry_without_booking_date_status_or_with_sub_cent_amount_is_refused_with_its_line() -> None:
    with pytest.raises(
        StatementFileError, match=r"line 6 \(entry 1 of statement S\): the entry has no booking date"
    ):
        camt053.read(camt(entries=ENTRY.format(amount="1.00", booked="")))
    booked = "<BookgDt><Dt>2024-01-02</Dt></BookgDt>"
    with pytest.raises(StatementFileError, match="amount 1.005 has more than 2 decimals"):
        camt053.read(camt(entries=ENTRY.format(amount="1.005", booked=booked)))
    with pytest.raises(
        StatementFileError, match=r"line 6 \(entry 1 of statement S\): the entry has no status"
    ):
        camt053.read(camt(entries=ENTRY.format(amount="1.00", booked=booked).replace("<Sts>BOOK</Sts>", "")))
    [statement] = camt053.read(camt(closing="8.85", entries=ENTRY.format(amount="1.15000", booked=booked)))
    assert statement.lines[0].amount == Decimal("-1.15")


def test_a_batch_whose_details_do_not_add_up_stays_one_line() -> None:
    details = "".join(
        f'<TxDtls><Amt Ccy="EUR">{amount}</Amt><RltdPties><Cdtr><Nm>{name}</Nm></Cdtr></RltdPties></TxDtls>'
        for amount, name in (("1.00", "A"), ("2.00", "B"))
    )
    entry = (
        '<Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>2024-01-02</Dt></BookgDt><AcctSvcrRef>R</AcctSvcrRef><NtryDtls>{details}</NtryDtls></Ntry>"
    )
    [statement] = camt053.read(camt(closing="5.00", entries=entry))
    [whole] = statement.lines
    assert (whole.amount, whole.bank_ref, whole.counterparty_name) == (Decimal("-5.00"), "R", None)
