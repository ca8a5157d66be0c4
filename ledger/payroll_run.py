"""Running a month's payroll (DOMAIN.md rule 6): idempotent, in one transaction.

Each member's payslip is recorded under the internal key of its month and
member (`engine.payroll.payslip_key`) in the same table of processed ids as
the events, so running a month again pays nobody twice and returns the same
lines, and a member who became eligible since (a late `salary.set`) is paid on
the next run. A run of a month already paid also says whose payslip, computed
again now, would pay differently: those are corrected with `cae payroll rerun`.

The budget a payslip may spend (`budgets_before_payroll`) is the member's
activity budget at the end of its month as the statement reads it, counting
every payroll already posted for any other month, whenever it was run: paying December, then
November, then October spends one budget once, not three times (issue 8). On `budget_basis =
"cash"` (DOMAIN.md rule 12) the cap is that budget less what clients still owe excluding VAT
(`payroll_budgets`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select

from engine import chart
from engine.config import Rules
from engine.corrections import same_pay
from engine.messages import Refused
from engine.money import from_cents, to_cents
from engine.payroll import Payslip, payroll_entry, payslip, payslip_key, requested_gross
from engine.periods import last_day, next_month, parse_month, posting_date
from engine.state import Member, Salary
from engine.statement import budget
from ledger import schema
from ledger.balances import sums_between
from ledger.book_store import locked_through
from ledger.bulk import chunks
from ledger.kept_reads import kept
from ledger.locks import lock_books
from ledger.payslips import current as current_payslips
from ledger.posting import post
from ledger.receivables import receivables_ht
from ledger.rows import bulk, day, maybe_day, raw_dates

_PAY_ACCOUNTS = (chart.GROSS_PAY, chart.EMPLOYER_CONTRIBUTIONS)


class PayrollError(Refused):
    """A payroll that cannot run (a month too far ahead, or closed), said in the catalogue's words."""


@dataclass(frozen=True, slots=True)
class PayrollRun:
    """The month's payslips, and those that computed again now would pay differently."""

    payslips: list[Payslip]
    stale: list[Payslip]  # the payslip as it would be now, for each that differs from the one paid
    posted: int = 0  # payslips this run posted: 0 when the month was already paid


def check_not_ahead(month: str, today: date) -> None:
    """A payroll more than one month ahead of today is surely a typo (issue 8)."""
    if month > next_month(f"{today.year:04d}-{today.month:02d}"):
        raise PayrollError("payroll.ahead", month=month, today=today)


def run_payroll(conn: Connection, month: str, rules: Rules, today: date | None = None) -> list[Payslip]:
    return payroll(conn, month, rules, today).payslips


def payroll(conn: Connection, month: str, rules: Rules, today: date | None = None) -> PayrollRun:
    check_not_ahead(month, today or date.today())
    lock_books(conn)
    lock = locked_through(conn)
    closed = lock is not None and month <= lock
    done = set(conn.scalars(select(schema.payslips.c.member_id).where(schema.payslips.c.month == month)))
    if closed and not done:
        raise PayrollError("payroll.closed", month=month)
    wanted = requested_grosses(conn, month)
    due = {mid: found for mid, found in wanted.items() if mid not in done}
    if due and not closed:
        budgets = payroll_budgets(conn, month, due, rules)
        rates = rules.at(last_day(month))
        now = datetime.now(timezone.utc)
        slips = [payslip(mid, month, gross, budgets[mid], rates) for mid, (_, gross) in sorted(due.items())]
        entries = {s.member_id: payroll_entry(s, due[s.member_id][0].name) for s in slips}
        conn.execute(insert(schema.processed_events), [
            {"event_id": payslip_key(month, s.member_id), "fingerprint": "-" * 64,
             "type": "payroll.run", "entry_count": 1 if entries[s.member_id] else 0,
             "source": "cae payroll run", "processed_at": now} for s in slips])
        conn.execute(insert(schema.payslips), [_row(s) for s in slips])
        post(conn, [(e, 0) for e in entries.values() if e is not None], now)
    shown = payslips(conn, month)
    return PayrollRun(shown, _stale(conn, month, shown, wanted, rules), len(due) if not closed else 0)


def _stale(conn: Connection, month: str, shown: list[Payslip], wanted: dict[str, tuple[Member, Decimal]],
           rules: Rules) -> list[Payslip]:
    """The payslips that, computed again from the ledger as it stands, would pay differently."""
    if not shown:
        return []
    budgets = payroll_budgets(conn, month, [s.member_id for s in shown], rules)
    rates = rules.at(last_day(month))
    fresh = [payslip(s.member_id, month, wanted[s.member_id][1] if s.member_id in wanted else Decimal(0),
                     budgets[s.member_id], rates) for s in shown]
    return [new for old, new in zip(shown, fresh) if not same_pay(old, new)]


def payroll_budgets(conn: Connection, month: str, member_ids: Iterable[str], rules: Rules) -> dict[str, Decimal]:
    """What caps each payslip of the month (rule 6): the activity budget before the payroll, or on
    `budget_basis = "cash"` (rule 12, in force on the month's last day) the cash budget: that same
    budget less what the member's clients still owe excluding VAT as at the month's last day."""
    budgets = budgets_before_payroll(conn, month, member_ids)
    if rules.at(last_day(month)).budget_basis != "cash":
        return budgets
    owed = receivables_ht(conn, posting_date(last_day(month), locked_through(conn)), budgets)  # same day
    return {member_id: amount - owed[member_id] for member_id, amount in budgets.items()}


