"""`cae mail statements --month M` and `cae mail log`: email for members beyond assemblies (issue 17, point 6).

The sending and the log are `streams.member_mail`'s (the staff's mail page uses the same).
"""

from __future__ import annotations

import click
from rich.table import Table

from cli.common import console, db_options, emit_json, json_option, month_option, open_db, user_errors
from cli.tables import show, texts
from streams.member_mail import mail_log, send_statements


@click.group("mail")
def mail_group() -> None:
    """Email to members: the monthly statement's notice, and what was sent to whom."""


@mail_group.command("statements")
@month_option
@click.option("--base-url", default="http://127.0.0.1:8000", envvar="CAE_BASE_URL", show_default=True,
              help="Where the web app is served: the email links to the statement's page there.")
@db_options
@json_option
@user_errors
def statements_command(month: str, base_url: str, db_url: str | None, config_path: str | None,
                       as_json: bool) -> None:
    """Tell each member who consented that their statement for MONTH is ready (CAE_SMTP_URL), once."""
    sent = send_statements(open_db(db_url), month, base_url)
    if as_json:
        emit_json({"month": month, "emailed": sent})
    else:
        console.print(f"{sent} statement notice(s) emailed for {month}", highlight=False)


@mail_group.command("log")
@db_options
@json_option
@user_errors
def log_command(db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """What was emailed to whom: statement notices and convocations."""
    with open_db(db_url).connect() as conn:
        found = mail_log(conn)
    if as_json:
        emit_json({"sent": [s.to_json() for s in found]})
        return
    table = Table(title="Mail sent to members")
    texts(table, "Kind", "About", "Member", "Address", "Sent")
    for s in found:
        table.add_row(s.kind, s.about, s.member_id, s.address or "", s.sent)
    show(table)
