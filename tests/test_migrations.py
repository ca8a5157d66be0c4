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


def test_revision_0010_files_the_invoices_already_recorded_under_their_client_s_name(
        engine: Engine, owner: Engine) -> None:
    """Rule 11 b finds an invoice recorded before revision 0010 by its client's name and TTC."""
    from sqlalchemy import select

    from engine.config import load_rules
    from ledger import schema
    from streams.pipeline import process
    from tests.ops_support import invoice, joined

    process(engine, [joined("M001"), invoice("M001", "F-1", "2026-03-02", "100.00")], load_rules())
    engine.dispose()
    config = alembic_config(owner)
    command.downgrade(config, "0009")
    command.upgrade(config, "head")
    k = schema.invoice_clients
    with owner.connect() as conn:
        assert conn.execute(select(k.c.invoice_id, k.c.client_key, k.c.ttc)).all() == [("F-1", "atelier nord", 12000)]
