"""A replay: a large cooperative's year rebuilt from its file into an empty ledger, then read.

    python bench/replay.py --json

1. bench/payroll.py's year (`--members` members, 10,000 by default: about 260,000 events)
   written to a .jsonl (not timed);
2. timed: the file ingested into an empty SQLite ledger through `streams.embedded.ingest`,
   as `cae ingest FILE` does (`seconds`, `events_per_s`), peak memory;
3. timed: `--queries` statements (`ledger.statements.statements` for one member, the query
   behind `cae statement` and the statement page) of members drawn at random, for November:
   p50, p95 and max in ms.

Targets (issue 11): the replay ≤ 20 s, the statement query p95 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.payroll import year_of_events  # noqa: E402
from engine.config import load_rules  # noqa: E402
from ledger.db import open_ledger, reading  # noqa: E402
from ledger.statements import statements  # noqa: E402
from streams.embedded import ingest, read_events  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--events-per-member", type=int, default=24)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if min(args.members, args.events_per_member, args.queries) < 1:
        parser.error("--members, --events-per-member and --queries must be positive")
    work = Path(tempfile.mkdtemp(prefix="cae-bench-replay-"))
    try:
        path = work / "year.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            count = sum(handle.write(json.dumps(e) + "\n") > 0
                        for e in year_of_events(args.members, args.events_per_member, args.seed))
        engine, rules = open_ledger(f"sqlite:///{work / 'replay.db'}"), load_rules()
        clock = time.perf_counter()
        outcome = ingest(engine, read_events(path), rules)
        seconds = time.perf_counter() - clock
        if outcome.dead_letters or outcome.processed != count:
            raise SystemExit(f"bench: {outcome.processed} of {count} processed, {len(outcome.dead_letters)} "
                             "dead letters")
        rng = random.Random(args.seed)
        width = len(str(args.members))
        latencies = []
        with reading(engine) as conn:
            for _ in range(args.queries):
                member = f"M{rng.randrange(args.members) + 1:0{width}d}"
                started = time.perf_counter()
                statements(conn, "2026-11", [member])
                latencies.append((time.perf_counter() - started) * 1000)
        engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ordered = sorted(latencies)
    result: dict[str, Any] = {
        "members": args.members, "events": count, "seconds": round(seconds, 3),
        "events_per_s": round(count / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "statement_query": {"queries": args.queries, "p50_ms": round(statistics.median(ordered), 2),
                            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
                            "max_ms": round(ordered[-1], 2)}}
    if args.json:
        print(json.dumps(result))
        return
    q = result["statement_query"]
    print(f"replay of {count} events ({args.members} members) in {seconds:.1f} s, {result['events_per_s']} "
          f"events/s, peak RSS {result['peak_rss_mb']} MB; statement query p50 {q['p50_ms']} ms, "
          f"p95 {q['p95_ms']} ms, max {q['max_ms']} ms")


if __name__ == "__main__":
    main()
