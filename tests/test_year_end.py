"""Issue 9, point 5: the fiscal year ends, and the next one opens with its à-nouveaux.

Two years of a small cooperative, month by month as the staff would run them:
events, payroll, close; December closed, `cae close-year`, then the next year
goes on. Every figure a member or the staff sees continues across the year end
(budget, capital, clients' balances, what is due), the trial balance of
1 January is the balance-sheet part of 31 December with the result, and both
years' FEC pass the DGFiP's structural checks, the second opening with AN.
(2024 and 2025, so that every month has ended whatever day the tests run.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from cli.main import cae
from engine.config import Rules
from engine.periods import last_day, next_month
from tests.ops_support import event, ingest, invoice, joined, salary
from tests.test_fec import validate_fec

SIREN = "123456789"


def run(*args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cae, [*args, "--json"])
    assert result.exit_code == code, (result.exit_code, result.output)
    return json.loads(result.stdout) if code == 0 else result.stderr


def months(first: str, last: str) -> Iterator[str]:
    month = first
    while month <= last:
        yield month
        month = next_month(month)


def month_events(month: str) -> list[Any]:
    """Each month: both members invoice, M1 is paid for last month's invoice and spends."""
    day = f"{month}-10"
    raws = [invoice("M1", f"F1-{month}", day, "3000.00"), invoice("M2", f"F2-{month}", day, "1000.00"),
            event("expense.recorded", expense_id=f"X-{month}", member_id="M1", spent_on=day, supplier="Freelance",
                  amount_ht="400.00", vat="80.00", direct_cost=True)]
    previous = f"{int(month[:4]) - 1}-12" if month.endswith("-01") else f"{month[:5]}{int(month[5:]) - 1:02d}"
    if month not in ("2024-01", "2025-01"):  # last month's invoices are paid
        raws += [event("payment.received", payment_id=f"P{m}-{month}", invoice_id=f"F{m}-{previous}",
                       member_id=f"M{m}", received_on=day, amount=amount) for m, amount in ((1, "3600.00"),
                                                                                          (2, "1200.00"))]
    if month == "2025-01":  # December's invoice of M1, paid with 100.00 too much; M2's credited
        raws += [event("payment.received", payment_id="P-dec", invoice_id="F1-2024-12", member_id="M1",
                       received_on="2025-01-05", amount="3700.00"),
                 event("credit_note.issued", credit_note_id="A-dec", invoice_id="F2-2024-12", member_id="M2",
                       issued_on="2025-01-20", lines=[{"label": "Remise", "amount_ht": "1000.00",
                                                       "vat_rate": "0.20"}])]
    return raws


@pytest.fixture
def two_years(engine: Engine, rules: Rules, db_url: str) -> str:
    """2024 run and closed month by month, the year closed; January and February 2025 run."""
    ingest(engine, rules, joined("M1", on="2024-01-02"), joined("M2", "cape", on="2024-01-02"),
           event("member.became_associate", member_id="M1", on="2024-01-02"),
           salary("M1", "2024-01", "1200.00"))
    for month in months("2024-01", "2024-12"):
        ingest(engine, rules, *month_events(month))
        run("payroll", "run", "--month", month, "--db", db_url)
        run("close", "--month", month, "--db", db_url)
    return db_url


def test_the_year_closes_only_after_december_and_once(engine: Engine, rules: Rules, db_url: str) -> None:
    ingest(engine, rules, joined("M1", on="2024-01-02"), invoice("M1", "F1", "2024-11-10", "100.00"))
    run("payroll", "run", "--month", "2024-11", "--db", db_url)
    run("close", "--month", "2024-11", "--db", db_url)
    assert "December 2024 is not closed" in run("close-year", "--year", "2024", "--db", db_url, code=1)
    run("close", "--month", "2024-12", "--db", db_url)
    first = run("close-year", "--year", "2024", "--db", db_url)
    again = run("close-year", "--year", "2024", "--db", db_url)
    assert first["already_closed"] is False and again["already_closed"] is True
    assert (again["lines"], again["result"]) == (first["lines"], first["result"])
    tb = run("trial-balance", "--db", db_url)
    assert tb["total_debit"] == tb["total_credit"]


