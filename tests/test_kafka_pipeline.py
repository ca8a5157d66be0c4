"""The engine on a real Kafka: `cae publish`, `cae worker`, `cae status`, poison messages.

Every test that takes `kafka` runs against the broker of `tests.kafka_fixtures`
(deploy/kafka/kafka.sh), with topics and a consumer group of its own; the last
two check the worker's output messages without a broker.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy import Engine

from engine.config import Rules
from ledger.deadletters import DeadLetter
from streams.outputs import deadletter_message, posting_messages, reposted
from streams.pipeline import Raw, process
from streams.publish import route
from streams.topics import Topics
from tests.conftest import ROOT, SHARED
from tests.ops_support import BASE_RATES
from tests.kafka_fixtures import CAE, LocalKafka, WorkerProcess, cae, kafka_env, write_events

pytest_plugins = ["tests.kafka_fixtures"]

OCTOBER = SHARED / "scenarios/october"
FAST = ("--stop-when-idle", "2", "--session-timeout", "6", "--within", "0.2")


def _read_topic(kafka: LocalKafka, topic: str, expected: int,
                idle_ms: int = 10000) -> list[tuple[bytes | None, bytes, dict[str, bytes]]]:
    """A topic from its start, until `expected` messages or `idle_ms` without one."""
    consumer = KafkaConsumer(topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, consumer_timeout_ms=idle_ms,
                             fetch_max_bytes=8 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024)
    messages = []
    try:
        for record in consumer:
            messages.append((record.key, record.value, dict(record.headers or [])))
            if len(messages) >= expected:
                break
    finally:
        consumer.close()
    return messages


def test_october_through_kafka_gives_the_expected_statements(db_url: str, kafka: LocalKafka,
                                                             topic_prefix: str, tmp_path: Path) -> None:
    env = kafka_env(kafka, topic_prefix, group=f"oct-{topic_prefix}")
    published = cae("publish", str(OCTOBER / "events.jsonl"), env=env)
    # 17 events sent; the line that is not JSON cannot be keyed: reported, not sent.
    assert published["published"] == 17
    assert [b["source"] for b in published["bad_lines"]] == ["events.jsonl:18"]

    worker = WorkerProcess(env, db_url, tmp_path / "worker.log", *FAST)
    summary = worker.result()
    assert (summary["processed"], summary["duplicates"], summary["dead_letters"]) == (13, 1, 3)
    assert summary["stopped_when_idle"] is True

    expected = json.loads((OCTOBER / "expected.json").read_text(encoding="utf-8"))
    for month in sorted({s["month"] for s in expected["statements"]}):
        cae("payroll", "run", "--month", month, "--db", db_url)
    for want in expected["statements"]:
        got = cae("statement", want["member_id"], "--month", want["month"], "--db", db_url)
        assert {k: got[k] for k in want} == want

    status = cae("status", "--db", db_url, env=env)
    assert status["kafka"]["total_lag"] == 0
    assert status["dead_letters_pending"] == 3
    assert status["last_entry"]["journal"] == "PA"  # the payroll ran after the worker

    topics = Topics.named(topic_prefix)
    letters = _read_topic(kafka, topics.deadletter, 3)
    assert sorted(json.loads(v)["reason"].split(" ")[0] for _, v, _ in letters) == ["event", "lines.0.amount_ht:",
                                                                                   "unknown"]
    # e05 posts 3 entries, e06 2, e07 2, e08 2, e09 3, e10 3, e11 1: 16 entries. Delivery is at
    # least once (a redelivered batch sends its entries again), keyed by event id and numbered
    # by the `cae-part` header, so (key, part) names an entry.
    postings = _read_topic(kafka, topics.postings, 10_000, idle_ms=3000)
    assert len({(key, headers["cae-part"]) for key, _, headers in postings}) == 16


def test_poison_messages_go_to_the_dead_letters_and_the_partition_keeps_flowing(
        kafka: LocalKafka, topic_prefix: str, tmp_path: Path) -> None:
    env = kafka_env(kafka, topic_prefix, group=f"poison-{topic_prefix}")
    topics = Topics.named(topic_prefix)
    cae("topics", "--partitions", "2", env=env)
    garbage = os.urandom(1024 * 1024)  # 1 MB, not even UTF-8
    joined = {"event_id": "p1", "type": "member.joined", "occurred_at": "2026-01-05T09:00:00Z",
              "member_id": "M1", "name": "Alice", "joined_on": "2026-01-05", "status": "cape"}
    invoice = {"event_id": "p2", "type": "invoice.issued", "occurred_at": "2026-10-03T10:00:00Z",
               "invoice_id": "F1", "member_id": "M1", "issued_on": "2026-10-03", "client": "Nord",
               "lines": [{"label": "Conseil", "amount_ht": "100.00", "vat_rate": "0.20"}]}
    poison = [b"not json at all", json.dumps({"event_id": "p9", "type": "invoice.issued"}).encode(), garbage]
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", max_request_size=4 * 1024 * 1024)
    try:
        # all on member M1's partition, the poison between two good events
        for value in [json.dumps(joined).encode(), *poison, json.dumps(invoice).encode()]:
            producer.send(topics.events, key=b"M1", value=value).get(timeout=30)
        with pytest.raises(KafkaError):  # over the topic's 2 MiB: the broker refuses, the sender knows
            producer.send(topics.events, key=b"M1", value=b"x" * (3 * 1024 * 1024)).get(timeout=30)
    finally:
        producer.close()

    db_url = f"sqlite:///{tmp_path / 'poison.db'}"
    summary = WorkerProcess(env, db_url, tmp_path / "worker.log", *FAST).result()
    assert (summary["processed"], summary["dead_letters"]) == (2, 3)

    stored = cae("deadletter", "list", "--db", db_url)["dead_letters"]
    reasons = sorted(d["reason"] for d in stored)
    assert reasons[0].startswith("event of 1048576 bytes is over the 65536 bytes limit")
    assert reasons[1].startswith("missing field")
    assert reasons[2].startswith("not valid JSON")
    assert cae("statement", "M1", "--month", "2026-10", "--db", db_url)["revenue_ht"] == "100.00"

    letters = [json.loads(v) for _, v, _ in _read_topic(kafka, topics.deadletter, 3)]
    assert len(letters) == 3
    big = next(letter for letter in letters if "raw_base64" in letter)
    assert base64.b64decode(big["raw_base64"]) == garbage
    assert all(letter["source"].startswith(f"{topics.events}/") and letter["time"] for letter in letters)


def test_publish_refuses_only_what_cannot_be_routed(kafka: LocalKafka, topic_prefix: str, tmp_path: Path) -> None:
    topics = Topics.named(topic_prefix)
    member = route(b'{"type": "invoice.issued", "member_id": "M7", "amount": 1.5}', topics)
    assert (member.topic, member.key) == (topics.events, b"M7")  # a float: the worker will reject it
    assert route(b'{"type": "vote.cast", "member_id": "M7"}', topics).topic == topics.governance
    for line, reason in [(b"{oops", "not valid JSON"), (b"[1, 2]", "not a JSON object"),
                         (b'{"member_id": "M7"}', "no event 'type'"),
                         (b'{"type": "invoice.issued"}', "needs a 'member_id'"),
                         (b'{"type": "x", "member_id": "M", "pad": "' + b"y" * 70000 + b'"}', "over the")]:
        with pytest.raises(ValueError, match=reason):
            route(line, topics)

    path = write_events(tmp_path / "mixed.jsonl", [
        b'{"event_id": "x1", "type": "member.joined", "member_id": "M1"}', b"garbage",
        b'{"event_id": "x2", "type": "ritual.held", "meeting_id": "R1"}'])
    result = cae("publish", str(path), env=kafka_env(kafka, topic_prefix))
    assert result["published"] == 2
    assert result["bad_lines"] == [{"source": "mixed.jsonl:2", "reason": result["bad_lines"][0]["reason"],
                                    "code": "event.not_json"}]


def test_bank_events_go_to_cae_bank_keyed_by_the_account_and_keep_its_order(
        db_url: str, kafka: LocalKafka, topic_prefix: str, tmp_path: Path) -> None:
    """CONTRACT.md §5: `cae.bank`, keyed by the IBAN (in its compact form, however it was written), so
    the staff's assignment of a line is taken after the statement that brought it."""
    from sqlalchemy import create_engine, select

    from ledger import schema

    topics = Topics.named(topic_prefix)
    one, two = "FR7630006000011234567890189", "FR7610001000000000000000177"
    spaced = "FR76 3000 6000 0112 3456 7890 189"
    assert route(b'{"type": "bank.line_assigned", "account": "' + spaced.encode() + b'"}', topics) == \
        route(b'{"type": "bank.statement_received", "account": "' + one.encode() + b'"}', topics)
    assert route(b'{"type": "bank.line_assigned", "account": "FR76"}', topics).topic == topics.bank
    with pytest.raises(ValueError, match="needs an 'account'"):
        route(b'{"type": "bank.statement_received"}', topics)

    def statement(n: int, account: str, opening: str, closing: str, lines: list[dict[str, str]]) -> bytes:
        return json.dumps({"event_id": f"bank-{n}", "type": "bank.statement_received",
                           "occurred_at": "2026-03-31T18:00:00Z", "account": account, "statement_id": f"S{n}",
                           "opening_balance": opening, "closing_balance": closing, "from": "2026-03-01",
                           "to": "2026-03-31", "lines": [{"booked_on": "2026-03-10", "value_on": "2026-03-10",
                                                          **x} for x in lines]}).encode()

    config = tmp_path / "rules.toml"
    config.write_text(BASE_RATES + '\n[treasury]\n[[treasury.counterparties]]\nname = "URSSAF"\naccount = "431"\n')
    assignments = [json.dumps({"event_id": f"assign-{n}", "type": "bank.line_assigned", "occurred_at":
                               "2026-04-01T09:00:00Z", "line_ref": f"B{n}", "account": spaced,
                               "assigned_by": "claire", "ledger_account": "431", "label": f"Frais {n}"}).encode()
                   for n in range(5)]
    path = write_events(tmp_path / "bank.jsonl", [
        statement(1, spaced, "100.00", "50.00", [{"line_ref": f"B{n}", "amount": "-10.00"} for n in range(5)]),
        *assignments,
        statement(2, two, "0.00", "-400.00", [{"line_ref": "U", "amount": "-400.00",
                                                "counterparty_name": "Urssaf"}])])
    env = {**kafka_env(kafka, topic_prefix, group=f"bank-{topic_prefix}"), "CAE_CONFIG": str(config)}
    assert cae("publish", str(path), env=env)["published"] == 7
    summary = WorkerProcess(env, db_url, tmp_path / "worker.log", *FAST).result()
    assert (summary["processed"], summary["dead_letters"]) == (7, 0)

    keys = {key for key, _, _ in _read_topic(kafka, topics.bank, 7)}
    assert keys == {one.encode(), two.encode()}
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            m = schema.bank_matches
            matches = dict(conn.execute(select(m.c.line_ref, m.c.assigned_by)).tuples().all())
            rule = conn.scalar(select(m.c.rule).where(m.c.line_ref == "U"))
    finally:
        engine.dispose()
    assert matches == {**{f"B{n}": "claire" for n in range(5)}, "U": None} and rule == "e"


