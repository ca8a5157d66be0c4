"""The monthly routine (issue 4, item 1) on a controllable clock, then on a real one.

`run_due(engine, rules, schedule, now)` is what each APScheduler tick calls,
with the time passed in: the tests walk a calendar day by day. Payroll runs
on the 25th, the reconciliation after it, the close of the month before on
the 5th; a machine down on the 25th runs the payroll once when it is back;
two schedulers on one database run each job once (the database says so).
"""

from __future__ import annotations

import threading
import time as clock
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, inspect, text
from sqlalchemy.exc import IntegrityError

from engine.config import ConfigError, Rules
from engine.schedule import Due, Schedule, due_jobs, moment, parse_schedule
from ledger import schema
from ledger.closing import close_month
from ledger.db import make_engine, open_ledger
from ledger.runs import list_runs
from streams import scheduler as routine
from streams.scheduler import Ran, make_scheduler, run_due
from tests.ops_support import BASE_RATES, cli, ingest, invoice, joined, salary

PARIS = ZoneInfo("Europe/Paris")
SCHEDULE = Schedule(payroll_day=25, close_day=5, at=time(6, 0), timezone="Europe/Paris", catch_up_months=2)


def at(day: str, hour: int = 7) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), tzinfo=PARIS)


def days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=k)).isoformat() for k in range((end - start).days + 1)]


# -- the pure decision ---------------------------------------------------------------------------

def test_payroll_and_reconciliation_are_due_from_the_payroll_day_the_close_from_the_close_day() -> None:
    assert due_jobs(at("2026-10-24"), SCHEDULE, set(), "2026-09") == []
    assert due_jobs(at("2026-10-25", 5), SCHEDULE, set(), "2026-09") == []  # before 06:00
    assert due_jobs(at("2026-10-25"), SCHEDULE, set(), "2026-09") == [Due("payroll", "2026-10"),
                                                                        Due("reconcile", "2026-10")]
    done = {("payroll", "2026-10"), ("reconcile", "2026-10")}
    assert due_jobs(at("2026-11-04"), SCHEDULE, done, "2026-09") == []
    assert due_jobs(at("2026-11-05"), SCHEDULE, done, "2026-09") == [Due("close", "2026-10")]
    assert due_jobs(at("2026-11-05"), SCHEDULE, done, "2026-10") == []  # closed by hand already


def test_missed_jobs_are_due_once_in_order_within_the_catch_up_window() -> None:
    due = due_jobs(at("2026-12-26"), SCHEDULE, set(), "2026-09")
    assert due == [Due("payroll", "2026-10"), Due("reconcile", "2026-10"), Due("close", "2026-10"),
                   Due("payroll", "2026-11"), Due("reconcile", "2026-11"), Due("close", "2026-11"),
                   Due("payroll", "2026-12"), Due("reconcile", "2026-12")]
    narrow = Schedule(catch_up_months=0)
    assert due_jobs(at("2026-12-26"), narrow, set(), "2026-09") == [Due("payroll", "2026-12"),
                                                                      Due("reconcile", "2026-12")]


def test_a_day_past_the_end_of_a_short_month_is_its_last_day() -> None:
    late = Schedule(payroll_day=31, close_day=30)
    assert moment("payroll", "2027-02", late).date() == date(2027, 2, 28)
    assert moment("close", "2027-01", late).date() == date(2027, 2, 28)


def test_the_schedule_is_read_from_the_configuration() -> None:
    found = parse_schedule('[schedule]\npayroll_day = 27\nclose_day = 3\nat = 07:30:00\n'
                           'timezone = "UTC"\ncatch_up_months = 1\n')
    assert found == Schedule(27, 3, time(7, 30), "UTC", 1)
    assert parse_schedule("") == Schedule()
    for wrong in ("[schedule]\npayroll_day = 0", "[schedule]\nat = \"noon\"", "[schedule]\nday = 3",
                  "[schedule]\ntimezone = \"Mars/Olympus\""):
        with pytest.raises(ConfigError):
            parse_schedule(wrong)


def test_now_must_say_its_time_zone() -> None:
    with pytest.raises(ValueError):
        due_jobs(datetime(2026, 10, 25, 7), SCHEDULE, set(), None)


# -- the routine on a ledger, day by day ---------------------------------------------------------

@pytest.fixture
def cooperative(engine: Engine, rules: Rules) -> Engine:
    """One salaried member with work every month; September closed before the story starts."""
    ingest(engine, rules, joined("M1"), salary("M1", "2026-09", "1000.00"),
           *(invoice("M1", f"F{m}", f"2026-{m:02d}-10", "3000.00") for m in range(9, 13)))
    with engine.begin() as conn:
        close_month(conn, "2026-09")
    return engine


