"""Reading what the month's reconciliation needs from the ledger (see `engine.reconciliation`).

The mutualisation check reads the ledger's own lines: the year's sales (706)
and direct costs (604) per member and month, each sale with the date of its
invoice (from `invoices`, or for a credit note from its invoice through
`documents`), and applies the rules to them (`engine.mutualisation`), never
reading the bases the pipeline keeps. A sociétariat recorded late for sales
whose months were closed by then is posted in the first open month; the check
counts it in its sales' months, so it agrees from that month on.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from engine import chart
from engine.config import Rates, Rules
from engine.money import ZERO, from_cents, to_cents
from engine.mutualisation import Scale, contribution_scale, societariat_scale, year_to_date
from engine.periods import last_day, parse_month
from engine.reconciliation import (ClientCredit, Facts, MemberLine, Reconciliation, Recomputed, UnpaidInvoice,
                                   reconcile)
from ledger import schema
from ledger.deadletters import pending_count
from ledger.kept_reads import reads_kept
from ledger.balances import member_sums, opening_of, span_lines, trial_totals
from ledger.bank_checks import bank_figures, net_pay_not_transferred
from ledger.payroll_run import members_on, payslips, requested_grosses
from ledger.rows import bulk, unindexed
from ledger.side_reads import Ask, side_reads
from ledger.statements import statements

UNPAID_AFTER = timedelta(days=60)
SHOWN = 20  # unpaid invoices named in the report


def month_reconciliation(conn: Connection, month: str, rules: Rules) -> Reconciliation:
    """The month's reconciliation, its reads kept for the one report (the statements' sums, payslips
    and members, read again by the checks), built without the cyclic collector walking the heap
    meanwhile (`ledger.rows.bulk`): it builds a few hundred thousand figures and records, and the
    collector's passes over them were 0.13 s of the payroll year's 1.8 s (issue 18, point 4).
    The trial balance's totals, the unpaid invoices and the clients' credits are SQLite's work
    nearly all of it, and read beside the rest where they can be (`ledger.side_reads`)."""
    with reads_kept(conn), bulk(), side_reads(conn) as beside:
        return _reconciliation(conn, month, rules, beside)


def _reconciliation(conn: Connection, month: str, rules: Rules, beside: Ask) -> Reconciliation:
    end = last_day(month)
    balanced = beside(lambda side: trial_totals(side, end))
    unpaid = beside(lambda side: _unpaid_invoices(side, month))
    credits = beside(_client_credits)
    slips = {s.member_id: s for s in payslips(conn, month)}
    lines = [MemberLine(s, slips.get(s.member_id)) for s in statements(conn, month)]
    members = members_on(conn, month)
    unpaid_members = sorted(set(requested_grosses(conn, month)) - set(slips))
    recomputed = _recomputed(conn, month, rules, {m.member_id: m.associate_on for m in members})
    late_pieces, pending = _late_pieces(conn, month), pending_count(conn)
    bank, not_transferred = bank_figures(conn, end), net_pay_not_transferred(conn, month)
    unpaid_shown, unpaid_count = unpaid()
    return reconcile(month, lines, Facts(
        _movements(conn, month), balanced(), unpaid_members, unpaid_shown, unpaid_count, late_pieces, pending,
        recomputed, credits(), bank, not_transferred, rules.at(end).budget_basis))


def _recomputed(conn: Connection, month: str, rules: Rules,
                associate_on: dict[str, date | None]) -> list[Recomputed]:
    """Each member's year-to-date contribution and sociétariat: posted, and from the rules.

    The year's lines of the four accounts concerned, summed per member and rate period by the
    database (issue 18, point 4). A sale counts in the sociétariat base when the invoice it
    comes from (its own, or the one a credit note credits) is dated on or after the day its
    member became an associate (rule 4); only an associate's sales look their invoice up.

    Per rate period, not per month: `year_to_date` telescopes over the months that share a
    scale, so the sum of a period's months' figures is its scale at the period's end less at its
    start, which one base per member and period gives to the cent (a year under one set of rates
    is one row per member, not twelve).
    """
    start, end = date(int(month[:4]), 1, 1), last_day(month)
    periods = _rate_periods(rules, month)
    rows = (_year_of_whole_ledger(conn, month, periods[0]) if len(periods) == 1 and _only_year(conn, start, end)
            else _year_by_period(conn, start, end, periods))
    bases: dict[str, dict[str, dict[str, Decimal]]] = {"contribution": defaultdict(dict),
                                                      "societariat": defaultdict(dict)}
    books: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for member_id, first, sales, associate, paid, shares in rows:
        if sales is not None:  # a member-period with sales or direct costs, whatever they sum to
            bases["contribution"][member_id][first] = -from_cents(int(sales))
        if associate is not None and associate_on.get(member_id) is not None:
            bases["societariat"][member_id][first] = -from_cents(int(associate))
        if paid is not None:
            books[(member_id, chart.CONTRIBUTION)] += from_cents(int(paid))
        if shares is not None:
            books[(member_id, chart.CAPITAL)] += from_cents(int(shares))
    found = []
    for what, account_of, sign, scale in (("contribution", chart.CONTRIBUTION, 1, contribution_scale),
                                          ("societariat", chart.CAPITAL, -1, societariat_scale)):
        rates_of = {k: rules.at(parse_month(k)) for k in periods}
        of_rates: dict[Rates, Scale] = {r: scale(r) for r in set(rates_of.values())}  # year_to_date telescopes
        scales = {k: of_rates[r] for k, r in rates_of.items()}
        for member_id in sorted(set(bases[what]) | {m for m, a in books if a == account_of}):
            rules_give = year_to_date(sorted(bases[what].get(member_id, {}).items()), month, scales.__getitem__)
            found.append(Recomputed(member_id, what, sign * books.get((member_id, account_of), ZERO), rules_give))
    return found


_YEAR_ACCOUNTS = (chart.REVENUE, chart.DIRECT_COSTS, chart.CONTRIBUTION, chart.CAPITAL)
Year = list[tuple[str, str, Any, Any, Any, Any]]  # member, period, sales and costs, counted sales, contribution, capital


def _amount(where: Any) -> Any:
    """Σ of the lines `where` holds, NULL where there is none: a member-period without any is left out."""
    return func.sum(case((where, schema.lines.c.amount)))


def _counted_sales(source: Any) -> tuple[Any, Any]:
    """(`source`, the lines joined to their entries and to the members, joined to what a sale
    counts from; the condition that a line is a sale counted in its member's sociétariat base:
    rule 4)."""
    lines, entries, invoices, documents = schema.lines, schema.entries, schema.invoices, schema.documents
    credited = invoices.alias()  # not sqlalchemy.orm's `aliased`: the ORM costs `cae` 35 ms to import
    sale, since = lines.c.account == chart.REVENUE, schema.members.c.associate_on
    joined = (source.outerjoin(invoices, sale & since.is_not(None) & (invoices.c.event_id == entries.c.event_id)
                               & (invoices.c.invoice_id == entries.c.piece_ref))
              .outerjoin(documents, sale & since.is_not(None) & invoices.c.invoice_id.is_(None)
                         & (documents.c.kind == "credit_note") & (documents.c.doc_id == entries.c.piece_ref)
                         & (documents.c.event_id == entries.c.event_id))
              .outerjoin(credited, credited.c.invoice_id == documents.c.invoice_id))
    return joined, sale & (func.coalesce(invoices.c.issued_on, credited.c.issued_on, entries.c.piece_date) >= since)


def _year_by_period(conn: Connection, start: date, end: date, periods: list[str]) -> Year:
    """One pass over the year's lines of the four accounts, each with its entry."""
    lines, entries = schema.lines, schema.entries
    posting = entries.c.entry_date
    period: Any = literal(periods[0])
    for first in reversed(periods[1:]):
        period = case((posting >= parse_month(first), first), else_=period)
    account = lines.c.account
    member = unindexed(conn, lines.c.member_id)  # grouped by it, and not read through its index
    joined, counted = _counted_sales(lines.join(entries, entries.c.id == lines.c.entry_id).outerjoin(
        schema.members, (account == chart.REVENUE) & (schema.members.c.member_id == lines.c.member_id)))
    query = (select(member, period, _amount(account.in_((chart.REVENUE, chart.DIRECT_COSTS))), _amount(counted),
                    _amount(account == chart.CONTRIBUTION), _amount(account == chart.CAPITAL))
             .select_from(joined)
             .where(_dated_between(conn, posting, start, end), entries.c.journal != "AN",
                    unindexed(conn, account).in_(_YEAR_ACCOUNTS), member.is_not(None))
             .group_by(member, *([period] if len(periods) > 1 else [])))
    return list(conn.execute(query).tuples())


