"""dead letters keep their reason's catalogue code and parameters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 12:00:00

Issue 15, point 1: the staff's pages say a dead letter's reason in French. The
reason's English text stays what the CLI and the API read; beside it, the code
and parameters of its message (`engine.messages`, as JSON text) let a page say
it in French. NULL for the letters recorded before: they show their English.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dead_letters", sa.Column("reason_code", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("dead_letters", "reason_code")
