"""CSV bank exports, read through a mapping file in TOML that says which column is what.

Every bank's CSV differs (column names, `;` or `,`, `1 234,56` or
`1234.56`, `31/01/2026` or `2026-01-31`, one signed amount or a debit and a
credit column, newest line first or last), so the mapping names them; what
it cannot name the reader does not guess. A mapping:

    delimiter = ";"
    encoding = "cp1252"
    date_format = "%d/%m/%Y"
    decimal_comma = true
    skip_lines = 1        # non-blank lines before the header row (a title)
    footer_lines = 1      # non-blank lines after the last movement ("Solde au ...")
    newest_first = false

    [account]             # or an `iban` column, and a `balance` column
    iban = "FR76 3000 4000 0312 3456 7890 143"
    opening_balance = "1000.00"
    closing_balance = "815.86"

    [columns]
    date = "Date"
    value_date = "Date de valeur"
    debit = "Débit euros"          # or: amount = "Montant"
    credit = "Crédit euros"
    label = "Libellé"
    counterparty = "Tiers"
    reference = "Référence"        # the bank's own reference of the line

A `balance` column (the balance after each line) gives the opening and
closing balances and is checked line by line; an `iban` column splits the
file into one statement per account (each needs the `balance` column then).
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from engine.bank import Statement, StatementLine, derived_statement_id
from treasury.reading import StatementFileError, account_iban, exact_amount, iban_or_none

FORMAT = "CSV"
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?", re.ASCII)
_BLANKS = str.maketrans("", "", " \u00a0\u202f€")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Columns(_Strict):
    """Column names in the header row; `date` and an amount (`amount`, or `debit` and `credit`) are required."""

    date: str
    value_date: str | None = None
    amount: str | None = None
    debit: str | None = None
    credit: str | None = None
    label: str | None = None
    counterparty: str | None = None
    counterparty_iban: str | None = None
    reference: str | None = None
    end_to_end_id: str | None = None
    balance: str | None = None
    iban: str | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> Columns:
        if (self.amount is None) == (self.debit is None and self.credit is None):
            raise ValueError("give either an amount column or debit and credit columns")
        if self.amount is None and (self.debit is None or self.credit is None):
            raise ValueError("give both a debit and a credit column")
        return self


class Account(_Strict):
    iban: str | None = None
    opening_balance: str | None = None
    closing_balance: str | None = None


class CsvMapping(_Strict):
    """What a bank's CSV export looks like (see the module's docstring for a full example)."""

    columns: Columns
    account: Account = Account()
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    date_format: str = "%Y-%m-%d"
    decimal_comma: bool = False
    skip_lines: int = 0
    footer_lines: int = 0
    newest_first: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> CsvMapping:
        given = (self.account.opening_balance is not None, self.account.closing_balance is not None)
        if self.columns.balance is None and given != (True, True):
            raise ValueError("give account.opening_balance and account.closing_balance, or a balance column")
        if (self.account.iban is None) == (self.columns.iban is None):
            raise ValueError("give the account's IBAN either as account.iban or as an iban column")
        if self.columns.iban is not None and self.columns.balance is None:
            raise ValueError("an iban column (several accounts) needs a balance column")
        return self


class MappingError(ValueError):
    """A mapping file that cannot be used: one line saying which key and why."""


def load_mapping(text: str) -> CsvMapping:
    """A mapping from its TOML text; unknown or misspelt keys are refused, not ignored."""
    try:
        return CsvMapping.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"CSV mapping is not valid TOML: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "mapping"
        raise MappingError(f"CSV mapping, {where}: {first['msg']}") from None


def parse_amount(text: str, decimal_comma: bool, where: str) -> Decimal:
    """`-1 234,56` (decimal comma) or `-1,234.56`: spaces and the euro sign dropped, then exact to the cent."""
    cleaned = text.translate(_BLANKS)
    cleaned = cleaned.replace(".", "").replace(",", ".") if decimal_comma else cleaned.replace(",", "")
    if not _NUMBER.fullmatch(cleaned):
        raise StatementFileError(FORMAT, where, f"{text!r} is not an amount")
    try:
        return exact_amount(Decimal(cleaned), FORMAT, where)
    except InvalidOperation:
        raise StatementFileError(FORMAT, where, f"{text!r} is not an amount") from None


class _Rows:
    """The data rows of the file with their line numbers, and cell readers that name where they broke."""

    def __init__(self, data: bytes, mapping: CsvMapping) -> None:
        try:
            text = data.decode(mapping.encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise StatementFileError(FORMAT, "its encoding", f"not {mapping.encoding} ({error})") from None
        lines = list(csv.reader(io.StringIO(text), delimiter=mapping.delimiter))
        numbered = [
            (number, row) for number, row in enumerate(lines, start=1) if any(cell.strip() for cell in row)
        ]
        if len(numbered) <= mapping.skip_lines:
            raise StatementFileError(FORMAT, "its header", "the file has no header row")
        header_number, header = numbered[mapping.skip_lines]
        self.index = {name.strip(): position for position, name in enumerate(header)}
        wanted = [name for name in mapping.columns.model_dump().values() if name is not None]
        missing = [name for name in wanted if name not in self.index]
        if missing:
            raise StatementFileError(
                FORMAT, f"line {header_number}", f"no column {missing[0]!r} in the header {list(self.index)}"
            )
        body = numbered[mapping.skip_lines + 1 :]
        self.rows = body[: len(body) - mapping.footer_lines]
        if mapping.newest_first:
            self.rows.reverse()
        self.mapping = mapping

    def cell(self, row: list[str], column: str | None) -> str:
        if column is None:
            return ""
        position = self.index[column]
        return row[position].strip() if position < len(row) else ""

    def amount(self, number: int, row: list[str], column: str | None) -> Decimal | None:
        text = self.cell(row, column)
        if not text:
            return None
        return parse_amount(text, self.mapping.decimal_comma, f"line {number}, column {column!r}")

    def date(self, number: int, row: list[str], column: str | None) -> date | None:
        text = self.cell(row, column)
        if not text:
            return None
        try:
            return datetime.strptime(text, self.mapping.date_format).date()
        except ValueError:
            raise StatementFileError(
                FORMAT,
                f"line {number}, column {column!r}",
                f"{text!r} is not a date {self.mapping.date_format}",
            ) from None


def _signed(rows: _Rows, number: int, row: list[str]) -> Decimal:
    """One signed amount, or a debit (money out, whatever its sign) or a credit (money in)."""
    columns = rows.mapping.columns
    if columns.amount is not None:
        amount = rows.amount(number, row, columns.amount)
        if amount is None:
            raise StatementFileError(FORMAT, f"line {number}", f"no amount in column {columns.amount!r}")
        return amount
    debit = rows.amount(number, row, columns.debit) or Decimal(0)
    credit = rows.amount(number, row, columns.credit) or Decimal(0)
    if debit and credit:
        raise StatementFileError(FORMAT, f"line {number}", "the line has both a debit and a credit")
    if not debit and not credit:
        raise StatementFileError(FORMAT, f"line {number}", "the line has neither a debit nor a credit")
    return abs(credit) - abs(debit)


def _line(rows: _Rows, number: int, row: list[str]) -> StatementLine:
    columns = rows.mapping.columns
    booked = rows.date(number, row, columns.date)
    if booked is None:
        raise StatementFileError(FORMAT, f"line {number}", f"no date in column {columns.date!r}")
    return StatementLine(
        booked_on=booked,
        value_on=rows.date(number, row, columns.value_date),
        amount=_signed(rows, number, row),
        remittance=rows.cell(row, columns.label) or None,
        counterparty_name=rows.cell(row, columns.counterparty) or None,
        counterparty_iban=iban_or_none(rows.cell(row, columns.counterparty_iban)),
        end_to_end_id=rows.cell(row, columns.end_to_end_id) or None,
        bank_ref=rows.cell(row, columns.reference) or None,
    )


def _balances(
    rows: _Rows, numbered: list[tuple[int, list[str]]], lines: list[StatementLine]
) -> tuple[Decimal, Decimal]:
    """Opening and closing: from the mapping, or from a balance column checked line by line."""
    account, column = rows.mapping.account, rows.mapping.columns.balance
    if column is None:  # the mapping's validator requires both balances then
        return (
            parse_amount(account.opening_balance or "", False, "account.opening_balance"),
            parse_amount(account.closing_balance or "", False, "account.closing_balance"),
        )
    after = []
    for number, row in numbered:
        found = rows.amount(number, row, column)
        if found is None:
            raise StatementFileError(FORMAT, f"line {number}", f"no balance in column {column!r}")
        after.append(found)
    opening = after[0] - lines[0].amount
    for (number, _), line, before, balance in zip(numbered, lines, [opening, *after], after, strict=False):
        if before + line.amount != balance:
            raise StatementFileError(
                FORMAT,
                f"line {number}",
                f"the balance {balance} is not the one before ({before}) plus the line's {line.amount}",
            )
    return opening, after[-1]


def read(data: bytes, mapping: CsvMapping) -> list[Statement]:
    """One statement per account in the file, lines in date order as the mapping says."""
    rows = _Rows(data, mapping)
    if not rows.rows:
        raise StatementFileError(FORMAT, "its body", "no movement line")
    by_account: dict[str, list[tuple[int, list[str]]]] = {}
    for number, row in rows.rows:
        iban = mapping.account.iban or rows.cell(row, mapping.columns.iban)
        by_account.setdefault(account_iban(iban, FORMAT, f"line {number}"), []).append((number, row))
    statements = []
    for account, numbered in by_account.items():
        lines = [_line(rows, number, row) for number, row in numbered]
        opening, closing = _balances(rows, numbered, lines)
        start, end = min(line.booked_on for line in lines), max(line.booked_on for line in lines)
        statements.append(
            Statement(
                account=account,
                statement_id=derived_statement_id(account, start, end),
                currency="EUR",
                opening_balance=opening,
                closing_balance=closing,
                from_date=start,
                to_date=end,
                lines=tuple(lines),
            )
        )
    return statements
