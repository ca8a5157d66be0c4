"""Opening the ledger database: the URL, the connection settings, the migrations.

SQLite is the embedded default (one file, no server); PostgreSQL is the store
at scale. On SQLite every transaction starts with `BEGIN IMMEDIATE`: a batch
reads the state it needs and then writes, and taking the write lock first
means two processes never both read and then fight over the upgrade.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text
from sqlalchemy.exc import ArgumentError, OperationalError

from engine.chart import ACCOUNTS, JOURNALS
from ledger import schema

DEFAULT_URL = "sqlite:///cae.db"


class DatabaseError(RuntimeError):
    """The database cannot be opened or used; the message says which and why."""


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("CAE_DATABASE_URL") or DEFAULT_URL


def _sqlite_settings(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    # INSERT OR REPLACE deletes the row it replaces without firing delete triggers unless
    # recursive triggers are on: without this, an upsert would rewrite append-only rows.
    cursor.execute("PRAGMA recursive_triggers = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    # The ledger's indexes take inserts in random order (member ids, event ids): with
    # SQLite's default 2 MB page cache a large ingest spends its time re-reading pages.
    # 64 MB is a bound, not a footprint: memory stays flat however many events come.
    cursor.execute("PRAGMA cache_size = -65536")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    read_only = conn.get_execution_options().get("cae_read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reports: on SQLite its transaction is deferred, so a long read
    (a FEC, a reconciliation) sees one snapshot (WAL) without holding writers back."""
    with engine.connect() as conn:
        conn.execution_options(cae_read_only=True)
        yield conn


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url)
            event.listen(engine, "connect", _sqlite_settings)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"cannot use database URL {url!r}: {exc}") from None
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision, then make sure the chart is there."""
    try:
        if engine.dialect.name == "postgresql":
            # Workers started together on a fresh database would race to create it: one
            # migrates, the others wait on this lock and then find everything in place.
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(20141231)"))
                try:
                    _upgrade(engine)
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(20141231)"))
                    conn.commit()
        else:
            _upgrade(engine)  # BEGIN IMMEDIATE already makes SQLite's writers take turns
    except OperationalError as exc:
        raise DatabaseError(f"cannot open the database: {exc.orig}") from None


def _upgrade(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")
    with engine.begin() as conn:
        for table, rows, key in ((schema.accounts, ACCOUNTS, "number"),
                                 (schema.journals, JOURNALS, "code")):
            known = set(conn.scalars(select(table.c[key])))
            missing = [{key: k, "label": v} for k, v in rows.items() if k not in known]
            if missing:
                conn.execute(insert(table), missing)


def open_ledger(url: str | None = None) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine
