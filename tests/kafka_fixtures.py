"""Kafka for the stream tests: a real broker (deploy/kafka/kafka.sh), never a mock.

The `kafka` session fixture adopts the broker that tests/run.sh started
(`$CAE_TEST_KAFKA_BOOTSTRAP`, with `$CAE_KAFKA_DATA` and the ports in the
environment, so a test can stop and start it), or starts one of its own on
free loopback ports with its data in a temporary folder, and stops it at the
end. A broker that cannot be had skips the stream tests, except under
CI=true, where they fail: CI must never pass by skipping.

Each test takes its own topics (`topic_prefix`) and consumer group, so tests
never see each other's messages on the shared broker.

The broker itself and a free port are `streams.loopback`'s, which the benches share. Also
here: the helpers the stream tests share (running `cae`, publishing raw messages, starting
workers, and a snapshot of a ledger to compare two runs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from ledger import schema
from streams.loopback import CAE, LocalKafka, free_port  # noqa: F401 — the names the stream tests import from here
from tests.conftest import IN_CI, ROOT

PG_SH = str(ROOT / "deploy/postgres/pg.sh")


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    adopted = os.environ.get("CAE_TEST_KAFKA_BOOTSTRAP")
    if adopted:
        port = adopted.rsplit(":", 1)[-1]
        env = {k: v for k, v in os.environ.items() if k.startswith("CAE_KAFKA_")}
        broker = LocalKafka({**env, "CAE_KAFKA_PORT": port}, owned=False)
    else:
        broker = LocalKafka.private(tmp_path_factory.mktemp("kafka"))
    try:
        broker.start()  # adopting: a no-op when it runs, a restart if a test left it stopped
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        message = f"Kafka is not available: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    yield broker
    if broker.owned:
        broker.stop()


@pytest.fixture
def topic_prefix() -> str:
    """Topics of the test's own: `t<hex>.cae.events` and the rest."""
    return f"t{uuid.uuid4().hex[:10]}."


