"""Sums of ledger lines: per member and account (statements), per account (trial balance)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, case, func, select

from engine.money import from_cents
from engine.periods import last_day, parse_month
from ledger import schema

MemberSums = dict[str, dict[str, Decimal]]


def member_sums(conn: Connection, month: str,
                member_ids: Iterable[str] | None = None) -> tuple[MemberSums, MemberSums]:
    """(movements in the month, movements up to its end) per member and account, debit positive."""
    lines, entries = schema.lines, schema.entries
    start, end = parse_month(month), last_day(month)
    in_month = func.sum(case((entries.c.entry_date >= start, lines.c.amount), else_=0))
    query = (select(lines.c.member_id, lines.c.account, in_month, func.sum(lines.c.amount))
             .join(entries, entries.c.id == lines.c.entry_id)
             .where(entries.c.entry_date <= end, lines.c.member_id.is_not(None))
             .group_by(lines.c.member_id, lines.c.account))
    if member_ids is not None:
        query = query.where(lines.c.member_id.in_(list(member_ids)))
    month_sums: MemberSums = defaultdict(dict)
    to_date: MemberSums = defaultdict(dict)
    for member_id, account, month_cents, total_cents in conn.execute(query):
        month_sums[member_id][account] = from_cents(int(month_cents))
        to_date[member_id][account] = from_cents(int(total_cents))
    return month_sums, to_date


@dataclass(frozen=True, slots=True)
class AccountBalance:
    account: str
    label: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def trial_balance(conn: Connection, through: date | None = None) -> list[AccountBalance]:
    """Every account that has moved, with its total debits and credits up to `through`."""
    lines, entries, accounts = schema.lines, schema.entries, schema.accounts
    debit = func.sum(case((lines.c.amount > 0, lines.c.amount), else_=0))
    credit = func.sum(case((lines.c.amount < 0, -lines.c.amount), else_=0))
    query = (select(lines.c.account, accounts.c.label, debit, credit)
             .join(entries, entries.c.id == lines.c.entry_id)
             .join(accounts, accounts.c.number == lines.c.account)
             .group_by(lines.c.account, accounts.c.label).order_by(lines.c.account))
    if through is not None:
        query = query.where(entries.c.entry_date <= through)
    return [AccountBalance(a, label, from_cents(int(d)), from_cents(int(c)))
            for a, label, d, c in conn.execute(query)]
