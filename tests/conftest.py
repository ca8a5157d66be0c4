"""Fixtures shared by every test: a fresh ledger on SQLite and on PostgreSQL.

Every test that takes `engine` runs twice, once per backend (the contract test
suite of STYLE.md: one set of tests, every store must pass it). PostgreSQL
comes from $CAE_TEST_POSTGRES_URL, or from deploy/postgres/pg.sh, which starts
a private cluster on loopback. Where it cannot be had, PostgreSQL tests skip,
except under CI=true, where they fail: CI must never pass by skipping.

On PostgreSQL the application runs as it does in production: as the role
`cae_app`, which may read and insert but owns nothing, so it can neither alter
a table nor switch a trigger off. The databases belong to `cae_owner`, who
migrates them (`owner_url` gives a test the owner's URL of its database).
"""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from engine.config import Rules, load_rules
from ledger.db import grant_application_role, make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class Sent:
    statements: int = 0


@contextmanager
def statements_sent(engine: Engine) -> Iterator[Sent]:
    """How many statements `engine` sends to its database inside the block (`.statements` after it):
    what the tests that bound a batch's or a report's queries count."""
    sent = Sent()

    def count(*_: Any) -> None:
        sent.statements += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


@contextmanager
def statements_asked(engine: Engine) -> Iterator[list[tuple[str, str]]]:
    """Each statement `engine` sends to its database inside the block, on one line, with the name of
    the thread that sent it: what the tests that name a batch's or a report's queries read."""
    asked: list[tuple[str, str]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        asked.append((threading.current_thread().name, " ".join(statement.split())))
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield asked
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def statements_of(engine: Engine, read: Callable[[], Any]) -> list[str]:
    """Each statement `read()` sends, on one line."""
    with statements_asked(engine) as asked:
        read()
    return [statement for _, statement in asked]


def _postgres_server() -> str:
    url = os.environ.get("CAE_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        started = subprocess.run(["bash", str(ROOT / "deploy/postgres/pg.sh"), "start"],
                                 capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"cannot start PostgreSQL: {exc}") from None
    if started.returncode != 0:
        raise RuntimeError(f"cannot start PostgreSQL: {started.stderr.strip()[-500:]}")
    return started.stdout.strip().splitlines()[-1]


OWNER, APP = "cae_owner", "cae_app"  # password = name, as deploy/postgres/pg.sh makes them


class PostgresServer:
    """The test server: an autocommit engine on `postgres`, and a migrated template to copy."""

    def __init__(self, admin: Engine, template: str) -> None:
        self.admin, self.template = admin, template


def _ensure_roles(admin: Engine) -> None:
    with admin.connect() as conn:
        for role in (OWNER, APP):
            conn.execute(text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
                f"CREATE ROLE {role} LOGIN PASSWORD '{role}' NOSUPERUSER NOCREATEDB NOCREATEROLE; "
                "END IF; END $$"))


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[PostgresServer]:
    """An engine on the server's `postgres` database, with a migrated template to copy."""
    try:
        admin = create_engine(_postgres_server(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the server
        message = f"PostgreSQL is not available: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    _ensure_roles(admin)
    template = f"cae_template_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{template}" OWNER {OWNER}'))
    templ_engine = make_engine(_with_database(admin, template, OWNER))
    migrate(templ_engine)
    grant_application_role(templ_engine, APP)
    templ_engine.dispose()
    yield PostgresServer(admin, template)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{template}"'))
    admin.dispose()


def new_database_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a fresh, migrated, empty database of this kind, dropped after the test."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'cae-{uuid.uuid4().hex[:6]}.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_admin")
    admin = server.admin
    name = f"cae_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{server.template}" OWNER {OWNER}'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    request.addfinalizer(drop)
    return _with_database(admin, name, APP)


def _with_database(admin: Engine, name: str, role: str) -> str:
    return admin.url.set(database=name, username=role, password=role).render_as_string(hide_password=False)


def owner_url(url: str) -> str:
    """The same database as the owner sees it (on SQLite, the file: its permissions are the guard)."""
    if url.startswith("sqlite"):
        return url
    return make_url(url).set(username=OWNER, password=OWNER).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh ledger database, once per backend (PostgreSQL's comes migrated, SQLite's on first open)."""
    return new_database_url(request.param, tmp_path, request)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    from ledger.db import open_ledger

    eng = open_ledger(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def owner(db_url: str, engine: Engine) -> Iterator[Engine]:
    """The ledger as the owner of its tables writes to it: more rights than the application's role
    (on PostgreSQL), the triggers all the same. For tests that go around the application."""
    found = make_engine(owner_url(db_url))
    yield found
    found.dispose()


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules()


# The stream tests (tests/test_kafka_*.py) load their fixtures with `pytest_plugins` and import
# helpers from the same module: registered here, it is assert-rewritten whichever comes first.
pytest.register_assert_rewrite("tests.kafka_fixtures")
