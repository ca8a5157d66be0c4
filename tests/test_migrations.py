"""The migrations build exactly the schema the code declares, and run down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from ledger.db import SCHEMA_REVISION, alembic_config
from ledger.schema import metadata


def test_the_revision_the_code_expects_is_the_head(engine: Engine) -> None:
    """`ledger.db` checks the schema with one query against this constant, without alembic."""
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == SCHEMA_REVISION


def test_migrated_database_matches_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_downgrade_to_nothing_and_upgrade_again(engine: Engine, owner: Engine) -> None:
    engine.dispose()
    config = alembic_config(owner)
    command.downgrade(config, "base")
    assert set(inspect(owner).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    engine = owner
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        triggers = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'" if engine.dialect.name == "sqlite"
            else "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal").scalar()
    assert triggers and triggers > 10
