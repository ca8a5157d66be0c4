"""Fixtures shared by every test: a fresh ledger on SQLite and on PostgreSQL.

Every test that takes `engine` runs twice, once per backend (the contract test
suite of STYLE.md: one set of tests, every store must pass it). PostgreSQL
comes from $CAE_TEST_POSTGRES_URL, or from deploy/postgres/pg.sh, which starts
a private cluster on loopback. Where it cannot be had, PostgreSQL tests skip,
except under CI=true, where they fail: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from engine.config import Rules, load_rules
from ledger.db import make_engine, migrate

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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


class PostgresServer:
    """The test server: an autocommit engine on `postgres`, and a migrated template to copy."""

    def __init__(self, admin: Engine, template: str) -> None:
        self.admin, self.template = admin, template


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
    template = f"cae_template_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{template}"'))
    templ_engine = make_engine(_with_database(admin, template))
    migrate(templ_engine)
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
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{server.template}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    request.addfinalizer(drop)
    return _with_database(admin, name)


def _with_database(admin: Engine, name: str) -> str:
    return admin.url.set(database=name).render_as_string(hide_password=False)


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


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules()


# The stream tests (tests/test_kafka_*.py) load their fixtures with `pytest_plugins` and import
# helpers from the same module: registered here, it is assert-rewritten whichever comes first.
pytest.register_assert_rewrite("tests.kafka_fixtures")
