"""`cae payroll export --month M`: the payroll variables for the payroll provider, CSV and XLSX.

One line per payslip of the month (as it stands after corrections): member,
contract type, hours basis, requested gross, gross, net, employer cost (see
`engine.payroll_export`). The CSV is UTF-8 with a header line, amounts with a
decimal point; the XLSX keeps amounts as numbers with two decimals.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import Connection, select

from cli.common import console, db_options, emit_json, json_option, month_option, open_db, rules_from, user_errors
from engine.messages import Message
from engine.payroll_export import HEADERS, Variables, variables
from engine.spreadsheet import payroll_csv, xlsx_row
from engine.periods import last_day
from ledger import schema
from ledger.payslips import current as current_payslips
from ledger.runs import MANUAL, Done, by_hand, operator, run_job

JOB = "export"


def write_csv(rows: list[Variables], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        payroll_csv(rows, handle)


def write_xlsx(rows: list[Variables], path: Path, month: str) -> None:
    from openpyxl import Workbook  # only this command needs it

    book = Workbook()
    sheet = book.active
    sheet.title = f"Variables {month}"
    sheet.append(HEADERS)
    for row in rows:
        xlsx_row(sheet, row.cells())
    for column in ("E", "F", "G", "H", "I"):
        for cell in sheet[column][1:]:
            cell.number_format = "0.00"
    sheet.freeze_panes = "A2"
    book.save(path)


@click.command("export")
@month_option
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV file to write; default variables-paie-<MONTH>.csv when no --xlsx is given.")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also (or only) write this XLSX workbook.")
@db_options
@json_option
@user_errors
def export_command(month: str, csv_path: Path | None, xlsx_path: Path | None, db_url: str | None,
                   config_path: str | None, as_json: bool) -> None:
    """Write the month's payroll variables for the payroll provider (recorded in `cae runs`)."""
    rates = rules_from(config_path).at(last_day(month))
    if csv_path is None and xlsx_path is None:
        csv_path = Path(f"variables-paie-{month}.csv")

    def work(conn: Connection) -> Done[list[Variables]]:
        slips = [found.slip for found in current_payslips(conn, month).values()]  # as corrected
        if not slips:
            raise LookupError(f"no payroll ran for {month}: run `cae payroll run --month {month}` first")
        m = schema.members
        names = dict(conn.execute(select(m.c.member_id, m.c.name)
                                  .where(m.c.member_id.in_([s.member_id for s in slips]))).tuples().all())
        rows = variables(slips, names, rates)
        if csv_path is not None:
            write_csv(rows, csv_path)
        if xlsx_path is not None:
            write_xlsx(rows, xlsx_path, month)
        files = tuple(str(p) for p in (csv_path, xlsx_path) if p is not None)
        return Done(Message.of("run.variables", count=len(rows), files=files), rows)

    _, rows = by_hand(run_job(open_db(db_url), JOB, month, work, origin=MANUAL, started_by=operator()))
    written = [str(p) for p in (csv_path, xlsx_path) if p is not None]
    if as_json:
        emit_json({"month": month, "members": len(rows), "files": written,
                   "lines": [dict(zip(HEADERS, row.text())) for row in rows]})
    else:
        console.print(f"{len(rows)} members' payroll variables of {month} written to {', '.join(written)}.")
