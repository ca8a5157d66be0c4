"""The embedded runner: a `.jsonl` file through the same `process` as the Kafka workers.

Lines are read lazily and processed in batches, so memory stays flat however
long the file; each batch is one transaction (see `streams.pipeline`).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

from sqlalchemy import Engine

from engine.config import Rules
from ledger.rows import freeze_startup_heap
from streams.pipeline import Outcome, Raw, process

BATCH = 2000


def read_events(path: Path) -> Iterator[Raw]:
    """Every non-blank line of the file, with `name:line` as its source."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            data = line.rstrip(b"\r\n")
            if number == 1:
                data = data.removeprefix(codecs.BOM_UTF8)  # files saved by some editors start with one
            if data.strip():
                yield Raw(data, f"{path.name}:{number}")


def ingest(engine: Engine, raws: Iterator[Raw], rules: Rules, batch: int = BATCH,
           progress: Callable[[int], None] | None = None) -> Outcome:
    """Process everything; the returned outcome keeps counts and dead letters, not entries."""
    freeze_startup_heap()
    total = Outcome()
    while chunk := list(islice(raws, batch)):
        outcome = process(engine, chunk, rules)
        outcome.entries, outcome.statuses = [], {}  # counted by the ledger, not kept in memory
        total.add(outcome)
        if progress:
            progress(len(chunk))
    return total
