"""Ingest throughput, against the raw limit of the same database.

    python bench/ingest.py --events 100000 --json

1. writes `engine.sample.throughput_events(n)` to a temporary .jsonl (not timed);
2. ingests it into a fresh database through `streams.embedded.ingest`, exactly
   as `cae ingest` does (timed: `seconds`, `events_per_s`);
3. measures the raw limit in the same run: the entries and lines the ingest
   wrote, read back and bulk-inserted with no logic (one transaction, the
   ingest's own `ledger.bulk.insert_rows`) into the same tables of another fresh database, with the
   same schema, triggers and connection settings (`raw_rows_per_s`;
   `ratio` = raw insert time ÷ ingest time, 1.0 would be "as fast as the
   database allows"). The event ids those entries point to are copied first,
   untimed: the foreign keys and the one-set-per-event trigger need them;
4. and the bare limit: the same rows into a third database with the same tables but no
   trigger, no foreign key and no secondary index (`bare_rows_per_s`; `ratio_bare` = bare
   insert time ÷ ingest time): what the storage alone costs, a figure that moves less with
   the machine's load than the others.

Memory stays flat in the number of events: the file is written and read as a
stream, and the read-back goes by chunks of entries. `ingest_heap_mb` shows it: the
process's anonymous memory after the first batch, at its peak and after the last batch
(`peak_rss_mb`, the whole run's, also counts the ledger files' pages that SQLite maps).
One JSON line with `--json`; `--db postgresql+psycopg://...` benchmarks on that server instead,
in two databases it creates and drops (needs CREATEDB).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, create_engine, event, text  # noqa: E402

from engine.config import load_rules  # noqa: E402
from engine.sample import throughput_events  # noqa: E402
from ledger import schema  # noqa: E402
from ledger.bulk import insert_rows  # noqa: E402
from ledger.db import open_ledger  # noqa: E402
from streams.embedded import BATCH, LONG_AFTER, ingest, read_events  # noqa: E402

LINE_COLUMNS = ("entry_id", "account", "amount", "member_id", "aux_id", "aux_label")
ENTRY_COLUMNS = ("id", "journal", "entry_date", "piece_ref", "piece_date", "label", "event_id", "part",
                 "posted_at")
EVENT_COLUMNS = ("event_id", "fingerprint", "type", "entry_count", "source", "processed_at")
CHUNK = 5_000  # entries per read-back chunk: bounds the memory of the read-back


@contextmanager
def databases(server: str | None, work: Path) -> Iterator[tuple[str, str, str]]:
    """Three fresh, empty database URLs: SQLite files in `work`, or new databases on `server`."""
    if server is None:
        yield f"sqlite:///{work / 'ingest.db'}", f"sqlite:///{work / 'raw.db'}", f"sqlite:///{work / 'bare.db'}"
        return
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    names = [f"cae_bench_{uuid.uuid4().hex[:10]}_{kind}" for kind in ("ingest", "raw", "bare")]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield tuple(admin.url.set(database=n).render_as_string(hide_password=False)  # type: ignore[misc]
                    for n in names)
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bare(url: str) -> Engine:
    """The ledger's tables at `url` (migrated first) without their triggers, foreign keys and
    secondary indexes: only the tables and their primary and unique keys are left."""
    open_ledger(url).dispose()
    if url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.begin() as conn:
            for kind, name in conn.exec_driver_sql(
                    "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'index') AND sql IS NOT NULL"
            ).all():
                conn.exec_driver_sql(f"DROP {kind.upper()} IF EXISTS {name}")
        # the ledger's own settings, less the foreign keys (off unless a connection turns them on)
        event.listen(engine, "connect", lambda dbapi, _: dbapi.executescript(
            "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;"))
        return engine
    engine = create_engine(url)
    with engine.begin() as conn:
        for table, name in conn.execute(text(
                "SELECT event_object_table, trigger_name FROM information_schema.triggers "
                "WHERE trigger_schema = 'public'")).all():
            conn.execute(text(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"'))
        for table, name in conn.execute(text(
                "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
                "AND connamespace = 'public'::regnamespace")).all():
            conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for (name,) in conn.execute(text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)")).all():
            conn.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
    return engine


class Heap:
    """The process's own memory during the ingest, after each batch: `RssAnon` (Linux), which
    leaves out the ledger file's pages that SQLite maps (`mmap_size`), so that "flat" is seen
    for what the engine holds, not for the page cache of a growing file."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def sample(self, _: int) -> None:
        try:
            status = Path("/proc/self/status").read_text()
        except OSError:
            return
        found = next((line for line in status.splitlines() if line.startswith("RssAnon:")), None)
        if found:
            self.samples.append(int(found.split()[1]) / 1024)

    def figures(self) -> dict[str, float] | None:
        """The first batch's, the peak and the last batch's, in MB."""
        if not self.samples:
            return None
        return {"first": round(self.samples[0], 1), "peak": round(max(self.samples), 1),
                "last": round(self.samples[-1], 1)}


def write_events(path: Path, n: int, seed: int) -> None:
    with path.open("wb") as handle:
        for data in throughput_events(n, seed):
            handle.write(data + b"\n")


def copy_events(source: Engine, target: Engine) -> None:
    """The processed event ids, a prerequisite of the entries (untimed, by chunks)."""
    query = text(f"SELECT {', '.join(EVENT_COLUMNS)} FROM processed_events WHERE event_id > :after "
                 "ORDER BY event_id LIMIT :size")
    after = ""
    with source.connect() as read, target.begin() as write:
        while rows := [tuple(r) for r in read.execute(query, {"after": after, "size": CHUNK})]:
            insert_rows(write, schema.processed_events, EVENT_COLUMNS, rows)
            after = rows[-1][0]


