"""DOMAIN.md rules 6 (payroll) and 7 (closed months), on SQLite and on PostgreSQL.

Each test tells a short story in events, runs the month's payroll or closes a
month, and reads the figures back from the ledger: payslips, entries and the
members' statements. Expected amounts are worked out by hand in the comments.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

import streams.pipeline
from cli.main import cae
from engine.config import Rules
from engine.payroll import Payslip
from ledger import schema
from ledger.balances import trial_balance
from ledger.closing import close_month
from ledger.payroll_run import PayrollError, run_payroll
from ledger.statements import statements
from streams.pipeline import process
from tests.ops_support import event, ingest, invoice, joined, salary


def payroll(engine: Engine, rules: Rules, month: str) -> dict[str, Payslip]:
    with engine.begin() as conn:
        return {s.member_id: s for s in run_payroll(conn, month, rules)}


def close(engine: Engine, month: str) -> int:
    with engine.begin() as conn:
        return close_month(conn, month)


def statement(engine: Engine, member_id: str, month: str) -> dict[str, Any]:
    with engine.connect() as conn:
        (found,) = statements(conn, month, [member_id])
    return found.to_json()


def entry_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(schema.entries)) or 0)


def sale_entries(engine: Engine, piece_ref: str) -> list[tuple[str, date, date]]:
    """(journal, posting date, piece date) of the entries of one document."""
    e = schema.entries
    with engine.connect() as conn:
        return [(j, d, p) for j, d, p in conn.execute(
            select(e.c.journal, e.c.entry_date, e.c.piece_date).where(e.c.piece_ref == piece_ref)
            .order_by(e.c.id))]


D = Decimal


# -- rule 6: who is paid -----------------------------------------------------------------------

def test_a_cape_member_is_not_paid(engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M001", "salarie"), joined("M002", "cape"),
           invoice("M001", "F-1", "2026-10-03", "5000.00"), invoice("M002", "F-2", "2026-10-03", "5000.00"),
           salary("M001", "2026-10", "1000.00"), salary("M002", "2026-10", "1000.00"))
    slips = payroll(engine, rules, "2026-10")
    assert list(slips) == ["M001"]
    # 5000 HT - 575 contribution = 4425 of budget: the 1000 gross (1420 employer cost) fits
    paid = slips["M001"]
    assert (paid.gross, paid.employer_contributions, paid.net, paid.employee_contributions, paid.capped) == (
        D("1000.00"), D("420.00"), D("780.00"), D("220.00"), False)
    assert statement(engine, "M002", "2026-10")["payroll"] is None


def test_the_status_on_the_last_day_of_the_month_decides(engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M001", "cape"), joined("M002", "salarie"),
           invoice("M001", "F-1", "2026-10-03", "5000.00"), invoice("M002", "F-2", "2026-10-03", "5000.00"),
           salary("M001", "2026-09", "1000.00"), salary("M002", "2026-09", "1000.00"),
           event("member.status_changed", member_id="M001", on="2026-10-15", status="salarie"),
           event("member.status_changed", member_id="M002", on="2026-10-31", status="cape"))
    assert list(payroll(engine, rules, "2026-09")) == ["M002"]
    assert list(payroll(engine, rules, "2026-10")) == ["M001"]


def test_a_member_who_left_during_a_month_is_paid_for_it_and_not_after(engine: Engine, rules: Rules) -> None:
    """Rule 6: the status on the day they left decides a leaver's last month (issue 9)."""
    ingest(engine, rules, joined("M001"), joined("M002"), joined("M003"),
           invoice("M001", "F-1", "2026-09-03", "5000.00"), invoice("M002", "F-2", "2026-09-03", "5000.00"),
           invoice("M003", "F-3", "2026-09-03", "5000.00"),
           salary("M001", "2026-09", "1000.00"), salary("M002", "2026-09", "1000.00"),
           salary("M003", "2026-09", "1000.00"),
           event("member.left", member_id="M002", on="2026-10-20"),
           event("member.status_changed", member_id="M003", on="2026-10-10", status="cape"),
           event("member.left", member_id="M003", on="2026-10-20"))
    assert list(payroll(engine, rules, "2026-09")) == ["M001", "M002", "M003"]
    assert list(payroll(engine, rules, "2026-10")) == ["M001", "M002"]  # M003 was CAPE when she left
    assert list(payroll(engine, rules, "2026-11")) == ["M001"]


def test_a_leaver_on_the_last_day_of_the_month_is_paid_and_reconciled(engine: Engine, rules: Rules,
                                                                        db_url: str) -> None:
    ingest(engine, rules, joined("M001"), invoice("M001", "F-1", "2026-10-03", "5000.00"),
           salary("M001", "2026-10", "1000.00"), event("member.left", member_id="M001", on="2026-10-31"))
    assert list(payroll(engine, rules, "2026-10")) == ["M001"]
    report = CliRunner().invoke(cae, ["reconcile", "--month", "2026-10", "--db", db_url, "--json"])
    checks = {c["name"]: c for c in json.loads(report.stdout)["checks"]}
    assert checks["payroll run for every eligible member"]["ok"] is True


