"""A report's reads that need nothing else of it, answered on a second connection meanwhile.

SQLite runs a query without Python's global lock: while one connection's thread builds the
reconciliation's ten thousand statements in Python, a second connection can sum the trial
balance's lines and find the unpaid invoices and the clients' credits on the machine's other
core (issue 18, point 4: 0.2 s of the payroll year's 2.1 through `cae reconcile`).

Only where the second connection surely reads what the first would: a SQLite ledger whose first
connection holds the write lock and has changed no row yet (`ledger.db.holds_write_lock_unwritten`:
`cae reconcile` and the scheduler's runs, which record the run after the report). Anywhere else (a
read-only report, whose snapshot a writer may have moved on from; PostgreSQL, where each statement
of a report reads its own snapshot anyway) each read runs on the first connection when it is
asked, its error raised there, before anything else is read. The second connection's transaction
is a deferred one, as a report's, and ends before the block does: no thread outlives the report,
nor reads after the first's transaction could have let a writer in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from ledger.db import holds_write_lock_unwritten

T = TypeVar("T")


class Ask(Protocol):
    def __call__(self, read: Callable[[Connection], T]) -> Callable[[], T]: ...


@contextmanager
def side_reads(conn: Connection) -> Iterator[Ask]:
    """`ask(read)` starts `read(connection)` and gives what waits for its answer: on a second
    connection in a thread where that reads what `conn` reads (a failed read raises when its answer
    is asked for), else on `conn`, at once."""
    if not holds_write_lock_unwritten(conn):
        def at_once(read: Callable[[Connection], T]) -> Callable[[], T]:
            answer = read(conn)  # a failed read raises now: on PostgreSQL it aborts the transaction
            return lambda: answer
        yield at_once
        return
    with ExitStack() as stack:
        side = stack.enter_context(conn.engine.connect().execution_options(cae_read_only=True))
        stack.enter_context(side.begin())
        pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="cae-side-read"))

        def beside(read: Callable[[Connection], T]) -> Callable[[], T]:
            return pool.submit(read, side).result
        yield beside
