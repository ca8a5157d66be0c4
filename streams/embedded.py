"""The embedded runner: a `.jsonl` file through the same `process` as the Kafka workers.

Lines are read lazily and processed in batches, so memory stays flat however
long the file; each batch is one transaction (see `streams.pipeline`).

A ledger that cannot store anything for now (a full disk, a read-only file, an
outage: `ledger.errors.is_transient`) stops the ingest where it is, with
`Interrupted`: nothing is dead-lettered for it, the batches before it are
committed, and the same file ingested again once it is mended goes through,
what was already taken counting as duplicates (issue 14, point 2).
"""

from __future__ import annotations

import codecs
import gc
from collections.abc import Callable, Iterator
from itertools import chain, count, islice, repeat
from pathlib import Path

from sqlalchemy import Engine

from engine.config import Rules
from ledger.errors import is_transient, reason
from ledger.rows import bulk, freeze_startup_heap
from ledger.storable import storable
from streams.overlapped import Overlapped, Transient
from streams.pipeline import Outcome, Raw, process

# Events per transaction for a file: 2,000 at first, so that a file of a few thousand events goes
# in as a few transactions and a disk that fills up (tests/test_storage_errors.py) keeps its first
# batches; twice as many once LONG_AFTER events are in. Each commit writes out every index page
# its batch touched, and the ledger's indexes take rows in random order (members, accounts), so
# larger batches write each page less often: the writing thread's CPU 8.6 -> 7.6 s for
# bench/ingest.py's 100,000 events, 8,949 -> 9,672-9,869 events/s (issue 18).
BATCH = 2000
LONG_AFTER = 20_000
COLLECT_EVERY = 4  # batches: each collection walks the rows of the batches in hand, a few per ingest will do


class Interrupted(Exception):
    """The ledger could not store the batch starting at `at`; `done` is what went in before it."""

    def __init__(self, done: Outcome, at: str, cause: BaseException) -> None:
        taken = done.processed + done.duplicates + len(done.dead_letters)
        super().__init__(f"the ledger cannot store events now ({reason(cause)}): stopped in the batch from "
                         f"{at}, nothing dead-lettered for it, the {taken} line(s) before it are in; ingest the "
                         "same file again once the ledger is mended (what is in counts as duplicates)")
        self.done, self.at = done, at


def read_events(path: Path) -> Iterator[Raw]:
    """Every non-blank line of the file, with `name:line` as its source (a name that is not UTF-8
    escaped, so that it can be printed and stored)."""
    name = storable(path.name)
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            data = line.rstrip(b"\r\n")
            if number == 1:
                data = data.removeprefix(codecs.BOM_UTF8)  # files saved by some editors start with one
            if data.strip():
                yield Raw(data, f"{name}:{number}")


def batches(raws: Iterator[Raw], batch: int = BATCH) -> Iterator[list[Raw]]:
    """The file's lines `batch` at a time, then twice as many past its first `LONG_AFTER`."""
    for size in chain([batch] * max(1, LONG_AFTER // batch), repeat(2 * batch)):
        chunk = list(islice(raws, size))
        if not chunk:
            return
        yield chunk


def ingest(engine: Engine, raws: Iterator[Raw], rules: Rules, batch: int = BATCH,
           progress: Callable[[int], None] | None = None) -> Outcome:
    """Process everything; the returned outcome keeps counts and dead letters, not entries.

    On SQLite (a file: the ledger opens no other) a batch is decided while the one
    before it is written (`streams.overlapped`); on PostgreSQL each batch reads the
    ledger as the one before it left it.
    """
    freeze_startup_heap()
    total = Outcome()
    committed_batches = count(1)

    def committed(outcome: Outcome) -> None:
        outcome.entries, outcome.statuses = [], {}  # counted by the ledger, not kept in memory
        total.add(outcome)
        if next(committed_batches) % COLLECT_EVERY == 0:
            gc.collect(1)
        if progress:
            progress(outcome.processed + outcome.duplicates + len(outcome.dead_letters))

    # A kept book is hundreds of thousands of long-lived objects, which the collector's automatic
    # passes walked again and again (a tenth of the ingest, issue 18): it walks only what is young,
    # every few batches, where the batches' reference cycles (a refusal's traceback) are found.
    with bulk():
        if engine.dialect.name != "sqlite":
            for chunk in batches(raws, batch):
                try:
                    committed(process(engine, chunk, rules))
                except Exception as exc:
                    if is_transient(exc):
                        raise Interrupted(total, chunk[0].source, exc) from exc
                    raise
            return total
        try:
            with Overlapped(engine, rules) as pipe:
                for chunk in batches(raws, batch):
                    for outcome in pipe.take(chunk):
                        committed(outcome)
                for outcome in pipe.finish():
                    committed(outcome)
        except Transient as stop:
            for outcome in stop.committed:
                committed(outcome)
            raise Interrupted(total, stop.at, stop.cause) from stop.cause
    return total
