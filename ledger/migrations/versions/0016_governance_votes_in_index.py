"""governance indexes: each holds the fields a tally reads of the events it finds

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 14:45:00

Issue 17, point 5: a resolution's tally reads its votes (an assembly of 10,000 associates: 14,000
of them), the assembly's attendance and its proxies, and SQLite parsed each event's JSON once per
field for it. Revision 0002's indexes on (type, resolution / meeting / assembly) now also hold,
after the key, a vote's member, choice, proxy holder, mode, time and event id; an attendance's
member and mode; a proxy's giver and holder: the queries read every field out of the index's
entries. They replace the narrow ones under the same names rather than standing beside them,
since SQLite's planner chose the narrow ones and parsed the JSON anyway. Declared in
`ledger.schema` (`JsonField`, `COVERED`).
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

COVERED = {
    "assembly_id": ("from_member", "to_member"),
    "meeting_id": ("member_id", "mode"),
    "resolution_id": ("member_id", "choice", "cast_by", "mode", "occurred_at"),
}
_SQL = {
    "sqlite": "json_extract(payload, '$.{key}')",
    "postgresql": "(payload::jsonb ->> '{key}')",
}


def _create(key: str, covered: tuple[str, ...], *columns: str) -> None:
    # Written out rather than created from ledger.schema's Index objects, so that this revision
    # keeps building what it built even if the declared schema moves on.
    expression = _SQL[op.get_bind().dialect.name]
    name = f"ix_governance_events_{key.removesuffix('_id')}"
    op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute(f"CREATE INDEX {name} ON governance_events (type, "
               + ", ".join([*(expression.format(key=k) for k in (key, *covered)), *columns]) + ")")


def upgrade() -> None:
    for key, covered in COVERED.items():
        _create(key, covered, *(("event_id",) if key == "resolution_id" else ()))


def downgrade() -> None:
    for key in COVERED:
        _create(key, ())  # revision 0002's
