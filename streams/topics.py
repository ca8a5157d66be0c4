"""The Kafka topics of CONTRACT.md §2, where they live, and how the project creates them.

Inputs: `cae.events` (several partitions, keyed by `member_id`, so a member's
events stay ordered), `cae.governance` (one partition: one order for every
governance event) and `cae.bank` (CONTRACT.md §5: several partitions, keyed by
the account's IBAN, so an account's statements and the staff's assignments of
its lines stay in the bank's order). Outputs: `cae.postings` and `cae.deadletter`.

A prefix (`--topic-prefix`, `$CAE_KAFKA_TOPIC_PREFIX`) puts a whole set of
topics beside another on one cluster (a staging copy, each test its own); the
names after the prefix are always the contract's.

Message sizes: the pipeline refuses an event over 64 KiB with a reason, but it
can only do so if the message reaches it. The input topics accept up to
2 MiB, so that a runaway producer's 1 MB of garbage lands in the dead letters
instead of being lost in a producer's error log; the dead-letter topic takes
4 MiB, room for such bytes in base64 inside a JSON message. Anything bigger is
refused by the broker, at the producer, which sees the error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kafka-python is imported when used: `cae statement` need not load it
    from kafka.admin import KafkaAdminClient

DEFAULT_BOOTSTRAP = "localhost:9092"
DEFAULT_GROUP = "cae-ledger"
DEFAULT_PARTITIONS = 6
# Most events a worker puts in one transaction. Throughput is the same from 500 to 2,000
# (bench/stream.py: 2,100–2,500 events/s at each), and a batch's commit latency grows with
# it (p95 0.5–0.6 s at 500, 1.0 s at 1,000, 1.7–2.0 s at 2,000): the smallest of these.
DEFAULT_WORKER_BATCH = 500
INPUT_MAX_BYTES = 2 * 1024 * 1024
DEADLETTER_MAX_BYTES = 4 * 1024 * 1024
#: what our producers may send in one request: a dead letter at the topic's limit
PRODUCER_MAX_REQUEST = DEADLETTER_MAX_BYTES + 64 * 1024


class KafkaUnavailable(RuntimeError):
    """The cluster cannot be reached or refused an administrative request; the message says which."""


def bootstrap_servers(value: str | None = None) -> str:
    """`--bootstrap`, else `$CAE_KAFKA_BOOTSTRAP`, else localhost:9092 (CONTRACT.md §2)."""
    return value or os.environ.get("CAE_KAFKA_BOOTSTRAP") or DEFAULT_BOOTSTRAP


def group_id(value: str | None = None) -> str:
    return value or os.environ.get("CAE_KAFKA_GROUP") or DEFAULT_GROUP


@dataclass(frozen=True, slots=True)
class Topics:
    events: str = "cae.events"
    governance: str = "cae.governance"
    postings: str = "cae.postings"
    deadletter: str = "cae.deadletter"
    bank: str = "cae.bank"

    @classmethod
    def named(cls, prefix: str | None = None) -> Topics:
        """The contract's names behind `prefix` (`--topic-prefix`, else `$CAE_KAFKA_TOPIC_PREFIX`)."""
        p = prefix if prefix is not None else os.environ.get("CAE_KAFKA_TOPIC_PREFIX", "")
        base = cls()
        return cls(p + base.events, p + base.governance, p + base.postings, p + base.deadletter, p + base.bank)

    @property
    def inputs(self) -> tuple[str, str, str]:
        return (self.events, self.governance, self.bank)

    @property
    def all(self) -> tuple[str, str, str, str, str]:
        return (self.events, self.governance, self.bank, self.postings, self.deadletter)


def admin_client(bootstrap: str) -> KafkaAdminClient:
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="cae-admin",
                                request_timeout_ms=15000, bootstrap_timeout_ms=10000)
    except KafkaError as exc:
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap}: {exc}") from None


def ensure_topics(bootstrap: str, topics: Topics, partitions: int = DEFAULT_PARTITIONS) -> dict[str, int]:
    """Create the missing topics; return every topic's partition count.

    Existing topics are left as they are (Kafka cannot take partitions away,
    and adding some would move members to other partitions), except that
    `cae.governance` must have exactly one partition: its order is the
    order of the governance events, so any other count is an error.
    """
    wanted: dict[str, dict[str, object]] = {
        topics.events: _spec(partitions, INPUT_MAX_BYTES),
        topics.governance: _spec(1, INPUT_MAX_BYTES),
        topics.bank: _spec(partitions, INPUT_MAX_BYTES),
        topics.postings: _spec(partitions, None),
        topics.deadletter: _spec(1, DEADLETTER_MAX_BYTES),
    }
    from kafka.errors import KafkaError

    admin = admin_client(bootstrap)
    try:
        counts = _partition_counts(admin, list(wanted))
        missing = {name: spec for name, spec in wanted.items() if name not in counts}
        if missing:
            result = admin.create_topics(missing, raise_errors=False, wait_for_metadata=True)
            for topic in result["topics"]:
                if topic["error_code"] not in (0, 36):  # 36: created meanwhile by another worker
                    raise KafkaUnavailable(f"cannot create topic {topic['name']}: {topic['error_message']}")
            counts = _partition_counts(admin, list(wanted))
    except KafkaError as exc:
        raise KafkaUnavailable(f"Kafka at {bootstrap} refused to set up the topics: {exc}") from None
    finally:
        admin.close()
    if counts.get(topics.governance) != 1:
        raise KafkaUnavailable(f"topic {topics.governance} has {counts.get(topics.governance)} partitions; "
                               "it must have exactly 1 (it keeps the governance events in order)")
    return counts


def _spec(partitions: int, max_bytes: int | None) -> dict[str, object]:
    configs = {"max.message.bytes": str(max_bytes)} if max_bytes else {}
    return {"num_partitions": partitions, "replication_factor": -1, "configs": configs}


def _partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)
            if t["error_code"] == 0}
