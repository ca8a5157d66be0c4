"""Opening the ledger database: the URL, the connection settings, the migrations.

SQLite is the embedded default (one file, no server); PostgreSQL is the store
at scale. On SQLite every transaction starts with `BEGIN IMMEDIATE`: a batch
reads the state it needs and then writes, and taking the write lock first
means two processes never both read and then fight over the upgrade.

Opening checks the schema's revision with one query (`SCHEMA_REVISION`, kept
equal to alembic's head by a test) and only loads alembic to migrate when
the database is behind, so a command that reads starts fast. On PostgreSQL
the workers and the web run as a role that may read and insert but not alter
tables (`deploy/postgres`): a schema behind is migrated by the owner role
with `cae migrate`, and the application says so instead of trying.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, ProgrammingError

from engine.chart import ACCOUNTS, JOURNALS
from engine.extras import MissingExtra, require
from engine.wording import term
from ledger import schema

if TYPE_CHECKING:
    import sqlite3

DEFAULT_URL = "sqlite:///cae.db"
SCHEMA_REVISION = "0018"


class DatabaseError(RuntimeError):
    """The database cannot be opened or used; the message says which and why."""


class NoLedger(DatabaseError):
    """A command that only reads was pointed at a SQLite file that does not exist."""


def database_url(url: str | None = None) -> str:
    """The URL given, else $CAE_DATABASE_URL, else `cae.db` here; a bare file name is refused with its URL.

    `--db books.db` is the most common slip: the answer names the URL that was meant.
    """
    found = url or os.environ.get("CAE_DATABASE_URL") or DEFAULT_URL
    if "://" not in found:
        raise DatabaseError(f"{term(found)} is not a database URL: for a SQLite file, write "
                            f"sqlite:///{found} (PostgreSQL: postgresql+psycopg://user:password@host/name)")
    return found


def masked(url: str) -> str:
    """The URL as it may be printed: its password replaced by `***` (issue 8)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<a database URL that cannot be read>"


SQLITE_POOL = 20  # connections kept per process (and as many more at a peak)
MMAP_SIZE = 0x7FFF0000  # SQLITE_MAX_MMAP_SIZE: SQLite maps no more of a file


