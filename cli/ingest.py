"""`cae ingest FILE.jsonl`: the embedded runner, from the command line.

Exit codes: 0 when every line was processed or a duplicate, 3 when at least
one went to the dead letters (the summary is printed all the same), so that
cron or a script notices rejects; 1 and 2 as every command (CONTRACT.md §3),
1 also when the ledger cannot store anything for now (a full disk, a read-only
file): the ingest stops there, says so in one line, and dead-letters nothing.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cli.common import UserError, console, db_options, emit_json, json_option, open_db, rules_from, user_errors
from streams.embedded import Interrupted, ingest, read_events


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


EXIT_DEAD_LETTERS = 3


@click.command("ingest")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_options
@json_option
@user_errors
def ingest_command(path: Path, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """Process the events of a .jsonl file, in order (same code as the Kafka workers).

    Exits 3 when at least one line went to the dead letters (see `cae deadletter list`).
    """
    engine, rules = open_db(db_url, create=True), rules_from(config_path)
    try:
        if as_json:
            outcome = ingest(engine, read_events(path), rules)
        else:
            with Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), console=console, transient=True) as bar:
                task = bar.add_task("ingest", total=_count_lines(path))
                outcome = ingest(engine, read_events(path), rules,
                                 progress=lambda n: bar.advance(task, n))
    except Interrupted as exc:
        raise UserError(str(exc)) from None
    summary = {"processed": outcome.processed, "duplicates": outcome.duplicates,
               "dead_letters": len(outcome.dead_letters)}
    if as_json:
        emit_json(summary)
    else:
        console.print(f"{summary['processed']} processed, {summary['duplicates']} duplicates, "
                      f"{summary['dead_letters']} dead letters")
        for letter in outcome.dead_letters:
            console.print(f"  [red]dead letter[/] {letter.source}: {letter.reason}", highlight=False)
    if outcome.dead_letters:
        raise click.exceptions.Exit(EXIT_DEAD_LETTERS)
