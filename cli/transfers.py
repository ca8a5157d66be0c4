"""`cae payroll transfers --month M -o FILE.xml`: the month's net pay as a SEPA transfers file (DOMAIN.md rule 13).

One transaction per member to the IBAN registered for them on the execution
date (`member.bank_account_set`), with the payslip's stable end-to-end id
(`engine.payouts.end_to_end_id`), which comes back on the bank line and
settles the net pay (rule 11 c). Each transaction is recorded as a transfer
order (`transfer_orders`) when the file is written, so a payslip is in at most
one file: the same month again writes only what no file has paid yet, and
nothing once every payslip is in one. A member whose payslip was corrected
after their transfer is left out too (the difference is the staff's to pay).
Members without an IBAN are listed on stderr and left out. The file is written
beside its name, then renamed once its orders are recorded, so a failure leaves
neither a file nobody recorded nor orders without their file.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import click
from cli.common import UserError, console, day_option, db_options, emit_json, json_option, month_option, open_db, \
    rules_from, today, user_errors
from engine.money import fmt
from treasury import month_transfers


@click.command("transfers")
@month_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, metavar="FILE.xml",
              help="Where to write the pain.001.001.03 file.")
@click.option("--from-account", metavar="IBAN", help="The cooperative's account the salaries leave from.")
@click.option("--on", "on", callback=day_option, metavar="YYYY-MM-DD", help="Execution date; default today.")
@db_options
@json_option
@user_errors
def transfers_command(month: str, output: Path, from_account: str | None, on: date | None, db_url: str | None,
                      config_path: str | None, as_json: bool) -> None:
    """Write the SEPA transfers file (pain.001.001.03) of the month's net pay still unpaid."""
    engine, rules = open_db(db_url), rules_from(config_path)
    day = on or today(config_path)
    try:
        made = month_transfers.prepare(engine, rules, month, day, from_account)
    except month_transfers.WhichAccount as exc:
        raise UserError(str(exc)) from None
    for payee in made.due.missing:
        click.echo(f"{payee.member_id} ({payee.name}): no IBAN registered, net pay {fmt(payee.amount)} not in "
                   "the file", err=True)
    if made.data is not None:
        partial = output.with_name(output.name + ".partial")
        partial.write_bytes(made.data)
        try:
            month_transfers.record(engine, made)
        except Exception:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, output)
    elif not as_json:
        console.print(f"Nothing to pay for {month}: every payslip is in a file already, settled, or without an "
                      "IBAN.", highlight=False)
    if as_json:
        emit_json(made.summary())
    elif made.data is not None:
        console.print(f"{output}: {len(made.due.payees)} transfer(s), {fmt(made.total)}", highlight=False)
