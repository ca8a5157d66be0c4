"""Sums of ledger lines: per member and account (statements), per account (trial balance)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, case, func, or_, select, text

from engine.money import from_cents
from engine.statement import BUDGET_ACCOUNTS
from engine.periods import last_day, parse_month
from ledger import schema
from ledger.kept_reads import kept
from ledger.rows import unindexed

MemberSums = dict[str, dict[str, Decimal]]


def member_sums(conn: Connection, month: str,
                member_ids: Iterable[str] | None = None) -> tuple[MemberSums, MemberSums]:
    """(movements in the month, movements up to its end) per member and account, debit positive;
    up to its end, of the accounts a statement reads then (`engine.statement.BUDGET_ACCOUNTS`).

    Every member's are read once per report inside `ledger.kept_reads.reads_kept`: the
    reconciliation's statements and its check of the year both use them (issue 18, point 4).
    A member's other accounts up to the month's end (clients, VAT, social bodies, pay due: 60 %
    of the payroll year's 129,000 sums) were made figures for nothing: 0.03 s.
    """
    start, end = parse_month(month), last_day(month)
    if member_ids is not None:
        return sums_between(conn, start, end, member_ids, BUDGET_ACCOUNTS)
    return kept(conn, ("member_sums", month), lambda: sums_between(conn, start, end, accounts=BUDGET_ACCOUNTS))


def sums_between(conn: Connection, start: date, end: date, member_ids: Iterable[str] | None = None,
                 accounts: frozenset[str] | None = None) -> tuple[MemberSums, MemberSums]:
    """(movements from `start` to `end`, movements up to `end`) per member and account, debit positive;
    up to `end`, of `accounts` only if given.

    "Up to `end`" is the one reading of a member's books at a date: the lines of
    the entries dated on or before it, whatever the piece's own date.

    Read without joining every line to its entry: up to the month's end is
    everything, less the lines of the entries dated after it, and the month is
    the lines of the entries dated in it; both of those go through the index
    on entry dates. On a year of a large cooperative that is one scan of the
    lines instead of a lookup of each line's entry (seconds less, issue 4).
    """
    entries = schema.entries
    wanted = list(member_ids) if member_ids is not None else None
    month_sums: MemberSums = defaultdict(dict)
    to_date: MemberSums = defaultdict(dict)
    if wanted is not None and len(wanted) <= FEW:
        return _few_members(conn, wanted, start, end, accounts)
    for member_id, account, cents in _by_member(conn, wanted, accounts):
        to_date[member_id][account] = from_cents(int(cents))
    for member_id, account, cents in _by_member(conn, wanted, accounts, select(entries.c.id)
                                                .where(entries.c.entry_date > end)):
        to_date[member_id][account] -= from_cents(int(cents))
    if wanted is None:
        for member_id, by_account in _month_cents(conn, start, end).items():
            month_sums[member_id] = {account: from_cents(cents) for account, cents in by_account.items()}
        return month_sums, to_date
    for member_id, account, cents in _by_member(conn, wanted, None, select(entries.c.id)
                                                .where(entries.c.entry_date.between(start, end))):
        month_sums[member_id][account] = from_cents(int(cents))
    return month_sums, to_date


def _month_cents(conn: Connection, start: date, end: date) -> dict[str, dict[str, int]]:
    """Every member's lines of the entries dated from `start` to `end`, in cents per account."""
    found: dict[str, dict[str, int]] = {}
    for member_id, account, _, cents in span_lines(conn, start, end):
        if member_id is not None:
            theirs = found.setdefault(member_id, {})
            theirs[account] = theirs.get(account, 0) + cents
    return found


SpanLines = list[tuple[str | None, str, bool, int]]  # member (None: no member's), account, à-nouveau, cents


def span_lines(conn: Connection, start: date, end: date) -> SpanLines:
    """The lines of the entries dated from `start` to `end`, summed per member, account and whether
    their entry is an à-nouveau (journal AN), in cents.

    One read for two of the reconciliation's figures (issue 18, point 4): every member's movements
    of the month (`member_sums`, à-nouveaux included) and the ledger's movements per account
    (`ledger.reconciliation`, without them). Each went through the month's entries and looked
    each of their lines up in the table: on the payroll year, 0.17 s and 0.09 s, and 0.19 s for
    the two at once. Kept for the report inside `ledger.kept_reads.reads_kept`.
    """
    def read() -> SpanLines:
        lines, entries = schema.lines, schema.entries
        carried = entries.c.journal == "AN"
        query = (select(lines.c.member_id, lines.c.account, carried, func.sum(lines.c.amount))
                 .join(entries, entries.c.id == lines.c.entry_id)
                 .where(entries.c.entry_date.between(start, end))
                 .group_by(lines.c.member_id, lines.c.account, carried))
        return [(member_id, account, bool(an), int(cents))
                for member_id, account, an, cents in _driver_rows(conn, query)]
    return kept(conn, ("span_lines", start, end), read)


FEW = 20  # members read by a join of their own lines (a statement page), not by scanning every line


def _few_members(conn: Connection, member_ids: list[str], start: date, end: date,
                 accounts: frozenset[str] | None) -> tuple[MemberSums, MemberSums]:
    """`member_sums` for a few members: one query over their own lines and those lines' entries.

    A member's year is a few hundred lines; going through the entry-date index for
    every entry after the month (the other form) would read the whole cooperative's.
    """
    lines, entries = schema.lines, schema.entries
    in_month = func.sum(case((entries.c.entry_date >= start, lines.c.amount), else_=0))
    query = (select(lines.c.member_id, lines.c.account, in_month, func.sum(lines.c.amount))
             .join(entries, entries.c.id == lines.c.entry_id)
             .where(lines.c.member_id.in_(member_ids), entries.c.entry_date <= end)
             .group_by(lines.c.member_id, lines.c.account))
    month_sums: MemberSums = defaultdict(dict)
    to_date: MemberSums = defaultdict(dict)
    for member_id, account, month_cents, cents in conn.execute(query):
        if accounts is None or account in accounts:
            to_date[member_id][account] = from_cents(int(cents))
        if month_cents:
            month_sums[member_id][account] = from_cents(int(month_cents))
    return month_sums, to_date


def _by_member(conn: Connection, member_ids: list[str] | None, accounts: frozenset[str] | None,
               of_entries: Select[tuple[int]] | None = None) -> list[tuple[Any, ...]]:
    """Σ of the lines per member and account, of `accounts` only if given. Those are left out by
    the database, reading the members' index in its order (`unindexed`: through the account
    index SQLite took 1.07 s instead of 0.25 on the payroll year): 0.20 s, and 52,000 sums
    fetched instead of 129,000 (issue 18, point 4)."""
    lines = schema.lines
    query = (select(lines.c.member_id, lines.c.account, func.sum(lines.c.amount))
             .where(lines.c.member_id.is_not(None)).group_by(lines.c.member_id, lines.c.account))
    if accounts is not None:
        query = query.where(unindexed(conn, lines.c.account).in_(sorted(accounts)))
    if of_entries is not None:
        query = query.where(lines.c.entry_id.in_(of_entries))
    if member_ids is not None:
        query = query.where(lines.c.member_id.in_(member_ids))
    return _driver_rows(conn, query)


def _driver_rows(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    # The driver's own tuples, all at once: a row at a time cost twice as much, and SQLAlchemy's
    # rows (90,000 of them on a year of 10,000 members) as much again as the query (issue 18).
    result = conn.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


@dataclass(frozen=True, slots=True)
class AccountBalance:
    account: str
    label: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def opening_of(conn: Connection, day: date | None = None) -> date | None:
    """The first day of the fiscal year of `day` (else of the latest one) if it was opened with
    à-nouveaux (`ledger.year_end`), None if the books have no opening entries by then."""
    entries = schema.entries
    # Written as the index's own condition, not a parameter: so both databases see that the
    # partial index of the à-nouveaux answers it (revision 0017), instead of reading every entry.
    query = select(func.max(entries.c.entry_date)).where(text(schema.OPENING))
    if day is not None:
        query = query.where(entries.c.entry_date <= day)
    found: date | None = conn.scalar(query)
    if found is not None and not isinstance(found, date):
        found = date.fromisoformat(str(found))
    return found


def trial_balance(conn: Connection, through: date | None = None) -> list[AccountBalance]:
    """Every account that has moved, with its total debits and credits up to `through`.

    In a fiscal year opened with à-nouveaux, from them on (the earlier years are in them);
    otherwise since the first entry. Like `member_sums`: everything, less the lines of entries
    dated outside the span.
    """
    totals = _debits_credits(conn, through, schema.lines.c.account)
    labels = dict(conn.execute(select(schema.accounts.c.number, schema.accounts.c.label)).tuples().all())
    return [AccountBalance(a, labels[a], from_cents(d), from_cents(c))
            for (a,), (d, c) in sorted(totals.items()) if d or c]


def trial_totals(conn: Connection, through: date) -> tuple[Decimal, Decimal]:
    """The trial balance's total debits and credits up to `through` (the reconciliation's check that
    they are equal), summed without grouping the lines by account: 0.10 s instead of 0.13 on the
    payroll year's 1.5 million lines (issue 18, point 4)."""
    debit, credit = _debits_credits(conn, through).get((), [0, 0])
    return from_cents(debit), from_cents(credit)


def _debits_credits(conn: Connection, through: date | None, *by: Any) -> dict[tuple[Any, ...], list[int]]:
    """Σ debits and Σ credits in cents of the lines in `trial_balance`'s span, per value of `by`."""
    lines, entries = schema.lines, schema.entries
    debit = func.sum(case((lines.c.amount > 0, lines.c.amount), else_=0))
    credit = func.sum(case((lines.c.amount < 0, -lines.c.amount), else_=0))
    query = select(*by, debit, credit).group_by(*by)
    totals = {tuple(key): [int(d), int(c)] for *key, d, c in conn.execute(query) if d is not None}
    opening = opening_of(conn, through)
    outside = []
    if through is not None:
        outside.append(entries.c.entry_date > through)
    if opening is not None:
        outside.append(entries.c.entry_date < opening)
    if outside:
        left_out = query.where(lines.c.entry_id.in_(select(entries.c.id).where(or_(*outside))))
        for *key, d, c in conn.execute(left_out):
            if d is not None:
                totals[tuple(key)][0] -= int(d)
                totals[tuple(key)][1] -= int(c)
    return totals
