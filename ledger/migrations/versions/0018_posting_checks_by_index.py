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
the size of the ledger. The rules checked are the same, word for word (tests/test_invariants.py).
SQLite's checks are row triggers that already look up by key: unchanged.
"""
from alembic import op

from ledger import invariants

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_ENTRIES = """CREATE OR REPLACE FUNCTION cae_entries_checks() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF EXISTS (SELECT 1 FROM new_entries n
                CROSS JOIN LATERAL (SELECT count(*) AS lines, coalesce(sum(l.amount), 0) AS total
                                    FROM lines l WHERE l.entry_id = n.id) own
                WHERE own.lines < 2 OR own.total <> 0) THEN
       RAISE EXCEPTION 'unbalanced entry: debits and credits differ or fewer than 2 lines';
     END IF;
     IF EXISTS (SELECT 1 FROM new_entries n
                WHERE n.part >= coalesce((SELECT p.entry_count FROM processed_events p
                                          WHERE p.event_id = n.event_id), 0)) THEN
       RAISE EXCEPTION 'event already posted its entries';
     END IF;
     IF EXISTS (SELECT 1 FROM new_entries n JOIN month_locks m
                ON m.month >= to_char(n.entry_date, 'YYYY-MM')) THEN
       RAISE EXCEPTION 'month closed: nothing can be posted into it';
     END IF;
     RETURN NULL;
   END $$"""

_LINES = """CREATE OR REPLACE FUNCTION cae_lines_entry_not_posted() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF EXISTS (SELECT 1 FROM new_lines n
                WHERE (SELECT true FROM entries e WHERE e.id = n.entry_id)) THEN
       RAISE EXCEPTION 'entry already posted: a line cannot be added to it';
     END IF;
     RETURN NULL;
   END $$"""

def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ENTRIES)
        op.execute(_LINES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in invariants.posting_checks_0001():
            op.execute(statement)
