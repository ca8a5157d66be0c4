"""Correction paths (issue 4, item 5): `cae payroll rerun`, a reversing entry and the payslip again.

Corrections leave the trial balance balanced and the history intact: every
row there before is still there, unchanged, and the database refuses any
update or delete; a closed month is corrected in the next open one.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from engine.config import Rules
from engine.corrections import rerun_event_id
from engine.keys import internal_key
from engine.payroll import payslip_key
from ledger.balances import trial_balance
from ledger.closing import close_month
from ledger.monthly import reconciliation_read
from ledger.payroll_run import payslips, run_payroll
from ledger.payslips import current as payslips_now
from ledger.statements import statements
from tests.ops_support import cli, ingest, invoice, joined, rows, salary

FIRST_RERUN = rerun_event_id("2026-10", "M1", 1)
RERUNS = internal_key("payroll-rerun", "%")
HISTORY = ("entries", "lines", "processed_events", "payslips", "payslip_revisions", "runs")


@pytest.fixture
def capped(engine: Engine, rules: Rules) -> Engine:
    """M1 asks 2000.00 gross in October but its budget (3000 − 345 = 2655) caps it at 1869.72."""
    ingest(engine, rules, joined("M1"), joined("M2"), salary("M1", "2026-10", "2000.00"),
           salary("M2", "2026-10", "500.00"),
           invoice("M1", "F1", "2026-10-03", "3000.00"), invoice("M2", "F2", "2026-10-04", "3000.00"))
    with engine.begin() as conn:
        slips = {s.member_id: s for s in run_payroll(conn, "2026-10", rules)}
    assert slips["M1"].capped and slips["M1"].gross == Decimal("1869.72")
    return engine


def balanced(engine: Engine) -> bool:
    with engine.connect() as conn:
        tb = trial_balance(conn)
    return sum(r.debit for r in tb) == sum(r.credit for r in tb)


def history(engine: Engine) -> dict[str, set[tuple[object, ...]]]:
    return {table: rows(engine, table) for table in HISTORY}


def grows(before: dict[str, set[tuple[object, ...]]], after: dict[str, set[tuple[object, ...]]]) -> None:
    for table in HISTORY:
        assert before[table] <= after[table], f"{table}: a row was changed or removed"


def test_a_late_invoice_lifts_a_capped_salary_through_a_reversal_and_a_new_payslip(
        capped: Engine, rules: Rules, db_url: str) -> None:
    ingest(capped, rules, invoice("M1", "F3", "2026-10-28", "1000.00"))  # arrives after the payroll
    before = history(capped)
    fixed = cli("payroll", "rerun", "M1", "--month", "2026-10", "--reason", "late invoice F3",
                "--db", db_url, "--json")
    after = history(capped)
    grows(before, after)
    assert balanced(capped)
    assert fixed["revision"] == 1 and fixed["posted_on"] == "2026-10-31"
    assert fixed["before"]["gross"] == "1869.72" and fixed["before"]["capped"] is True
    assert fixed["after"]["gross"] == "2000.00" and fixed["after"]["capped"] is False
    reversal, payslip = fixed["entries"]
    with capped.connect() as conn:
        original = conn.scalar(text("SELECT id FROM entries WHERE event_id = :k"),
                               {"k": payslip_key("2026-10", "M1")})
        posted = conn.execute(text("SELECT event_id, part, reverses FROM entries "
                                   "WHERE event_id LIKE :k ORDER BY part"), {"k": RERUNS}).all()
        count = conn.scalar(text("SELECT entry_count FROM processed_events WHERE event_id = :k"),
                            {"k": FIRST_RERUN})
    assert reversal["reverses"] == original and payslip["reverses"] is None
    assert posted == [(FIRST_RERUN, 0, original), (FIRST_RERUN, 1, None)]
    assert count == 2
    with capped.connect() as conn:
        (statement,) = statements(conn, "2026-10", ["M1"])
        current = {s.member_id: s for s in payslips(conn, "2026-10")}
    assert statement.payroll is not None and statement.payroll.gross == Decimal("2000.00")
    assert statement.payroll.capped is False and current["M1"].gross == Decimal("2000.00")
    report = cli("reconcile", "--month", "2026-10", "--db", db_url, "--json")
    assert [c["name"] for c in report["checks"] if not c["ok"]] == []
    runs = cli("runs", "--job", "payroll-rerun", "--db", db_url, "--json")["runs"]
    assert [(r["member_id"], r["outcome"]) for r in runs] == [("M1", "ok")]
    assert "late invoice F3" in runs[0]["detail"]


def test_a_second_correction_reverses_the_first_one(capped: Engine, rules: Rules, db_url: str) -> None:
    ingest(capped, rules, invoice("M1", "F3", "2026-10-28", "1000.00"))
    cli("payroll", "rerun", "M1", "--month", "2026-10", "--reason", "late invoice", "--db", db_url, "--json")
    ingest(capped, rules, salary("M1", "2026-10", "1500.00"))  # the member asks less after all
    second = cli("payroll", "rerun", "M1", "--month", "2026-10", "--reason", "new request",
                 "--db", db_url, "--json")
    assert second["revision"] == 2 and second["after"]["gross"] == "1500.00"
    with capped.connect() as conn:
        first_new = conn.scalar(text("SELECT id FROM entries WHERE event_id = :k AND part = 1"),
                                {"k": FIRST_RERUN})
        gross = conn.scalar(text("SELECT sum(l.amount) FROM lines l JOIN entries e ON e.id = l.entry_id "
                                 "WHERE l.account = '641' AND l.member_id = 'M1'"))
    assert second["entries"][0]["reverses"] == first_new
    assert gross == 150000 and balanced(capped)
    summary = cli("payslip", "M1", "--month", "2026-10", "--db", db_url, "--json")
    assert summary["gross"] == "1500.00" and summary["ledger_agrees"] is True
    assert [c["reason"] for c in summary["corrections"]] == ["late invoice", "new request"]


def test_a_closed_month_is_corrected_in_the_next_open_one(capped: Engine, rules: Rules, db_url: str) -> None:
    with capped.begin() as conn:
        close_month(conn, "2026-10")
    october = cli("statement", "M1", "--month", "2026-10", "--db", db_url, "--json")
    ingest(capped, rules, salary("M1", "2026-10", "1000.00"))  # the request was wrong: 1000, not 2000
    before = history(capped)
    fixed = cli("payroll", "rerun", "M1", "--month", "2026-10", "--reason", "wrong request",
                "--db", db_url, "--json")
    grows(before, history(capped))
    assert fixed["posted_on"] == "2026-11-01" and fixed["after"]["gross"] == "1000.00"
    assert cli("statement", "M1", "--month", "2026-10", "--db", db_url, "--json") == october  # untouched
    november = cli("statement", "M1", "--month", "2026-11", "--db", db_url, "--json")
    assert november["payroll"]["gross"] == "-869.72"  # 1000.00 − 1869.72, posted in November
    assert Decimal(november["budget_closing"]) == Decimal(october["budget_closing"]) + Decimal("1235.00")
    # October's reconciliation, one reading of its payslips: its statement shows the payslip its
    # books hold (as of October's end), the net pay to transfer the payslip as it stands now.
    october_report = reconciliation_read(capped, "2026-10", rules)
    (line,) = [m for m in october_report.members if m.statement.member_id == "M1"]
    assert line.payslip is not None and line.payslip.gross == Decimal("1869.72")
    with capped.connect() as conn:
        now = payslips_now(conn, "2026-10")
    assert now["M1"].slip.net == Decimal("780.00")
    assert october_report.net_pay_not_transferred == sum((r.slip.net for r in now.values()), Decimal(0))
    cli("payroll", "run", "--month", "2026-11", "--db", db_url, "--json")
    report = cli("reconcile", "--month", "2026-11", "--db", db_url, "--json")
    assert [c["name"] for c in report["checks"] if not c["ok"]] == []
    summary = cli("payslip", "M1", "--month", "2026-10", "--db", db_url, "--json")
    assert (summary["gross"], summary["net"], summary["ledger_agrees"]) == ("1000.00", "780.00", True)
    assert balanced(capped)
    with capped.connect() as conn:
        dates = conn.execute(text("SELECT DISTINCT entry_date, piece_date FROM entries "
                                  "WHERE event_id LIKE :k"), {"k": RERUNS}).all()
    assert [(str(a), str(b)) for a, b in dates] == [("2026-11-01", "2026-10-31")]


def test_nothing_to_correct_no_payslip_and_no_reason_are_refused(capped: Engine, db_url: str) -> None:
    before = history(capped)
    assert "pays the same" in cli("payroll", "rerun", "M1", "--month", "2026-10", "--reason", "check",
                                  "--db", db_url, ok=False)
    assert "no payroll ran for M1 in 2026-11" in cli("payroll", "rerun", "M1", "--month", "2026-11",
                                                     "--reason", "x", "--db", db_url, ok=False)
    assert "needs a reason" in cli("payroll", "rerun", "M1", "--month", "2026-10", "--reason", "  ",
                                   "--db", db_url, ok=False)
    after = history(capped)
    assert {t: after[t] - before[t] for t in HISTORY if t != "runs"} == {t: set() for t in HISTORY if t != "runs"}
    failed = cli("runs", "--job", "payroll-rerun", "--db", db_url, "--json")["runs"]
    assert [r["outcome"] for r in failed] == ["failed"] * 3


@pytest.mark.parametrize("statement", [
    "UPDATE payslip_revisions SET gross = 0", "DELETE FROM payslip_revisions",
    "UPDATE runs SET detail = 'rewritten'", "DELETE FROM runs"])
def test_revisions_and_run_records_are_append_only(capped: Engine, rules: Rules, db_url: str,
                                                   statement: str, owner: Engine) -> None:
    ingest(capped, rules, invoice("M1", "F3", "2026-10-28", "1000.00"))
    cli("payroll", "rerun", "M1", "--month", "2026-10", "--reason", "late invoice", "--db", db_url, "--json")
    with pytest.raises(Exception, match="append-only"):
        with owner.begin() as conn:
            conn.execute(text(statement))
