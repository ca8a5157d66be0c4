"""A report's reads answered on a second connection meanwhile read what its own would (issue 18, point 4).

`ledger.side_reads` sends the reconciliation's trial totals, unpaid invoices and clients' credits
to a second connection in a thread only when that connection cannot read anything else: a SQLite
file whose first connection holds the write lock and has written nothing. Here: when it does,
when it does not, and the reconciliation's figures either way, on both backends.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from engine.config import Rules
from ledger.db import holds_write_lock_unwritten, reading
from ledger.monthly import reconciliation_read
from ledger.reconciliation import month_reconciliation
from ledger.side_reads import side_reads
from streams.pipeline import decode_all, prepare, write
from tests.conftest import statements_asked
from tests.ops_support import ingest, invoice, joined

MONTH = "2026-06"


def test_a_second_connection_reads_beside_a_write_lock_that_wrote_nothing_only(engine: Engine,
                                                                                rules: Rules) -> None:
    on_file = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        assert holds_write_lock_unwritten(conn) is on_file  # PostgreSQL: each statement its snapshot
        _write(conn, rules, joined("A", on="2026-01-05"))
        assert not holds_write_lock_unwritten(conn)  # a row of its own the other would not see
    with reading(engine) as conn, conn.begin():
        assert not holds_write_lock_unwritten(conn)  # a writer may commit after its snapshot
    with engine.connect() as conn:
        assert not holds_write_lock_unwritten(conn)  # no transaction at all
        conn.begin().commit()
        assert not holds_write_lock_unwritten(conn)  # its transaction ended, and the lock with it


# A statement of each read sent beside: the trial balance's totals, the unpaid invoices, the
# clients' credits (`ledger.reconciliation`).
SENT_BESIDE = ("THEN -lines.amount", "count(*) OVER ()", "HAVING sum(")


def test_the_reconciliation_reads_the_same_beside_its_connection_or_on_it(engine: Engine, rules: Rules) -> None:
    """`cae reconcile` (a write transaction: the run is recorded) against the staff's page (a read
    transaction, every read on it), and which thread sent what."""
    ingest(engine, rules, joined("A", on="2026-01-05"), joined("B", on="2026-01-05"),
           invoice("A", "F-1", "2026-02-10", "1000.00"), invoice("B", "F-2", "2026-05-20", "300.00"))
    with statements_asked(engine) as asked_by_run:
        with engine.begin() as conn:
            beside = month_reconciliation(conn, MONTH, rules)
    with statements_asked(engine) as asked_by_page:
        in_turn = reconciliation_read(engine, MONTH, rules)
    for_run, for_page = _by_thread(asked_by_run), _by_thread(asked_by_page)
    assert beside.to_json() == in_turn.to_json()
    assert "F-1" in str(beside.to_json())  # unpaid after 60 days: one of the reads sent beside
    side = [name for name in for_run if name.startswith("cae-side-read")]
    if engine.dialect.name == "sqlite":
        assert len(side) == 1, list(for_run)
        for fragment in SENT_BESIDE:
            assert any(fragment in sql for sql in for_run[side[0]]), (fragment, for_run[side[0]])
            assert not any(fragment in sql for name, sent in for_run.items() if name != side[0] for sql in sent)
    else:
        assert not side, list(for_run)
    assert list(for_page) == [threading.current_thread().name]  # the staff's page: all on its connection


def test_a_reconciliation_after_its_own_write_reads_that_write(engine: Engine, rules: Rules) -> None:
    """A transaction that wrote before its report: the second connection would not see the rows,
    so every read stays on the first. Here an invoice unpaid after 60 days, written in it."""
    ingest(engine, rules, joined("A", on="2026-01-05"))
    with engine.begin() as conn:
        _write(conn, rules, invoice("A", "F-9", "2026-03-02", "700.00"))
        report = month_reconciliation(conn, MONTH, rules)
    unpaid = next(c for c in report.checks if c.name == "no invoice unpaid after 60 days")
    assert "F-9" in unpaid.detail, unpaid.detail


def test_a_read_beside_that_fails_fails_its_asker_and_leaves_no_thread(engine: Engine) -> None:
    before = {t.name for t in threading.enumerate()}
    with engine.connect() as conn:
        transaction = conn.begin()
        with side_reads(conn) as beside:
            with pytest.raises(DBAPIError, match="no_such_table"):  # when asked (in turn) or answered (beside)
                beside(lambda side: side.exec_driver_sql("SELECT * FROM no_such_table").all())()
        transaction.rollback()
    assert {t.name for t in threading.enumerate()} <= before


def _write(conn: Any, rules: Rules, *raws: Any) -> None:
    write(conn, prepare(conn, decode_all(list(raws)), rules, False))


def _by_thread(asked: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The statements sent, by the name of the thread that sent them."""
    sent: dict[str, list[str]] = {}
    for thread, statement in asked:
        sent.setdefault(thread, []).append(statement)
    return sent
