"""The contribution coopérative and the part de sociétariat, posted cumulatively.

DOMAIN.md rules 3 and 4: a member-month owes `round(rate × max(base, 0))`.
Each event posts `f(base after) − f(base before)`, so however many events a
month has, in whatever order, its postings sum to exactly the month's figure
and no rounding drift accumulates.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine import chart
from engine.config import Rates
from engine.money import ZERO, round_cents
from engine.postings import Entry, pair
from engine.state import Bases


def percent(rate: Decimal) -> str:
    """A rate as French labels write it: "11,5 %", "3 %"."""
    return f"{(rate * 100).normalize():f}".replace(".", ",") + " %"


def owed(rate: Decimal, base: Decimal) -> Decimal:
    return round_cents(rate * max(base, ZERO))


def mutualise(bases: Bases, rates: Rates, *, margin: Decimal, associate_revenue: Decimal,
              member_id: str, event_id: str, on: date, piece_ref: str,
              piece_date: date) -> list[Entry]:
    """Move a member-month's bases and return the entries that keep its postings exact."""
    entries = []
    before = owed(rates.contribution, bases.contribution)
    bases.contribution += margin
    delta = owed(rates.contribution, bases.contribution) - before
    if delta:
        entries.append(Entry(
            "OD", on, piece_ref, piece_date,
            f"Contribution coopérative {percent(rates.contribution)} {piece_ref}",
            pair(chart.CONTRIBUTION, chart.CONTRIBUTIONS_RECEIVED, delta, member_id=member_id),
            event_id))
    before = owed(rates.societariat, bases.societariat)
    bases.societariat += associate_revenue
    delta = owed(rates.societariat, bases.societariat) - before
    if delta:
        entries.append(Entry(
            "OD", on, piece_ref, piece_date,
            f"Part de sociétariat {percent(rates.societariat)} {piece_ref}",
            pair(chart.CAPITAL_DUE, chart.CAPITAL, delta, member_id=member_id),
            event_id))
    return entries
