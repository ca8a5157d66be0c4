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
from engine.money import ZERO, fmt
from engine.reconciliation import OUTCOMES, Reconciliation
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
        detail = f"{len(slips)} payslips ({capped} capped), gross {fmt(gross)}, employer cost {fmt(cost)}"
        detail += f"; {run.posted} posted by this run" if run.posted else "; nothing new posted"
        if run.stale:
            detail += (f"; {len(run.stale)} would now pay differently (`cae payroll rerun`): "
                       + ", ".join(s.member_id for s in run.stale[:20]))
        return Done(detail, run, warning=bool(run.stale))
    return work


def _reconcile(month: str, rules: Rules) -> Callable[[Connection], Done[Reconciliation]]:
    def work(conn: Connection) -> Done[Reconciliation]:
        report = month_reconciliation(conn, month, rules)
        counts = Counter(c.outcome for c in report.checks)
        detail = ", ".join(f"{counts[o]} {label}" for o, label in OUTCOMES.items()) + \
            f" ({len(report.members)} members)"
        for outcome in ("not_ok", "attention"):
            named = [f"{c.name}: {c.detail}" for c in report.checks if c.outcome == outcome]
            if named:
                detail += f"; {OUTCOMES[outcome]}: " + "; ".join(named)
        return Done(detail, report, warning=bool(counts["not_ok"]))
    return work


def _close(month: str, today: date | None, without_payroll: bool,
           then_year: bool) -> Callable[[Connection], Done[int]]:
    def work(conn: Connection) -> Done[int]:
        check_ended(month, today or date.today())  # before planning: 9999-12 would plan 95,000 months
        check_close(plan_close(conn, month), today or date.today(), without_payroll)
        numbered = close_month(conn, month)
        detail = (f"closed{' without payroll' if without_payroll else ''}; {numbered} entries got their "
                  "definitive number")
        if then_year and month.endswith("-12"):
            opened = close_year(conn, int(month[:4]))
            detail += f"; {opened.year + 1} opened with {opened.lines} à-nouveaux lines"
        return Done(detail, numbered)
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
        return Done(("already closed" if done.already else f"{year + 1} opened") +
                    f": {done.lines} à-nouveaux lines, result {fmt(done.result)}", done)
    return by_hand(run_job(engine, CLOSE_YEAR, f"{year:04d}-12", work, origin=MANUAL, started_by=started_by))


def close_plan(engine: Engine, month: str) -> ClosePlan:
    """What `close` would lock and number, read without changing anything."""
    with engine.connect() as conn:
        return plan_close(conn, month)


JOBS: dict[str, Callable[..., tuple[Run, Any] | None]] = {
    PAYROLL: payroll, RECONCILE: reconciliation, CLOSE: close}