def test_bank_import_publishes_to_cae_bank_when_kafka_is_configured(
        db_url: str, kafka: LocalKafka, topic_prefix: str, tmp_path: Path) -> None:
    """`cae bank import` with `$CAE_KAFKA_BOOTSTRAP`: checked, then published for the workers to match."""
    env = kafka_env(kafka, topic_prefix, group=f"bank-import-{topic_prefix}")
    example = ROOT / "docs" / "examples"
    summary = cae("bank", "import", str(example / "releve-2026-11.csv"), "--mapping",
                  str(example / "releve-banque.toml"), "--db", db_url, env=env)
    assert summary == {"statements": 1, "lines": 4, "new_lines": None, "matched": None, "unmatched": None,
                       "published": 1}
    assert cae("bank", "lines", "--db", db_url, env=env) == {"lines": []}  # not processed yet: the workers do
    worker = WorkerProcess(env, db_url, tmp_path / "worker.log", *FAST).result()
    assert (worker["processed"], worker["dead_letters"]) == (1, 0)
    assert len(cae("bank", "lines", "--unmatched", "--db", db_url, env=env)["lines"]) == 4  # no invoices here


def test_commands_fail_in_one_line_when_kafka_is_unreachable(tmp_path: Path) -> None:
    import subprocess

    path = write_events(tmp_path / "one.jsonl", [b'{"type": "member.joined", "member_id": "M1"}'])
    done = subprocess.run([CAE, "publish", str(path), "--bootstrap", "127.0.0.1:1"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("cae: ") and len(done.stderr.strip().splitlines()) == 1


def test_a_redelivered_batch_sends_its_entries_again_from_the_ledger(engine: Engine, rules: Rules) -> None:
    """The crash between the database commit and Kafka's acknowledgement: the batch comes back,
    its events are duplicates, and `reposted` reads their entries back, parts in order."""
    raws = [Raw(line, f"october:{n}") for n, line in
            enumerate((OCTOBER / "events.jsonl").read_bytes().splitlines(), start=1)]
    first = process(engine, raws, rules)
    again = process(engine, raws, rules)
    assert again.processed == 0 and not again.entries
    resent = reposted(engine, raws, again)
    assert posting_messages(resent) == posting_messages(first.entries)
    parts = [(key, headers[0][1]) for key, _, headers in posting_messages(resent)]
    assert parts[:3] == [(b"e05", b"0"), (b"e05", b"1"), (b"e05", b"2")]


def test_a_dead_letter_message_carries_the_original_bytes() -> None:
    text = deadletter_message(DeadLetter("é€ not json".encode(), "not valid JSON", "t/0@1"))
    binary = deadletter_message(DeadLetter(b"\xff\x00", "not UTF-8 text", "t/0@2", "e9"))
    assert text[0] is None and json.loads(text[1])["raw"] == "é€ not json"
    assert binary[0] == b"e9" and base64.b64decode(json.loads(binary[1])["raw_base64"]) == b"\xff\x00"
