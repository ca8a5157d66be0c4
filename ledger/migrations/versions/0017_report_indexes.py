"""indexes for the month's reports on large books: the trial balance and the members' sums from
indexes alone, the à-nouveaux found without reading every entry

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 14:00:00

Issue 18, point 4. The trial balance summed every line of the table per account (a scan of the
rows and a sort): with `ix_lines_account_amount` it reads one narrow index in account order. The
members' sums (the statements of every member, the reconciliation) grouped by member and account
through `ix_lines_member_account` and read each line's amount from the table; the index now
carries the amount (it replaces the old one, same leading columns, so an insert still maintains
one index for it, as revision 0007 did for base_moves). The opening of the fiscal year (the
latest à-nouveaux, journal AN) walked every entry up to the day through the date index: the
partial index `ix_entries_opening` holds the à-nouveaux alone, so it finds them at once and costs
nothing to the other entries' inserts. (An index on (journal, entry_date) would also serve the
payroll's and the bank's journals, and SQLite, which keeps no statistics here, would then take it
for a member's payslip and read every payroll entry of the cooperative.)
"""
import sqlalchemy as sa
from alembic import op

OPENING = "journal = 'AN'"

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lines_account_amount", "lines", ["account", "amount"])
    op.create_index("ix_lines_member_account_amount", "lines", ["member_id", "account", "amount"])
    op.drop_index("ix_lines_member_account", table_name="lines")
    op.create_index("ix_entries_opening", "entries", ["entry_date"], sqlite_where=sa.text(OPENING),
                    postgresql_where=sa.text(OPENING))


def downgrade() -> None:
    op.drop_index("ix_entries_opening", table_name="entries")
    op.create_index("ix_lines_member_account", "lines", ["member_id", "account"])
    op.drop_index("ix_lines_member_account_amount", table_name="lines")
    op.drop_index("ix_lines_account_amount", table_name="lines")
