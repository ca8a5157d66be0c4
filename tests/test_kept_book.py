"""Issue 18: a file's ingest keeps its book across batches and decides a batch while the one
before it is written (`ledger.kept_book`, `streams.overlapped`); nothing is weaker for it.

The reference is the ingest as it was: each batch through `streams.pipeline.process`, which
loads what it reads from the ledger and writes before the next batch begins. Both runs take the
same file (members, associates, salaries, invoices, credit notes, payments, expenses, governance
events, bank statements, rejects and duplicates) in batches of the same size, and must leave the
same ledger. Then what the kept book must not miss: a write behind the ingest's back, a batch the
ledger refuses, a book that outgrows its bound. SQLite only: on PostgreSQL the ingest keeps no
book and writes batch after batch (`streams.embedded.ingest`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DisconnectionError

from engine.config import Rules
from engine.state import Bases, Book
from ledger.db import open_ledger
import ledger.kept_book as kept_book_module
from ledger.book_store import Wanted
from ledger.kept_book import KeptBook
import streams.overlapped as overlapped_module
from streams.embedded import Interrupted, batches as file_batches, ingest, read_events
from streams.overlapped import Overlapped
from streams.pipeline import Outcome, Raw, process
from tests.kafka_fixtures import assert_same_ledger, cooperative_file, ledger_snapshot, write_events

REFUSED_INVOICE = "refused by a trigger the ingest does not know"


def batches(path: Path, size: int) -> Iterator[list[Raw]]:
    raws = read_events(path)
    while chunk := list(islice(raws, size)):
        yield chunk


def reference(path: Path, url: str, rules: Rules, size: int) -> Outcome:
    """The file batch after batch, each loading from the ledger what it reads."""
    engine = open_ledger(url)
    total = Outcome()
    try:
        for chunk in batches(path, size):
            total.add(process(engine, chunk, rules))
    finally:
        engine.dispose()
    return total


def overlapped(path: Path, url: str, rules: Rules, size: int, keep: int | None = None) -> tuple[Outcome, int]:
    """The file through `Overlapped` as `cae ingest` takes it; and how many books it started."""
    engine = open_ledger(url)
    total = Outcome()
    try:
        with Overlapped(engine, rules) as pipe:
            if keep is not None:
                pipe.kept.limit = keep
            for chunk in batches(path, size):
                for outcome in pipe.take(chunk):
                    total.add(outcome)
            for outcome in pipe.finish():
                total.add(outcome)
            loads = pipe.kept.loads
    finally:
        engine.dispose()
    return total, loads


def refuse_one_invoice(url: str, invoice_id: str) -> None:
    """A trigger, written straight into the file, that refuses one invoice the rules accept."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
        raw.execute(f"CREATE TRIGGER refuse_one BEFORE INSERT ON invoices WHEN NEW.invoice_id = '{invoice_id}' "
                    f"BEGIN SELECT RAISE(ABORT, '{REFUSED_INVOICE}'); END")


def counts(outcome: Outcome) -> tuple[int, int, int]:
    return outcome.processed, outcome.duplicates, len(outcome.dead_letters)


def both_ways(tmp_path: Path, rules: Rules, path: Path, size: int, keep: int | None = None,
              setup: Callable[[str], None] | None = None) -> tuple[Outcome, Outcome, int]:
    """The file batch after batch and overlapped, each into a ledger of its own (`setup` first),
    which must come out the same: (the reference's outcome, the overlapped one's, books it started)."""
    want_url, got_url = f"sqlite:///{tmp_path / 'want.db'}", f"sqlite:///{tmp_path / 'got.db'}"
    if setup is not None:
        for url in (want_url, got_url):
            open_ledger(url).dispose()
            setup(url)
    want = reference(path, want_url, rules, size)
    got, loads = overlapped(path, got_url, rules, size, keep)
    assert counts(got) == counts(want)
    assert_same_ledger(ledger_snapshot(got_url), ledger_snapshot(want_url))
    return want, got, loads


def event_file(tmp_path: Path, events: list[dict[str, object]]) -> Path:
    return write_events(tmp_path / "events.jsonl", [json.dumps(event).encode() for event in events])


@pytest.mark.parametrize("size", [7, 64, 500])
def test_an_overlapped_ingest_leaves_the_ledger_that_batch_after_batch_leaves(tmp_path: Path, rules: Rules,
                                                                            size: int) -> None:
    want, _, _ = both_ways(tmp_path, rules, cooperative_file(tmp_path / "events.jsonl", 3000, seed=size), size)
    assert want.processed > 2500 and want.duplicates > 0 and want.dead_letters  # the file exercises them


