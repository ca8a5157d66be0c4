"""Issue 14, point 2: a durable PostgreSQL stopped as a crash would under a worker loses no event.

A worker acknowledges a batch to Kafka once PostgreSQL says it committed. The
test cluster of deploy/postgres/pg.sh says so before the commit is on disk
(`synchronous_commit=off`), so an immediate stop loses commits whose events
are acknowledged: gone for good. With the settings of a real server
(`CAE_PG_DURABLE=1`: fsync, synchronous_commit and full_page_writes on),
the cluster gets an immediate shutdown (no shutdown checkpoint, the server's
processes quit at once, as in a crash) just after a commit, five times under
a worker, and is started again: the ledger is the one the embedded runner
makes of the file. The shutdown is the postmaster's SIGQUIT, which is what
`pg_ctl stop -m immediate` sends; sent directly, it lands within
milliseconds of the commit, where the fast cluster's last commits are still
in memory (with `pg_ctl` in between, their WAL is often written by then, and
the loss shows less often).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import new_database_url
from tests.kafka_fixtures import (PG_SH, LocalKafka, WorkerProcess, assert_same_ledger, cae, cooperative_file,
                                  embedded_snapshot, kafka_env, ledger_snapshot, processed_count, wait_for)

pytest_plugins = ["tests.kafka_fixtures"]

EVENTS = 4000
WORKER = ("--batch", "500", "--within", "0.2", "--session-timeout", "10", "--stop-when-idle", "4")


@pytest.mark.postgres
def test_an_immediate_stop_of_a_durable_postgresql_loses_no_event(
        kafka: LocalKafka, topic_prefix: str, tmp_path: Path, durable_postgres: tuple[str, dict[str, str]],
        request: pytest.FixtureRequest) -> None:
    db_url, pg_env = durable_postgres
    settings = subprocess.run(["bash", PG_SH, "url", "admin"], env=pg_env, capture_output=True, text=True,
                              check=True).stdout.strip()
    assert _settings(settings) == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    path = cooperative_file(tmp_path / "events.jsonl", EVENTS, seed=41)
    env = kafka_env(kafka, topic_prefix, group=f"durable-{topic_prefix}")
    assert cae("publish", str(path), env=env)["published"] == EVENTS

    worker = WorkerProcess(env, db_url, tmp_path / "worker.log", *WORKER)
    seen = 0
    for _ in range(5):
        wait_for(lambda: processed_count(db_url) >= seen + 600 or worker.process.poll() is not None, 180,
                 f"600 more events processed than {seen}", interval=0.005)
        if worker.process.poll() is not None:
            break
        _crash(pg_env["CAE_PG_DATA"])
        subprocess.run(["bash", PG_SH, "start"], env=pg_env, check=True, capture_output=True, timeout=120)
        seen = processed_count(db_url)
    summary = worker.result(timeout=300)
    assert summary["events"] >= EVENTS
    assert "database error, retrying the batch" in worker.tail(5000), "the stops should have been seen"

    reference = embedded_snapshot(new_database_url("postgresql", tmp_path, request), path)
    assert_same_ledger(ledger_snapshot(db_url), reference)


def _crash(data: str) -> None:
    """An immediate shutdown (SIGQUIT to the postmaster, as `pg_ctl -m immediate`); back when it is over."""
    pid_file = Path(data, "postmaster.pid")
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
    wait_for(lambda: not pid_file.exists(), 60, "the postmaster to exit")


def _settings(admin_url: str) -> dict[str, str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return {name: conn.scalar(text(f"SHOW {name}")) for name in ("fsync", "synchronous_commit",
                                                                          "full_page_writes")}
    finally:
        engine.dispose()
