"""The dead letters: every event we could not take, with its bytes, the reason in words, and its history.

The same bytes rejected twice (a file ingested again) make one row, so a
replay of a whole file changes nothing here either. A letter is `pending`
until it is settled: `replayed` (processed on a replay, or because its event
id came back corrected and valid) or `dismissed` by someone, with a reason.
Its first reason is never overwritten; each later attempt, and who settled it
and why, is a row of `dead_letter_history` (issue 8).

A dead letter is made storable when it is made (`ledger.storable`, issue 14):
its id, reason and source come from the line it refuses, and recording it must
never fail because of that line, or the line would stop everything behind it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Connection, func, insert, select, update

from engine.messages import Language, Message, Refused
from ledger import schema
from ledger.bulk import chunks, insert_new
from ledger.storable import storable, storable_id

PENDING, REPLAYED, DISMISSED = "pending", "replayed", "dismissed"
SOURCE_LENGTH = 300
REASON_LENGTH = 1000  # a reason is one line a person reads: one quoting a huge value is cut


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A refused line: its bytes as they came; its reason, source and claimed id made storable.

    `message` is the reason as the catalogue's code and parameters (`engine.messages`) when the
    refusal carries one: the staff's pages say it in French, the CLI and API read `reason`, its
    English text (issue 15).
    """

    raw: bytes
    reason: str
    source: str
    event_id: str | None = None
    message: Message | None = None

    @classmethod
    def of(cls, raw: bytes, why: Message | BaseException | str, source: str, event_id: str | None) -> DeadLetter:
        """The letter of a line refused for `why`: a message, an error that may carry one, or words."""
        found = why if isinstance(why, Message) else getattr(why, "message", None)
        message = found if isinstance(found, Message) else None
        return cls(raw, message.text("en") if message else str(why), source, event_id, message)

    def __post_init__(self) -> None:
        reason = storable(self.reason)
        if len(reason) > REASON_LENGTH:
            reason = reason[:REASON_LENGTH - 1] + "…"
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "source", storable(self.source, SOURCE_LENGTH))
        object.__setattr__(self, "event_id", storable_id(self.event_id))


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    action: str  # retried, replayed, dismissed
    reason: str
    by: str
    message: Message | None = None  # a retry's refusal as the catalogue's code, since revision 0013

    def reason_in(self, language: Language) -> str:
        return self.message.text(language) if self.message else self.reason


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    id: int
    raw: bytes
    reason: str  # the first one, why it was refused
    source: str
    event_id: str | None
    received_at: datetime
    status: str
    history: tuple[Attempt, ...] = ()
    message: Message | None = None  # the first reason's code and parameters; None for an older letter

    def reason_in(self, language: Language) -> str:
        """Why it is still pending, in `language` when its reason has a code (a letter or a retry
        recorded before the codes reads in the English it was recorded in)."""
        retried = [a for a in self.history if a.action == "retried"]
        if retried:
            return retried[-1].reason_in(language)
        return self.message.text(language) if self.message else self.reason

    @property
    def latest_reason(self) -> str:
        """Why it is still pending: the last attempt's reason, else the first."""
        retried = [a.reason for a in self.history if a.action == "retried"]
        return retried[-1] if retried else self.reason


class NotPending(Refused):
    """A dead letter that cannot be dismissed: none such, already settled, or no reason given."""


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def record(conn: Connection, letters: Sequence[DeadLetter], now: datetime | None = None) -> None:
    if not letters:
        return
    when = _now(now)
    rows = [{"raw": d.raw, "raw_sha256": hashlib.sha256(d.raw).hexdigest(), "event_id": d.event_id,
             "reason": d.reason, "reason_code": _code(d.message), "source": d.source,
             "received_at": when, "status": PENDING}
            for d in letters]
    insert_new(conn, schema.dead_letters, rows)


