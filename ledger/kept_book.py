"""The rules' book kept from one batch to the next while nobody else writes (issue 18).

Loading what a batch reads (its members, invoices, member-years, documents)
took an eighth of a file's ingest and grew with the ledger, although a file's
batches name the same members and invoices again and again, and what the last
batch left in memory is exactly what it committed. So the ingest keeps its book
and each batch loads only what no earlier batch asked for.

That is right only while the ledger holds nothing the book does not know, so
the book is dropped, and loaded afresh for the next batch, when:

- another connection committed since our last batch: SQLite's `PRAGMA
  data_version` changes on a connection exactly then, whoever the writer (ours,
  the web's, a raw `sqlite3` session). It is read after `BEGIN IMMEDIATE`, when
  the batch holds the write lock, so nobody can commit between the check and
  the batch's own writes; another connection than last time counts as a change
  too. PostgreSQL has no such counter short of a row that every writer updates,
  which would make two workers wait on each other: there the book is loaded
  for each batch, as before;
- a batch did not commit (its changes are in the book, not in the ledger);
- a batch wrote bank lines, matches or links, which the book does not hold
  (`ledger.bank_store`);
- a month was closed (the posting dates move with `locked_through`).

Memory stays bounded however long the file without dropping the book (a drop
costs a batch decided alone and everything loaded again): past `LIMIT` members,
invoices, member-months and documents, the book forgets what batches needed
least recently (`Recency`), down to four fifths of its bound. It forgets only
once a batch has loaded what it reads, and only what that batch does not read,
so the earliest a forgotten thing is read again from the ledger is the next
batch, when the batch written meanwhile (`streams.overlapped`), which may have
changed it, has committed.

tests/test_kept_book.py writes behind the ingest's back and checks each case.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from itertools import chain
from typing import Any

from sqlalchemy import Connection

from engine.state import Book
from ledger.book_store import Wanted, credit_clients, load_book

LIMIT = 80_000  # members, invoices, member-months and documents a kept book holds at most


MEMBERS, INVOICES, YEARS, DOCUMENTS = range(4)  # the kinds of things a book holds, for `Recency`


class KeptBook:
    """One ingest's book, and the connection and `data_version` it is the ledger's for."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.book: Book | None = None
        self.asked = Wanted()  # what was loaded (found or not): the book knows it
        self.used = Recency()
        self.connection: Any = None  # the DBAPI connection whose data_version was read
        self.version: int | None = None
        self.loads = 0  # books started afresh (the tests watch it)

    def check(self, conn: Connection) -> bool:
        """In a writing transaction: whether the book is still the ledger's as `conn` sees it (else
        it is dropped); `conn`'s version becomes the one to compare with next time."""
        version, connection = data_version(conn), conn.connection.dbapi_connection
        same = self.follows(conn) and version == self.version
        self.connection, self.version = connection, version
        if not same:
            self.drop()
        return same

    def follows(self, conn: Connection) -> bool:
        """Whether the book was last checked on `conn` and kept since."""
        return (self.book is not None and self.version is not None
                and self.connection is conn.connection.dbapi_connection)

    def load(self, conn: Connection, wanted: Wanted, lock: str | None) -> Book:
        """The batch's book: the kept one with what it lacks, or a fresh one; past the bound, without
        what earlier batches needed least recently and this one does not."""
        if self.book is not None and self.book.locked_through != lock:
            self.drop()
        if self.book is None:
            self.loads += 1
        missing = wanted.without(self.asked)
        book = self.book = load_book(conn, missing, lock, into=self.book)
        # An invoice paid from its client's credit before it exists (refused) had no client whose
        # invoices could be loaded: asked again once it does (rule 9).
        missing.from_credit.intersection_update(book.invoices)
        self.asked.add(missing)
        self.used.needed(_needed(book, wanted))
        # A member's sales are followed through the batch that makes them an associate (rule 4).
        for member_id in book.sales.keys() - wanted.associating:
            del book.sales[member_id]
            self.asked.associating.discard(member_id)
        size = _size(book)
        if size > self.limit:
            self._forget(size - self.limit * 4 // 5)
        return book

    def committed(self, *, bank: bool) -> None:
        """The batch is in the ledger: the book is the ledger's, unless the batch wrote what it does
        not hold (`bank`)."""
        if bank or self.version is None:
            self.drop()

    def drop(self) -> None:
        self.book, self.asked, self.used = None, Wanted(), Recency()

    def _forget(self, excess: int) -> None:
        """Forget members, invoices, member-years and documents worth `excess` (a member-year, its
        months): first what no batch asked for (a bank line's invoices, a year an association
        moved), then the least recently needed; never what the batch being decided needs."""
        book, asked = self.book, self.asked
        assert book is not None
        held: tuple[Any, ...] = (book.members, book.invoices, book.years, book.documents)
        chosen: tuple[list[Any], ...] = ([], [], [], [])  # by kind
        for kind, key in chain(self.used.unasked(held), self.used.oldest()):
            if excess <= 0:
                break
            excess -= len(held[YEARS].get(key, ())) if kind == YEARS else int(key in held[kind])
            chosen[kind].append(key)
        self.used.forget(chosen)
        for key in chosen[INVOICES]:
            invoice = book.invoices.pop(key, None)
            if invoice is not None:  # that client's invoices are no longer all held (rule 9)
                book.clients_loaded.discard((invoice.member_id, invoice.client))
        for key in chosen[MEMBERS]:
            book.members.pop(key, None)
        for key in chosen[YEARS]:
            book.years.pop(key, None)
        book.documents.difference_update(chosen[DOCUMENTS])
        kept_asked: tuple[set[Any], ...] = (asked.members, asked.invoices, asked.member_years, asked.documents)
        for mine, keys in zip(kept_asked, chosen):
            mine.difference_update(keys)
        asked.from_credit.intersection_update(
            [x for x in asked.from_credit if x in book.invoices
             and (book.invoices[x].member_id, book.invoices[x].client) in book.clients_loaded])
        asked.clients.intersection_update(book.clients_loaded)


class Recency:
    """Which batch last needed each member, invoice, member-year and document a kept book asked
    for, each kind in the order of that batch (a dict keeps the order its keys came in)."""

    def __init__(self) -> None:
        self.batch = 0
        self.kinds: tuple[dict[Hashable, int], ...] = ({}, {}, {}, {})  # MEMBERS, INVOICES, …

    def needed(self, kinds: Iterable[Iterable[Hashable]]) -> None:
        """A batch needs these, by kind: they move after everything else."""
        self.batch += 1
        for seen, keys in zip(self.kinds, kinds):
            for key in keys:
                seen.pop(key, None)
                seen[key] = self.batch

    def oldest(self) -> Iterator[tuple[int, Hashable]]:
        """(kind, key), the least recently needed first, up to what the last batch needed."""
        kinds = [iter(seen.items()) for seen in self.kinds]
        heads = [next(items, None) for items in kinds]
        for batch in range(1, self.batch):
            for kind, items in enumerate(kinds):
                head = heads[kind]
                while head is not None and head[1] == batch:
                    yield kind, head[0]
                    head = next(items, None)
                heads[kind] = head

    def unasked(self, held: tuple[Any, ...]) -> list[tuple[int, Hashable]]:
        """(kind, key) of what a book holds and no batch asked for."""
        return [(kind, key) for kind, (keys, seen) in enumerate(zip(held, self.kinds))
                for key in keys - seen.keys()]

    def forget(self, kinds: Iterable[Iterable[Hashable]]) -> None:
        for seen, keys in zip(self.kinds, kinds):
            for key in keys:
                seen.pop(key, None)


def _needed(book: Book, wanted: Wanted) -> tuple[Iterable[Hashable], ...]:
    """What the batch reads, by kind: what it asked for, every invoice of a client whose credit it
    takes (rule 9) and every year of a member it makes an associate (rule 4), loaded for it."""
    invoices: Iterable[Hashable] = wanted.invoices
    if wanted.from_credit or wanted.clients:
        pairs = credit_clients(book, wanted)
        invoices = [*wanted.invoices, *(k for k, i in book.invoices.items() if (i.member_id, i.client) in pairs)]
    years: Iterable[Hashable] = wanted.member_years
    if wanted.associating:
        years = [*wanted.member_years, *(k for k in book.years if k[0] in wanted.associating)]
    return wanted.members, invoices, years, wanted.documents


def data_version(conn: Connection) -> int | None:
    """SQLite's count of other connections' commits, as this connection sees it; None elsewhere."""
    if conn.dialect.name != "sqlite":
        return None
    return int(conn.exec_driver_sql("PRAGMA data_version").scalar_one())


def _size(book: Book) -> int:
    """What the book holds: each month's bases of a member-year counts, up to twelve a year (counted
    by the year alone, they grew past the bound: the ingest's memory rose by a tenth of a
    megabyte per thousand events however long the file)."""
    return (len(book.members) + len(book.invoices) + len(book.documents)
            + sum(len(months) for months in book.years.values()))