def _only_year(conn: Connection, start: date, end: date) -> bool:
    """Whether every entry of the ledger is dated from `start` to `end`, none of them an à-nouveau:
    a cooperative's first year, reconciled in its last month so far. Three index lookups."""
    entries = schema.entries
    first = conn.scalar(select(func.min(entries.c.entry_date)))  # one each: SQLite looks either up, not both
    last = conn.scalar(select(func.max(entries.c.entry_date)))
    return first is None or (start <= _day(first) and _day(last) <= end and opening_of(conn, end) is None)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _year_of_whole_ledger(conn: Connection, month: str, first: str) -> Year:
    """The year's figures when the year is the whole ledger (`_only_year`) under one set of rates:
    each member's sums up to the month's end, as their statements read them (`member_sums`, from
    the index of their lines: revision 0017), no line joined to its entry. A sale counts from a
    date that is an invoice's or an entry's piece date, never before the earliest of them: an
    associate since that day or before has every sale counted, and only the sales of those who
    became associates later are looked up with their invoice (rule 4)."""
    lines, members, entries, invoices = schema.lines, schema.members, schema.entries, schema.invoices
    dates = [day for day in (conn.scalar(select(func.min(invoices.c.issued_on))),
                             conn.scalar(select(func.min(entries.c.piece_date)))) if day is not None]
    since = members.c.associate_on
    early = set(conn.scalars(select(members.c.member_id).where(since <= min(map(_day, dates))))) if dates else set()
    joined, counted = _counted_sales(lines.join(entries, entries.c.id == lines.c.entry_id))
    theirs = (select(func.sum(lines.c.amount)).select_from(joined)  # each through the index of their lines
              .where(lines.c.member_id == members.c.member_id, counted)  # `counted` names the account: once
              .scalar_subquery())
    later = {member_id: cents for member_id, cents in conn.execute(select(members.c.member_id, theirs).where(
        since.is_not(None), *([] if not dates else [since > min(map(_day, dates))]))).tuples() if cents is not None}

    def cents(sums: dict[str, Decimal], *accounts: str) -> int | None:  # None: no line in them
        found = [sums[a] for a in accounts if a in sums]
        return to_cents(sum(found, ZERO)) if found else None
    _, to_date = member_sums(conn, month)
    return [(member_id, first, cents(sums, chart.REVENUE, chart.DIRECT_COSTS),
             cents(sums, chart.REVENUE) if member_id in early else later.get(member_id),
             cents(sums, chart.CONTRIBUTION), cents(sums, chart.CAPITAL))
            for member_id, sums in to_date.items()]


