"""bank payment links: a payment.received that comes after the bank line that paid its invoice

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 11:45:00

Issue 16, rule 11 a the other way round: when the bank line that paid an
invoice is taken first and the source system's `payment.received` of that
invoice and amount comes within 10 days of it, the event is that line's money:
it posts nothing and is recorded here, linked to the line (one payment event
per line at most). Append-only like the other treasury tables, and REPLACE-proof
on SQLite. `ix_bank_matches_invoice` finds the lines that paid an invoice.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger import invariants, schema

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

REPLACE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "bank_payment_links": (("payment_id",), ("event_id",), ("account", "line_ref")),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    dates = [sa.CheckConstraint(c.sqltext, name=op.f(f"ck_bank_payment_links_{c.name}"))
             for c in schema.dates("received_on") if c._ddl_if is None or c._ddl_if.dialect == dialect]
    op.create_table('bank_payment_links',
    sa.Column('payment_id', sa.String(length=256), nullable=False),
    sa.Column('account', sa.String(length=34), nullable=False),
    sa.Column('line_ref', sa.String(length=128), nullable=False),
    sa.Column('invoice_id', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    *dates,
    sa.ForeignKeyConstraint(['account', 'line_ref'], ['bank_matches.account', 'bank_matches.line_ref'], name='fk_bank_payment_links_bank_matches'),
    sa.ForeignKeyConstraint(['event_id'], ['processed_events.event_id'], name=op.f('fk_bank_payment_links_event_id_processed_events')),
    sa.PrimaryKeyConstraint('payment_id', name=op.f('pk_bank_payment_links')),
    sa.UniqueConstraint('account', 'line_ref', name='uq_bank_payment_links_line'),
    sa.UniqueConstraint('event_id', name=op.f('uq_bank_payment_links_event_id'))
    )
    op.create_index('ix_bank_matches_invoice', 'bank_matches', ['invoice_id'])
    for statement in (invariants.append_only_guards(dialect, invariants.TREASURY_LINKS_APPEND_ONLY)
                      + invariants.replace_guards(dialect, REPLACE_KEYS)):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index('ix_bank_matches_invoice', table_name='bank_matches')
    op.drop_table('bank_payment_links')
