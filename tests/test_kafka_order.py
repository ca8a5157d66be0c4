"""Issue 8, point 15: the same events give the same books from a file or from the stream.

On Kafka the members' events (`cae.events`) and the governance events
(`cae.governance`) are consumed side by side. With a backlog of member events,
the governance topic runs ahead: an assembly whose members joined just before
it (in the file) would lose every attendance, proxy and vote ("unknown
member"). The worker holds such a governance event until the members' topic
has caught up (`--wait-for-members`), and dead-letters it only if the member
is still unknown then. These tests run a real broker and PostgreSQL or SQLite.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import SHARED
from tests.kafka_fixtures import (LocalKafka, WorkerProcess, assert_same_ledger, cae, embedded_snapshot, kafka_env,
                                  ledger_snapshot, new_database_url_like, write_events)

pytest_plugins = ["tests.kafka_fixtures"]

ASSEMBLY = SHARED / "scenarios/assembly"
FAST = ("--stop-when-idle", "3", "--session-timeout", "6", "--within", "0.2", "--batch", "500")


def _event(event_id: str, type_: str, **fields: Any) -> bytes:
    body = {"event_id": event_id, "type": type_, "occurred_at": "2026-01-02T09:00:00Z", **fields}
    return json.dumps(body, ensure_ascii=False).encode()


def backlog_then_assembly(path: Path, fillers: int) -> Path:
    """`fillers` member events first, then the assembly scenario (its members join, then it sits)."""
    lines = [_event(f"fill-join-{m}", "member.joined", member_id=f"B{m:02d}", name=f"Membre B{m:02d}",
                    joined_on="2026-01-02", status="cape") for m in range(20)]
    for n in range(fillers):
        lines.append(_event(f"fill-{n}", "invoice.issued", invoice_id=f"FB-{n}", member_id=f"B{n % 20:02d}",
                            issued_on="2026-03-10", client="Atelier Nord",
                            lines=[{"label": "Mission", "amount_ht": "100.00", "vat_rate": "0.20"}]))
    lines += (ASSEMBLY / "events.jsonl").read_bytes().splitlines()
    return write_events(path, [line for line in lines if line.strip()])


def tallies(db_url: str) -> list[dict[str, Any]]:
    expected = json.loads((ASSEMBLY / "expected.json").read_text(encoding="utf-8"))["tallies"]
    return [cae("tally", want["resolution_id"], "--db", db_url) for want in expected]


def test_an_assembly_whose_members_are_behind_a_backlog_is_tallied_as_from_the_file(
        db_url: str, kafka: LocalKafka, topic_prefix: str, tmp_path: Path, request: Any) -> None:
    events = backlog_then_assembly(tmp_path / "events.jsonl", fillers=6000)
    env = kafka_env(kafka, topic_prefix, group=f"order-{topic_prefix}")
    # One partition for the members' events: the joins really are behind the backlog.
    assert cae("publish", str(events), "--partitions", "1", env=env)["published"] > 6000
    worker = WorkerProcess(env, db_url, tmp_path / "worker.log", *FAST)
    summary = worker.result(timeout=400)
    expected = json.loads((ASSEMBLY / "expected.json").read_text(encoding="utf-8"))["tallies"]
    got = tallies(db_url)
    for want, tally in zip(expected, got):
        assert {k: tally[k] for k in want} == want, want["resolution_id"]
    reference = new_database_url_like(db_url, request, tmp_path)
    assert_same_ledger(ledger_snapshot(db_url), embedded_snapshot(reference, events))
    assert "waiting for the members' events" in worker.log_path.read_text()  # the race did happen
    assert summary["dead_letters"] == 0


def test_a_member_that_never_joins_is_a_dead_letter_once_the_members_are_caught_up(
        db_url: str, kafka: LocalKafka, topic_prefix: str, tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", [
        _event("j1", "member.joined", member_id="A1", name="Alice", joined_on="2025-01-06", status="salarie"),
        _event("r1", "ritual.held", meeting_id="U1", kind="universite", held_on="2026-07-01", title="Université"),
        _event("a1", "attendance.recorded", meeting_id="U1", member_id="A1", mode="present"),
        _event("a2", "attendance.recorded", meeting_id="U1", member_id="NOBODY", mode="present"),
        _event("a3", "attendance.recorded", meeting_id="U1", member_id="A1", mode="remote"),
    ])
    env = kafka_env(kafka, topic_prefix, group=f"never-{topic_prefix}")
    cae("publish", str(events), env=env)
    summary = WorkerProcess(env, db_url, tmp_path / "worker.log", *FAST, "--wait-for-members", "120").result()
    assert (summary["processed"], summary["dead_letters"]) == (4, 1)
    (letter,) = cae("deadletter", "list", "--db", db_url)["dead_letters"]
    assert letter["event_id"] == "a2" and 'unknown member "NOBODY"' in letter["reason"]
    assert summary["seconds"] < 100  # dead-lettered once caught up, not after the whole wait
