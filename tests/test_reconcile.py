"""`cae reconcile` (issue 4, item 2): the October scenario reconciles, and each check fails when it should.

Run through the real command on SQLite and PostgreSQL: per member the
statement's figures plus requested gross, capped flag and budget before;
totals that are the sums of the statements; checks that say ok or not.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from engine.config import Rules
from ledger.closing import close_month
from ledger.payroll_run import run_payroll
from tests.conftest import SHARED
from tests.ops_support import cli, event, ingest, invoice, joined, salary

OCTOBER = SHARED / "scenarios/october"
AMOUNTS = ("revenue_ht", "vat_collected", "direct_costs_ht", "other_expenses_ht", "contribution",
           "societariat", "budget_closing", "capital_total")
PAYROLL_AMOUNTS = ("gross", "employer_contributions", "employee_contributions", "net", "employer_cost")
LEDGER_CHECKS = ("706", "44571", "6581", "7581", "1013", "641", "645", "421", "431")


def test_october_reconciles_with_every_check_ok(db_url: str, tmp_path: Path) -> None:
    cli("ingest", str(OCTOBER / "events.jsonl"), "--db", db_url, "--json")
    cli("payroll", "run", "--month", "2026-10", "--db", db_url, "--json")
    report = cli("reconcile", "--month", "2026-10", "--csv", str(tmp_path / "r.csv"), "--db", db_url, "--json")

    assert set(report) >= {"month", "members", "totals", "checks"}
    assert report["month"] == "2026-10"
    assert [c for c in report["checks"] if not c["ok"]] == []
    assert all(set(c) >= {"name", "ok", "detail"} for c in report["checks"])
    names = " | ".join(c["name"] for c in report["checks"])
    for account in LEDGER_CHECKS:
        assert f"account {account}" in names
    for words in ("trial balance balanced", "payroll run for every eligible member", "negative budget",
                  "unpaid after 60 days", "late events", "dead letters pending"):
        assert words in names
    dead = next(c for c in report["checks"] if c["name"] == "dead letters pending")
    assert dead["attention"] and dead["detail"].startswith("4 pending")

    statements = [cli("statement", m, "--month", "2026-10", "--db", db_url, "--json")
                  for m in ("M001", "M002", "M003")]
    members = {m["member_id"]: m for m in report["members"]}
    for s in statements:
        line = members[s["member_id"]]
        assert {k: line[k] for k in s} == s  # the statement's keys, the statement's figures
        assert set(line) >= {"requested_gross", "capped", "budget_before"}
    for key in AMOUNTS:
        assert Decimal(report["totals"][key]) == sum(Decimal(s[key]) for s in statements), key
    for key in PAYROLL_AMOUNTS:
        assert Decimal(report["totals"][key]) == sum(Decimal(s["payroll"][key]) for s in statements
                                                     if s["payroll"]), key
    assert report["totals"]["requested_gross"] == "1800.00"
    assert members["M003"]["capped"] is True and members["M001"]["capped"] is False
    # budget before the payroll, budget after it: after = before − employer cost, member by member
    assert members["M001"]["budget_before"] == "1140.00" and members["M001"]["budget_closing"] == "288.00"
    assert members["M003"]["budget_before"] == "1504.50" and members["M003"]["budget_closing"] == "0.00"
    assert members["M002"]["budget_before"] == members["M002"]["budget_closing"] == "708.00"

    with (tmp_path / "r.csv").open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [r["member_id"] for r in table] == ["M001", "M002", "M003", "TOTAL"]
    assert table[-1]["revenue_ht"] == report["totals"]["revenue_ht"] == "4133.33"
    assert table[2]["capped"] == "yes" and table[2]["budget_before"] == "1504.50"


def test_the_table_shows_every_check(db_url: str) -> None:
    cli("ingest", str(OCTOBER / "events.jsonl"), "--db", db_url, "--json")
    out = cli("reconcile", "--month", "2026-10", "--db", db_url)
    assert "Reconciliation 2026-10" in out and "Budget before" in out
    assert "not ok  payroll run for every eligible member: not paid: M001, M003" in out
    assert "to look at  dead letters pending" in out


def test_each_check_fails_with_what_is_wrong(engine: Engine, rules: Rules, db_url: str) -> None:
    ingest(engine, rules,
           joined("A"), joined("B"), joined("C", status="cape"),
           salary("A", "2026-10", "1000.00"),
           invoice("B", "F-OLD", "2026-08-01", "100.00"),           # unpaid for more than 60 days
           invoice("B", "F-SEP", "2026-09-10", "5000.00"),
           event("expense.recorded", expense_id="X-C", member_id="C", spent_on="2026-10-05",
                 supplier="La Poste", amount_ht="50.00", vat="0.00", direct_cost=False))  # C goes below 0
    with engine.begin() as conn:
        close_month(conn, "2026-09")
    ingest(engine, rules, invoice("B", "F-LATE", "2026-09-28", "200.00"))  # posted on 2026-10-01
    with engine.begin() as conn:
        run_payroll(conn, "2026-10", rules)  # A's budget is 0: paid 0.00, capped
    ingest(engine, rules, salary("B", "2026-10", "500.00"))  # B became payable after the run

    report = cli("reconcile", "--month", "2026-10", "--db", db_url, "--json")
    checks = {c["name"]: c for c in report["checks"]}
    failed = {name for name, c in checks.items() if not c["ok"]}
    assert failed == {"payroll run for every eligible member", "no member with a negative budget",
                      "no invoice unpaid after 60 days"}
    assert checks["payroll run for every eligible member"]["detail"] == "not paid: B"
    assert checks["no member with a negative budget"]["detail"] == "negative: C (-50.00)"
    assert "F-OLD (B, 2026-08-01, 120.00 due)" in checks["no invoice unpaid after 60 days"]["detail"]
    assert checks["late events posted from a closed month"]["detail"] == "1 posted here: F-LATE"
    assert checks["late events posted from a closed month"]["attention"]
    # the books agree with the statements all the same
    assert all(c["ok"] for name, c in checks.items() if "account" in name or "trial balance" in name)
    assert report["totals"]["revenue_ht"] == "200.00"