def _rate_periods(rules: Rules, month: str) -> list[str]:
    """The first month of each run of the year's months, January to `month`, under the same rates."""
    months = [f"{month[:4]}-{m:02d}" for m in range(1, int(month[5:7]) + 1)]
    rates = [rules.at(parse_month(k)) for k in months]
    return [k for n, k in enumerate(months) if n == 0 or rates[n] != rates[n - 1]]


def _dated_between(conn: Connection, column: Any, start: date, end: date) -> Any:
    """`column BETWEEN start AND end` for entry dates, and on SQLite how to read them: when the
    span holds most of the ledger's entries, the lines in table order, each looking its entry up
    by id, cost half the CPU of the entries through their date index and each one's lines (issue
    18, point 4: 0.9 s against 2 s on the payroll year); for a span that is a small part of a
    ledger of many years, the date index reads only that part."""
    within = column.between(start, end)
    if conn.dialect.name != "sqlite":
        return within
    entries = schema.entries
    inside = conn.scalar(select(func.count()).select_from(entries).where(within))
    if 2 * (inside or 0) < (conn.scalar(select(func.count()).select_from(entries)) or 0):
        return within
    return unindexed(conn, column).between(start, end)


def _invoice_dues() -> Any:
    """Each invoice with what is due on it (TTC less its credit notes and payments, in cents) and
    what was applied to it from the client's credit, in two parts (issue 18, point 4): the
    invoices that have documents, from the documents grouped by invoice, and those that have
    none, whose due is their TTC, each found by one lookup in the documents' invoice index instead
    of a grouping of every document joined back to every invoice."""
    i, d = schema.invoices, schema.documents
    payment = d.c.kind == "payment"
    moved = (select(d.c.invoice_id,
                    func.sum(case((d.c.kind == "credit_note", d.c.amount), else_=0)).label("credited"),
                    func.sum(case((payment, d.c.amount), else_=0)).label("paid"),
                    func.sum(case((payment & d.c.from_credit.is_(True), d.c.amount), else_=0)).label("applied"))
             .where(d.c.invoice_id.is_not(None)).group_by(d.c.invoice_id).subquery())
    documented = (select(i.c.invoice_id, i.c.member_id, i.c.client, i.c.issued_on,
                         (i.c.ttc - func.coalesce(moved.c.credited, 0) - func.coalesce(moved.c.paid, 0)).label("due"),
                         func.coalesce(moved.c.applied, 0).label("applied"))
                  .select_from(moved.join(i, i.c.invoice_id == moved.c.invoice_id)))
    bare = (select(i.c.invoice_id, i.c.member_id, i.c.client, i.c.issued_on, i.c.ttc.label("due"),
                   literal(0).label("applied"))
            .where(~select(d.c.invoice_id).where(d.c.invoice_id == i.c.invoice_id).exists()))
    return documented, bare


