"""The contribution coopérative and the part de sociétariat, posted cumulatively.

DOMAIN.md rules 3 and 4: a member-month owes `round(rate × max(base, 0))`.
Each event posts `f(base after) − f(base before)`, so however many events a
month has, in whatever order, its postings sum to exactly the month's figure
and no rounding drift accumulates.

A tiered contribution (`Rates.contribution_tiers`) is owed on the member's
cumulative base since the start of the fiscal year (the calendar year), and
is posted the same way: `f(year base after) − f(year base before)`. The year
base is everything the year has posted so far, whatever month each posting
went to, so the year's postings always sum to exactly f(the year's base),
even when a document reaches an earlier open month after later ones.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine import chart
from engine.config import Rates, Tier
from engine.money import ZERO, round_cents
from engine.postings import Entry, pair
from engine.state import Bases


def percent(rate: Decimal) -> str:
    """A rate as French labels write it: "11,5 %", "3 %"."""
    return f"{(rate * 100).normalize():f}".replace(".", ",") + " %"


def owed(rate: Decimal, base: Decimal) -> Decimal:
    return round_cents(rate * max(base, ZERO))


def owed_tiered(tiers: tuple[Tier, ...], base: Decimal) -> Decimal:
    """Each tier's rate on the part of the base between the bound below it and its own."""
    total, floor, base = ZERO, ZERO, max(base, ZERO)
    for tier in tiers:
        top = base if tier.up_to is None else min(base, tier.up_to)
        if top > floor:
            total += tier.rate * (top - floor)
        if tier.up_to is None or base <= tier.up_to:
            break
        floor = tier.up_to
    return round_cents(total)


def _contribution_delta(rates: Rates, bases: Bases, margin: Decimal, year_base: Decimal) -> Decimal:
    """Rule 3's cumulative posting: what `margin` adds to the owed contribution."""
    if rates.contribution_tiers:
        return (owed_tiered(rates.contribution_tiers, year_base + margin)
                - owed_tiered(rates.contribution_tiers, year_base))
    return owed(rates.contribution, bases.contribution + margin) - owed(rates.contribution, bases.contribution)


def mutualise(bases: Bases, rates: Rates, *, margin: Decimal, associate_revenue: Decimal,
              member_id: str, event_id: str, on: date, piece_ref: str,
              piece_date: date, year_base: Decimal = ZERO) -> list[Entry]:
    """Move a member-month's bases and return the entries that keep its postings exact.

    `year_base`: the member's contribution base of the fiscal year so far, before
    this event; only a tiered contribution reads it.
    """
    entries = []
    delta = _contribution_delta(rates, bases, margin, year_base)
    bases.contribution += margin
    if delta:
        scale = "barème annuel" if rates.contribution_tiers else percent(rates.contribution)
        entries.append(Entry(
            "OD", on, piece_ref, piece_date,
            f"Contribution coopérative {scale} {piece_ref}",
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
