"""DOMAIN.md's ledger invariants are the database's, not only Python's.

Every test here goes around the application: it writes with raw SQL, as a
script, a second program or a hand-typed fix would, and checks that the
database itself refuses (django-hordak's tests/models/test_core.py). On
PostgreSQL it writes as the tables' owner, who may do more than the
application's role (tests/test_roles.py) and is still refused by the triggers. After a
refusal the transaction is rolled back and the test checks that nothing at
all was written. Each test runs on SQLite and on PostgreSQL (`engine`).

The ledger starts from a small cooperative processed by the application: a
member, her invoice, credit note, payment and expenses, October's payroll,
October closed, and two November invoices still unnumbered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from itertools import count
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from engine.config import Rules
from ledger import schema
from ledger.closing import close_month
from ledger.db import open_ledger
from ledger.invariants import APPEND_ONLY
from ledger.payroll_run import run_payroll
from streams.pipeline import Raw, process
from tests.conftest import owner_url

Statement = Callable[[Connection], Any]

_ids = count(1)


def event(type_: str, **fields: Any) -> Raw:
    body = {"event_id": f"inv-{next(_ids)}", "type": type_, "occurred_at": "2026-10-01T09:00:00Z", **fields}
    return Raw(json.dumps(body).encode(), "test_invariants")


def invoice(invoice_id: str, on: str, ht: str) -> Raw:
    return event("invoice.issued", invoice_id=invoice_id, member_id="M001", issued_on=on,
                 client="Atelier Nord", lines=[{"label": "Design", "amount_ht": ht, "vat_rate": "0.20"}])


COOPERATIVE = [
    event("member.joined", member_id="M001", name="Alice Martin", joined_on="2026-01-05", status="salarie"),
    event("member.became_associate", member_id="M001", on="2026-06-01"),
    invoice("F-1", "2026-10-03", "3000.00"),
    event("credit_note.issued", credit_note_id="A-1", invoice_id="F-1", member_id="M001",
          issued_on="2026-10-20", lines=[{"label": "Discount", "amount_ht": "100.00", "vat_rate": "0.20"}]),
    event("payment.received", payment_id="P-1", invoice_id="F-1", member_id="M001",
          received_on="2026-10-25", amount="1200.00"),
    event("expense.recorded", expense_id="X-1", member_id="M001", spent_on="2026-10-06",
          supplier="Freelance dev", amount_ht="300.00", vat="60.00", direct_cost=True),
    event("salary.set", member_id="M001", from_month="2026-10", gross="1000.00"),
    event("ritual.held", meeting_id="U2026", kind="universite", held_on="2026-09-12",
          title="Université d'été"),
]
NOVEMBER = [invoice("F-2", "2026-11-20", "500.00"), invoice("F-3", "2026-11-10", "200.00")]


@pytest.fixture
def ledger(engine: Engine, db_url: str, rules: Rules) -> Iterator[Engine]:
    """The small cooperative above, posted by the application itself; the owner's engine on it."""
    outcome = process(engine, COOPERATIVE, rules)
    assert outcome.dead_letters == [] and outcome.processed == len(COOPERATIVE)
    with engine.begin() as conn:
        assert run_payroll(conn, "2026-10", rules)[0].gross == 1000
        assert close_month(conn, "2026-10") > 0
    outcome = process(engine, NOVEMBER, rules)
    assert outcome.dead_letters == [] and outcome.processed == len(NOVEMBER)
    owner = open_ledger(owner_url(db_url))
    yield owner
    owner.dispose()


# -- helpers: raw SQL, and what the database holds --------------------------------------------

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def record_event(event_id: str, entry_count: int) -> Statement:
    return lambda conn: conn.execute(text(
        "INSERT INTO processed_events (event_id, fingerprint, type, entry_count, source, processed_at) "
        "VALUES (:e, :f, 'hand.written', :n, 'raw SQL', :t)"),
        {"e": event_id, "f": "0" * 64, "n": entry_count, "t": NOW})


def add_lines(entry_id: int, *cents: int) -> Statement:
    def run(conn: Connection) -> None:
        for amount in cents:
            conn.execute(text("INSERT INTO lines (entry_id, account, amount, member_id) "
                              "VALUES (:e, '706', :a, 'M001')"), {"e": entry_id, "a": amount})
    return run


def add_entry(entry_id: int, event_id: str, part: int = 0, on: date = date(2026, 11, 15),
              journal: str = "OD") -> Statement:
    return lambda conn: conn.execute(text(
        "INSERT INTO entries (id, journal, entry_date, piece_ref, piece_date, label, event_id, part, "
        "posted_at) VALUES (:id, :j, :d, 'HAND', :d, 'written by hand', :e, :p, :t)"),
        {"id": entry_id, "j": journal, "d": on, "e": event_id, "p": part, "t": NOW})


