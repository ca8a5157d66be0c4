"""Reading what the month's reconciliation needs from the ledger (see `engine.reconciliation`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Connection, func, select

from engine.money import ZERO, from_cents
from engine.payroll import requested_gross
from engine.periods import last_day, parse_month
from engine.reconciliation import MemberLine, Reconciliation, UnpaidInvoice, reconcile
from ledger import schema
from ledger.balances import trial_balance
from ledger.invoices import with_due
from ledger.payroll_run import members_on, payslips, salaries_by_member
from ledger.statements import statements

UNPAID_AFTER = timedelta(days=60)
SHOWN = 20  # unpaid invoices named in the report


def month_reconciliation(conn: Connection, month: str) -> Reconciliation:
    end = last_day(month)
    slips = {s.member_id: s for s in payslips(conn, month)}
    lines = [MemberLine(s, slips.get(s.member_id)) for s in statements(conn, month)]
    tb = trial_balance(conn, end)
    balanced = (sum((r.debit for r in tb), ZERO), sum((r.credit for r in tb), ZERO))
    salaries = salaries_by_member(conn)
    unpaid_members = sorted(m.member_id for m in members_on(conn, month)
                            if m.member_id not in slips
                            and requested_gross(m, month, salaries.get(m.member_id, [])) is not None)
    unpaid, unpaid_count = _unpaid_invoices(conn, month)
    return reconcile(month, lines, _movements(conn, month), balanced, unpaid_members, unpaid,
                     _late_pieces(conn, month), _pending_dead_letters(conn), unpaid_count)


def _movements(conn: Connection, month: str) -> dict[str, Decimal]:
    lines, entries = schema.lines, schema.entries
    query = (select(lines.c.account, func.sum(lines.c.amount))
             .join(entries, entries.c.id == lines.c.entry_id)
             .where(entries.c.entry_date.between(parse_month(month), last_day(month)))
             .group_by(lines.c.account))
    return {account: from_cents(int(total)) for account, total in conn.execute(query)}


def _unpaid_invoices(conn: Connection, month: str) -> tuple[list[UnpaidInvoice], int]:
    """Invoices issued more than 60 days before the month's end with something still due.

    The oldest `SHOWN` of them, and how many there are: a large cooperative has
    thousands, and the report names the first ones.
    """
    query, due = with_due()
    i = schema.invoices
    late = query.where(i.c.issued_on < last_day(month) - UNPAID_AFTER, due > 0)
    count = conn.scalar(select(func.count()).select_from(late.subquery())) or 0
    rows = conn.execute(late.order_by(i.c.issued_on, i.c.invoice_id).limit(SHOWN))
    return [UnpaidInvoice(r.invoice_id, r.member_id, r.issued_on, from_cents(int(r.due))) for r in rows], count


def _late_pieces(conn: Connection, month: str) -> list[str]:
    """Entries posted in this month for a document dated in an earlier, closed month."""
    e = schema.entries
    query = (select(e.c.piece_ref).distinct()
             .where(e.c.entry_date.between(parse_month(month), last_day(month)),
                    e.c.piece_date < parse_month(month))
             .order_by(e.c.piece_ref))
    return list(conn.scalars(query))


def _pending_dead_letters(conn: Connection) -> int:
    d = schema.dead_letters
    return int(conn.scalar(select(func.count()).select_from(d).where(d.c.status == "pending")) or 0)
