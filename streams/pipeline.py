"""The one processing function: raw events in, postings and dead letters out, one transaction.

`cae ingest` (a file) and the Kafka workers (a topic) both hand their raw
bytes to `process`; only where the bytes come from differs. A batch commits
whole: the event ids it processed, their entries, the rules' state and its
dead letters go in together, so a crash before the commit leaves nothing and
a redelivery after it finds every id already processed (pyeventsourcing's
tracking-table idea, with the event id as the key).

If the database refuses a batch (a concurrent writer, an invariant we did not
foresee), the batch is retried one event at a time, so the one bad event ends
in the dead letters with the database's reason and the others go through.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError, InternalError

from engine import rules as member_rules
from engine.config import ConfigError, Rules
from engine.events import AnyEvent, EventError, decode, fingerprint, is_governance
from engine.postings import Entry
from governance.gate import GovernanceRefused
from governance.store import load_gate
from ledger import deadletters, schema
from engine.state import Book
from ledger.book_store import Loaded, load_book, locked_through, save_book
from ledger.deadletters import DeadLetter
from ledger.bulk import insert_rows, time_format
from ledger.posting import post

_PROCESSED_COLUMNS = ("event_id", "fingerprint", "type", "entry_count", "source", "processed_at")

log = logging.getLogger(__name__)

# How each backend says "an invariant refused this": SQLite's RAISE(ABORT) is a
# constraint error; PostgreSQL's RAISE EXCEPTION is psycopg's RaiseException (a
# ProgrammingError), bare when it comes from COPY, wrapped by SQLAlchemy otherwise.
REFUSED = (IntegrityError, InternalError)
_PG_REFUSED = (psycopg.IntegrityError, psycopg.errors.RaiseException)


def _refused(exc: Exception) -> bool:
    return isinstance(exc, REFUSED) or isinstance(getattr(exc, "orig", exc), _PG_REFUSED)


@dataclass(frozen=True, slots=True)
class Raw:
    """One event's bytes and where they came from (`file.jsonl:12`, `cae.events/3@1042`)."""

    data: bytes
    source: str


@dataclass
class Outcome:
    processed: int = 0
    duplicates: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.processed += other.processed
        self.duplicates += other.duplicates
        self.dead_letters += other.dead_letters
        self.entries += other.entries


def process(engine: Engine, raws: Sequence[Raw], rules: Rules) -> Outcome:
    """Process a batch in order; every event ends processed, duplicate or dead-lettered."""
    decoded: list[tuple[Raw, AnyEvent | None, str | None]] = []
    for raw in raws:
        try:
            decoded.append((raw, decode(raw.data), None))
        except EventError as exc:
            decoded.append((raw, None, str(exc)))
    try:
        with engine.begin() as conn:
            return _process(conn, decoded, rules)
    except Exception as exc:
        if not _refused(exc):
            raise
        log.warning("batch of %d refused by the database (%s); retrying event by event",
                    len(raws), str(getattr(exc, "orig", exc)).splitlines()[0])
    outcome = Outcome()
    for item in decoded:
        try:
            with engine.begin() as conn:
                outcome.add(_process(conn, [item], rules))
        except Exception as exc:
            if not _refused(exc):
                raise
            reason = f"refused by the ledger: {str(getattr(exc, 'orig', exc)).splitlines()[0]}"
            with engine.begin() as conn:
                letter = DeadLetter(item[0].data, reason, item[0].source, _event_id(item[1]))
                deadletters.record(conn, [letter])
            outcome.dead_letters.append(letter)
    return outcome


def _event_id(event: AnyEvent | None) -> str | None:
    return event.event_id if event is not None else None


