"""What a worker sends after a batch commits: entries to `cae.postings`, rejects to `cae.deadletter`.

The ledger is the truth; these topics are its feed, delivered at least once.
A posting message is keyed by its event id and carries the entry's part
(its rank among the event's entries) in the `cae-part` header, so a reader
who sees `(event id, part)` twice knows it is the same entry.

At least once, even across a crash: a worker can die after the database
commit and before Kafka has the messages. The batch comes back, the pipeline
says "duplicate" for its events, and `reposted` reads their entries back from
the ledger so they are sent again.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, Row, select

from engine.events import claimed_event_id
from engine.money import from_cents
from engine.postings import Entry, Line
from ledger import schema
from ledger.deadletters import DeadLetter
from streams.pipeline import Outcome, Raw, to_json
from ledger.storable import storable_id
from streams.topics import DEADLETTER_MAX_BYTES, PRODUCER_MAX_REQUEST

# A dead letter with its bytes as text, at most: base64 takes 4/3 of the bytes, so the 2 MiB an
# input topic accepts always fits the 4 MiB of the dead-letter topic that way.
DEADLETTER_TEXT_BYTES = DEADLETTER_MAX_BYTES - 64 * 1024

Message = tuple[bytes | None, bytes, list[tuple[str, bytes]]]  # key, value, headers


def posting_messages(entries: Iterable[Entry]) -> list[Message]:
    """One message per entry; entries of one event come together, in part order."""
    messages: list[Message] = []
    last, part = None, 0
    for entry in entries:
        part = part + 1 if entry.event_id == last else 0
        last = entry.event_id
        messages.append((entry.event_id.encode(), to_json(entry).encode(), [("cae-part", str(part).encode())]))
    return messages


def deadletter_message(letter: DeadLetter, when: datetime | None = None) -> Message:
    """The reject with its original bytes: as text when they are UTF-8, else in base64.

    Also in base64 when the text, escaped as JSON, would not fit the topic: a
    line of control characters grows sixfold (`\u0001`), and a message Kafka
    refuses would be sent again for ever (issue 14: no poison message).
    """
    document: dict[str, object] = {"event_id": letter.event_id, "reason": letter.reason,
                                   "source": letter.source,
                                   "time": (when or datetime.now(timezone.utc)).isoformat()}
    key = letter.event_id.encode() if letter.event_id else None
    try:
        value = json.dumps({**document, "raw": letter.raw.decode("utf-8")}, ensure_ascii=False).encode()
        if len(value) <= DEADLETTER_TEXT_BYTES:
            return key, value, []
    except UnicodeDecodeError:
        pass
    document["raw_base64"] = base64.b64encode(letter.raw).decode("ascii")
    return key, json.dumps(document, ensure_ascii=False).encode(), []


def reposted(engine: Engine, raws: Sequence[Raw], outcome: Outcome) -> list[Entry]:
    """The stored entries of the batch's duplicate events, to send again (see module docstring).

    Only called when the outcome counts duplicates. An event of the batch that
    posted now is in `outcome.entries`; whatever else of the batch has entries
    in the ledger posted them in an earlier delivery (a reject has none, unless
    it reused the id of an event that has: that event's entries go again too).
    """
    fresh = {entry.event_id for entry in outcome.entries}
    claimed = (claimed_event_id(raw.data) for raw in raws)
    # An id that is not storable as it is (a lone surrogate) was never processed: not even asked for.
    ids = sorted({i for i in claimed if i and i not in fresh and storable_id(i) == i})
    if not ids:
        return []
    e, li = schema.entries, schema.lines
    entries: list[Entry] = []
    with engine.connect() as conn:
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                select(e.c.id, e.c.journal, e.c.entry_date, e.c.piece_ref, e.c.piece_date, e.c.label,
                       e.c.event_id, li.c.account, li.c.amount, li.c.member_id, li.c.aux_id, li.c.aux_label)
                .join(li, li.c.entry_id == e.c.id).where(e.c.event_id.in_(ids[start:start + 500]))
                .order_by(e.c.event_id, e.c.part, li.c.id)).all()
            entries.extend(_entries(rows))
    return entries


def _entries(rows: Sequence[Row[Any]]) -> list[Entry]:
    grouped: dict[int, list[Row[Any]]] = {}
    for row in rows:
        grouped.setdefault(row.id, []).append(row)
    return [Entry(head.journal, head.entry_date, head.piece_ref, head.piece_date, head.label,
                  tuple(Line(r.account, from_cents(r.amount), r.member_id, r.aux_id, r.aux_label)
                        for r in lines), head.event_id)
            for head, lines in ((lines[0], lines) for lines in grouped.values())]


class OutputProducer:
    """Sends a batch's outputs as whole record batches, one per partition, and waits for Kafka.

    An aiokafka producer of our own (idempotent, `acks=all`) rather than one
    `send` per message: a batch of 2,000 events makes about 5,000 posting
    messages, and a future per message costs more than the database commit
    they follow. Keys are partitioned with murmur2, like every Kafka client,
    so a posting lands where a Java producer would put it.
    """

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self.bootstrap, self.client_id = bootstrap, client_id
        self._producer: Any = None
        self._partitions: dict[str, list[int]] = {}
        self._starting: asyncio.Lock | None = None  # both agents send: one producer for the two

    async def _ready(self) -> Any:
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            return self._producer or await self._start()

    async def _start(self) -> Any:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap.split(","), client_id=self.client_id, acks="all",
            enable_idempotence=True, max_request_size=PRODUCER_MAX_REQUEST, linger_ms=5,
            max_batch_size=1024 * 1024, request_timeout_ms=30000)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer
        return producer

    async def send(self, outputs: Sequence[tuple[str, Sequence[Message]]]) -> None:
        """Every message of every topic, confirmed by Kafka when this returns."""
        from aiokafka.partitioner import DefaultPartitioner

        producer = await self._ready()
        pending = []
        for topic, messages in outputs:
            if not messages:
                continue
            partitions = self._partitions.get(topic)
            if partitions is None:
                partitions = self._partitions[topic] = sorted(await producer.partitions_for(topic))
            by_partition: dict[int, list[Message]] = defaultdict(list)
            choose = DefaultPartitioner()
            for message in messages:
                by_partition[choose(message[0], partitions, partitions)].append(message)
            for partition, group in by_partition.items():
                batch = producer.create_batch()
                for key, value, headers in group:
                    if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                        pending.append(await producer.send_batch(batch, topic, partition=partition))
                        batch = producer.create_batch()
                        batch.append(key=key, value=value, timestamp=None, headers=headers)
                pending.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*pending)

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
