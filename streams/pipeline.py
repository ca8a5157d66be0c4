"""The one processing function: raw events in, postings and dead letters out, one transaction.

`cae ingest` (a file) and the Kafka workers (a topic) both hand their raw
bytes to `process`; only where the bytes come from differs. A batch commits
whole: the event ids it processed, their entries, the rules' state and its
dead letters go in together, so a crash before the commit leaves nothing and
a redelivery after it finds every id already processed (pyeventsourcing's
tracking-table idea, with the event id as the key).

The batch first takes the locks of what it touches (its members, and the
governance record), and only then reads which of its ids were processed: a
batch delivered twice at once (a Kafka rebalance, two workers overlapping)
waits for the other delivery's commit and then sees its events as
duplicates, never as documents "already issued by another event".

Errors are sorted (`ledger.errors`): a transient one (a connection lost, a
serialisation failure, a full disk) is raised, for the caller to try the batch
again later; any other makes the batch go again one event at a time, so that
the one bad event ends in the dead letters with the database's reason and the
others go through. Nothing blocks a stream for ever: a line that breaks the
reader is a dead letter too, and what is recorded about a line is made
storable (`ledger.storable`) so that recording it cannot fail because of it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from engine import rules as member_rules
from engine.config import ConfigError, Rules
from engine.events import (
    AnyEvent,
    EventError,
    InvoiceIssued,
    PaymentReceived,
    claimed_event_id,
    decode,
    fingerprint,
    is_bank,
    is_governance,
)
from engine.periods import posting_date
from engine.postings import Entry
from engine.messages import Message
from governance.gate import GovernanceRefused, MemberNotYetKnown
from governance.store import load_gate
from ledger import deadletters, schema
from ledger.bank_store import BankBatch
from ledger.book_store import BookRows, Wanted, book_rows, load_book, locked_through, save_rows
from ledger.bulk import Rows, chunks, encode, insert_rows, time_format
from ledger.deadletters import SOURCE_LENGTH, DeadLetter
from ledger.errors import is_transient, one_line, reason
from ledger.kept_book import KeptBook
from ledger.locks import lock_batch
from ledger.posting import PostingRows, insert_postings, posting_rows
from ledger.storable import storable

_PROCESSED_COLUMNS = ("event_id", "fingerprint", "type", "entry_count", "source", "processed_at")
PIPELINE = "pipeline"  # who settles a dead letter whose event came back corrected

log = logging.getLogger(__name__)


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
    # With `wait_for_members`: the governance events from the first one naming a member not
    # yet known, in order, neither processed nor dead-lettered (see `process`).
    held: list[Raw] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)  # source -> "processed" or "duplicate"

    def add(self, other: Outcome) -> None:
        self.processed += other.processed
        self.duplicates += other.duplicates
        self.dead_letters += other.dead_letters
        self.entries += other.entries
        self.held += other.held
        self.statuses.update(other.statuses)


Decoded = tuple[Raw, AnyEvent | None, Message | str | None]


def process(engine: Engine, raws: Sequence[Raw], rules: Rules, *, wait_for_members: bool = False) -> Outcome:
    """Process a batch in order; every event ends processed, duplicate, dead-lettered (or held).

    `wait_for_members`: a governance event naming a member the ledger does not
    know stops the batch there; it and the events after it come back in
    `Outcome.held`, untouched, for the caller to offer again once the members'
    stream has caught up (the governance stream keeps its order). Without it,
    such an event is a dead letter, as it is in a file that names a member
    before the member joined.

    Raises only what is not the events' fault (`ledger.errors.is_transient`:
    an outage, a full disk): nothing is dead-lettered for it, and what was
    committed before it is found as duplicates when the same input comes again.
    """
    return process_decoded(engine, decode_all(raws), rules, wait_for_members=wait_for_members)


def decode_all(raws: Sequence[Raw]) -> list[Decoded]:
    today = datetime.now(timezone.utc).date()  # where the window of event dates ends (engine.bounds)
    return [_decode(raw, today) for raw in raws]


def process_decoded(engine: Engine, decoded: list[Decoded], rules: Rules, *, wait_for_members: bool = False,
                    kept: KeptBook | None = None, on: Connection | None = None) -> Outcome:
    """`process`, the batch already decoded.

    `kept` and `on`: the book of the caller's earlier batches (`ledger.kept_book`)
    and the connection they were written on, for a caller that processes batch
    after batch (a file's ingest, `streams.overlapped`).
    """
    try:
        with _transaction(engine, on) as conn:
            if kept is not None:
                kept.check(conn)
            prepared = prepare(conn, decoded, rules, wait_for_members, kept)
            write(conn, prepared)
        if kept is not None:
            kept.committed(bank=prepared.bank.wrote)
        return prepared.outcome
    except Exception as exc:
        if kept is not None:
            kept.drop()  # what the batch did to it is not in the ledger
        if is_transient(exc):
            raise
        log.warning("batch of %d refused by the database (%s); retrying event by event",
                    len(decoded), reason(exc))
    outcome = Outcome()
    for at, item in enumerate(decoded):
        try:
            with _transaction(engine, on) as conn:
                one = prepare(conn, [item], rules, wait_for_members)
                write(conn, one)
        except Exception as exc:
            if is_transient(exc):
                raise  # what went through is committed: a retry finds it as duplicates
            outcome.dead_letters.append(_refused(engine, item[0], exc))
            continue
        outcome.add(one.outcome)
        if one.outcome.held:
            outcome.held += [raw for raw, _, _ in decoded[at + 1:]]
            break
    return outcome


@contextmanager
def _transaction(engine: Engine, on: Connection | None) -> Iterator[Connection]:
    """A transaction on the caller's connection, or on one of the engine's."""
    if on is None:
        with engine.begin() as conn:
            yield conn
    else:
        with on.begin():
            yield on


def _decode(raw: Raw, today: date) -> Decoded:
    """The event, or why not: whatever reading the bytes raises is that line's reason, never the batch's."""
    try:
        return raw, decode(raw.data, today), None
    except EventError as exc:
        return raw, None, exc.message
    except Exception as exc:  # noqa: BLE001 — a line that breaks the reader (issue 14: no poison message)
        log.warning("event %s could not be read: %s", raw.source, one_line(exc),
                    exc_info=log.isEnabledFor(logging.DEBUG))
        return raw, None, Message.of("event.unreadable", detail=one_line(exc))


def _refused(engine: Engine, raw: Raw, exc: Exception) -> DeadLetter:
    """The dead letter of an event the ledger refused alone, recorded in a transaction of its own.

    If even the letter cannot be recorded (a refusal the database keeps for it),
    it is still the outcome's, which the caller reports (the ingest's summary,
    the API's answer, the worker's `cae.deadletter`): the line stops nothing.
    """
    log.warning("event %s refused by the ledger: %s", raw.source, one_line(exc),
                exc_info=log.isEnabledFor(logging.DEBUG))
    letter = DeadLetter.of(raw.data, Message.of("ledger.refused", detail=reason(exc)), raw.source,
                           claimed_event_id(raw.data))
    try:
        with engine.begin() as conn:
            deadletters.record(conn, [letter])
    except Exception as again:
        if is_transient(again):
            raise
        log.error("the dead letter of %s could not be recorded either: %s", raw.source, one_line(again))
        return DeadLetter(raw.data, f"{letter.reason}; not recorded in the ledger: {reason(again)}",
                          letter.source, letter.event_id)
    return letter


@dataclass
class Prepared:
    """A batch decided: its outcome and the rows that record it, not written yet."""

    outcome: Outcome
    processed: list[tuple[Any, ...]]
    processed_rows: Rows  # the same, as the driver takes them
    book: BookRows
    bank: BankBatch
    governance: list[dict[str, Any]]
    postings: PostingRows
    now: datetime

    @property
    def fingerprints(self) -> dict[str, str]:
        """The batch's processed event ids, for the batch decided while this one is written."""
        return {row[0]: row[1] for row in self.processed}


