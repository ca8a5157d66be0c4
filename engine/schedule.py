"""The staff's monthly routine as a pure decision: given the time, what is due.

Each month P has three jobs: its payroll on a set day of P (the 25th), the
reconciliation right after it, and its close on a set day of the next month
(the 5th). `due_jobs(now, schedule, done, locked_through)` says which of them
should run now, from the `[schedule]` of the configuration and the jobs
already done (the run records): no clock and no storage here, so a test
drives it with any time it likes, and the scheduler (APScheduler, see
`streams.scheduler`) only decides *when to ask*.

A job whose moment has passed and which is not done is due, however late: a
machine that was down on the 25th runs the payroll at its next start, once.
How far back it looks is bounded (`catch_up_months`), so a scheduler started
on an old ledger does not replay years of months; a closed month has nothing
due (its payroll can no longer run, and it is closed already).
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.config import ConfigError
from engine.periods import last_day, month_of, next_month, parse_month
from engine.wording import term

PAYROLL, RECONCILE, CLOSE = "payroll", "reconcile", "close"
JOBS = (PAYROLL, RECONCILE, CLOSE)  # the order they run in, within a month


@dataclass(frozen=True, slots=True)
class Schedule:
    payroll_day: int = 25  # the payroll of month P, on this day of P
    close_day: int = 5  # the close of month P, on this day of the month after P
    at: time = time(6, 0)  # the time of day the jobs become due, local to `timezone`
    timezone: str = "Europe/Paris"
    catch_up_months: int = 2  # how many months before the current one a missed job is still run

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Due:
    job: str
    month: str

    @property
    def claim(self) -> str:
        """The unique key of this job's scheduled run (see `ledger.runs`)."""
        return f"{self.job}:{self.month}"


def _on(month: str, day: int) -> date:
    """Day `day` of the month, or its last day when the month is shorter (a 31st in February)."""
    end = last_day(month)
    return end.replace(day=min(day, end.day))


def moment(job: str, month: str, schedule: Schedule) -> datetime:
    """When month `month`'s `job` becomes due, in the schedule's time zone."""
    day = _on(next_month(month), schedule.close_day) if job == CLOSE else _on(month, schedule.payroll_day)
    return datetime.combine(day, schedule.at, tzinfo=schedule.zone)


def _months_back(month: str, count: int) -> list[str]:
    first = parse_month(month)
    index = first.year * 12 + first.month - 1
    return [f"{(index - k) // 12:04d}-{(index - k) % 12 + 1:02d}" for k in range(count, -1, -1)]


def months_in_view(now: datetime, schedule: Schedule) -> list[str]:
    """The current month (in the schedule's time zone) and the `catch_up_months` before it."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    current = month_of(now.astimezone(schedule.zone).date())
    return _months_back(current, schedule.catch_up_months)


def due_jobs(now: datetime, schedule: Schedule, done: Collection[tuple[str, str]],
             locked_through: str | None) -> list[Due]:
    """The jobs to run at `now` (timezone-aware), oldest month first, payroll before its close.

    `done`: (job, month) pairs already run successfully, by the scheduler or by hand.
    """
    due = []
    for month in months_in_view(now, schedule):
        if locked_through is not None and month <= locked_through:
            continue
        for job in JOBS:
            if (job, month) not in done and now >= moment(job, month, schedule):
                due.append(Due(job, month))
    return due


def parse_schedule(text: str, origin: str = "configuration") -> Schedule:
    """The `[schedule]` table of the configuration; the defaults where it says nothing."""
    try:
        table = tomllib.loads(text).get("schedule", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    where = f"{origin} [schedule]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(table) - {"payroll_day", "close_day", "at", "timezone", "catch_up_months"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    base = Schedule()
    values = {
        "payroll_day": _int(table, "payroll_day", base.payroll_day, 1, 31, where),
        "close_day": _int(table, "close_day", base.close_day, 1, 31, where),
        "catch_up_months": _int(table, "catch_up_months", base.catch_up_months, 0, 24, where),
        "at": _time(table.get("at", base.at), where),
        "timezone": table.get("timezone", base.timezone),
    }
    if not isinstance(values["timezone"], str):
        raise ConfigError(f"{where}: timezone must be a name such as \"Europe/Paris\"")
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {term(values['timezone'])}") from None
    return Schedule(**values)


def _int(table: dict[str, object], name: str, default: int, low: int, high: int, where: str) -> int:
    value = table.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{where}: {name} must be a whole number from {low} to {high}")
    return value


def _time(value: object, where: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where}: at must be a time of day such as 06:00")
