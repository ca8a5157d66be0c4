"""Months: a document's month (DOMAIN.md rule 2) and where a closed month's events go (rule 7)."""

from __future__ import annotations

import calendar
from datetime import date


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(month: str) -> date:
    """The first day of a `YYYY-MM` month; ValueError if it is not one."""
    year, _, mon = month.partition("-")
    if len(year) != 4 or len(mon) != 2 or not (year + mon).isdigit():
        raise ValueError(f"{month!r} is not a month YYYY-MM")
    return date(int(year), int(mon), 1)


def last_day(month: str) -> date:
    first = parse_month(month)
    return date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])


def next_month(month: str) -> str:
    first = parse_month(month)
    return f"{first.year + first.month // 12:04d}-{first.month % 12 + 1:02d}"


def posting_date(doc_date: date, locked_through: str | None) -> date:
    """The document's own date, or the first day of the first open month if its month is closed."""
    if locked_through is not None and month_of(doc_date) <= locked_through:
        return parse_month(next_month(locked_through))
    return doc_date
