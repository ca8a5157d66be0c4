"""`cae reconcile --month M`: the month's reconciliation, as a table, JSON or CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import click
from rich.table import Table

from cli.common import console, db_options, emit_json, json_option, open_db, user_errors
from cli.reports import month_option
from engine.money import fmt
from engine.reconciliation import Reconciliation
from ledger.reconciliation import month_reconciliation

_COLUMNS = ("revenue_ht", "vat_collected", "direct_costs_ht", "other_expenses_ht", "contribution",
            "societariat", "requested_gross", "gross", "net", "employer_cost")


_HEADERS = ("Revenue HT", "VAT", "Direct", "Other", "Contrib.", "Sociét.", "Req. gross", "Gross",
            "Net", "Empl. cost", "Budget")


@click.command("reconcile")
@month_option
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write one line per member, and the totals, to this CSV file.")
@db_options
@json_option
@user_errors
def reconcile_command(month: str, csv_path: Path | None, db_url: str | None, config_path: str | None,
                      as_json: bool) -> None:
    """The staff's monthly reconciliation: per member, totals, and checks."""
    with open_db(db_url).connect() as conn:
        report = month_reconciliation(conn, month)
    if csv_path is not None:
        write_csv(report, csv_path)
    if as_json:
        emit_json(report.to_json())
        return
    console.print(_table(report))
    for check in report.checks:
        mark = "[green]ok[/]" if check.ok else "[red]NOT OK[/]"
        console.print(f"{mark}  {check.name}: {check.detail}", highlight=False)


def write_csv(report: Reconciliation, path: Path) -> None:
    keys = ("budget_before",) + _COLUMNS + ("capped", "budget_closing")
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(("member_id",) + keys)
        for line in report.members:
            amounts, slip = line.amounts(), line.payslip
            out.writerow((line.statement.member_id, fmt(slip.budget_before) if slip else "",
                          *(fmt(amounts[k]) for k in _COLUMNS),
                          "yes" if slip and slip.capped else "", fmt(amounts["budget_closing"])))
        out.writerow(("TOTAL", "", *(fmt(report.totals[k]) for k in _COLUMNS), "",
                      fmt(report.totals["budget_closing"])))


def _table(report: Reconciliation) -> Table:
    table = Table(title=f"Reconciliation {report.month}")
    table.add_column("Member")
    for header in _HEADERS:
        table.add_column(header, justify="right")
    table.add_column("Capped")
    for line in report.members:
        amounts = line.amounts()
        table.add_row(line.statement.member_id, *(fmt(amounts[k]) for k in _COLUMNS + ("budget_closing",)),
                      "yes" if line.payslip and line.payslip.capped else "")
    table.add_row("Total", *(fmt(report.totals[k]) for k in _COLUMNS + ("budget_closing",)), "",
                  style="bold")
    return table
