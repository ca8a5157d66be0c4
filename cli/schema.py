"""`cae schema`: the JSON Schema of the events, generated from the validators (docs/events.md)."""

from __future__ import annotations

import click

from cli.common import emit_json, user_errors


@click.command("schema")
@click.option("--type", "event_type", default=None, metavar="TYPE",
              help="Only this event type's schema (such as invoice.issued).")
@user_errors
def schema_command(event_type: str | None) -> None:
    """Print the JSON Schema (draft 2020-12) every event is validated against."""
    from engine.events import json_schema

    document = json_schema()
    if event_type is not None:
        found = {name: d for name, d in document["$defs"].items()
                 if d.get("properties", {}).get("type", {}).get("const") == event_type}
        if not found:
            raise click.BadParameter(f"no event type {event_type!r}", param_hint="--type")
        (name, one), = found.items()
        document = {"$schema": document["$schema"], "$defs": document["$defs"], **one}
    emit_json(document)
