"""Issue 8, point 4: on PostgreSQL the application's role cannot switch the invariants off.

The workers and the web connect as `cae_app` (deploy/postgres/README.md): no
superuser, owner of nothing. Everything it may need works (reading, posting,
settling a dead letter); everything that would let it around the triggers is
refused by the server: `session_replication_role`, disabling or dropping a
trigger, altering or truncating a table, deleting or updating posted rows.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from engine.config import Rules
from streams.pipeline import Raw, process

pytestmark = pytest.mark.postgres

JOIN = Raw(b'{"event_id": "r1", "type": "member.joined", "occurred_at": "2026-01-05T09:00:00Z", '
           b'"member_id": "M1", "name": "Alice", "joined_on": "2026-01-05", "status": "salarie"}', "roles")


@pytest.fixture(params=["postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    from tests.conftest import new_database_url

    return new_database_url("postgresql", tmp_path, request)  # type: ignore[arg-type]


def test_the_application_role_is_neither_superuser_nor_owner(engine: Engine) -> None:
    with engine.connect() as conn:
        role = conn.scalar(text("SELECT current_user"))
        superuser = conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        owned = conn.scalar(text("SELECT count(*) FROM pg_tables WHERE tableowner = current_user"))
    assert (role, superuser, owned) == ("cae_app", False, 0)


def test_the_application_role_posts_and_reads(engine: Engine, rules: Rules) -> None:
    assert process(engine, [JOIN], rules).processed == 1
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT name FROM members WHERE member_id = 'M1'")) == "Alice"


@pytest.mark.parametrize("statement", [
    "SET session_replication_role = replica",
    "ALTER TABLE entries DISABLE TRIGGER ALL",
    "ALTER TABLE entries DISABLE TRIGGER entries_checks",
    "DROP TRIGGER entries_checks ON entries",
    "ALTER TABLE lines DROP CONSTRAINT ck_lines_amount_not_zero",
    "ALTER TABLE entries ADD COLUMN note text",
    "DROP FUNCTION cae_append_only() CASCADE",
    "CREATE TABLE shadow (x int)",
    "TRUNCATE entries CASCADE",
    "DELETE FROM processed_events",
    "UPDATE lines SET amount = amount * 2",
    "SET ROLE cae_owner",
])
def test_the_application_role_is_refused_what_would_get_around_the_invariants(
        engine: Engine, rules: Rules, statement: str) -> None:
    process(engine, [JOIN], rules)
    with pytest.raises(DBAPIError, match="permission denied|must be owner|must be superuser"):
        with engine.begin() as conn:
            conn.execute(text(statement))
