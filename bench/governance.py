"""Benchmark: an assembly of N associates with proxies, votes by correspondence and votes on 20 resolutions.

    python bench/governance.py --associates 10000 --json [--db URL] [--resolutions 20] [--postal 60]
                               [--convocations]

Generates the cooperative (members joining and becoming associates, a few
members who are not associates), an AGO on first convocation, its
resolutions, attendance (present, remote, excused, absent), proxies (most
valid, some to absent holders, one holder collecting over the legal limit)
and the votes, with a few second votes and votes by non-associates. The
events go through the same pipeline as `cae ingest` (decode, validation,
governance gate, append-only record), into a fresh SQLite file unless
`--db` names a database. Then every resolution is tallied from the database
as `cae tally` does, cold: the record is read again for each resolution.

`--postal P` (default 60): P % of the associates vote by correspondence on
every resolution before the deadline (issue 17, G2), stay away, and some of
them give a proxy as well (which then does not count beside their postal
vote). `--convocations`: every associate consented to email, and the
convocation is sent to all of them through a real SMTP server on loopback
(aiosmtpd, in this process) as `cae assembly --send-convocations` does, each
sending recorded: `convocations_per_s`.

Prints `ingest_events_per_s` and `tally_ms` (mean wall time per resolution;
the target is under 200 ms), with the median, the p95, the slowest, the mean CPU time
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


def events(associates: int, resolutions: int, seed: int, postal: int = 0,
           contacts: bool = False) -> Iterator[dict[str, Any]]:
    """The cooperative's events, in stream order."""
    rnd = random.Random(seed)
    ids = [f"A{i:06d}" for i in range(associates)]
    others = [f"N{i:05d}" for i in range(max(1, associates // 50))]
    for mid in ids + others:
        yield {"type": "member.joined", "member_id": mid, "name": f"Member {mid}",
               "joined_on": "2024-01-08", "status": "salarie"}
    for mid in ids:
        yield {"type": "member.became_associate", "member_id": mid, "on": "2025-01-02"}
        if contacts:
            yield {"type": "member.contact_set", "member_id": mid, "email": f"{mid.lower()}@coop.example",
                   "convocation_by_email": True, "on": "2025-01-02"}
    yield {"type": "assembly.convened", "assembly_id": "AGO2026", "kind": "AGO",
           "held_on": "2026-06-20", "convocation": 1, "vote_deadline": "2026-06-19T15:00:00+02:00"}
    by_post = set(rnd.sample(ids, associates * postal // 100))
    rids = [f"AGO2026-R{k:02d}" for k in range(1, resolutions + 1)]
    for k, rid in enumerate(rids, start=1):
        yield {"type": "resolution.proposed", "resolution_id": rid, "assembly_id": "AGO2026",
               "title": f"Resolution {k}"}
    modes = {mid: None if mid in by_post else rnd.choices(["present", "remote", "excused", "absent", None],
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
        for mid in sorted(by_post):
            yield {"type": "vote.cast", "resolution_id": rid, "member_id": mid, "mode": "correspondence",
                   "choice": rnd.choices(["for", "against", "abstain", "blank"], [60, 30, 7, 3])[0]}
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


def raws(associates: int, resolutions: int, seed: int, postal: int = 0, contacts: bool = False) -> list[Raw]:
    return [Raw(json.dumps({"event_id": f"g{i}", "occurred_at": AT, **e}).encode(), f"bench:{i}")
            for i, e in enumerate(events(associates, resolutions, seed, postal, contacts))]


def convocations_per_s(engine: Any) -> tuple[int, float]:
    """Send the convocation to every associate through aiosmtpd on loopback, as the command does."""
    import os

    from aiosmtpd.controller import Controller

    from cli.convocations import send_convocations
    from streams.loopback import free_port

    class Count:
        received = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Count.received += 1
            return "250 OK"

    port = free_port()
    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    os.environ["CAE_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        sent = send_convocations(engine, "AGO2026", None, None, "http://127.0.0.1:8000")
        elapsed = time.perf_counter() - started
    finally:
        controller.stop()
    assert sent.emails == Count.received, (sent.emails, Count.received)
    return sent.emails, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--associates", type=int, default=10_000)
    parser.add_argument("--resolutions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postal", type=int, default=60, help="percent of associates voting by correspondence")
    parser.add_argument("--convocations", action="store_true", help="also email every associate the convocation")
    parser.add_argument("--db", default=None, help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/bench-governance.db"
        engine = open_ledger(url)
        batch = raws(args.associates, args.resolutions, args.seed, args.postal, args.convocations)
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
        mailed = convocations_per_s(engine) if args.convocations else None
        engine.dispose()
    assert first is not None
    report = {
        "backend": url.split(":", 1)[0], "associates": args.associates, "resolutions": args.resolutions,
        "events": n_events, "processed": outcome.processed, "dead_letters": len(outcome.dead_letters),
        "ingest_s": round(ingest_s, 2), "ingest_events_per_s": round(n_events / ingest_s),
        "tally_ms": round(statistics.mean(timings), 1), "tally_ms_median": round(statistics.median(timings), 1),
        "tally_ms_p95": round(statistics.quantiles(timings, n=20, method="inclusive")[18], 1) if len(timings) > 1
        else round(timings[0], 1),
        "tally_ms_max": round(max(timings), 1), "tally_cpu_ms": round(statistics.mean(cpu), 1),
        "postal_percent": args.postal,
        **({"convocations": mailed[0], "convocations_s": round(mailed[1], 2),
            "convocations_per_s": round(mailed[0] / mailed[1])} if mailed else {}),
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
