"""CFONB 120 on accounting projects' published files (Odoo OCA, Pennylane, Silarhi) and on our own edge cases.

Origins and licences of the files: tests/data/README.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schwifty import IBAN

from engine.bank import StatementError, check_adds_up, check_statements, line_refs
from tests.bank_support import DATA, amount, balance, complement, movement
from treasury import cfonb120
from treasury.reading import StatementFileError

OCA_IBAN = "FR7630003012340123456789057"


def read(name: str) -> list:
    return cfonb120.read((DATA / name).read_bytes())


def test_odoo_sample_reads_as_odoo_reads_it() -> None:
    """OCA's test expects 1017311.89 → 1031585.79, 13 lines, all of 13 January 2024."""
    [statement] = read("oca_l10n_france_cfonb_classic.cfo")
    assert statement.account == OCA_IBAN
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("1017311.89"),
        Decimal("1031585.79"),
    )
    assert (statement.from_date, statement.to_date) == (date(2024, 1, 12), date(2024, 1, 13))
    assert len(statement.lines) == 13 and {line.booked_on for line in statement.lines} == {date(2024, 1, 13)}
    check_adds_up(statement)
    first, second = statement.lines[:2]
    assert (first.amount, first.counterparty_name) == (Decimal("1040.17"), "MA JOLIE BOUTIQUE")
    assert first.remittance == "VIR INST MA JOLIE BOUTIQUE facture F230875"
    assert (
        second.remittance == "VIR DURANCIA MONTGENEVRE F230866 F230765 F238765 0018937"
    )  # LIB = LCC once, then RCN
    orange = statement.lines[11]
    assert (orange.amount, orange.counterparty_name) == (
        Decimal("-617.14"),
        "Orange",
    )  # NBE names the payee of a debit


def test_the_same_file_without_line_breaks_reads_the_same() -> None:
    assert read("oca_l10n_france_cfonb_no_carriage_return.cfo") == read("oca_l10n_france_cfonb_classic.cfo")


def test_pennylane_sample_two_accounts_blank_lines_and_another_bank_code_on_the_closing() -> None:
    first, second = read("pennylane_cfonb_example.txt")
    # The 07 record says bank 15489 where the 01 said 15589: the account number decides.
    assert first.account == str(
        IBAN.generate("FR", bank_code="15589", branch_code="00000", account_code="98765432100")
    )
    assert (first.opening_balance, first.closing_balance) == (Decimal("-190.40"), Decimal("-241.21"))
    assert [str(line.amount) for line in first.lines] == ["-32.21", "-10.70", "-7.90"]
    assert second.account == "FR7618706000000012345678954"
    assert (second.lines[0].booked_on, second.lines[0].value_on) == (date(2019, 5, 17), date(2019, 5, 15))
    assert second.lines[0].amount == Decimal("97.49")  # an entry number with a blank in it does not matter
    assert first.lines[1].remittance == "VIR SEPA DEMONSTRATION REFERENCE"  # the 04's own reference (105–120)
    check_statements([first, second], {})


def test_silarhi_sample_daily_statements_then_a_gap_is_refused_with_the_figures() -> None:
    statements = read("silarhi_cfonb120_complex.txt")
    assert len(statements) == 8
    for statement in statements:
        check_adds_up(statement)
    # A direct debit's 04 carries the creditor's bank code (10556) in an account of bank 10278.
    assert statements[1].lines[0].amount == Decimal("-20.11")
    assert statements[1].lines[1].amount == Decimal("-5000.00")  # "}" is a negative last digit 0
    with pytest.raises(
        StatementError,
        match=r"opens at 584353\.02, but the account's last known closing balance is 11484\.75",
    ):
        check_statements(statements, {})


def test_own_file_crlf_blank_lines_trimmed_records_and_identical_lines() -> None:
    [statement] = read("own_cfonb_crlf_blank_lines.txt")
    assert [str(line.amount) for line in statement.lines] == [
        "350.00",
        "-19.99",
        "-1.21",
        "1000.09",
        "-5.00",
        "-5.00",
    ]
    credit, debit = statement.lines[:2]
    assert (credit.counterparty_name, credit.remittance) == (
        "ATELIER DUPONT SARL",
        "VIR SEPA ATELIER DUPONT FACTURE F2024-002",
    )
    assert (debit.counterparty_name, debit.remittance) == ("FREE MOBILE", "PRLV SEPA FREE MOBILE fmpmt-42")
    refs = line_refs(statement)
    assert refs[4] != refs[5]


