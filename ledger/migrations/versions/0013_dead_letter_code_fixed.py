"""a dead letter's reason code is as fixed as its reason; a retry's refusal keeps its code

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 14:00:00

Revision 0012 gave dead letters the catalogue code of their reason
(`reason_code`), beside its English text; the write-once guard of revision
0004 did not name it, so a hand-written UPDATE could have made a page say
another reason in French than the CLI says in English. The guard is made
again with the column (`ledger.invariants.dead_letter_guard`).

A replay refused again adds its reason to the letter's history: its code now
goes beside it (`dead_letter_history.reason_code`), so that the staff's page
says in French why the letter is still pending. NULL for the attempts before.
"""
import sqlalchemy as sa
from alembic import op

from ledger import invariants

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _guard(fixed: tuple[str, ...]) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":  # a SQLite trigger is dropped and made again; PostgreSQL's function is replaced
        op.execute("DROP TRIGGER dead_letters_settle_once")
    for statement in invariants.dead_letter_guard(dialect, fixed):
        op.execute(statement)


def upgrade() -> None:
    _guard(invariants.LETTERS_FIXED)
    op.add_column("dead_letter_history", sa.Column("reason_code", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("dead_letter_history", "reason_code")
    _guard(invariants.LETTERS_FIXED_0004)
