"""How far the workers are: consumer lag per partition, dead letters pending, last entry posted.

Lag is asked of the broker, not of a worker: the group's committed offset
against the partition's end. A partition the group never committed on counts
from its first offset still kept. The same reading serves `cae status`, the
worker's periodic log line, and `--stop-when-idle`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kafka import TopicPartition
from kafka.admin import KafkaAdminClient, OffsetSpec
from kafka.errors import KafkaError
from sqlalchemy import Engine, func, select

from ledger import schema
from ledger.bulk import iso_utc
from streams.topics import KafkaUnavailable
from engine.wording import term


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here
    end: int
    lag: int


def group_lag(admin: KafkaAdminClient, group: str, topics: tuple[str, ...]) -> list[PartitionLag]:
    """Every partition of `topics`, with the group's position and what is left to consume."""
    try:
        described = admin.describe_topics(list(topics))
        tps = [TopicPartition(t["name"], p["partition_index"]) for t in described if t["error_code"] == 0
               for p in t["partitions"]]
        if not tps:
            return []
        committed = admin.list_group_offsets({group: tps}).get(group, {})
        ends = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in tps})
        starts = admin.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in tps})
    except KafkaError as exc:
        raise KafkaUnavailable(f"cannot read the lag of group {term(group)}: {exc}") from None
    lags = []
    for tp in sorted(tps):
        mark = committed.get(tp)
        position = mark.offset if mark is not None and mark.offset >= 0 else None
        end = ends[tp].offset
        lags.append(PartitionLag(tp.topic, tp.partition, position, end,
                                 max(0, end - (position if position is not None else starts[tp].offset))))
    return lags


def lag_line(lags: list[PartitionLag]) -> str:
    """`cae.events: 0=0 1=12 …; cae.governance: 0=0` for a log line."""
    by_topic: dict[str, list[str]] = {}
    for lag in lags:
        by_topic.setdefault(lag.topic, []).append(f"{lag.partition}={lag.lag}")
    return "; ".join(f"{topic}: {' '.join(parts)}" for topic, parts in by_topic.items()) or "no partitions"


def ledger_status(engine: Engine) -> dict[str, Any]:
    """Dead letters pending, events processed, and the last entry posted (by id: the posting order)."""
    d, p, e = schema.dead_letters, schema.processed_events, schema.entries
    with engine.connect() as conn:
        pending = conn.scalar(select(func.count()).select_from(d).where(d.c.status == "pending"))
        processed = conn.scalar(select(func.count()).select_from(p))
        last = conn.execute(select(e.c.id, e.c.journal, e.c.entry_date, e.c.piece_ref, e.c.event_id,
                                   e.c.posted_at).order_by(e.c.id.desc()).limit(1)).first()
    return {
        "dead_letters_pending": int(pending or 0),
        "events_processed": int(processed or 0),
        "last_entry": None if last is None else {
            "id": last.id, "journal": last.journal, "date": last.entry_date.isoformat(),
            "piece_ref": last.piece_ref, "event_id": last.event_id,
            "posted_at": iso_utc(last.posted_at)},
    }


def lag_document(lags: list[PartitionLag]) -> dict[str, Any]:
    return {"configured": True, "partitions": [asdict(lag) for lag in lags],
            "total_lag": sum(lag.lag for lag in lags)}
