"""Run records: every monthly job, by the scheduler or by hand, with who started it and how it ended.

`run_job` wraps a job (payroll, reconciliation, close, a correction, an
export) in one transaction together with its record, so the record says
exactly what was committed. Two schedulers on one database never run a
month's job twice, and that guarantee is the database's, not APScheduler's:

- the job's transaction first takes a lock on the (job, month) pair (an
  advisory lock on PostgreSQL; on SQLite every transaction already holds the
  write lock from its first statement, see `ledger.db`), then looks for a
  successful run of it: a second scheduler waits, then finds the first one's;
- a scheduled run's record carries `claim` = "payroll:2026-10", unique in the
  table, so even a writer that skipped the lock cannot commit a second one.

A job that fails leaves nothing of its work (the transaction rolls back) and
a record of the failure, written after, without a claim: the month's job is
still due and runs again at the next tick. Records are append-only.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from engine.messages import Language, Message
from ledger import schema
from ledger.bulk import iso_utc

T = TypeVar("T")
SCHEDULED, MANUAL = "scheduled", "manual"
SUCCEEDED = ("ok", "warning")


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """What a job did: a one-line `detail` for the record, its result, and whether it needs a look.

    A detail from the catalogue is recorded in English (what the CLI and the API read) and as its
    code and parameters, which the staff's runs page says in French (issue 15)."""

    detail: str | Message
    value: T
    warning: bool = False


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    job: str
    month: str
    member_id: str | None
    origin: str
    started_by: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    detail: str
    claim: str | None
    message: Message | None = None  # the detail's code and parameters; None for an older run or free text

    def detail_in(self, language: Language) -> str:
        """The detail in `language` when it has a code, else as it was recorded."""
        return self.message.text(language) if self.message is not None else self.detail

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "job": self.job, "month": self.month, "member_id": self.member_id,
                "origin": self.origin, "started_by": self.started_by,
                "started_at": iso_utc(self.started_at), "finished_at": iso_utc(self.finished_at),
                "outcome": self.outcome, "detail": self.detail}


def operator() -> str:
    """Who runs a command by hand: `$CAE_USER` (a shared staff account), else the login, @ the host."""
    name = os.environ.get("CAE_USER")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    return f"{name}@{socket.gethostname()}"[:200]


def scheduler_name() -> str:
    return f"scheduler {socket.gethostname()}:{os.getpid()}"


def run_job(engine: Engine, job: str, month: str, work: Callable[[Connection], Done[T]], *,
            origin: str, started_by: str, member_id: str | None = None) -> tuple[Run, T] | None:
    """Run `work` and record it; None when a scheduled run finds the job already done.

    The work's own exceptions propagate, after their failure is recorded.
    """
    started = datetime.now(timezone.utc)
    try:
        with engine.begin() as conn:
            _lock(conn, job, month)
            if origin == SCHEDULED and (job, month) in done_jobs(conn, [month]):
                return None
            done = work(conn)
            run = _record(conn, job, month, member_id, origin, started_by, started,
                          "warning" if done.warning else "ok", done.detail,
                          f"{job}:{month}" if origin == SCHEDULED else None)
            return run, done.value
    except IntegrityError as exc:
        if origin == SCHEDULED and "claim" in str(exc.orig):
            return None  # another scheduler committed this month's job between our look and ours
        _record_failure(engine, job, month, member_id, origin, started_by, started, exc)
        raise
    except Exception as exc:
        _record_failure(engine, job, month, member_id, origin, started_by, started, exc)
        raise


def _lock(conn: Connection, job: str, month: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"cae-run:{job}:{month}"})


def _record(conn: Connection, job: str, month: str, member_id: str | None, origin: str, started_by: str,
            started: datetime, outcome: str, detail: str | Message, claim: str | None) -> Run:
    message = detail if isinstance(detail, Message) else None
    run = Run(0, job, month, member_id, origin, started_by[:200], started, datetime.now(timezone.utc),
              outcome, detail.text("en") if isinstance(detail, Message) else detail, claim, message)
    row = {f: getattr(run, f) for f in Run.__slots__ if f not in ("id", "message")}
    row["detail_code"] = json.dumps(message.to_json()) if message is not None else None
    return replace(run, id=conn.execute(insert(schema.runs).returning(schema.runs.c.id), row).scalar_one())


def _record_failure(engine: Engine, job: str, month: str, member_id: str | None, origin: str,
                    started_by: str, started: datetime, exc: BaseException) -> None:
    reason = str(getattr(exc, "orig", exc)).splitlines()
    said = getattr(exc, "message", None)  # a refusal from the catalogue keeps its code
    with engine.begin() as conn:
        _record(conn, job, month, member_id, origin, started_by, started, "failed",
                said if isinstance(said, Message) else (reason[0] if reason else type(exc).__name__)[:1000], None)


def done_jobs(conn: Connection, months: Iterable[str]) -> set[tuple[str, str]]:
    """The (job, month) pairs of these months that have run successfully, by anyone."""
    r = schema.runs
    query = (select(r.c.job, r.c.month).distinct()
             .where(r.c.month.in_(list(months)), r.c.outcome.in_(SUCCEEDED), r.c.member_id.is_(None)))
    return {(job, month) for job, month in conn.execute(query)}


def list_runs(conn: Connection, month: str | None = None, job: str | None = None,
              limit: int = 100) -> list[Run]:
    """The latest runs first."""
    r = schema.runs
    query = select(r).order_by(r.c.id.desc()).limit(limit)
    if month is not None:
        query = query.where(r.c.month == month)
    if job is not None:
        query = query.where(r.c.job == job)
    return [Run(row.id, row.job, row.month, row.member_id, row.origin, row.started_by, row.started_at,
                row.finished_at, row.outcome, row.detail, row.claim, _message(row.detail_code))
            for row in conn.execute(query)]


def _message(found: str | None) -> Message | None:
    """A run's detail as the catalogue recorded it; None if its code has left the catalogue (its
    English detail then stands, as for an older run)."""
    try:
        return Message.from_json(json.loads(found)) if found else None
    except (KeyError, TypeError, ValueError):
        return None


def by_hand(result: tuple[Run, T] | None) -> tuple[Run, T]:
    """The result of a manual run, which is never skipped (only scheduled runs claim their month)."""
    if result is None:
        raise RuntimeError("a run by hand was skipped as if scheduled")
    return result
