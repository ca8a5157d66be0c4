"""The monthly routine on a clock: APScheduler asks, `engine.schedule` decides, `ledger.monthly` runs.

One APScheduler job (id `cae-monthly-routine`, in the scheduler's memory)
calls `tick` every day at the schedule's hour, and once as soon as a
scheduler starts. `tick` asks the
pure `engine.schedule.due_jobs` what is due at that moment, given the run
records, and runs it: the month's payroll on its day, the reconciliation
after it, the close of the month before on its day. Missed runs therefore
run once at the next start (coalesced: however many ticks were missed, the
next one finds each job due once), and a job that failed is due again at
the next tick. Nothing of the scheduler is kept in the database: what is due
is decided from the run records, so there is no job store to keep (and none
to unpickle: APScheduler's SQLAlchemy job store pickles jobs into a table,
and whoever could write a row of it would run code on the scheduler's host).

Nothing here makes a job run once: two schedulers (`cae scheduler` and a
worker, or two workers) may both tick; the database makes the second one
find the job done (`ledger.runs`). A worker can start the routine with
`start_background`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from engine.config import Rules, load_rules, read_config
from engine.schedule import (Due, Schedule, due_jobs, months_in_view,
                             parse_schedule)
from ledger import monthly
from ledger.book_store import locked_through
from ledger.db import make_engine, open_ledger
from ledger.runs import SCHEDULED, done_jobs, scheduler_name

log = logging.getLogger("cae.scheduler")

TICK_ID = "cae-monthly-routine"


@dataclass(frozen=True, slots=True)
class Ran:
    """What a tick did with one due job: `ok`, `warning`, `failed`, or `skipped` (done by another)."""

    job: str
    month: str
    outcome: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "month": self.month, "outcome": self.outcome, "detail": self.detail}


def load_schedule(config_path: str | None = None) -> Schedule:
    return parse_schedule(*read_config(config_path))


def run_due(engine: Engine, rules: Rules, schedule: Schedule, now: datetime,
            started_by: str | None = None) -> list[Ran]:
    """Run what is due at `now`, in order; a failed job holds back the later jobs of its month."""
    with engine.connect() as conn:
        lock = locked_through(conn)
        done = done_jobs(conn, months_in_view(now, schedule))
    by = started_by or scheduler_name()
    ran: list[Ran] = []
    failed: set[str] = set()
    for due in due_jobs(now, schedule, done, lock):
        if due.month in failed:
            ran.append(Ran(due.job, due.month, "skipped", "an earlier job of the month failed"))
            continue
        ran.append(_run(engine, rules, due, by, now.astimezone(schedule.zone).date()))
        if ran[-1].outcome == "failed":
            failed.add(due.month)
    return ran


def _run(engine: Engine, rules: Rules, due: Due, by: str, today: date) -> Ran:
    try:
        result = monthly.JOBS[due.job](engine, due.month, rules, origin=SCHEDULED, started_by=by, today=today)
    except Exception as exc:  # recorded as failed by run_job; the next tick tries again
        log.error("%s of %s failed: %s", due.job, due.month, exc)
        return Ran(due.job, due.month, "failed", str(exc).splitlines()[0] if str(exc) else repr(exc))
    if result is None:
        return Ran(due.job, due.month, "skipped", "already done by another scheduler")
    run = result[0]
    log.info("%s of %s: %s (%s)", due.job, due.month, run.outcome, run.detail)
    return Ran(due.job, due.month, run.outcome, run.detail)


def tick(db_url: str, config_path: str | None = None) -> list[Ran]:
    """What APScheduler calls: run whatever is due now.

    The database was migrated when the scheduler was made (`make_scheduler`):
    alembic's migration context is not thread-safe, and ticks run in threads.
    """
    engine = make_engine(db_url)
    try:
        return run_due(engine, load_rules(config_path), load_schedule(config_path),
                       datetime.now(timezone.utc))
    finally:
        engine.dispose()


def make_scheduler(db_url: str, config_path: str | None = None, *, blocking: bool = False,
                   every_seconds: float | None = None) -> BaseScheduler:
    """A scheduler whose one job ticks daily at the schedule's hour, and once as it starts.

    `every_seconds` ticks on an interval instead (tests, or a tighter watch).
    The start-up tick is what runs the jobs missed while no scheduler was up.
    """
    schedule = load_schedule(config_path)
    open_ledger(db_url).dispose()  # migrated here, once, before any tick's thread
    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler: BaseScheduler = kind(
        timezone=schedule.zone,
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1})
    trigger: Any = (IntervalTrigger(seconds=every_seconds, timezone=schedule.zone) if every_seconds
                    else CronTrigger(hour=schedule.at.hour, minute=schedule.at.minute,
                                     timezone=schedule.zone))
    scheduler.add_job(tick, trigger, args=[db_url, config_path], id=TICK_ID, name="CAE monthly routine",
                      next_run_time=datetime.now(schedule.zone))
    return scheduler


def start_background(db_url: str, config_path: str | None = None) -> BaseScheduler:
    """For a worker: the routine in a background thread; call `.shutdown()` when the worker stops."""
    scheduler = make_scheduler(db_url, config_path)
    scheduler.start()
    return scheduler