def prepare(conn: Connection, decoded: list[Decoded], rules: Rules, wait_for_members: bool,
            kept: KeptBook | None = None, written: Mapping[str, str] | None = None) -> Prepared:
    """Decide a batch: read what it needs through `conn`, apply the rules, build the rows.

    `written`: the event ids and fingerprints of a batch being written meanwhile, which
    `conn` does not see yet (`streams.overlapped`).
    """
    outcome = Outcome()
    events = [e for _, e, _ in decoded if e is not None]
    member_events = [e for e in events if not is_governance(e)]
    lock_batch(conn, {e.get("member_id") for e in member_events} - {None},
               governance=len(member_events) < len(events), bank=any(is_bank(e) for e in events))
    ids = {e.event_id for e in events}
    seen = _known_fingerprints(conn, ids)
    if written:
        seen.update((x, written[x]) for x in ids & written.keys())
    lock = locked_through(conn)
    wanted = _wanted(member_events, lock)
    book = load_book(conn, wanted, lock) if kept is None else kept.load(conn, wanted, lock)
    gate = load_gate(conn, [e for e in events if is_governance(e)], book.members)
    bank = BankBatch(conn, book, rules)
    bank.expect_payments([e for e in member_events if isinstance(e, PaymentReceived)])
    processed: list[tuple[Any, ...]] = []
    governance: list[dict[str, Any]] = []
    postings: list[tuple[Entry, int]] = []
    now = datetime.now(timezone.utc)
    processed_at = time_format(conn)(now)
    for at, (raw, event, error) in enumerate(decoded):
        if event is None:
            outcome.dead_letters.append(DeadLetter.of(raw.data, error or "invalid event", raw.source,
                                                      claimed_event_id(raw.data)))
            continue
        print_ = fingerprint(event)
        earlier = seen.get(event.event_id)
        if earlier is not None:
            if earlier == print_:
                outcome.duplicates += 1
                outcome.statuses[raw.source] = "duplicate"
            else:
                outcome.dead_letters.append(DeadLetter.of(
                    raw.data, Message.of("event.already_processed", event=event.event_id), raw.source,
                    event.event_id))
            continue
        entries: list[Entry] = []
        if is_governance(event):
            try:
                gate.admit(event)
            except MemberNotYetKnown as exc:
                if wait_for_members:
                    outcome.held = [item[0] for item in decoded[at:]]
                    break
                outcome.dead_letters.append(DeadLetter.of(raw.data, exc, raw.source, event.event_id))
                continue
            except GovernanceRefused as exc:
                outcome.dead_letters.append(DeadLetter.of(raw.data, exc, raw.source, event.event_id))
                continue
            governance.append({"event_id": event.event_id, "type": event.type,
                               "payload": event.model_dump_json()})
        else:
            try:
                if is_bank(event):
                    entries = bank.apply(event)
                elif not (isinstance(event, PaymentReceived) and bank.payment(event)):  # else a line's money
                    entries = member_rules.apply(book, event, rules)
            except (member_rules.RuleError, ConfigError) as exc:
                outcome.dead_letters.append(DeadLetter.of(raw.data, exc, raw.source, event.event_id))
                continue
        seen[event.event_id] = print_
        processed.append((event.event_id, print_, event.type, len(entries),
                          storable(raw.source, SOURCE_LENGTH), processed_at))
        postings.extend((entry, part) for part, entry in enumerate(entries))
        outcome.entries.extend(entries)
        outcome.processed += 1
        outcome.statuses[raw.source] = "processed"
    return Prepared(outcome, processed, encode(conn, processed), book_rows(conn, book), bank, governance,
                    posting_rows(conn, postings, now), now)