def test_same_day_status_changes_resolve_in_event_order_for_payroll_and_register(
        engine: Engine, rules: Rules, db_url: str) -> None:
    """Two changes on one date: the later event wins, for the payroll and `cae members` alike
    (an alphabetical tie-break once paid a CAPE member: "cape" < "salarie")."""
    ingest(engine, rules, joined("M001", "cape"), invoice("M001", "F-1", "2026-10-03", "5000.00"),
           salary("M001", "2026-10", "1000.00"),
           event("member.status_changed", member_id="M001", on="2026-10-15", status="salarie"),
           event("member.status_changed", member_id="M001", on="2026-10-15", status="cape"))
    assert list(payroll(engine, rules, "2026-10")) == []
    listed = CliRunner().invoke(cae, ["members", "--on", "2026-10-20", "--db", db_url, "--json"])
    (member,) = json.loads(listed.stdout)["members"]
    assert member["status"] == "cape"


def test_the_latest_salary_set_starting_on_or_before_the_month_is_used(engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M001"), invoice("M001", "F-1", "2026-06-03", "50000.00"),
           salary("M001", "2026-11", "1500.00"),  # requests arrive in any order
           salary("M001", "2026-08", "500.00"),
           salary("M001", "2026-10", "800.00"),
           salary("M001", "2026-09", "700.00"),
           salary("M001", "2026-09", "750.00"))  # of two for one month, the later event
    requested = {month: payroll(engine, rules, month).get("M001") for month in
                 ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12")}
    assert requested["2026-07"] is None  # no salary requested yet
    assert {m: s.gross for m, s in requested.items() if s is not None} == {
        "2026-08": D("500.00"), "2026-09": D("750.00"), "2026-10": D("800.00"),
        "2026-11": D("1500.00"), "2026-12": D("1500.00")}


# -- rule 6: what the budget allows ------------------------------------------------------------

def test_the_gross_is_capped_when_the_budget_is_short(engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M001"), invoice("M001", "F-1", "2026-10-03", "1000.00"),
           salary("M001", "2026-10", "1000.00"))
    slip = payroll(engine, rules, "2026-10")["M001"]
    # budget 1000 - 115 = 885.00; 623.24 + round(261.7608) = 885.00 fits, 623.25 + 261.77 does not
    assert slip.budget_before == D("885.00")
    assert (slip.requested_gross, slip.gross, slip.employer_contributions, slip.net, slip.capped) == (
        D("1000.00"), D("623.24"), D("261.76"), D("486.13"), True)
    figures = statement(engine, "M001", "2026-10")
    assert figures["payroll"] == {"gross": "623.24", "employer_contributions": "261.76",
                                  "employee_contributions": "137.11", "net": "486.13",
                                  "employer_cost": "885.00", "capped": True}
    assert figures["budget_closing"] == "0.00"


@pytest.mark.parametrize("expense_ht, budget", [("500.00", "-500.00"), ("884.99", "0.01")])
def test_the_gross_is_zero_when_the_budget_cannot_pay_a_cent(engine: Engine, rules: Rules, expense_ht: str,
                                                             budget: str) -> None:
    """A budget of 0.01 cannot pay the smallest salary (0.01 + 0.00 of contributions would fit;
    here it is 885.00 of revenue less 884.99 of expenses); a negative one pays nothing at all."""
    ingest(engine, rules, joined("M001"), salary("M001", "2026-10", "1000.00"),
           event("expense.recorded", expense_id="X-1", member_id="M001", spent_on="2026-10-06",
                 supplier="Loyer", amount_ht=expense_ht, vat="0.00", direct_cost=False))
    if budget == "0.01":
        ingest(engine, rules, invoice("M001", "F-1", "2026-10-03", "1000.00"))  # 885.00 after contribution
    before = entry_count(engine)
    slip = payroll(engine, rules, "2026-10")["M001"]
    assert slip.budget_before == D(budget)
    assert slip.capped is True
    expected_gross = D("0.01") if budget == "0.01" else D("0.00")
    assert slip.gross == expected_gross
    assert entry_count(engine) == before + (1 if slip.gross else 0)  # no entry for a zero salary
    figures = statement(engine, "M001", "2026-10")
    assert figures["payroll"]["capped"] is True
    assert figures["payroll"]["gross"] == str(expected_gross)


def test_payroll_run_twice_returns_the_same_lines_and_posts_nothing_new(engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M001"), joined("M002"),
           invoice("M001", "F-1", "2026-10-03", "5000.00"), invoice("M002", "F-2", "2026-10-03", "1000.00"),
           salary("M001", "2026-10", "1000.00"), salary("M002", "2026-10", "1000.00"))
    first = payroll(engine, rules, "2026-10")
    entries = entry_count(engine)
    with engine.connect() as conn:
        balance = trial_balance(conn)
    ingest(engine, rules, invoice("M002", "F-3", "2026-10-28", "9000.00"))  # a richer M002 changes nothing
    with engine.connect() as conn:
        balance_after_invoice = trial_balance(conn)
    second = payroll(engine, rules, "2026-10")
    assert second == first
    assert first["M002"].capped is True
    with engine.connect() as conn:
        assert trial_balance(conn) == balance_after_invoice != balance
    assert entry_count(engine) == entries + 2  # the late invoice's sale and contribution, no payroll


# -- rule 7: closed months ---------------------------------------------------------------------

def test_payroll_of_a_closed_month_is_refused(engine: Engine, rules: Rules, db_url: str) -> None:
    ingest(engine, rules, joined("M001"), invoice("M001", "F-1", "2026-10-03", "5000.00"),
           salary("M001", "2026-10", "1000.00"))
    close(engine, "2026-10")
    with pytest.raises(PayrollError, match="2026-10 is closed"):
        payroll(engine, rules, "2026-10")
    result = CliRunner().invoke(cae, ["payroll", "run", "--month", "2026-10", "--db", db_url, "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "2026-10 is closed" in result.stderr
    assert "Traceback" not in result.stderr
    assert statement(engine, "M001", "2026-10")["payroll"] is None


def test_payroll_of_a_month_closed_after_it_ran_gives_its_lines_again(engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M001"), invoice("M001", "F-1", "2026-10-03", "5000.00"),
           salary("M001", "2026-10", "1000.00"))
    slips = payroll(engine, rules, "2026-10")
    close(engine, "2026-10")
    entries = entry_count(engine)
    assert payroll(engine, rules, "2026-10") == slips
    assert entry_count(engine) == entries


def test_an_invoice_dated_in_a_closed_month_is_posted_in_the_first_open_month(
        engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M001"), invoice("M001", "F-OCT", "2026-10-03", "1000.00"))
    close(engine, "2026-10")
    october = statement(engine, "M001", "2026-10")
    ingest(engine, rules, invoice("M001", "F-NOV", "2026-11-05", "10.05"),
           invoice("M001", "F-LATE", "2026-10-20", "10.05"),
           event("payment.received", payment_id="P-LATE", invoice_id="F-OCT", member_id="M001",
                 received_on="2026-10-30", amount="1200.00"))
    # the late invoice keeps its own date as the piece date; it and its contribution go to 1 November
    assert sale_entries(engine, "F-LATE") == [("VT", date(2026, 11, 1), date(2026, 10, 20)),
                                              ("OD", date(2026, 11, 1), date(2026, 10, 20))]
    assert sale_entries(engine, "P-LATE") == [("BQ", date(2026, 11, 1), date(2026, 10, 30))]
    assert statement(engine, "M001", "2026-10") == october  # the closed month does not move
    november = statement(engine, "M001", "2026-11")
    # one November base of 20.10: round(0.115 x 20.10) = 2.31, where two separate months would give 1.16 + 1.16
    assert (november["revenue_ht"], november["contribution"]) == ("20.10", "2.31")
    with engine.connect() as conn:
        months = set(conn.scalars(select(schema.base_moves.c.month)))
    assert months == {"2026-10", "2026-11"}


def test_an_event_processed_while_its_month_is_being_closed_goes_to_the_first_open_month(
        engine: Engine, rules: Rules, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch read "nothing closed", then `cae close` committed before it wrote: the database
    refuses its October entry, and the event, retried alone, goes to the first open month."""
    ingest(engine, rules, joined("M001"))
    close(engine, "2026-10")
    real = streams.pipeline.locked_through
    stale = iter([None])
    monkeypatch.setattr(streams.pipeline, "locked_through", lambda conn: next(stale, real(conn)))
    outcome = process(engine, [invoice("M001", "F-RACE", "2026-10-20", "100.00")], rules)
    assert outcome.dead_letters == [] and outcome.processed == 1
    assert sale_entries(engine, "F-RACE") == [("VT", date(2026, 11, 1), date(2026, 10, 20)),
                                              ("OD", date(2026, 11, 1), date(2026, 10, 20))]


def test_a_statement_of_an_unknown_member_exits_1_with_one_line(engine: Engine, db_url: str) -> None:
    result = CliRunner().invoke(cae, ["statement", "M999", "--month", "2026-10", "--db", db_url, "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == 'cae: unknown member "M999" (there is none yet)\n'
