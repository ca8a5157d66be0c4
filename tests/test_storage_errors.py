"""Issue 14, point 2: a full disk, a read-only ledger, is not the events' fault.

`cae ingest` stops with one line saying the ledger cannot store events now,
dead-letters nothing for it, and the same file, ingested again once the
storage is mended, leaves the ledger the same file makes on roomy storage.
SQLite on a real small file system (a tmpfs of 4,000 KiB, mounted for the
test: the tests run as root; then remounted read-only); PostgreSQL with its
database switched read-only (as a standby, or `default_transaction_read_only`,
is). A worker waits on a read-only PostgreSQL and posts everything once it is
writable again.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import IN_CI, new_database_url, owner_url
from tests.kafka_fixtures import (CAE, LocalKafka, WorkerProcess, assert_same_ledger, cae, cooperative_file,
                                  embedded_snapshot, kafka_env, ledger_snapshot, processed_count)

pytest_plugins = ["tests.kafka_fixtures"]

EVENTS = 6000
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                        indirect=True)


def ingest(path: Path, db_url: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([CAE, "ingest", str(path), "--db", db_url, "--json"], capture_output=True, text=True,
                          timeout=300)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    return done


def assert_stopped_for_storage(done: subprocess.CompletedProcess[str], words: str) -> None:
    """Exit 1 and the one line of CONTRACT §3, saying it is the storage and that nothing was dead-lettered."""
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr[-2000:])
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("cae: the ledger cannot store events now") and words in last, last
    assert "nothing dead-lettered" in last and "ingest the same file again" in last


def dead_letter_reasons(db_url: str) -> set[str]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(text("SELECT reason FROM dead_letters")))
    finally:
        engine.dispose()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 4,000 KiB: room for the schema and a batch or two of events, not for 6,000."""
    point = tmp_path / "small"
    point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4000k,mode=0777", "tmpfs", str(point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        message = f"cannot mount a small tmpfs (the test needs root): {mounted.stderr.strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], capture_output=True)


def remount(point: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(point)], check=True, capture_output=True)


@SQLITE_ONLY
def test_sqlite_on_a_full_then_read_only_disk_dead_letters_nothing(
        db_url: str, small_disk: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    path = cooperative_file(tmp_path / "events.jsonl", EVENTS)
    reference = embedded_snapshot(new_database_url("sqlite", tmp_path, request), path)
    own_rejects = {reason for _, _, reason in reference["dead_letters"]}
    ledger = f"sqlite:///{small_disk / 'cae.db'}"

    full = ingest(path, ledger)
    assert_stopped_for_storage(full, "database or disk is full")
    assert 0 < processed_count(ledger) < EVENTS  # some batches went in before the disk was full
    assert dead_letter_reasons(ledger) <= own_rejects  # the file's own rejects at most, none for the disk
    before = ledger_snapshot(ledger)

    remount(small_disk, "ro")
    read_only = ingest(path, ledger)
    assert read_only.returncode == 1 and "Traceback" not in read_only.stderr
    assert len(read_only.stderr.strip().splitlines()) == 1 and "read" in read_only.stderr.lower()
    remount(small_disk, "rw,size=64m")
    assert ledger_snapshot(ledger) == before  # the read-only run changed nothing

    mended = ingest(path, ledger)
    assert mended.returncode == 3, mended.stderr[-2000:]  # the file's own rejects, and nothing else
    assert_same_ledger(ledger_snapshot(ledger), reference)


def read_only(db_url: str, on: bool) -> None:
    """As the database's owner, switch every new transaction of the database read-only, or back."""
    owner = create_engine(owner_url(db_url), isolation_level="AUTOCOMMIT")
    name = make_url(db_url).database
    try:
        with owner.connect() as conn:
            conn.execute(text("SET default_transaction_read_only = off"))  # this session must write
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}'))
    finally:
        owner.dispose()


@POSTGRES_ONLY
def test_postgresql_read_only_stops_the_ingest_and_dead_letters_nothing(
        db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    path = cooperative_file(tmp_path / "events.jsonl", 3000)
    reference = embedded_snapshot(new_database_url("postgresql", tmp_path, request), path)
    read_only(db_url, True)
    assert_stopped_for_storage(ingest(path, db_url), "read-only transaction")
    assert processed_count(db_url) == 0 and dead_letter_reasons(db_url) == set()
    read_only(db_url, False)
    assert ingest(path, db_url).returncode == 3
    assert_same_ledger(ledger_snapshot(db_url), reference)


@POSTGRES_ONLY
def test_a_worker_waits_for_a_read_only_postgresql(db_url: str, kafka: LocalKafka, topic_prefix: str,
                                                   tmp_path: Path, request: pytest.FixtureRequest) -> None:
    path = cooperative_file(tmp_path / "events.jsonl", 1000, seed=5)
    env = kafka_env(kafka, topic_prefix, group=f"ro-{topic_prefix}")
    assert cae("publish", str(path), env=env)["published"] == 1000
    read_only(db_url, True)
    worker = WorkerProcess(env, db_url, tmp_path / "worker.log", "--within", "0.2", "--session-timeout", "6",
                           "--stop-when-idle", "3")
    deadline = time.monotonic() + 60
    while "read-only transaction" not in worker.log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline and worker.process.poll() is None, worker.tail()
        time.sleep(0.5)
    time.sleep(3)  # a few retries with back-off: none may dead-letter anything
    assert processed_count(db_url) == 0 and dead_letter_reasons(db_url) == set()
    read_only(db_url, False)
    # As after a failover: the worker's sessions, read-only since they began, are cut; it reconnects.
    admin = request.getfixturevalue("postgres_admin").admin
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                          "AND pid <> pg_backend_pid()"), {"name": make_url(db_url).database})
    assert worker.result(timeout=180)["events"] >= 1000
    reference = embedded_snapshot(new_database_url("postgresql", tmp_path, request), path)
    assert_same_ledger(ledger_snapshot(db_url), reference)
