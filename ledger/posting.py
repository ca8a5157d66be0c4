"""Writing entries: their lines first, then the entries, in the caller's transaction.

The order is the one `ledger.invariants` expects: the entry's insert trigger
sums lines that are already there. Ids are reserved in one round trip per
batch, when the rows are written, so that thousands of entries go in as two
statements (`ledger.bulk.insert_rows`) and the rows can be built before (by
the thread that decides a batch while the one before it is written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.sql.functions import max as sql_max

from engine.money import to_cents
from engine.postings import Entry
from ledger import schema
from ledger.bulk import Rows, day_format, encode, insert_rows, time_format

_LINE_COLUMNS = ("entry_id", "account", "amount", "member_id", "aux_id", "aux_label")
_ENTRY_COLUMNS = ("id", "journal", "entry_date", "piece_ref", "piece_date", "label", "event_id",
                  "part", "posted_at", "reverses")


def reserve_entry_ids(conn: Connection, count: int) -> list[int]:
    """`count` fresh entry ids: a sequence on PostgreSQL, the next ones on SQLite (write-locked)."""
    if count == 0:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.scalars(text("SELECT nextval('entry_ids') FROM generate_series(1, :n)"),
                                 {"n": count}))
    top = conn.scalar(select(sql_max(schema.entries.c.id))) or 0
    return list(range(top + 1, top + 1 + count))


@dataclass(frozen=True, slots=True)
class PostingRows:
    """Entries and their lines as rows, each entry's id still its place in the list (0, 1, …):
    the ids are reserved when the rows are written (`insert_postings`), in the writing transaction."""

    lines: list[tuple[Any, ...]]
    entries: list[tuple[Any, ...]]
    encoded: tuple[Rows, Rows]  # the same, as the driver takes them (`ledger.bulk.encode`)


def posting_rows(conn: Connection, entries: Sequence[tuple[Entry, int]], now: datetime | None = None) -> PostingRows:
    """`(entry, part)` pairs as rows in the driver's format (a batch builds them while the one
    before it is written, `streams.overlapped`)."""
    day, moment = day_format(conn), time_format(conn)
    posted_at = moment(now or datetime.now(timezone.utc))
    line_rows: list[tuple[Any, ...]] = []
    entry_rows: list[tuple[Any, ...]] = []
    for at, (entry, part) in enumerate(entries):
        line_rows.extend((at, line.account, to_cents(line.amount), line.member_id, line.aux_id,
                          line.aux_label) for line in entry.lines)
        entry_rows.append((at, entry.journal, day(entry.date), entry.piece_ref, day(entry.piece_date),
                           entry.label, entry.event_id, part, posted_at, entry.reverses))
    return PostingRows(line_rows, entry_rows, (encode(conn, line_rows), encode(conn, entry_rows)))


def insert_postings(conn: Connection, rows: PostingRows) -> list[int]:
    """Write the rows, the lines first; the events they belong to must already be recorded."""
    ids = reserve_entry_ids(conn, len(rows.entries))
    if ids and ids[-1] - ids[0] == len(ids) - 1:  # consecutive ids: the database adds the first
        shift = ids[0]
        insert_rows(conn, schema.lines, _LINE_COLUMNS, rows.encoded[0], shift=shift)
        insert_rows(conn, schema.entries, _ENTRY_COLUMNS, rows.encoded[1], shift=shift)
    elif ids:  # a sequence others draw from too (PostgreSQL): each row gets its own
        insert_rows(conn, schema.lines, _LINE_COLUMNS, [(ids[r[0]], *r[1:]) for r in rows.lines])
        insert_rows(conn, schema.entries, _ENTRY_COLUMNS, [(ids[r[0]], *r[1:]) for r in rows.entries])
    return ids


def post(conn: Connection, entries: Sequence[tuple[Entry, int]],
         now: datetime | None = None) -> list[int]:
    """Insert `(entry, part)` pairs; the events they belong to must already be recorded."""
    return insert_postings(conn, posting_rows(conn, entries, now))