def test_own_file_that_does_not_add_up_is_refused_with_its_figures() -> None:
    [statement] = read("own_cfonb_does_not_add_up.txt")
    with pytest.raises(StatementError) as refused:
        check_adds_up(statement)
    assert str(refused.value) == (
        f"statement of {OCA_IBAN} from 2024-03-01 to 2024-03-02 does not add up: opening 100.00"
        " + 1 lines -30.00 = 70.00, but the closing balance is 80.00 (difference 10.00)"
    )


def test_overlapping_files_give_the_shared_days_the_same_line_refs() -> None:
    [first] = read("own_cfonb_overlap_a.txt")
    [second] = read("own_cfonb_overlap_b.txt")
    assert first.account == second.account == "FR1420041010050500013M02606"  # a letter in the account number
    shared = {date(2024, 2, 3), date(2024, 2, 5)}
    ours = {ref for ref, line in zip(line_refs(first), first.lines, strict=True) if line.booked_on in shared}
    theirs = {
        ref for ref, line in zip(line_refs(second), second.lines, strict=True) if line.booked_on in shared
    }
    assert len(ours) == 3 and ours == theirs  # two identical commissions of the 3rd, and the 5th
    assert set(line_refs(first)) != set(line_refs(second))


B, G, A = "30003", "01234", "01234567890"


def cfonb(*records: str) -> bytes:
    return ("\n".join(records) + "\n").encode()


@pytest.mark.parametrize(
    ("records", "where", "why"),
    [
        ([movement(B, G, A, "020324", Decimal(1), "X")], "record 1 (line 1)", "outside any statement"),
        ([balance("01", B, G, A, "010324", Decimal(1))], "record 1 (line 1)", "has no closing 07 record"),
        (
            [balance("01", B, G, A, "010324", Decimal(1)), balance("01", B, G, A, "010324", Decimal(1))],
            "record 2 (line 2)",
            "opens before",
        ),
        (
            [balance("01", B, G, A, "010324", Decimal(1)), complement(B, G, A, "020324", "LIB", "X")],
            "record 2 (line 2)",
            "before any 04",
        ),
        (
            [
                balance("01", B, G, A, "010324", Decimal(1)),
                movement(B, G, "01234567891", "020324", Decimal(1), "X"),
            ],
            "record 2 (line 2)",
            "account '01234567891' in a statement of account '01234567890'",
        ),
        (["09" + balance("01", B, G, A, "010324", Decimal(1))[2:]], "record 1 (line 1)", "record code '09'"),
        (
            [balance("01", B, G, A, "320324", Decimal(1))],
            "record 1 (line 1)",
            "opening date '320324' is not a date",
        ),
        (
            [balance("01", B, G, A, "010324", Decimal(1))[:103] + "X" + " " * 16],
            "record 1 (line 1)",
            "is not a CFONB amount",
        ),
    ],
)
def test_broken_files_are_refused_in_one_line_naming_the_record(
    records: list[str], where: str, why: str
) -> None:
    with pytest.raises(StatementFileError) as refused:
        cfonb120.read(cfonb(*records))
    message = str(refused.value)
    assert (
        message.startswith(f"CFONB 120 file unreadable at {where}: ")
        and why in message
        and "\n" not in message
    )


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(10**14) + 1, max_value=10**14 - 1), st.integers(min_value=0, max_value=5))
def test_amount_encoding_round_trip(units: int, decimals: int) -> None:
    value = Decimal(units).scaleb(-decimals)
    assert cfonb120.decode_amount(amount(value, decimals), decimals, "here") == value


RIB_LETTERS = {
    letter: str(digit)
    for digit, group in enumerate(("AJ", "BKS", "CLT", "DMU", "ENV", "FOW", "GPX", "HQY", "IRZ"), start=1)
    for letter in group
}


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(r"[0-9]{5}", fullmatch=True),
    st.from_regex(r"[0-9]{5}", fullmatch=True),
    st.from_regex(r"[0-9A-Z]{11}", fullmatch=True),
)
def test_the_iban_of_a_cfonb_account_carries_its_rib_key(bank: str, branch: str, account: str) -> None:
    """RIB key = 97 − ((89 × bank + 15 × branch + 3 × account) mod 97), letters as digits (A,J→1 … I,R,Z→9)."""
    numeric = int("".join(RIB_LETTERS.get(c, c) for c in account))
    key = 97 - ((89 * int(bank) + 15 * int(branch) + 3 * numeric) % 97)
    opening = balance("01", bank, branch, account, "010324", Decimal(0))
    closing = balance("07", bank, branch, account, "020324", Decimal(0))
    [statement] = cfonb120.read(cfonb(opening, closing))
    iban = IBAN(statement.account)  # valid: check digits and national checksum
    assert str(iban.bban) == f"{bank}{branch}{account}{key:02d}"
    assert int("".join(str(int(c, 36)) for c in str(iban.bban) + "FR00")) % 97 == 98 - int(
        statement.account[2:4]
    )
