"""What the pages and the API read, always for a caller: the access rule applied below the routes.

Every function here takes the `Caller` first and asks `web.access` before it
reads anything: a member's figures go through `member_scope` (another member's
id is "not found"), the books' and the governance's through `require`. The
routes only render what comes back, so a new page cannot forget the rule.
The figures themselves are the ledger's (`ledger.statements`,
`ledger.reconciliation`, `governance.results`…): the same as the CLI's.

The pages read most, a member's month and its statement, go through a `Reader`:
computed on a read-only connection and kept until the ledger changes
(`web.readcache`), always after the caller's access is checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, func, select, union
from starlette.concurrency import run_in_threadpool

from engine import chart
from engine.config import Rules
from engine.keys import PREFIX
from engine.money import ZERO, from_cents
from engine.payroll import Payslip, payslip
from engine.periods import last_day, parse_month
from engine.statement import Statement
from governance.config import GovernanceConfig
from governance.member_view import MemberAssembly, MemberTally, member_assembly, member_tally
from governance.membership import MemberView, members_view
from governance.records import MemberFacts
from governance.results import record_of_assembly, tally_resolution
from governance.sheet import AssemblyRecord
from governance.store import (UnknownAssembly, UnknownResolution, capital_held, load_meetings, load_members,
                              load_resolution, load_statuses)
from governance.tally import Tally
from ledger import schema
from ledger.schema import JsonField
from ledger.balances import AccountBalance, trial_balance
from ledger.db import reading
from ledger.invoices import with_due
from ledger.payroll_run import payroll_budgets
from ledger.receivables import Report, report as receivables_report
from ledger.payslips import PayslipSummary, payslip_summary
from ledger.members import UnknownMember
from ledger.statements import statements
from web.access import BOOKS, GOVERNANCE, Caller, Hidden, Role, member_scope, require
from web.readcache import MISSING, ReadCache

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Reader:
    """How the routes read what they show often: on a read-only connection, kept in `cache`."""

    engine: Engine
    cache: ReadCache

    def kept(self, key: Hashable, compute: Callable[[Connection], T]) -> T:
        """`compute`'s answer for `key`, computed now or kept since the ledger last changed."""
        return self.cache.get(key, lambda: self._read(compute))

    async def kept_async(self, key: Hashable, compute: Callable[[Connection], T]) -> T:
        """`kept`, for a coroutine: a kept answer at once, without the hop to a thread, when the
        ledger's change token is cheap to read (SQLite); otherwise, and to compute, in a thread."""
        if self.cache.watch.cheap:
            found = self.cache.peek(key)
            if found is not MISSING:
                return found  # type: ignore[return-value]
        return await run_in_threadpool(self.kept, key, compute)

    def _read(self, compute: Callable[[Connection], T]) -> T:
        with reading(self.engine) as conn:
            return compute(conn)


def _member_known(conn: Connection, member_id: str) -> MemberFacts:
    members = load_members(conn, [member_id])
    if member_id not in members:
        raise Hidden(f"no member {member_id}")
    return members[member_id]


def statement(conn: Connection, caller: Caller, member_id: str, month: str) -> Statement:
    """The member's état des comptes of the month (CONTRACT §3 statement)."""
    member_scope(caller, member_id)
    try:
        (found,) = statements(conn, month, [member_id])
    except UnknownMember:
        raise Hidden(f"no member {member_id}") from None
    return found


@dataclass(frozen=True, slots=True)
class Posting:
    """One entry of the member's month, as the statement's figures come from it."""

    date: date
    journal: str
    piece: str
    label: str
    amounts: dict[str, Decimal]  # account -> the member's movement, debit positive


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    invoice_id: str
    client: str
    issued_on: date
    ttc: Decimal
    credited: Decimal
    paid: Decimal
    due: Decimal

    @property
    def status(self) -> str:
        if self.due < 0:
            return "trop-perçu"
        if self.due == 0:
            return "soldée" if self.paid else "annulée"
        return "partiellement réglée" if self.paid or self.credited else "à régler"


