"""Payslip summaries and the payroll export (issue 4, items 4 and 6), figures from the ledger."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from engine.config import Rules, parse_rules
from engine.payroll_export import hours_basis
from ledger.payroll_run import run_payroll
from tests.ops_support import BASE_RATES, cli, ingest, invoice, joined, salary

SMIC = BASE_RATES + 'smic_hourly = "11.88"\n'


@pytest.fixture
def paid(engine: Engine, rules: Rules) -> Engine:
    """M1 (associate) paid 1000.00 in September and October; M2 capped in October; M3 never salaried."""
    ingest(engine, rules, joined("M1"), joined("M2"), joined("M3", status="cape"),
           salary("M1", "2026-09", "1000.00"), salary("M2", "2026-10", "3000.00"),
           invoice("M1", "F1", "2026-09-03", "5000.00"), invoice("M2", "F2", "2026-10-03", "2000.00"),
           invoice("M3", "F3", "2026-10-03", "2000.00"))
    with engine.begin() as conn:
        run_payroll(conn, "2026-09", rules)
        run_payroll(conn, "2026-10", rules)
    return engine


def test_a_payslip_summary_gives_the_ledgers_figures_and_the_year_to_date(paid: Engine, db_url: str,
                                                                          tmp_path: Path) -> None:
    page = tmp_path / "bulletin.html"
    summary = cli("payslip", "M1", "--month", "2026-10", "--html", str(page), "--db", db_url, "--json")
    statement = cli("statement", "M1", "--month", "2026-10", "--db", db_url, "--json")
    assert {k: summary[k] for k in statement["payroll"]} == statement["payroll"]
    assert (summary["gross"], summary["net"], summary["employer_cost"]) == ("1000.00", "780.00", "1420.00")
    assert summary["year_to_date"] == {"gross": "2000.00", "net": "1560.00", "employer_cost": "2840.00"}
    assert summary["contract"] == "CESA" and summary["revision"] == 0 and summary["corrections"] == []
    assert summary["ledger_agrees"] is True and summary["name"] == "Member M1"
    html = page.read_text(encoding="utf-8")
    assert "Member M1" in html and "octobre 2026" in html
    assert "780,00\u00a0€" in html and "2\u202f000,00\u00a0€" in html and "780.00" not in html  # French formats
    text = cli("payslip", "M2", "--month", "2026-10", "--db", db_url)
    assert "Gross (capped)" in text


def test_a_payslip_needs_a_member_and_a_payroll(paid: Engine, db_url: str) -> None:
    assert 'unknown member "M9"' in cli("payslip", "M9", "--month", "2026-10", "--db", db_url, ok=False)
    assert "no payslip for M3 in 2026-10" in cli("payslip", "M3", "--month", "2026-10", "--db", db_url,
                                                 ok=False)


def test_the_export_writes_the_variables_a_payroll_firm_asks_for(paid: Engine, db_url: str,
                                                                 tmp_path: Path) -> None:
    out_csv, out_xlsx = tmp_path / "variables.csv", tmp_path / "variables.xlsx"
    done = cli("payroll", "export", "--month", "2026-10", "--csv", str(out_csv), "--xlsx", str(out_xlsx),
               "--db", db_url, "--json")
    assert done["members"] == 2 and done["files"] == [str(out_csv), str(out_xlsx)]
    with out_csv.open(encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert lines == done["lines"]
    assert [(r["member_id"], r["contract_type"], r["hours_basis"], r["requested_gross"], r["employer_cost"],
             r["net"], r["capped"]) for r in lines] == [
        ("M1", "CESA", "151.67", "1000.00", "1420.00", "780.00", "no"),
        ("M2", "CESA", "151.67", "3000.00", "1770.00", "972.25", "yes")]
    sheet = load_workbook(out_xlsx).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == list(lines[0])
    assert values[1][:2] == ["M1", "Member M1"] and Decimal(str(values[1][5])) == Decimal("1000")
    runs = cli("runs", "--job", "export", "--db", db_url, "--json")["runs"]
    assert runs[0]["outcome"] == "ok" and "2 members" in runs[0]["detail"]
    assert "no payroll ran for 2026-08" in cli("payroll", "export", "--month", "2026-08",
                                               "--csv", str(out_csv), "--db", db_url, ok=False)


def test_hours_follow_the_hourly_smic_up_to_full_time() -> None:
    rates = parse_rules(SMIC).at(date(2026, 10, 1))
    assert hours_basis(Decimal("1000.00"), rates) == Decimal("84.18")  # 1000 / 11.88
    assert hours_basis(Decimal("2500.00"), rates) == Decimal("151.67")
    assert hours_basis(Decimal("0.00"), rates) == Decimal("0.00")
    assert hours_basis(Decimal("1000.00"), parse_rules(SMIC.replace('smic_hourly = "11.88"\n', ""))
                       .at(date(2026, 10, 1))) == Decimal("151.67")


def test_the_export_uses_the_smic_of_the_configuration(paid: Engine, db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "cae.toml"
    config.write_text(SMIC, encoding="utf-8")
    done = cli("payroll", "export", "--month", "2026-10", "--csv", str(tmp_path / "v.csv"),
               "--config", str(config), "--db", db_url, "--json")
    assert [r["hours_basis"] for r in done["lines"]] == ["84.18", "104.92"]  # 1246.48 / 11.88
