"""What every `cae` command shares: `--db`, `--json`, `--config`, and how errors reach users.

CONTRACT.md §3: exit 0 on success, 1 on a user error with one line on stderr
(never a traceback), 2 on usage errors (click's own); `--json` prints exactly
one JSON document on stdout.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import click
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from engine.config import ConfigError, Rules, load_rules
from engine.extras import MissingExtra
from engine.bounds import check_month
from engine.periods import parse_day
from ledger.db import DatabaseError, masked, open_ledger

F = TypeVar("F", bound=Callable[..., Any])

# Piped or redirected output gets room for the reconciliation's columns instead of rich's 80,
# unless $COLUMNS says how wide it is; a terminal is measured.
console = Console(width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160)


class UserError(click.ClickException):
    """A mistake the user can fix: one line on stderr, exit 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"cae: {self.message}", err=True)


def db_options(func: F) -> F:
    """`--db URL` and `--config FILE`, on the command itself (`cae ingest F --db URL`)."""
    func = click.option("--config", "config_path", metavar="FILE", default=None,
                        help="Rates file (TOML); default $CAE_CONFIG or the packaged rates.")(func)
    return click.option("--db", "db_url", metavar="URL", default=None,
                        help="Database URL; default $CAE_DATABASE_URL or sqlite:///cae.db.")(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(func)


def open_db(db_url: str | None, *, create: bool = False) -> Engine:
    """The ledger; only the commands that write new books (`ingest`, `demo`, `worker`) may create it.

    Its connections are closed when the command ends, not left to the interpreter's exit: SQLite
    folds its write-ahead log back into the ledger file when the last connection closes, so a
    command leaves `cae.db` whole and no `cae.db-wal` behind (an ingest's long run freezes the
    heap for speed, and frozen objects are not collected at exit).
    """
    try:
        engine = open_ledger(db_url, create=create)
    except DatabaseError as exc:
        raise UserError(str(exc)) from None
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(engine.dispose)
    return engine


def _month(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:  # the events' window (engine.bounds, issue 14): 0001-01 or 9999-12 would fail further on
        return check_month(value, date.today())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def day_option(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """A `YYYY-MM-DD` option, in ASCII digits."""
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


month_option = click.option("--month", required=True, metavar="YYYY-MM", callback=_month,
                            help="The month, such as 2026-10.")


def optional_month(help_text: str) -> Callable[[F], F]:
    return click.option("--month", metavar="YYYY-MM", default=None, callback=_month, help=help_text)


def interactive() -> bool:
    """Whether a person is at the keyboard: irreversible commands ask them first (`--yes` skips it)."""
    return sys.stdin.isatty()


def today(config_path: str | None = None) -> date:
    """Today in the cooperative's time zone (`[schedule] timezone`), where months end."""
    from engine.schedule import parse_schedule
    from engine.config import read_config

    try:
        zone = parse_schedule(*read_config(config_path)).zone
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    return datetime.now(zone).date()


def rules_from(config_path: str | None) -> Rules:
    try:
        return load_rules(config_path)
    except ConfigError as exc:
        raise UserError(str(exc)) from None


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False))


def user_errors(func: F) -> F:
    """Turn known failures into one-line errors; anything else too, unless CAE_DEBUG is set."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (ConfigError, DatabaseError, MissingExtra, LookupError, ValueError, OSError) as exc:
            raise UserError(str(exc)) from None
        except SQLAlchemyError as exc:
            raise UserError(f"database error: {_without_secrets(str(getattr(exc, 'orig', exc)).splitlines()[0])}") \
                from None
        except Exception as exc:  # the last net: no traceback reaches a user
            if os.environ.get("CAE_DEBUG"):
                raise
            raise UserError(f"internal error ({type(exc).__name__}: {_without_secrets(str(exc))}); "
                            "set CAE_DEBUG=1 for the traceback") from None
    return wrapper  # type: ignore[return-value]


def _without_secrets(text: str) -> str:
    """A message with any database URL in it masked (drivers sometimes quote theirs)."""
    import re

    return re.sub(r"[a-z][a-z0-9+]*://[^\s'\"]+", lambda m: masked(m.group(0)), text)