def _sqlite_settings(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    # The ledger's indexes take inserts in random order (member ids, event ids): with
    # SQLite's default 2 MB page cache a large ingest spends its time re-reading pages.
    # 64 MB is a bound, not a footprint: memory stays flat however many events come.
    cursor.execute("PRAGMA cache_size = -65536")
    # Reads through the OS's page cache, shared by every connection, instead of each one's own
    # copy: a new connection reads a member's lines at once (the web's many readers), and a
    # report's second connection (`ledger.side_reads`) the pages its first just read. The whole
    # file, up to SQLite's largest map (2 GiB less 64 KiB): the payroll year's ledger is 360 MB,
    # and with a map of 256 MB its reconciliation through `cae` took 1.89 s instead of 1.80.
    # Mapped pages are the OS's to drop: memory stays the page cache's (`bench/ingest.py`).
    cursor.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
    cursor.close()


CHANGES_AT_BEGIN = "cae.changes_at_begin"  # in `Connection.info`: see `holds_write_lock_unwritten`


def _sqlite_begin(conn: Any) -> None:
    read_only = conn.get_execution_options().get("cae_read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
    conn.info[CHANGES_AT_BEGIN] = None if read_only else _driver(conn).total_changes


def _driver(conn: Connection) -> sqlite3.Connection:
    return cast("sqlite3.Connection", conn.connection.dbapi_connection)


def holds_write_lock_unwritten(conn: Connection) -> bool:
    """Whether `conn` is a SQLite connection in a transaction begun `BEGIN IMMEDIATE` that has
    changed no row yet: then nobody else can commit until it ends, and another connection to the
    file reads the rows it reads (`ledger.side_reads`). SQLite's count of the rows a connection
    inserted, updated or deleted, triggers included, is compared with its count when the
    transaction began; a schema changed meanwhile (a table created) is not counted, and no caller
    changes one before a report. A transaction SQLite ended on its own (a full disk) holds nothing."""
    if conn.dialect.name != "sqlite":
        return False
    began = conn.info.get(CHANGES_AT_BEGIN) if conn.in_transaction() else None
    if began is None:
        return False
    driver = _driver(conn)
    return driver.in_transaction and driver.total_changes == began


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reports: on SQLite its transaction is deferred, so a long read
    (a FEC, a reconciliation) sees one snapshot (WAL) without holding writers back."""
    with engine.connect() as conn:
        conn.execution_options(cae_read_only=True)
        yield conn


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


PRIVATE_FILE = 0o600


def _create_private(path: Path) -> None:
    """Create the SQLite ledger readable and writable by its owner only (issue 14, point 8): it holds
    the web's password hashes and the key that signs its cookies. SQLite gives its `-wal` and
    `-shm` files the database file's permissions. A ledger already there keeps its own (the
    README says how to tighten it); a folder missing or closed to us is left for SQLite to report."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))  # empty: a new database
    except OSError:
        pass


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    try:
        if url.startswith("sqlite"):
            path = sqlite_path(url)
            if path is not None:
                _create_private(path)
            # Connections are kept, not made per use: each one runs the pragmas below and starts
            # with a cold page cache, and `cae serve` answers 16 or more requests at once.
            engine = create_engine(url, pool_size=SQLITE_POOL, max_overflow=SQLITE_POOL)
            event.listen(engine, "connect", _sqlite_settings)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            if make_url(url).get_driver_name() == "psycopg":
                require("postgres", "a PostgreSQL ledger")
            engine = create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
    except (ArgumentError, ImportError, MissingExtra) as exc:
        raise DatabaseError(f"cannot use database URL {masked(url)}: {exc}") from None
    return engine


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config  # only migrating needs alembic

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["engine"] = engine
    return config


def revision(engine: Engine) -> str | None:
    """The schema's revision, None for an empty database."""
    with engine.connect() as conn:
        try:
            return conn.scalar(text("SELECT version_num FROM alembic_version"))
        except DBAPIError:
            return None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (if it is behind), with the chart of accounts."""
    try:
        if revision(engine) == SCHEMA_REVISION:
            return
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
    except ProgrammingError as exc:
        raise DatabaseError(
            f"the ledger's schema is behind this version ({SCHEMA_REVISION}) and this database role may "
            f"not change it ({str(exc.orig).splitlines()[0]}): run `cae migrate --db URL` with the owner "
            "role's URL") from None
    except OperationalError as exc:
        raise DatabaseError(f"cannot open the database {masked(str(engine.url))}: "
                            f"{str(exc.orig).splitlines()[0]}") from None


def _upgrade(engine: Engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
    with engine.begin() as conn:
        for table, rows, key in ((schema.accounts, ACCOUNTS, "number"),
                                 (schema.journals, JOURNALS, "code")):
            known = set(conn.scalars(select(table.c[key])))
            missing = [{key: k, "label": v} for k, v in rows.items() if k not in known]
            if missing:
                conn.execute(insert(table), missing)


def open_ledger(url: str | None = None, *, create: bool = True) -> Engine:
    """The ledger at `url`, migrated; `create=False` refuses a SQLite file that does not exist.

    A command that only reads must not make an empty ledger where a path was
    mistyped, and then report zeros as if they were the books (issue 8).
    """
    url = database_url(url)
    path = sqlite_path(url)
    if not create and path is not None and not path.exists():
        raise NoLedger(f"no ledger at {path}: check --db or $CAE_DATABASE_URL "
                       "(`cae ingest` or `cae demo` make one)")
    engine = make_engine(url)
    migrate(engine)
    return engine


# What the application's role may do on PostgreSQL: read and add rows everywhere, change the
# few rows that change (a member's facts set once, a dead letter settled, the web's accounts
# and sessions, the counts of secret ballots), purge the web's rows past use (ended sessions, old failed logins: the
# triggers refuse the others), use the sequences. Never alter, truncate, disable a trigger or
# own a table.
UPDATABLE = ("members", "dead_letters", "users", "sessions", "api_tokens", "secret_counts")
DELETABLE = ("sessions", "login_failures")


def grant_application_role(engine: Engine, role: str) -> None:
    """Give `role` the application's privileges on the ledger (`cae migrate --grant ROLE`)."""
    if engine.dialect.name != "postgresql":
        raise DatabaseError("roles are PostgreSQL's: a SQLite ledger is protected by its file's permissions")
    quoted = '"' + role.replace('"', '""') + '"'
    with engine.begin() as conn:
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
        conn.execute(text(f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {quoted}"))
        conn.execute(text(f"GRANT UPDATE ON {', '.join(UPDATABLE)} TO {quoted}"))
        conn.execute(text(f"GRANT DELETE ON {', '.join(DELETABLE)} TO {quoted}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
