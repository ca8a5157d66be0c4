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
- a month was closed (the posting dates move with `locked_through`);
- the book holds more than `LIMIT` members, invoices, member-months and
  documents: memory stays bounded however long the file.

tests/test_kept_book.py writes behind the ingest's back and checks each case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from engine.state import Book
from ledger.book_store import Wanted, load_book

LIMIT = 150_000  # objects a kept book may hold before it is dropped (a few hundred MB at most)


class KeptBook:
    """One ingest's book, and the connection and `data_version` it is the ledger's for."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.book: Book | None = None
        self.asked = Wanted()  # what was loaded (found or not): the book knows it
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
        """The batch's book: the kept one with what it lacks, or a fresh one."""
        if self.book is not None and self.book.locked_through != lock:
            self.drop()
        if self.book is None:
            self.loads += 1
        missing = wanted.without(self.asked)
        self.book = load_book(conn, missing, lock, into=self.book)
        # An invoice paid from its client's credit before it exists (refused) had no client whose
        # invoices could be loaded: asked again once it does (rule 9).
        missing.from_credit.intersection_update(self.book.invoices)
        self.asked.add(missing)
        return self.book

    def committed(self, *, bank: bool) -> None:
        """The batch is in the ledger: the book is the ledger's, unless it grew too big or the
        batch wrote what it does not hold (`bank`)."""
        if bank or self.version is None or (self.book is not None and _size(self.book) > self.limit):
            self.drop()

    def drop(self) -> None:
        self.book, self.asked = None, Wanted()


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
