"""The ledger's tables: the books themselves, and the facts the rules need.

Money is stored as integer cents (`BigInteger`): SQLite has no exact decimal
type and would sum `NUMERIC` as floats; integer sums are exact everywhere.
A line's amount is signed, debit positive, credit negative.

Every date, month and timestamp column is checked by the database to be one:
PostgreSQL's types do it; on SQLite, where a column takes any text, a CHECK
constraint does (`'2026-10-15x'` or `'20261015'` would otherwise slip past the
closed-month rule, whose `strftime` gives NULL for them).

The rules' state is recorded, never rewritten: an invoice row is the invoice
as issued, what credit notes and payments did to it are their own `documents`
rows, and a member's bases are the sum of their `base_moves`. A member row
changes once at most per fact (association, departure), from unknown to known.

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
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

Id = String(128)
# An event id (1 to 128 characters) or an internal key (`engine.keys`), which adds a
# prefix and a month to a member id and so needs more room than an event id.
EventKey = String(256)
Cents = BigInteger
MONTH_TEXT = String(7)


def _sqlite(check: str, name: str) -> CheckConstraint:
    constraint = CheckConstraint(check, name=name)
    constraint.ddl_if(dialect="sqlite")
    return constraint


def dates(*columns: str) -> list[CheckConstraint]:
    """SQLite: each column holds a real ISO date, or NULL (`date(x)` gives a date back unchanged).

    `IS`, not `=`: `date('2026-10-15x')` is NULL, and a CHECK whose value is NULL passes.
    """
    return [_sqlite(f"{c} IS date({c})", f"{c}_is_a_date") for c in columns]


def moments(*columns: str, nullable: tuple[str, ...] = ()) -> list[CheckConstraint]:
    """SQLite: each column holds a timestamp as text that `datetime()` can read."""
    checks = []
    for c in columns:
        check = f"typeof({c}) = 'text' AND datetime({c}) IS NOT NULL"
        checks.append(_sqlite(f"{c} IS NULL OR ({check})" if c in nullable else check, f"{c}_is_a_time"))
    return checks


def months(*columns: str) -> list[CheckConstraint]:
    """Both dialects: each column is a month `YYYY-MM` (no such type exists)."""
    checks = []
    for c in columns:
        sqlite_check = CheckConstraint(
            f"{c} GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]' AND substr({c}, 6, 2) BETWEEN '01' AND '12'",
            name=f"{c}_is_a_month")
        sqlite_check.ddl_if(dialect="sqlite")
        pg_check = CheckConstraint(f"{c} ~ '^[0-9]{{4}}-(0[1-9]|1[0-2])$'", name=f"{c}_is_a_month")
        pg_check.ddl_if(dialect="postgresql")
        checks += [sqlite_check, pg_check]
    return checks

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
    Column("event_id", EventKey, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("type", String(40), nullable=False),
    Column("entry_count", Integer, nullable=False),
    Column("source", String(300), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("entry_count >= 0", name="entry_count"),
    *moments("processed_at"),
    Index("ix_processed_events_processed_at", "processed_at"),  # revision 0006: the staff's month
)

OPENING = "journal = 'AN'"  # the à-nouveaux: a year's opening entries (`ledger.year_end`)

entries = Table(
    "entries", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("journal", ForeignKey("journals.code"), nullable=False),
    Column("entry_date", Date, nullable=False),
    Column("piece_ref", String(256), nullable=False),  # "PAIE-<month>-<member id>" is longer than an id
    Column("piece_date", Date, nullable=False),
    Column("label", Text, nullable=False),  # "Facture <id> <client>": ids and names are long
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
    Column("part", Integer, nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Column("reverses", ForeignKey("entries.id"), nullable=True),
    UniqueConstraint("event_id", "part", name="uq_entries_event_part"),
    CheckConstraint("part >= 0", name="part"),
    *dates("entry_date", "piece_date"),
    *moments("posted_at"),
    Index("ix_entries_date", "entry_date"),
    # revision 0017: the à-nouveaux (`ledger.balances.opening_of`) at once, and nothing for other entries
    Index("ix_entries_opening", "entry_date", sqlite_where=text(OPENING), postgresql_where=text(OPENING)),
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
    # revision 0017: the trial balance and the members' sums read from these indexes alone
    Index("ix_lines_account_amount", "account", "amount"),
    Index("ix_lines_member_account_amount", "member_id", "account", "amount"),
)

entry_numbers = Table(
    "entry_numbers", metadata,
    Column("journal", ForeignKey("journals.code"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("entry_id", ForeignKey("entries.id"), nullable=False, unique=True),
    Column("validated_on", Date, nullable=False),
    CheckConstraint("number > 0", name="number"),
    *dates("validated_on"),
)

month_locks = Table(
    "month_locks", metadata,
    Column("month", MONTH_TEXT, primary_key=True),
    Column("locked_at", DateTime(timezone=True), nullable=False),
    *months("month"),
    *moments("locked_at"),
)

dead_letters = Table(
    "dead_letters", metadata,
    Column("id", Integer, primary_key=True),
    Column("raw", LargeBinary, nullable=False),
    Column("raw_sha256", String(64), nullable=False, unique=True),
    Column("event_id", Id, nullable=True),
    Column("reason", Text, nullable=False),
    # The reason's catalogue code and parameters (engine.messages, issue 15), for the French pages;
    # NULL for a letter recorded before, which shows its English reason.
    Column("reason_code", Text, nullable=True),
    Column("source", String(300), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False, default="pending"),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("status IN ('pending', 'replayed', 'dismissed')", name="status"),
    *moments("received_at", "resolved_at", nullable=("resolved_at",)),
    Index("ix_dead_letters_event_id", "event_id"),
)

dead_letter_history = Table(
    # Every attempt at a dead letter and how it was settled: the reason it was refused, each
    # replay's reason, and who dismissed it and why. Append-only: the first reason stays.
    "dead_letter_history", metadata,
    Column("id", Integer, primary_key=True),
    Column("letter_id", ForeignKey("dead_letters.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(10), nullable=False),
    Column("reason", Text, nullable=False),
    Column("by", String(200), nullable=False),
    Column("reason_code", Text, nullable=True),  # a retry's refusal as the catalogue's code (revision 0013)
    CheckConstraint("action IN ('rejected', 'retried', 'replayed', 'dismissed')", name="action"),
    *moments("at"),
)

members = Table(
    # associate_on and left_on are set once each, from NULL (ledger.invariants): a fact recorded
    # is never rewritten, and every other column never changes.
    "members", metadata,
    Column("member_id", Id, primary_key=True),
    Column("name", String(500), nullable=False),
    Column("joined_on", Date, nullable=False),
    Column("associate_on", Date, nullable=True),
    Column("left_on", Date, nullable=True),
    *dates("joined_on", "associate_on", "left_on"),
)

member_statuses = Table(
    "member_statuses", metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), nullable=False, index=True),
    Column("since", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
    CheckConstraint("status IN ('cape', 'salarie')", name="status"),
    *dates("since"),
)

invoices = Table(
    # The invoice as issued. `rates`: its HT and VAT per VAT rate, as JSON text
    # `[["0.20", ht cents, vat cents], …]` (DOMAIN.md rule 1 credits it rate by rate);
    # read with `json.loads`, never evaluated. What is credited and paid is in `documents`.
    "invoices", metadata,
    Column("invoice_id", Id, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), nullable=False, index=True),
    Column("client", String(500), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("ht", Cents, nullable=False),
    Column("ttc", Cents, nullable=False),
    Column("rates", Text, nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
    *dates("issued_on"),
)

CLIENT_KEY_LENGTH = 500  # a name's key can be longer than the name (NFKD): cut to this

invoice_clients = Table(
    # Revision 0010. Each invoice under its client's name as rule 11 b compares names
    # (`engine.matching.same_name`) and its TTC: a bank credit's candidates by one index lookup,
    # whatever the size of the books. Written with the invoice (`ledger.book_store.save_book`).
    "invoice_clients", metadata,
    Column("invoice_id", ForeignKey("invoices.invoice_id"), primary_key=True),
    Column("client_key", String(CLIENT_KEY_LENGTH), nullable=False),
    Column("ttc", Cents, nullable=False),
    Index("ix_invoice_clients_key_ttc", "client_key", "ttc"),
)

documents = Table(
    # Every credit note, payment and expense, once each (a document id is taken once per kind).
    # For a credit note: its invoice, its TTC in `amount` and its `rates` like an invoice's;
    # for a payment: its invoice and amount, and whether it came from the client's credit.
    "documents", metadata,
    Column("kind", String(20), primary_key=True),
    Column("doc_id", EventKey, primary_key=True),  # a document id, or an internal key (revision 0004)
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
    Column("member_id", Id, nullable=True),
    Column("invoice_id", Id, nullable=True),
    Column("issued_on", Date, nullable=True),
    Column("amount", Cents, nullable=True),
    Column("rates", Text, nullable=True),
    Column("from_credit", Boolean, nullable=False, server_default="0"),
    CheckConstraint("kind IN ('credit_note', 'payment', 'expense')", name="kind"),
    *dates("issued_on"),
    Index("ix_documents_invoice", "invoice_id"),
)

base_moves = Table(
    # What each event did to a member's month bases (DOMAIN.md rules 3 and 4): the
    # contribution base, the sociétariat base, and its sales (`revenue`, signed HT) with the
    # date that decides whether they count for the sociétariat (the invoice's own date).
    # A member-month's bases are the sum of its moves; nothing is ever rewritten.
    "base_moves", metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), nullable=False),
    Column("month", MONTH_TEXT, nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
    Column("contribution", Cents, nullable=False),
    Column("societariat", Cents, nullable=False),
    Column("revenue", Cents, nullable=False),
    Column("sale_date", Date, nullable=True),
    *months("month"),
    *dates("sale_date"),
    # revision 0007: with the summed columns, a batch's year bases are read from the index alone
    Index("ix_base_moves_member_month_sums", "member_id", "month", "contribution", "societariat"),
)

salaries = Table(
    "salaries", metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), nullable=False, index=True),
    Column("from_month", MONTH_TEXT, nullable=False),
    Column("gross", Cents, nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    *months("from_month"),
)

def _payslip_figures() -> list[Column[Any]]:
    """A payslip's figures, the same in a payslip and in its corrected revisions."""
    return [Column(name, Cents, nullable=False) for name in (
        "requested_gross", "gross", "employer_contributions", "employee_contributions", "net",
        "budget_before")] + [Column("capped", Boolean, nullable=False)]


