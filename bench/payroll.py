"""A month's payroll and reconciliation for a large cooperative, after a year of its events.

    python bench/payroll.py --members 10000 --json

1. setup (not timed against the target, reported as `setup_s`), in a child
   process so that its memory is not counted: a year (2026) of events for
   `--members` members, two thirds of them salaried with a requested gross,
   each with invoices most months, payments and expenses
   (`--events-per-member`, 24 by default), written to a .jsonl and ingested
   through `streams.embedded.ingest`, as `cae ingest` does; the payroll of
   January to November is run, so December starts from a ledger that has paid
   eleven months;
2. timed, in this process: December's payroll as the scheduler runs it
   (`ledger.monthly.payroll`: the payslips, their entries and the run record,
   one transaction) → `payroll_s`; then December's reconciliation
   (`ledger.monthly.reconciliation`: statements of every member, totals,
   checks) → `reconcile_s`; `peak_rss_mb` is this process's peak.

Target (issue 4): payroll and reconciliation of 10,000 members each under 5 s
on SQLite. `--db URL` reuses an existing ledger instead of the setup (its
December payroll must not have run yet), e.g. a PostgreSQL database.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import load_rules  # noqa: E402
from ledger import monthly  # noqa: E402
from ledger.db import open_ledger  # noqa: E402
from ledger.runs import SCHEDULED  # noqa: E402
from streams.embedded import ingest, read_events  # noqa: E402

YEAR = 2026
MONTH = f"{YEAR}-12"


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def year_of_events(members: int, per_member: int, seed: int) -> Iterator[dict[str, Any]]:
    """The cooperative's year, month by month; within a month, members interleaved."""
    rng = random.Random(seed)
    width = len(str(members))
    ids = [f"M{i + 1:0{width}d}" for i in range(members)]
    n = 0

    def event(kind: str, day: date, **fields: Any) -> dict[str, Any]:
        nonlocal n
        n += 1
        return {"event_id": f"b{n}", "type": kind, "occurred_at": f"{day.isoformat()}T09:00:00Z", **fields}

    joined = date(YEAR - 1, 6, 1)
    for i, member in enumerate(ids):
        salaried = i % 3 != 0
        yield event("member.joined", joined, member_id=member, name=f"Membre {member}",
                    joined_on=joined.isoformat(), status="salarie" if salaried else "cape")
        if i % 5 < 2:
            yield event("member.became_associate", joined, member_id=member, on=joined.isoformat())
        if salaried:
            yield event("salary.set", joined, member_id=member, from_month=f"{YEAR}-01",
                        gross=_money(rng.randrange(120_000, 300_000, 100)))
    documents = max(1, per_member // 12)  # documents per member per month, about
    open_invoices: dict[str, list[tuple[str, int]]] = {m: [] for m in ids}
    for month in range(1, 13):
        first = date(YEAR, month, 1)
        for k in range(documents * members):
            member = ids[rng.randrange(members)]
            day = first + timedelta(days=rng.randrange(28))
            roll = rng.random()
            pending = open_invoices[member]
            if roll < 0.25 and pending:
                invoice_id, due = pending.pop(0)
                yield event("payment.received", day, payment_id=f"P{n}", invoice_id=invoice_id,
                            member_id=member, received_on=day.isoformat(), amount=_money(due))
            elif roll < 0.35:
                cents = rng.randrange(5_000, 60_000)
                yield event("expense.recorded", day, expense_id=f"X{n}", member_id=member,
                            spent_on=day.isoformat(), supplier="Fournisseur", amount_ht=_money(cents),
                            vat=_money(cents // 5), direct_cost=roll < 0.30)
            else:
                cents = rng.randrange(150_000, 600_000, 100)
                invoice_id = f"F{n}"
                pending.append((invoice_id, cents + cents // 5))
                yield event("invoice.issued", day, invoice_id=invoice_id, member_id=member,
                            issued_on=day.isoformat(), client="Client SA",
                            lines=[{"label": "Mission", "amount_ht": _money(cents), "vat_rate": "0.20"}])


def setup(url: str, members: int, per_member: int, seed: int) -> dict[str, Any]:
    """Generate, ingest, and pay January to November (the child process's work)."""
    work = Path(tempfile.mkdtemp(prefix="cae-bench-payroll-"))
    try:
        path = work / "events.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            count = 0
            for document in year_of_events(members, per_member, seed):
                handle.write(json.dumps(document) + "\n")
                count += 1
        engine, rules = open_ledger(url), load_rules()
        clock = time.perf_counter()
        outcome = ingest(engine, read_events(path), rules)
        ingest_s = time.perf_counter() - clock
        if outcome.dead_letters:
            raise SystemExit(f"bench: {len(outcome.dead_letters)} dead letters, first: "
                             f"{outcome.dead_letters[0].reason}")
        for month in range(1, 12):
            monthly.payroll(engine, f"{YEAR}-{month:02d}", rules, origin=SCHEDULED, started_by="bench setup")
        engine.dispose()
        return {"events": count, "ingest_s": round(ingest_s, 3)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(url: str) -> dict[str, Any]:
    engine, rules = open_ledger(url), load_rules()
    clock = time.perf_counter()
    paid = monthly.payroll(engine, MONTH, rules, origin=SCHEDULED, started_by="bench")
    payroll_s = time.perf_counter() - clock
    clock = time.perf_counter()
    reconciled = monthly.reconciliation(engine, MONTH, rules, origin=SCHEDULED, started_by="bench")
    reconcile_s = time.perf_counter() - clock
    if paid is None or reconciled is None:
        raise SystemExit(f"bench: {MONTH}'s payroll or reconciliation had already run on this database")
    report = reconciled[1]
    engine.dispose()
    return {"payroll_s": round(payroll_s, 3), "reconcile_s": round(reconcile_s, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "payslips": len(paid[1].payslips), "capped": sum(1 for s in paid[1].payslips if s.capped),
            "members": len(report.members), "checks_not_ok": [c.name for c in report.checks if not c.ok],
            "backend": engine.dialect.name}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--events-per-member", type=int, default=24, help="documents per member-year")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db", metavar="URL", default=None,
                        help="measure on this ledger (already set up) instead of a fresh SQLite file")
    parser.add_argument("--setup-only", metavar="URL", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if args.members < 1 or args.events_per_member < 1:
        parser.error("--members and --events-per-member must be positive")
    if args.setup_only:
        print(json.dumps(setup(args.setup_only, args.members, args.events_per_member, args.seed)))
        return
    work = Path(tempfile.mkdtemp(prefix="cae-bench-payroll-db-"))
    try:
        result: dict[str, Any] = {"members_set_up": args.members}
        url = args.db
        if url is None:
            url = f"sqlite:///{work / 'payroll.db'}"
            clock = time.perf_counter()
            child = subprocess.run([sys.executable, __file__, "--setup-only", url, "--members",
                                    str(args.members), "--events-per-member", str(args.events_per_member),
                                    "--seed", str(args.seed)], capture_output=True, text=True, check=False)
            if child.returncode != 0:
                raise SystemExit(f"bench setup failed: {child.stderr.strip()[-2000:]}")
            result.update(json.loads(child.stdout.splitlines()[-1]))
            result["setup_s"] = round(time.perf_counter() - clock, 3)
        result.update(measure(url))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['members']} members, {result['payslips']} payslips ({result['capped']} capped) on "
          f"{result['backend']}: payroll {result['payroll_s']:.2f} s, reconciliation "
          f"{result['reconcile_s']:.2f} s, peak RSS {result['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
