"""The ledger's tables: the books themselves, and the facts the rules need.

Money is stored as integer cents (`BigInteger`): SQLite has no exact decimal
type and would sum `NUMERIC` as floats; integer sums are exact everywhere.
A line's amount is signed, debit positive, credit negative.

The invariants of DOMAIN.md that must hold whoever writes (balance, no update
or delete, one set of entries per event, continuous numbering, closed months)
live in `ledger.invariants`, as triggers and constraints of the database.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

Id = String(128)
Cents = BigInteger

accounts = Table(
    "accounts", metadata,
    Column("number", String(12), primary_key=True),
    Column("label", String(100), nullable=False),
)

journals = Table(
    "journals", metadata,
    Column("code", String(4), primary_key=True),
    Column("label", String(100), nullable=False),
)

processed_events = Table(
    "processed_events", metadata,
    Column("event_id", Id, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("type", String(40), nullable=False),
    Column("entry_count", Integer, nullable=False),
    Column("source", String(300), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("entry_count >= 0", name="entry_count"),
)

entries = Table(
    "entries", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("journal", ForeignKey("journals.code"), nullable=False),
    Column("entry_date", Date, nullable=False),
    Column("piece_ref", Id, nullable=False),
    Column("piece_date", Date, nullable=False),
    Column("label", Text, nullable=False),  # "Facture <id> <client>": ids and names are long
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
    Column("part", Integer, nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Column("reverses", ForeignKey("entries.id"), nullable=True),
    UniqueConstraint("event_id", "part", name="uq_entries_event_part"),
    CheckConstraint("part >= 0", name="part"),
    Index("ix_entries_date", "entry_date"),
)

lines = Table(
    "lines", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("entry_id", ForeignKey("entries.id", deferrable=True, initially="DEFERRED"), nullable=False),
    Column("account", ForeignKey("accounts.number"), nullable=False),
    Column("amount", Cents, nullable=False),
    Column("member_id", Id, nullable=True),
    Column("aux_id", Id, nullable=True),  # a client or supplier code, or a member id
    Column("aux_label", Text, nullable=True),
    CheckConstraint("amount <> 0", name="amount_not_zero"),
    Index("ix_lines_entry", "entry_id", "amount"),  # covers the balance trigger's SUM
    Index("ix_lines_member_account", "member_id", "account"),
)

entry_numbers = Table(
    "entry_numbers", metadata,
    Column("journal", ForeignKey("journals.code"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("entry_id", ForeignKey("entries.id"), nullable=False, unique=True),
    Column("validated_on", Date, nullable=False),
    CheckConstraint("number > 0", name="number"),
)

month_locks = Table(
    "month_locks", metadata,
    Column("month", String(7), primary_key=True),
    Column("locked_at", DateTime(timezone=True), nullable=False),
)

dead_letters = Table(
    "dead_letters", metadata,
    Column("id", Integer, primary_key=True),
    Column("raw", LargeBinary, nullable=False),
    Column("raw_sha256", String(64), nullable=False, unique=True),
    Column("event_id", Id, nullable=True),
    Column("reason", Text, nullable=False),
    Column("source", String(300), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False, default="pending"),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("status IN ('pending', 'replayed')", name="status"),
)

members = Table(
    "members", metadata,
    Column("member_id", Id, primary_key=True),
    Column("name", String(500), nullable=False),
    Column("joined_on", Date, nullable=False),
    Column("associate_on", Date, nullable=True),
    Column("left_on", Date, nullable=True),
)

member_statuses = Table(
    "member_statuses", metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), nullable=False, index=True),
    Column("since", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
    CheckConstraint("status IN ('cape', 'salarie')", name="status"),
)

invoices = Table(
    "invoices", metadata,
    Column("invoice_id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), nullable=False),
    Column("client", String(500), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("ht", Cents, nullable=False),
    Column("ttc", Cents, nullable=False),
    Column("credited_ht", Cents, nullable=False),
    Column("credited_ttc", Cents, nullable=False),
    Column("paid", Cents, nullable=False),
)

documents = Table(
    "documents", metadata,
    Column("kind", String(20), primary_key=True),
    Column("doc_id", Id, primary_key=True),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
)

member_bases = Table(
    "member_bases", metadata,
    Column("member_id", ForeignKey("members.member_id"), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("contribution", Cents, nullable=False),
    Column("societariat", Cents, nullable=False),
)

salaries = Table(
    "salaries", metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), nullable=False, index=True),
    Column("from_month", String(7), nullable=False),
    Column("gross", Cents, nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
)

def _payslip_figures() -> list[Column[Any]]:
    """A payslip's figures, the same in a payslip and in its corrected revisions."""
    return [Column(name, Cents, nullable=False) for name in (
        "requested_gross", "gross", "employer_contributions", "employee_contributions", "net",
        "budget_before")] + [Column("capped", Boolean, nullable=False)]


