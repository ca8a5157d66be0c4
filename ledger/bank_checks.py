"""The bank as the month's reconciliation and close check it (rule 11, CONTRACT.md §5).

Apart from `ledger.treasury`, which processes and matches bank statements through the events'
models (pydantic) and the rules: `cae reconcile` and `cae close` only read, and importing the
writers cost each of them a tenth of a second of start-up (issue 18, point 4).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, and_, func, literal, select, union

from engine import chart
from engine.money import ZERO, from_cents
from engine.reconciliation import BankAccountFigures
from ledger import payslips, schema
from ledger.bulk import chunks


def payment_key(account: str, line_ref: str, part: int | None = None) -> str:
    """The `documents` id of the payment a bank line makes of an invoice; each invoice of a split
    line is a payment of its own, numbered by its part (from 1), so that two invoices paid by one
    line are not one document recorded twice."""
    return f"BQ-{account}-{line_ref}" + ("" if part is None else f"-{part}")


def bank_figures(conn: Connection, end: date) -> list[BankAccountFigures]:
    """Each account's last statement ending by `end`, against what the ledger posted for its lines.

    The ledger has one 512 for every account; what is this account's in it is
    found through its lines: the entries posted from them (piece: the line's
    reference, or `BQ-<account>-<line>` for an invoice's payment) and the
    `payment.received` a line was matched to (piece: the payment's id).

    Three queries whatever the number of accounts and lines (issue 18, point 4: it was three per
    account, and one more per 900 of its lines, each reading the bank journal's entries again):
    each account's first and last statements (window functions), the lines up to the last, and
    the bank journal's 512 per piece, for the pieces of any account's lines.
    """
    s, b, m = schema.bank_statements, schema.bank_lines, schema.bank_matches
    last = func.row_number().over(partition_by=s.c.account, order_by=(s.c.to_date.desc(), s.c.statement_id.desc()))
    first = func.row_number().over(partition_by=s.c.account, order_by=(s.c.from_date, s.c.statement_id))
    ranked = (select(s.c.account, s.c.closing_balance, s.c.to_date, last.label("last"))
              .where(s.c.to_date <= end).subquery())
    lasts = {r.account: r for r in conn.execute(select(ranked).where(ranked.c.last == 1).order_by(ranked.c.account))}
    if not lasts:
        return []
    opened = select(s.c.account, s.c.opening_balance, first.label("first")).subquery()
    openings = dict(conn.execute(select(opened.c.account, opened.c.opening_balance)
                                 .where(opened.c.first == 1)).tuples().all())
    until = ranked.alias("until")
    lines = conn.execute(select(b.c.account, b.c.line_ref, m.c.kind, m.c.payment_id, m.c.detail).select_from(
        b.join(until, and_(until.c.account == b.c.account, until.c.last == 1))
        .outerjoin(m, and_(m.c.account == b.c.account, m.c.line_ref == b.c.line_ref)))
        .where(b.c.booked_on <= until.c.to_date)).all()
    pieces: dict[str, set[str]] = {iban: set() for iban in lasts}
    unmatched = dict.fromkeys(lasts, 0)
    for r in lines:
        pieces[r.account] |= {payment_key(r.account, r.line_ref), r.line_ref}
        if r.kind == "payment" and r.payment_id:
            pieces[r.account].add(r.payment_id)
        if r.kind == "split":  # each invoice of a split, its payment
            pieces[r.account] |= {part["payment_id"] for part in json.loads(r.detail) if part.get("payment_id")}
        unmatched[r.account] += r.kind is None
    split = {p for found in pieces.values() for p in found} - {p for r in lines for p in (r.line_ref, r.payment_id,
                                                                                      payment_key(r.account, r.line_ref))}
    posted = _bank_movements(conn, split)
    return [BankAccountFigures(iban, from_cents(row.closing_balance), row.to_date,
                               from_cents(int(openings.get(iban) or 0) + sum(posted.get(p, 0) for p in pieces[iban])),
                               unmatched[iban]) for iban, row in lasts.items()]


def _bank_movements(conn: Connection, split: set[str]) -> dict[str, int]:
    """The bank journal's 512 movements per piece, for the pieces a bank line can have: its own, the
    payment it was matched to, and `split`, the payments of the lines split across invoices (their
    ids are in the match's detail, a few: the staff make splits by hand)."""
    e, li, b, m = schema.entries, schema.lines, schema.bank_lines, schema.bank_matches
    piece = e.c.piece_ref
    of_lines = union(select(b.c.line_ref), select(literal("BQ-") + b.c.account + literal("-") + b.c.line_ref),
                     select(m.c.payment_id).where(m.c.kind == "payment", m.c.payment_id.is_not(None)))
    posted = select(piece, func.sum(li.c.amount)).join(e, e.c.id == li.c.entry_id).where(
        e.c.journal == "BQ", li.c.account == chart.BANK).group_by(piece)
    found = dict(conn.execute(posted.where(piece.in_(of_lines))).tuples().all())
    for chunk in chunks(sorted(split)):
        found.update(conn.execute(posted.where(piece.in_(chunk))).tuples().all())
    return found


def net_pay_not_transferred(conn: Connection, month: str) -> Decimal:
    """The month's net pay (payslips as they stand) neither in a transfers file nor settled by a bank line."""
    t, m = schema.transfer_orders, schema.bank_matches
    ordered = set(conn.scalars(select(t.c.member_id).where(t.c.month == month)))
    settled = set(conn.scalars(select(m.c.member_id).where(m.c.month == month)))
    return sum((found.slip.net for member_id, found in payslips.current(conn, month).items()
                if member_id not in ordered | settled), ZERO)


def unmatched_lines(conn: Connection, first: date, last: date) -> int:
    """Bank lines booked between the two days that are still waiting for the staff (`cae close` warns)."""
    b, m = schema.bank_lines, schema.bank_matches
    return int(conn.scalar(select(func.count()).select_from(
        b.outerjoin(m, and_(m.c.account == b.c.account, m.c.line_ref == b.c.line_ref)))
        .where(m.c.kind.is_(None), b.c.booked_on >= first, b.c.booked_on <= last)) or 0)
