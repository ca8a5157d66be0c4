"""`cae migrate`: bring the ledger's schema up to this version, as the role that owns it.

On PostgreSQL the workers and the web run as a role that cannot alter tables
(deploy/postgres/README.md); the owner migrates, once per upgrade, and grants
the application's role what it needs (`--grant ROLE`, again after each
migration: new tables come with new grants). On SQLite every command migrates
the file it opens, and this command only says which revision it is at.
"""

from __future__ import annotations

import click

from cli.common import UserError, console, db_options, emit_json, json_option, open_db, user_errors
from ledger.db import SCHEMA_REVISION, DatabaseError, grant_application_role, masked, revision


@click.command("migrate")
@click.option("--grant", "role", metavar="ROLE", default=None,
              help="Then grant ROLE the application's privileges (PostgreSQL): read and insert everywhere, "
                   "update the rows that change, use the sequences; never alter, truncate or own.")
@db_options
@json_option
@user_errors
def migrate_command(role: str | None, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """Upgrade the ledger's schema to this version (run it with the owner role's URL)."""
    engine = open_db(db_url, create=True)
    if role is not None:
        try:
            grant_application_role(engine, role)
        except DatabaseError as exc:
            raise UserError(str(exc)) from None
    found = revision(engine)
    if as_json:
        emit_json({"database": masked(str(engine.url.render_as_string(hide_password=False))), "revision": found,
                   "granted": role})
        return
    console.print(f"{masked(engine.url.render_as_string(hide_password=False))}: schema at revision {found} "
                  f"(this version's: {SCHEMA_REVISION})" + (f"; {role} may use it" if role else ""),
                  highlight=False)
