"""What the rules need to know of the past: members, invoices, month bases.

The pipeline loads these for a batch of events, the rules read and update them
in memory, and the pipeline records what changed, in the same transaction as
the postings. The rules never touch storage; `Book` is their whole world.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from engine.money import ZERO
from engine.periods import last_day, parse_month


def status_on(statuses: Iterable[tuple[date, str]], day: date) -> str | None:
    """The status in force on `day`: the latest to take effect by then (DOMAIN.md rule 6).

    `statuses` come in event order; when two take effect on the same date, the
    later event wins. The one function that says it, for the payroll, the
    register of members and every view of them (issue 8: a tie broken
    alphabetically once paid a CAPE member).
    """
    current, since_best = None, None
    for since, status in statuses:
        if since <= day and (since_best is None or since >= since_best):
            current, since_best = status, since
    return current


@dataclass(slots=True)
class Member:
    member_id: str
    name: str
    joined_on: date
    statuses: list[tuple[date, str]]  # (effective date, status), in event order
    associate_on: date | None = None
    left_on: date | None = None

    def status_on(self, day: date) -> str | None:
        return status_on(self.statuses, day)

    def associate_on_day(self, day: date) -> bool:
        return self.associate_on is not None and self.associate_on <= day

    def pay_day(self, month: str) -> date | None:
        """The day whose status decides the month's payroll (rule 6), None if not under contract.

        Under contract in M: joined by its last day and not left before its
        first. The status that counts is the one on the last day, or for a
        member who left during M on the day they left: a leaver is paid for
        their last month.
        """
        end = last_day(month)
        if self.joined_on > end or (self.left_on is not None and self.left_on < parse_month(month)):
            return None
        return self.left_on if self.left_on is not None and self.left_on <= end else end


@dataclass(frozen=True, slots=True)
class Part:
    """HT and VAT at one VAT rate, of an invoice or of what its credit notes took (rule 1)."""

    ht: Decimal
    vat: Decimal


Parts = dict[Decimal, Part]  # by VAT rate


def add_parts(into: Parts, more: Parts) -> None:
    for rate, part in more.items():
        was = into.get(rate, Part(ZERO, ZERO))
        into[rate] = Part(was.ht + part.ht, was.vat + part.vat)


@dataclass(slots=True)
class Invoice:
    """An invoice as issued (`rates`), and what credit notes and payments did to it since."""

    invoice_id: str
    member_id: str
    client: str
    issued_on: date
    rates: Parts
    credited: Parts = field(default_factory=dict)
    paid: Decimal = ZERO  # received for it: from the bank, and from the client's credit
    from_credit: Decimal = ZERO  # of which applied from the client's credit (rule 9)

    @property
    def ht(self) -> Decimal:
        return sum((p.ht for p in self.rates.values()), ZERO)

    @property
    def ttc(self) -> Decimal:
        return sum((p.ht + p.vat for p in self.rates.values()), ZERO)

    @property
    def credited_ttc(self) -> Decimal:
        return sum((p.ht + p.vat for p in self.credited.values()), ZERO)

    def left(self, rate: Decimal) -> Part:
        """What is left at `rate` for credit notes to take."""
        issued, taken = self.rates[rate], self.credited.get(rate, Part(ZERO, ZERO))
        return Part(issued.ht - taken.ht, issued.vat - taken.vat)

    @property
    def due(self) -> Decimal:
        """What the client still owes on it; negative when they paid more (an overpayment)."""
        return self.ttc - self.credited_ttc - self.paid

    @property
    def excess(self) -> Decimal:
        """What the client paid above the invoice: their credit, from this invoice."""
        return max(-self.due, ZERO)


@dataclass(slots=True)
class Bases:
    """A member-month's own bases (rules 3 and 4): what that month adds to the year's."""

    contribution: Decimal = ZERO
    societariat: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class BaseMove:
    """What one event did to one member-month's bases, and the sales it made (rule 4)."""

    member_id: str
    month: str
    event_id: str
    contribution: Decimal
    societariat: Decimal
    revenue: Decimal = ZERO
    sale_date: date | None = None


@dataclass(frozen=True, slots=True)
class Sale:
    """Revenue (signed HT) posted in `month`, counting for the sociétariat from `counts_from`.

    `counts_from` is the date of the invoice (for a credit note, of its
    invoice): a credit note reduces the sociétariat base only where its
    invoice counted in it (rule 4).
    """

    counts_from: date
    month: str
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class Salary:
    member_id: str
    from_month: str
    gross: Decimal
    event_id: str


@dataclass(frozen=True, slots=True)
class Document:
    """A credit note, payment or expense as recorded (`ledger.schema.documents`)."""

    kind: str
    doc_id: str
    event_id: str
    member_id: str
    invoice_id: str | None = None
    issued_on: date | None = None
    amount: Decimal | None = None
    rates: Parts | None = None
    from_credit: bool = False


@dataclass(slots=True)
class Book:
    """The working state of one batch, and the record of what the batch changed.

    `years` holds, per (member, year), every month of it with bases, for each
    member-year the batch touches, so that a month's figures can be computed
    from the year-to-date base (rules 3, 4).
    """

    locked_through: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    years: dict[tuple[str, int], dict[str, Bases]] = field(default_factory=dict)
    documents: set[tuple[str, str]] = field(default_factory=set)
    # (member, client) pairs whose every invoice is loaded: a payment from the client's
    # credit may only be taken where the whole credit is known (rule 9).
    clients_loaded: set[tuple[str, str]] = field(default_factory=set)
    # The sales of members who become associates in this batch: loaded, then followed
    # through the batch (rule 4, see `engine.rules`).
    sales: dict[str, list[Sale]] = field(default_factory=dict)
    new_members: set[str] = field(default_factory=set)
    changed_members: set[str] = field(default_factory=set)
    new_statuses: list[tuple[str, date, str, str]] = field(default_factory=list)
    new_invoices: list[tuple[Invoice, str]] = field(default_factory=list)  # with their event id
    new_documents: list[Document] = field(default_factory=list)
    new_moves: list[BaseMove] = field(default_factory=list)
    new_salaries: list[Salary] = field(default_factory=list)
    new_bank_accounts: list[Any] = field(default_factory=list)  # `member.bank_account_set` events (rule 13)

    def year_months(self, member_id: str, year: int) -> list[tuple[str, Bases]]:
        """Every month of the member's year that has bases, in order."""
        return sorted(self.years.get((member_id, year), {}).items())

    def known_base(self, member_id: str, month: str, bases: Bases) -> None:
        """A member-month's bases as the ledger holds them (loading)."""
        self.years.setdefault((member_id, int(month[:4])), {})[month] = bases

    def move(self, move: BaseMove) -> None:
        """Record what an event does to a member-month's bases."""
        year = self.years.setdefault((move.member_id, int(move.month[:4])), {})
        bases = year.setdefault(move.month, Bases())
        bases.contribution += move.contribution
        bases.societariat += move.societariat
        self.new_moves.append(move)
        history = self.sales.get(move.member_id)
        if history is not None and move.sale_date is not None and move.revenue:
            history.append(Sale(move.sale_date, move.month, move.revenue))

    def client_invoices(self, member_id: str, client: str) -> Sequence[Invoice]:
        if (member_id, client) not in self.clients_loaded:
            raise RuntimeError(f"the book was loaded without every invoice of {client} for {member_id}")
        return [i for i in self.invoices.values() if i.member_id == member_id and i.client == client]