def _client_credits(conn: Connection) -> list[ClientCredit]:
    """Per member and client: what their invoices were overpaid, less what was applied since (rule 9).

    An invoice without documents is overpaid only if its TTC is negative: the others are left
    out of the sums, where each would add nothing."""
    documented, bare = _invoice_dues()
    found = documented.union_all(bare.where(schema.invoices.c.ttc < 0)).subquery()
    excess = case((found.c.due < 0, -found.c.due), else_=0) - found.c.applied
    rows = conn.execute(select(found.c.member_id, found.c.client, func.sum(excess))
                        .group_by(found.c.member_id, found.c.client)
                        .having(func.sum(excess) > 0).order_by(found.c.member_id, found.c.client))
    return [ClientCredit(member_id, client, from_cents(int(cents))) for member_id, client, cents in rows]


def _movements(conn: Connection, month: str) -> dict[str, Decimal]:
    """The month's movements per account, the à-nouveaux left out (balances carried, not the
    month's movements): from the month's lines as the members' statements read them
    (`span_lines`, one read for both)."""
    cents: dict[str, int] = {}
    for _, account, carried, amount in span_lines(conn, parse_month(month), last_day(month)):
        if not carried:
            cents[account] = cents.get(account, 0) + amount
    return {account: from_cents(cents[account]) for account in sorted(cents)}


def _unpaid_invoices(conn: Connection, month: str) -> tuple[list[UnpaidInvoice], int]:
    """Invoices issued more than 60 days before the month's end with something still due.

    The oldest `SHOWN` of them, and how many there are: a large cooperative has
    thousands, and the report names the first ones.
    """
    i = schema.invoices
    before = i.c.issued_on < last_day(month) - UNPAID_AFTER
    documented, bare = _invoice_dues()
    found = documented.where(before).union_all(bare.where(before, i.c.ttc > 0)).subquery()
    late = (select(found.c.invoice_id, found.c.member_id, found.c.issued_on, found.c.due,
                   func.count().over().label("late"))  # counted before the limit: one query
            .where(found.c.due > 0).order_by(found.c.issued_on, found.c.invoice_id).limit(SHOWN))
    rows = conn.execute(late).all()
    return ([UnpaidInvoice(r.invoice_id, r.member_id, r.issued_on, from_cents(int(r.due))) for r in rows],
            int(rows[0].late) if rows else 0)


def _late_pieces(conn: Connection, month: str) -> list[str]:
    """Entries posted in this month for a document dated in an earlier, closed month."""
    e = schema.entries
    query = (select(e.c.piece_ref).distinct()
             .where(e.c.entry_date.between(parse_month(month), last_day(month)),
                    e.c.piece_date < parse_month(month))
             .order_by(e.c.piece_ref))
    return list(conn.scalars(query))


