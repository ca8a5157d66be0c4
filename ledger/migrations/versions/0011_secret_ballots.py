"""secret ballots: who voted and the counts, apart; the mail sent to members

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:00:00

Issue 17, DOMAIN.md G4: a secret resolution's participation (who voted, how:
directly, by correspondence, by proxy) and its counts per choice, in two
tables that nothing links (`ledger.schema`). The participation is append-only;
a count row starts at zero and each ballot adds one to one count, never more
ballots than voters, nothing taken away (`ledger.invariants.secret_count_guards`).
On PostgreSQL the application's role is granted UPDATE on `secret_counts` by
`cae migrate --grant ROLE` (`ledger.db.UPDATABLE`), run after this revision.

Issue 17, point 6: `mail_log`, each email sent to a member (the monthly "your
statement is ready"), once per kind, subject and member; append-only.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledger import invariants

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('secret_participation',
    sa.Column('resolution_id', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('cast_by', sa.String(length=128), nullable=True),
    sa.CheckConstraint("mode IN ('direct', 'correspondence', 'proxy')", name=op.f('ck_secret_participation_mode')),
    sa.CheckConstraint("(mode = 'proxy') = (cast_by IS NOT NULL)",
                       name=op.f('ck_secret_participation_proxy_names_its_holder')),
    sa.PrimaryKeyConstraint('resolution_id', 'member_id', name=op.f('pk_secret_participation'))
    )
    op.create_table('secret_counts',
    sa.Column('resolution_id', sa.String(length=128), nullable=False),
    *(sa.Column(f'n_{c}', sa.Integer(), nullable=False) for c in ('for', 'against', 'abstain', 'blank')),
    *(sa.CheckConstraint(f'n_{c} >= 0', name=op.f(f'ck_secret_counts_n_{c}_not_negative'))
      for c in ('for', 'against', 'abstain', 'blank')),
    sa.PrimaryKeyConstraint('resolution_id', name=op.f('pk_secret_counts'))
    )
    op.create_table('mail_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('about', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('statement')", name=op.f('ck_mail_log_kind')),
    *([sa.CheckConstraint("typeof(sent_at) = 'text' AND datetime(sent_at) IS NOT NULL",
                          name=op.f('ck_mail_log_sent_at_is_a_time'))] if dialect == "sqlite" else []),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_log')),
    sa.UniqueConstraint('kind', 'about', 'member_id', name='uq_mail_log_once')
    )
    for statement in (invariants.append_only_guards(dialect, invariants.SECRET_APPEND_ONLY)
                      + invariants.replace_guards(dialect, {"secret_participation": (("resolution_id", "member_id"),),
                                                            "secret_counts": (("resolution_id",),),
                                                            "mail_log": (("id",), ("kind", "about", "member_id"))})
                      + invariants.secret_count_guards(dialect)):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table('mail_log')
    op.drop_table('secret_counts')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION cae_secret_count_check()")
    op.drop_table('secret_participation')
