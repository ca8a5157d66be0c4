"""Members' statements for a month, read from the ledger (CONTRACT.md §3)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from engine.periods import last_day
from engine.statement import Statement, statement
from ledger import schema
from ledger.balances import member_sums


class UnknownMember(LookupError):
    pass


def statements(conn: Connection, month: str, member_ids: Iterable[str] | None = None) -> list[Statement]:
    """Statements of the given members, or of every member who had joined by the month's end."""
    m = schema.members
    query = select(m.c.member_id).where(m.c.joined_on <= last_day(month)).order_by(m.c.member_id)
    if member_ids is not None:
        wanted = list(member_ids)
        query = select(m.c.member_id).where(m.c.member_id.in_(wanted)).order_by(m.c.member_id)
        found = set(conn.scalars(query))
        missing = [x for x in wanted if x not in found]
        if missing:
            raise UnknownMember(f"unknown member {missing[0]!r}")
        ids = wanted
    else:
        ids = list(conn.scalars(query))
    in_month, to_date = member_sums(conn, month, ids if member_ids is not None else None)
    p = schema.payslips
    capped = dict(conn.execute(select(p.c.member_id, p.c.capped).where(p.c.month == month)).tuples().all())
    return [statement(mid, month, in_month.get(mid, {}), to_date.get(mid, {}), capped.get(mid))
            for mid in ids]