def cae(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Any:
    """Run `cae ... --json`; the JSON document it printed (the test fails on an error exit)."""
    done = subprocess.run([CAE, *args, "--json"], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=ROOT)
    assert done.returncode == 0, f"cae {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}"
    return json.loads(done.stdout)


def kafka_env(kafka: LocalKafka, prefix: str, group: str | None = None) -> dict[str, str]:
    env = {"CAE_KAFKA_BOOTSTRAP": kafka.bootstrap, "CAE_KAFKA_TOPIC_PREFIX": prefix}
    if group:
        env["CAE_KAFKA_GROUP"] = group
    return env


class WorkerProcess:
    """`cae worker` in its own process, its log in a file (read it when a test fails); `command`
    runs it another way (`python -c SCRIPT`, which ends by calling `cli.main.main`)."""

    def __init__(self, env: dict[str, str], db_url: str, log: Path, *options: str,
                 command: Sequence[str] = (CAE,)) -> None:
        self.log_path = log
        self.handle = log.open("ab")
        self.process = subprocess.Popen(
            [*command, "worker", "--db", db_url, "--json", *options], stdout=subprocess.PIPE,
            stderr=self.handle, env={**os.environ, **env}, cwd=ROOT)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)
        self.handle.close()

    def result(self, timeout: float = 240) -> dict[str, Any]:
        """Wait for a `--stop-when-idle` worker to exit; its JSON summary."""
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise AssertionError(f"worker did not stop; log tail:\n{self.tail()}") from None
        finally:
            self.handle.close()
        assert self.process.returncode == 0, f"worker exited {self.process.returncode}:\n{self.tail()}"
        summary: dict[str, Any] = json.loads(out)
        return summary

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def processed_count(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT count(*) FROM processed_events")) or 0)
    except Exception:  # noqa: BLE001 — not created yet, or locked for a moment
        return 0
    finally:
        engine.dispose()


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def ledger_snapshot(db_url: str) -> dict[str, Any]:
    """Everything a run leaves in the ledger, without what depends on timing or delivery.

    Entry ids and posting times, the sources of events and dead letters
    (`file:line` against `topic/partition@offset`) and the order in which two
    members' events were interleaved are left out; every entry is keyed by
    its event and its rank in that event, with its lines.
    """
    engine = create_engine(db_url)
    e, li, p, d = schema.entries, schema.lines, schema.processed_events, schema.dead_letters
    try:
        with engine.connect() as conn:
            lines: dict[int, list[tuple[Any, ...]]] = {}
            for row in conn.execute(select(li.c.entry_id, li.c.account, li.c.amount, li.c.member_id,
                                           li.c.aux_id, li.c.aux_label)):
                lines.setdefault(row.entry_id, []).append(tuple(row)[1:])
            entries = {(r.event_id, r.part): (r.journal, str(r.entry_date), r.piece_ref, str(r.piece_date),
                                              r.label, tuple(sorted(lines.get(r.id, []))))
                       for r in conn.execute(select(e))}
            return {
                "processed": {r.event_id: (r.fingerprint, r.type, r.entry_count) for r in conn.execute(select(p))},
                "entries": entries,
                "dead_letters": sorted((r.raw_sha256, r.event_id or "", r.reason)
                                       for r in conn.execute(select(d))),
                "invoices": sorted(tuple(r) for r in conn.execute(select(schema.invoices))),
                "bases": sorted(tuple(r)[1:] for r in conn.execute(select(schema.base_moves))),
                "documents": sorted(tuple(r) for r in conn.execute(select(schema.documents))),
                "members": sorted(tuple(r) for r in conn.execute(select(schema.members))),
                "bank_lines": sorted(tuple(r) for r in conn.execute(select(schema.bank_lines))),
                "bank_statements": sorted(tuple(r) for r in conn.execute(select(schema.bank_statements))),
                "bank_matches": sorted(tuple(r) for r in conn.execute(select(schema.bank_matches))),
                "governance": [r.event_id for r in conn.execute(
                    select(schema.governance_events.c.event_id).order_by(schema.governance_events.c.seq))],
            }
    finally:
        engine.dispose()


def assert_same_ledger(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Compare two snapshots part by part, so a failure says which part and how much differs."""
    for part in want:
        if got[part] != want[part]:
            if isinstance(want[part], dict):
                missing = sorted(set(want[part]) - set(got[part]))[:5]
                extra = sorted(set(got[part]) - set(want[part]))[:5]
                changed = [k for k in want[part] if k in got[part] and got[part][k] != want[part][k]][:5]
                raise AssertionError(f"{part}: {len(want[part])} expected, {len(got[part])} found; "
                                     f"missing {missing}, extra {extra}, different {changed}")
            raise AssertionError(f"{part} differ: expected {str(want[part])[:400]}, got {str(got[part])[:400]}")


def write_events(path: Path, lines: Sequence[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def cooperative_file(path: Path, events: int, seed: int = 7) -> Path:
    """A synthetic cooperative's events (bench/events.py), rejects and duplicates included."""
    from bench.events import write

    write(str(path), events, seed)
    return path


def embedded_snapshot(db_url: str, path: Path) -> dict[str, Any]:
    """The reference: the same file through the embedded runner (what `cae ingest` does)."""
    from engine.config import load_rules
    from ledger.db import open_ledger
    from streams.embedded import ingest, read_events

    engine = open_ledger(db_url)
    try:
        ingest(engine, read_events(path), load_rules())
    finally:
        engine.dispose()
    return ledger_snapshot(db_url)


def new_database_url_like(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Another fresh ledger on the same backend as `db_url` (for a reference run beside it)."""
    from tests.conftest import new_database_url

    return new_database_url("sqlite" if db_url.startswith("sqlite") else "postgresql", tmp_path, request)


def group_members(kafka: LocalKafka, group: str) -> int:
    """How many members the group has once it is stable (0 while it rebalances)."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap, bootstrap_timeout_ms=10000)
    try:
        described = admin.describe_groups([group]).get(group) or {}
    finally:
        admin.close()
    return len(described.get("members", [])) if described.get("group_state") == "Stable" else 0


@contextmanager
def private_postgres(durable: bool = False) -> Iterator[tuple[str, dict[str, str]]]:
    """A PostgreSQL cluster of the test's own (deploy/postgres/pg.sh), free to stop and start: the
    owner's URL of its database `cae`, and the environment that names it to pg.sh. `durable`: with
    the settings of a real server (CAE_PG_DURABLE=1), not the test cluster's fast ones."""
    env = {**os.environ, "CAE_PG_PORT": str(free_port()), "CAE_PG_DATA": f"/tmp/cae-pg-{uuid.uuid4().hex[:8]}",
           "CAE_PG_DURABLE": "1" if durable else "0"}
    try:
        started = subprocess.run(["bash", PG_SH, "start"], env=env, capture_output=True, text=True, timeout=180)
        if started.returncode != 0:
            raise RuntimeError(started.stderr.strip()[-800:])
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(env["CAE_PG_DATA"], ignore_errors=True)
        if IN_CI:
            pytest.fail(f"cannot start a private PostgreSQL: {exc}")
        pytest.skip(f"cannot start a private PostgreSQL: {exc}")
    owner = subprocess.run(["bash", PG_SH, "url", "owner"], env=env, capture_output=True, text=True,
                           timeout=30).stdout.strip()  # the database `cae`, which pg.sh made
    try:
        yield owner, env
    finally:
        subprocess.run(["bash", PG_SH, "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(env["CAE_PG_DATA"], ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, dict[str, str]]]:
    """A private PostgreSQL cluster with the test cluster's fast settings."""
    with private_postgres() as found:
        yield found


@pytest.fixture
def durable_postgres() -> Iterator[tuple[str, dict[str, str]]]:
    """A private PostgreSQL cluster with a real server's durable settings."""
    with private_postgres(durable=True) as found:
        yield found
