"""Alembic's entry point: migrations run on the engine the caller passes in.

On SQLite, foreign keys are not enforced while a revision runs: rebuilding a
table to add a CHECK constraint drops and recreates it, which would otherwise
delete or orphan its children. The revision that rebuilds checks the keys
again at its end (`PRAGMA foreign_key_check`).
"""

import warnings

from alembic import context
from sqlalchemy.exc import SAWarning

from ledger.schema import metadata

# A SQLite table rebuild reflects the table and skips its expression indexes, with a warning;
# the revision that rebuilds governance_events creates them again itself.
warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index", SAWarning)

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # outside any transaction, where the pragma takes effect
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
    try:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
