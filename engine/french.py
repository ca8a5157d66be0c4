"""Figures and dates as the cooperative's people read them: in French, by Babel (CLDR's fr_FR).

`1 234,56 €` (a narrow no-break space between thousands, a comma before the
cents, a no-break space before the euro sign), `11,5 %`, `octobre 2026`,
`1er novembre 2026`. Pure formatting: the amounts are the ledger's Decimals,
unchanged, always shown with their cents.
"""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from engine.money import CENT

LOCALE = "fr_FR"


def number(value: Decimal | int) -> str:
    """`1 234,56`, `-115,00`, `0,00`."""
    return format_decimal(Decimal(value).quantize(CENT), format="#,##0.00", locale=LOCALE)


def euros(value: Decimal | int) -> str:
    """`1 234,56 €`."""
    return format_currency(Decimal(value).quantize(CENT), "EUR", locale=LOCALE)


def percent(rate: Decimal) -> str:
    """A rate as a percentage with the decimals it has: `0.115` → `11,5 %`, `0.03` → `3 %`."""
    return format_decimal(rate * 100, format="#,##0.######", locale=LOCALE) + "\u00a0%"


def month_label(month: str) -> str:
    """`2026-10` as `octobre 2026`."""
    return format_date(date(int(month[:4]), int(month[5:7]), 1), "MMMM y", locale=LOCALE)


def day_label(day: date) -> str:
    """`3 novembre 2026`; the first of a month is `1er` as French writes it (CLDR has no ordinal here)."""
    text = format_date(day, "d MMMM y", locale=LOCALE)
    return "1er" + text[1:] if day.day == 1 else text


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A stored time (UTC; SQLite gives it naive) as read where the cooperative is, with its zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
