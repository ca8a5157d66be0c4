"""`cae payroll run` and `cae close`: the staff's end of month."""

from __future__ import annotations

import click
from rich.table import Table

from cli.common import (UserError, console, db_options, emit_json, interactive, json_option, month_option, open_db,
                        rules_from, today, user_errors)
from cli.lazy import Lazy, LazyGroup
from cli.tables import figures, records, show, texts
from engine.money import fmt
from engine.payroll import Payslip
from engine.periods import last_day, parse_month
from ledger import monthly
from ledger.closing import CloseRefused, check_close, check_ended
from ledger.payroll_run import PayrollError
from ledger.runs import MANUAL, by_hand, operator
from ledger.bank_checks import unmatched_lines
from ledger.year_end import YearNotClosed


def payslip_json(s: Payslip) -> dict[str, object]:
    return {"member_id": s.member_id, "month": s.month, "requested_gross": fmt(s.requested_gross),
            "gross": fmt(s.gross), "employer_contributions": fmt(s.employer_contributions),
            "employee_contributions": fmt(s.employee_contributions), "net": fmt(s.net),
            "employer_cost": fmt(s.employer_cost), "budget_before": fmt(s.budget_before),
            "capped": s.capped}


_PAYSLIP_HEADERS = ("Requested", "Gross", "Employer contrib.", "Net", "Employer cost")


def _payslip_figures(s: Payslip) -> tuple[str, ...]:
    return (fmt(s.requested_gross), fmt(s.gross), fmt(s.employer_contributions), fmt(s.net),
            fmt(s.employer_cost))


@click.group("payroll", cls=LazyGroup, lazy={
    "rerun": Lazy("cli.corrections:rerun_command",
                  "Correct a member's payslip of a month: reversing entry, then the payslip computed again."),
    "transfers": Lazy("cli.transfers:transfers_command",
                      "Write the SEPA transfers file (pain.001.001.03) of the month's net pay still unpaid."),
    "export": Lazy("cli.export:export_command",
                   "Write the month's payroll variables for the payroll provider (recorded in `cae runs`)."),
})
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
                   "would_now_differ": [payslip_json(s) for s in run.stale], "posted": run.posted})
        return
    table = Table(title=f"Payroll {month}")
    texts(table, "Member")
    figures(table, *_PAYSLIP_HEADERS, "Capped")
    for s in run.payslips:
        table.add_row(s.member_id, *_payslip_figures(s), "yes" if s.capped else "")
    show(table, lambda: records(f"Payroll {month}", [
        (s.member_id + (" (capped)" if s.capped else ""), list(zip(_PAYSLIP_HEADERS, _payslip_figures(s))))
        for s in run.payslips]))
    if not run.posted:
        console.print(f"Nothing new posted: every payslip of {month} was already paid.", highlight=False)
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
    try:
        check_ended(month, day)
    except CloseRefused as exc:
        raise UserError(str(exc)) from None
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
    with engine.connect() as conn:  # rule 11: the month's bank lines should all be matched first
        waiting = unmatched_lines(conn, parse_month(plan.months[0]), last_day(plan.months[-1]))
    if waiting:
        click.echo(f"Warning: {waiting} bank line(s) of {span} are not matched yet "
                   f"(`cae bank lines --unmatched --month {month}`); they can still be assigned after the close.",
                   err=True)
    if interactive() and not assume_yes:
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
        if month.endswith("-12"):
            console.print(f"The year's books are final: `cae close-year --year {month[:4]}` opens "
                          f"{int(month[:4]) + 1}.", highlight=False)
    else:
        console.print(f"{month} was already closed.")


@click.command("close-year")
@click.option("--year", required=True, type=click.IntRange(1900, 9998), metavar="YYYY",
              help="The fiscal year to close (its December must be closed).")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@db_options
@json_option
@user_errors
def close_year_command(year: int, assume_yes: bool, db_url: str | None, config_path: str | None,
                       as_json: bool) -> None:
    """Close a fiscal year: post the opening entries (à-nouveaux, journal AN) of the next one.

    Every balance-sheet account is carried forward per member, client and supplier,
    and the year's result goes to 120 (profit) or 129 (loss). Refused until
    December is closed; running it again changes nothing.
    """
    engine = open_db(db_url)
    click.echo(f"Closing {year} posts the opening entries of {year + 1}, dated {year + 1}-01-01.", err=True)
    if interactive() and not assume_yes:
        click.confirm("Close the year?", abort=True, err=True)
    try:
        _, done = monthly.year_close(engine, year, started_by=operator())
    except YearNotClosed as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json(done.to_json())
    elif done.already:
        console.print(f"{year} was already closed: {year + 1} opens with {done.lines} à-nouveaux lines.")
    else:
        console.print(f"{year} is closed: {year + 1} opens with {done.lines} à-nouveaux lines; "
                      f"result {fmt(done.result)} to account {done.to_json()['result_account']}.", highlight=False)
