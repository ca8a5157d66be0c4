"""Loading the rules' working state (`engine.state.Book`) for a batch, and recording what changed.

Only the rows a batch names are read (its members, invoices, member-years),
with one `IN` query per table and chunk, so a batch costs the same on day one
and on a ledger of millions of lines. Nothing is ever updated but a member's
association and departure, set once: invoices are recorded as issued, what
credit notes and payments do to them are rows of their own, and bases are
sums of moves (see `ledger.schema`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, tuple_, update

from engine.matching import same_name
from engine.money import ZERO, from_cents, to_cents
from engine.periods import parse_month, posting_date
from engine.state import Bases, Book, Invoice, Member, Part, Parts, Sale
from ledger import schema
from ledger.bulk import CHUNK, Rows, chunks, day_format, encode, insert_rows

def rates_json(parts: Parts) -> str:
    """`[["0.2", ht cents, vat cents], …]`, by rate: an invoice's or a credit note's `rates`.

    Written out as `json.dumps` writes that list, without calling it: once per invoice it
    was a tenth of the thread that decides a file's batches (issue 18; tests/test_hot_path.py
    holds it to `json.dumps`)."""
    return "[" + ", ".join(f"[{_rate_text(rate)}, {to_cents(p.ht)}, {to_cents(p.vat)}]"
                           for rate, p in sorted(parts.items())) + "]"


@lru_cache(maxsize=256)
def _rate_text(rate: Decimal) -> str:
    return json.dumps(str(rate.normalize()))


def parts_from_json(text: str | None) -> Parts:
    """The `rates` column read back (JSON data only: nothing stored is ever evaluated)."""
    parts: Parts = {}
    for rate, ht, vat in json.loads(text) if text else ():
        parts[Decimal(rate)] = Part(from_cents(int(ht)), from_cents(int(vat)))
    return parts


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a batch's member events will read, for `load_book`."""

    members: set[str] = field(default_factory=set)
    invoices: set[str] = field(default_factory=set)
    member_years: set[tuple[str, int]] = field(default_factory=set)
    documents: set[tuple[str, str]] = field(default_factory=set)
    associating: set[str] = field(default_factory=set)
    from_credit: set[str] = field(default_factory=set)  # invoices paid from their client's credit
    # (member, client) of those the batch issues itself, which the ledger cannot name yet
    clients: set[tuple[str, str]] = field(default_factory=set)

    def without(self, known: Wanted) -> Wanted:
        """What is wanted and not in `known`: what a kept book still has to load."""
        return Wanted(*(mine - theirs for mine, theirs in zip(self.sets(), known.sets())))

    def add(self, more: Wanted) -> None:
        for mine, theirs in zip(self.sets(), more.sets()):
            mine |= theirs

    def sets(self) -> tuple[set[Any], ...]:
        return (self.members, self.invoices, self.member_years, self.documents, self.associating,
                self.from_credit, self.clients)


def locked_through(conn: Connection) -> str | None:
    """The last closed month: closing a month closes every month before it."""
    return conn.scalar(select(schema.month_locks.c.month).order_by(schema.month_locks.c.month.desc())
                       .limit(1))


