"""`cae deadletter list | replay | dismiss`: the rejects, a second chance after a fix, or a decision.

A letter stays pending until it is settled: replayed (processed on a replay,
or because an event with its id came back corrected and valid) or dismissed
by someone with a reason. Every attempt keeps its reason, the first one too.
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from cli.common import UserError, console, db_options, emit_json, json_option, open_db, rules_from, user_errors
from ledger import deadletters
from ledger.bulk import iso_utc
from ledger.db import reading
from ledger.runs import operator
from streams import redelivery


@click.group("deadletter")
def deadletter_group() -> None:
    """Events that could not be processed, with their reasons."""


def _json(d: deadletters.StoredDeadLetter) -> dict[str, Any]:
    return {"id": d.id, "event_id": d.event_id, "reason": d.latest_reason, "first_reason": d.reason,
            "source": d.source, "received_at": iso_utc(d.received_at), "status": d.status,
            "raw": d.raw.decode("utf-8", errors="replace"),
            "history": [{"at": iso_utc(a.at), "action": a.action, "reason": a.reason, "by": a.by}
                        for a in d.history]}


@deadletter_group.command("list")
@click.option("--all", "include_settled", is_flag=True, help="Also those replayed or dismissed.")
@db_options
@json_option
@user_errors
def list_command(include_settled: bool, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """List the dead letters still pending (or all of them), with their latest reason."""
    with reading(open_db(db_url)) as conn:
        letters = deadletters.listed(conn, include_settled)
    if as_json:
        emit_json({"dead_letters": [_json(d) for d in letters]})
        return
    table = Table(title=f"{len(letters)} dead letter(s)")
    for name in ("Id", "Source", "Event", "Reason", "Status"):
        table.add_column(name, overflow="fold")
    for d in letters:
        settled = [a for a in d.history if a.action in (deadletters.REPLAYED, deadletters.DISMISSED)]
        status = d.status + (f" by {settled[-1].by}: {settled[-1].reason}" if settled else "")
        table.add_row(str(d.id), d.source, d.event_id or "", d.latest_reason, status)
    console.print(table)


@deadletter_group.command("replay")
@click.option("--id", "ids", type=int, multiple=True, help="Replay only these (default: all pending).")
@db_options
@json_option
@user_errors
def replay_command(ids: tuple[int, ...], db_url: str | None, config_path: str | None,
                   as_json: bool) -> None:
    """Process the pending dead letters again, in the order they came; those that pass are settled."""
    engine, rules, by = open_db(db_url), rules_from(config_path), operator()
    with engine.connect() as conn:
        letters = deadletters.listed(conn, ids=ids or None)
    done = redelivery.replay(engine, letters, rules, by)
    replayed, still = done.replayed, [{"id": letter.id, "reason": refusal.reason} for letter, refusal in done.still]
    if as_json:
        emit_json({"replayed": replayed, "still_pending": still})
        return
    console.print(f"{replayed} replayed, {len(still)} still pending")
    for s in still:
        console.print(f"  #{s['id']}: {s['reason']}", highlight=False)


@deadletter_group.command("dismiss")
@click.argument("letter_id", type=int, metavar="ID")
@click.option("--reason", required=True, help="Why it is settled without being processed (kept with it).")
@db_options
@json_option
@user_errors
def dismiss_command(letter_id: int, reason: str, db_url: str | None, config_path: str | None,
                    as_json: bool) -> None:
    """Mark a pending dead letter as handled (recorded with who, when and why): no longer pending."""
    by = operator()
    try:
        with open_db(db_url).begin() as conn:
            deadletters.dismiss(conn, letter_id, reason, by)
    except deadletters.NotPending as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json({"id": letter_id, "status": deadletters.DISMISSED, "reason": " ".join(reason.split()),
                   "by": by})
    else:
        console.print(f"dead letter #{letter_id} dismissed by {by}")
