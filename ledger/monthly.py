"""The month's jobs as the staff and the scheduler run them: payroll, reconciliation, close.

Each is the ledger's own function (`run_payroll`, `month_reconciliation`,
`close_month`) run through `ledger.runs.run_job`, so that whoever starts it,
`cae payroll run` by hand or the scheduler on the 25th, it is recorded the
same way: who, when, the outcome in a line. A reconciliation whose checks
are not all ok is recorded as a warning, with the checks that failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine

from engine.config import Rules
from engine.messages import Message
from engine.money import ZERO
from engine.reconciliation import Reconciliation
from engine.schedule import CLOSE, PAYROLL, RECONCILE
from ledger.db import reading
from ledger.closing import ClosePlan, check_close, check_ended, close_month, plan_close
from ledger.payroll_run import PayrollRun, payroll as run_payroll
from ledger.reconciliation import month_reconciliation
from ledger.runs import MANUAL, SCHEDULED, Done, Run, by_hand, run_job
from ledger.year_end import YearEnd, close_year

CLOSE_YEAR = "close-year"


def _payroll(month: str, rules: Rules, today: date | None) -> Callable[[Connection], Done[PayrollRun]]:
    def work(conn: Connection) -> Done[PayrollRun]:
        run = run_payroll(conn, month, rules, today)
        slips = run.payslips
        capped = sum(1 for s in slips if s.capped)
        gross = sum((s.gross for s in slips), ZERO)
        cost = sum((s.employer_cost for s in slips), ZERO)
        stale = (Message.of("run.stale", count=len(run.stale), members=tuple(s.member_id for s in run.stale[:20])),)
        return Done(Message.of("run.payroll", count=len(slips), capped=capped, gross=gross, cost=cost,
                               posted=Message.of("run.posted", count=run.posted) if run.posted
                               else Message.of("run.nothing_posted"), stale=stale if run.stale else ()),
                    run, warning=bool(run.stale))
    return work


def _reconcile(month: str, rules: Rules) -> Callable[[Connection], Done[Reconciliation]]:
    def work(conn: Connection) -> Done[Reconciliation]:
        report = month_reconciliation(conn, month, rules)
        counts = Counter(c.outcome for c in report.checks)
        flagged = [Message.of("run.checks", outcome=Message.of(f"outcome.{outcome}"), checks=named)
                   for outcome in ("not_ok", "attention")
                   if (named := tuple(c.line() for c in report.checks if c.outcome == outcome))]
        return Done(Message.of("run.reconcile", ok=counts["ok"], attention=counts["attention"],
                               not_ok=counts["not_ok"], members=len(report.members), flagged=tuple(flagged)),
                    report, warning=bool(counts["not_ok"]))
    return work


def _close(month: str, today: date | None, without_payroll: bool,
           then_year: bool) -> Callable[[Connection], Done[int]]:
    def work(conn: Connection) -> Done[int]:
        check_ended(month, today or date.today())  # before planning: 9999-12 would plan 95,000 months
        check_close(plan_close(conn, month), today or date.today(), without_payroll)
        numbered = close_month(conn, month)
        opened = []
        if then_year and month.endswith("-12"):
            year = close_year(conn, int(month[:4]))
            opened.append(Message.of("run.year_opened", year=year.year + 1, lines=year.lines))
        return Done(Message.of("run.closed_without_payroll" if without_payroll else "run.closed", count=numbered,
                               opened=tuple(opened)), numbered)
    return work


def payroll(engine: Engine, month: str, rules: Rules, *, origin: str, started_by: str,
            today: date | None = None) -> tuple[Run, PayrollRun] | None:
    return run_job(engine, PAYROLL, month, _payroll(month, rules, today), origin=origin, started_by=started_by)


def reconciliation(engine: Engine, month: str, rules: Rules, *, origin: str, started_by: str,
                   today: date | None = None) -> tuple[Run, Reconciliation] | None:
    return run_job(engine, RECONCILE, month, _reconcile(month, rules), origin=origin, started_by=started_by)


def reconciliation_read(engine: Engine, month: str, rules: Rules) -> Reconciliation:
    """The month's reconciliation as it stands, recorded nowhere: what the staff's page, its CSV and
    the API show (issue 14, point 6). A run is recorded when someone runs it on purpose (the page's
    button, `cae reconcile`, the scheduler: `reconciliation`), not each time someone looks; the
    scheduler decides from those records whether the month's reconciliation is done."""
    with reading(engine) as conn:
        return month_reconciliation(conn, month, rules)


def close(engine: Engine, month: str, rules: Rules, *, origin: str, started_by: str,
          today: date | None = None, without_payroll: bool = False) -> tuple[Run, int] | None:
    """The close, refused if the month has not ended on `today` or its payroll left someone unpaid.

    The scheduler's close of December also closes the year (its books are final with December):
    the next year opens on its own. By hand, `cae close-year` does it.
    """
    return run_job(engine, CLOSE, month, _close(month, today, without_payroll, then_year=origin == SCHEDULED),
                   origin=origin, started_by=started_by)


def year_close(engine: Engine, year: int, *, started_by: str) -> tuple[Run, YearEnd]:
    """`cae close-year`: recorded like the month's jobs (job `close-year`, month YYYY-12)."""
    def work(conn: Connection) -> Done[YearEnd]:
        done = close_year(conn, year)
        return Done(Message.of("run.year_already_closed" if done.already else "run.year_closed", year=year + 1,
                               lines=done.lines, result=done.result), done)
    return by_hand(run_job(engine, CLOSE_YEAR, f"{year:04d}-12", work, origin=MANUAL, started_by=started_by))


def close_plan(engine: Engine, month: str) -> ClosePlan:
    """What `close` would lock and number, read without changing anything."""
    with engine.connect() as conn:
        return plan_close(conn, month)


JOBS: dict[str, Callable[..., tuple[Run, Any] | None]] = {
    PAYROLL: payroll, RECONCILE: reconciliation, CLOSE: close}
