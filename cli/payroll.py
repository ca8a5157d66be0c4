"""`cae payroll run` and `cae close`: the staff's end of month."""

from __future__ import annotations

import click
from rich.table import Table

from cli.common import UserError, console, db_options, emit_json, json_option, open_db, rules_from, user_errors
from cli.reports import month_option
from engine.money import fmt
from engine.payroll import Payslip
from ledger import monthly
from ledger.payroll_run import PayrollError
from ledger.runs import MANUAL, by_hand, operator


def payslip_json(s: Payslip) -> dict[str, object]:
    return {"member_id": s.member_id, "month": s.month, "requested_gross": fmt(s.requested_gross),
            "gross": fmt(s.gross), "employer_contributions": fmt(s.employer_contributions),
            "employee_contributions": fmt(s.employee_contributions), "net": fmt(s.net),
            "employer_cost": fmt(s.employer_cost), "budget_before": fmt(s.budget_before),
            "capped": s.capped}


@click.group("payroll")
def payroll_group() -> None:
    """The monthly payroll."""


@payroll_group.command("run")
@month_option
@db_options
@json_option
@user_errors
def payroll_run_command(month: str, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """Run a month's payroll (again: changes nothing) and print its lines."""
    engine, rules = open_db(db_url), rules_from(config_path)
    try:  # recorded in `cae runs`, like the scheduler's runs
        _, slips = by_hand(monthly.payroll(engine, month, rules, origin=MANUAL, started_by=operator()))
    except PayrollError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json({"month": month, "lines": [payslip_json(s) for s in slips]})
        return
    table = Table(title=f"Payroll {month}")
    for name in ("Member", "Requested", "Gross", "Employer contrib.", "Net", "Employer cost", "Capped"):
        table.add_column(name, justify="left" if name == "Member" else "right")
    for s in slips:
        table.add_row(s.member_id, fmt(s.requested_gross), fmt(s.gross), fmt(s.employer_contributions),
                      fmt(s.net), fmt(s.employer_cost), "yes" if s.capped else "")
    console.print(table)


@click.command("close")
@month_option
@db_options
@json_option
@user_errors
def close_command(month: str, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """Lock a month (and the months before it): later events dated in it go to the next open month."""
    _, numbered = by_hand(monthly.close(open_db(db_url), month, rules_from(config_path), origin=MANUAL,
                                        started_by=operator()))
    if as_json:
        emit_json({"month": month, "closed": True, "entries_numbered": numbered})
    else:
        console.print(f"{month} is closed; {numbered} entries got their definitive number.")
