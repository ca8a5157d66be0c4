"""`cae fec --year YYYY --siren NNNNNNNNN -o DIR`: the legal FEC export of a fiscal year."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import UserError, console, db_options, emit_json, json_option, open_db, user_errors
from engine.money import fmt
from ledger.fec import FecError, check_siren, export_fec


@click.command("fec")
@click.option("--year", required=True, type=click.IntRange(1000, 9999), metavar="YYYY",
              help="The fiscal year (calendar year, closing on 31 December).")
@click.option("--siren", required=True, metavar="NNNNNNNNN", help="The cooperative's SIREN (9 digits).")
@click.option("-o", "--output", "directory", required=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write <SIREN>FEC<YYYY>1231.txt into (created if need be).")
@db_options
@json_option
@user_errors
def fec_command(year: int, siren: str, directory: Path, db_url: str | None, config_path: str | None,
                as_json: bool) -> None:
    """Write the FEC (article A47 A-1 LPF) of a fiscal year: every entry of the year, one line per
    ledger line, as the DGFiP's checks expect."""
    try:
        check_siren(siren)  # before opening (and maybe creating) a database
    except FecError as exc:
        raise UserError(str(exc)) from None
    summary = export_fec(open_db(db_url), year, siren, directory)
    if as_json:
        emit_json(summary.to_json())
        return
    console.print(f"wrote {summary.path}: {summary.entries} entries, {summary.lines} lines, "
                  f"debit {fmt(summary.total_debit)} = credit {fmt(summary.total_credit)}",
                  highlight=False)
