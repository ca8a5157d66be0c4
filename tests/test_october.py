"""The public October scenario, through the real `cae` command, on both backends."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, SHARED


def test_october_scenario_matches_to_the_cent(db_url: str) -> None:
    cae = os.path.join(os.path.dirname(sys.executable), "cae")
    result = subprocess.run(
        [sys.executable, str(SHARED / "tools/check_scenario.py"), str(SHARED / "scenarios/october")],
        env={**os.environ, "CAE_CMD": cae, "CAE_CHECK_DB": db_url}, capture_output=True, text=True,
        cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 mismatches" in result.stdout