def test_a_batch_the_ledger_refuses_goes_again_event_by_event_and_the_next_is_decided_again(
        tmp_path: Path, rules: Rules) -> None:
    path = cooperative_file(tmp_path / "events.jsonl", 3000, seed=11)
    invoices = [json.loads(line)["invoice_id"] for line in path.read_bytes().splitlines()
                if b'"invoice.issued"' in line]
    victim = invoices[len(invoices) // 2]  # in a batch well inside the file: written while another is decided
    _, got, _ = both_ways(tmp_path, rules, path, 100, setup=lambda url: refuse_one_invoice(url, victim))
    refused = [d for d in got.dead_letters if REFUSED_INVOICE in d.reason]
    assert len(refused) == 1 and refused[0].source.startswith("events.jsonl:")


def test_a_write_behind_the_ingests_back_is_seen_by_the_next_batch(tmp_path: Path, rules: Rules) -> None:
    """A member's departure recorded by another connection between two batches: the kept book still
    has them under contract, the ledger does not; the invoices after it must be refused."""
    lines = [{"event_id": "j1", "type": "member.joined", "occurred_at": "2026-01-05T09:00:00Z",
              "member_id": "M1", "name": "Awa Diallo", "joined_on": "2026-01-05", "status": "salarie"}]
    for n in range(1, 13):
        lines.append({"event_id": f"i{n}", "type": "invoice.issued", "occurred_at": f"2026-{n:02d}-10T09:00:00Z",
                      "member_id": "M1", "invoice_id": f"F-{n}", "client": "Atelier Lumen",
                      "issued_on": f"2026-{n:02d}-10",
                      "lines": [{"label": "Conseil", "amount_ht": "100.00", "vat_rate": "0.20"}]})
    path = event_file(tmp_path, lines)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = open_ledger(url)
    seen: list[int] = []

    def behind_its_back(taken: int) -> None:
        seen.append(taken)
        if len(seen) == 2:  # after the second batch committed, while the third is being written
            with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
                raw.execute("UPDATE members SET left_on = '2026-03-31' WHERE member_id = 'M1'")

    try:
        outcome = ingest(engine, read_events(path), rules, batch=2, progress=behind_its_back)
    finally:
        engine.dispose()
    # The third batch (April, May) may be written before the departure or after it, whichever takes
    # SQLite's write lock first; every batch after it was decided on a book that still had the member
    # under contract, and is decided again.
    refused = sorted(int((d.event_id or "i0")[1:]) for d in outcome.dead_letters)
    assert refused in (list(range(4, 13)), list(range(6, 13))), [d.reason for d in outcome.dead_letters]
    assert outcome.processed == 13 - len(refused)


@pytest.mark.parametrize("size", [7, 64])
def test_a_book_past_its_bound_forgets_what_it_needed_longest_ago_and_leaves_the_same_ledger(
        tmp_path: Path, rules: Rules, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """No bank statement here (a statement's batch drops the book): only the bound keeps it small,
    and it does so without ever starting a book afresh."""
    from bench.events import cooperative

    lines = list(cooperative(3000, seed=size, bank=False))
    path = write_events(tmp_path / "events.jsonl", lines)
    held: list[int] = []
    real_load = KeptBook.load

    def load(self: KeptBook, *args: Any) -> Book:
        book = real_load(self, *args)
        held.append(kept_book_module._size(book))
        return book
    monkeypatch.setattr(KeptBook, "load", load)
    want, _, loads = both_ways(tmp_path, rules, path, size, keep=300)
    assert want.processed > 2500 and loads == 1
    assert max(held) <= 300 < sum(b'"invoice.issued"' in line for line in lines)  # it would have grown past it


def test_a_long_files_batches_double_past_its_first_twenty_thousand_events() -> None:
    """A short file goes in as a few transactions (a disk that fills up keeps its first batches,
    tests/test_storage_errors.py); a long one in batches twice as large past 20,000 events."""
    raws = iter([Raw(b"{}", f"events.jsonl:{n}") for n in range(50_001)])
    assert [len(chunk) for chunk in file_batches(raws)] == [2000] * 10 + [4000] * 7 + [2001]
    assert [len(chunk) for chunk in file_batches(iter([Raw(b"{}", "x:1")] * 4500), 3000)] == [3000, 1500]


def test_each_month_counts_towards_the_bound_and_what_the_batch_needs_stays(tmp_path: Path) -> None:
    """Five member-years of twelve months, needed by five batches in turn, are 60 months against a
    bound of 50: the book forgets, as if never asked, the year needed longest ago that the batch
    being decided does not need, and then nothing more, though the four it needs still hold more
    than four fifths of the bound (`bench/ingest.py`: counted by the year, 31,789 more bases were
    held at 380,000 events than at 80,000)."""
    years = [(f"M{member}", 2026) for member in range(5)]
    kept, book = KeptBook(limit=50), Book()
    for member_id, _ in years:
        for month in range(1, 13):
            book.known_base(member_id, f"2026-{month:02d}", Bases())
    kept.book = book
    kept.asked.member_years.update(years)
    engine = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with engine.connect() as conn:
            for year in years:  # each needed by a batch, in turn, before the book outgrew its bound
                kept.used.needed(([], [], [year], []))
            kept.load(conn, Wanted(member_years={years[0], years[2], years[3], years[4]}), None)
    finally:
        engine.dispose()
    assert sorted(book.years) == sorted(kept.asked.member_years) == [years[0], *years[2:]]


def test_what_a_batch_moved_in_a_year_it_did_not_ask_for_is_not_read_again_from_the_ledger(
        tmp_path: Path, rules: Rules) -> None:
    """A late association moves the sociétariat base of its sales' months (rule 4), here in 2026,
    while the event itself names 2025; the next batch, an invoice of 2026, is decided while that
    move is still being written, and must take the 2026 bases from the book, not from the ledger."""
    def invoice(n: int, day: str) -> dict[str, object]:
        return {"event_id": f"i{n}", "type": "invoice.issued", "occurred_at": f"{day}T09:00:00Z",
                "member_id": "M1", "invoice_id": f"F-{n}", "client": "Atelier Lumen", "issued_on": day,
                "lines": [{"label": "Conseil", "amount_ht": "1000.00", "vat_rate": "0.20"}]}

    lines = [{"event_id": "j1", "type": "member.joined", "occurred_at": "2025-01-05T09:00:00Z",
              "member_id": "M1", "name": "Awa Diallo", "joined_on": "2025-01-05", "status": "salarie"},
             invoice(1, "2025-11-15"), invoice(2, "2026-01-10"), invoice(3, "2026-01-20"),
             {"event_id": "a1", "type": "member.became_associate", "occurred_at": "2026-02-01T09:00:00Z",
              "member_id": "M1", "on": "2025-11-01"},
             invoice(4, "2026-01-25"), invoice(5, "2026-02-10")]
    want, _, _ = both_ways(tmp_path, rules, event_file(tmp_path, lines), 1)
    assert counts(want) == (7, 0, 0)


def _event(n: int, type_: str, **fields: object) -> dict[str, object]:
    return {"event_id": f"e{n}", "type": type_, "occurred_at": "2026-01-02T09:00:00Z", **fields}


def test_an_invoice_paid_from_credit_before_it_exists_is_asked_again_once_it_does(tmp_path: Path,
                                                                                 rules: Rules) -> None:
    """Rule 9 reads every invoice of the client; an invoice named by a refused payment from credit,
    before it was issued, had no client to read: the book must not take it as read (review)."""
    lines = [_event(1, "member.joined", member_id="M1", name="Awa Diallo", joined_on="2026-01-02", status="salarie"),
             _event(2, "invoice.issued", member_id="M1", invoice_id="F-1", client="Atelier Lumen",
                    issued_on="2026-01-05", lines=[{"label": "Conseil", "amount_ht": "100.00", "vat_rate": "0.20"}]),
             _event(3, "payment.received", member_id="M1", payment_id="P-1", invoice_id="F-1",
                    received_on="2026-01-06", amount="150.00"),  # 30.00 of credit
             _event(4, "payment.received", member_id="M1", payment_id="P-2", invoice_id="F-2",
                    received_on="2026-01-06", amount="12.00", from_credit=True),  # F-2 unknown yet: refused
             _event(5, "invoice.issued", member_id="M1", invoice_id="F-2", client="Atelier Lumen",
                    issued_on="2026-01-07", lines=[{"label": "Conseil", "amount_ht": "10.00", "vat_rate": "0.20"}]),
             _event(6, "payment.received", member_id="M1", payment_id="P-3", invoice_id="F-2",
                    received_on="2026-01-08", amount="12.00", from_credit=True)]
    want, _, loads = both_ways(tmp_path, rules, event_file(tmp_path, lines), 1)
    assert counts(want) == (5, 0, 1)
    assert loads == 1  # the book was never dropped: the payment from credit found the client's invoices


def test_an_outage_after_a_batch_written_in_the_background_still_counts_that_batch(
        tmp_path: Path, rules: Rules, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger stops taking writes on a batch decided alone, just after an overlapped batch
    committed: `Interrupted` says every line before the stop is in, as the ledger holds them (review)."""
    path = cooperative_file(tmp_path / "events.jsonl", 800, seed=3)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = open_ledger(url)
    written = {"batches": 0}
    real_write, real_alone = overlapped_module.Overlapped._write, overlapped_module.process_decoded

    def write(self: Overlapped, prepared: Any, version: int | None) -> None:
        real_write(self, prepared, version)
        written["batches"] += 1

    def alone(*args: Any, **kwargs: Any) -> Outcome:
        if written["batches"] >= 2:  # the disk is gone from here on
            raise DisconnectionError("the ledger went away")  # an outage (ledger.errors.is_transient)
        return real_alone(*args, **kwargs)
    monkeypatch.setattr(overlapped_module.Overlapped, "_write", write)
    monkeypatch.setattr(overlapped_module, "process_decoded", alone)
    try:
        with pytest.raises(Interrupted) as stopped:
            ingest(engine, read_events(path), rules, batch=25)
    finally:
        engine.dispose()
    done, at = stopped.value.done, stopped.value.at
    with sqlite3.connect(tmp_path / "ledger.db") as raw:
        in_ledger = raw.execute("SELECT count(*) FROM processed_events").fetchone()[0]
    assert done.processed == in_ledger
    assert done.processed + done.duplicates + len(done.dead_letters) == int(at.rsplit(":", 1)[1]) - 1


def _joined(n: int, member_id: str) -> dict[str, object]:
    return _event(n, "member.joined", member_id=member_id, name=f"Membre {member_id}", joined_on="2026-01-02",
                  status="salarie")


def _invoice(n: int, member_id: str, client: str, ht: str) -> dict[str, object]:
    return _event(n, "invoice.issued", member_id=member_id, invoice_id=f"F-{n}", client=client,
                  issued_on="2026-01-05", lines=[{"label": "Conseil", "amount_ht": ht, "vat_rate": "0.20"}])


def _payment(n: int, invoice_id: str, amount: str, from_credit: bool = False) -> dict[str, object]:
    return _event(n, "payment.received", member_id="M1", payment_id=f"P-{n}", invoice_id=invoice_id,
                  received_on="2026-01-06", amount=amount, from_credit=from_credit)


def _credit_of_30() -> list[dict[str, object]]:
    """M1's client Atelier Lumen overpays F-3 by 30.00; F-5 takes 5.00 of that credit."""
    return [_joined(1, "M1"), _joined(2, "M2"),
            _invoice(3, "M1", "Atelier Lumen", "100.00"), _payment(4, "F-3", "150.00"),
            _invoice(5, "M1", "Atelier Lumen", "10.00"), _payment(6, "F-5", "5.00", from_credit=True)]


def test_a_client_whose_invoice_was_forgotten_is_read_again_for_a_payment_from_credit(tmp_path: Path,
                                                                                     rules: Rules) -> None:
    """Rule 9 reads every invoice of the client. Other work pushes F-3, where the credit comes
    from, out of a small book while small payments keep F-5 in; F-5 taking 6.00 more must find the
    credit again, not a client whose invoices the book wrongly takes as all read."""
    lines = _credit_of_30()
    lines += [_payment(n, "F-5", "0.10") if n % 4 == 0 else _invoice(n, "M2", "Boulangerie Caron", "50.00")
              for n in range(7, 39)]
    lines += [_payment(39, "F-5", "0.20"), _payment(40, "F-5", "6.00", from_credit=True)]
    want, _, loads = both_ways(tmp_path, rules, event_file(tmp_path, lines), 1, keep=12)
    assert counts(want) == (40, 0, 0) and loads == 1


def test_a_client_a_batch_names_is_read_again_once_one_of_its_invoices_was_forgotten(tmp_path: Path,
                                                                                   rules: Rules) -> None:
    """A batch that issues an invoice and pays it from credit names the client itself (the ledger
    cannot yet): F-5 here, in a batch of two. Once other work pushed the client's invoices out of a
    small book, F-41, issued and paid from credit in one batch too, must have them read again."""
    lines = _credit_of_30()
    lines += [_invoice(n, "M2", "Boulangerie Caron", "50.00") for n in range(7, 41)]
    lines += [_invoice(41, "M1", "Atelier Lumen", "5.00"), _payment(42, "F-41", "6.00", from_credit=True)]
    want, _, loads = both_ways(tmp_path, rules, event_file(tmp_path, lines), 2, keep=12)
    assert counts(want) == (42, 0, 0) and loads == 1