def postings(conn: Connection, caller: Caller, member_id: str, month: str) -> list[Posting]:
    """The entries behind the month's figures: invoices, credit notes, payments, expenses,
    contribution, share, payslip; each with the member's amounts per account."""
    member_scope(caller, member_id)
    lines, entries = schema.lines, schema.entries
    rows = conn.execute(select(entries.c.id, entries.c.entry_date, entries.c.journal, entries.c.piece_ref,
                               entries.c.label, lines.c.account, lines.c.amount)
                        .join(lines, lines.c.entry_id == entries.c.id)
                        .where(lines.c.member_id == member_id,
                               entries.c.entry_date.between(parse_month(month), last_day(month)))
                        .order_by(entries.c.entry_date, entries.c.id, lines.c.id)).all()
    found: dict[int, Posting] = {}
    for entry_id, day, journal, piece, label, account, cents in rows:
        posting = found.setdefault(entry_id, Posting(day, journal, piece, label, {}))
        posting.amounts[account] = posting.amounts.get(account, ZERO) + from_cents(int(cents))
    return list(found.values())


def invoices(conn: Connection, caller: Caller, member_id: str, month: str) -> list[InvoiceLine]:
    """The member's invoices issued by the month's end that are of the month or still due."""
    member_scope(caller, member_id)
    query, due = with_due(member_id)
    i = schema.invoices
    rows = conn.execute(query.where(i.c.issued_on <= last_day(month),
                                    (i.c.issued_on >= parse_month(month)) | (due != 0))
                        .order_by(i.c.issued_on, i.c.invoice_id))
    return [InvoiceLine(r.invoice_id, r.client, r.issued_on, from_cents(int(r.ttc)), from_cents(int(r.credited)),
                        from_cents(int(r.paid)), from_cents(int(r.due))) for r in rows]


@dataclass(frozen=True, slots=True)
class MemberMonth:
    """A member's month as the statement page and its PDF show it."""

    statement: Statement
    postings: list[Posting]
    invoices: list[InvoiceLine]
    capital: MemberView


def member_month(reader: Reader, caller: Caller, member_id: str, month: str,
                 governance: GovernanceConfig) -> MemberMonth:
    """The statement, the entries and invoices behind it, and the capital at the month's end."""
    member_scope(caller, member_id)
    return reader.kept(("member_month", member_id, month), lambda conn: MemberMonth(
        statement(conn, caller, member_id, month), postings(conn, caller, member_id, month),
        invoices(conn, caller, member_id, month), capital(conn, caller, member_id, last_day(month), governance)))


async def statement_of(reader: Reader, caller: Caller, member_id: str, month: str) -> Statement:
    """`statement`, kept until the ledger changes: the API's most asked answer."""
    member_scope(caller, member_id)
    return await reader.kept_async(("statement", member_id, month),
                                   lambda conn: statement(conn, caller, member_id, month))


def last_active_month(conn: Connection, caller: Caller, member_id: str, until: date) -> str | None:
    """The latest month up to `until` in which the member's books moved, None if they never did: where
    a member's statement opens, rather than on an empty month (issue 15, point 3)."""
    member_scope(caller, member_id)
    lines, entries = schema.lines, schema.entries
    day = conn.scalar(select(func.max(entries.c.entry_date)).join(lines, lines.c.entry_id == entries.c.id)
                      .where(lines.c.member_id == member_id, entries.c.entry_date <= until))
    if day is None:
        return None
    return f"{day if isinstance(day, date) else date.fromisoformat(str(day)):%Y-%m}"


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: str
    revenue: Decimal
    contribution: Decimal
    societariat: Decimal
    gross: Decimal


def year(conn: Connection, caller: Caller, member_id: str, year: int) -> list[MonthFigures]:
    """Month by month of a year: revenue, contribution, share and gross salary (the year's chart)."""
    member_scope(caller, member_id)
    _member_known(conn, member_id)
    lines, entries = schema.lines, schema.entries
    month_text = entries.c.entry_date
    rows = conn.execute(select(month_text, lines.c.account, lines.c.amount)
                        .join(entries, entries.c.id == lines.c.entry_id)
                        .where(lines.c.member_id == member_id,
                               lines.c.account.in_((chart.REVENUE, chart.CONTRIBUTION, chart.CAPITAL,
                                                    chart.GROSS_PAY)),
                               entries.c.entry_date.between(date(year, 1, 1), date(year, 12, 31))))
    sums: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for day, account, cents in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        sums[(f"{day:%Y-%m}", account)] += from_cents(int(cents))
    return [MonthFigures(m, -sums[(m, chart.REVENUE)], sums[(m, chart.CONTRIBUTION)], -sums[(m, chart.CAPITAL)],
                         sums[(m, chart.GROSS_PAY)]) for m in (f"{year:04d}-{n:02d}" for n in range(1, 13))]


