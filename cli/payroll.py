"""`cae payroll run` and `cae close`: the staff's end of month."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from cli.common import (UserError, console, db_options, emit_json, json_option, month_option, open_db, rules_from,
                        today, user_errors)
from engine.money import fmt
from engine.payroll import Payslip
from ledger import monthly
from ledger.closing import CloseRefused, check_close
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
    """Run a month's payroll (again: pays nobody twice) and print its lines.

    Run again, it also lists the payslips that would now pay differently (a late
    invoice, a new salary request): correct those with `cae payroll rerun`.
    """
    engine, rules = open_db(db_url), rules_from(config_path)
    try:  # recorded in `cae runs`, like the scheduler's runs
        _, run = by_hand(monthly.payroll(engine, month, rules, origin=MANUAL, started_by=operator(),
                                         today=today(config_path)))
    except PayrollError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json({"month": month, "lines": [payslip_json(s) for s in run.payslips],
                   "would_now_differ": [payslip_json(s) for s in run.stale]})
        return
    table = Table(title=f"Payroll {month}")
    for name in ("Member", "Requested", "Gross", "Employer contrib.", "Net", "Employer cost", "Capped"):
        table.add_column(name, justify="left" if name == "Member" else "right", no_wrap=True)
    for s in run.payslips:
        table.add_row(s.member_id, fmt(s.requested_gross), fmt(s.gross), fmt(s.employer_contributions),
                      fmt(s.net), fmt(s.employer_cost), "yes" if s.capped else "")
    console.print(table)
    paid = {s.member_id: s for s in run.payslips}
    for fresh in run.stale:
        console.print(f"[yellow]{fresh.member_id}[/]: computed again now, the payslip would pay a gross of "
                      f"{fmt(fresh.gross)} instead of {fmt(paid[fresh.member_id].gross)}: "
                      f"`cae payroll rerun {fresh.member_id} --month {month} --reason …`", highlight=False)


@click.command("close")
@month_option
@click.option("--without-payroll", is_flag=True,
              help="Close even though the payroll has not paid every member it should.")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@db_options
@json_option
@user_errors
def close_command(month: str, without_payroll: bool, assume_yes: bool, db_url: str | None,
                  config_path: str | None, as_json: bool) -> None:
    """Lock a month, and every month before it, for good: later events dated in them go to the next
    open month, and their entries get their definitive numbers.

    Refused for a month that has not ended, and for a month whose payroll has not
    paid everyone it should (unless --without-payroll). On a terminal it says what
    will be locked and asks before doing it.
    """
    engine, rules, day = open_db(db_url), rules_from(config_path), today(config_path)
    plan = monthly.close_plan(engine, month)
    if not plan.months:
        _closed(month, 0, [], as_json)
        return
    try:
        check_close(plan, day, without_payroll)
    except CloseRefused as exc:
        raise UserError(str(exc)) from None
    span = plan.months[0] if len(plan.months) == 1 else f"{plan.months[0]} to {plan.months[-1]}"
    click.echo(f"Closing {month} locks {span} ({len(plan.months)} month(s)) for good; {plan.to_number} "
               "entries will get their definitive number.", err=True)
    if sys.stdin.isatty() and not assume_yes:
        click.confirm("Close?", abort=True, err=True)
    try:
        _, numbered = by_hand(monthly.close(engine, month, rules, origin=MANUAL, started_by=operator(),
                                            today=day, without_payroll=without_payroll))
    except CloseRefused as exc:  # something changed between the plan and the close
        raise UserError(str(exc)) from None
    _closed(month, numbered, list(plan.months), as_json)


def _closed(month: str, numbered: int, locked: list[str], as_json: bool) -> None:
    if as_json:
        emit_json({"month": month, "closed": True, "entries_numbered": numbered, "locked": locked})
    elif locked:
        console.print(f"{month} is closed; {numbered} entries got their definitive number.")
    else:
        console.print(f"{month} was already closed.")