payslips = Table(
    "payslips", metadata,
    Column("month", MONTH_TEXT, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), primary_key=True),
    *_payslip_figures(),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    *months("month"),
)

payslip_revisions = Table(
    # A payslip corrected after its run (`cae payroll rerun`): payslips rows are never
    # rewritten, each correction is a new revision; the current payslip is the latest one.
    "payslip_revisions", metadata,
    Column("month", MONTH_TEXT, primary_key=True),
    Column("member_id", Id, primary_key=True),
    Column("revision", Integer, primary_key=True),
    *_payslip_figures(),
    Column("reason", Text, nullable=False),
    Column("posted_on", Date, nullable=False),  # the correction's entries' date (rule 7)
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    ForeignKeyConstraint(["month", "member_id"], ["payslips.month", "payslips.member_id"],
                         name="fk_payslip_revisions_payslips"),
    CheckConstraint("revision > 0", name="revision"),
    *months("month"),
    *dates("posted_on"),
)

runs = Table(
    # Every run of a monthly job (payroll, reconciliation, close, correction, export), by the
    # scheduler or by hand: who, when, the outcome. `claim` ("payroll:2026-10") is set on
    # scheduled runs only, and unique: two schedulers can never both run a job for a month.
    "runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(20), nullable=False),
    Column("month", MONTH_TEXT, nullable=False),
    Column("member_id", Id, nullable=True),
    Column("origin", String(10), nullable=False),
    Column("started_by", String(200), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("detail", Text, nullable=False),
    Column("claim", String(60), nullable=True, unique=True),
    Column("detail_code", Text, nullable=True),  # revision 0015: the detail's catalogue code, as JSON
    CheckConstraint("origin IN ('scheduled', 'manual')", name="origin"),
    CheckConstraint("outcome IN ('ok', 'warning', 'failed')", name="outcome"),
    *months("month"),
    *moments("started_at", "finished_at"),
    Index("ix_runs_month_job", "month", "job"),
)

# -- the web application's accounts (revision 0005) -------------------------------------------
# Passwords and token secrets are stored as hashes only (argon2 for passwords, SHA-256 for the
# random session ids and API tokens); a reader of these tables can sign in as nobody.

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),  # lower-cased
    Column("password_hash", Text, nullable=False),
    Column("role", String(10), nullable=False),
    Column("member_id", ForeignKey("members.member_id"), nullable=True),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Set when an admin resets the password to a temporary one: it signs in until then, and only
    # to choose a new password (issue 14, point 7). NULL: the password is the person's own.
    Column("password_temporary_until", DateTime(timezone=True), nullable=True),
    CheckConstraint("role IN ('admin', 'staff', 'board', 'member')", name="role"),
    CheckConstraint("(role = 'member') = (member_id IS NOT NULL)", name="member_of_a_member"),
    *moments("created_at", "password_temporary_until", nullable=("password_temporary_until",)),
)