def load_book(conn: Connection, wanted: Wanted, lock: str | None, into: Book | None = None) -> Book:
    """A book holding what `wanted` names.

    `into`: a book kept from earlier batches (`ledger.kept_book`), to which `wanted` is
    added. What it already holds is never read again: it may be newer than what `conn`
    sees (a batch still being written, `streams.overlapped`).
    """
    book = Book(locked_through=lock) if into is None else into
    _load_members(conn, book, wanted.members)
    _load_invoices(conn, book, select(schema.invoices).where(
        schema.invoices.c.invoice_id.in_(bindparam("ids", expanding=True))), sorted(wanted.invoices))
    if wanted.from_credit or wanted.clients:
        _load_clients(conn, book, wanted)
    years = set(wanted.member_years)
    if wanted.associating:
        associating = _sales(conn, sorted(wanted.associating))
        for member_id, sales in associating.items():  # where their sociétariat will be posted, too
            for sale in book.sales.setdefault(member_id, sales):
                first = parse_month(sale.month)
                years |= {(member_id, first.year), (member_id, posting_date(first, lock).year)}
    _load_bases(conn, book, years)
    d = schema.documents
    for chunk in chunks(sorted(wanted.documents), CHUNK // 2):
        book.documents.update(conn.execute(select(d.c.kind, d.c.doc_id)
                                           .where(tuple_(d.c.kind, d.c.doc_id).in_(chunk))).tuples())
    return book


def load_more(conn: Connection, book: Book, *, invoices: Iterable[str] = (), members: Iterable[str] = ()) -> None:
    """Add to a batch's book the invoices and members it did not load yet (a bank line names them)."""
    _load_members(conn, book, members)
    _load_invoices(conn, book, select(schema.invoices).where(
        schema.invoices.c.invoice_id.in_(bindparam("ids", expanding=True))),
        sorted(set(invoices) - set(book.invoices)))


def _load_members(conn: Connection, book: Book, member_ids: Iterable[str]) -> None:
    """The members the book does not hold yet (what it holds may be newer than the ledger)."""
    m, s = schema.members, schema.member_statuses
    for chunk in chunks(sorted(set(member_ids) - book.members.keys())):
        for row in conn.execute(select(m).where(m.c.member_id.in_(chunk))):
            book.members[row.member_id] = Member(row.member_id, row.name, row.joined_on, [],
                                                 row.associate_on, row.left_on)
        for row in conn.execute(select(s.c.member_id, s.c.since, s.c.status)
                                .where(s.c.member_id.in_(chunk)).order_by(s.c.id)):
            book.members[row.member_id].statuses.append((row.since, row.status))


def _load_invoices(conn: Connection, book: Book, query: Any, keys: list[Any], size: int = CHUNK) -> None:
    """The invoices `query` finds (it takes the expanding parameter `ids`), with their documents."""
    found: list[str] = []
    for chunk in chunks(keys, size):
        for row in conn.execute(query, {"ids": list(chunk)}):
            if row.invoice_id not in book.invoices:
                book.invoices[row.invoice_id] = Invoice(row.invoice_id, row.member_id, row.client,
                                                        row.issued_on, parts_from_json(row.rates))
                found.append(row.invoice_id)
    d = schema.documents
    for chunk in chunks(found):
        # By invoice only: with the kind in the query too, SQLite's planner takes the primary
        # key's index (kind first) and reads every credit note and payment ever recorded.
        for row in conn.execute(select(d.c.kind, d.c.invoice_id, d.c.amount, d.c.rates, d.c.from_credit)
                                .where(d.c.invoice_id.in_(chunk))):
            invoice = book.invoices[row.invoice_id]
            if row.kind == "credit_note":
                for rate, part in parts_from_json(row.rates).items():
                    was = invoice.credited.get(rate, Part(ZERO, ZERO))
                    invoice.credited[rate] = Part(was.ht + part.ht, was.vat + part.vat)
            elif row.kind == "payment":
                amount = from_cents(int(row.amount or 0))
                invoice.paid += amount
                if row.from_credit:
                    invoice.from_credit += amount


def credit_clients(book: Book, wanted: Wanted) -> set[tuple[str, str]]:
    """The (member, client) pairs whose every invoice rule 9 reads for the batch: those of the
    invoices it pays from credit that `book` holds, and those it names itself."""
    return wanted.clients | {(i.member_id, i.client) for i in map(book.invoices.get, wanted.from_credit) if i}


def _load_clients(conn: Connection, book: Book, wanted: Wanted) -> None:
    """Every invoice of the clients whose credit the batch takes (rule 9)."""
    pairs = sorted(credit_clients(book, wanted))
    i = schema.invoices
    query = select(i).where(tuple_(i.c.member_id, i.c.client).in_(bindparam("ids", expanding=True)))
    _load_invoices(conn, book, query, pairs, CHUNK // 2)
    book.clients_loaded.update(pairs)


def _load_bases(conn: Connection, book: Book, member_years: set[tuple[str, int]]) -> None:
    """Every month of each member-year with its bases: the sums of its moves."""
    if not member_years:
        return
    b = schema.base_moves
    first = min(year for _, year in member_years)
    last = max(year for _, year in member_years)
    for chunk in chunks(sorted({member_id for member_id, _ in member_years})):
        query = (select(b.c.member_id, b.c.month, func.sum(b.c.contribution), func.sum(b.c.societariat))
                 .where(b.c.member_id.in_(chunk), b.c.month >= f"{first:04d}-01", b.c.month <= f"{last:04d}-12")
                 .group_by(b.c.member_id, b.c.month))
        for member_id, month, contribution, societariat in conn.execute(query):
            year = (member_id, int(month[:4]))
            if year in member_years and month not in book.years.get(year, ()):
                book.known_base(member_id, month, Bases(from_cents(int(contribution)),
                                                        from_cents(int(societariat))))


def _sales(conn: Connection, member_ids: list[str]) -> dict[str, list[Sale]]:
    """Each member's sales so far: the date that counts for the sociétariat, posting month, signed HT."""
    b = schema.base_moves
    found: dict[str, list[Sale]] = {member_id: [] for member_id in member_ids}
    for chunk in chunks(member_ids):
        query = (select(b.c.member_id, b.c.sale_date, b.c.month, func.sum(b.c.revenue))
                 .where(b.c.member_id.in_(chunk), b.c.revenue != 0, b.c.sale_date.is_not(None))
                 .group_by(b.c.member_id, b.c.sale_date, b.c.month))
        for member_id, sale_date, month, cents in conn.execute(query):
            found[member_id].append(Sale(sale_date, month, from_cents(int(cents))))
    return found


def client_key(client: str) -> str:
    """An invoice's client as rule 11 b finds it (`ledger.schema.invoice_clients`), within its column."""
    return same_name(client)[:schema.CLIENT_KEY_LENGTH]


@dataclass(frozen=True, slots=True)
class BookRows:
    """What a batch changed in the book, as the rows that record it.

    Taken from the book when the batch is decided (`book_rows`), so that the
    next batch may change the same book while these rows are written (a file's
    ingest writes a batch while it decides the next one, `streams.overlapped`).
    """

    members: list[dict[str, Any]]
    member_updates: list[dict[str, Any]]
    statuses: list[dict[str, Any]]
    invoices: Rows
    invoice_clients: Rows
    documents: Rows
    moves: Rows
    bank_accounts: Rows
    salaries: list[dict[str, Any]]


def book_rows(conn: Connection, book: Book) -> BookRows:
    """The rows of what the batch changed, as `conn`'s driver takes them; the book forgets them
    (its `new_*` lists start empty again for the next batch)."""
    day = day_format(conn)
    members = [{"member_id": x.member_id, "name": x.name, "joined_on": x.joined_on,
                "associate_on": x.associate_on, "left_on": x.left_on}
               for x in (book.members[k] for k in sorted(book.new_members))]
    # from unknown to known, once (the database refuses any other change)
    updates = [{"key": k, "a": book.members[k].associate_on, "l": book.members[k].left_on}
               for k in sorted(book.changed_members - book.new_members)]
    rows = BookRows(
        members, updates,
        [{"member_id": mid, "since": on, "status": status, "event_id": eid}
         for mid, on, status, eid in book.new_statuses],
        encode(conn, [(x.invoice_id, x.member_id, x.client, day(x.issued_on), to_cents(x.ht), to_cents(x.ttc),
                       rates_json(x.rates), event_id) for x, event_id in book.new_invoices]),
        encode(conn, [(x.invoice_id, client_key(x.client), to_cents(x.ttc)) for x, _ in book.new_invoices]),
        encode(conn, [(d.kind, d.doc_id, d.event_id, d.member_id, d.invoice_id, _day(day, d.issued_on),
                       None if d.amount is None else to_cents(d.amount),
                       None if d.rates is None else rates_json(d.rates), d.from_credit)
                      for d in book.new_documents]),
        encode(conn, [(x.member_id, x.month, x.event_id, to_cents(x.contribution), to_cents(x.societariat),
                       to_cents(x.revenue), _day(day, x.sale_date)) for x in book.new_moves]),
        encode(conn, [(x.member_id, x.iban, x.bic, day(x.from_), x.event_id) for x in book.new_bank_accounts]),
        [{"member_id": s.member_id, "from_month": s.from_month, "gross": to_cents(s.gross),
          "event_id": s.event_id} for s in book.new_salaries])
    book.new_members, book.changed_members, book.new_statuses = set(), set(), []
    book.new_invoices, book.new_documents, book.new_moves = [], [], []
    book.new_salaries, book.new_bank_accounts = [], []
    return rows


def save_rows(conn: Connection, rows: BookRows) -> None:
    """Record what the batch changed; the events themselves must already be recorded."""
    m = schema.members
    if rows.members:
        conn.execute(insert(m), rows.members)
    if rows.member_updates:
        conn.execute(update(m).where(m.c.member_id == bindparam("key"))
                     .values(associate_on=bindparam("a"), left_on=bindparam("l")), rows.member_updates)
    if rows.statuses:
        conn.execute(insert(schema.member_statuses), rows.statuses)
    insert_rows(conn, schema.invoices, ("invoice_id", "member_id", "client", "issued_on", "ht", "ttc",
                                        "rates", "event_id"), rows.invoices)
    insert_rows(conn, schema.invoice_clients, ("invoice_id", "client_key", "ttc"), rows.invoice_clients)
    insert_rows(conn, schema.documents, ("kind", "doc_id", "event_id", "member_id", "invoice_id",
                                         "issued_on", "amount", "rates", "from_credit"), rows.documents)
    insert_rows(conn, schema.base_moves, ("member_id", "month", "event_id", "contribution", "societariat",
                                          "revenue", "sale_date"), rows.moves)
    insert_rows(conn, schema.member_bank_accounts, ("member_id", "iban", "bic", "from_date", "event_id"),
                rows.bank_accounts)
    if rows.salaries:
        conn.execute(insert(schema.salaries), rows.salaries)


def _day(day: Any, value: date | None) -> Any:
    return None if value is None else day(value)