def budgets_before_payroll(conn: Connection, month: str, member_ids: Iterable[str]) -> dict[str, Decimal]:
    """Rule 5 on the day the month's payslips post, without the month's own payroll (issue 19).

    One reading of the books for every figure a member sees: the ledger's lines
    dated on or before that day (`ledger.balances.sums_between`), as the
    statement reads them; so a payslip's budget is the statement's budget
    before that payroll, to the cent. The day is the month's last day, or for a
    closed month the first day of the first open month, where its correction
    and the documents that came late for it are posted (rule 7). The payroll
    accounts are the one exception: the payslips of every other month count
    whatever their date (a later month's payroll already run spends the same
    budget: issue 8), and none of this month's (a correction computes it afresh).
    """
    ids = sorted(set(member_ids))
    on = posting_date(last_day(month), locked_through(conn))
    _, to_date = sums_between(conn, parse_month(month), on, ids)
    pay = _sums(conn, ids, (schema.entries.c.journal == "PA", schema.lines.c.account.in_(_PAY_ACCOUNTS),
                            (schema.entries.c.piece_date < parse_month(month))
                            | (schema.entries.c.piece_date > last_day(month))))
    found = {}
    for member_id in ids:
        sums = dict(to_date.get(member_id, {}))
        for account in _PAY_ACCOUNTS:
            sums[account] = pay.get(member_id, {}).get(account, Decimal(0))
        found[member_id] = budget(sums)
    return found


def _sums(conn: Connection, member_ids: list[str], where: tuple[Any, ...]) -> dict[str, dict[str, Decimal]]:
    """The members' movements per account (debit positive) of the entries `where` selects."""
    lines, entries = schema.lines, schema.entries
    found: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for chunk in chunks(member_ids):
        query = (select(lines.c.member_id, lines.c.account, func.sum(lines.c.amount))
                 .join(entries, entries.c.id == lines.c.entry_id)
                 .where(lines.c.member_id.in_(chunk), *where)
                 .group_by(lines.c.member_id, lines.c.account))
        for member_id, account, cents in conn.execute(query):
            found[member_id][account] = from_cents(int(cents))
    return found


def members_on(conn: Connection, month: str, member_ids: Sequence[str] | None = None) -> list[Member]:
    """Every member who had joined by the month's end (or those of `member_ids` who had), with
    their status history in event order.

    Every member's are read once per report inside `ledger.kept_reads.reads_kept`: the
    reconciliation needs them for its check of the year and again for whom the payroll pays
    (issue 18, point 4). Shared answers: a caller must not change them.
    """
    if member_ids is None:
        return kept(conn, ("members_on", month), lambda: _members_on(conn, month, None))
    return _members_on(conn, month, member_ids)


def _members_on(conn: Connection, month: str, member_ids: Sequence[str] | None) -> list[Member]:
    m, s = schema.members, schema.member_statuses
    members_query = (select(m.c.member_id, m.c.name, *raw_dates(m.c.joined_on, m.c.associate_on, m.c.left_on))
                     .where(m.c.joined_on <= last_day(month)))
    statuses_query = select(s.c.member_id, *raw_dates(s.c.since), s.c.status).order_by(s.c.id)
    if member_ids is not None:
        members_query = members_query.where(m.c.member_id.in_(member_ids))
        statuses_query = statuses_query.where(s.c.member_id.in_(member_ids))
    with bulk():
        members = {member_id: Member(member_id, name, day(joined), [], maybe_day(associate), maybe_day(left))
                   for member_id, name, joined, associate, left in conn.execute(members_query).tuples()}
        for member_id, since, status in conn.execute(statuses_query).tuples():
            if member_id in members:
                members[member_id].statuses.append((day(since), status))
    return list(members.values())


def requested_grosses(conn: Connection, month: str,
                      member_ids: Sequence[str] | None = None) -> dict[str, tuple[Member, Decimal]]:
    """Each member under contract who asks a gross for the month, with it (rule 6): whom the payroll pays."""
    salaries = salaries_by_member(conn, member_ids)
    return {m.member_id: (m, gross) for m in members_on(conn, month, member_ids)
            if (gross := requested_gross(m, month, salaries.get(m.member_id, []))) is not None}


def salaries_by_member(conn: Connection, member_ids: Sequence[str] | None = None) -> dict[str, list[Salary]]:
    """Each member's `salary.set` in event order; every member's, or those of `member_ids`."""
    t = schema.salaries
    found: dict[str, list[Salary]] = defaultdict(list)
    query = select(t).order_by(t.c.id)
    if member_ids is not None:
        query = query.where(t.c.member_id.in_(member_ids))
    for r in conn.execute(query):
        found[r.member_id].append(Salary(r.member_id, r.from_month, from_cents(r.gross), r.event_id))
    return found


def _row(s: Payslip) -> dict[str, object]:
    return {"month": s.month, "member_id": s.member_id, "requested_gross": to_cents(s.requested_gross),
            "gross": to_cents(s.gross), "employer_contributions": to_cents(s.employer_contributions),
            "employee_contributions": to_cents(s.employee_contributions), "net": to_cents(s.net),
            "budget_before": to_cents(s.budget_before), "capped": s.capped,
            "event_id": payslip_key(s.month, s.member_id)}


def payslips(conn: Connection, month: str) -> list[Payslip]:
    """The month's payslips as its books show them: corrected in the month, in their latest revision.

    (A closed month's payslip corrected later is shown as corrected by `cae payslip` and the
    payroll export, which read `ledger.payslips.current` without a date.)
    """
    shown = current_payslips(conn, month, as_of=last_day(month))
    return [found.slip for _, found in sorted(shown.items())]
