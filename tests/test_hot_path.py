"""The hot path's cost per batch, not per event (issue 18, points 1 to 3).

A payment used to ask the ledger twice (is its id linked to a bank line already, and which lines
paid its invoice): two statements per payment, a quarter of the ingest. Now a batch asks once for
all its payments, so the statements a batch sends do not grow with its payments; what they found
is checked by the bank tests (tests/test_bank_interleaving.py: a payment that a line already paid
is linked to it, posts nothing, and is refused a second time).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine

from engine.config import Rules
from engine.money import from_cents
from engine.state import Part
from ledger.book_store import parts_from_json, rates_json
from ledger.bulk import Encoded, encode
from ledger.db import open_ledger
from streams.pipeline import Raw, decode_all, prepare, process, write
from tests.conftest import new_database_url, statements_of, statements_sent


def _event(event_id: str, type_: str, **fields: Any) -> Raw:
    document = {"event_id": event_id, "type": type_, "occurred_at": "2026-10-01T09:00:00Z", **fields}
    return Raw(json.dumps(document).encode(), event_id)


def _invoice(n: int) -> Raw:
    return _event(f"i{n}", "invoice.issued", invoice_id=f"F{n}", member_id="M1", issued_on="2026-10-02",
                  client="Nord", lines=[{"label": "Mission", "amount_ht": "100.00", "vat_rate": "0.20"}])


def _payment(n: int) -> Raw:
    return _event(f"p{n}", "payment.received", payment_id=f"P{n}", invoice_id=f"F{n}", member_id="M1",
                  received_on="2026-10-05", amount="120.00")


def _statements(engine: Engine, raws: list[Raw], rules: Rules) -> int:
    """How many statements the batch sent to the database (its whole transaction)."""
    with statements_sent(engine) as sent:
        outcome = process(engine, raws, rules)
    assert outcome.processed == len(raws) and not outcome.dead_letters, outcome.dead_letters
    return sent.statements


def test_a_batch_asks_the_same_statements_for_two_payments_or_forty(engine: Engine, rules: Rules) -> None:
    joined = _event("j", "member.joined", member_id="M1", name="Alice", joined_on="2026-01-05", status="cape")
    assert process(engine, [joined, *(_invoice(n) for n in range(80))], rules).processed == 81
    few = _statements(engine, [_payment(n) for n in range(2)], rules)
    many = _statements(engine, [_payment(n) for n in range(2, 42)], rules)
    assert many == few


def test_batch_after_batch_sends_the_same_statement_texts(engine: Engine, rules: Rules) -> None:
    """The driver keeps a prepared statement per text (SQLite's: 128 of them; the entries' and the
    lines' inserts, with their triggers, about 1 MB each): the entry ids reserved for a batch
    written into the text made one per batch, and a long ingest's memory grew by 128 MB before
    the cache was full (issue 18, point 1). Two batches alike after the first send the same texts."""
    joined = _event("j", "member.joined", member_id="M1", name="Alice", joined_on="2026-01-05", status="cape")
    assert process(engine, [joined, *(_invoice(n) for n in range(5))], rules).processed == 6
    sent = [statements_of(engine, lambda: process(engine, [_invoice(n) for n in range(first, first + 5)], rules))
            for first in (5, 10)]
    assert sent[0] == sent[1]


@pytest.mark.postgres
def test_a_batchs_posting_checks_look_up_its_own_rows_and_never_scan_the_ledgers_lines(
        tmp_path: Path, request: pytest.FixtureRequest, rules: Rules) -> None:
    """Revision 0018: PostgreSQL's statement-level checks of a batch's entries and lines (balanced,
    one set per event, not added to a posted entry) hashed the whole `lines` table for each batch,
    so that a batch cost more as the ledger grew (5 ms in an empty ledger, 53 ms after 50,000
    events). Writing a batch, its checks included, now reads the ledger's entries and lines by index
    only (before: two scans of `lines`, 42,500 rows read for a batch of 500 invoices)."""
    engine = open_ledger(new_database_url("postgresql", tmp_path, request))
    joined = _event("j", "member.joined", member_id="M1", name="Alice", joined_on="2026-01-05", status="cape")
    assert process(engine, [joined, *(_invoice(n) for n in range(4000))], rules).processed == 4001
    with engine.begin() as conn:
        prepared = prepare(conn, decode_all([_invoice(n) for n in range(4000, 4500)]), rules, False)
    with engine.begin() as conn:  # nobody writes in between: the batch written as decided
        write(conn, prepared)
        scans = dict(conn.exec_driver_sql(
            "SELECT relname, seq_scan FROM pg_stat_xact_user_tables "
            "WHERE relname IN ('lines', 'entries')").tuples().all())
    engine.dispose()
    assert scans == {"lines": 0, "entries": 0}


@given(st.dictionaries(st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False),
                       st.tuples(st.integers(-10**12, 10**12), st.integers(-10**11, 10**11)), max_size=4))
def test_an_invoices_rates_are_written_as_json_writes_them(parts: dict[Decimal, tuple[int, int]]) -> None:
    """`rates_json` writes the stored `rates` by hand (issue 18): byte for byte what `json.dumps` wrote,
    so the rows stay the same whatever the rates (0.2, 0.055, 0, 1) and amounts."""
    given_parts = {rate: Part(from_cents(ht), from_cents(vat)) for rate, (ht, vat) in parts.items()}
    written = json.dumps([[str(rate.normalize()), ht, vat] for rate, (ht, vat) in sorted(parts.items())])
    assert rates_json(given_parts) == written
    assert parts_from_json(written) == {rate.normalize(): part for rate, part in given_parts.items()}


@given(st.lists(st.tuples(st.text(), st.integers(-2**63, 2**63 - 1), st.none() | st.booleans(),
                          st.text(alphabet=st.characters(max_codepoint=0x7f))), min_size=1, max_size=20))
@example([('"\\ \x00 \x1f \x7f \u2028 \u2029 é ☃ 𝄞', -2**63, None, "\t\n"), ("", 2**63 - 1, True, "")])
def test_a_batchs_rows_go_to_sqlite_as_json_writes_them(rows: list[tuple[Any, ...]]) -> None:
    """SQLite's insert reads a batch's rows from one JSON array (`ledger.bulk`); msgspec writes it
    now, and must write what `json.dumps` wrote: any text (quotes, control characters, U+2028,
    accents), integers of 64 bits, nulls and booleans."""
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        encoded = encode(conn, rows)
    engine.dispose()
    assert isinstance(encoded, Encoded)
    assert encoded.text == json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
