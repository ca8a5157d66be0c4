"""Months: a document's month (DOMAIN.md rule 2) and where a closed month's events go (rule 7)."""

from __future__ import annotations

import calendar
import re
from datetime import date
from functools import lru_cache

from engine.wording import term

# ASCII digits only: `str.isdigit` takes "٢٠٢٦" for a year, and a month typed that way
# must not close anything (issue 8).
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])", re.ASCII)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@lru_cache(maxsize=1024)
def parse_month(month: str) -> date:
    """The first day of a `YYYY-MM` month; ValueError if it is not one (kept per month: the rules
    ask it of every month of a member's year for each document, issue 18)."""
    found = _MONTH.fullmatch(month)
    if found is None or found.group(1) == "0000":
        raise ValueError(f"{term(month)} is not a month YYYY-MM")
    return date(int(found.group(1)), int(found.group(2)), 1)


def parse_day(text: str) -> date:
    """An ISO date `YYYY-MM-DD` in ASCII digits; ValueError otherwise (no `20261015`, no week dates)."""
    if not _DAY.fullmatch(text):
        raise ValueError(f"{term(text)} is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{term(text)} is not a date YYYY-MM-DD") from None


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
