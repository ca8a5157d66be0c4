"""The locks a batch takes before it reads anything: the books, its members, the governance record.

On PostgreSQL two workers may hold the same events for an instant (a Kafka
rebalance, a worker that was thought dead), or events of one member may come
from two sources. A batch therefore locks what it will read and write, then
reads: the second delivery waits for the first one's commit and finds its
events processed (`streams.pipeline`). The locks are transaction advisory
locks on a fixed number of buckets of member ids (so that a batch of thousands
of members takes at most `BUCKETS` locks, in one order: no deadlock), and one
more for the governance record, whose check-then-insert (an assembly id taken
twice) must not interleave.

Everything that posts holds the books' lock in shared mode, and closing a
month holds it alone (`lock_books`): a close waits for the postings in
flight and holds new ones back, so that no entry lands in a month while it
is being closed and numbered (a LOCK TABLE would do it too, but needs a
privilege the application's role does not have). On SQLite every writing
transaction already holds the database's write lock from its first
statement (`ledger.db`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from sqlalchemy import Connection, text

BUCKETS = 1024
NAMESPACE = 20141  # the first key of the two-key advisory locks the batches take
GOVERNANCE = BUCKETS  # the bucket after the members' ones
BOOKS = BUCKETS + 1


def bucket(member_id: str) -> int:
    return zlib.crc32(member_id.encode()) % BUCKETS


def lock_books(conn: Connection, *, closing: bool = False) -> None:
    """Shared for posting, exclusive for closing (see the module docstring)."""
    if conn.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if closing else "pg_advisory_xact_lock_shared"
        conn.execute(text(f"SELECT {function}(:ns, :key)"), {"ns": NAMESPACE, "key": BOOKS})


def lock_batch(conn: Connection, member_ids: Iterable[str], governance: bool, bank: bool = False) -> None:
    """The books (shared), then the batch's members' buckets and the governance record, in order.

    A batch with bank events holds the books alone, like a close: its lines pay
    invoices and net pay of any member, found only while matching, and a member
    batch taking a `payment.received` of the same invoice meanwhile would not
    see the line's payment and post the same money again (DOMAIN.md rule 11 a).
    Bank events are few (a statement a day per account, the staff's
    assignments), so holding the others back for one costs little.
    """
    if conn.dialect.name != "postgresql":
        return
    lock_books(conn, closing=bank)
    keys = sorted({bucket(m) for m in member_ids} | ({GOVERNANCE} if governance else set()))
    if keys:
        conn.execute(text("SELECT count(pg_advisory_xact_lock(:ns, k)) "
                          "FROM (SELECT k FROM unnest(CAST(:keys AS integer[])) AS k ORDER BY k) AS ordered"),
                     {"ns": NAMESPACE, "keys": keys})