def _process(conn: Connection, decoded: list[tuple[Raw, AnyEvent | None, str | None]],
             rules: Rules) -> Outcome:
    outcome = Outcome()
    events = [e for _, e, _ in decoded if e is not None]
    seen = _known_fingerprints(conn, {e.event_id for e in events})
    lock = locked_through(conn)
    book, loaded = _load(conn, events, lock, rules.tiered)
    gate = load_gate(conn, [e for e in events if is_governance(e)], book.members)
    processed: list[tuple[Any, ...]] = []
    governance: list[dict[str, Any]] = []
    postings: list[tuple[Entry, int]] = []
    now = datetime.now(timezone.utc)
    processed_at = time_format(conn)(now)
    for raw, event, error in decoded:
        if event is None:
            outcome.dead_letters.append(DeadLetter(raw.data, error or "invalid event", raw.source))
            continue
        print_ = fingerprint(event)
        earlier = seen.get(event.event_id)
        if earlier is not None:
            if earlier == print_:
                outcome.duplicates += 1
            else:
                outcome.dead_letters.append(DeadLetter(
                    raw.data, f"event id {event.event_id!r} was already processed with different content",
                    raw.source, event.event_id))
            continue
        entries: list[Entry] = []
        if is_governance(event):
            try:
                gate.admit(event)
            except GovernanceRefused as exc:
                outcome.dead_letters.append(DeadLetter(raw.data, str(exc), raw.source, event.event_id))
                continue
            governance.append({"event_id": event.event_id, "type": event.type,
                               "payload": event.model_dump_json()})
        else:
            try:
                entries = member_rules.apply(book, event, rules)
            except (member_rules.RuleError, ConfigError) as exc:
                outcome.dead_letters.append(DeadLetter(raw.data, str(exc), raw.source, event.event_id))
                continue
        seen[event.event_id] = print_
        processed.append((event.event_id, print_, event.type, len(entries),
                          raw.source[:300], processed_at))
        postings.extend((entry, part) for part, entry in enumerate(entries))
        outcome.entries.extend(entries)
        outcome.processed += 1
    insert_rows(conn, schema.processed_events, _PROCESSED_COLUMNS, processed)
    save_book(conn, book, loaded)
    if governance:
        conn.execute(insert(schema.governance_events), governance)
    post(conn, postings, now)
    deadletters.record(conn, outcome.dead_letters, now)
    return outcome


def _known_fingerprints(conn: Connection, event_ids: set[str]) -> dict[str, str]:
    p = schema.processed_events
    found: dict[str, str] = {}
    ids = sorted(event_ids)
    for i in range(0, len(ids), 900):
        found.update(conn.execute(select(p.c.event_id, p.c.fingerprint)
                                  .where(p.c.event_id.in_(ids[i:i + 900]))).tuples().all())
    return found


def _load(conn: Connection, events: list[AnyEvent], lock: str | None,
          whole_years: bool) -> tuple[Book, Loaded]:
    members: set[str] = set()
    invoices: set[str] = set()
    bases: set[tuple[str, str]] = set()
    documents: set[tuple[str, str]] = set()
    associating: set[str] = set()
    for event in events:
        if is_governance(event):
            continue
        if event.type == "member.became_associate":
            associating.add(event.get("member_id"))
        member_id, invoice_id, month = member_rules.needs(event, lock)
        if member_id:
            members.add(member_id)
            if month:
                bases.add((member_id, month))
        if invoice_id:
            invoices.add(invoice_id)
        for kind in ("credit_note", "payment", "expense"):
            doc_id = event.get(f"{kind}_id")
            if doc_id:
                documents.add((kind, doc_id))
    return load_book(conn, members, invoices, bases, documents, lock, whole_years, associating)


def to_json(entry: Entry) -> str:
    """An entry as the JSON message of `cae.postings`."""
    return json.dumps({
        "event_id": entry.event_id, "journal": entry.journal, "date": entry.date.isoformat(),
        "piece_ref": entry.piece_ref, "piece_date": entry.piece_date.isoformat(),
        "label": entry.label,
        "lines": [{"account": line.account, "debit": str(line.debit), "credit": str(line.credit),
                   "member_id": line.member_id, "aux_id": line.aux_id} for line in entry.lines],
    }, ensure_ascii=False)