payslips = Table(
    "payslips", metadata,
    Column("month", String(7), primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), primary_key=True),
    *_payslip_figures(),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
)

payslip_revisions = Table(
    # A payslip corrected after its run (`cae payroll rerun`): payslips rows are never
    # rewritten, each correction is a new revision; the current payslip is the latest one.
    "payslip_revisions", metadata,
    Column("month", String(7), primary_key=True),
    Column("member_id", Id, primary_key=True),
    Column("revision", Integer, primary_key=True),
    *_payslip_figures(),
    Column("reason", Text, nullable=False),
    Column("posted_on", Date, nullable=False),  # the correction's entries' date (rule 7)
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    ForeignKeyConstraint(["month", "member_id"], ["payslips.month", "payslips.member_id"],
                         name="fk_payslip_revisions_payslips"),
    CheckConstraint("revision > 0", name="revision"),
)

runs = Table(
    # Every run of a monthly job (payroll, reconciliation, close, correction, export), by the
    # scheduler or by hand: who, when, the outcome. `claim` ("payroll:2026-10") is set on
    # scheduled runs only, and unique: two schedulers can never both run a job for a month.
    "runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(20), nullable=False),
    Column("month", String(7), nullable=False),
    Column("member_id", Id, nullable=True),
    Column("origin", String(10), nullable=False),
    Column("started_by", String(200), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("detail", Text, nullable=False),
    Column("claim", String(60), nullable=True, unique=True),
    CheckConstraint("origin IN ('scheduled', 'manual')", name="origin"),
    CheckConstraint("outcome IN ('ok', 'warning', 'failed')", name="outcome"),
    Index("ix_runs_month_job", "month", "job"),
)

scheduler_jobs = Table(
    # APScheduler's SQLAlchemyJobStore table, declared here so that the migrations own
    # it (the job store finds it and does not create its own): same columns and index.
    "apscheduler_jobs", metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

governance_events = Table(
    "governance_events", metadata,
    Column("seq", Integer, primary_key=True),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    Column("type", String(40), nullable=False),
    Column("payload", Text, nullable=False),
)


class JsonField(FunctionElement[str]):
    """A text field of a JSON column, in each dialect's syntax (`json_field(payload, "assembly_id")`).

    The governance record is one table of JSON events; a tally finds one
    assembly's or resolution's events through indexes on the ids inside the
    JSON. A database uses an expression index only for a query written with
    the same expression, so the indexes below and governance.store's queries
    are both built from this one construct. The key is written into the SQL
    (a bound parameter would not match the index), hence the check on it.
    """

    type = String()
    name = "json_field"
    inherit_cache = False  # `key` is not a clause: keep the compiled SQL out of the cache

    def __init__(self, column: Any, key: str) -> None:
        if not re.fullmatch(r"[a-z_]+", key):
            raise ValueError(f"{key!r} is not a JSON field name")
        self.key = key
        super().__init__(column)


@compiles(JsonField)
def _json_field_default(element: JsonField, compiler: Any, **kw: Any) -> str:
    return f"json_field({compiler.process(element.clauses, **kw)}, '{element.key}')"  # str() only


@compiles(JsonField, "sqlite")
def _json_field_sqlite(element: JsonField, compiler: Any, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.clauses, **kw)}, '$.{element.key}')"


@compiles(JsonField, "postgresql")
def _json_field_postgresql(element: JsonField, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)}::jsonb ->> '{element.key}')"


GOVERNANCE_KEYS = ("assembly_id", "meeting_id", "resolution_id")
for _key in GOVERNANCE_KEYS:
    Index(f"ix_governance_events_{_key.removesuffix('_id')}", governance_events.c.type,
          JsonField(governance_events.c.payload, _key))
del _key
