"""`cae demo`, through the real command: one JSON document, contract statements, balanced, repeatable."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from cli.demo import parse_months

CAE = os.path.join(os.path.dirname(sys.executable), "cae")
STATEMENT_KEYS = {"member_id", "month", "revenue_ht", "vat_collected", "direct_costs_ht",
                  "other_expenses_ht", "contribution", "societariat", "payroll", "budget_closing",
                  "capital_total", "cash_budget_closing", "receivables_ht"}  # the last two: rule 12
PAYROLL_KEYS = {"gross", "employer_contributions", "employee_contributions", "net", "employer_cost",
                "capped"}
AMOUNT = re.compile(r"^-?[0-9]+\.[0-9]{2}$")


def _demo(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CAE, "demo", "--members", "12", "--months", "2026-09..2026-10", *args],
                          cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=300)


def _figures(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "seconds"}


def test_demo_json_is_one_document_of_contract_statements(tmp_path: Path) -> None:
    elsewhere = tmp_path / "ledger.db"
    result = _demo(tmp_path, "--json", env={"CAE_DATABASE_URL": f"sqlite:///{elsewhere}"})
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # the whole of stdout: exactly one document
    assert (tmp_path / "cae.db").exists() and not elsewhere.exists()
    assert document["month"] == "2026-10" and document["cooperative"]["months"] == ["2026-09", "2026-10"]
    assert len(document["statements"]) >= 10
    for statement in document["statements"]:
        assert set(statement) == STATEMENT_KEYS
        assert statement["month"] == "2026-10"
        for key in STATEMENT_KEYS - {"member_id", "month", "payroll"}:
            assert AMOUNT.match(statement[key]), (key, statement[key])
        if statement["payroll"] is not None:
            assert set(statement["payroll"]) == PAYROLL_KEYS
    assert any(s["payroll"] for s in document["statements"])
    balance = document["trial_balance"]
    assert balance["balanced"] is True and balance["total_debit"] == balance["total_credit"]
    assert document["events"]["dead_letters"] == len(document["dead_letters"]) >= 4
    assert all(letter["reason"] for letter in document["dead_letters"])
    assert set(document["totals"]) >= {"revenue_ht", "contribution", "societariat", "gross", "net",
                                       "budget_closing"}


def test_demo_twice_gives_the_same_figures(tmp_path: Path) -> None:
    first, second = _demo(tmp_path, "--json"), _demo(tmp_path, "--json")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert _figures(json.loads(first.stdout)) == _figures(json.loads(second.stdout))


def test_demo_prints_tables_without_json(tmp_path: Path) -> None:
    result = _demo(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Statements 2026-10" in result.stdout and "balanced" in result.stdout
    assert "dead letters" in result.stdout


def test_demo_refuses_a_database_that_holds_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    assert _demo(tmp_path, "--json", "--db", url).returncode == 0
    again = _demo(tmp_path, "--json", "--db", url)
    assert again.returncode == 1 and again.stdout == ""
    assert len(again.stderr.strip().splitlines()) == 1 and "already holds events" in again.stderr


def test_the_next_command_of_the_readme_reads_the_demo(tmp_path: Path) -> None:
    """Issue 8: after `cae demo`, `cae statement M001 --month 2026-10` reads the demo's books."""
    assert _demo(tmp_path, "--json").returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "CAE_DATABASE_URL"}
    done = subprocess.run([CAE, "statement", "M001", "--month", "2026-10", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["member_id"] == "M001"


def test_the_demo_leaves_real_books_in_cae_db_alone(tmp_path: Path) -> None:
    (tmp_path / "one.jsonl").write_text(json.dumps({
        "event_id": "real-1", "type": "member.joined", "occurred_at": "2026-01-05T09:00:00Z",
        "member_id": "M001", "name": "Alice", "joined_on": "2026-01-05", "status": "cape"}) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "CAE_DATABASE_URL"}
    assert subprocess.run([CAE, "ingest", "one.jsonl", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, timeout=120).returncode == 0
    assert not (tmp_path / "cae.db-wal").exists()  # the command closed its ledger: the file is whole
    before = (tmp_path / "cae.db").read_bytes()
    refused = _demo(tmp_path, "--json", env=env)
    assert refused.returncode == 1 and "not a demo" in refused.stderr
    assert (tmp_path / "cae.db").read_bytes() == before


def test_months_as_a_range_a_month_or_a_count() -> None:
    assert parse_months("2026-07..2026-10") == ["2026-07", "2026-08", "2026-09", "2026-10"]
    assert parse_months("2026-10") == ["2026-10"]
    assert parse_months("3") == ["2026-08", "2026-09", "2026-10"]
    assert parse_months("12")[0] == "2025-11" and parse_months("10")[0] == "2026-01"
    assert parse_months("2025-12..2026-01") == ["2025-12", "2026-01"]
    for bad in ("0", "2026-10..2026-07", "2026-13", "soon"):
        with pytest.raises(click.BadParameter):
            parse_months(bad)
