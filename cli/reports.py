"""`cae statement` and `cae trial-balance`: figures read from the ledger."""

from __future__ import annotations

import click
from rich.table import Table

from cli.tables import figures, records, show, texts
from cli.common import console, db_options, emit_json, json_option, month_option, open_db, optional_month, user_errors
from engine.money import ZERO, fmt
from engine.periods import last_day
from engine.statement import Statement
from ledger.balances import trial_balance
from ledger.db import reading
from ledger.payroll_run import requested_grosses
from ledger.statements import statements


@click.command("statement")
@click.argument("member_id")
@month_option
@db_options
@json_option
@user_errors
def statement_command(member_id: str, month: str, db_url: str | None, config_path: str | None,
                      as_json: bool) -> None:
    """A member's statement for a month (état des comptes)."""
    with reading(open_db(db_url)) as conn:
        (found,) = statements(conn, month, [member_id])
        requested = member_id in requested_grosses(conn, month, [member_id])
    if as_json:
        emit_json(found.to_json())
    else:
        console.print(statement_table(found, requested))


def statement_table(s: Statement, requested: bool) -> Table:
    """`requested`: the member asks a salary for the month, so a missing payslip means the payroll has not run."""
    table = Table(title=f"Statement {s.member_id} {s.month}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for label, value in [("Revenue HT", s.revenue_ht), ("VAT collected", s.vat_collected),
                         ("Direct costs HT", s.direct_costs_ht), ("Other expenses HT", s.other_expenses_ht),
                         ("Contribution", s.contribution), ("Sociétariat", s.societariat)]:
        table.add_row(label, fmt(value))
    if s.payroll is None:
        table.add_row("Payroll", "not run yet" if requested else "no salary requested")
    else:
        p = s.payroll
        table.add_row("Gross salary" + (" (capped)" if p.capped else ""), fmt(p.gross))
        table.add_row("Employer contributions", fmt(p.employer_contributions))
        table.add_row("Net salary", fmt(p.net))
        table.add_row("Employer cost", fmt(p.employer_cost))
    table.add_row("Activity budget at month end", fmt(s.budget_closing))
    table.add_row("Share capital held", fmt(s.capital_total))
    return table


@click.command("trial-balance")
@optional_month("Balances at the end of this month (default: everything posted).")
@db_options
@json_option
@user_errors
def trial_balance_command(month: str | None, db_url: str | None, config_path: str | None,
                          as_json: bool) -> None:
    """Balances of every account."""
    with reading(open_db(db_url)) as conn:
        rows = trial_balance(conn, last_day(month) if month else None)
    total_debit = sum((r.debit for r in rows), ZERO)
    total_credit = sum((r.credit for r in rows), ZERO)
    if as_json:
        emit_json({"accounts": [{"account": r.account, "label": r.label, "debit": fmt(r.debit),
                                 "credit": fmt(r.credit), "balance": fmt(r.balance)} for r in rows],
                   "total_debit": fmt(total_debit), "total_credit": fmt(total_credit)})
        return
    table = Table(title="Trial balance" + (f" at the end of {month}" if month else ""))
    table.add_column("Account", no_wrap=True)
    texts(table, "Label")
    figures(table, "Debit", "Credit", "Balance")
    for r in rows:
        table.add_row(r.account, r.label, fmt(r.debit), fmt(r.credit), fmt(r.balance))
    table.add_row("", "Total", fmt(total_debit), fmt(total_credit), fmt(total_debit - total_credit),
                  style="bold")
    show(table, lambda: records(str(table.title), [
        (f"{r.account} {r.label}", [("Debit", fmt(r.debit)), ("Credit", fmt(r.credit)), ("Balance", fmt(r.balance))])
        for r in rows] + [("Total", [("Debit", fmt(total_debit)), ("Credit", fmt(total_credit))])]))
