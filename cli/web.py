"""`cae serve`, `cae user add | password | reset`, `cae token create | revoke`: the web application and its accounts."""

from __future__ import annotations

import sys

import click

from cli.common import UserError, console, db_options, emit_json, json_option, open_db, rules_from, user_errors
from ledger.runs import operator


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes (behind a reverse proxy; see deploy/web).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Threads per process for the routes that read the ledger.")
@click.option("--secure-cookies", is_flag=True,
              help="Mark the session cookie Secure and send HSTS: behind an HTTPS proxy, which production is.")
@click.option("--publish-to-kafka", "to_kafka", is_flag=True,
              help="Send the events entered in the pages and the API to Kafka ($CAE_KAFKA_BOOTSTRAP) for the "
                   "workers, instead of processing them here.")
@db_options
@user_errors
def serve_command(host: str, port: int, workers: int, threads: int, secure_cookies: bool, to_kafka: bool,
                  db_url: str | None, config_path: str | None) -> None:
    """Serve the pages and the JSON API over the ledger (http://127.0.0.1:8000 by default)."""
    serve(db_url, config_path, host, port, workers, secure_cookies, to_kafka, threads)


def serve(db_url: str | None, config_path: str | None, host: str, port: int, workers: int = 1,
          secure_cookies: bool = False, to_kafka: bool = False, threads: int = 4) -> None:
    import os

    import uvicorn

    open_db(db_url).dispose()  # a missing ledger or a schema behind: say so here, not in a worker
    rules_from(config_path)
    if to_kafka:
        from streams.topics import KafkaUnavailable
        from web.server import kafka_publisher

        try:
            kafka_publisher()  # Kafka there and its topics made, before any worker starts
        except KafkaUnavailable as exc:
            raise UserError(str(exc)) from None
    os.environ["CAE_SERVE_DB"] = db_url or os.environ.get("CAE_DATABASE_URL", "") or "sqlite:///cae.db"
    os.environ["CAE_SERVE_OPTIONS"] = ",".join(
        o for o, on in (("secure", secure_cookies), ("kafka", to_kafka)) if on)
    os.environ["CAE_SERVE_THREADS"] = str(threads)
    if config_path:
        os.environ["CAE_CONFIG"] = config_path
    click.echo(f"cae serve on http://{host}:{port} ({workers} worker(s)); Ctrl-C stops it.", err=True)
    uvicorn.run("web.server:app", factory=True, host=host, port=port, workers=workers, log_level="warning",
                proxy_headers=True, forwarded_allow_ips="127.0.0.1", server_header=False)  # no `server: uvicorn`


@click.group("user")
def user_group() -> None:
    """Accounts of the web application."""


@user_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "staff", "board", "member"]), required=True)
@click.option("--member", "member_id", default=None, metavar="ID", help="The member a member account belongs to.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (else asked for).")
@db_options
@json_option
@user_errors
def user_add_command(email: str, role: str, member_id: str | None, password_stdin: bool, db_url: str | None,
                     config_path: str | None, as_json: bool) -> None:
    """Make an account (the first admin, then any; admins also make them in the pages)."""
    from web.accounts import AccountError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password (12 characters at least)", hide_input=True, confirmation_prompt=True,
                                err=True)
    try:
        with open_db(db_url).begin() as conn:
            user_id = add_user(conn, email, password, role, member_id, operator())
    except AccountError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json({"id": user_id, "email": email.strip().lower(), "role": role, "member_id": member_id})
    else:
        console.print(f"account {email.strip().lower()} ({role}) made")


@user_group.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True,
              help="Read the current password, then the new one, a line each from standard input (else asked for).")
@db_options
@json_option
@user_errors
def user_password_command(email: str, password_stdin: bool, db_url: str | None, config_path: str | None,
                          as_json: bool) -> None:
    """Change your own password, giving the current one: every session and token of the account ends."""
    from web.accounts import AccountError, change_password
    from web.throttle import Throttled

    if password_stdin:
        current, new = sys.stdin.readline().rstrip("\n"), sys.stdin.readline().rstrip("\n")
    else:
        current = click.prompt("Current password", hide_input=True, err=True)
        new = click.prompt("New password (12 characters at least)", hide_input=True, confirmation_prompt=True,
                           err=True)
    try:
        with open_db(db_url).begin() as conn:
            change_password(conn, email, current, new, "cli", operator())
    except (AccountError, Throttled) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json({"email": email.strip().lower(), "changed": True})
    else:
        console.print(f"password of {email.strip().lower()} changed; its sessions and tokens have ended")


@user_group.command("reset")
@click.argument("email")
@db_options
@json_option
@user_errors
def user_reset_command(email: str, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """Reset an account's password to a temporary one, printed once: it signs in for 3 days, and only to
    choose a new password. Every session and token of the account ends."""
    from web.accounts import AccountError, reset_password

    try:
        with open_db(db_url).begin() as conn:
            temporary, until = reset_password(conn, email, operator())
    except AccountError as exc:
        raise UserError(str(exc)) from None
    valid_until = until.isoformat(timespec="seconds")
    if as_json:
        emit_json({"email": email.strip().lower(), "temporary_password": temporary, "valid_until": valid_until})
    else:
        console.print(f"temporary password of {email.strip().lower()}: {temporary}\n(shown once; valid until "
                      f"{valid_until}, to sign in and choose a new one; sessions and tokens ended)", highlight=False)


@click.group("token")
def token_group() -> None:
    """Personal API tokens (`Authorization: Bearer TOKEN`)."""


@token_group.command("create")
@click.argument("email")
@click.option("--name", default="token", show_default=True, help="What the token is for.")
@db_options
@json_option
@user_errors
def token_create_command(email: str, name: str, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """Make a token for an account and print it, once: only its hash is kept."""
    from web.accounts import AccountError, create_token

    try:
        with open_db(db_url).begin() as conn:
            token_id, secret = create_token(conn, email, name, operator())
    except AccountError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json({"id": token_id, "token": secret})
    else:
        console.print(f"token {token_id}: {secret}\n(shown once: keep it now)", highlight=False)


@token_group.command("revoke")
@click.argument("token_id", metavar="ID")
@db_options
@json_option
@user_errors
def token_revoke_command(token_id: str, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """Revoke a token: it is refused from now on."""
    from web.accounts import AccountError, revoke_token

    try:
        with open_db(db_url).begin() as conn:
            revoke_token(conn, token_id, operator())
    except AccountError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json({"id": token_id, "revoked": True})
    else:
        console.print(f"token {token_id} revoked")
