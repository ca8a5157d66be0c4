"""The month's jobs as the staff and the scheduler run them: payroll, reconciliation, close.

Each is the ledger's own function (`run_payroll`, `month_reconciliation`,
`close_month`) run through `ledger.runs.run_job`, so that whoever starts it,
`cae payroll run` by hand or the scheduler on the 25th, it is recorded the
same way: who, when, the outcome in a line. A reconciliation whose checks
are not all ok is recorded as a warning, with the checks that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from engine.config import Rules
from engine.money import ZERO, fmt
from engine.payroll import Payslip
from engine.reconciliation import Reconciliation
from engine.schedule import CLOSE, PAYROLL, RECONCILE
from ledger.closing import close_month
from ledger.payroll_run import run_payroll
from ledger.reconciliation import month_reconciliation
from ledger.runs import Done, Run, run_job


def _payroll(month: str, rules: Rules) -> Callable[[Connection], Done[list[Payslip]]]:
    def work(conn: Connection) -> Done[list[Payslip]]:
        slips = run_payroll(conn, month, rules)
        capped = sum(1 for s in slips if s.capped)
        gross = sum((s.gross for s in slips), ZERO)
        cost = sum((s.employer_cost for s in slips), ZERO)
        return Done(f"{len(slips)} payslips ({capped} capped), gross {fmt(gross)}, "
                    f"employer cost {fmt(cost)}", slips)
    return work


def _reconcile(month: str) -> Callable[[Connection], Done[Reconciliation]]:
    def work(conn: Connection) -> Done[Reconciliation]:
        report = month_reconciliation(conn, month)
        failed = [c.name for c in report.checks if not c.ok]
        detail = f"{len(report.checks) - len(failed)}/{len(report.checks)} checks ok, " \
                 f"{len(report.members)} members"
        if failed:
            detail += "; not ok: " + "; ".join(failed)
        detail += "".join(f"; {c.name}: {c.detail}" for c in report.checks if c.attention)
        return Done(detail, report, warning=bool(failed))
    return work


def _close(month: str) -> Callable[[Connection], Done[int]]:
    def work(conn: Connection) -> Done[int]:
        numbered = close_month(conn, month)
        return Done(f"closed; {numbered} entries got their definitive number", numbered)
    return work


def payroll(engine: Engine, month: str, rules: Rules, *, origin: str,
            started_by: str) -> tuple[Run, list[Payslip]] | None:
    return run_job(engine, PAYROLL, month, _payroll(month, rules), origin=origin, started_by=started_by)


def reconciliation(engine: Engine, month: str, rules: Rules, *, origin: str,
                   started_by: str) -> tuple[Run, Reconciliation] | None:
    return run_job(engine, RECONCILE, month, _reconcile(month), origin=origin, started_by=started_by)


def close(engine: Engine, month: str, rules: Rules, *, origin: str,
          started_by: str) -> tuple[Run, int] | None:
    return run_job(engine, CLOSE, month, _close(month), origin=origin, started_by=started_by)


JOBS: dict[str, Callable[..., tuple[Run, Any] | None]] = {
    PAYROLL: payroll, RECONCILE: reconciliation, CLOSE: close}
