"""How far an event's dates and amounts may go: bounds a cooperative can meet (issue 14, point 3).

Without them, a `member.joined` on 0001-01-01 made every page that steps back a
month fail for good (year 0), one on 1000-01-01 gave `cae close` 12,322 months
to lock, and a hundred invoices of 500 lines at 999,999,999,999.99 overflowed
SQLite's integer sums, so that the trial balance failed for good: the ledger is
append-only, such an event can never be taken back. docs/events.md states the
bounds and the arithmetic behind them; `cae schema` states them too.

Dates (every date of every event, its `occurred_at` and a salary's month): from
2000-01-01 (the euro's books; the packaged rates start there) to 31 December of
the year after next. "Today" is always given, never read here: the edges pass
their clock, the tests theirs. The window only widens as time goes, so an event
taken once is taken again on any later replay.

Amounts: one amount (a line's HT, a payment, an expense's HT or VAT, a monthly
gross) and one document's TTC (an invoice's or a credit note's lines with
their VAT, an expense's HT with its VAT) are at most 999,999.99 €, under
10^8 cents. A document posts at most 100 times that (its own entry, and the
contribution and share figures of each later month of its year, at rates
below 1): a million such documents a year make 10^16 cents, twice that with
the year end's entries, and a signed 64-bit sum holds 9.2 × 10^18: over 400
years of that worst case (tests/test_bounds.py checks it on the rules).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.messages import Refused
from engine.money import fmt
from engine.periods import parse_month

FIRST_DAY = date(2000, 1, 1)
YEARS_AHEAD = 2  # assemblies, salaries and rituals are planned months ahead, not years
CEILING = Decimal("999999.99")


def last_day(today: date) -> date:
    """The window's last day: 31 December of the year after next."""
    return date(today.year + YEARS_AHEAD, 12, 31)


def check_day(day: date, today: date) -> date:
    """`day` if it is in the window, else ValueError saying which end it passed."""
    if day < FIRST_DAY:
        raise Refused("bounds.day_before", day=day, first=FIRST_DAY)
    end = last_day(today)
    if day > end:
        raise Refused("bounds.day_after", day=day, last=end, today=today)
    return day


def check_month(month: str, today: date) -> str:
    """A `YYYY-MM` month whose first day is in the window, else ValueError (the one parser of
    months that come from outside: events and URLs)."""
    try:
        first: date | None = parse_month(month)
    except ValueError:
        first = None
    if first is None or not FIRST_DAY <= first <= last_day(today):
        raise Refused("bounds.month", month=month, first=f"{FIRST_DAY:%Y-%m}", last=f"{last_day(today):%Y-%m}")
    return month


def check_amount(amount: Decimal, what: str = "amount") -> Decimal:
    """`amount` if it is at most the ceiling, else ValueError naming what it is the amount of."""
    if amount > CEILING:
        raise ValueError(f"{what} {fmt(amount)} is over the {fmt(CEILING)} ceiling of one {what}")
    return amount
