"""Figures and dates as the cooperative's people read them: in French.

`1 234,56 €` (a narrow no-break space between thousands, a comma before the
cents, a no-break space before the euro sign), `octobre 2026`, `3 novembre
2026`. Pure formatting: the amounts are the ledger's Decimals, unchanged.
"""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal

from engine.money import CENT

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")
THOUSANDS = "\u202f"  # espace fine insécable
BEFORE_UNIT = "\u00a0"


def number(value: Decimal | int) -> str:
    """`1 234,56`, `-115,00`, `0,00`."""
    cents = Decimal(value).quantize(CENT)
    sign = "-" if cents < 0 else ""
    whole, _, fraction = f"{abs(cents):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{THOUSANDS.join(groups)},{fraction or '00'}"


def euros(value: Decimal | int) -> str:
    return f"{number(value)}{BEFORE_UNIT}€"


def month_label(month: str) -> str:
    """`2026-10` as `octobre 2026`."""
    return f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}"


def day_label(day: date) -> str:
    return f"{day.day}{'er' if day.day == 1 else ''} {MONTHS[day.month - 1]} {day.year}"


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A stored time (UTC; SQLite gives it naive) as read where the cooperative is, with its zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
