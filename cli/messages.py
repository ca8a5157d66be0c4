"""`cae messages`: the catalogue of what users read, each code with its English and its French.

The API adds a refusal's `code` beside its English `error` (issue 15) and the dead letters
keep it: a program that reads the API, or a person who translates, finds every code here,
with its parameters as the texts name them. Codes are stable: never renamed nor reused.
"""

from __future__ import annotations

import click
from rich.table import Table

from cli.common import console, emit_json, json_option
from engine.messages import CATALOGUE


@click.command("messages")
@click.argument("prefix", required=False, default="")
@json_option
def messages_command(prefix: str, as_json: bool) -> None:
    """Every message code, in English and in French (those starting with PREFIX, e.g. `payroll.`)."""
    chosen = {code: texts for code, texts in sorted(CATALOGUE.items()) if code.startswith(prefix)}
    if as_json:
        emit_json({"messages": [{"code": code, "en": en, "fr": fr} for code, (en, fr) in chosen.items()]})
        return
    table = Table(title=f"{len(chosen)} messages", show_lines=True)
    for column in ("Code", "English", "French"):
        table.add_column(column, overflow="fold")
    for code, (en, fr) in chosen.items():
        table.add_row(code, en, fr)
    console.print(table)
