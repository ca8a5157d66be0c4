"""What the rules need to know of the past: members, invoices, month bases.

The pipeline loads these for a batch of events, the rules read and update them
in memory, and the pipeline writes back what changed, in the same transaction
as the postings. The rules never touch storage; `Book` is their whole world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from engine.money import ZERO


@dataclass(slots=True)
class Member:
    member_id: str
    name: str
    joined_on: date
    statuses: list[tuple[date, str]]
    associate_on: date | None = None
    left_on: date | None = None

    def status_on(self, day: date) -> str | None:
        current = None
        for since, status in sorted(self.statuses):
            if since <= day:
                current = status
        return current

    def associate_on_day(self, day: date) -> bool:
        return self.associate_on is not None and self.associate_on <= day


@dataclass(slots=True)
class Invoice:
    invoice_id: str
    member_id: str
    client: str
    issued_on: date
    ht: Decimal
    ttc: Decimal
    credited_ht: Decimal = ZERO
    credited_ttc: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def due(self) -> Decimal:
        return self.ttc - self.credited_ttc - self.paid


@dataclass(slots=True)
class Bases:
    """A member-month's running bases (rules 3 and 4), so each event posts only its delta."""

    contribution: Decimal = ZERO
    societariat: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Salary:
    member_id: str
    from_month: str
    gross: Decimal
    event_id: str


@dataclass(slots=True)
class Book:
    """The working state of one batch, and the record of what the batch changed."""

    locked_through: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    bases: dict[tuple[str, str], Bases] = field(default_factory=dict)
    documents: set[tuple[str, str]] = field(default_factory=set)
    new_members: set[str] = field(default_factory=set)
    changed_members: set[str] = field(default_factory=set)
    new_statuses: list[tuple[str, date, str, str]] = field(default_factory=list)
    new_invoices: set[str] = field(default_factory=set)
    changed_invoices: set[str] = field(default_factory=set)
    changed_bases: set[tuple[str, str]] = field(default_factory=set)
    new_documents: list[tuple[str, str, str]] = field(default_factory=list)
    new_salaries: list[Salary] = field(default_factory=list)
    # Set by a loader that read every month of the batch's member-years, which a
    # tiered contribution needs (its base is the year's, not the month's).
    whole_years: bool = False
    months_by_year: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # The sales (document date, posting month, signed HT) of members who become associates in
    # this batch: loaded from the ledger, then followed through the batch (rule 4, see rules).
    sales: dict[str, list[tuple[date, str, Decimal]]] = field(default_factory=dict)

    def base(self, member_id: str, month: str) -> Bases:
        """The member-month's bases, about to move (preloaded by the caller, else zero)."""
        key = (member_id, month)
        self.changed_bases.add(key)
        found = self.bases.get(key)
        if found is None:
            found = self.known_base(member_id, month, Bases())
        return found

    def known_base(self, member_id: str, month: str, bases: Bases) -> Bases:
        """Record a member-month's bases as they stand (loading), without marking them changed."""
        self.bases[(member_id, month)] = bases
        self.months_by_year.setdefault((member_id, month[:4]), set()).add(month)
        return bases

    def year_base(self, member_id: str, year: int) -> Decimal:
        """The member's contribution base of the fiscal year so far, every month of it posted."""
        if not self.whole_years:
            raise RuntimeError("the book was loaded without whole years: a tiered contribution needs them")
        months = self.months_by_year.get((member_id, f"{year:04d}"), ())
        return sum((self.bases[(member_id, m)].contribution for m in months), ZERO)
