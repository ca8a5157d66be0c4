"""The month's reports on large books: the reconciliation, the trial balance, the staff's month page.

    python bench/reports.py --json

Three ledgers (SQLite files, built in child processes and kept with `--ledgers DIR`):

- `cooperative`: bench/events.py's cooperative of 60,000 events (300 members,
  credit notes, bank statements): the ledger on which `cae reconcile` took
  45–63 s under load (issue 18, point 4);
- `payroll_year`: bench/payroll.py's year of 10,000 members (260,000 events or
  so), January to December paid;
- `unpaid`: bench/events.py's cooperative of 250,000 events less its payments:
  more than 100,000 invoices, none paid, each unpaid in December's
  reconciliation once 60 days old.

On each, for December 2026, each report is timed `--runs` times (p50, p95, max in ms of wall
time, and `cpu_p50_ms`: the median CPU time, which the load of a shared machine does not move):

- in-process, in a child process of its own (`--timeout` kills a report that
  takes longer): `reconcile` (`ledger.monthly.reconciliation_read`, then its
  JSON), `trial_balance` (`ledger.balances.trial_balance` at the month's end);
- through the CLI, each a `cae` process as users start it: `cli_reconcile_json`
  (`cae reconcile --month M --json`), `cli_reconcile_all` (`--all`: every
  member, in the table or its narrow form), `cli_trial_balance` (`cae
  trial-balance --month M --json`);
- through `cae serve` (one process, loopback, a staff account signed in):
  `staff_month` (`GET /staff?month=M`) and `staff_reconcile` (`GET
  /staff/reconcile?month=M`, the reconciliation's page).

Target (issue 18, point 4): each answers in ≤ 2 s. `unpaid_invoices` is the
count December's reconciliation reports (its check of invoices unpaid after 60 days).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from bench.events import cooperative  # noqa: E402
from bench.web import PASSWORD, Server, _percentiles, signed_in  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CAE = str(Path(sys.executable).parent / "cae")
MONTH = "2026-12"
STAFF = "staff@bench.test"
LEDGERS = ("cooperative", "payroll_year", "unpaid")


def without_payments(n: int) -> Iterator[bytes]:
    """bench/events.py's cooperative of about `n` events, its payments left out: every invoice unpaid."""
    for line in cooperative(n, rejects=False):
        if b'"type": "payment.received"' not in line:
            yield line


def build(name: str, url: str) -> dict[str, Any]:
    """One ledger, in this (child) process: events written to a file and ingested as `cae ingest` does."""
    from bench import payroll
    from engine.config import load_rules
    from ledger import monthly
    from ledger.db import open_ledger
    from ledger.runs import SCHEDULED
    from streams.embedded import ingest, read_events
    from web import accounts

    if name == "payroll_year":
        made = payroll.setup(url, 10_000, 24, 2026)  # January to November paid
        engine = open_ledger(url)
        monthly.payroll(engine, MONTH, load_rules(), origin=SCHEDULED, started_by="bench setup")
    else:
        lines = cooperative(60_000) if name == "cooperative" else without_payments(250_000)
        work = Path(tempfile.mkdtemp(prefix="cae-bench-reports-"))
        try:
            path = work / "events.jsonl"
            with path.open("wb") as handle:
                count = 0
                for line in lines:
                    handle.write(line + b"\n")
                    count += 1
            engine = open_ledger(url)
            clock = time.perf_counter()
            ingest(engine, read_events(path), load_rules())
            made = {"events": count, "ingest_s": round(time.perf_counter() - clock, 3)}
        finally:
            shutil.rmtree(work, ignore_errors=True)
    with engine.begin() as conn:
        accounts.add_user(conn, STAFF, PASSWORD, "staff", None, "bench")
    engine.dispose()
    return made


def in_process(report: str, url: str, runs: int) -> list[tuple[float, float]]:
    """`runs` timings of one report computed in this (child) process: (wall, CPU) seconds; the CPU
    includes SQLite's, which runs in the process, and does not move with the machine's load."""
    from engine.config import load_rules
    from engine.periods import last_day
    from ledger import monthly
    from ledger.balances import trial_balance
    from ledger.db import open_ledger, reading

    engine, rules = open_ledger(url), load_rules()

    def reconcile() -> object:
        return json.dumps(monthly.reconciliation_read(engine, MONTH, rules).to_json())

    def balance() -> object:
        with reading(engine) as conn:
            return trial_balance(conn, last_day(MONTH))

    work: Callable[[], object] = reconcile if report == "reconcile" else balance
    found = []
    for _ in range(runs):
        clock, cpu = time.perf_counter(), time.process_time()
        work()
        found.append((time.perf_counter() - clock, time.process_time() - cpu))
    return found


