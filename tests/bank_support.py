"""Writing CFONB 120 records for the bank tests, straight from the standard's layout.

An encoder of its own, not the reader's code turned around: the sign
characters are spelt out here as the CFONB table gives them, so a reader that
got the table wrong fails against it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

DATA = Path(__file__).parent / "data" / "bank"

POSITIVE = "{ABCDEFGHI"  # last digit 0…9 of a credit
NEGATIVE = "}JKLMNOPQR"  # last digit 0…9 of a debit


def amount(value: Decimal, decimals: int = 2) -> str:
    """14 characters: 13 digits, then the last digit and the sign in one character."""
    units = int((abs(value) * 10**decimals).to_integral_value())
    digits = f"{units:014d}"
    table = NEGATIVE if value < 0 else POSITIVE
    return digits[:13] + table[int(digits[13])]


def balance(code: str, bank: str, branch: str, account: str, on: str, value: Decimal) -> str:
    """A `01` (previous balance) or `07` (new balance) record; `on` is DDMMYY."""
    record = f"{code}{bank}    {branch}EUR2 {account}  {on}" + " " * 50 + amount(value) + " " * 16
    assert len(record) == 120, record
    return record


def movement(
    bank: str,
    branch: str,
    account: str,
    booked: str,
    value: Decimal,
    label: str,
    valued: str | None = None,
    reference: str = "",
) -> str:
    """A `04` record: operation code 0005, internal code 18, entry number zeros."""
    record = (
        f"04{bank}0005{branch}EUR2 {account}18{booked}  {valued or booked}{label:<31.31}  0000000  "
        + amount(value)
        + f"{reference:<16.16}"
    )
    assert len(record) == 120, record
    return record


def complement(bank: str, branch: str, account: str, booked: str, qualifier: str, text: str) -> str:
    """A `05` record completing the movement before it."""
    record = f"05{bank}0005{branch}EUR2 {account}18{booked}     {qualifier}{text:<70.70}  "
    assert len(record) == 120, record
    return record
