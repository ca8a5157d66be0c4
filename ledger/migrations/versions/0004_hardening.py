"""hardening: the rules' state recorded, never rewritten; dates checked; keys with room; dead letters' history

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00

Issues 8 and 9:

- `invoices` become the invoices as issued, with their HT and VAT per VAT
  rate (`rates`, JSON text); what credit notes and payments did to them moves
  to `documents`, which now carry their invoice, amount and rates. The credited
  and paid totals of an existing ledger are carried into one `documents` row
  each per invoice (internal ids `<U+001F>migration:0004:<invoice>`), at the
  single VAT rate the invoice's totals show: their split per rate was never
  recorded;
- `member_bases` (rewritten in place) give way to `base_moves`, one row per
  event and month, summed; an existing ledger's bases and its sales (706
  lines, per member, month and document date) are carried as moves;
- `members` may set associate_on and left_on once each; `dead_letters` keep
  their bytes and first reason and are settled once (`pending`, `replayed`,
  `dismissed`), each attempt in `dead_letter_history`;
- every date, month and timestamp column is checked (`ledger.schema`); event
  ids and piece references get room for internal keys (`engine.keys`);
- on SQLite, `INSERT OR REPLACE` can no longer rewrite a recorded row;
- APScheduler's job store table goes: it kept pickled jobs in the ledger.

On SQLite, adding CHECK constraints means rebuilding the tables: foreign key
enforcement is off meanwhile (it is checked again at the end), and every
trigger is recreated after, those of revisions 0001 and 0003 with this one's.

Downgrading gives back revision 0003's schema and recomputes its totals from
the documents; what only this revision records (dead letters' history, the
split per rate) is lost.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from ledger import invariants, schema

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

MARKER = "\x1fmigration:0004"
WIDE = sa.String(length=256)
NARROW = sa.String(length=128)
EVENT_COLUMNS = {  # table -> columns holding an event id (or an internal key) or a piece reference
    "processed_events": ("event_id",), "entries": ("event_id", "piece_ref"),
    "member_statuses": ("event_id",), "documents": ("event_id", "doc_id"), "salaries": ("event_id",),
    "payslips": ("event_id",), "payslip_revisions": ("event_id",), "governance_events": ("event_id",),
}
# Per table: (date columns, timestamp columns, month columns, of which nullable).
CHECKED = {
    "processed_events": ((), ("processed_at",), (), ()),
    "entries": (("entry_date", "piece_date"), ("posted_at",), (), ()),
    "entry_numbers": (("validated_on",), (), (), ()),
    "month_locks": ((), ("locked_at",), ("month",), ()),
    "dead_letters": ((), ("received_at", "resolved_at"), (), ("resolved_at",)),
    "members": (("joined_on", "associate_on", "left_on"), (), (), ("associate_on", "left_on")),
    "member_statuses": (("since",), (), (), ()),
    "invoices": (("issued_on",), (), (), ()),
    "documents": (("issued_on",), (), (), ("issued_on",)),
    "salaries": ((), (), ("from_month",), ()),
    "payslips": ((), (), ("month",), ()),
    "payslip_revisions": (("posted_on",), (), ("month",), ()),
    "runs": ((), ("started_at", "finished_at"), ("month",), ()),
    "governance_events": ((), (), (), ()),
}
NEW_APPEND_ONLY = ("invoices", "base_moves", "dead_letter_history")
REPLACE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "processed_events": (("event_id",),), "entries": (("id",), ("event_id", "part")), "lines": (("id",),),
    "entry_numbers": (("journal", "number"), ("entry_id",)), "month_locks": (("month",),),
    "payslips": (("month", "member_id"), ("event_id",)),
    "payslip_revisions": (("month", "member_id", "revision"), ("event_id",)),
    "governance_events": (("seq",), ("event_id",)), "member_statuses": (("id",),),
    "salaries": (("id",), ("event_id",)), "documents": (("kind", "doc_id"),),
    "runs": (("id",), ("claim",)), "members": (("member_id",),), "invoices": (("invoice_id",),),
    "base_moves": (("id",),), "dead_letter_history": (("id",),),
    "dead_letters": (("id",), ("raw_sha256",)),
}
GUARDED_0003 = ("payslip_revisions", "runs")


def _dialect() -> str:
    return op.get_bind().dialect.name


def _drop_triggers() -> None:
    """SQLite: every trigger, before tables are rebuilt (they are all recreated at the end)."""
    bind = op.get_bind()
    for (name,) in bind.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").all():
        op.execute(f'DROP TRIGGER "{name}"')


def _create_triggers(*, with_0004: bool) -> None:
    dialect = _dialect()
    statements = []
    if dialect == "sqlite":
        statements = invariants.statements(dialect) + invariants.append_only_guards(dialect, GUARDED_0003)
    if with_0004:
        statements += invariants.append_only_guards(dialect, NEW_APPEND_ONLY)
        statements += invariants.write_once_guards(dialect)
        statements += invariants.replace_guards(dialect, REPLACE_KEYS, quietly=("dead_letters",))
    for statement in statements:
        op.execute(statement)


def _checks(table: str) -> list[sa.CheckConstraint]:
    days, times, months, nullable = CHECKED[table]
    return _in_dialect(schema.dates(*days) + schema.moments(*times, nullable=nullable)
                       + schema.months(*months))


def _in_dialect(checks: list[sa.CheckConstraint]) -> list[sa.CheckConstraint]:
    """The checks `ledger.schema` declares for this database's dialect (`ddl_if`)."""
    dialect = _dialect()
    return [c for c in checks if c._ddl_if is None or c._ddl_if.dialect == dialect]