def payslips(conn: Connection, caller: Caller, member_id: str, year: int) -> list[PayslipSummary]:
    """The member's payslips of a year, as `cae payslip` gives each."""
    member_scope(caller, member_id)
    _member_known(conn, member_id)
    p = schema.payslips
    months = sorted(set(conn.scalars(select(p.c.month).where(p.c.member_id == member_id,
                                                             p.c.month.like(f"{year:04d}-%")))))
    return [payslip_summary(conn, month, member_id) for month in months]


def capital(conn: Connection, caller: Caller, member_id: str, on: date, governance: GovernanceConfig) -> MemberView:
    """The member's capital and shares, as the register shows them."""
    member_scope(caller, member_id)
    member = _member_known(conn, member_id)
    (view,) = members_view([member], load_statuses(conn, [member_id]), capital_held(conn, on, [member_id]), on,
                           governance.at(on).share_nominal)
    return view


def simulate(conn: Connection, caller: Caller, member_id: str, month: str, gross: Decimal, rules: Rules) -> Payslip:
    """"What salary can my budget pay": the payroll rule on a requested gross; nothing is posted."""
    member_scope(caller, member_id)
    _member_known(conn, member_id)
    budget = payroll_budgets(conn, month, [member_id], rules)[member_id]  # without the month's own payslip
    return payslip(member_id, month, gross, budget, rules.at(last_day(month)))


# -- governance ---------------------------------------------------------------------------------

def _convened(conn: Connection, caller: Caller, assembly_id: str) -> None:
    """A member sees an assembly they were convened to (in its electorate); the board and staff all."""
    if caller.role in GOVERNANCE:
        return
    assemblies, _ = load_meetings(conn)
    found = next((a for a in assemblies if a.assembly_id == assembly_id), None)
    member = load_members(conn, [caller.member_id or ""]).get(caller.member_id or "")
    if found is None or member is None or not member.associate_at(found.held_on):
        raise Hidden(f"no assembly {assembly_id}")


def tally(conn: Connection, caller: Caller, resolution_id: str, governance: GovernanceConfig) -> Tally | MemberTally:
    """A resolution's tally: whole for the staff and the board; for a member of its assembly's
    electorate, its counts and their own votes only (issue 14: nothing of other members)."""
    try:
        resolution = load_resolution(conn, resolution_id)
        _convened(conn, caller, resolution.assembly_id)
        found = tally_resolution(conn, resolution_id, governance)
    except (UnknownResolution, UnknownAssembly):
        raise Hidden(f"no resolution {resolution_id}") from None
    return found if caller.role in GOVERNANCE else member_tally(found, caller.member_id or "")


def assembly(conn: Connection, caller: Caller, assembly_id: str,
             governance: GovernanceConfig) -> AssemblyRecord | MemberAssembly:
    """An assembly's record: whole for the staff and the board (`sheet`); a member's view of it
    for a member it convened: counts, results and their own votes."""
    _convened(conn, caller, assembly_id)
    found = _record(conn, assembly_id, governance)
    return found if caller.role in GOVERNANCE else member_assembly(found, caller.member_id or "")


def sheet(conn: Connection, caller: Caller, assembly_id: str, governance: GovernanceConfig) -> AssemblyRecord:
    """The whole record, attendance sheet included: the staff's and the board's."""
    require(caller, GOVERNANCE)
    return _record(conn, assembly_id, governance)


def _record(conn: Connection, assembly_id: str, governance: GovernanceConfig) -> AssemblyRecord:
    try:
        return record_of_assembly(conn, assembly_id, governance)
    except UnknownAssembly:
        raise Hidden(f"no assembly {assembly_id}") from None


def assemblies(conn: Connection, caller: Caller) -> list[Any]:
    """The assemblies the caller may see, latest first."""
    found, _ = load_meetings(conn)
    if caller.role is Role.MEMBER:
        member = load_members(conn, [caller.member_id or ""]).get(caller.member_id or "")
        found = [a for a in found if member is not None and member.associate_at(a.held_on)]
    return sorted(found, key=lambda a: a.held_on, reverse=True)