def write(conn: Connection, batch: Prepared) -> None:
    """Record a decided batch in the caller's transaction: its events first, then what they did."""
    insert_rows(conn, schema.processed_events, _PROCESSED_COLUMNS, batch.processed_rows)
    save_rows(conn, batch.book)
    batch.bank.save(conn)
    if batch.governance:
        conn.execute(insert(schema.governance_events), batch.governance)
    insert_postings(conn, batch.postings)
    if batch.processed:
        deadletters.settle_corrected(conn, [row[0] for row in batch.processed], PIPELINE, batch.now)
    deadletters.record(conn, batch.outcome.dead_letters, batch.now)


def _known_fingerprints(conn: Connection, event_ids: set[str]) -> dict[str, str]:
    p = schema.processed_events
    found: dict[str, str] = {}
    for chunk in chunks(sorted(event_ids), 900):
        found.update(conn.execute(select(p.c.event_id, p.c.fingerprint)
                                  .where(p.c.event_id.in_(chunk))).tuples().all())
    return found


def _wanted(events: list[AnyEvent], lock: str | None) -> Wanted:
    """What the batch's member events will read: members, invoices, member-years, documents."""
    wanted, issued = Wanted(), dict[str, tuple[str, str]]()
    for event in events:
        member_id, invoice_id = member_rules.needs(event)
        if member_id:
            wanted.members.add(member_id)
            day = member_rules.document_date(event)
            if day is not None:
                wanted.member_years.add((member_id, posting_date(day, lock).year))
        if invoice_id:
            wanted.invoices.add(invoice_id)
        if event.type == "member.became_associate" and member_id:
            wanted.associating.add(member_id)
        if event.get("from_credit") and invoice_id:
            wanted.from_credit.add(invoice_id)
        if isinstance(event, InvoiceIssued):
            issued[event.invoice_id] = (event.member_id, event.client)
        for kind in ("credit_note", "payment", "expense"):
            doc_id = event.get(f"{kind}_id")
            if doc_id:
                wanted.documents.add((kind, doc_id))
    # A payment from credit for an invoice of the batch: the ledger cannot name its client yet.
    wanted.clients.update(issued[x] for x in wanted.from_credit if x in issued)
    return wanted


def to_json(entry: Entry) -> str:
    """An entry as the JSON message of `cae.postings`."""
    return json.dumps({
        "event_id": entry.event_id, "journal": entry.journal, "date": entry.date.isoformat(),
        "piece_ref": entry.piece_ref, "piece_date": entry.piece_date.isoformat(),
        "label": entry.label,
        "lines": [{"account": line.account, "debit": str(line.debit), "credit": str(line.credit),
                   "member_id": line.member_id, "aux_id": line.aux_id} for line in entry.lines],
    }, ensure_ascii=False)
