"""How long `cae` takes to answer: `cae --help` and `cae statement`, on a large cooperative's ledger.

    python bench/cli.py --json

1. setup (reported as `setup_s`): bench/payroll.py's year of events for `--members` members
   (10,000 by default, about 260,000 events), ingested, January to November paid;
2. each command run `--runs` times (5 by default) as a user runs it, a new process each time,
   wall time from start to exit: `python -c pass` (the interpreter alone: the raw limit),
   `cae --help`, `cae statement MEMBER --month 2026-11` (its table, as a person reads it);
   their medians and maxima in seconds, and `ratio` = the interpreter's median ÷ the command's.

Targets (issue 11): `cae --help` ≤ 0.3 s, `cae statement` ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CAE = str(Path(sys.executable).parent / "cae")


def build_ledger(url: str, members: int, seed: int) -> dict[str, Any]:
    clock = time.perf_counter()
    child = subprocess.run([sys.executable, str(ROOT / "bench/payroll.py"), "--setup-only", url,
                            "--members", str(members), "--seed", str(seed)],
                           capture_output=True, text=True, check=False)
    if child.returncode != 0:
        raise SystemExit(f"bench setup failed: {child.stderr.strip()[-2000:]}")
    return {**json.loads(child.stdout.splitlines()[-1]), "setup_s": round(time.perf_counter() - clock, 3)}


def timed(argv: list[str], runs: int) -> dict[str, float]:
    walls = []
    for _ in range(runs):
        clock = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, check=False)
        walls.append(time.perf_counter() - clock)
        if done.returncode != 0:
            raise SystemExit(f"bench: {' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-1000:]}")
    return {"median_s": round(statistics.median(walls), 3), "max_s": round(max(walls), 3)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--ledger", metavar="PATH", default=None,
                        help="a SQLite ledger built by an earlier run (or by bench/web.py) to reuse, kept")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if args.members < 1 or args.runs < 1:
        parser.error("--members and --runs must be positive")
    work = Path(tempfile.mkdtemp(prefix="cae-bench-cli-"))
    try:
        path = Path(args.ledger).resolve() if args.ledger else work / "cli.db"
        url = f"sqlite:///{path}"
        result: dict[str, Any] = {"members": args.members, "runs": args.runs}
        if not path.exists():
            result.update(build_ledger(url, args.members, args.seed))
        member = f"M{1:0{len(str(args.members))}d}"
        result["python"] = timed([sys.executable, "-c", "pass"], args.runs)
        result["help"] = timed([CAE, "--help"], args.runs)
        result["statement"] = timed([CAE, "statement", member, "--month", "2026-11", "--db", url], args.runs)
        for name in ("help", "statement"):
            result[name]["ratio"] = round(result["python"]["median_s"] / result[name]["median_s"], 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    print(f"python -c pass {result['python']['median_s']:.3f} s; cae --help {result['help']['median_s']:.3f} s "
          f"(max {result['help']['max_s']:.3f}); cae statement {result['statement']['median_s']:.3f} s "
          f"(max {result['statement']['max_s']:.3f}); medians of {args.runs} runs, {args.members} members")


if __name__ == "__main__":
    main()
