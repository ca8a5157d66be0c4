"""Closing a month (DOMAIN.md rule 7): the lock, and the entries' definitive numbers.

Closing month M closes every month up to M (a lock date, as in most ledgers):
nothing can be posted into them any more, and an event dated in them is
posted on the first day of the first open month. At the close, each entry of
the closed months gets its definitive number: continuous per journal and in
date order, as the FEC requires; the database refuses any other numbering.
Entries of open months are numbered provisionally when exported.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, func, insert, select, text

from engine.periods import last_day
from ledger import schema
from ledger.book_store import locked_through


def close_month(conn: Connection, month: str) -> int:
    """Lock `month` (and all before it); returns how many entries got their number."""
    if conn.dialect.name == "postgresql":  # wait for postings in flight, hold new ones back
        conn.execute(text("LOCK TABLE entries IN SHARE ROW EXCLUSIVE MODE"))
    lock = locked_through(conn)
    if lock is not None and month <= lock:
        return 0
    conn.execute(insert(schema.month_locks), {"month": month, "locked_at": datetime.now(timezone.utc)})
    e, n = schema.entries, schema.entry_numbers
    last = dict(conn.execute(select(n.c.journal, func.max(n.c.number)).group_by(n.c.journal)).tuples().all())
    numbered = select(n.c.entry_id)
    rows = []
    for entry_id, journal in conn.execute(
            select(e.c.id, e.c.journal).where(e.c.entry_date <= last_day(month), e.c.id.not_in(numbered))
            .order_by(e.c.journal, e.c.entry_date, e.c.id)):
        last[journal] = last.get(journal, 0) + 1
        rows.append({"journal": journal, "number": last[journal], "entry_id": entry_id,
                     "validated_on": datetime.now(timezone.utc).date()})
    if rows:
        conn.execute(insert(n), rows)
    return len(rows)
