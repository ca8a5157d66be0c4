"""The fiscal year's end: the opening entries (à-nouveaux) of the next year (DOMAIN.md, The fiscal year).

Once December of year Y is closed, nothing more can change in Y (closing is a
lock date: every month up to December is closed with it), so its balances are
final. `close_year` then posts one entry in the journal `AN`, dated 1 January
of Y+1: every balance-sheet account (classes 1 to 5) with its balance carried
forward per auxiliary (each member, each client, each supplier), and the
year's result (classes 6 and 7, not carried) to 120 when a profit, 129 when
a loss. It is recorded under an internal key (`engine.keys`), so running it
again changes nothing.

The à-nouveaux are balances, not movements: their lines carry their
auxiliary (the client, the supplier, the member) but belong to no member's
activity (`lines.member_id` is NULL). Everything a member or the staff read as
movements (statements, budgets, capital, what is due, the reconciliation)
sums the members' own lines across the years and so continues unchanged at
the year end; the trial balance and the FEC, which read balances, start the
new year from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import Connection, func, insert, select

from engine import chart
from engine.keys import internal_key
from engine.money import ZERO, from_cents
from engine.postings import Entry, Line
from ledger import schema
from ledger.balances import opening_of
from ledger.book_store import locked_through
from ledger.closing import number_entries
from ledger.locks import lock_books
from ledger.posting import post

JOURNAL = "AN"
BALANCE_SHEET = ("1", "2", "3", "4", "5")


class YearNotClosed(ValueError):
    """The year cannot be closed yet, with what to do first."""


@dataclass(frozen=True, slots=True)
class YearEnd:
    year: int
    opened_on: date
    lines: int
    result: Decimal  # the year's result: positive a profit (to 120), negative a loss (to 129)
    already: bool  # closed before: nothing was posted now

    def to_json(self) -> dict[str, object]:
        from engine.money import fmt

        return {"year": self.year, "opening_entries_on": self.opened_on.isoformat(), "lines": self.lines,
                "result": fmt(self.result), "result_account": chart.PROFIT if self.result >= 0 else chart.LOSS,
                "already_closed": self.already}


def year_key(year: int) -> str:
    return internal_key("close-year", f"{year:04d}")


def close_year(conn: Connection, year: int) -> YearEnd:
    """Post the opening entries of `year + 1`; refused until December of `year` is closed."""
    lock_books(conn, closing=True)
    opened_on = date(year + 1, 1, 1)
    done = conn.scalar(select(func.count()).select_from(schema.processed_events)
                       .where(schema.processed_events.c.event_id == year_key(year)))
    if done:
        return _summary(conn, year)
    lock = locked_through(conn)
    if lock is None or lock < f"{year:04d}-12":
        raise YearNotClosed(f"December {year} is not closed: close it first (`cae close --month {year}-12`)")
    if opening_of(conn, date(year, 12, 31)) is None and _earlier_year_open(conn, year):
        raise YearNotClosed(f"the year before {year} has not been closed: run `cae close-year --year "
                            f"{year - 1}` first")
    lines, result = _carried(conn, year)
    now = datetime.now(timezone.utc)
    conn.execute(insert(schema.processed_events), {
        "event_id": year_key(year), "fingerprint": "-" * 64, "type": "year.closed",
        "entry_count": 1 if lines else 0, "source": "cae close-year", "processed_at": now})
    if not lines:  # a year without a balance to carry: closed, with nothing to open
        return YearEnd(year, opened_on, 0, result, already=False)
    entry = Entry(JOURNAL, opened_on, f"AN-{year + 1}", opened_on, f"À-nouveaux {year + 1}", tuple(lines),
                  year_key(year))
    post(conn, [(entry, 0)], now)
    if lock >= f"{year + 1:04d}-01":  # January was closed already: the entry gets its number now
        number_entries(conn, opened_on)
    return YearEnd(year, opened_on, len(lines), result, already=False)


def _earlier_year_open(conn: Connection, year: int) -> bool:
    """Whether the ledger has entries before `year` whose year was not closed."""
    first = conn.scalar(select(func.min(schema.entries.c.entry_date)))
    return first is not None and first.year < year


def _carried(conn: Connection, year: int) -> tuple[list[Line], Decimal]:
    """The balance-sheet balances at the end of `year` per account and auxiliary, and the result."""
    lines, entries, members = schema.lines, schema.entries, schema.members
    end = date(year, 12, 31)
    opening = opening_of(conn, end)
    since = opening if opening is not None else date(1, 1, 1)
    aux = func.coalesce(lines.c.aux_id, lines.c.member_id)
    label = func.coalesce(lines.c.aux_label, members.c.name)
    query = (select(lines.c.account, aux, func.max(label), func.sum(lines.c.amount))
             .select_from(lines.join(entries, entries.c.id == lines.c.entry_id)
                          .outerjoin(members, members.c.member_id == lines.c.member_id))
             .where(entries.c.entry_date.between(since, end))
             .group_by(lines.c.account, aux).order_by(lines.c.account, aux))
    carried: list[Line] = []
    result = ZERO
    for account, code, name, cents in conn.execute(query):
        amount = from_cents(int(cents))
        if not amount:
            continue
        if account.startswith(BALANCE_SHEET):
            carried.append(Line(account, amount, None, code, name if code else None))
        else:
            result -= amount  # classes 6 and 7: income is a credit (negative), so a profit is positive
    if result:
        carried.append(Line(chart.PROFIT if result > 0 else chart.LOSS, -result))
    return carried, result


def _summary(conn: Connection, year: int) -> YearEnd:
    lines, entries = schema.lines, schema.entries
    rows = conn.execute(select(lines.c.account, lines.c.amount).join(entries, entries.c.id == lines.c.entry_id)
                        .where(entries.c.event_id == year_key(year))).all()
    result = -sum((from_cents(int(c)) for a, c in rows if a in (chart.PROFIT, chart.LOSS)), ZERO)
    return YearEnd(year, date(year + 1, 1, 1), len(rows), result, already=True)
