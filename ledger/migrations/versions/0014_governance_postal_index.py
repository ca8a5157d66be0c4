"""governance index: who voted by correspondence, per associate

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 14:00:00

Issue 17, point 5: a resolution's tally counts in the quorum every associate who voted by
correspondence on any resolution of the assembly (DOMAIN.md G2). It asked the other resolutions
for all their correspondence votes (an assembly of 10,000 with 20 resolutions: 114,000 JSON
documents read per tally); now it asks only about the associates it does not already know
voted, each found through this index on (type, mode, member, resolution, time), whose entries
hold what the query reads. Declared in `ledger.schema` (`JsonField`), like revision 0002's.
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

NAME = "ix_governance_events_postal"
KEYS = ("mode", "member_id", "resolution_id", "occurred_at")
_SQL = {
    "sqlite": "json_extract(payload, '$.{key}')",
    "postgresql": "(payload::jsonb ->> '{key}')",
}


def upgrade() -> None:
    # Written out rather than created from ledger.schema's Index object, so that this revision
    # keeps building what it built even if the declared schema moves on.
    expression = _SQL[op.get_bind().dialect.name]
    op.execute(f"CREATE INDEX {NAME} ON governance_events (type, "
               + ", ".join(expression.format(key=key) for key in KEYS) + ")")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {NAME}")
