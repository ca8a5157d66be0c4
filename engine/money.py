"""Money as exact decimals: one door in, no floats, rounding half-up to the cent.

DOMAIN.md: every amount is a `Decimal` in euros, rounded half-up to the cent;
floats never touch money. Like beancount's `D()`, but without its float door:
a float has already lost the cent before we see it, so it is refused, not fixed.
The ledger stores integer cents so that SQL sums stay exact on every backend.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from engine.messages import Refused

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CURRENCY = "EUR"

# At most 12 digits before the point: a billion euros is already absurd for one
# member's document, and a bound keeps hostile inputs ("1" * 10_000) out. Matched
# against the whole string (`fullmatch`): "10.00\n" is not an amount.
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?", re.ASCII)
_RATE = re.compile(r"(0|[1-9][0-9]{0,2})(\.[0-9]{1,6})?", re.ASCII)


class MoneyError(Refused):
    """An amount or rate that cannot be taken as exact money."""


def D(value: str | int | Decimal) -> Decimal:
    """The only way to make a Decimal from outside data; floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("money.float", value=value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    try:
        return Decimal(value)
    except InvalidOperation:
        raise MoneyError("money.not_number", value=value) from None


def parse_amount(text: str) -> Decimal:
    """A contract amount: a string with at most 2 decimals, no sign, no exponent."""
    if not _AMOUNT.fullmatch(text):
        raise MoneyError("money.decimals", value=text)
    return Decimal(text).quantize(CENT)


def parse_rate(text: str) -> Decimal:
    """A rate such as "0.20" (VAT) or "0.115" (contribution): decimal string, no exponent."""
    if not _RATE.fullmatch(text):
        raise MoneyError("money.rate", value=text)
    return Decimal(text)


def round_cents(value: Decimal) -> Decimal:
    """Half-up to the cent, the rounding of every rule in DOMAIN.md."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(value: Decimal) -> int:
    """Integer cents for storage; refuses sub-cent amounts instead of rounding silently."""
    cents = value * 100
    whole = int(cents)
    if whole != cents:
        raise MoneyError("money.cents", value=value)
    return whole


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def fmt(value: Decimal) -> str:
    """The contract's text form: exactly 2 decimals ("0.00", "1333.33")."""
    cents = value.quantize(CENT)
    return str(cents if cents else ZERO)  # never "-0.00"
