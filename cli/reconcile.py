"""`cae reconcile --month M`: the month's reconciliation, as a table, JSON or CSV."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import RenderableType
from rich.table import Table

from cli.tables import figures, records, show, texts
from cli.common import console, db_options, emit_json, json_option, month_option, open_db, rules_from, user_errors
from engine.money import fmt
from engine.reconciliation import Check, Reconciliation
from engine.spreadsheet import RECONCILED, reconciliation_csv
from ledger import monthly
from ledger.runs import MANUAL, by_hand, operator

_ROW = RECONCILED
_HEADERS = ("Budget before", "Revenue HT", "VAT", "Direct", "Other", "Contrib.", "Sociét.", "Req. gross",
            "Gross", "Net", "Empl. cost", "Budget after")


@click.command("reconcile")
@month_option
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write one line per member, and the totals, to this CSV file.")
@db_options
@json_option
@user_errors
def reconcile_command(month: str, csv_path: Path | None, db_url: str | None, config_path: str | None,
                      as_json: bool) -> None:
    """The staff's monthly reconciliation: per member, totals, and checks (recorded in `cae runs`)."""
    _, report = by_hand(monthly.reconciliation(open_db(db_url), month, rules_from(config_path),
                                               origin=MANUAL, started_by=operator()))
    if csv_path is not None:
        write_csv(report, csv_path)
    if as_json:
        emit_json(report.to_json())
        return
    show(_table(report), lambda: _narrow(report))
    for check in report.checks:
        console.print(f"{outcome_mark(check)}  {check.name}: {check.detail}", highlight=False)


def outcome_mark(check: Check) -> str:
    """A check's outcome word, coloured, as `cae reconcile` and `cae demo` print it."""
    colour = {"ok": "green", "attention": "yellow", "not_ok": "red"}[check.outcome]
    return f"[{colour}]{check.label}[/]"


def write_csv(report: Reconciliation, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        reconciliation_csv(report, handle)


def _table(report: Reconciliation) -> Table:
    table = Table(title=f"Reconciliation {report.month}")
    texts(table, "Member")
    figures(table, *_HEADERS)
    table.add_column("Capped", no_wrap=True)
    for line in report.members:
        amounts = line.amounts()
        table.add_row(line.statement.member_id, *(fmt(amounts[k]) for k in _ROW),
                      "yes" if line.payslip and line.payslip.capped else "")
    table.add_row("Total", *(fmt(report.totals[k]) for k in _ROW), "", style="bold")
    return table


def _narrow(report: Reconciliation) -> list[RenderableType]:
    """One small table per member, and one for the totals: for terminals too narrow for the grid."""
    rows = [(line.statement.member_id + (" (capped)" if line.payslip and line.payslip.capped else ""),
             [(h, fmt(line.amounts()[k])) for h, k in zip(_HEADERS, _ROW)]) for line in report.members]
    rows.append(("Total", [(h, fmt(report.totals[k])) for h, k in zip(_HEADERS, _ROW)]))
    return records(f"Reconciliation {report.month}", rows)
