"""What the members' clients still owe, as at a day (DOMAIN.md rule 12, CONTRACT.md §5 `cae receivables`).

Read from the invoices as issued and their documents (credit notes,
payments) whose entries are dated on or before the day, like the activity
budget (rule 7: a document dated in a closed month is posted, and counts, in
the first open month; a payment from the client's credit, which posts
nothing, counts on its own date): `receivables_ht` is
what the cash budget subtracts from it, Σ `engine.receivables.outstanding_ht`
of each member's invoices (VAT is the State's, so the HT share of what is due).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, select

from engine.money import ZERO, fmt, from_cents
from engine.receivables import BUCKETS, Receivable, by_bucket, outstanding_ht, outstanding_ht_cents
from ledger import schema
from ledger.bulk import CHUNK, chunks
from ledger.rows import unindexed


def _entry_of(event_id: Any, piece: Any) -> tuple[Any, ...]:
    """The entries of a document: its event's, with it as their piece."""
    e = schema.entries
    return e.c.event_id == event_id, e.c.piece_ref == piece


def _posted(event_id: Any, piece: Any) -> Any:
    """The day a document's entry is dated (rule 7: a late one moves), one index lookup per document."""
    return select(func.min(schema.entries.c.entry_date)).where(*_entry_of(event_id, piece)).scalar_subquery()


def _documents_by(conn: Connection, on: date) -> Any:
    """The credit notes and payments of invoices counted by `on` (from credit: no entry, its own date).

    When no entry is dated after `on` (a reconciliation or a payroll of the books' latest month),
    a document with an entry counts whatever that entry's date, and one without by its own date:
    the same documents, without looking up the entry date of each one dated by `on` (0.2 s of the
    payroll year's reconciliation, issue 18, point 4). One index lookup says so.
    """
    d = schema.documents
    last = conn.scalar(select(func.max(schema.entries.c.entry_date)))
    if last is None or date.fromisoformat(str(last)) <= on:
        dated: Any = (d.c.issued_on <= on) | exists().where(*_entry_of(d.c.event_id, d.c.doc_id))
    else:
        dated = func.coalesce(_posted(d.c.event_id, d.c.doc_id), d.c.issued_on) <= on
    return d.c.invoice_id.is_not(None), dated, d.c.kind.in_(("credit_note", "payment"))


def receivables(conn: Connection, on: date,
                member_ids: Iterable[str] | None = None) -> list[tuple[Receivable, Decimal]]:
    """Each invoice issued by `on` with something due on it as at `on`, and its HT share (outstanding_ht)."""
    i, d = schema.invoices, schema.documents
    query = select(i.c.invoice_id, i.c.member_id, i.c.client, i.c.issued_on, i.c.ht, i.c.ttc).where(
        _posted(i.c.event_id, i.c.invoice_id) <= on)
    documents = select(d.c.invoice_id, d.c.kind, d.c.amount, d.c.rates).where(*_documents_by(conn, on))
    wanted = None if member_ids is None else sorted(set(member_ids))
    invoices = {}
    moved: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # credited HT, credited TTC, paid
    for chunk in ([None] if wanted is None else chunks(wanted)):
        where = [] if chunk is None else [i.c.member_id.in_(chunk)]
        invoices.update({r.invoice_id: r for r in conn.execute(query.where(*where))})
        doc_where = [] if chunk is None else [d.c.member_id.in_(chunk)]
        for row in conn.execute(documents.where(*doc_where)):
            if row.kind == "payment":
                moved[row.invoice_id][2] += int(row.amount or 0)
            else:
                moved[row.invoice_id][0] += sum(int(part[1]) for part in json.loads(row.rates or "[]"))
                moved[row.invoice_id][1] += int(row.amount or 0)
    found = []
    for invoice_id, r in invoices.items():
        credited_ht, credited_ttc, paid = moved[invoice_id]
        due = from_cents(r.ttc - credited_ttc - paid)
        if due <= 0:
            continue
        ht_share = outstanding_ht(due, from_cents(r.ht - credited_ht), from_cents(r.ttc - credited_ttc))
        found.append((Receivable(invoice_id, r.member_id, r.client, r.issued_on, due, on), ht_share))
    return sorted(found, key=lambda x: (x[0].issued_on, x[0].invoice_id))


