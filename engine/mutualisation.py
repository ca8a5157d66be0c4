"""The contribution coopérative and the part de sociétariat, year to date (DOMAIN.md rules 3 and 4).

A member's figure for month M is `f(Y(M)) − f(Y(M−1))`, where Y(M) is the
year-to-date base (the bases of the fiscal year's months up to M) and f the
month's scale: `round(rate × max(x, 0))`, or a scale of tiers. So a credit
note in November of an October invoice gives October's contribution back
(November's figure is negative), and a year's figures always sum to f(the
year's base), flat or tiered alike.

Postings are made event by event: an event that moves month M's base by Δ
posts, in M, the change of M's figure, and in each later month of the year
that has bases, the change of that month's figure (Y of every later month
moved by Δ too). For events that come in date order the later changes are
zero; for one that comes late they keep every month's postings equal to its
figure, whatever the order of arrival.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import lru_cache

from engine import french
from engine.config import Rates, Tier
from engine.money import ZERO, round_cents

Scale = Callable[[Decimal], Decimal]  # a year-to-date base -> what is owed on it


@lru_cache(maxsize=256)
def percent(rate: Decimal) -> str:
    """A rate as the ledger's labels write it: "11,5 %", "3 %".

    `engine.french.percent`, with a plain space: labels go into the FEC, a plain text file.
    Kept per rate: babel's formatting was a tenth of the ingest, for the few rates a year has
    (issue 18); equal rates write alike (`0.115` and `0.1150` both "11,5 %").
    """
    return french.percent(rate).replace("\u00a0", " ")


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


def contribution_scale(rates: Rates) -> Scale:
    if rates.contribution_tiers:
        tiers = rates.contribution_tiers
        return lambda base: owed_tiered(tiers, base)
    rate = rates.contribution
    return lambda base: owed(rate, base)


def societariat_scale(rates: Rates) -> Scale:
    rate = rates.societariat
    return lambda base: owed(rate, base)


def contribution_label(rates: Rates) -> str:
    return "barème annuel" if rates.contribution_tiers else percent(rates.contribution)


def month_figure(months: Sequence[tuple[str, Decimal]], month: str, scale: Scale) -> Decimal:
    """f(Y(M)) − f(Y(M−1)): `months` are the year's months with their own base, in any order."""
    before = sum((base for m, base in months if m < month), ZERO)
    own = sum((base for m, base in months if m == month), ZERO)
    return scale(before + own) - scale(before)


def figure_changes(months: Sequence[tuple[str, Decimal]], month: str, delta: Decimal,
                   scale_of: Callable[[str], Scale]) -> list[tuple[str, Decimal]]:
    """How each month's figure changes when `month`'s own base moves by `delta`.

    `months`: the member's months of the year with their own base before the
    move, in order. Returns (month, change) for `month` and the later months
    whose figure changes, in order; months without bases have a figure of 0
    before and after, and are left out.
    """
    own = dict(months)
    after_own = dict(own)
    after_own[month] = after_own.get(month, ZERO) + delta
    changes: list[tuple[str, Decimal]] = []
    before = after = ZERO  # year to date through the month before, without and with the move
    for k in sorted(after_own):
        was_before, was_after = before, after
        before += own.get(k, ZERO)
        after += after_own[k]
        if k < month:
            continue
        f = scale_of(k)
        change = (f(after) - f(was_after)) - (f(before) - f(was_before))
        if change:
            changes.append((k, change))
    return changes


def year_to_date(months: Sequence[tuple[str, Decimal]], through: str,
                 scale_of: Callable[[str], Scale]) -> Decimal:
    """The sum of the figures of the months up to `through`: what the year has posted by then.

    Σ `month_figure` of each month, with the year-to-date base carried from one month to the
    next instead of summed again for each; over months that share one scale (the same object)
    the figures telescope, f(Y(M)) − f(Y(M−1)) + f(Y(M+1)) − f(Y(M)), so each run of them costs
    two evaluations of it, not two per month (the reconciliation does this for every member:
    issue 18, point 4). Sums of cents, exact: the same amount to the cent.
    """
    own: dict[str, Decimal] = {}
    for m, base in months:
        own[m] = own.get(m, ZERO) + base
    total = before = ZERO
    scale: Scale | None = None
    since = ZERO  # the year to date before the current run of months under `scale`
    for k in sorted(own):
        if k > through:
            break
        this = scale_of(k)
        if this is not scale:
            if scale is not None:
                total += scale(before) - scale(since)
            scale, since = this, before
        before += own[k]
    if scale is not None:
        total += scale(before) - scale(since)
    return total
