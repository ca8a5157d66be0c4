"""Running a month's payroll (DOMAIN.md rule 6): idempotent, in one transaction.

Each member's payslip is recorded under the key `payroll:<month>:<member>` in
the same table of processed event ids as the events, so running a month again
pays nobody twice and returns the same lines, and a member who became eligible
since (a late `salary.set`) is paid on the next run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import Connection, insert, select

from engine.config import Rules
from engine.money import from_cents, to_cents
from engine.payroll import Payslip, payroll_entry, payslip, requested_gross
from engine.periods import last_day
from engine.state import Member, Salary
from engine.statement import budget
from ledger import schema
from ledger.balances import member_sums
from ledger.book_store import locked_through
from ledger.payslips import current as current_payslips
from ledger.posting import post


class PayrollError(RuntimeError):
    pass


def run_payroll(conn: Connection, month: str, rules: Rules) -> list[Payslip]:
    lock = locked_through(conn)
    if lock is not None and month <= lock:
        existing = payslips(conn, month)
        if existing:
            return existing
        raise PayrollError(f"month {month} is closed: its payroll can no longer run")
    done = {row for row in conn.scalars(select(schema.payslips.c.member_id)
                                        .where(schema.payslips.c.month == month))}
    candidates = [m for m in members_on(conn, month) if m.member_id not in done]
    salaries = salaries_by_member(conn)
    due = {m.member_id: (m, gross) for m in candidates
           if (gross := requested_gross(m, month, salaries.get(m.member_id, []))) is not None}
    if due:
        _, to_date = member_sums(conn, month, list(due))
        rates = rules.at(last_day(month))
        now = datetime.now(timezone.utc)
        slips = [payslip(mid, month, gross, budget(to_date.get(mid, {})), rates)
                 for mid, (member, gross) in sorted(due.items())]
        entries = {s.member_id: payroll_entry(s, due[s.member_id][0].name) for s in slips}
        conn.execute(insert(schema.processed_events), [
            {"event_id": f"payroll:{month}:{s.member_id}", "fingerprint": "-" * 64,
             "type": "payroll.run", "entry_count": 1 if entries[s.member_id] else 0,
             "source": "cae payroll run", "processed_at": now} for s in slips])
        conn.execute(insert(schema.payslips), [_row(s) for s in slips])
        post(conn, [(e, 0) for e in entries.values() if e is not None], now)
    return payslips(conn, month)


def members_on(conn: Connection, month: str) -> list[Member]:
    """Every member who had joined by the month's end, with their status history."""
    m, s = schema.members, schema.member_statuses
    members = {r.member_id: Member(r.member_id, r.name, r.joined_on, [], r.associate_on, r.left_on)
               for r in conn.execute(select(m).where(m.c.joined_on <= last_day(month)))}
    for row in conn.execute(select(s.c.member_id, s.c.since, s.c.status).order_by(s.c.id)):
        if row.member_id in members:
            members[row.member_id].statuses.append((row.since, row.status))
    return list(members.values())


def salaries_by_member(conn: Connection) -> dict[str, list[Salary]]:
    t = schema.salaries
    found: dict[str, list[Salary]] = defaultdict(list)
    for r in conn.execute(select(t).order_by(t.c.id)):
        found[r.member_id].append(Salary(r.member_id, r.from_month, from_cents(r.gross), r.event_id))
    return found


def _row(s: Payslip) -> dict[str, object]:
    return {"month": s.month, "member_id": s.member_id, "requested_gross": to_cents(s.requested_gross),
            "gross": to_cents(s.gross), "employer_contributions": to_cents(s.employer_contributions),
            "employee_contributions": to_cents(s.employee_contributions), "net": to_cents(s.net),
            "budget_before": to_cents(s.budget_before), "capped": s.capped,
            "event_id": f"payroll:{s.month}:{s.member_id}"}


def payslips(conn: Connection, month: str) -> list[Payslip]:
    """The month's payslips as its books show them: corrected in the month, in their latest revision.

    (A closed month's payslip corrected later is shown as corrected by `cae payslip` and the
    payroll export, which read `ledger.payslips.current` without a date.)
    """
    shown = current_payslips(conn, month, as_of=last_day(month))
    return [found.slip for _, found in sorted(shown.items())]
