"""payroll operations: payslip revisions, run records, the scheduler's job store

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:00:00

- `payslip_revisions`: a payslip corrected after its run (`cae payroll rerun`),
  append-only like `payslips`, whose rows stay as they were;
- `runs`: every payroll, reconciliation, close, correction and export, by the
  scheduler or by hand, append-only; `claim` is unique, so two schedulers on
  one database cannot both run a month's job;
- `apscheduler_jobs`: APScheduler's SQLAlchemyJobStore table, owned here so
  that the migrated schema is the declared one.

The append-only guards of the two new tables come from
`ledger.invariants.append_only_guards`, the function that wrote revision
0001's, for the dialect at hand.
"""
from alembic import op
import sqlalchemy as sa

from ledger import invariants

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

GUARDED = ("payslip_revisions", "runs")


def upgrade() -> None:
    op.create_table(
        'payslip_revisions',
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('member_id', sa.String(length=128), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('requested_gross', sa.BigInteger(), nullable=False),
        sa.Column('gross', sa.BigInteger(), nullable=False),
        sa.Column('employer_contributions', sa.BigInteger(), nullable=False),
        sa.Column('employee_contributions', sa.BigInteger(), nullable=False),
        sa.Column('net', sa.BigInteger(), nullable=False),
        sa.Column('budget_before', sa.BigInteger(), nullable=False),
        sa.Column('capped', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('posted_on', sa.Date(), nullable=False),
        sa.Column('event_id', sa.String(length=128), nullable=False),
        sa.CheckConstraint('revision > 0', name=op.f('ck_payslip_revisions_revision')),
        sa.ForeignKeyConstraint(['event_id'], ['processed_events.event_id'],
                                name=op.f('fk_payslip_revisions_event_id_processed_events')),
        sa.ForeignKeyConstraint(['month', 'member_id'], ['payslips.month', 'payslips.member_id'],
                                name='fk_payslip_revisions_payslips'),
        sa.PrimaryKeyConstraint('month', 'member_id', 'revision', name=op.f('pk_payslip_revisions')),
        sa.UniqueConstraint('event_id', name=op.f('uq_payslip_revisions_event_id')),
    )
    op.create_table(
        'runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job', sa.String(length=20), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('member_id', sa.String(length=128), nullable=True),
        sa.Column('origin', sa.String(length=10), nullable=False),
        sa.Column('started_by', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('claim', sa.String(length=60), nullable=True),
        sa.CheckConstraint("origin IN ('scheduled', 'manual')", name=op.f('ck_runs_origin')),
        sa.CheckConstraint("outcome IN ('ok', 'warning', 'failed')", name=op.f('ck_runs_outcome')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_runs')),
        sa.UniqueConstraint('claim', name=op.f('uq_runs_claim')),
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_month_job', ['month', 'job'], unique=False)
    op.create_table(
        'apscheduler_jobs',
        sa.Column('id', sa.String(length=191), nullable=False),
        sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
        sa.Column('job_state', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs')),
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_apscheduler_jobs_next_run_time'), ['next_run_time'],
                              unique=False)
    for statement in invariants.append_only_guards(op.get_bind().dialect.name, GUARDED):
        op.execute(statement)


def downgrade() -> None:
    # Dropping a table drops its triggers with it, on both dialects.
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_apscheduler_jobs_next_run_time'))
    op.drop_table('apscheduler_jobs')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_month_job')
    op.drop_table('runs')
    op.drop_table('payslip_revisions')
