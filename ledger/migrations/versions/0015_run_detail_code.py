"""runs keep their detail's catalogue code and parameters

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 14:00:00

Issue 15, point 2 of the pages: the staff's runs page says a run's detail in
French. The English detail stays what `cae runs` and the API read; beside it,
the code and parameters of its message (`engine.messages`, as JSON text) let
the page say it in French. NULL for the runs recorded before and for free
text: they show their detail as recorded.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("detail_code", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("runs", "detail_code")
