"""treasury: bank accounts, statements, lines, matches, members' IBANs, transfer orders

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 11:25:08.620219

Issue 16 (DOMAIN.md rules 10-13). Every new table is append-only like the
ledger's (`ledger.invariants.append_only_guards`), and on SQLite refuses an
`INSERT OR REPLACE` over a recorded key (`replace_guards`). A line is
recorded once per account and identity (the primary key); a payslip revision
is in at most one transfers file (`uq_transfer_orders_payslip`). The
application's role gets SELECT and INSERT on them from `cae migrate --grant`
(all tables), nothing more.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger import invariants, schema


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


APPEND_ONLY = invariants.TREASURY_APPEND_ONLY
REPLACE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "bank_accounts": (("iban",),), "bank_statements": (("account", "statement_id"), ("event_id",)),
    "bank_lines": (("account", "line_ref"),), "bank_matches": (("account", "line_ref"),),
    "member_bank_accounts": (("id",), ("event_id",)),
    "transfer_orders": (("end_to_end_id",), ("month", "member_id", "revision")),
}


def _checks(*checks: sa.CheckConstraint, table: str) -> list[sa.CheckConstraint]:
    """The declared schema's dialect-bound checks (`ledger.schema.dates`, …), for this dialect."""
    dialect = op.get_bind().dialect.name
    return [sa.CheckConstraint(c.sqltext, name=op.f(f"ck_{table}_{c.name}")) for c in checks
            if c._ddl_if is None or c._ddl_if.dialect == dialect]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('bank_accounts',
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['processed_events.event_id'], name=op.f('fk_bank_accounts_event_id_processed_events')),
    sa.PrimaryKeyConstraint('iban', name=op.f('pk_bank_accounts'))
    )
    op.create_table('member_bank_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    *_checks(*schema.dates("from_date"), table='member_bank_accounts'),
    sa.ForeignKeyConstraint(['event_id'], ['processed_events.event_id'], name=op.f('fk_member_bank_accounts_event_id_processed_events')),
    sa.ForeignKeyConstraint(['member_id'], ['members.member_id'], name=op.f('fk_member_bank_accounts_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_bank_accounts')),
    sa.UniqueConstraint('event_id', name=op.f('uq_member_bank_accounts_event_id'))
    )
    op.create_index('ix_member_bank_accounts_iban', 'member_bank_accounts', ['iban'])
    op.create_index('ix_member_bank_accounts_member', 'member_bank_accounts', ['member_id', 'from_date'])

    op.create_table('transfer_orders',
    sa.Column('end_to_end_id', sa.String(length=35), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('file_id', sa.String(length=35), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    *_checks(*schema.months("month"), *schema.moments("created_at"), table='transfer_orders'),
    sa.CheckConstraint('amount > 0', name=op.f('ck_transfer_orders_amount')),
    sa.CheckConstraint('revision >= 0', name=op.f('ck_transfer_orders_revision')),
    sa.ForeignKeyConstraint(['member_id'], ['members.member_id'], name=op.f('fk_transfer_orders_member_id_members')),
    sa.PrimaryKeyConstraint('end_to_end_id', name=op.f('pk_transfer_orders')),
    sa.UniqueConstraint('month', 'member_id', 'revision', name='uq_transfer_orders_payslip')
    )
    op.create_table('bank_lines',
    sa.Column('account', sa.String(length=34), nullable=False),
    sa.Column('line_ref', sa.String(length=128), nullable=False),
    sa.Column('booked_on', sa.Date(), nullable=False),
    sa.Column('value_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('counterparty_name', sa.Text(), nullable=True),
    sa.Column('counterparty_iban', sa.String(length=34), nullable=True),
    sa.Column('remittance', sa.Text(), nullable=True),
    sa.Column('end_to_end_id', sa.String(length=128), nullable=True),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_bank_lines_amount_not_zero')),
    *_checks(*schema.dates("booked_on", "value_on"), table='bank_lines'),
    sa.ForeignKeyConstraint(['account'], ['bank_accounts.iban'], name=op.f('fk_bank_lines_account_bank_accounts')),
    sa.ForeignKeyConstraint(['event_id'], ['processed_events.event_id'], name=op.f('fk_bank_lines_event_id_processed_events')),
    sa.PrimaryKeyConstraint('account', 'line_ref', name=op.f('pk_bank_lines'))
    )
    op.create_index('ix_bank_lines_booked_on', 'bank_lines', ['booked_on'])

    op.create_table('bank_statements',
    sa.Column('account', sa.String(length=34), nullable=False),
    sa.Column('statement_id', sa.String(length=128), nullable=False),
    sa.Column('opening_balance', sa.BigInteger(), nullable=False),
    sa.Column('closing_balance', sa.BigInteger(), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('to_date', sa.Date(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('new_lines', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    *_checks(*schema.dates("from_date", "to_date"), table='bank_statements'),
    sa.CheckConstraint('new_lines >= 0 AND new_lines <= line_count', name=op.f('ck_bank_statements_new_lines')),
    sa.ForeignKeyConstraint(['account'], ['bank_accounts.iban'], name=op.f('fk_bank_statements_account_bank_accounts')),
    sa.ForeignKeyConstraint(['event_id'], ['processed_events.event_id'], name=op.f('fk_bank_statements_event_id_processed_events')),
    sa.PrimaryKeyConstraint('account', 'statement_id', name=op.f('pk_bank_statements')),
    sa.UniqueConstraint('event_id', name=op.f('uq_bank_statements_event_id'))
    )
    op.create_index('ix_bank_statements_account_to', 'bank_statements', ['account', 'to_date'])

    op.create_table('bank_matches',
    sa.Column('account', sa.String(length=34), nullable=False),
    sa.Column('line_ref', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('rule', sa.String(length=1), nullable=True),
    sa.Column('assigned_by', sa.String(length=500), nullable=True),
    sa.Column('invoice_id', sa.String(length=128), nullable=True),
    sa.Column('payment_id', sa.String(length=256), nullable=True),
    sa.Column('member_id', sa.String(length=128), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=True),
    sa.Column('ledger_account', sa.String(length=12), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('event_id', sa.String(length=256), nullable=False),
    sa.CheckConstraint("kind IN ('invoice', 'payment', 'transfer', 'net_pay', 'account', 'split')", name=op.f('ck_bank_matches_kind')),
    sa.CheckConstraint('(rule IS NULL) <> (assigned_by IS NULL)', name=op.f('ck_bank_matches_rule_or_staff')),
    sa.ForeignKeyConstraint(['account', 'line_ref'], ['bank_lines.account', 'bank_lines.line_ref'], name='fk_bank_matches_bank_lines'),
    sa.ForeignKeyConstraint(['event_id'], ['processed_events.event_id'], name=op.f('fk_bank_matches_event_id_processed_events')),
    sa.PrimaryKeyConstraint('account', 'line_ref', name=op.f('pk_bank_matches'))
    )
    op.create_index('ix_bank_matches_member_month', 'bank_matches', ['member_id', 'month'])
    op.create_index('ix_bank_matches_payment', 'bank_matches', ['payment_id'])

    op.create_index('ix_invoices_ttc', 'invoices', ['ttc'])
    for statement in (invariants.append_only_guards(dialect, APPEND_ONLY)
                      + invariants.replace_guards(dialect, REPLACE_KEYS)):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index('ix_invoices_ttc', table_name='invoices')
    op.drop_index('ix_bank_matches_payment', table_name='bank_matches')
    op.drop_index('ix_bank_matches_member_month', table_name='bank_matches')

    op.drop_table('bank_matches')
    op.drop_index('ix_bank_statements_account_to', table_name='bank_statements')

    op.drop_table('bank_statements')
    op.drop_index('ix_bank_lines_booked_on', table_name='bank_lines')

    op.drop_table('bank_lines')
    op.drop_table('transfer_orders')
    op.drop_index('ix_member_bank_accounts_member', table_name='member_bank_accounts')
    op.drop_index('ix_member_bank_accounts_iban', table_name='member_bank_accounts')

    op.drop_table('member_bank_accounts')
    op.drop_table('bank_accounts')