def number_entry(journal: str, number: int, entry_id: int) -> Statement:
    return lambda conn: conn.execute(text(
        "INSERT INTO entry_numbers (journal, number, entry_id, validated_on) VALUES (:j, :n, :e, :d)"),
        {"j": journal, "n": number, "e": entry_id, "d": date(2026, 11, 23)})


def sql(statement: str, **params: Any) -> Statement:
    return lambda conn: conn.execute(text(statement), params)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: proof that a refused transaction left nothing behind."""
    with engine.connect() as conn:
        return {t.name: sorted((tuple(r) for r in conn.execute(text(f"SELECT * FROM {t.name}"))), key=repr)
                for t in schema.metadata.sorted_tables}


def accepted(engine: Engine, *statements: Statement) -> None:
    with engine.begin() as conn:
        for statement in statements:
            statement(conn)


def refused(engine: Engine, match: str, *statements: Statement) -> None:
    """The statements, in one transaction, are refused by the database and nothing is written."""
    before = snapshot(engine)
    with pytest.raises(DBAPIError, match=match):
        accepted(engine, *statements)
    assert snapshot(engine) == before


def scalar(engine: Engine, query: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(query), params).scalar()


def entry_of(engine: Engine, piece_ref: str, journal: str) -> int:
    found = scalar(engine, "SELECT id FROM entries WHERE piece_ref = :p AND journal = :j",
                   p=piece_ref, j=journal)
    assert found is not None
    return int(found)


# -- balance -----------------------------------------------------------------------------------

def test_a_balanced_entry_written_by_hand_is_accepted(ledger: Engine) -> None:
    """The control: the helpers below write valid SQL, so a refusal is the invariant's doing."""
    accepted(ledger, record_event("hand-1", 1), add_lines(900001, 10000, -10000), add_entry(900001, "hand-1"))
    assert scalar(ledger, "SELECT count(*) FROM lines WHERE entry_id = 900001") == 2
    assert scalar(ledger, "SELECT label FROM entries WHERE id = 900001") == "written by hand"


def test_an_unbalanced_entry_is_refused(ledger: Engine) -> None:
    refused(ledger, "unbalanced",
            record_event("hand-1", 1), add_lines(900001, 10000, -9999), add_entry(900001, "hand-1"))


@pytest.mark.parametrize("cents", [(10000,), ()], ids=["one line", "no line"])
def test_an_entry_with_fewer_than_two_lines_is_refused(ledger: Engine, cents: tuple[int, ...]) -> None:
    refused(ledger, "fewer than 2 lines",
            record_event("hand-1", 1), add_lines(900001, *cents), add_entry(900001, "hand-1"))


def test_a_zero_line_is_refused(ledger: Engine) -> None:
    refused(ledger, "amount_not_zero|CHECK|check",
            record_event("hand-1", 1), add_lines(900001, 10000, 0, -10000), add_entry(900001, "hand-1"))


def test_a_line_cannot_be_added_to_an_entry_posted_earlier(ledger: Engine) -> None:
    invoice_entry = entry_of(ledger, "F-2", "VT")
    refused(ledger, "already posted", add_lines(invoice_entry, 5000, -5000))


def test_a_line_cannot_be_added_to_an_entry_posted_in_the_same_transaction(ledger: Engine) -> None:
    refused(ledger, "already posted",
            record_event("hand-1", 1), add_lines(900001, 10000, -10000), add_entry(900001, "hand-1"),
            add_lines(900001, 2500, -2500))


def test_lines_left_without_their_entry_are_refused_at_commit(ledger: Engine) -> None:
    refused(ledger, "FOREIGN KEY|foreign key", add_lines(900001, 10000, -10000))


# -- append-only -------------------------------------------------------------------------------

REWRITES = {
    "lines": "UPDATE lines SET amount = amount * 2",  # still balanced: refused all the same
    "entries": "UPDATE entries SET label = 'rewritten'",
    "processed_events": "UPDATE processed_events SET entry_count = entry_count + 1",
    "entry_numbers": "UPDATE entry_numbers SET number = number + 100",
    "month_locks": "UPDATE month_locks SET month = '2026-09'",
    "payslips": "UPDATE payslips SET gross = gross + 10000",
    "member_statuses": "UPDATE member_statuses SET status = 'cape'",
    "salaries": "UPDATE salaries SET gross = 0",
    "documents": "UPDATE documents SET doc_id = doc_id || '-x'",
    "governance_events": "UPDATE governance_events SET payload = '{}'",
}