def upgrade() -> None:
    dialect = _dialect()
    bind = op.get_bind()
    if dialect == "sqlite":
        _drop_triggers()
    op.create_table(
        'dead_letter_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('by', sa.String(length=200), nullable=False),
        sa.CheckConstraint("action IN ('rejected', 'retried', 'replayed', 'dismissed')",
                           name=op.f('ck_dead_letter_history_action')),
        *[sa.CheckConstraint(c.sqltext, name=op.f(f"ck_dead_letter_history_{c.name}"))
          for c in _in_dialect(schema.moments("at"))],
        sa.ForeignKeyConstraint(['letter_id'], ['dead_letters.id'],
                                name=op.f('fk_dead_letter_history_letter_id_dead_letters')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letter_history')),
    )
    op.create_index(op.f('ix_dead_letter_history_letter_id'), 'dead_letter_history', ['letter_id'])
    op.create_table(
        'base_moves',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.String(length=128), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('event_id', WIDE, nullable=False),
        sa.Column('contribution', sa.BigInteger(), nullable=False),
        sa.Column('societariat', sa.BigInteger(), nullable=False),
        sa.Column('revenue', sa.BigInteger(), nullable=False),
        sa.Column('sale_date', sa.Date(), nullable=True),
        *[sa.CheckConstraint(c.sqltext, name=op.f(f"ck_base_moves_{c.name}"))
          for c in _in_dialect(schema.months("month") + schema.dates("sale_date"))],
        sa.ForeignKeyConstraint(['member_id'], ['members.member_id'], name=op.f('fk_base_moves_member_id_members')),
        sa.ForeignKeyConstraint(['event_id'], ['processed_events.event_id'],
                                name=op.f('fk_base_moves_event_id_processed_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_base_moves')),
    )
    op.create_index('ix_base_moves_member_month', 'base_moves', ['member_id', 'month'])

    # Widen the keys first (PostgreSQL checks lengths), then record this revision's own key.
    if dialect == "postgresql":
        for table, columns in EVENT_COLUMNS.items():
            for column in columns:
                op.alter_column(table, column, type_=WIDE, existing_nullable=False)
    now = datetime.now(timezone.utc)
    if bind.execute(sa.text("SELECT count(*) FROM invoices")).scalar() or \
            bind.execute(sa.text("SELECT count(*) FROM member_bases")).scalar():  # books to carry
        processed = sa.table("processed_events", *(sa.column(c) for c in (
            "event_id", "fingerprint", "type", "entry_count", "source", "processed_at")))
        op.execute(processed.insert().values(event_id=MARKER, fingerprint="-" * 64, type="migration",
                                             entry_count=0, source="revision 0004", processed_at=now))

    _carry_bases(bind, dialect)
    op.drop_table('member_bases')
    with op.batch_alter_table('documents') as batch_op:
        batch_op.add_column(sa.Column('member_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('invoice_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('issued_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('rates', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('from_credit', sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table('invoices') as batch_op:
        batch_op.add_column(sa.Column('rates', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('event_id', WIDE, nullable=True))
    _carry_invoices(bind, now)
    with op.batch_alter_table('invoices') as batch_op:
        batch_op.drop_column('credited_ht')
        batch_op.drop_column('credited_ttc')
        batch_op.drop_column('paid')
        batch_op.alter_column('rates', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('event_id', existing_type=WIDE, nullable=False)
        batch_op.create_foreign_key(op.f('fk_invoices_event_id_processed_events'), 'processed_events',
                                    ['event_id'], ['event_id'])
        batch_op.create_index(op.f('ix_invoices_member_id'), ['member_id'])
    with op.batch_alter_table('documents') as batch_op:
        batch_op.create_check_constraint(op.f('ck_documents_kind'),
                                         "kind IN ('credit_note', 'payment', 'expense')")
        batch_op.create_index('ix_documents_invoice', ['invoice_id'])
    with op.batch_alter_table('dead_letters') as batch_op:
        batch_op.drop_constraint(op.f('ck_dead_letters_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_dead_letters_status'),
                                         "status IN ('pending', 'replayed', 'dismissed')")
        batch_op.create_index('ix_dead_letters_event_id', ['event_id'])
    with op.batch_alter_table('apscheduler_jobs') as batch_op:
        batch_op.drop_index(batch_op.f('ix_apscheduler_jobs_next_run_time'))
    op.drop_table('apscheduler_jobs')

    for table in CHECKED:
        widened = EVENT_COLUMNS.get(table, ()) if dialect == "sqlite" else ()
        checks = _checks(table)
        if not checks and not widened:
            continue
        with op.batch_alter_table(table, recreate="always" if dialect == "sqlite" else "auto") as batch_op:
            for column in widened:
                batch_op.alter_column(column, type_=WIDE, existing_nullable=False)
            for check in checks:
                batch_op.create_check_constraint(op.f(f"ck_{table}_{check.name}"), check.sqltext)
    if dialect == "sqlite":  # the rebuilt governance_events lost revision 0002's expression indexes
        _governance_indexes(bind)
    _create_triggers(with_0004=True)
    if dialect == "sqlite":
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"revision 0004 left rows without their parent: {broken[:5]}")


def _governance_indexes(bind: sa.engine.Connection) -> None:
    """Revision 0002's indexes, which a SQLite table rebuild cannot reflect and so drops."""
    # Only 0002's: an index a later revision adds (0014's) is that revision's to create.
    of_0002 = {f"ix_governance_events_{key.removesuffix('_id')}" for key in ("assembly_id", "meeting_id", "resolution_id")}
    for index in schema.governance_events.indexes:
        if index.name in of_0002:
            bind.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
            index.create(bind)


def _month_of(dialect: str, column: str) -> str:
    return f"substr({column}, 1, 7)" if dialect == "sqlite" else f"to_char({column}, 'YYYY-MM')"


def _carry_bases(bind: sa.engine.Connection, dialect: str) -> None:
    """member_bases and the sales of the ledger, as moves of this revision's key."""
    bind.execute(sa.text(
        "INSERT INTO base_moves (member_id, month, event_id, contribution, societariat, revenue, sale_date) "
        "SELECT member_id, month, :marker, contribution, societariat, 0, NULL FROM member_bases "
        "WHERE contribution <> 0 OR societariat <> 0"), {"marker": MARKER})
    month = _month_of(dialect, "e.entry_date")
    bind.execute(sa.text(
        "INSERT INTO base_moves (member_id, month, event_id, contribution, societariat, revenue, sale_date) "
        f"SELECT l.member_id, {month}, :marker, 0, 0, -sum(l.amount), e.piece_date "
        "FROM lines l JOIN entries e ON e.id = l.entry_id WHERE l.account = '706' AND l.member_id IS NOT NULL "
        f"GROUP BY l.member_id, {month}, e.piece_date HAVING sum(l.amount) <> 0"), {"marker": MARKER})


def _rate(ht: int, vat: int) -> str:
    """The one VAT rate an invoice's totals show, to 4 decimals (20 %, 5.5 %, 2.1 %...)."""
    return str((Decimal(vat) / Decimal(ht)).quantize(Decimal("0.0001")).normalize()) if ht else "0"


def _carry_invoices(bind: sa.engine.Connection, now: datetime) -> None:
    """Each invoice's rates and event id, and its credited and paid totals as documents rows."""
    rows = bind.execute(sa.text(
        "SELECT i.invoice_id, i.member_id, i.ht, i.ttc, i.credited_ht, i.credited_ttc, i.paid, "
        "(SELECT min(e.event_id) FROM entries e WHERE e.journal = 'VT' AND e.piece_ref = i.invoice_id "
        " AND e.part = 0) AS event_id FROM invoices i")).all()
    documents = []
    for r in rows:
        rate = _rate(r.ht, r.ttc - r.ht)
        bind.execute(sa.text("UPDATE invoices SET rates = :rates, event_id = :event WHERE invoice_id = :id"),
                     {"rates": json.dumps([[rate, r.ht, r.ttc - r.ht]]), "event": r.event_id or MARKER,
                      "id": r.invoice_id})
        key = f"{MARKER}:{r.invoice_id}"
        if r.credited_ht or r.credited_ttc:
            documents.append({"kind": "credit_note", "doc_id": key, "event_id": MARKER, "member_id": r.member_id,
                              "invoice_id": r.invoice_id, "amount": r.credited_ttc,
                              "rates": json.dumps([[rate, r.credited_ht, r.credited_ttc - r.credited_ht]])})
        if r.paid:
            documents.append({"kind": "payment", "doc_id": key, "event_id": MARKER, "member_id": r.member_id,
                              "invoice_id": r.invoice_id, "amount": r.paid, "rates": None})
    if documents:
        bind.execute(sa.text(
            "INSERT INTO documents (kind, doc_id, event_id, member_id, invoice_id, amount, rates, from_credit) "
            "VALUES (:kind, :doc_id, :event_id, :member_id, :invoice_id, :amount, :rates, false)"), documents)


def downgrade() -> None:
    dialect = _dialect()
    bind = op.get_bind()
    if dialect == "sqlite":
        _drop_triggers()
    else:
        op.execute("DROP TRIGGER members_write_once ON members")
        op.execute("DROP TRIGGER dead_letters_settle_once ON dead_letters")
        for table in ("members", "dead_letters"):
            op.execute(f"DROP TRIGGER {table}_no_delete ON {table}")
        for table in NEW_APPEND_ONLY + ("documents",):
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION cae_members_write_once, cae_dead_letters_settle_once")
    for table in CHECKED:
        checks = _checks(table)
        narrowed = EVENT_COLUMNS.get(table, ()) if dialect == "sqlite" else ()
        if not checks and not narrowed:
            continue
        with op.batch_alter_table(table, recreate="always" if dialect == "sqlite" else "auto") as batch_op:
            for check in checks:
                batch_op.drop_constraint(op.f(f"ck_{table}_{check.name}"), type_="check")
            for column in narrowed:
                batch_op.alter_column(column, type_=NARROW, existing_nullable=False)
    op.create_table(
        'apscheduler_jobs',
        sa.Column('id', sa.String(length=191), nullable=False),
        sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
        sa.Column('job_state', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs')),
    )
    with op.batch_alter_table('apscheduler_jobs') as batch_op:
        batch_op.create_index(batch_op.f('ix_apscheduler_jobs_next_run_time'), ['next_run_time'])
    with op.batch_alter_table('dead_letters') as batch_op:
        batch_op.drop_index('ix_dead_letters_event_id')
        batch_op.drop_constraint(op.f('ck_dead_letters_status'), type_='check')
    op.execute("UPDATE dead_letters SET status = 'replayed' WHERE status = 'dismissed'")
    with op.batch_alter_table('dead_letters') as batch_op:
        batch_op.create_check_constraint(op.f('ck_dead_letters_status'), "status IN ('pending', 'replayed')")
    with op.batch_alter_table('invoices') as batch_op:
        batch_op.add_column(sa.Column('credited_ht', sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('credited_ttc', sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('paid', sa.BigInteger(), nullable=False, server_default="0"))
    for row in bind.execute(sa.text("SELECT invoice_id, kind, amount, rates FROM documents "
                                    "WHERE invoice_id IS NOT NULL")).all():
        if row.kind == "credit_note":
            ht = sum(int(part[1]) for part in json.loads(row.rates or "[]"))
            bind.execute(sa.text("UPDATE invoices SET credited_ht = credited_ht + :ht, "
                                 "credited_ttc = credited_ttc + :ttc WHERE invoice_id = :id"),
                         {"ht": ht, "ttc": row.amount or 0, "id": row.invoice_id})
        else:
            bind.execute(sa.text("UPDATE invoices SET paid = paid + :p WHERE invoice_id = :id"),
                         {"p": row.amount or 0, "id": row.invoice_id})
    op.execute(f"DELETE FROM documents WHERE doc_id LIKE '{MARKER}%'")
    with op.batch_alter_table('invoices') as batch_op:
        batch_op.drop_index(op.f('ix_invoices_member_id'))
        batch_op.drop_constraint(op.f('fk_invoices_event_id_processed_events'), type_='foreignkey')
        batch_op.drop_column('event_id')
        batch_op.drop_column('rates')
    with op.batch_alter_table('documents') as batch_op:
        batch_op.drop_index('ix_documents_invoice')
        batch_op.drop_constraint(op.f('ck_documents_kind'), type_='check')
        for column in ('from_credit', 'rates', 'amount', 'issued_on', 'invoice_id', 'member_id'):
            batch_op.drop_column(column)
    op.create_table(
        'member_bases',
        sa.Column('member_id', sa.String(length=128), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('contribution', sa.BigInteger(), nullable=False),
        sa.Column('societariat', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.member_id'], name=op.f('fk_member_bases_member_id_members')),
        sa.PrimaryKeyConstraint('member_id', 'month', name=op.f('pk_member_bases')),
    )
    op.execute("INSERT INTO member_bases (member_id, month, contribution, societariat) "
               "SELECT member_id, month, sum(contribution), sum(societariat) FROM base_moves "
               "GROUP BY member_id, month")
    op.drop_index('ix_base_moves_member_month', 'base_moves')
    op.drop_table('base_moves')
    op.drop_index(op.f('ix_dead_letter_history_letter_id'), 'dead_letter_history')
    op.drop_table('dead_letter_history')
    if dialect == "postgresql":
        op.execute("CREATE TRIGGER documents_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON documents "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cae_append_only()")
        for table, columns in EVENT_COLUMNS.items():
            for column in columns:
                op.alter_column(table, column, type_=NARROW, existing_nullable=False)
    if dialect == "sqlite":
        _governance_indexes(bind)
    _create_triggers(with_0004=False)
