"""Loading the rules' working state (`engine.state.Book`) for a batch, and saving what changed.

Only the rows a batch names are read (its members, invoices, member-months),
with one `IN` query per table, so a batch costs the same on day one and on a
ledger of millions of lines. On PostgreSQL the batch's members are locked
(`FOR UPDATE`) so that two workers can never interleave one member's events,
even for the instant of a Kafka rebalance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, tuple_, update

from engine import chart
from engine.money import from_cents, to_cents
from engine.periods import month_of
from engine.state import Bases, Book, Invoice, Member
from ledger import schema
from ledger.bulk import day_format, insert_rows

_INVOICE_COLUMNS = ("invoice_id", "member_id", "client", "issued_on", "ht", "ttc", "credited_ht",
                    "credited_ttc", "paid")
_CHUNK = 500  # SQLite allows 999 bound parameters, (member, month) pairs take two


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass
class Loaded:
    """Which keys existed before the batch, to tell an insert from an update when saving."""

    invoices: set[str] = field(default_factory=set)
    bases: set[tuple[str, str]] = field(default_factory=set)


def locked_through(conn: Connection) -> str | None:
    """The last closed month: closing a month closes every month before it."""
    return conn.scalar(select(schema.month_locks.c.month).order_by(schema.month_locks.c.month.desc())
                       .limit(1))


def load_book(conn: Connection, member_ids: set[str], invoice_ids: set[str],
              base_keys: set[tuple[str, str]], doc_keys: set[tuple[str, str]],
              lock: str | None, whole_years: bool = False,
              associating: frozenset[str] | set[str] = frozenset()) -> tuple[Book, Loaded]:
    """`whole_years`: load every month of the bases' member-years, for a tiered contribution.

    `associating`: members who become associates in the batch; their sales so far and
    every month of their bases are loaded, for the sociétariat of earlier sales (rule 4).
    """
    book, loaded = Book(locked_through=lock, whole_years=whole_years), Loaded()
    if associating:
        book.sales.update(_sales(conn, associating))
        base_keys = base_keys | {(member_id, month) for member_id, sales in book.sales.items()
                                 for _, month, _ in sales}
    m, s, i, d = schema.members, schema.member_statuses, schema.invoices, schema.documents
    for chunk in _chunks(sorted(member_ids)):
        query = select(m).where(m.c.member_id.in_(chunk))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        for row in conn.execute(query):
            book.members[row.member_id] = Member(row.member_id, row.name, row.joined_on, [],
                                                 row.associate_on, row.left_on)
        for row in conn.execute(select(s.c.member_id, s.c.since, s.c.status)
                                .where(s.c.member_id.in_(chunk)).order_by(s.c.id)):
            book.members[row.member_id].statuses.append((row.since, row.status))
    for chunk in _chunks(sorted(invoice_ids)):
        for row in conn.execute(select(i).where(i.c.invoice_id.in_(chunk))):
            book.invoices[row.invoice_id] = Invoice(
                row.invoice_id, row.member_id, row.client, row.issued_on, from_cents(row.ht),
                from_cents(row.ttc), from_cents(row.credited_ht), from_cents(row.credited_ttc),
                from_cents(row.paid))
            loaded.invoices.add(row.invoice_id)
    for row in (_year_bases(conn, base_keys) if whole_years else _month_bases(conn, base_keys)):
        book.known_base(row.member_id, row.month, Bases(from_cents(row.contribution),
                                                        from_cents(row.societariat)))
        loaded.bases.add((row.member_id, row.month))
    for chunk in _chunks(sorted(doc_keys)):
        for row in conn.execute(select(d.c.kind, d.c.doc_id)
                                .where(tuple_(d.c.kind, d.c.doc_id).in_(chunk))):
            book.documents.add((row.kind, row.doc_id))
    return book, loaded


def _sales(conn: Connection, member_ids: frozenset[str] | set[str]) -> dict[str, list[tuple[date, str, Decimal]]]:
    """Each member's revenue lines (706) so far: document date, posting month, signed HT."""
    lines, entries = schema.lines, schema.entries
    found: dict[str, list[tuple[date, str, Decimal]]] = {member_id: [] for member_id in member_ids}
    for chunk in _chunks(sorted(member_ids)):
        query = (select(lines.c.member_id, entries.c.piece_date, entries.c.entry_date,
                        func.sum(lines.c.amount))
                 .join(entries, entries.c.id == lines.c.entry_id)
                 .where(lines.c.member_id.in_(chunk), lines.c.account == chart.REVENUE)
                 .group_by(lines.c.member_id, entries.c.piece_date, entries.c.entry_date))
        for member_id, piece_date, entry_date, cents in conn.execute(query):
            found[member_id].append((piece_date, month_of(entry_date), -from_cents(int(cents))))
    return found


