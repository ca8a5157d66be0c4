"""Writing entries: their lines first, then the entries, in the caller's transaction.

The order is the one `ledger.invariants` expects: the entry's insert trigger
sums lines that are already there. Ids are reserved in one round trip per
batch so that thousands of entries go in as two `executemany` calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlalchemy.sql.functions import max as sql_max

from engine.money import to_cents
from engine.postings import Entry
from ledger import schema


def reserve_entry_ids(conn: Connection, count: int) -> list[int]:
    """`count` fresh entry ids: a sequence on PostgreSQL, the next ones on SQLite (write-locked)."""
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.scalars(text("SELECT nextval('entry_ids') FROM generate_series(1, :n)"),
                                 {"n": count}))
    top = conn.scalar(select(sql_max(schema.entries.c.id))) or 0
    return list(range(top + 1, top + 1 + count))


def post(conn: Connection, entries: Sequence[tuple[Entry, int]],
         now: datetime | None = None) -> list[int]:
    """Insert `(entry, part)` pairs; the events they belong to must already be recorded."""
    ids = reserve_entry_ids(conn, len(entries))
    posted_at = now or datetime.now(timezone.utc)
    line_rows: list[dict[str, Any]] = []
    entry_rows: list[dict[str, Any]] = []
    for entry_id, (entry, part) in zip(ids, entries):
        line_rows.extend({"entry_id": entry_id, "account": line.account, "amount": to_cents(line.amount),
                          "member_id": line.member_id, "aux_id": line.aux_id, "aux_label": line.aux_label}
                         for line in entry.lines)
        entry_rows.append({"id": entry_id, "journal": entry.journal, "entry_date": entry.date,
                           "piece_ref": entry.piece_ref, "piece_date": entry.piece_date,
                           "label": entry.label, "event_id": entry.event_id, "part": part,
                           "posted_at": posted_at, "reverses": None})
    if line_rows:
        conn.execute(insert(schema.lines), line_rows)
        conn.execute(insert(schema.entries), entry_rows)
    return ids
