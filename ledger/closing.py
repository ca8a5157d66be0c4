"""Closing a month (DOMAIN.md rule 7): the lock, and the entries' definitive numbers.

Closing month M closes every month up to M (a lock date, as in most ledgers):
nothing can be posted into them any more, and an event dated in them is
posted on the first day of the first open month. At the close, each entry of
the closed months gets its definitive number: continuous per journal and in
date order, as the FEC requires; the database refuses any other numbering.
Entries of open months are numbered provisionally when exported.

A close cannot be undone, so it refuses what is surely a mistake (issue 8):
a month that has not ended, and a month whose payroll has not paid everyone
it should (unless told to close without it). `plan_close` says beforehand
what a close would lock and number, for the staff to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import Connection, func, insert, select

from engine.messages import Refused
from engine.payroll import requested_gross
from engine.periods import last_day, month_of, next_month, parse_month
from ledger import schema
from ledger.bulk import CHUNK
from ledger.book_store import locked_through
from ledger.locks import lock_books
from ledger.payroll_run import members_on, salaries_by_member


class CloseRefused(Refused):
    """A close that would surely be a mistake, with what to do instead."""


@dataclass(frozen=True, slots=True)
class ClosePlan:
    month: str
    months: tuple[str, ...]  # what the close locks, oldest first; empty when already closed
    to_number: int  # entries that would get their definitive number
    unpaid: dict[str, list[str]]  # month -> members its payroll should have paid and has not
    years_to_open: tuple[int, ...] = ()  # years whose books must be closed before a month after them

    def to_json(self) -> dict[str, object]:
        return {"month": self.month, "locks": list(self.months), "entries_to_number": self.to_number,
                "unpaid": self.unpaid, "years_to_close_first": list(self.years_to_open)}


def _first_month(conn: Connection, month: str) -> str:
    """The first month the close would lock: after the last closed one, or the ledger's first."""
    lock = locked_through(conn)
    if lock is not None:
        return next_month(lock)
    first_entry = conn.scalar(select(func.min(schema.entries.c.entry_date)))
    first_member = conn.scalar(select(func.min(schema.members.c.joined_on)))
    known = [month_of(d) for d in (first_entry, first_member) if d is not None]
    return min(known + [month])


def plan_close(conn: Connection, month: str) -> ClosePlan:
    lock = locked_through(conn)
    if lock is not None and month <= lock:
        return ClosePlan(month, (), 0, {})
    months = [_first_month(conn, month)]
    while months[-1] < month:
        months.append(next_month(months[-1]))
    # The entries to number: every entry dated in the months to close. None of them has a number
    # yet: numbers are given by the close alone, in the transaction that locks their months, and a
    # locked month takes no entry (the month_locks trigger). One count on the entry-date index.
    e = schema.entries
    to_number = conn.scalar(select(func.count()).select_from(e).where(
        e.c.entry_date.between(parse_month(months[0]), last_day(month)))) or 0
    return ClosePlan(month, tuple(months), int(to_number), _unpaid(conn, months), _years_to_open(conn, months))


def _years_to_open(conn: Connection, months: list[str]) -> tuple[int, ...]:
    """The years Y whose January Y+1 this close would lock before Y+1 was opened (à-nouveaux).

    Their opening entries are dated 1 January of Y+1: closing that January first would leave
    the year with nowhere to open (`ledger.year_end`).
    """
    e = schema.entries
    years = []
    for month in months:
        if month.endswith("-01"):
            year = int(month[:4]) - 1
            has_books = conn.scalar(select(func.count()).select_from(e).where(
                e.c.entry_date <= date(year, 12, 31))) or 0
            opened = conn.scalar(select(func.count()).select_from(e).where(
                e.c.journal == "AN", e.c.entry_date == date(year + 1, 1, 1))) or 0
            if has_books and not opened:
                years.append(year)
    return tuple(years)


def _unpaid(conn: Connection, months: list[str]) -> dict[str, list[str]]:
    """Per month, the members rule 6 says to pay who have no payslip of it."""
    # Who could be due a salary and has no payslip: asked of the database month by month (a
    # salary set by then, no payslip), so that the rule is applied to those few, not to every
    # member of every month (10,000 members, a year and a half of months on a first close).
    p, t = schema.payslips, schema.salaries
    candidates: dict[str, list[str]] = {}
    for month in months:
        found = list(conn.scalars(select(t.c.member_id).distinct().where(
            t.c.from_month <= month, t.c.member_id.not_in(select(p.c.member_id).where(p.c.month == month)))))
        if found:
            candidates[month] = found
    wanted = sorted({member_id for found in candidates.values() for member_id in found})
    if not wanted:
        return {}
    few = wanted if len(wanted) <= CHUNK else None  # named in the queries, or everyone read and sorted here
    members = {m.member_id: m for m in members_on(conn, months[-1], few)}
    salaries = salaries_by_member(conn, few)
    unpaid: dict[str, list[str]] = {}
    for month, found in candidates.items():
        missing = sorted(member_id for member_id in found if member_id in members
                         and requested_gross(members[member_id], month, salaries[member_id]) is not None)
        if missing:
            unpaid[month] = missing
    return unpaid


def check_ended(month: str, today: date) -> None:
    """A close is final: a month that has not ended (2030-01, 9999-12, this one) is surely a typo."""
    if last_day(month) >= today:
        raise CloseRefused("close.not_ended", month=month, today=today)


def check_close(plan: ClosePlan, today: date, without_payroll: bool = False) -> None:
    """Refuse a month that has not ended, and (unless `without_payroll`) members left unpaid."""
    check_ended(plan.month, today)
    if plan.years_to_open:
        year = plan.years_to_open[0]
        code = "close.year_open.december" if f"{year}-12" in plan.months else "close.year_open"
        raise CloseRefused(code, month=plan.month, year=year, next=year + 1)
    if plan.unpaid and not without_payroll:
        first = next(iter(plan.unpaid))
        names = ", ".join(plan.unpaid[first][:5]) + (" …" if len(plan.unpaid[first]) > 5 else "")
        raise CloseRefused("close.unpaid", month=first, count=len(plan.unpaid[first]), names=names)


def close_month(conn: Connection, month: str) -> int:
    """Lock `month` (and all before it); returns how many entries got their number."""
    lock_books(conn, closing=True)  # wait for postings in flight, hold new ones back
    lock = locked_through(conn)
    if lock is not None and month <= lock:
        return 0
    conn.execute(insert(schema.month_locks), {"month": month, "locked_at": datetime.now(timezone.utc)})
    return number_entries(conn, last_day(month))


def number_entries(conn: Connection, through: date) -> int:
    """Give every entry dated up to `through` that has none its definitive number."""
    e, n = schema.entries, schema.entry_numbers
    last = dict(conn.execute(select(n.c.journal, func.max(n.c.number)).group_by(n.c.journal)).tuples().all())
    rows = []
    today = datetime.now(timezone.utc).date()
    for entry_id, journal in conn.execute(
            select(e.c.id, e.c.journal).where(e.c.entry_date <= through, e.c.id.not_in(select(n.c.entry_id)))
            .order_by(e.c.journal, e.c.entry_date, e.c.id)):
        last[journal] = last.get(journal, 0) + 1
        rows.append({"journal": journal, "number": last[journal], "entry_id": entry_id, "validated_on": today})
    if rows:
        conn.execute(insert(n), rows)
    return len(rows)