def test_a_month_of_the_next_year_waits_for_the_year_to_be_closed(two_years: str, engine: Engine,
                                                                  rules: Rules) -> None:
    ingest(engine, rules, *month_events("2025-01"))
    run("payroll", "run", "--month", "2025-01", "--db", two_years)
    refused = run("close", "--month", "2025-01", "--db", two_years, code=1)
    assert "cae close-year --year 2024" in refused


def test_everything_continues_across_the_year_end(two_years: str, engine: Engine, rules: Rules,
                                                  tmp_path: Path) -> None:
    db = two_years
    december = {m: run("statement", m, "--month", "2024-12", "--db", db) for m in ("M1", "M2")}
    end_2024 = {a["account"]: a for a in run("trial-balance", "--month", "2024-12", "--db", db)["accounts"]}
    closed = run("close-year", "--year", "2024", "--db", db)

    # The trial balance of 1 January 2025 is the balance-sheet part of 31 December, and the result.
    opening = {a["account"]: a for a in run("trial-balance", "--month", "2024-12", "--db", db)["accounts"]}
    assert opening == end_2024  # the year closed is as it was
    from ledger.balances import trial_balance
    from datetime import date
    with engine.connect() as conn:
        first_day = {r.account: r.balance for r in trial_balance(conn, date(2025, 1, 1))}
    sheet = {a: Decimal(r["balance"]) for a, r in end_2024.items() if a[0] in "12345"}
    result = -sum((Decimal(r["balance"]) for a, r in end_2024.items() if a[0] in "67"), Decimal(0))
    assert result == Decimal(closed["result"]) and result > 0
    assert first_day == {**sheet, "120": -result}

    for month in ("2025-01", "2025-02"):
        ingest(engine, rules, *month_events(month))
        run("payroll", "run", "--month", month, "--db", db)
        run("close", "--month", month, "--db", db)
    january = {m: run("statement", m, "--month", "2025-01", "--db", db) for m in ("M1", "M2")}
    for m in ("M1", "M2"):  # the budget and the capital continue; January's own movements only
        s = january[m]
        payroll = s["payroll"]["employer_cost"] if s["payroll"] else "0.00"
        moved = (Decimal(s["revenue_ht"]) - Decimal(s["contribution"]) - Decimal(s["societariat"])
                 - Decimal(s["direct_costs_ht"]) - Decimal(s["other_expenses_ht"]) - Decimal(payroll))
        assert Decimal(s["budget_closing"]) == Decimal(december[m]["budget_closing"]) + moved, m
        assert Decimal(s["capital_total"]) == Decimal(december[m]["capital_total"]) + Decimal(s["societariat"])
    # the new year's base starts at zero: M2's credit note of December's invoice gives nothing back in 2025
    assert january["M2"]["revenue_ht"] == "0.00" and january["M2"]["contribution"] == "0.00"
    report = run("reconcile", "--month", "2025-01", "--db", db)
    assert [c["name"] for c in report["checks"] if not c["ok"]] == []
    credits = next(c for c in report["checks"] if c["name"].startswith("clients' credit"))
    assert credits["attention"] and "100.00" in credits["detail"]  # December's invoice, overpaid

    for year in (2024, 2025):
        summary = run("fec", "--year", str(year), "--siren", SIREN, "-o", str(tmp_path), "--db", db)
        rows = validate_fec(Path(summary["path"]), year)
        assert summary["total_debit"] == summary["total_credit"]
        if year == 2025:
            opening_rows = [r for r in rows if r["JournalCode"] == "AN"]
            assert rows[:len(opening_rows)] == opening_rows and opening_rows  # the file opens with AN
            assert {r["EcritureDate"] for r in opening_rows} == {"20250101"}
            assert all(r["CompteNum"][0] in "12345" for r in opening_rows)
        else:
            assert not any(r["JournalCode"] == "AN" for r in rows)
    assert last_day("2025-02")  # (the months above all ended)
