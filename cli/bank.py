"""`cae bank import | lines | assign` and `cae receivables`: the treasury from the command line (CONTRACT.md §5).

A bank file becomes one `bank.statement_received` event per statement, with a
stable id (`ledger.treasury.event_id_of`: the same file again is a duplicate),
checked whole against the ledger first (`ledger.treasury.check_bank_events`),
then processed by `streams.pipeline.process` like any event, or published to
`cae.bank` when Kafka is configured (`$CAE_KAFKA_BOOTSTRAP` set). A file that
cannot be read or would be refused exits 1 with one line, and nothing of it is
recorded. With Kafka, `matched` and `unmatched` are not known when the
command ends (the workers match): they are null.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import click
from sqlalchemy import Engine
from rich.table import Table

from cli.common import (UserError, console, day_option, db_options, emit_json, json_option, open_db,
                        optional_month, rules_from, today, user_errors)
from cli.lazy import LazyGroup
from cli.tables import figures, show, texts
from engine.config import Rules
from ledger import treasury
from ledger.bank_store import RuleError
from ledger.receivables import report
from ledger.runs import operator
from streams import bank_files
from streams.pipeline import Raw, process
from treasury.csvmap import load_mapping
from treasury.formats import FORMATS, read_statements
from treasury.reading import StatementFileError


@click.group("bank", cls=LazyGroup, lazy={})
def bank_group() -> None:
    """The cooperative's bank: statements in, lines matched (lettrage), the staff's assignments."""


def _checked(raws: list[Raw], engine: Engine, rules: Rules) -> None:
    """Each event valid at the door and taken by the ledger, in order, or `UserError` with why."""
    try:
        bank_files.check(engine, rules, raws)
    except bank_files.RefusedAtTheDoor as exc:
        raise UserError(f"{exc.source}: {exc}") from None
    except RuleError as exc:
        raise UserError(str(exc)) from None


@bank_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "format_", type=click.Choice(FORMATS), default=None,
              help="The file's format; guessed from its content when not given.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The column mapping of a CSV export (TOML, see docs/bank-csv.md).")
@db_options
@json_option
@user_errors
def import_command(path: Path, format_: str | None, mapping: Path | None, db_url: str | None,
                   config_path: str | None, as_json: bool) -> None:
    """Read a bank statement file (CAMT.053, OFX, CFONB 120, CSV), record its new lines and match them."""
    try:
        read = load_mapping(mapping.read_text(encoding="utf-8")) if mapping else None
        statements = read_statements(path.read_bytes(), format_, read)
    except StatementFileError as exc:
        raise UserError(str(exc)) from None
    engine, rules = open_db(db_url, create=True), rules_from(config_path)
    raws = bank_files.statement_events(statements, path.name)
    _checked(raws, engine, rules)
    bootstrap = os.environ.get("CAE_KAFKA_BOOTSTRAP")
    summary: dict[str, object] = {"statements": len(statements), "lines": sum(len(s.lines) for s in statements)}
    if bootstrap:
        from cli.kafka import topics_ready
        from streams.publish import publish
        from streams.topics import DEFAULT_PARTITIONS, KafkaUnavailable

        try:  # the topics created where missing, as `cae publish` does
            publish(raws, bootstrap, topics_ready(bootstrap, None, DEFAULT_PARTITIONS))
        except KafkaUnavailable as exc:
            raise UserError(str(exc)) from None
        summary.update(new_lines=None, matched=None, unmatched=None, published=len(raws))
    else:
        outcome = process(engine, raws, rules)
        if outcome.dead_letters:  # refused meanwhile (another import, a worker): say why
            raise UserError(outcome.dead_letters[0].reason)
        taken = [json.loads(r.data)["event_id"] for r in raws if outcome.statuses.get(r.source) == "processed"]
        summary.update(treasury.import_summary(engine, taken))  # a statement taken before brings nothing
    if as_json:
        emit_json(summary)
        return
    console.print(f"{summary['statements']} statement(s), {summary['lines']} line(s)"
                  + ("" if bootstrap else f": {summary['new_lines']} new, {summary['matched']} matched, "
                     f"{summary['unmatched']} for the staff (`cae bank lines --unmatched`)")
                  + (" published to Kafka" if bootstrap else ""), highlight=False)


@bank_group.command("lines")
@click.option("--unmatched", is_flag=True, help="Only the lines waiting for the staff.")
@optional_month("Only the lines booked in this month (YYYY-MM).")
@db_options
@json_option
@user_errors
def lines_command(unmatched: bool, month: str | None, db_url: str | None, config_path: str | None,
                  as_json: bool) -> None:
    """The bank lines, unmatched first, each with what it settles or its candidates."""
    engine, rules = open_db(db_url), rules_from(config_path)
    found = treasury.bank_lines(engine, rules, month, unmatched)
    if as_json:
        emit_json({"lines": found})
        return
    table = Table(title="Bank lines")
    texts(table, "Line", "Booked", "Counterparty", "Remittance")
    figures(table, "Amount")
    texts(table, "Matched to / candidates")
    for x in found:
        what = x["matched_to"] or {"candidates": ", ".join(c.get("invoice_id") or c.get("member_id")
                                                           or c.get("ledger_account") or "" for c in x["candidates"])}
        table.add_row(x["line_ref"], x["booked_on"], x["counterparty_name"] or "", x["remittance"] or "",
                      x["amount"], " ".join(f"{k}={v}" for k, v in what.items() if v))
    show(table, None)


@bank_group.command("assign")
@click.argument("line_ref")
@click.option("--invoice", "invoice_id", metavar="ID", help="The invoice the line pays.")
@click.option("--net-pay", nargs=2, metavar="MEMBER MONTH", help="The member's net pay of a month (YYYY-MM).")
@click.option("--account", "ledger_account", metavar="NNN", help="A ledger account (with --label).")
@click.option("--label", metavar="TEXT", help="The entry's label, with --account.")
@click.option("--member", "member_id", metavar="ID", help="With --account: the member the amount is for.")
@click.option("--bank-account", metavar="IBAN", help="The bank account, when the reference is on several.")
@db_options
@json_option
@user_errors
def assign_command(line_ref: str, invoice_id: str | None, net_pay: tuple[str, str] | None,
                   ledger_account: str | None, label: str | None, member_id: str | None,
                   bank_account: str | None, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """Assign an unmatched bank line (a `bank.line_assigned` event saying who made it)."""
    chosen = [x for x in (invoice_id, net_pay, ledger_account) if x]
    if len(chosen) != 1 or (ledger_account is None) != (label is None) or (member_id and not ledger_account):
        raise click.UsageError("give one of --invoice ID, --net-pay MEMBER MONTH, or --account NNN --label TEXT "
                               "[--member ID]")
    engine, rules = open_db(db_url), rules_from(config_path)
    account = bank_account or treasury.find_line_account(engine, line_ref)
    body: dict[str, object] = {"line_ref": line_ref, "account": account, "assigned_by": operator()}
    if invoice_id:
        body["invoice_id"] = invoice_id
    elif net_pay:
        body.update(member_id=net_pay[0], net_pay_month=net_pay[1])
    else:
        body.update(ledger_account=ledger_account, label=label)
        if member_id:
            body["member_id"] = member_id
    raw = bank_files.assignment(body, "cae bank assign")
    _checked([raw], engine, rules)
    outcome = process(engine, [raw], rules)
    if outcome.dead_letters:
        raise UserError(outcome.dead_letters[0].reason)
    if as_json:
        emit_json({"event_id": json.loads(raw.data)["event_id"], "line_ref": line_ref, "account": account,
                   "entries": len(outcome.entries)})
        return
    console.print(f"Line {line_ref} assigned ({len(outcome.entries)} entr{'y' if len(outcome.entries) == 1 else 'ies'}"
                  " posted in BQ).", highlight=False)


@click.command("receivables")
@click.option("--member", "member_id", metavar="ID", help="Only this member's invoices.")
@click.option("--on", "on", callback=day_option, metavar="YYYY-MM-DD", help="As at this day; default today.")
@db_options
@json_option
@user_errors
def receivables_command(member_id: str | None, on: date | None, db_url: str | None, config_path: str | None,
                        as_json: bool) -> None:
    """What clients still owe, per invoice, with days overdue (30-day term) and the usual buckets."""
    engine = open_db(db_url)
    day = on or today(config_path)
    with engine.connect() as conn:
        found = report(conn, day, None if member_id is None else [member_id]).to_json()
    if as_json:
        emit_json(found)
        return
    table = Table(title=f"Receivables on {day}")
    texts(table, "Invoice", "Member", "Client", "Issued")
    figures(table, "Due", "Days overdue")
    for x in found["invoices"]:
        table.add_row(str(x["invoice_id"]), str(x["member_id"]), str(x["client"]), str(x["issued_on"]),
                      str(x["due"]), str(x["days_overdue"]))
    show(table, None)
    console.print("  ".join(f"{b}: {v}" for b, v in found["buckets"].items()) + f"  total: {found['total']}",
                  highlight=False)