def walk(engine: Engine, rules: Rules, calendar: list[str]) -> dict[str, list[Ran]]:
    """A tick each morning of the calendar; what ran, per day."""
    ran = {}
    for day in calendar:
        done = [r for r in run_due(engine, rules, SCHEDULE, at(day), "test scheduler") if r.outcome != "skipped"]
        if done:
            ran[day] = done
    return ran


def jobs(ran: dict[str, list[Ran]]) -> dict[str, list[tuple[str, str, str]]]:
    return {day: [(r.job, r.month, r.outcome) for r in rs] for day, rs in ran.items()}


def test_payroll_and_close_run_once_on_their_days(cooperative: Engine, rules: Rules) -> None:
    ran = walk(cooperative, rules, days("2026-10-01", "2026-12-10"))
    assert jobs(ran) == {
        "2026-10-25": [("payroll", "2026-10", "ok"), ("reconcile", "2026-10", "ok")],
        "2026-11-05": [("close", "2026-10", "ok")],
        # September's invoice is unpaid for more than 60 days at the end of November: a warning
        "2026-11-25": [("payroll", "2026-11", "ok"), ("reconcile", "2026-11", "warning")],
        "2026-12-05": [("close", "2026-11", "ok")],
    }
    assert "not ok: no invoice unpaid after 60 days" in ran["2026-11-25"][1].detail
    with cooperative.connect() as conn:
        records = list_runs(conn)
        paid = conn.scalar(text("SELECT count(*) FROM payslips WHERE member_id = 'M1'"))
    assert Counter((r.job, r.month) for r in records) == {
        ("payroll", "2026-10"): 1, ("reconcile", "2026-10"): 1, ("close", "2026-10"): 1,
        ("payroll", "2026-11"): 1, ("reconcile", "2026-11"): 1, ("close", "2026-11"): 1}
    assert {r.origin for r in records} == {"scheduled"} and {r.started_by for r in records} == {"test scheduler"}
    assert paid == 2
    assert next(r for r in records if r.job == "payroll").detail.startswith("1 payslips (0 capped), gross 1000.00")


def test_a_missed_day_runs_once_at_the_next_start(cooperative: Engine, rules: Rules) -> None:
    before = walk(cooperative, rules, days("2026-10-01", "2026-10-23"))
    # the machine is down from the 24th to the 27th; it starts again on the 28th, at 09:40
    restart = run_due(cooperative, rules, SCHEDULE, at("2026-10-28", 9), "test scheduler")
    after = walk(cooperative, rules, days("2026-10-28", "2026-11-04"))
    assert before == {}
    assert [(r.job, r.month, r.outcome) for r in restart] == [("payroll", "2026-10", "ok"),
                                                             ("reconcile", "2026-10", "ok")]
    assert after == {}


def test_a_failed_job_is_recorded_holds_back_its_month_and_runs_at_the_next_tick(
        cooperative: Engine, rules: Rules, monkeypatch: pytest.MonkeyPatch) -> None:
    real = routine.monthly.run_payroll

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the payroll database went away")
    monkeypatch.setattr(routine.monthly, "run_payroll", broken)
    first = run_due(cooperative, rules, SCHEDULE, at("2026-10-25"), "test scheduler")
    assert [(r.job, r.outcome) for r in first] == [("payroll", "failed"), ("reconcile", "skipped")]
    monkeypatch.setattr(routine.monthly, "run_payroll", real)
    second = run_due(cooperative, rules, SCHEDULE, at("2026-10-26"), "test scheduler")
    assert [(r.job, r.outcome) for r in second] == [("payroll", "ok"), ("reconcile", "ok")]
    with cooperative.connect() as conn:
        outcomes = [(r.job, r.outcome, r.detail) for r in reversed(list_runs(conn))]
    assert outcomes[0] == ("payroll", "failed", "the payroll database went away")
    assert [o[:2] for o in outcomes[1:]] == [("payroll", "ok"), ("reconcile", "ok")]