def rewrite(table: str) -> str:
    """The rewrite above, or for an append-only table added since, its first column set to itself."""
    if table in REWRITES:
        return REWRITES[table]
    column = next(c.name for c in schema.metadata.tables[table].columns if not c.primary_key)
    return f"UPDATE {table} SET {column} = {column}"


def can_try(engine: Engine, table: str, verb: str) -> bool:
    """Whether the table has a row to try the rewrite on; if not (an append-only table added
    since, that the small cooperative leaves empty, where SQLite's row triggers would have
    nothing to fire on), at least its append-only trigger must be installed."""
    if scalar(engine, f"SELECT count(*) FROM {table}"):
        return True
    assert table not in REWRITES, f"the small cooperative should have left rows in {table}"
    assert_guarded(engine, table, verb)
    return False


def assert_guarded(engine: Engine, table: str, verb: str) -> None:
    if engine.dialect.name == "sqlite":
        found = scalar(engine, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t "
                       "AND sql LIKE :verb AND sql LIKE '%append-only%'", t=table, verb=f"%BEFORE {verb}%")
    else:
        found = scalar(engine, "SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                       "WHERE t.tgrelid = CAST(:t AS regclass) AND p.proname = 'cae_append_only'", t=table)
    assert found, f"{table} has no append-only guard against {verb}"


@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
def test_posted_rows_cannot_be_updated(ledger: Engine, table: str) -> None:
    if not can_try(ledger, table, "UPDATE"):
        return
    refused(ledger, "append-only", sql(rewrite(table)))


@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
def test_posted_rows_cannot_be_deleted(ledger: Engine, table: str) -> None:
    if not can_try(ledger, table, "DELETE"):
        return
    refused(ledger, "append-only", sql(f"DELETE FROM {table}"))
    if ledger.dialect.name == "postgresql":  # SQLite has no TRUNCATE
        refused(ledger, "append-only", sql(f"TRUNCATE {table} CASCADE"))


@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
def test_posted_rows_cannot_be_replaced_by_an_upsert(ledger: Engine, table: str) -> None:
    """An update in disguise: SQLite's INSERT OR REPLACE deletes then inserts, PostgreSQL's
    ON CONFLICT DO UPDATE updates; both would rewrite a posted row if only UPDATE were guarded."""
    if not can_try(ledger, table, "DELETE"):
        return
    key = [c.name for c in schema.metadata.tables[table].primary_key.columns]
    with ledger.connect() as conn:
        row = dict(conn.execute(text(f"SELECT * FROM {table} ORDER BY 1 DESC LIMIT 1")).mappings().one())
    changed = next((c for c in _WORTH_CHANGING if c in row and c not in key),
                   next(c for c in row if c not in key))
    row[changed] = _other_value(row[changed])
    columns = ", ".join(row)
    values = ", ".join(f":{c}" for c in row)
    if ledger.dialect.name == "sqlite":
        upsert = f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({values})"
    else:
        upsert = (f"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({', '.join(key)}) "
                  f"DO UPDATE SET {changed} = EXCLUDED.{changed}")
    refused(ledger, "append-only|already posted|continuous", sql(upsert, **row))


_WORTH_CHANGING = ("label", "entry_count", "gross", "amount", "status", "payload", "validated_on",
                   "locked_at")


def _other_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value in ("salarie", "cape"):
        return "cape" if value == "salarie" else "salarie"
    if isinstance(value, (date, datetime)):
        return value.replace(year=value.year + 1)
    return f"{value}-x" if len(str(value)) < 7 else str(value)[:-1] + "Z"


# -- dead letters keep what they were refused for ---------------------------------------------

def _a_dead_letter(engine: Engine, rules: Rules) -> int:
    outcome = process(engine, [event("invoice.issued", invoice_id="F-9", member_id="GHOST", issued_on="2026-11-02",
                                     client="Atelier Nord", lines=[{"label": "x", "amount_ht": "10.00",
                                                                    "vat_rate": "0.20"}])], rules)
    assert len(outcome.dead_letters) == 1
    return int(scalar(engine, "SELECT id FROM dead_letters WHERE reason_code IS NOT NULL"))


@pytest.mark.parametrize("column", ["reason", "reason_code", "raw", "event_id"])
def test_a_dead_letters_reason_and_bytes_cannot_be_rewritten(ledger: Engine, engine: Engine, rules: Rules,
                                                             column: str) -> None:
    """A letter's reason in English and its code (the French the pages show) never change: a
    hand-written UPDATE would make the page and the CLI tell two stories (revision 0013)."""
    letter = _a_dead_letter(engine, rules)
    value = "tampered" if column != "raw" else b"tampered"
    refused(ledger, "settled once", sql(f"UPDATE dead_letters SET {column} = :v WHERE id = :id", v=value, id=letter))
    accepted(ledger, sql("UPDATE dead_letters SET status = 'dismissed' WHERE id = :id", id=letter))
    refused(ledger, "settled once", sql("UPDATE dead_letters SET status = 'pending' WHERE id = :id", id=letter))


# -- one set of entries per event --------------------------------------------------------------

def test_a_second_set_of_entries_for_a_processed_event_is_refused(ledger: Engine) -> None:
    event_id, parts = _invoice_event(ledger, "F-2")
    refused(ledger, "already posted its entries",
            add_lines(900001, 10000, -10000), add_entry(900001, event_id, part=parts))


def test_an_entry_repeating_a_part_of_a_processed_event_is_refused(ledger: Engine) -> None:
    event_id, _ = _invoice_event(ledger, "F-2")
    refused(ledger, "UNIQUE|unique|duplicate",
            add_lines(900001, 10000, -10000), add_entry(900001, event_id, part=0))


def test_an_entry_for_an_event_never_recorded_is_refused(ledger: Engine) -> None:
    refused(ledger, "already posted its entries|FOREIGN KEY|foreign key",
            add_lines(900001, 10000, -10000), add_entry(900001, "never-seen"))


def test_a_duplicate_event_id_is_refused(ledger: Engine) -> None:
    event_id, _ = _invoice_event(ledger, "F-2")
    refused(ledger, "UNIQUE|unique|duplicate", record_event(event_id, 5))


def _invoice_event(engine: Engine, piece_ref: str) -> tuple[str, int]:
    with engine.connect() as conn:
        event_id, parts = conn.execute(text(
            "SELECT p.event_id, p.entry_count FROM processed_events p JOIN entries e ON e.event_id = p.event_id "
            "WHERE e.piece_ref = :p AND e.journal = 'VT'"), {"p": piece_ref}).one()
    assert parts == 3  # the sale, its contribution and its sociétariat share
    return event_id, parts


# -- closed months -----------------------------------------------------------------------------

@pytest.mark.parametrize("day", [date(2026, 10, 1), date(2026, 10, 31), date(2026, 9, 15), date(2025, 1, 1)])
def test_an_entry_dated_in_a_closed_month_is_refused(ledger: Engine, day: date) -> None:
    """October is closed, and with it every month before."""
    refused(ledger, "month closed",
            record_event("hand-1", 1), add_lines(900001, 10000, -10000), add_entry(900001, "hand-1", on=day))


def test_the_first_day_after_a_closed_month_is_open(ledger: Engine) -> None:
    accepted(ledger, record_event("hand-1", 1), add_lines(900001, 10000, -10000),
             add_entry(900001, "hand-1", on=date(2026, 11, 1)))


# -- definitive entry numbers ------------------------------------------------------------------

def _last_number(engine: Engine, journal: str) -> int:
    return int(scalar(engine, "SELECT coalesce(max(number), 0) FROM entry_numbers WHERE journal = :j",
                      j=journal))


def test_the_next_number_in_date_order_is_accepted(ledger: Engine) -> None:
    last = _last_number(ledger, "VT")
    assert last > 0  # October's close numbered its sales
    accepted(ledger, number_entry("VT", last + 1, entry_of(ledger, "F-3", "VT")),
             number_entry("VT", last + 2, entry_of(ledger, "F-2", "VT")))


def test_an_entry_number_leaving_a_gap_is_refused(ledger: Engine) -> None:
    last = _last_number(ledger, "VT")
    refused(ledger, "continuous", number_entry("VT", last + 2, entry_of(ledger, "F-3", "VT")))


def test_an_entry_number_repeating_the_last_one_is_refused(ledger: Engine) -> None:
    last = _last_number(ledger, "VT")
    refused(ledger, "continuous|UNIQUE|unique|duplicate",
            number_entry("VT", last, entry_of(ledger, "F-3", "VT")))


def test_entry_numbers_out_of_date_order_are_refused(ledger: Engine) -> None:
    """F-2 (20 November) numbered before F-3 (10 November): the second number goes back in time."""
    last = _last_number(ledger, "VT")
    refused(ledger, "continuous",
            number_entry("VT", last + 1, entry_of(ledger, "F-2", "VT")),
            number_entry("VT", last + 2, entry_of(ledger, "F-3", "VT")))


def test_an_entry_numbered_in_another_journal_is_refused(ledger: Engine) -> None:
    contribution = entry_of(ledger, "F-3", "OD")
    refused(ledger, "continuous", number_entry("VT", _last_number(ledger, "VT") + 1, contribution))


def test_an_entry_cannot_be_numbered_twice(ledger: Engine) -> None:
    numbered = scalar(ledger, "SELECT entry_id FROM entry_numbers WHERE journal = 'VT' AND number = 1")
    refused(ledger, "continuous|UNIQUE|unique|duplicate",
            number_entry("VT", _last_number(ledger, "VT") + 1, int(numbered)))


# -- closing numbers entries, whatever the order events came in --------------------------------

OUT_OF_ORDER = [
    event("member.joined", member_id="M001", name="Alice Martin", joined_on="2026-01-05", status="salarie"),
    event("member.joined", member_id="M002", name="Bruno Leroy", joined_on="2026-02-01", status="cape"),
    invoice("F-30", "2026-10-30", "100.00"),
    invoice("F-05", "2026-10-05", "200.00"),
    event("expense.recorded", expense_id="X-17", member_id="M002", spent_on="2026-10-17",
          supplier="Papeterie", amount_ht="40.00", vat="8.00", direct_cost=True),
    invoice("F-N12", "2026-11-12", "300.00"),
    invoice("F-09", "2026-09-09", "50.00"),
    event("expense.recorded", expense_id="X-02", member_id="M002", spent_on="2026-10-02",
          supplier="Papeterie", amount_ht="10.00", vat="2.00", direct_cost=False),
    invoice("F-18", "2026-10-18", "75.00"),
]
LATE = [
    invoice("F-N03", "2026-11-03", "80.00"),
    invoice("F-LATE", "2026-10-12", "60.00"),  # October is closed: posted on 1 November
    event("payment.received", payment_id="P-1", invoice_id="F-05", member_id="M001",
          received_on="2026-11-15", amount="240.00"),
]


def _numbering(engine: Engine) -> dict[str, list[tuple[int, date, int]]]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT n.journal, n.number, e.entry_date, e.id FROM entry_numbers n "
            "JOIN entries e ON e.id = n.entry_id ORDER BY n.journal, n.number")).all()
    found: dict[str, list[tuple[int, date, int]]] = {}
    for journal, number, day, entry_id in rows:
        found.setdefault(journal, []).append((number, _day(day), entry_id))
    return found


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _assert_continuous_and_chronological(numbering: dict[str, list[tuple[int, date, int]]]) -> None:
    for journal, rows in numbering.items():
        assert [n for n, _, _ in rows] == list(range(1, len(rows) + 1)), journal
        days = [d for _, d, _ in rows]
        assert days == sorted(days), journal