def receivables_ht(conn: Connection, on: date, member_ids: Iterable[str]) -> dict[str, Decimal]:
    """Per member, Σ outstanding_ht of their invoices as at `on` (0 for a member owed nothing).

    The same reading as `receivables`, summed by the database (issue 18, point 4). An invoice
    without documents owes its whole HT (`outstanding_ht` of its TTC on its own HT and TTC is its
    HT, to the cent, when the TTC is positive; nothing otherwise): those are summed per member in
    SQL, without a row each. Of the invoices that have documents, those with something due by
    `on` come back with what was credited and paid by then, and their share is computed in
    integer cents; the HT credited is in the credit notes' rates, read for the invoices that
    have any. Every member's (a reconciliation) is read without naming them, a few members' (a
    payroll, a statement) by name.
    """
    i, d = schema.invoices, schema.documents
    ids = sorted(set(member_ids))
    posted = exists().where(*_entry_of(i.c.event_id, i.c.invoice_id), schema.entries.c.entry_date <= on)
    counted = and_(*_documents_by(conn, on))

    def moved(kind: str) -> Any:  # each document's date looked up once: for its own kind only
        return func.coalesce(func.sum(case(((d.c.kind == kind) & counted, d.c.amount), else_=0)), 0)
    totals = dict.fromkeys(ids, 0)
    due = []
    for chunk in ([None] if len(ids) > CHUNK else chunks(ids)):
        theirs = [] if chunk is None else [i.c.member_id.in_(chunk)]
        member = unindexed(conn, i.c.member_id)
        whole = (select(member, func.sum(i.c.ht))
                 .where(*theirs, i.c.ttc > 0, ~exists().where(d.c.invoice_id == i.c.invoice_id), posted)
                 .group_by(member))
        for member_id, cents in conn.execute(whole).tuples():
            if member_id in totals:
                totals[member_id] += int(cents)
        documents = (select(d.c.invoice_id, moved("credit_note").label("credited"), moved("payment").label("paid"),
                            func.count(case((d.c.kind == "credit_note", 1))).label("notes"))  # rates to read
                     .where(d.c.invoice_id.is_not(None),
                            *([] if chunk is None else [d.c.invoice_id.in_(select(i.c.invoice_id).where(*theirs))]))
                     .group_by(d.c.invoice_id).subquery())
        query = (select(i.c.invoice_id, i.c.member_id, i.c.ht, i.c.ttc, documents.c.credited, documents.c.paid,
                        documents.c.notes)
                 .select_from(documents.join(i, i.c.invoice_id == documents.c.invoice_id))
                 .where(*theirs, i.c.ttc - documents.c.credited - documents.c.paid > 0, posted))
        due += [r for r in conn.execute(query).tuples() if r[1] in totals]
    noted = sorted({r[0] for r in due if r[6]})
    credited_ht: dict[str, int] = defaultdict(int)
    notes = select(d.c.invoice_id, d.c.rates).where(counted, d.c.kind == "credit_note")
    for chunk in ([None] if len(noted) > CHUNK else chunks(noted)):  # many: every credit note in one query
        for invoice_id, rates in conn.execute(notes.where(*([] if chunk is None else [d.c.invoice_id.in_(chunk)]))):
            credited_ht[invoice_id] += sum(int(part[1]) for part in json.loads(rates or "[]"))
    for invoice_id, member_id, ht, ttc, credited_ttc, paid_ttc, _ in due:
        totals[member_id] += outstanding_ht_cents(ttc - credited_ttc - paid_ttc, ht - credited_ht[invoice_id],
                                                  ttc - credited_ttc)
    return {member_id: from_cents(cents) for member_id, cents in totals.items()}


@dataclass(frozen=True, slots=True)
class Report:
    """What clients owe as at a day, per invoice and per ageing bucket: `cae receivables`, the staff's
    page and a member's unpaid invoices (issue 16, point 5) all show this one."""

    on: date
    invoices: list[tuple[Receivable, Decimal]]  # each with its HT share
    buckets: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    def to_json(self) -> dict[str, Any]:
        """`cae receivables --json` (CONTRACT.md §5)."""
        return {"on": self.on.isoformat(),
                "invoices": [{"invoice_id": r.invoice_id, "member_id": r.member_id, "client": r.client,
                              "issued_on": r.issued_on.isoformat(), "due": fmt(r.due_ttc), "outstanding_ht": fmt(ht),
                              "days_overdue": r.days_overdue, "bucket": r.bucket} for r, ht in self.invoices],
                "buckets": {b: fmt(self.buckets[b]) for b in BUCKETS}, "total": fmt(self.total)}


def report(conn: Connection, on: date, member_ids: Iterable[str] | None = None) -> Report:
    """`receivables` with its buckets (0–30, 31–60, 61–90, > 90 days overdue)."""
    found = receivables(conn, on, member_ids)
    return Report(on, found, by_bucket([r for r, _ in found]))
