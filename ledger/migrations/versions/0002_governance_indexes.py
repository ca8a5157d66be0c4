"""governance indexes: find an assembly's or a resolution's events inside governance_events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00

The governance record stays one append-only table of JSON events; these
expression indexes on the ids inside the JSON (type, then the assembly,
meeting or resolution id) let a tally read one resolution's votes and one
assembly's attendance and proxies without reading the whole record. They are
declared in `ledger.schema` (`JsonField`), whose queries in governance.store
use the same expressions.
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

KEYS = ("assembly_id", "meeting_id", "resolution_id")
_SQL = {
    "sqlite": "json_extract(payload, '$.{key}')",
    "postgresql": "(payload::jsonb ->> '{key}')",
}


def _name(key: str) -> str:
    return f"ix_governance_events_{key.removesuffix('_id')}"


def upgrade() -> None:
    # Written out rather than created from ledger.schema's Index objects, so that this
    # revision keeps building what it built even if the declared schema moves on.
    expression = _SQL[op.get_bind().dialect.name]
    for key in KEYS:
        op.execute(f"CREATE INDEX {_name(key)} ON governance_events (type, {expression.format(key=key)})")


def downgrade() -> None:
    for key in KEYS:
        op.execute(f"DROP INDEX IF EXISTS {_name(key)}")
