"""bank payment links, invoices by client name: rule 11 a the other way round, rule 11 b by one index

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 11:45:00

Issue 16, rule 11 a the other way round: when the bank line that paid an
invoice is taken first and the source system's `payment.received` of that
invoice and amount comes within 10 days of it, the event is that line's money:
it posts nothing and is recorded here, linked to the line (one payment event
per line at most). Append-only like the other treasury tables, and REPLACE-proof
on SQLite. `ix_bank_matches_invoice` finds the lines that paid an invoice.

`invoice_clients` gives each invoice under its client's name as rule 11 b
compares names (`engine.matching.same_name`) with its TTC, for a bank credit's
candidates by one index lookup; it replaces `ix_invoices_ttc` (by amount only,
whose candidates grew with every invoice of a common amount). The invoices
already recorded are added here, their key computed as the code computes it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger import invariants, schema
from ledger.book_store import client_key

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

REPLACE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "bank_payment_links": (("payment_id",), ("event_id",), ("account", "line_ref")),
    "invoice_clients": (("invoice_id",),),
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
    op.create_table('invoice_clients',
    sa.Column('invoice_id', sa.String(length=128), nullable=False),
    sa.Column('client_key', sa.String(length=500), nullable=False),
    sa.Column('ttc', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.invoice_id'], name=op.f('fk_invoice_clients_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('invoice_id', name=op.f('pk_invoice_clients'))
    )
    op.create_index('ix_invoice_clients_key_ttc', 'invoice_clients', ['client_key', 'ttc'])
    op.drop_index('ix_invoices_ttc', table_name='invoices')
    _add_invoices_recorded()
    for statement in (invariants.append_only_guards(dialect, invariants.TREASURY_LINKS_APPEND_ONLY)
                      + invariants.replace_guards(dialect, REPLACE_KEYS)):
        op.execute(statement)


def _add_invoices_recorded() -> None:
    conn = op.get_bind()
    invoices, keys = schema.invoices, schema.invoice_clients
    rows = [{"invoice_id": r.invoice_id, "client_key": client_key(r.client), "ttc": r.ttc}
            for r in conn.execute(sa.select(invoices.c.invoice_id, invoices.c.client, invoices.c.ttc))]
    for start in range(0, len(rows), 5000):
        conn.execute(sa.insert(keys), rows[start:start + 5000])


def downgrade() -> None:
    op.create_index('ix_invoices_ttc', 'invoices', ['ttc'])
    op.drop_table('invoice_clients')
    op.drop_index('ix_bank_matches_invoice', table_name='bank_matches')
    op.drop_table('bank_payment_links')