sessions = Table(
    # A signed-in browser's session (the login form's CSRF token lives in the browser's signed cookie,
    # not here: issue 14). Login ends the session it came from and starts a new one, so a cookie from
    # before login is worth nothing; an ended session is purged a day later (`web.accounts.purge`).
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    *moments("created_at", "last_seen", "ended_at", nullable=("ended_at",)),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", String(24), primary_key=True),  # shown, to revoke it; the secret is never stored
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    *moments("created_at", "revoked_at", nullable=("revoked_at",)),
)

login_failures = Table(
    # Failed logins, per email, per address and per both, for throttling (`web.throttle`); never
    # rewritten, purged a day later (`web.accounts.purge`; the database refuses it within the hour).
    "login_failures", metadata,
    Column("id", Integer, primary_key=True),
    Column("subject", String(300), nullable=False),  # "email:…", "address:…" or "pair:…"
    Column("at", DateTime(timezone=True), nullable=False),
    *moments("at"),
    Index("ix_login_failures_subject_at", "subject", "at"),
    Index("ix_login_failures_at", "at"),
)

audit_log = Table(
    # Every write made through the web or an account command: who, when, what. Append-only.
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(300), nullable=False),  # the account's email, or the operator of a command
    Column("action", String(60), nullable=False),
    Column("detail", Text, nullable=False),
    *moments("at"),
)

