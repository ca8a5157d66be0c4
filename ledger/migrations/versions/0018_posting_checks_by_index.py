"""the posting checks on PostgreSQL look up each new entry's lines and event by index

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 20:10:00

Issue 18, point 3. Revision 0001's statement-level checks joined a batch's new entries to every
line of the ledger (`new_entries LEFT JOIN lines … GROUP BY`): PostgreSQL hashed the whole
`lines` table for each batch, so a batch of 500 events took 5 ms to check in an empty ledger and
53 ms once it held 50,000 events, and the stream slowed as the books grew. The same checks now
ask, for each new entry, its own lines (`ix_lines_entry`, which holds the amounts) and its own
event (the primary key), and for each new line, its entry: a lateral subquery or a scalar one
cannot be turned into a join over the whole table, so a batch costs what it holds, whatever
the size of the ledger. The rules checked are the same (`ledger.invariants.posting_checks_0018`,
tests/test_invariants.py). SQLite's checks are row triggers that already look up by key: unchanged.
"""
from alembic import op

from ledger import invariants

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in invariants.posting_checks_0018():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in invariants.posting_checks_0001():
            op.execute(statement)
