"""The ledger's tables: the books themselves, and the facts the rules need.

Money is stored as integer cents (`BigInteger`): SQLite has no exact decimal
type and would sum `NUMERIC` as floats; integer sums are exact everywhere.
A line's amount is signed, debit positive, credit negative.

The invariants of DOMAIN.md that must hold whoever writes (balance, no update
or delete, one set of entries per event, continuous numbering, closed months)
live in `ledger.invariants`, as triggers and constraints of the database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

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

payslips = Table(
    "payslips", metadata,
    Column("month", String(7), primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), primary_key=True),
    Column("requested_gross", Cents, nullable=False),
    Column("gross", Cents, nullable=False),
    Column("employer_contributions", Cents, nullable=False),
    Column("employee_contributions", Cents, nullable=False),
    Column("net", Cents, nullable=False),
    Column("budget_before", Cents, nullable=False),
    Column("capped", Boolean, nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
)

governance_events = Table(
    "governance_events", metadata,
    Column("seq", Integer, primary_key=True),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    Column("type", String(40), nullable=False),
    Column("payload", Text, nullable=False),
)
