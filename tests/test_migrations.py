"""The migrations build exactly the schema the code declares, and run down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from ledger.db import alembic_config
from ledger.schema import metadata


def test_migrated_database_matches_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_downgrade_to_nothing_and_upgrade_again(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        triggers = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'" if engine.dialect.name == "sqlite"
            else "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal").scalar()
    assert triggers and triggers > 10