def _child(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str] | None:
    """A child process run to its end, or None if it took longer than `timeout` (then killed)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv[:4])} failed: {done.stderr.strip()[-2000:]}")
    return done


def _figures(seconds: list[tuple[float, float]] | None, timeout: float) -> dict[str, Any]:
    """p50, p95 and max of the wall times in ms, and the median CPU time (`cpu_p50_ms`)."""
    if seconds is None:
        return {"timed_out_after_s": timeout}
    cpu = sorted(c for _, c in seconds)
    return {"runs": len(seconds), **_percentiles([w for w, _ in seconds]), "cpu_p50_ms": round(cpu[len(cpu) // 2] * 1000)}


def measure_in_process(report: str, url: str, runs: int, timeout: float) -> dict[str, Any]:
    done = _child([sys.executable, __file__, "--in-process", report, "--db", url, "--runs", str(runs)],
                  timeout * runs)
    return _figures(None if done is None else json.loads(done.stdout.splitlines()[-1]), timeout * runs)


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def measure_cli(args: list[str], url: str, runs: int, timeout: float) -> dict[str, Any]:
    """`cae ARGS` `runs` times: wall and CPU time (the child's, as the kernel counted it)."""
    seconds = []
    for _ in range(runs):
        clock, cpu = time.perf_counter(), _children_cpu()
        if _child([CAE, *args, "--db", url], timeout) is None:
            return _figures(None, timeout)
        seconds.append((time.perf_counter() - clock, _children_cpu() - cpu))
    return _figures(seconds, timeout)


async def measure_pages(url: str, runs: int, timeout: float, log: Path) -> dict[str, Any]:
    """The staff's pages through `cae serve`, signed in; the first request of each warms up."""
    server = Server(url, log)
    found: dict[str, Any] = {}
    try:
        staff = await signed_in(server.base, STAFF)
        try:
            for name, path in (("staff_month", f"/staff?month={MONTH}"),
                               ("staff_reconcile", f"/staff/reconcile?month={MONTH}")):
                seconds: list[float] | None = []
                for _ in range(runs + 1):
                    clock = time.perf_counter()
                    try:
                        async with staff.get(path, timeout=aiohttp.ClientTimeout(total=timeout)) as answer:
                            await answer.read()
                            if answer.status != 200:
                                raise SystemExit(f"bench: GET {path} answered {answer.status}")
                    except asyncio.TimeoutError:
                        seconds = None
                        break
                    seconds.append(time.perf_counter() - clock)  # type: ignore[union-attr]
                found[name] = (_figures(None, timeout) if seconds is None
                               else {"runs": runs, **_percentiles(seconds[1:])})
                if seconds is None:
                    break  # the server is still busy with it: the next page would measure that
        finally:
            await staff.close()
    finally:
        try:
            server.stop()
        except subprocess.TimeoutExpired:  # still computing a page that timed out: not worth waiting for
            server.process.kill()
            server.process.wait()
            server.log.close()
    return found


def unpaid_count(url: str) -> int:
    """How many invoices December's reconciliation finds unpaid after 60 days (its check says "N unpaid: …")."""
    done = _child([CAE, "reconcile", "--month", MONTH, "--json", "--db", url], 3600)
    assert done is not None
    (check,) = [c for c in json.loads(done.stdout)["checks"] if c["name"] == "no invoice unpaid after 60 days"]
    return 0 if check["ok"] else int(check["detail"].split()[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledgers", metavar="DIR", default=None,
                        help="keep the ledgers in DIR and reuse those already there (default: built in a temporary one)")
    parser.add_argument("--only", choices=LEDGERS, action="append", help="this ledger only (repeatable)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each report (default 5)")
    parser.add_argument("--cli-runs", type=int, default=3, help="timed `cae` runs of each command (default 3)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a run counts as timed out")
    parser.add_argument("--build-only", metavar="NAME", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--in-process", metavar="REPORT", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db", metavar="URL", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    os.environ["PYTHONPATH"] = str(ROOT)  # `cae` and the children run this tree's code, whatever the venv installed
    if min(args.runs, args.cli_runs) < 1 or args.timeout <= 0:
        parser.error("--runs, --cli-runs and --timeout must be positive")
    if args.build_only:
        print(json.dumps(build(args.build_only, args.db)))
        return
    if args.in_process:
        print(json.dumps(in_process(args.in_process, args.db, args.runs)))
        return
    work = Path(tempfile.mkdtemp(prefix="cae-bench-reports-"))
    result: dict[str, Any] = {}
    try:
        folder = Path(args.ledgers).resolve() if args.ledgers else work
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.only or LEDGERS:
            path, kept = folder / f"{name}.db", folder / f"{name}.json"
            url = f"sqlite:///{path}"
            if not kept.exists():
                path.unlink(missing_ok=True)
                clock = time.perf_counter()
                done = _child([sys.executable, __file__, "--build-only", name, "--db", url], 3600)
                assert done is not None
                made = {**json.loads(done.stdout.splitlines()[-1]), "setup_s": round(time.perf_counter() - clock, 3)}
                made["unpaid_invoices"] = unpaid_count(url)
                kept.write_text(json.dumps(made))
            figures: dict[str, Any] = {**json.loads(kept.read_text()), "month": MONTH}
            for report in ("reconcile", "trial_balance"):
                figures[report] = measure_in_process(report, url, args.runs, args.timeout)
                print(name, report, figures[report], file=sys.stderr, flush=True)
            for report, command in (("cli_reconcile_json", ["reconcile", "--month", MONTH, "--json"]),
                                    ("cli_reconcile_all", ["reconcile", "--month", MONTH, "--all"]),
                                    ("cli_trial_balance", ["trial-balance", "--month", MONTH, "--json"])):
                figures[report] = measure_cli(command, url, args.cli_runs, args.timeout)
                print(name, report, figures[report], file=sys.stderr, flush=True)
            figures.update(asyncio.run(measure_pages(url, args.runs, args.timeout, work / f"{name}.log")))
            result[name] = figures
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    for name, figures in result.items():
        print(f"{name}: {figures.get('events')} events, {figures['unpaid_invoices']} invoices unpaid in {MONTH}")
        for report, found in figures.items():
            if isinstance(found, dict):
                said = (f"timed out after {found['timed_out_after_s']:.0f} s" if "timed_out_after_s" in found else
                        f"p50 {found['p50_ms']:.0f} ms  p95 {found['p95_ms']:.0f} ms  max {found['max_ms']:.0f} ms"
                        + (f"  CPU {found['cpu_p50_ms']} ms" if "cpu_p50_ms" in found else ""))
                print(f"  {report:20} {said}")


if __name__ == "__main__":
    main()
