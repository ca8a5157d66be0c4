"""`cae`: the command line of the engine (CONTRACT.md §3)."""

from __future__ import annotations

import click

from cli.corrections import rerun_command
from cli.deadletters import deadletter_group
from cli.demo import demo_command
from cli.export import export_command
from cli.fec import fec_command
from cli.governance import assembly_command, attendance_command, members_command, tally_command
from cli.ingest import ingest_command
from cli.kafka import publish_command, status_command, topics_command, worker_command
from cli.migrate import migrate_command
from cli.schema import schema_command
from cli.web import serve_command, token_group, user_group
from cli.payroll import close_command, close_year_command, payroll_group
from cli.payslip import payslip_command
from cli.reconcile import reconcile_command
from cli.reports import statement_command, trial_balance_command
from cli.scheduler import runs_command, scheduler_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cae() -> None:
    """Mutualisation, ledger, payroll and governance for a CAE."""


for command in (ingest_command, statement_command, trial_balance_command, payroll_group,
                close_command, close_year_command, deadletter_group, fec_command, reconcile_command, demo_command,
                tally_command, assembly_command, attendance_command, members_command,
                publish_command, worker_command, status_command, topics_command,
                payslip_command, scheduler_command, runs_command, migrate_command,
                schema_command, serve_command, user_group, token_group):
    cae.add_command(command)
for command in (rerun_command, export_command):  # `cae payroll rerun`, `cae payroll export`
    payroll_group.add_command(command)


def main() -> None:
    cae(prog_name="cae")