def listed(conn: Connection, include_settled: bool = False,
           ids: Iterable[int] | None = None) -> list[StoredDeadLetter]:
    """The pending dead letters (or all of them), oldest first, each with its history."""
    t, h = schema.dead_letters, schema.dead_letter_history
    query = select(t).order_by(t.c.id)
    if not include_settled:
        query = query.where(t.c.status == PENDING)
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    rows = conn.execute(query).all()
    history: dict[int, list[Attempt]] = {}
    for chunk in chunks([r.id for r in rows]):
        for a in conn.execute(select(h).where(h.c.letter_id.in_(chunk)).order_by(h.c.id)):
            history.setdefault(a.letter_id, []).append(Attempt(a.at, a.action, a.reason, a.by,
                                                               _message(a.reason_code)))
    return [StoredDeadLetter(r.id, r.raw, r.reason, r.source, r.event_id, r.received_at, r.status,
                             tuple(history.get(r.id, ())), _message(r.reason_code)) for r in rows]


def _code(message: Message | None) -> str | None:
    return json.dumps(message.to_json()) if message else None


def _message(found: str | None) -> Message | None:
    """A letter's message as recorded; None if its code has left the catalogue (codes are never
    removed, but a letter must never fail to show: its English reason then stands)."""
    try:
        return Message.from_json(json.loads(found)) if found else None
    except (KeyError, TypeError, ValueError):
        return None


def _settle(conn: Connection, letter_ids: Sequence[int], status: str, reason: str, by: str,
            now: datetime | None) -> None:
    """Settle those of the letters still pending, and say so in their history."""
    when = _now(now)
    t = schema.dead_letters
    pending = list(conn.scalars(select(t.c.id).where(t.c.id.in_(list(letter_ids)), t.c.status == PENDING)))
    if not pending:
        return
    conn.execute(update(t).where(t.c.id.in_(pending)).values(status=status, resolved_at=when))
    conn.execute(insert(schema.dead_letter_history), [
        {"letter_id": i, "at": when, "action": status, "reason": storable(reason), "by": storable(by, 200)}
        for i in pending])


def retried(conn: Connection, letter_id: int, refusal: DeadLetter, by: str, now: datetime | None = None) -> None:
    """A replay refused again: the new reason (and its code) joins the history, the letter stays pending."""
    conn.execute(insert(schema.dead_letter_history), {
        "letter_id": letter_id, "at": _now(now), "action": "retried", "reason": refusal.reason,
        "reason_code": _code(refusal.message), "by": storable(by, 200)})


def replayed(conn: Connection, letter_id: int, by: str, now: datetime | None = None) -> None:
    _settle(conn, [letter_id], REPLAYED, "processed on replay", by, now)


def dismiss(conn: Connection, letter_id: int, reason: str, by: str, now: datetime | None = None) -> None:
    """Mark a pending letter as handled without processing it (recorded with who, when and why)."""
    reason = " ".join(reason.split())
    if not reason:
        raise NotPending("deadletter.no_reason")
    t = schema.dead_letters
    status = conn.scalar(select(t.c.status).where(t.c.id == letter_id))
    if status is None:
        raise NotPending("deadletter.none", letter=letter_id)
    if status != PENDING:
        raise NotPending("deadletter.settled" if status == REPLAYED else "deadletter.dismissed", letter=letter_id)
    _settle(conn, [letter_id], DISMISSED, reason, by, now)


def settle_corrected(conn: Connection, event_ids: Sequence[str], by: str, now: datetime | None = None) -> int:
    """Pending letters of these event ids, now processed: their corrected event settled them."""
    t = schema.dead_letters
    found: list[int] = []
    for chunk in chunks(sorted(event_ids)):
        found += conn.scalars(select(t.c.id).where(t.c.status == PENDING, t.c.event_id.in_(chunk)))
    if found:
        _settle(conn, found, REPLAYED, "the same event id was processed since, corrected", by, now)
    return len(found)


def pending_count(conn: Connection) -> int:
    t = schema.dead_letters
    return int(conn.scalar(select(func.count()).select_from(t).where(t.c.status == PENDING)) or 0)
