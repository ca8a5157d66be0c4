"""The public `treasury` scenario (tests/scenarios/treasury), through `cae` itself, on both backends.

What it holds and how it is run is in its expected.json's description: a CAMT.053
and a CFONB 120 statement of one account, matched by rules 11 a (a new payment,
and a `payment.received` already recorded), b, c (the transfer `cae payroll
transfers` wrote) and left for the staff, the CFONB file imported twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cli.main import cae

SCENARIO = Path(__file__).parent / "scenarios" / "treasury"
EXPECTED = json.loads((SCENARIO / "expected.json").read_text(encoding="utf-8"))
ACCOUNT = "FR7630006000011234567890189"


def run(db_url: str, *args: str) -> Any:
    result = CliRunner().invoke(cae, [*args, "--db", db_url, "--json"])
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout)


def test_the_treasury_scenario_matches_to_the_cent(db_url: str, tmp_path: Path) -> None:
    assert run(db_url, "ingest", str(SCENARIO / "events.jsonl"))["dead_letters"] == 0
    run(db_url, "payroll", "run", "--month", "2026-03")
    transfers = run(db_url, "payroll", "transfers", "--month", "2026-03", "-o", str(tmp_path / "virements.xml"),
                    "--from-account", ACCOUNT, "--on", "2026-03-31")
    assert transfers == EXPECTED["payroll"]
    for want in EXPECTED["imports"]:
        got = run(db_url, "bank", "import", str(SCENARIO / want["file"]))
        assert got == {k: v for k, v in want.items() if k != "file"}, want["file"]

    lines = sorted(run(db_url, "bank", "lines")["lines"], key=lambda x: (x["booked_on"], x["amount"]))
    expected = sorted(EXPECTED["lines"], key=lambda x: (x["booked_on"], x["amount"]))
    assert len(lines) == len(expected)
    for got, want in zip(lines, expected):
        flat = {**got, **(got["matched_to"] or {})}
        assert {k: flat.get(k) for k in want} == want

    balance = {row["account"]: row["balance"] for row in run(db_url, "trial-balance")["accounts"]}
    assert balance["512"] == EXPECTED["bank_512"]
    (bank,) = run(db_url, "reconcile", "--month", "2026-03")["bank"]["accounts"]
    assert {k: bank[k] for k in EXPECTED["reconcile_bank_2026-03"]} == EXPECTED["reconcile_bank_2026-03"]

    owed = run(db_url, "receivables", "--on", "2026-04-30")
    want = EXPECTED["receivables_on_2026-04-30"]
    assert [[x["invoice_id"], x["due"], x["outstanding_ht"], x["days_overdue"], x["bucket"]]
            for x in owed["invoices"]] == want["invoices"] and owed["total"] == want["total"]
    statement = run(db_url, "statement", "M1", "--month", "2026-03")
    assert statement["receivables_ht"] == EXPECTED["statement_M1_2026-03"]["receivables_ht"]
