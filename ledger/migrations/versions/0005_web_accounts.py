"""web accounts: users, sessions, API tokens, login throttling, the audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:00:00

The tables of `cae serve` (issue 10). Passwords are argon2 hashes; session ids
and API token secrets are stored as SHA-256 hashes. `users`, `sessions` and
`api_tokens` change (a role, a session's last use, a revocation) but lose no
row; `login_failures`, `audit_log` and `web_settings` are append-only.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger import invariants, schema

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

APPEND_ONLY = ("login_failures", "audit_log", "web_settings")
KEPT = ("users", "sessions", "api_tokens")
REPLACE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "users": (("id",), ("email",)), "sessions": (("id_hash",),), "api_tokens": (("id",), ("secret_hash",)),
    "login_failures": (("id",),), "audit_log": (("id",),), "web_settings": (("name",),),
}


def _checks(*checks: sa.CheckConstraint) -> list[sa.CheckConstraint]:
    dialect = op.get_bind().dialect.name
    return [c for c in checks if c._ddl_if is None or c._ddl_if.dialect == dialect]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('member_id', sa.String(length=128), nullable=True),
        sa.Column('disabled', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'staff', 'board', 'member')", name=op.f('ck_users_role')),
        sa.CheckConstraint("(role = 'member') = (member_id IS NOT NULL)", name=op.f('ck_users_member_of_a_member')),
        *[sa.CheckConstraint(c.sqltext, name=op.f(f"ck_users_{c.name}")) for c in _checks(*schema.moments("created_at"))],
        sa.ForeignKeyConstraint(['member_id'], ['members.member_id'], name=op.f('fk_users_member_id_members')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
        sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    )
    op.create_table(
        'sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        *[sa.CheckConstraint(c.sqltext, name=op.f(f"ck_sessions_{c.name}")) for c in _checks(
            *schema.moments("created_at", "last_seen", "ended_at", nullable=("ended_at",)))],
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_sessions')),
    )
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.String(length=24), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        *[sa.CheckConstraint(c.sqltext, name=op.f(f"ck_api_tokens_{c.name}")) for c in _checks(
            *schema.moments("created_at", "revoked_at", nullable=("revoked_at",)))],
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('secret_hash', name=op.f('uq_api_tokens_secret_hash')),
    )
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        *[sa.CheckConstraint(c.sqltext, name=op.f(f"ck_login_failures_{c.name}")) for c in _checks(*schema.moments("at"))],
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    )
    op.create_index('ix_login_failures_subject_at', 'login_failures', ['subject', 'at'])
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=300), nullable=False),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        *[sa.CheckConstraint(c.sqltext, name=op.f(f"ck_audit_log_{c.name}")) for c in _checks(*schema.moments("at"))],
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_table(
        'web_settings',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_web_settings')),
    )
    for statement in (invariants.append_only_guards(dialect, APPEND_ONLY)
                      + invariants.no_delete_guards(dialect, KEPT)
                      + invariants.replace_guards(dialect, REPLACE_KEYS)):
        op.execute(statement)


def downgrade() -> None:
    for table in ('web_settings', 'audit_log', 'login_failures', 'api_tokens', 'sessions', 'users'):
        if table == 'login_failures':
            op.drop_index('ix_login_failures_subject_at', table_name='login_failures')
        op.drop_table(table)
