"""The public money scenarios, through the real `cae` command, on both backends.

`october`: a month of a small cooperative. `refunds` (issue 9): a credit note in
a later month gives its invoice's contribution and share back, a leaver is paid
for their last month, an invoice is cancelled by two credit notes that split
it, to the cent of VAT.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SHARED


@pytest.mark.parametrize("scenario", ["october", "refunds"])
def test_the_scenario_matches_to_the_cent(db_url: str, scenario: str) -> None:
    cae = os.path.join(os.path.dirname(sys.executable), "cae")
    result = subprocess.run(
        [sys.executable, str(SHARED / "tools/check_scenario.py"), str(SHARED / "scenarios" / scenario)],
        env={**os.environ, "CAE_CMD": cae, "CAE_CHECK_DB": db_url}, capture_output=True, text=True,
        cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 mismatches" in result.stdout
