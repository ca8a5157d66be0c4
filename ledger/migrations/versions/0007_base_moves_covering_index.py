"""base_moves covering index: a batch reads its members' year bases from the index alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 19:00:00

Each batch sums the contribution and sociétariat moves of every member-year it
touches, by month (ledger.book_store._load_bases). The index on (member_id,
month) found the moves, then each was read from the table, one page each, in
random order: 45 ms for 900 members on a year of 100,000 events, and growing
with the year. With the two summed columns in the index, the sums are read
from it alone: 13 ms. It replaces the old index (same leading columns), so
an insert still maintains one index.
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_base_moves_member_month_sums", "base_moves",
                    ["member_id", "month", "contribution", "societariat"])
    op.drop_index("ix_base_moves_member_month", table_name="base_moves")


def downgrade() -> None:
    op.create_index("ix_base_moves_member_month", "base_moves", ["member_id", "month"])
    op.drop_index("ix_base_moves_member_month_sums", table_name="base_moves")