web_settings = Table(
    # The key that signs session cookies, made on the first `cae serve` (insert-only).
    "web_settings", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)


governance_events = Table(
    "governance_events", metadata,
    Column("seq", Integer, primary_key=True),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    Column("type", String(40), nullable=False),
    Column("payload", Text, nullable=False),
)


# -- secret ballots (DOMAIN.md G4, revision 0011) ------------------------------------------------
# Who voted on a secret resolution, and what was voted, in two tables that nothing links: the
# participation names the voter and no choice; the counts name no voter, no time, and keep no
# row per ballot (an insert-only table of ballots would keep them in the voters' order). A
# secret ballot is never a `vote.cast` event, so it is in neither `governance_events` nor
# `processed_events`.
secret_participation = Table(
    "secret_participation", metadata,
    Column("resolution_id", Id, primary_key=True),
    Column("member_id", Id, primary_key=True),  # the associate whose vote it is
    Column("mode", String(16), nullable=False),
    Column("cast_by", Id),  # the proxy holder who cast it, for a vote by proxy
    CheckConstraint("mode IN ('direct', 'correspondence', 'proxy')", name="mode"),
    CheckConstraint("(mode = 'proxy') = (cast_by IS NOT NULL)", name="proxy_names_its_holder"),
)

SECRET_CHOICES = ("for", "against", "abstain", "blank")
secret_counts = Table(
    # One row per secret resolution, its ballots counted per choice; a ballot adds one to one
    # count (`ledger.invariants.secret_count_guards`).
    "secret_counts", metadata,
    Column("resolution_id", Id, primary_key=True),
    *(Column(f"n_{c}", Integer, nullable=False) for c in SECRET_CHOICES),
    *(CheckConstraint(f"n_{c} >= 0", name=f"n_{c}_not_negative") for c in SECRET_CHOICES),
)

