"""`cae deadletter list` and `cae deadletter replay`: the rejects, and a second chance after a fix."""

from __future__ import annotations

import click
from rich.table import Table

from cli.common import console, db_options, emit_json, json_option, open_db, rules_from, user_errors
from ledger import deadletters
from ledger.db import reading
from streams.pipeline import Raw, process


@click.group("deadletter")
def deadletter_group() -> None:
    """Events that could not be processed, with their reasons."""


@deadletter_group.command("list")
@click.option("--all", "include_replayed", is_flag=True, help="Also those already replayed.")
@db_options
@json_option
@user_errors
def list_command(include_replayed: bool, db_url: str | None, config_path: str | None,
                 as_json: bool) -> None:
    """List the dead letters still pending (or all of them)."""
    with reading(open_db(db_url)) as conn:
        letters = deadletters.pending(conn, include_replayed)
    if as_json:
        emit_json({"dead_letters": [
            {"id": d.id, "event_id": d.event_id, "reason": d.reason, "source": d.source,
             "received_at": d.received_at.isoformat(), "status": d.status,
             "raw": d.raw.decode("utf-8", errors="replace")} for d in letters]})
        return
    table = Table(title=f"{len(letters)} dead letter(s)")
    for name in ("Id", "Source", "Event", "Reason", "Status"):
        table.add_column(name)
    for d in letters:
        table.add_row(str(d.id), d.source, d.event_id or "", d.reason, d.status)
    console.print(table)


@deadletter_group.command("replay")
@click.option("--id", "ids", type=int, multiple=True, help="Replay only these (default: all pending).")
@db_options
@json_option
@user_errors
def replay_command(ids: tuple[int, ...], db_url: str | None, config_path: str | None,
                   as_json: bool) -> None:
    """Process the pending dead letters again, in the order they came; those that pass are resolved."""
    engine, rules = open_db(db_url), rules_from(config_path)
    with engine.connect() as conn:
        letters = [d for d in deadletters.pending(conn) if not ids or d.id in ids]
    replayed, still = 0, []
    for letter in letters:
        outcome = process(engine, [Raw(letter.raw, letter.source)], rules)
        with engine.begin() as conn:
            if outcome.dead_letters:
                deadletters.update_reason(conn, letter.id, outcome.dead_letters[0].reason)
                still.append({"id": letter.id, "reason": outcome.dead_letters[0].reason})
            else:
                deadletters.resolve(conn, letter.id)
                replayed += 1
    if as_json:
        emit_json({"replayed": replayed, "still_pending": still})
        return
    console.print(f"{replayed} replayed, {len(still)} still pending")
    for s in still:
        console.print(f"  #{s['id']}: {s['reason']}", highlight=False)
