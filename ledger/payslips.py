"""The payslips as they stand: the run's own, or the latest correction of it.

`payslips` rows are never rewritten; a correction (`cae payroll rerun`) adds a
`payslip_revisions` row. Everything that shows a payslip (statements, the
reconciliation, the payroll export, `cae payslip`) reads it through here, so
they all show the current one, and the history stays whole underneath.

`payroll_sums` reads a payslip's figures from the ledger itself: the lines of
the PA (payroll) journal whose piece is the member's payslip of the month,
wherever they were posted (a correction of a closed month is posted in the
next open one, with the payslip's date as its piece date).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, func, select

from engine.money import from_cents
from engine.payroll import Payslip
from engine.payslip_summary import PayFigures, PayslipSummary, Revision
from engine.periods import last_day
from ledger import schema
from ledger.kept_reads import kept
from ledger.members import unknown_member


@dataclass(frozen=True, slots=True)
class Recorded:
    """One version of a member's payslip for a month; revision 0 is the payroll run's own."""

    slip: Payslip
    revision: int
    event_id: str
    reason: str | None = None
    posted_on: date | None = None


def _slip(r: Row[Any]) -> Payslip:
    return Payslip(r.member_id, r.month, from_cents(r.requested_gross), from_cents(r.gross),
                   from_cents(r.employer_contributions), from_cents(r.employee_contributions),
                   from_cents(r.net), from_cents(r.budget_before), r.capped)


def history(conn: Connection, month: str, member_ids: Iterable[str] | None = None,
            as_of: date | None = None) -> dict[str, list[Recorded]]:
    """Every version of each member's payslip of the month, oldest first (posted by `as_of`)."""
    p, v = schema.payslips, schema.payslip_revisions
    first = select(p).where(p.c.month == month)
    revised = select(v).where(v.c.month == month).order_by(v.c.revision)
    if as_of is not None:
        revised = revised.where(v.c.posted_on <= as_of)
    if member_ids is not None:
        wanted = list(member_ids)
        first, revised = first.where(p.c.member_id.in_(wanted)), revised.where(v.c.member_id.in_(wanted))
    found: dict[str, list[Recorded]] = {}
    for row in conn.execute(first):
        found[row.member_id] = [Recorded(_slip(row), 0, row.event_id)]
    for row in conn.execute(revised):
        found[row.member_id].append(Recorded(_slip(row), row.revision, row.event_id, row.reason,
                                             row.posted_on))
    return found


def current(conn: Connection, month: str, member_ids: Iterable[str] | None = None,
            as_of: date | None = None) -> dict[str, Recorded]:
    """Each member's payslip of the month as it stands now, or as the books showed it on `as_of`.

    A closed month's correction is posted in a later month: as of the closed
    month's end, its payslip is still the one its own books hold.
    """
    if member_ids is not None:
        return {member_id: versions[-1] for member_id, versions in history(conn, month, member_ids, as_of).items()}
    # Every member's history read once per report (`ledger.kept_reads`), whatever the day: the
    # reconciliation's statements read the month's payslips as of its end and its net pay to
    # transfer as they stand (issue 18, point 4). A revision counts by `as_of` as `history` reads it.
    every = kept(conn, ("payslips", month), lambda: history(conn, month))
    return {member_id: [v for v in versions if _posted_by(v, as_of)][-1]
            for member_id, versions in every.items()}


def _posted_by(version: Recorded, as_of: date | None) -> bool:
    """Whether the books showed `version` on `as_of`: the run's own always, a correction from its entries' date."""
    return version.revision == 0 or as_of is None or (version.posted_on is not None and version.posted_on <= as_of)


def payroll_sums(conn: Connection, member_id: str, first: date, last: date) -> dict[str, Decimal]:
    """The member's payroll movements per account (debit positive) for payslips dated first..last."""
    lines, entries = schema.lines, schema.entries
    query = (select(lines.c.account, func.sum(lines.c.amount))
             .join(entries, entries.c.id == lines.c.entry_id)
             .where(entries.c.journal == "PA", lines.c.member_id == member_id,
                    entries.c.piece_date.between(first, last))
             .group_by(lines.c.account))
    return {account: from_cents(int(total)) for account, total in conn.execute(query)}


def payslip_summary(conn: Connection, month: str, member_id: str) -> PayslipSummary:
    """The member's payslip of the month, its figures from the ledger (see `engine.payslip_summary`)."""
    m = schema.members
    member = conn.execute(select(m).where(m.c.member_id == member_id)).first()
    if member is None:
        raise unknown_member(conn, member_id)
    versions = history(conn, month, [member_id]).get(member_id)
    if not versions:
        raise LookupError(f"no payslip for {member_id} in {month}: no payroll paid them that month")
    end = last_day(month)
    return PayslipSummary(
        member_id, member.name, month, member.associate_on is not None and member.associate_on <= end,
        versions[-1].slip, PayFigures.of(payroll_sums(conn, member_id, end, end)),
        PayFigures.of(payroll_sums(conn, member_id, date(end.year, 1, 1), end)),
        tuple(Revision(v.revision, v.reason or "", v.posted_on) for v in versions[1:] if v.posted_on))
