"""Benchmark: events through Kafka into PostgreSQL, against the embedded runner on the same events.

    python bench/stream.py --events 100000 --json

1. generates the events (bench/events.py) and publishes them with `cae publish`;
2. runs `--workers` (1 by default) `cae worker --stop-when-idle` processes, one consumer
   group, into a fresh PostgreSQL database: `events_per_s` is end to end, from the first
   batch any of them took off Kafka to the commit of the last (the workers' own clocks),
   `p95_commit_latency_ms` the 95th percentile of a batch's time from taken to acknowledged
   (database commit and output messages included; the worst worker's), `peak_rss_mb` the
   workers' peak RSS, summed;
3. runs the embedded runner (`streams.embedded.ingest`, what `cae ingest`
   does) on the same file into another fresh database of the same server:
   `embedded_events_per_s`, and `ratio` = stream ÷ embedded;
4. checks that both ledgers hold the same number of processed events, entries, dead letters,
   bank statements and bank lines (`cae.bank`), and the same total of debits.

Kafka: `$CAE_KAFKA_BOOTSTRAP` if set, else a private broker from
deploy/kafka/kafka.sh on free ports, stopped at the end. PostgreSQL:
`--postgres URL` or `$CAE_TEST_POSTGRES_URL` (a server URL; the benchmark
creates and drops its own databases), else deploy/postgres/pg.sh start.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.events import write  # noqa: E402
from engine.config import load_rules  # noqa: E402
from ledger.db import open_ledger  # noqa: E402
from streams.embedded import ingest, read_events  # noqa: E402
from streams.topics import DEFAULT_WORKER_BATCH  # noqa: E402
from streams.loopback import CAE, LocalKafka  # noqa: E402


def _postgres(url: str | None) -> str:
    url = url or os.environ.get("CAE_TEST_POSTGRES_URL")
    if url:
        return url
    done = subprocess.run(["bash", str(ROOT / "deploy/postgres/pg.sh"), "start"], capture_output=True,
                          text=True, timeout=180, check=True)
    return done.stdout.strip().splitlines()[-1]


def _fresh_database(server: str, name: str) -> str:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = create_engine(server).url.set(database=name).render_as_string(hide_password=False)
    open_ledger(url).dispose()  # migrated before the clock starts
    return url


def _drop(server: str, names: list[str]) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _counts(url: str) -> tuple[int, ...]:
    """What the two runs must agree on: events processed, entries, lines' sum, dead letters, bank statements and lines."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = tuple(int(conn.scalar(text(query)) or 0) for query in (
            "SELECT count(*) FROM processed_events", "SELECT count(*) FROM entries",
            "SELECT sum(amount) FROM lines WHERE amount > 0", "SELECT count(*) FROM dead_letters",
            "SELECT count(*) FROM bank_statements", "SELECT count(*) FROM bank_lines"))
    engine.dispose()
    return found


def _cae(args: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    done = subprocess.run([CAE, *args, "--json"], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env})
    if done.returncode != 0:
        raise SystemExit(f"cae {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _workers(count: int, args: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """`count` workers of one group at once, their figures combined as one deployment's."""
    started = [subprocess.Popen([CAE, *args, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **env}) for _ in range(count)]
    each = []
    for process in started:
        out, err = process.communicate(timeout=timeout)
        if process.returncode != 0:
            raise SystemExit(f"cae worker failed ({process.returncode}): {err[-2000:]}")
        each.append(json.loads(out))
    spans = [w["span_monotonic"] for w in each if w["events"]]
    seconds = max(end for _, end in spans) - min(start for start, _ in spans)
    total = {key: sum(w[key] for w in each) for key in ("processed", "duplicates", "dead_letters", "events",
                                                          "batches", "database_s", "sending_s", "peak_rss_mb")}
    return {**total, "seconds": round(seconds, 3), "events_per_s": round(total["events"] / seconds, 1),
            "p95_commit_latency_ms": max(w["p95_commit_latency_ms"] for w in each),
            "events_by_worker": [w["events"] for w in each]}


def bench(events: int, batch: int, partitions: int, server: str, bootstrap: str, workdir: Path,
          workers: int = 1) -> dict[str, Any]:
    path = workdir / "events.jsonl"
    count = write(str(path), events)
    tag = uuid.uuid4().hex[:8]
    stream_db, embedded_db = f"bench_stream_{tag}", f"bench_embedded_{tag}"
    env = {"CAE_KAFKA_BOOTSTRAP": bootstrap, "CAE_KAFKA_TOPIC_PREFIX": f"bench{tag}.",
           "CAE_KAFKA_GROUP": f"bench-{tag}"}
    try:
        stream_url = _fresh_database(server, stream_db)
        start = time.perf_counter()
        published = _cae(["publish", str(path), "--partitions", str(partitions)], env, 1800)
        publish_s = time.perf_counter() - start
        worker = _workers(workers, ["worker", "--db", stream_url, "--batch", str(batch), "--stop-when-idle", "3",
                                    "--log-level", "warning"], env, 3600)

        embedded_url = _fresh_database(server, embedded_db)
        engine, rules = open_ledger(embedded_url), load_rules()
        start = time.perf_counter()
        outcome = ingest(engine, read_events(path), rules)
        embedded_s = time.perf_counter() - start
        engine.dispose()

        same = _counts(stream_url) == _counts(embedded_url)
    finally:
        _drop(server, [stream_db, embedded_db])
    embedded_rate = count / embedded_s
    return {
        "events": count, "published": published["published"],
        "publish_events_per_s": round(published["published"] / publish_s, 1),
        "events_per_s": worker["events_per_s"],
        "p95_commit_latency_ms": worker["p95_commit_latency_ms"],
        "peak_rss_mb": worker["peak_rss_mb"],
        "embedded_events_per_s": round(embedded_rate, 1),
        "ratio": round(worker["events_per_s"] / embedded_rate, 3),
        "worker": {k: worker[k] for k in ("processed", "duplicates", "dead_letters", "batches", "seconds",
                                          "database_s", "sending_s", "events_by_worker")},
        "embedded": {"processed": outcome.processed, "duplicates": outcome.duplicates,
                     "dead_letters": len(outcome.dead_letters), "seconds": round(embedded_s, 3)},
        "same_ledger_counts": same, "batch": batch, "partitions": partitions, "workers": workers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=DEFAULT_WORKER_BATCH, help="the worker's --batch")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1, help="worker processes, one consumer group")
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL (its databases are created)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    server = _postgres(args.postgres)
    with tempfile.TemporaryDirectory(prefix="cae-bench-") as tmp:
        broker = None
        bootstrap = os.environ.get("CAE_KAFKA_BOOTSTRAP")
        if not bootstrap:
            broker = LocalKafka.private(Path(tmp) / "kafka")
            broker.env["CAE_KAFKA_HEAP_OPTS"] = "-Xmx1g -Xms1g"
            broker.start()
            bootstrap = broker.bootstrap
        try:
            result = bench(args.events, args.batch, args.partitions, server, bootstrap, Path(tmp), args.workers)
        finally:
            if broker is not None:
                broker.stop()
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