def raw_insert(source: Engine, target: Engine) -> tuple[int, int, float, float]:
    """(entries, lines, seconds inserting, seconds reading back): the ledger rows, no logic.

    Lines go before their entries, as `ledger.posting` does, since the entry's
    trigger sums lines already there. Only the inserts and the commit are timed.
    """
    entries_q = text(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM entries WHERE id > :after ORDER BY id "
                     "LIMIT :size")
    lines_q = text(f"SELECT {', '.join(LINE_COLUMNS)} FROM lines WHERE entry_id BETWEEN :low AND :high "
                   "ORDER BY id")
    entries = lines = 0
    inserting = reading = 0.0
    after = 0
    with source.connect() as read, target.connect() as write:
        transaction = write.begin()
        while True:
            clock = time.perf_counter()
            entry_rows = [tuple(r) for r in read.execute(entries_q, {"after": after, "size": CHUNK})]
            if not entry_rows:
                break
            line_rows = [tuple(r) for r in read.execute(
                lines_q, {"low": entry_rows[0][0], "high": entry_rows[-1][0]})]
            reading += time.perf_counter() - clock
            clock = time.perf_counter()
            insert_rows(write, schema.lines, LINE_COLUMNS, line_rows)
            insert_rows(write, schema.entries, ENTRY_COLUMNS, entry_rows)
            inserting += time.perf_counter() - clock
            entries, lines, after = entries + len(entry_rows), lines + len(line_rows), entry_rows[-1][0]
        clock = time.perf_counter()
        transaction.commit()
        inserting += time.perf_counter() - clock
    return entries, lines, inserting, reading


def run(n: int, batch: int, server: str | None, seed: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cae-bench-"))
    phases: dict[str, float] = {}
    try:
        path = work / "events.jsonl"
        clock = time.perf_counter()
        write_events(path, n, seed)
        phases["generate"] = time.perf_counter() - clock
        rules = load_rules()
        with databases(server, work) as (ingest_url, raw_url, bare_url):
            clock = time.perf_counter()
            engine, raw_engine = open_ledger(ingest_url), open_ledger(raw_url)
            phases["migrate"] = time.perf_counter() - clock
            clock = time.perf_counter()
            heap = Heap()
            outcome = ingest(engine, read_events(path), rules, batch=batch, progress=heap.sample)
            phases["ingest"] = seconds = time.perf_counter() - clock
            if outcome.dead_letters or outcome.processed != n:
                first = outcome.dead_letters[0].reason if outcome.dead_letters else "none"
                raise SystemExit(f"bench: {outcome.processed} of {n} events processed, "
                                 f"{len(outcome.dead_letters)} dead letters (first: {first})")
            clock = time.perf_counter()
            copy_events(engine, raw_engine)
            phases["copy_event_ids"] = time.perf_counter() - clock
            entries, lines, raw_seconds, phases["read_back"] = raw_insert(engine, raw_engine)
            phases["raw_insert"] = raw_seconds
            bare_engine = bare(bare_url)
            _, _, bare_seconds, _ = raw_insert(engine, bare_engine)
            phases["bare_insert"] = bare_seconds
            backend = engine.dialect.name
            for each in (engine, raw_engine, bare_engine):
                each.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = entries + lines
    return {"events": n, "seconds": round(seconds, 3), "events_per_s": round(n / seconds),
            "raw_rows_per_s": round(rows / raw_seconds) if raw_seconds else None,
            "ratio": round(raw_seconds / seconds, 4),
            "bare_rows_per_s": round(rows / bare_seconds) if bare_seconds else None,
            "ratio_bare": round(bare_seconds / seconds, 4),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "ingest_heap_mb": heap.figures(),
            "backend": backend, "batch": batch, "entries": entries, "lines": lines,
            "raw_seconds": round(raw_seconds, 3), "bare_seconds": round(bare_seconds, 3),
            "phases": {k: round(v, 3) for k, v in phases.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to ingest (default 100000)")
    parser.add_argument("--batch", type=int, default=BATCH,
                        help=f"events per transaction (default {BATCH}; twice as many past the first {LONG_AFTER:,})")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="a PostgreSQL server URL to bench on (default: SQLite files in a temp dir)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if args.events < 1 or args.batch < 1:
        parser.error("--events and --batch must be positive")
    if args.db is not None and not args.db.startswith("postgresql"):
        parser.error("--db takes a PostgreSQL URL (postgresql+psycopg://...); SQLite is the default")
    result = run(args.events, args.batch, args.db, args.seed)
    if args.json:
        print(json.dumps(result))
        return
    p = result["phases"]
    print(f"{result['events']} events ingested in {result['seconds']:.2f} s on {result['backend']} "
          f"(batch {result['batch']}): {result['events_per_s']} events/s")
    print(f"raw insert of the same {result['entries']} entries + {result['lines']} lines: "
          f"{result['raw_seconds']:.2f} s, {result['raw_rows_per_s']} rows/s; "
          f"raw/ingest time ratio {result['ratio']:.3f}")
    print(f"bare (no triggers, foreign keys nor secondary indexes): {result['bare_seconds']:.2f} s, "
          f"{result['bare_rows_per_s']} rows/s; bare/ingest time ratio {result['ratio_bare']:.3f}")
    print("phases: " + ", ".join(f"{name.replace('_', ' ')} {s:.2f} s" for name, s in p.items())
          + f"; peak RSS {result['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
