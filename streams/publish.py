"""`cae publish`: the events of a `.jsonl` file onto Kafka, keyed as CONTRACT.md §2 says.

The producer is idempotent with `acks=all`: a retried send is written once,
and a send counts only when every in-sync replica has it. Publishing the
same file twice is harmless downstream (the event id is the idempotency
key), so after an error the whole file can simply be published again.

Only lines that cannot be routed are refused here, because nothing could key
them: not a JSON object, no `type`, a member event without `member_id`, a bank
event without `account`, or over the pipeline's size limit. Everything else is sent, even when the
workers will reject it (a float amount, an unknown member): rejects belong in
the dead-letter store, with their reason, where staff look for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kafka import KafkaProducer
from kafka.errors import KafkaError

from engine.events import BANK_TYPES, GOVERNANCE_TYPES, MAX_EVENT_BYTES
from engine.matching import compact_iban
from engine.messages import Message, Refused
from ledger.storable import storable
from streams.pipeline import Raw
from streams.topics import PRODUCER_MAX_REQUEST, KafkaUnavailable, Topics


@dataclass(frozen=True, slots=True)
class Route:
    topic: str
    key: bytes | None


@dataclass
class Published:
    published: int = 0
    bad: list[tuple[str, Message]] = field(default_factory=list)  # (source, reason)


def route(data: bytes, topics: Topics) -> Route:
    """Where one event goes; `Refused` with the reason, from the catalogue, when it cannot go
    anywhere (its dead letter reads in French on the staff's page, issue 15)."""
    if len(data) > MAX_EVENT_BYTES:
        raise Refused("event.too_big", size=len(data), limit=MAX_EVENT_BYTES)
    try:
        event = json.loads(data)
    except ValueError as exc:  # UnicodeDecodeError included
        raise Refused("event.not_json", detail=storable(str(exc))) from None
    except RecursionError:  # issue 14: a line of 10,000 nested arrays is one bad line, not the end
        raise Refused("event.not_json", detail="nested too deeply") from None
    if not isinstance(event, dict):
        raise Refused("event.not_object")
    kind = event.get("type")
    if not isinstance(kind, str) or not kind:
        raise Refused("route.no_type")
    if kind in GOVERNANCE_TYPES:
        return Route(topics.governance, None)
    if kind in BANK_TYPES:  # CONTRACT.md §5: keyed by the account, in its compact form whatever the spacing
        account = event.get("account")
        if not isinstance(account, str) or not compact_iban(account):
            raise Refused("route.no_account", type=storable(kind), topic=topics.bank)
        return Route(topics.bank, compact_iban(account).encode("utf-8", "surrogatepass"))
    member_id = event.get("member_id")
    if not isinstance(member_id, str) or not member_id:
        raise Refused("route.no_member", type=storable(kind), topic=topics.events)
    # A lone surrogate (`"\udc00"` in the JSON text) has no UTF-8 form: its code units key the
    # line, which the workers then dead-letter with their reason, where staff look for rejects.
    return Route(topics.events, member_id.encode("utf-8", "surrogatepass"))


def producer(bootstrap: str, **overrides: object) -> KafkaProducer:
    settings: dict[str, object] = dict(
        bootstrap_servers=bootstrap, client_id="cae-publish", acks="all", enable_idempotence=True,
        linger_ms=10, batch_size=256 * 1024, max_request_size=PRODUCER_MAX_REQUEST,
        max_in_flight_requests_per_connection=5)
    settings.update(overrides)
    try:
        return KafkaProducer(**settings)
    except KafkaError as exc:
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap}: {exc}") from None


def publish(raws: Iterable[Raw], bootstrap: str, topics: Topics, timeout: float = 120.0,
            progress: Callable[[int], None] | None = None) -> Published:
    """Send every routable event, then wait until Kafka has confirmed them all."""
    result = Published()
    failures: list[str] = []
    sender = producer(bootstrap)
    try:
        for raw in raws:
            try:
                where = route(raw.data, topics)
            except Refused as exc:  # its reason may quote the line: storable as a dead letter
                result.bad.append((raw.source, exc.message))
                continue
            future = sender.send(where.topic, key=where.key, value=raw.data)
            future.add_errback(lambda exc, source=raw.source: failures.append(f"{source}: {exc}"))
            result.published += 1
            if progress:
                progress(1)
        sender.flush(timeout=timeout)
    except KafkaError as exc:
        raise KafkaUnavailable(f"Kafka at {bootstrap} did not take the events: {exc}; "
                               "publishing the file again is safe") from None
    finally:
        sender.close(timeout=10)
    if failures:
        raise KafkaUnavailable(f"{len(failures)} event(s) not confirmed by Kafka (first: {failures[0]}); "
                               "publishing the file again is safe")
    return result