def test_two_schedulers_on_one_database_run_each_job_once(cooperative: Engine, rules: Rules,
                                                          db_url: str) -> None:
    other = open_ledger(db_url)  # a second process's own connections
    outcomes: list[Ran] = []
    errors: list[BaseException] = []

    def scheduler(engine: Engine, name: str, start: threading.Barrier) -> None:
        try:
            for day in days("2026-10-24", "2026-11-06"):
                start.wait()
                outcomes.extend(run_due(engine, rules, SCHEDULE, at(day), name))
        except BaseException as exc:  # reported below
            errors.append(exc)
            start.abort()

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=scheduler, args=(e, n, barrier))
               for e, n in ((cooperative, "worker-1"), (other, "worker-2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    other.dispose()
    assert errors == []
    ran = Counter((r.job, r.month) for r in outcomes if r.outcome == "ok")
    assert ran == {("payroll", "2026-10"): 1, ("reconcile", "2026-10"): 1, ("close", "2026-10"): 1}
    with cooperative.connect() as conn:
        records = list_runs(conn)
        paid = conn.scalar(text("SELECT count(*) FROM payslips"))
    assert Counter((r.job, r.month) for r in records) == ran
    assert paid == 1


def test_the_database_refuses_a_second_scheduled_run_of_a_month(engine: Engine, owner: Engine) -> None:
    row = {"job": "payroll", "month": "2026-10", "origin": "scheduled", "started_by": "w1",
           "started_at": at("2026-10-25"), "finished_at": at("2026-10-25"), "outcome": "ok",
           "detail": "", "claim": "payroll:2026-10"}
    with engine.begin() as conn:
        conn.execute(insert(schema.runs), row)
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(insert(schema.runs), {**row, "started_by": "w2"})
    with pytest.raises(Exception, match="append-only"):
        with owner.begin() as conn:
            conn.execute(text("UPDATE runs SET outcome = 'failed'"))


def test_manual_runs_are_recorded_and_listed(cooperative: Engine, db_url: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAE_USER", "claire")
    cli("payroll", "run", "--month", "2026-10", "--db", db_url, "--json")
    cli("reconcile", "--month", "2026-10", "--db", db_url, "--json")
    cli("close", "--month", "2026-10", "--db", db_url, "--json")
    cli("payroll", "run", "--month", "2026-10", "--db", db_url, "--json")  # closed: the same lines
    listed = cli("runs", "--month", "2026-10", "--db", db_url, "--json")["runs"]
    assert [(r["job"], r["origin"], r["outcome"]) for r in listed] == [
        ("payroll", "manual", "ok"), ("close", "manual", "ok"), ("reconcile", "manual", "ok"),
        ("payroll", "manual", "ok")]
    assert all(r["started_by"].startswith("claire@") for r in listed)
    # the scheduler finds the month's jobs done by hand
    assert due_jobs(at("2026-11-06"), SCHEDULE, {("payroll", "2026-10"), ("reconcile", "2026-10")},
                    "2026-10") == []
    assert "runs" in cli("runs", "--db", db_url).lower()


RATES = BASE_RATES


def test_two_real_schedulers_on_a_short_interval_run_each_job_once(db_url: str, tmp_path: Path) -> None:
    """APScheduler itself, two of them on one ledger, ticking every 0.2 s for a few seconds.

    With every job due from the 1st at midnight, whatever today is, the month
    before is paid, reconciled and closed, and this month paid and reconciled.
    """
    config = tmp_path / "cae.toml"
    config.write_text(RATES + '[schedule]\npayroll_day = 1\nclose_day = 1\nat = 00:00:00\n'
                      'timezone = "UTC"\ncatch_up_months = 1\n', encoding="utf-8")
    open_ledger(db_url).dispose()
    schedulers = [make_scheduler(db_url, str(config), every_seconds=0.2) for _ in range(2)]
    engine = make_engine(db_url)  # migrated by make_scheduler; alembic is not for threads
    for s in schedulers:
        s.start()
    try:
        deadline = clock.monotonic() + 30
        while clock.monotonic() < deadline:
            with engine.connect() as conn:
                if len([r for r in list_runs(conn) if r.outcome == "ok"]) >= 5:
                    break
            clock.sleep(0.2)
        clock.sleep(1.0)  # more ticks: nothing more may run
    finally:
        for s in schedulers:
            s.shutdown(wait=True)
    with engine.connect() as conn:
        records = list_runs(conn)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    counted = Counter((r.job, r.outcome) for r in records)
    assert counted == {("payroll", "ok"): 2, ("reconcile", "ok"): 2, ("close", "ok"): 1}, records
    assert len({(r.job, r.month) for r in records}) == 5
    assert "apscheduler_jobs" not in tables  # no job kept in the ledger: nothing pickled to load (issue 8)


def test_scheduler_once_runs_what_is_due_then_nothing(db_url: str, tmp_path: Path) -> None:
    open_ledger(db_url).dispose()
    config = tmp_path / "cae.toml"
    config.write_text(RATES + '[schedule]\npayroll_day = 1\nclose_day = 1\nat = 00:00:00\n'
                      'timezone = "UTC"\ncatch_up_months = 0\n', encoding="utf-8")
    first = cli("scheduler", "--once", "--db", db_url, "--config", str(config), "--json")["ran"]
    again = cli("scheduler", "--once", "--db", db_url, "--config", str(config), "--json")["ran"]
    assert [(r["job"], r["outcome"]) for r in first] == [("payroll", "ok"), ("reconcile", "ok")]
    assert again == []
    assert "Nothing is due." in cli("scheduler", "--once", "--db", db_url, "--config", str(config))
