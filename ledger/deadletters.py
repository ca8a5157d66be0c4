"""The dead letters: every event we could not take, with its bytes and the reason in words.

The same bytes rejected twice (a file ingested again) make one row, so a
replay of a whole file changes nothing here either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger import schema


@dataclass(frozen=True, slots=True)
class DeadLetter:
    raw: bytes
    reason: str
    source: str
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    id: int
    raw: bytes
    reason: str
    source: str
    event_id: str | None
    received_at: datetime
    status: str


def record(conn: Connection, letters: Sequence[DeadLetter], now: datetime | None = None) -> None:
    if not letters:
        return
    when = now or datetime.now(timezone.utc)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    rows = [{"raw": d.raw, "raw_sha256": hashlib.sha256(d.raw).hexdigest(), "event_id": d.event_id,
             "reason": d.reason, "source": d.source[:300], "received_at": when, "status": "pending"}
            for d in letters]
    conn.execute(dialect.insert(schema.dead_letters).on_conflict_do_nothing(), rows)


def pending(conn: Connection, include_replayed: bool = False) -> list[StoredDeadLetter]:
    t = schema.dead_letters
    query = select(t).order_by(t.c.id)
    if not include_replayed:
        query = query.where(t.c.status == "pending")
    return [StoredDeadLetter(r.id, r.raw, r.reason, r.source, r.event_id, r.received_at, r.status)
            for r in conn.execute(query)]


def resolve(conn: Connection, letter_id: int, now: datetime | None = None) -> None:
    t = schema.dead_letters
    conn.execute(update(t).where(t.c.id == letter_id)
                 .values(status="replayed", resolved_at=now or datetime.now(timezone.utc)))


def update_reason(conn: Connection, letter_id: int, reason: str) -> None:
    t = schema.dead_letters
    conn.execute(update(t).where(t.c.id == letter_id).values(reason=reason))