def register(conn: Connection, caller: Caller, on: date, governance: GovernanceConfig) -> list[MemberView]:
    """The register of associates and members (board, staff)."""
    require(caller, GOVERNANCE)
    return members_view(load_members(conn).values(), load_statuses(conn), capital_held(conn, on), on,
                        governance.at(on).share_nominal)


# -- the books (staff) --------------------------------------------------------------------------

def balances(conn: Connection, caller: Caller, through: date | None) -> list[AccountBalance]:
    require(caller, BOOKS)
    return trial_balance(conn, through)


def events_of_month(conn: Connection, caller: Caller, month: str) -> dict[str, int]:
    """How many events of each kind concern `month`, by the date they bear (an invoice's day, a
    salary's first month, a status's start, a governance event's `occurred_at`…), not by the day
    they arrived: a month's events sent late, or all at once, count in their month (issue 15,
    point 4). Internal events (the payroll's) are not counted."""
    require(caller, BOOKS)
    first, last = parse_month(month), last_day(month)
    p, e, g = schema.processed_events, schema.entries, schema.governance_events
    dated = [select(e.c.event_id).where(e.c.entry_date.between(first, last)),
             select(g.c.event_id).where(JsonField(g.c.payload, "occurred_at").like(f"{month}-%")),
             select(schema.salaries.c.event_id).where(schema.salaries.c.from_month == month),
             select(schema.bank_matches.c.event_id).where(schema.bank_matches.c.month == month)]
    dated += [select(t.c.event_id).where(column.between(first, last)) for t, column in (
        (schema.member_statuses, schema.member_statuses.c.since), (schema.bank_statements, schema.bank_statements.c.to_date),
        (schema.member_bank_accounts, schema.member_bank_accounts.c.from_date))]
    ids = union(*dated).subquery()
    counts = dict(conn.execute(select(p.c.type, func.count()).join(ids, ids.c.event_id == p.c.event_id)
                               .where(p.c.event_id.not_like(f"{PREFIX}%")).group_by(p.c.type)).tuples().all())
    m = schema.members  # an association or a departure is a date of the member, not a row of its own
    for kind, column in (("member.became_associate", m.c.associate_on), ("member.left", m.c.left_on)):
        if found := conn.scalar(select(func.count()).select_from(m).where(column.between(first, last))):
            counts[kind] = found
    return counts


# -- the treasury (issue 16: DOMAIN.md rules 12, 13) -----------------------------------------------

def receivables(conn: Connection, caller: Caller, on: date, member_id: str | None = None) -> Report:
    """What clients owe as at `on` (`cae receivables`): every member's for the staff, one member's
    for that member (their unpaid invoices) or the staff."""
    if member_id is None:
        require(caller, BOOKS)
    else:
        member_scope(caller, member_id)
        _member_known(conn, member_id)
    return receivables_report(conn, on, None if member_id is None else [member_id])


@dataclass(frozen=True, slots=True)
class BankAccount:
    """A member's IBAN for their net pay (rule 13), as registered by `member.bank_account_set`."""

    member_id: str
    name: str
    iban: str | None
    bic: str | None
    since: date | None

    @property
    def masked(self) -> str:
        """What a list shows of it: country, check digits and the last four characters."""
        return "" if self.iban is None else f"{self.iban[:4]} •••• {self.iban[-4:]}"


def bank_accounts(conn: Connection, caller: Caller, member_id: str | None = None) -> list[BankAccount]:
    """Each member's IBAN in force today (the latest registered): all of them for the staff (whose
    lists show them masked), one member's for that member or the staff."""
    if member_id is None:
        require(caller, BOOKS)
    else:
        member_scope(caller, member_id)
        _member_known(conn, member_id)
    m, a = schema.members, schema.member_bank_accounts
    members = select(m.c.member_id, m.c.name).order_by(m.c.member_id)
    ibans = select(a.c.member_id, a.c.iban, a.c.bic, a.c.from_date).order_by(a.c.from_date, a.c.id)
    if member_id is not None:
        members, ibans = members.where(m.c.member_id == member_id), ibans.where(a.c.member_id == member_id)
    latest = {r.member_id: r for r in conn.execute(ibans)}
    return [BankAccount(r.member_id, r.name, *((latest[r.member_id].iban, latest[r.member_id].bic,
                                                latest[r.member_id].from_date) if r.member_id in latest
                                               else (None, None, None)))
            for r in conn.execute(members)]
