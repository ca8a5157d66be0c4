"""CFONB 120, the French banks' 120-character statement ("relevé de compte", CFONB 2004), read into values.

Records: `01` opening balance ("ancien solde"), `04` movement, `05` its
complement, `07` closing balance ("nouveau solde"). One file may hold many
statements, of one or several accounts, one after the other. Files come
with CRLF or LF, blank lines between records, trailing blanks trimmed, or no
line break at all; all are read alike.

What real files showed: the bank code of a `04` record is not always the
account's (a direct debit may carry the creditor's bank, 10556 in an account
of bank 10278), nor is a `07`'s (a typo, 15489 for 15589, in a published
example), so records belong to a statement by its account number, and the
IBAN is built from the `01` record. The entry number (positions 82–88) is
zeros in most files, so CFONB lines go by the fallback identity of rule 10.
Position 21 of a `04` is sometimes a letter, not the blank of the standard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from engine.bank import Statement, StatementLine, derived_statement_id
from treasury.reading import StatementFileError, french_iban, joined

FORMAT = "CFONB 120"
WIDTH = 120

# The last character of an amount carries its last digit and the sign.
_SIGNS = {
    **{char: (1, digit) for digit, char in enumerate("{ABCDEFGHI")},
    **{char: (-1, digit) for digit, char in enumerate("}JKLMNOPQR")},
}
_DIGITS = re.compile(r"[0-9]{13}", re.ASCII)
# Complements (05) whose text is the remittance, in the order a reader wants them:
# label, long label and its continuations, the payer's reference.
_REMITTANCE = ("LIB", "LCC", "LC2", "LCS", "RCN", "REF")


def decode_amount(field_: str, decimals: int, where: str) -> Decimal:
    """A 14-character CFONB amount: 13 digits and a last character holding digit and sign."""
    head, last = field_[:13], field_[13:14]
    if not _DIGITS.fullmatch(head) or last not in _SIGNS:
        raise StatementFileError(FORMAT, where, f"amount {field_!r} is not a CFONB amount")
    sign, digit = _SIGNS[last]
    magnitude = Decimal(int(head + str(digit))).scaleb(-decimals)
    return sign * magnitude if magnitude else magnitude  # "}" on zero is no negative zero


def _date(text: str, where: str, what: str) -> date:
    try:
        return date(2000 + int(text[4:6]), int(text[2:4]), int(text[0:2]))
    except ValueError:
        raise StatementFileError(FORMAT, where, f"{what} {text!r} is not a date DDMMYY") from None


def _decimals(record: str, where: str) -> int:
    if not record[19].isdigit():
        raise StatementFileError(FORMAT, where, f"decimals {record[19]!r} (position 20) is not a digit")
    return int(record[19])


def _records(text: str) -> list[tuple[str, str]]:
    """The file's records, each 120 characters, with where it sits: `record 5 (line 7)`.

    A line longer than 120 is several records without line breaks between
    them; a shorter one lost its trailing blanks and gets them back. Blank
    lines are skipped, so the line number is given beside the record's.
    """
    found: list[tuple[str, str]] = []
    for line_number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        line = line.rstrip(" ")
        for start in range(0, len(line), WIDTH):
            found.append(
                (f"record {len(found) + 1} (line {line_number})", line[start : start + WIDTH].ljust(WIDTH))
            )
    return found


@dataclass
class _Movement:
    """A `04` record read, its label and reference, and its `05` complements as they come."""

    line: StatementLine
    label: str
    complements: list[tuple[str, str]] = field(default_factory=list)

    def completed(self) -> StatementLine:
        """The counterparty is the payer of a credit and the payee of a debit; the remittance
        is the movement's label and its complements' texts, each once."""
        name = _text_of(self.complements, ("NPY",) if self.line.amount > 0 else ("NBE",))
        remittance = _text_of([("", self.label), *self.complements], ("", *_REMITTANCE))
        return replace(self.line, counterparty_name=name, remittance=remittance)


@dataclass
class _Open:
    """A statement being read: its `01` record's facts and its movements so far."""

    account: str
    number: str
    currency: str
    opening: Decimal
    opened_on: date
    where: str
    movements: list[_Movement] = field(default_factory=list)

    def close(self, record: str, where: str) -> Statement:
        closing = decode_amount(record[90:104], _decimals(record, where), where)
        closed_on = _date(record[34:40], where, "closing date")
        return Statement(
            account=self.account,
            statement_id=derived_statement_id(self.account, self.opened_on, closed_on),
            currency=self.currency,
            opening_balance=self.opening,
            closing_balance=closing,
            from_date=self.opened_on,
            to_date=closed_on,
            lines=tuple(movement.completed() for movement in self.movements),
        )


def _text_of(parts: list[tuple[str, str]], qualifiers: tuple[str, ...]) -> str | None:
    """The texts of the given qualifiers, in that order, each once."""
    return joined(text for qualifier in qualifiers for kind, text in parts if kind == qualifier)


def _open(record: str, where: str) -> _Open:
    return _Open(
        account=french_iban(record[2:7], record[11:16], record[21:32], FORMAT, where),
        number=record[21:32],
        currency=record[16:19],
        opening=decode_amount(record[90:104], _decimals(record, where), where),
        opened_on=_date(record[34:40], where, "opening date"),
        where=where,
    )


def _movement(record: str, where: str) -> _Movement:
    value_text = record[42:48]
    line = StatementLine(
        booked_on=_date(record[34:40], where, "booking date"),
        value_on=_date(value_text, where, "value date") if value_text.strip() else None,
        amount=decode_amount(record[90:104], _decimals(record, where), where),
    )
    return _Movement(line, record[48:79], [("", record[104:120])])


def read(data: bytes) -> list[Statement]:
    """Every statement of a CFONB 120 file, in the file's order."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    statements: list[Statement] = []
    current: _Open | None = None
    for where, record in _records(text):
        code = record[0:2]
        if code not in ("01", "04", "05", "07"):
            raise StatementFileError(FORMAT, where, f"record code {code!r} is none of 01, 04, 05, 07")
        if code == "01":
            if current is not None:
                raise StatementFileError(
                    FORMAT, where, f"a new statement opens before the one of {current.where} closed"
                )
            current = _open(record, where)
            continue
        if current is None:
            raise StatementFileError(
                FORMAT, where, f"a {code} record outside any statement (no 01 before it)"
            )
        if record[21:32] != current.number:
            raise StatementFileError(
                FORMAT, where, f"account {record[21:32]!r} in a statement of account {current.number!r}"
            )
        if code == "04":
            current.movements.append(_movement(record, where))
        elif code == "05":
            if not current.movements:
                raise StatementFileError(FORMAT, where, "a 05 complement before any 04 movement")
            current.movements[-1].complements.append((record[45:48], record[48:118]))
        else:
            statements.append(current.close(record, where))
            current = None
    if current is not None:
        raise StatementFileError(FORMAT, current.where, "the statement has no closing 07 record")
    if not statements:
        raise StatementFileError(FORMAT, "its first record", "no statement (no 01 record)")
    return statements
