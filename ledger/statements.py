"""Members' statements for a month, read from the ledger (CONTRACT.md §3).

The cash budget (DOMAIN.md rule 12) is the statement's activity budget less
`ledger.receivables.receivables_ht` as at the month's last day: the same two
readings the payroll caps with on `budget_basis = "cash"` (`ledger.payroll_run.payroll_budgets`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import Connection, select

from engine import chart
from engine.periods import last_day
from engine.statement import Statement, statement
from ledger import schema
from ledger.members import NotYetJoined, unknown_member
from ledger.rows import day, raw_dates
from ledger.balances import member_sums
from ledger.payslips import current as current_payslips
from ledger.receivables import receivables_ht


def statements(conn: Connection, month: str, member_ids: Iterable[str] | None = None) -> list[Statement]:
    """Statements of the given members, or of every member who had joined by the month's end."""
    m = schema.members
    query = select(m.c.member_id).where(m.c.joined_on <= last_day(month)).order_by(m.c.member_id)
    if member_ids is not None:
        wanted = list(member_ids)
        query = select(m.c.member_id, *raw_dates(m.c.joined_on)).where(m.c.member_id.in_(wanted))
        joined = {member_id: day(on) for member_id, on in conn.execute(query).tuples()}
        missing = [x for x in wanted if x not in joined]
        if missing:
            raise unknown_member(conn, missing[0])
        early = [x for x in wanted if joined[x] > last_day(month)]
        if early:
            raise NotYetJoined("member.not_yet_joined", member=early[0], joined=joined[early[0]], month=month)
        ids = wanted
    else:
        ids = list(conn.scalars(query))
    in_month, to_date = member_sums(conn, month, ids if member_ids is not None else None)
    shown = current_payslips(conn, month, ids if member_ids is not None else None, as_of=last_day(month))
    capped = {mid: found.slip.capped for mid, found in shown.items()}
    owed = receivables_ht(conn, last_day(month), ids)  # rule 12: one definition, with the payroll's
    return [statement(mid, month, in_month.get(mid, {}), to_date.get(mid, {}),
                      capped.get(mid, _corrected(in_month.get(mid, {}))), owed[mid]) for mid in ids]


def _corrected(in_month: dict[str, Decimal]) -> bool | None:
    """A member with no payslip of the month whose pay moved in it: a closed month's correction
    posted here (rule 7). Its figures are the month's payroll, like any other, not capped."""
    return False if in_month.get(chart.GROSS_PAY) or in_month.get(chart.NET_PAY_DUE) else None
