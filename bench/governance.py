"""Benchmark: an assembly of N associates with proxies and votes on 20 resolutions.

    python bench/governance.py --associates 10000 --json [--db URL] [--resolutions 20]

Generates the cooperative (members joining and becoming associates, a few
members who are not associates), an AGO on first convocation, its
resolutions, attendance (present, remote, excused, absent), proxies (most
valid, some to absent holders, one holder collecting over the legal limit)
and the votes, with a few second votes and votes by non-associates. The
events go through the same pipeline as `cae ingest` (decode, validation,
governance gate, append-only record), into a fresh SQLite file unless
`--db` names a database. Then every resolution is tallied from the database
as `cae tally` does, cold: the record is read again for each resolution.

Prints `ingest_events_per_s` and `tally_ms` (mean wall time per resolution;
the target is under 200 ms), with the median, the slowest, the mean CPU time
of this process (`tally_cpu_ms`: database work included on SQLite, which runs
in-process; it tells the tally's own cost from a busy machine's waits) and
the figures of the first resolution, so a run that is fast but wrong does not
pass unnoticed.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import load_rules  # noqa: E402
from governance.config import load_governance  # noqa: E402
from governance.results import tally_resolution  # noqa: E402
from ledger.db import open_ledger  # noqa: E402
from streams.embedded import ingest  # noqa: E402
from streams.pipeline import Raw  # noqa: E402

AT = "2026-06-01T09:00:00Z"


def events(associates: int, resolutions: int, seed: int) -> Iterator[dict[str, Any]]:
    """The cooperative's events, in stream order."""
    rnd = random.Random(seed)
    ids = [f"A{i:06d}" for i in range(associates)]
    others = [f"N{i:05d}" for i in range(max(1, associates // 50))]
    for mid in ids + others:
        yield {"type": "member.joined", "member_id": mid, "name": f"Member {mid}",
               "joined_on": "2024-01-08", "status": "salarie"}
    for mid in ids:
        yield {"type": "member.became_associate", "member_id": mid, "on": "2025-01-02"}
    yield {"type": "assembly.convened", "assembly_id": "AGO2026", "kind": "AGO",
           "held_on": "2026-06-20", "convocation": 1}
    rids = [f"AGO2026-R{k:02d}" for k in range(1, resolutions + 1)]
    for k, rid in enumerate(rids, start=1):
        yield {"type": "resolution.proposed", "resolution_id": rid, "assembly_id": "AGO2026",
               "title": f"Resolution {k}"}
    modes = {mid: rnd.choices(["present", "remote", "excused", "absent", None],
                              weights=[55, 10, 15, 10, 10])[0] for mid in ids}
    for mid, mode in modes.items():
        if mode is not None:
            yield {"type": "attendance.recorded", "meeting_id": "AGO2026", "member_id": mid, "mode": mode}
    for mid in others[:len(others) // 2]:
        yield {"type": "attendance.recorded", "meeting_id": "AGO2026", "member_id": mid, "mode": "present"}
    present = [m for m, mode in modes.items() if mode in ("present", "remote")]
    away = [m for m, mode in modes.items() if mode not in ("present", "remote")]
    collector = present[0]
    holder_of: dict[str, str] = {}
    for mid in away:
        draw = rnd.random()
        if draw < 0.2:
            holder = collector  # one holder collects more than the law's 1/20 of the electorate
        elif draw < 0.25:
            holder = rnd.choice(away)  # an absent holder: does not count
        elif draw < 0.7:
            holder = rnd.choice(present)
        else:
            continue
        holder_of[mid] = holder
        yield {"type": "proxy.given", "assembly_id": "AGO2026", "from_member": mid, "to_member": holder}
    for rid in rids:
        for mid in present:
            yield {"type": "vote.cast", "resolution_id": rid, "member_id": mid,
                   "choice": rnd.choices(["for", "against", "abstain", "blank"], [70, 20, 7, 3])[0]}
        for mid, holder in holder_of.items():
            yield {"type": "vote.cast", "resolution_id": rid, "member_id": mid, "cast_by": holder,
                   "choice": rnd.choice(["for", "against"])}
        for mid in rnd.sample(present, max(1, len(present) // 200)):
            yield {"type": "vote.cast", "resolution_id": rid, "member_id": mid, "choice": "against"}
        for mid in others[:len(others) // 2]:
            yield {"type": "vote.cast", "resolution_id": rid, "member_id": mid, "choice": "for"}


def raws(associates: int, resolutions: int, seed: int) -> list[Raw]:
    return [Raw(json.dumps({"event_id": f"g{i}", "occurred_at": AT, **e}).encode(), f"bench:{i}")
            for i, e in enumerate(events(associates, resolutions, seed))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--associates", type=int, default=10_000)
    parser.add_argument("--resolutions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/bench-governance.db"
        engine = open_ledger(url)
        batch = raws(args.associates, args.resolutions, args.seed)
        n_events = len(batch)
        started = time.perf_counter()
        outcome = ingest(engine, iter(batch), load_rules())
        ingest_s = time.perf_counter() - started
        del batch  # 200,000 events held in memory would only slow the collector during the tallies
        # `cae tally` runs in a process of its own: leave the ingest's heap out of the collector's way.
        gc.collect()
        gc.freeze()
        config = load_governance()
        timings, cpu, first = [], [], None
        for k in range(1, args.resolutions + 1):
            started, started_cpu = time.perf_counter(), time.process_time()
            with engine.connect() as conn:
                result = tally_resolution(conn, f"AGO2026-R{k:02d}", config)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            first = first or result
        engine.dispose()
    assert first is not None
    report = {
        "backend": url.split(":", 1)[0], "associates": args.associates, "resolutions": args.resolutions,
        "events": n_events, "processed": outcome.processed, "dead_letters": len(outcome.dead_letters),
        "ingest_s": round(ingest_s, 2), "ingest_events_per_s": round(n_events / ingest_s),
        "tally_ms": round(statistics.mean(timings), 1), "tally_ms_median": round(statistics.median(timings), 1),
        "tally_ms_max": round(max(timings), 1), "tally_cpu_ms": round(statistics.mean(cpu), 1),
        "first_tally": {k: v for k, v in first.to_json().items() if k != "not_counted"}
        | {"not_counted": len(first.not_counted)},
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>20}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