def test_close_numbers_entries_continuously_and_chronologically_per_journal(
        engine: Engine, rules: Rules) -> None:
    for start in range(0, len(OUT_OF_ORDER), 3):  # three batches, dates all over the place
        assert process(engine, OUT_OF_ORDER[start:start + 3], rules).dead_letters == []
    with engine.begin() as conn:
        numbered = close_month(conn, "2026-10")
    october = _numbering(engine)
    _assert_continuous_and_chronological(october)
    in_october = scalar(engine, "SELECT count(*) FROM entries WHERE entry_date <= '2026-10-31'"
                        if engine.dialect.name == "sqlite" else
                        "SELECT count(*) FROM entries WHERE entry_date <= DATE '2026-10-31'")
    assert numbered == in_october == sum(len(rows) for rows in october.values())
    assert [d for _, d, _ in october["VT"]] == [date(2026, 9, 9), date(2026, 10, 5), date(2026, 10, 18),
                                                 date(2026, 10, 30)]
    assert {"VT", "OD", "AC"} <= set(october)

    assert process(engine, LATE, rules).dead_letters == []
    with engine.begin() as conn:
        assert close_month(conn, "2026-10") == 0  # already closed: nothing renumbered
        close_month(conn, "2026-11")
    november = _numbering(engine)
    _assert_continuous_and_chronological(november)
    for journal, rows in october.items():
        assert november[journal][:len(rows)] == rows  # numbers once given never move
    assert scalar(engine, "SELECT count(*) FROM entries") == sum(len(r) for r in november.values())
    late = [d for _, d, e in november["VT"] if e == entry_of(engine, "F-LATE", "VT")]
    assert late == [date(2026, 11, 1)]
