"""CSV exports read through a TOML mapping (treasury/csvmap.py)."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal

import pytest

from engine.bank import check_adds_up, line_refs
from tests.bank_support import DATA
from treasury import csvmap
from treasury.csvmap import MappingError, load_mapping
from treasury.reading import StatementFileError

MAPPING = (DATA / "own_csv_banque.toml").read_text()


def test_a_french_export_with_title_footer_decimal_commas_and_debit_credit_columns() -> None:
    [statement] = csvmap.read((DATA / "own_csv_banque.csv").read_bytes(), load_mapping(MAPPING))
    assert statement.account == "FR7630004008190001012345632"
    assert [str(line.amount) for line in statement.lines] == ["1123.86", "-300.00", "-8.00", "-8.00"]
    assert statement.lines[1].remittance == "PRLV SEPA PAPETERIE MARTIN FA-2026-118"
    assert (statement.from_date, statement.to_date) == (date(2026, 1, 14), date(2026, 1, 31))
    check_adds_up(statement)
    assert len(set(line_refs(statement))) == 4


RUNNING = """Date,Amount,Balance,Label,Ref,IBAN
2026-02-03,-40.00,1060.00,PRLV EDF,R3,FR7630004008190001012345632
2026-02-02,100.00,1100.00,VIR CLIENT,R2,FR7630004008190001012345632
2026-02-02,7.00,17.00,VIR,R9,FR7610278060760002010440147
"""
RUNNING_MAPPING = """
newest_first = true
[columns]
date = "Date"
amount = "Amount"
balance = "Balance"
label = "Label"
reference = "Ref"
iban = "IBAN"
"""


def test_a_balance_column_gives_the_balances_and_an_iban_column_one_statement_per_account() -> None:
    statements = csvmap.read(RUNNING.encode(), load_mapping(RUNNING_MAPPING))
    second, first = statements  # the accounts in the order they appear once the lines run oldest first
    assert (first.account, first.opening_balance, first.closing_balance) == (
        "FR7630004008190001012345632",
        Decimal("1000.00"),
        Decimal("1060.00"),
    )
    assert [line.bank_ref for line in first.lines] == ["R2", "R3"]  # oldest first
    assert (second.account, second.opening_balance, second.closing_balance) == (
        "FR7610278060760002010440147",
        Decimal("10.00"),
        Decimal("17.00"),
    )


def test_a_running_balance_that_does_not_follow_is_refused_at_its_line() -> None:
    broken = RUNNING.replace("1060.00", "1061.00")
    with pytest.raises(
        StatementFileError,
        match=r"^CSV file unreadable at line 2: the balance 1061\.00 is not the one before \(1100\.00\)",
    ):
        csvmap.read(broken.encode(), load_mapping(RUNNING_MAPPING))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[columns]\ndate = 'D'\namount = 'A'\namont = 'X'\n",
            "columns.amont: Extra inputs are not permitted",
        ),
        (
            "[columns]\ndate = 'D'\n[account]\niban = 'X'\nopening_balance = '1'\nclosing_balance = '1'\n",
            "debit and credit",
        ),
        ("[columns]\ndate = 'D'\namount = 'A'\n[account]\niban = 'X'\n", "opening_balance"),
        ("[columns\n", "not valid TOML"),
    ],
)
def test_a_wrong_mapping_is_refused_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        load_mapping(text)


SIMPLE_MAPPING = """
date_format = "%d/%m/%Y"
decimal_comma = true
delimiter = ";"
[account]
iban = "FR7630004008190001012345632"
opening_balance = "0.00"
closing_balance = "0.00"
[columns]
date = "Date"
debit = "Debit"
credit = "Credit"
"""


@pytest.mark.parametrize(
    ("body", "where", "why"),
    [
        ("Date;Debit\n", "line 1", "no column 'Credit'"),
        ("Date;Debit;Credit\n31/02/2026;1,00;\n", "line 2, column 'Date'", "'31/02/2026' is not a date"),
        ("Date;Debit;Credit\n01/02/2026;1,00;2,00\n", "line 2", "both a debit and a credit"),
        ("Date;Debit;Credit\n01/02/2026;;\n", "line 2", "neither a debit nor a credit"),
        ("Date;Debit;Credit\n01/02/2026;1,005;\n", "line 2, column 'Debit'", "more than 2 decimals"),
        ("Date;Debit;Credit\n01/02/2026;douze;\n", "line 2, column 'Debit'", "'douze' is not an amount"),
        ("Date;Debit;Credit\n", "its body", "no movement line"),
    ],
)
def test_a_broken_csv_is_refused_in_one_line_naming_the_line(body: str, where: str, why: str) -> None:
    with pytest.raises(StatementFileError) as refused:
        csvmap.read(body.encode(), load_mapping(SIMPLE_MAPPING))
    message = str(refused.value)
    assert message.startswith(f"CSV file unreadable at {where}: ") and why in message


def test_amounts_with_thousands_separators_signs_and_the_euro_sign() -> None:
    assert csvmap.parse_amount("-1 234,56 €", True, "x") == Decimal("-1234.56")
    assert csvmap.parse_amount("1.234,5", True, "x") == Decimal("1234.50")
    assert csvmap.parse_amount("+1,234.56", False, "x") == Decimal("1234.56")
    assert csvmap.parse_amount("1\u202f000,00", True, "x") == Decimal("1000.00")


def test_the_mapping_shown_in_the_module_docstring_loads() -> None:
    """The example a user copies must not lie."""
    assert csvmap.__doc__ is not None
    example = csvmap.__doc__.split("A mapping:\n", 1)[1].split("\n\nA `balance` column", 1)[0]
    mapping = load_mapping(textwrap.dedent(example))
    assert (mapping.columns.debit, mapping.skip_lines, mapping.account.closing_balance) == (
        "Débit euros",
        1,
        "815.86",
    )
