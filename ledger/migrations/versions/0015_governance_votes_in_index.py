"""governance index: a resolution's index holds its votes' fields

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 14:45:00

Issue 17, point 5: a resolution's tally reads its votes (an assembly of 10,000 associates: 14,000
of them), and SQLite parsed each vote's JSON once per field for it. Revision 0002's index on (type,
resolution) becomes (type, resolution, member, choice, proxy holder, mode, time, event id): the
query reads every field out of the index's entries. It replaces the narrow one under the same name
rather than standing beside it, since SQLite's planner chose the narrow one and parsed the JSON
anyway. Declared in `ledger.schema` (`JsonField`, `VOTE_KEYS`).
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

NAME = "ix_governance_events_resolution"
KEYS = ("resolution_id", "member_id", "choice", "cast_by", "mode", "occurred_at")
_SQL = {
    "sqlite": "json_extract(payload, '$.{key}')",
    "postgresql": "(payload::jsonb ->> '{key}')",
}


def _create(keys: tuple[str, ...], *columns: str) -> None:
    # Written out rather than created from ledger.schema's Index object, so that this revision
    # keeps building what it built even if the declared schema moves on.
    expression = _SQL[op.get_bind().dialect.name]
    op.execute(f"DROP INDEX IF EXISTS {NAME}")
    op.execute(f"CREATE INDEX {NAME} ON governance_events (type, "
               + ", ".join([*(expression.format(key=key) for key in keys), *columns]) + ")")


def upgrade() -> None:
    _create(KEYS, "event_id")


def downgrade() -> None:
    _create(KEYS[:1])  # revision 0002's
