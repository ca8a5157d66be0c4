"""The worker outlives its neighbours: the broker or PostgreSQL restarted mid-stream loses nothing.

Both tests stop a server under a running worker and start it again; the
worker must recover by itself (reconnect, retry with back-off) and leave the
ledger the embedded runner makes of the same events. These run last: the
broker restart touches the session's broker.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, new_database_url
from tests.kafka_fixtures import (LocalKafka, WorkerProcess, assert_same_ledger, cae, cooperative_file,
                                  embedded_snapshot, kafka_env, ledger_snapshot, processed_count, wait_for)

pytest_plugins = ["tests.kafka_fixtures"]

EVENTS = 3000
WORKER = ("--batch", "100", "--within", "0.2", "--session-timeout", "10", "--stop-when-idle", "4")


def _halves(path: Path) -> tuple[Path, Path]:
    """The file in two: the second half is published while the server is down or just back,
    so the worker surely has work across the outage."""
    lines = path.read_bytes().splitlines(keepends=True)
    first, second = path.with_suffix(".1.jsonl"), path.with_suffix(".2.jsonl")
    first.write_bytes(b"".join(lines[:len(lines) // 2]))
    second.write_bytes(b"".join(lines[len(lines) // 2:]))
    return first, second


@pytest.mark.postgres
def test_the_worker_rides_out_a_broker_restart(kafka: LocalKafka, topic_prefix: str, tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    db_url = new_database_url("postgresql", tmp_path, request)
    path = cooperative_file(tmp_path / "events.jsonl", EVENTS, seed=21)
    env = kafka_env(kafka, topic_prefix, group=f"broker-{topic_prefix}")
    first, second = _halves(path)
    assert cae("publish", str(first), env=env)["published"] == EVENTS // 2

    worker = WorkerProcess(env, db_url, tmp_path / "worker.log", *WORKER)
    wait_for(lambda: processed_count(db_url) >= 600, 120, "600 events processed")
    kafka.stop()
    time.sleep(2)
    kafka.start()
    assert cae("publish", str(second), env=env)["published"] == EVENTS - EVENTS // 2
    summary = worker.result(timeout=300)
    assert summary["events"] > 0

    reference = embedded_snapshot(new_database_url("postgresql", tmp_path, request), path)
    assert_same_ledger(ledger_snapshot(db_url), reference)


@pytest.mark.postgres
def test_the_worker_waits_out_a_postgresql_restart(kafka: LocalKafka, topic_prefix: str, tmp_path: Path,
                                                   own_postgres: tuple[str, dict[str, str]],
                                                   request: pytest.FixtureRequest) -> None:
    db_url, pg_env = own_postgres
    path = cooperative_file(tmp_path / "events.jsonl", EVENTS, seed=31)
    env = kafka_env(kafka, topic_prefix, group=f"pg-{topic_prefix}")
    first, second = _halves(path)
    assert cae("publish", str(first), env=env)["published"] == EVENTS // 2

    worker = WorkerProcess(env, db_url, tmp_path / "worker.log", *WORKER)
    wait_for(lambda: processed_count(db_url) >= 600, 120, "600 events processed")
    script = str(ROOT / "deploy/postgres/pg.sh")
    subprocess.run(["bash", script, "stop"], env=pg_env, check=True, timeout=120)
    assert cae("publish", str(second), env=env)["published"] == EVENTS - EVENTS // 2
    time.sleep(3)
    subprocess.run(["bash", script, "start"], env=pg_env, check=True, capture_output=True, timeout=120)
    summary = worker.result(timeout=300)
    assert summary["events"] > 0
    assert "database error, retrying the batch" in worker.tail(2000), "the outage should have been seen"

    reference = embedded_snapshot(new_database_url("postgresql", tmp_path, request), path)
    assert_same_ledger(ledger_snapshot(db_url), reference)