def _month_bases(conn: Connection, keys: set[tuple[str, str]]) -> Iterable[Row[Any]]:
    b = schema.member_bases
    for chunk in _chunks(sorted(keys)):
        yield from conn.execute(select(b).where(tuple_(b.c.member_id, b.c.month).in_(chunk)))


def _year_bases(conn: Connection, keys: set[tuple[str, str]]) -> Iterable[Row[Any]]:
    """Every month of each (member, year) the keys name: one query per chunk of members."""
    b = schema.member_bases
    years = {(member_id, month[:4]) for member_id, month in keys}
    if not years:
        return
    first, last = min(y for _, y in years), max(y for _, y in years)
    for chunk in _chunks(sorted({member_id for member_id, _ in years})):
        for row in conn.execute(select(b).where(b.c.member_id.in_(chunk), b.c.month >= f"{first}-01",
                                                b.c.month <= f"{last}-12")):
            if (row.member_id, row.month[:4]) in years:
                yield row


def save_book(conn: Connection, book: Book, loaded: Loaded) -> None:
    """Write what the batch changed; the events themselves must already be recorded."""
    m = schema.members
    if book.new_members:
        conn.execute(insert(m), [
            {"member_id": x.member_id, "name": x.name, "joined_on": x.joined_on,
             "associate_on": x.associate_on, "left_on": x.left_on}
            for x in (book.members[k] for k in book.new_members)])
    changed = book.changed_members - book.new_members
    if changed:
        conn.execute(update(m).where(m.c.member_id == bindparam("key"))
                     .values(associate_on=bindparam("a"), left_on=bindparam("l")),
                     [{"key": k, "a": book.members[k].associate_on, "l": book.members[k].left_on}
                      for k in changed])
    if book.new_statuses:
        conn.execute(insert(schema.member_statuses), [
            {"member_id": mid, "since": on, "status": status, "event_id": eid}
            for mid, on, status, eid in book.new_statuses])
    _save_invoices(conn, book, loaded)
    _save_bases(conn, book, loaded)
    if book.new_documents:
        conn.execute(insert(schema.documents), [
            {"kind": kind, "doc_id": doc_id, "event_id": eid} for kind, doc_id, eid in book.new_documents])
    if book.new_salaries:
        conn.execute(insert(schema.salaries), [
            {"member_id": s.member_id, "from_month": s.from_month, "gross": to_cents(s.gross),
             "event_id": s.event_id} for s in book.new_salaries])


def _save_invoices(conn: Connection, book: Book, loaded: Loaded) -> None:
    i = schema.invoices
    day = day_format(conn)
    touched = [book.invoices[k] for k in book.new_invoices | book.changed_invoices]
    insert_rows(conn, i, _INVOICE_COLUMNS, [
        (x.invoice_id, x.member_id, x.client, day(x.issued_on), to_cents(x.ht), to_cents(x.ttc),
         to_cents(x.credited_ht), to_cents(x.credited_ttc), to_cents(x.paid))
        for x in touched if x.invoice_id not in loaded.invoices])
    old = [{"key": x.invoice_id, "ch": to_cents(x.credited_ht), "ct": to_cents(x.credited_ttc),
            "p": to_cents(x.paid)} for x in touched if x.invoice_id in loaded.invoices]
    if old:
        conn.execute(update(i).where(i.c.invoice_id == bindparam("key"))
                     .values(credited_ht=bindparam("ch"), credited_ttc=bindparam("ct"),
                             paid=bindparam("p")), old)


def _save_bases(conn: Connection, book: Book, loaded: Loaded) -> None:
    b = schema.member_bases
    rows = [(mid, month, to_cents(book.bases[(mid, month)].contribution),
             to_cents(book.bases[(mid, month)].societariat)) for mid, month in book.changed_bases]
    insert_rows(conn, b, ("member_id", "month", "contribution", "societariat"),
                [r for r in rows if (r[0], r[1]) not in loaded.bases])
    old = [{"k1": r[0], "k2": r[1], "c": r[2], "s": r[3]} for r in rows if (r[0], r[1]) in loaded.bases]
    if old:
        conn.execute(update(b).where(b.c.member_id == bindparam("k1"), b.c.month == bindparam("k2"))
                     .values(contribution=bindparam("c"), societariat=bindparam("s")), old)
