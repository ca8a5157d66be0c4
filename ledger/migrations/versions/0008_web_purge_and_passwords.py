"""web sessions and failed logins purged when past use; temporary passwords

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 12:00:00

Issue 14, points 6 and 7:

- an ended session and a failed login an hour old may be deleted: the web purges
  them (`web.accounts.purge`), where revision 0005 let both tables only grow. A
  live session and a recent failure are still never deleted, neither table is
  truncated, a failed login is never rewritten (`ledger.invariants.purge_guards`);
  the purge finds old failures by an index on their time;
- `users.password_temporary_until`: set when an admin resets a password to a
  temporary one, which works until then and only to choose a new password.

On PostgreSQL the application's role is granted DELETE on these two tables by
`cae migrate --grant ROLE` (`ledger.db.DELETABLE`), run after this revision.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger import invariants

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TEMPORARY = "password_temporary_until"
_SQLITE_TEMPORARY_CHECK = (f"CONSTRAINT ck_users_{TEMPORARY}_is_a_time CHECK ({TEMPORARY} IS NULL OR "
                           f"(typeof({TEMPORARY}) = 'text' AND datetime({TEMPORARY}) IS NOT NULL))")


def _drop_delete_guards(dialect: str) -> None:
    if dialect == "sqlite":
        for table in ("sessions", "login_failures"):
            op.execute(f"DROP TRIGGER {table}_no_delete")
    else:
        op.execute("DROP TRIGGER sessions_no_delete ON sessions")
        op.execute("DROP TRIGGER login_failures_append_only ON login_failures")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_delete_guards(dialect)
    for statement in invariants.purge_guards(dialect):
        op.execute(statement)
    op.create_index("ix_login_failures_at", "login_failures", ["at"])
    if dialect == "sqlite":  # a CHECK comes with the column: SQLite adds no constraint to a table
        op.execute(f"ALTER TABLE users ADD COLUMN {TEMPORARY} DATETIME {_SQLITE_TEMPORARY_CHECK}")
    else:
        op.add_column("users", sa.Column(TEMPORARY, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_column("users", TEMPORARY)
    op.drop_index("ix_login_failures_at", table_name="login_failures")
    if dialect == "sqlite":
        for table in ("sessions", "login_failures"):
            op.execute(f"DROP TRIGGER {table}_no_delete")
        old = [s for s in invariants.append_only_guards(dialect, ("login_failures",)) if "_no_delete" in s]
    else:
        for trigger in ("sessions_no_truncate ON sessions", "sessions_no_delete ON sessions",
                        "login_failures_append_only ON login_failures", "login_failures_no_delete ON login_failures"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP FUNCTION cae_refuse()")
        old = invariants.append_only_guards(dialect, ("login_failures",))
    for statement in old + invariants.no_delete_guards(dialect, ("sessions",)):
        op.execute(statement)
