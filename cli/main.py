"""`cae`: the command line of the engine (CONTRACT.md §3).

The commands are imported when used (`cli.lazy`): this module names them, where they
live and their line of `cae --help`, and imports none of them.
"""

from __future__ import annotations

import click

from cli.lazy import Lazy, LazyGroup

COMMANDS = {
    "ingest": Lazy("cli.ingest:ingest_command",
                   "Process the events of a .jsonl file, in order (same code as the Kafka workers)."),
    "statement": Lazy("cli.reports:statement_command", "A member's statement for a month (état des comptes)."),
    "trial-balance": Lazy("cli.reports:trial_balance_command", "Balances of every account."),
    "payroll": Lazy("cli.payroll:payroll_group", "The monthly payroll."),
    "close": Lazy("cli.payroll:close_command",
                  "Lock a month, and every month before it, for good: later events dated in them go to the next "
                  "open month, and their entries get their definitive numbers."),
    "close-year": Lazy("cli.payroll:close_year_command",
                       "Close a fiscal year: post the opening entries (à-nouveaux, journal AN) of the next one."),
    "deadletter": Lazy("cli.deadletters:deadletter_group", "Events that could not be processed, with their reasons."),
    "fec": Lazy("cli.fec:fec_command",
                "Write the FEC (article A47 A-1 LPF) of a fiscal year: every entry of the year, one line per "
                "ledger line, as the DGFiP's checks expect."),
    "reconcile": Lazy("cli.reconcile:reconcile_command",
                      "The staff's monthly reconciliation: checks, then members and totals (recorded in `cae runs`)."),
    "demo": Lazy("cli.demo:demo_command",
                 "Generate a sample cooperative, process its events, run payroll, print the results."),
    "tally": Lazy("cli.governance:tally_command",
                  "A resolution's tally: electorate, quorum, votes, majority, and the votes not counted."),
    "assemblies": Lazy("cli.governance:assemblies_command",
                       "The assemblies recorded, latest first, with their resolutions: the ids `cae tally` and "
                       "`cae assembly` take."),
    "assembly": Lazy("cli.governance:assembly_command",
                     "An assembly's attendance sheet and the results of its resolutions."),
    "attendance": Lazy("cli.governance:attendance_command",
                       "Participation in the rituals: per member and kind, and the rate per year."),
    "members": Lazy("cli.governance:members_command",
                    "Members with status, associate since, capital held, and the CESA associate deadline."),
    "messages": Lazy("cli.messages:messages_command",
                     "Every message code, in English and in French (those starting with PREFIX, e.g. `payroll.`)."),
    "mail": Lazy("cli.mail:mail_group", "Email to members: the monthly statement's notice, and what was sent to whom."),
    "publish": Lazy("cli.kafka:publish_command",
                    "Send the events of a .jsonl file to Kafka (idempotent producer, acks=all, keyed by member)."),
    "worker": Lazy("cli.kafka:worker_command",
                   "Consume cae.events and cae.governance into the ledger until stopped (SIGTERM, Ctrl-C)."),
    "status": Lazy("cli.kafka:status_command", "Consumer lag per partition, dead letters pending, last entry posted."),
    "topics": Lazy("cli.kafka:topics_command",
                   "Create the topics of the contract where missing, and show their partitions."),
    "bank": Lazy("cli.bank:bank_group",
                 "The cooperative's bank: statements in, lines matched (lettrage), the staff's assignments."),
    "receivables": Lazy("cli.bank:receivables_command",
                        "What clients still owe, per invoice, with days overdue (30-day term) and the usual buckets."),
    "payslip": Lazy("cli.payslip:payslip_command", "A member's payslip summary for a month, figures from the ledger."),
    "scheduler": Lazy("cli.scheduler:scheduler_command",
                      "Run the monthly payroll, reconciliation and close on the days the configuration sets."),
    "runs": Lazy("cli.scheduler:runs_command", "The monthly jobs that ran, by the scheduler or by hand, latest first."),
    "migrate": Lazy("cli.migrate:migrate_command",
                    "Upgrade the ledger's schema to this version (run it with the owner role's URL)."),
    "schema": Lazy("cli.schema:schema_command",
                   "Print the JSON Schema (draft 2020-12) every event is validated against."),
    "serve": Lazy("cli.web:serve_command",
                  "Serve the pages and the JSON API over the ledger (http://127.0.0.1:8000 by default)."),
    "user": Lazy("cli.web:user_group", "Accounts of the web application."),
    "token": Lazy("cli.web:token_group", "Personal API tokens (`Authorization: Bearer TOKEN`)."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
def cae() -> None:
    """Mutualisation, ledger, payroll and governance for a CAE."""


def main() -> None:
    cae(prog_name="cae")
