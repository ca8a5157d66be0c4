"""A file's batches decided while the batch before them is written (issue 18).

Deciding a batch (decoding, the rules, building its rows) is Python; writing it
is SQLite's own work, which runs without the interpreter's lock when each
table's rows go in as one statement (`ledger.bulk.insert_rows`). So a writer
thread writes and commits batch k on its own connection while the ingest
decides batch k+1 on the kept book (`ledger.kept_book`), which already holds
what k did, reading what the book lacks through a second connection, which
sees the ledger before k; k's event ids are handed over, so that an event
repeated across the two batches is still a duplicate.

Nothing is weaker than batch after batch (`streams.pipeline.process`):

- k+1 is written only once k committed, in a transaction of its own, and only
  if the writer's connection sees that nobody else committed since k began
  (`PRAGMA data_version`, read under the write lock); else k+1 is decided
  again from the ledger (`Stale`);
- if the ledger refuses k (a trigger, a constraint), k goes through `process`
  again, whole and then event by event, and k+1, decided on k's changes, is
  decided again: the one bad event ends in the dead letters, as before;
- a batch with bank, governance or association events (they read what the
  book does not follow: bank lines, assemblies, a member's sales), the first
  batch, and any batch after the book was dropped are decided and written
  alone, after the batch before them committed;
- an outage while writing k stops the ingest there (`Transient`), with every
  batch before k committed and nothing after it.

SQLite only: on PostgreSQL a book is never kept (`ledger.kept_book`), so each
batch must read the ledger as the one before it left it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import Engine

from engine.config import Rules
from engine.events import is_bank, is_governance
from ledger.errors import is_transient
from ledger.kept_book import KeptBook, data_version
from streams.pipeline import Decoded, Outcome, Prepared, Raw, decode_all, prepare, process_decoded, write


SWITCH_INTERVAL = 0.0001  # seconds (Python's default is 0.005)
CHECKPOINT_PAGES = 10_000  # while a file is ingested (about 40 MB of log; SQLite's default is 1,000)


class Stale(Exception):
    """Another connection committed since the book was checked: the batch is decided again."""


class Transient(Exception):
    """The ledger cannot store the batch that starts at `at` for now (`ledger.errors.is_transient`);
    `committed`: the outcomes of the batches committed before it and not yet handed out."""

    def __init__(self, at: str, cause: BaseException) -> None:
        super().__init__(at)
        self.at, self.cause = at, cause
        self.committed: list[Outcome] = []


@dataclass
class _Flight:
    """A batch being written by the writer thread."""

    decoded: list[Decoded]
    prepared: Prepared
    future: Future[None]


class Overlapped:
    """Batches in, committed outcomes out, each batch written while the next is decided."""

    def __init__(self, engine: Engine, rules: Rules) -> None:
        self.engine, self.rules = engine, rules
        self.kept = KeptBook()
        self.writing = engine.connect()  # every batch is written here: the kept book follows it
        self.reading = engine.connect().execution_options(cae_read_only=True)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="cae-writer")
        self.flight: _Flight | None = None
        self.switching = sys.getswitchinterval()
        self.checkpoints = 0

    def __enter__(self) -> Overlapped:
        # The writer thread needs the interpreter's lock for an instant between two statements;
        # by default it waits up to 5 ms for the deciding thread to let go of it, which took
        # most of the overlap away. And a checkpoint every 10,000 pages of the log rather than
        # 1,000 copies a page that each batch rewrites (an index's) once instead of ten times.
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.checkpoints = self._checkpoint_every(CHECKPOINT_PAGES)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.flight is not None:  # leaving on an error: what is being written finishes first
            self.flight.future.exception()
        self.writer.shutdown()
        sys.setswitchinterval(self.switching)
        self._checkpoint_every(self.checkpoints)
        self.reading.close()
        self.writing.close()

    def _checkpoint_every(self, pages: int) -> int:
        """Set the writing connection's checkpoint interval (no transaction needed, none begun:
        this runs on a ledger that may be refusing writes); the interval it had."""
        driver = self.writing.connection.dbapi_connection
        assert driver is not None
        was = int(driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        driver.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")
        return was

    def take(self, raws: Sequence[Raw]) -> list[Outcome]:
        """Offer a batch; returns the outcomes of the batches committed meanwhile, in order."""
        decoded = decode_all(raws)
        if not (self.kept.follows(self.writing) and _book_only(decoded)):
            return self._then_alone(self.finish(), decoded)
        written = self.flight.prepared.fingerprints if self.flight is not None else {}
        try:
            with self.reading.begin():
                prepared = prepare(self.reading, decoded, self.rules, False, self.kept, written)
        except Exception:  # noqa: BLE001 — decided again alone, where `process` sorts the error out
            self.kept.drop()
            return self._then_alone(self.finish(), decoded)
        done, as_decided = self._settle()
        if not (as_decided and self.kept.follows(self.writing)):  # decided on a book that was not the ledger's
            return self._then_alone(done, decoded)
        self.flight = _Flight(decoded, prepared,
                              self.writer.submit(self._write, prepared, self.kept.version))
        return done

    def finish(self) -> list[Outcome]:
        """Wait for the batch being written; its outcome, or its batch's again if it could not be."""
        return self._settle()[0]

    def _settle(self) -> tuple[list[Outcome], bool]:
        """`finish`, and whether the batch was written as it was decided (else it was decided and
        written again alone, and a batch decided meanwhile on its changes must be too)."""
        flight, self.flight = self.flight, None
        if flight is None:
            return [], True
        try:
            flight.future.result()
        except Exception as exc:  # noqa: BLE001 — decided again alone, by `process`
            self.kept.drop()
            if is_transient(exc):
                raise Transient(flight.decoded[0][0].source, exc) from exc
            return [self._alone(flight.decoded)], False
        self.kept.committed(bank=flight.prepared.bank.wrote)
        return [flight.prepared.outcome], True

    def _write(self, prepared: Prepared, version: int | None) -> None:
        """In the writer thread: the batch, if nobody committed since the book was last checked."""
        with self.writing.begin():
            if data_version(self.writing) != version:
                raise Stale()
            write(self.writing, prepared)

    def _then_alone(self, done: list[Outcome], decoded: list[Decoded]) -> list[Outcome]:
        """`done` (committed already), then the batch decided and written alone; if the ledger
        cannot take that batch now, what was committed before it still goes with the outage."""
        try:
            done.append(self._alone(decoded))
        except Transient as stop:
            stop.committed = done + stop.committed
            raise
        return done

    def _alone(self, decoded: list[Decoded]) -> Outcome:
        """A batch decided and written alone, on the writing connection (the book checked there)."""
        try:
            return process_decoded(self.engine, decoded, self.rules, kept=self.kept, on=self.writing)
        except Exception as exc:
            if is_transient(exc):
                raise Transient(decoded[0][0].source, exc) from exc
            raise


def _book_only(decoded: list[Decoded]) -> bool:
    """Whether the batch reads from the ledger only what the book follows (members, invoices and
    their documents, member-years): no bank or governance event, which read lines, links and
    assemblies, and no association, which reads the member's sales (rule 4), those of the batch
    being written included."""
    return not any(event is not None and (is_bank(event) or is_governance(event)
                                          or event.type == "member.became_associate")
                   for _, event, _ in decoded)