mail_log = Table(
    # Every email sent to a member apart from convocations (those are `convocation.sent` events):
    # what, about what (a month), to whom, at which address, when. Once per kind, subject and
    # member, so sending again sends nobody twice (issue 17, point 6). Append-only.
    "mail_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("about", Id, nullable=False),
    Column("member_id", Id, nullable=False),
    Column("address", String(320), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('statement')", name="kind"),
    UniqueConstraint("kind", "about", "member_id", name="uq_mail_log_once"),
    *moments("sent_at"),
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
    # `key` is part of the cache key, so SQLAlchemy compiles a query that reads these fields once
    # and reuses it: a tally runs a dozen of them, and compiling each again was a tenth of its
    # Python time (issue 17, point 5).
    inherit_cache = True
    _traverse_internals = [*FunctionElement._traverse_internals, ("key", InternalTraversal.dp_string)]

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
# Each index also holds, after its key, the fields a tally reads of the events it finds by it
# (revision 0016, issue 17 point 5): a resolution's votes, a meeting's attendance, an assembly's
# proxies. SQLite then reads these thousands of events out of the index's entries without parsing
# their JSON. Wider indexes, not second ones beside the narrow ones: SQLite's planner kept the
# narrow ones and parsed the JSON anyway.
COVERED = {"assembly_id": ("from_member", "to_member"), "meeting_id": ("member_id", "mode"),
           "resolution_id": ("member_id", "choice", "cast_by", "mode", "occurred_at")}
for _key in GOVERNANCE_KEYS:
    Index(f"ix_governance_events_{_key.removesuffix('_id')}", governance_events.c.type,
          *(JsonField(governance_events.c.payload, k) for k in (_key, *COVERED[_key])),
          *((governance_events.c.event_id,) if _key == "resolution_id" else ()))
del _key

# Who voted by correspondence, found per associate (revision 0014, issue 17 point 5): a tally asks,
# for the associates it does not know voted by correspondence on its resolution, whether they did
# on another of the assembly's; this finds each one's few votes, and holds what the query reads.
Index("ix_governance_events_postal", governance_events.c.type,
      *(JsonField(governance_events.c.payload, k) for k in ("mode", "member_id", "resolution_id", "occurred_at")))


# -- treasury (DOMAIN.md rules 10-13, revision 0009) ----------------------------------------------
# All append-only: a statement, a line, a match, an IBAN or a transfer order is recorded once and
# never rewritten; the staff's later assignment of an unmatched line is a match row of its own.
IBAN_TEXT = String(34)

bank_accounts = Table(
    # The cooperative's accounts: the first statement of an account registers it (CONTRACT.md §5).
    "bank_accounts", metadata,
    Column("iban", IBAN_TEXT, primary_key=True),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
)

bank_statements = Table(
    # Each statement taken, with its figures; `new_lines` are the lines it brought that no
    # statement had brought before (an overlapping statement brings fewer than it holds).
    "bank_statements", metadata,
    Column("account", ForeignKey("bank_accounts.iban"), primary_key=True),
    Column("statement_id", Id, primary_key=True),
    Column("opening_balance", Cents, nullable=False),
    Column("closing_balance", Cents, nullable=False),
    Column("from_date", Date, nullable=False),
    Column("to_date", Date, nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("new_lines", Integer, nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    CheckConstraint("new_lines >= 0 AND new_lines <= line_count", name="new_lines"),
    *dates("from_date", "to_date"),
    Index("ix_bank_statements_account_to", "account", "to_date"),
)

bank_lines = Table(
    # A line once per account and identity (rule 10), whichever statement brought it first.
    "bank_lines", metadata,
    Column("account", ForeignKey("bank_accounts.iban"), primary_key=True),
    Column("line_ref", Id, primary_key=True),
    Column("booked_on", Date, nullable=False),
    Column("value_on", Date, nullable=False),
    Column("amount", Cents, nullable=False),
    Column("counterparty_name", Text, nullable=True),
    Column("counterparty_iban", IBAN_TEXT, nullable=True),
    Column("remittance", Text, nullable=True),
    Column("end_to_end_id", Id, nullable=True),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
    CheckConstraint("amount <> 0", name="amount_not_zero"),
    *dates("booked_on", "value_on"),
    Index("ix_bank_lines_booked_on", "booked_on"),
)

bank_matches = Table(
    # What a line settles (rule 11), once: `rule` a-e for an automatic match, or `assigned_by`
    # for the staff's. `kind`: invoice (a new payment of it), payment (an existing
    # payment.received), transfer, net_pay, account, split (`detail`: the parts, as JSON).
    "bank_matches", metadata,
    Column("account", IBAN_TEXT, primary_key=True),
    Column("line_ref", Id, primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("rule", String(1), nullable=True),
    Column("assigned_by", String(500), nullable=True),
    Column("invoice_id", Id, nullable=True),
    Column("payment_id", EventKey, nullable=True),
    Column("member_id", Id, nullable=True),
    Column("month", MONTH_TEXT, nullable=True),
    Column("ledger_account", String(12), nullable=True),
    Column("detail", Text, nullable=True),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False),
    ForeignKeyConstraint(["account", "line_ref"], ["bank_lines.account", "bank_lines.line_ref"],
                         name="fk_bank_matches_bank_lines"),
    CheckConstraint("kind IN ('invoice', 'payment', 'transfer', 'net_pay', 'account', 'split')", name="kind"),
    CheckConstraint("(rule IS NULL) <> (assigned_by IS NULL)", name="rule_or_staff"),
    Index("ix_bank_matches_payment", "payment_id"),
    Index("ix_bank_matches_member_month", "member_id", "month"),
    Index("ix_bank_matches_invoice", "invoice_id"),  # revision 0010: a later payment.received finds its line
)

bank_payment_links = Table(
    # Revision 0010. A `payment.received` that came after the bank line that had already paid its
    # invoice for that amount (rule 11 a, the other way round): the same money, so it posts nothing
    # and is linked to that line instead; a line is the money of one payment event at most.
    "bank_payment_links", metadata,
    Column("payment_id", EventKey, primary_key=True),
    Column("account", IBAN_TEXT, nullable=False),
    Column("line_ref", Id, nullable=False),
    Column("invoice_id", Id, nullable=False),
    Column("member_id", Id, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    ForeignKeyConstraint(["account", "line_ref"], ["bank_matches.account", "bank_matches.line_ref"],
                         name="fk_bank_payment_links_bank_matches"),
    UniqueConstraint("account", "line_ref", name="uq_bank_payment_links_line"),
    *dates("received_on"),
)

member_bank_accounts = Table(
    # A member's IBAN from a date (rule 13); the latest `from_date` on or before a day is in force.
    "member_bank_accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("member_id", ForeignKey("members.member_id"), nullable=False),
    Column("iban", IBAN_TEXT, nullable=False),
    Column("bic", String(11), nullable=True),
    Column("from_date", Date, nullable=False),
    Column("event_id", ForeignKey("processed_events.event_id"), nullable=False, unique=True),
    *dates("from_date"),
    Index("ix_member_bank_accounts_member", "member_id", "from_date"),
    Index("ix_member_bank_accounts_iban", "iban"),
)

transfer_orders = Table(
    # One transaction of a pain.001 file (rule 13): its end-to-end id comes back on the bank line
    # (rule 11 c). A payslip revision is in at most one file: (month, member_id, revision) is unique.
    "transfer_orders", metadata,
    Column("end_to_end_id", String(35), primary_key=True),
    Column("month", MONTH_TEXT, nullable=False),
    Column("member_id", ForeignKey("members.member_id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("amount", Cents, nullable=False),
    Column("iban", IBAN_TEXT, nullable=False),
    Column("file_id", String(35), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("month", "member_id", "revision", name="uq_transfer_orders_payslip"),
    CheckConstraint("amount > 0", name="amount"),
    CheckConstraint("revision >= 0", name="revision"),
    *months("month"),
    *moments("created_at"),
)
