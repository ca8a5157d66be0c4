"""bench/governance.py at a small size (issue 17, checks): correspondence voters in the quorum, and the
convocations through a real SMTP server on loopback, every one received and recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "governance.py"


def test_the_bench_counts_postal_voters_and_sends_every_convocation() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--associates", "200", "--resolutions", "3", "--postal", "60",
                           "--convocations", "--json"], capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(done.stdout)
    assert (report["dead_letters"], report["first_tally"]["postal"], report["convocations"]) == (0, 120, 200)
    assert report["tally_ms_p95"] >= report["tally_ms_median"] > 0 and report["convocations_per_s"] > 0
