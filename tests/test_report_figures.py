"""The month's reports say what the ledger's rows say (issue 18, point 4: faster, the same figures).

The reconciliation and the trial balance were rewritten for large books (aggregates in SQL, joins
on keys, no query per account). Here their figures are compared, on both backends, with a plain
Python reading of the same rows: every line with its entry, every invoice with its documents,
summed and sorted in loops, on a cooperative of bench/events.py (credit notes, payments from the
bank and from the client's credit, bank statements, dead letters), its payroll, a closed month
with a late invoice, and a member who became an associate between an invoice and its credit note
(the credit note counts in the sociétariat only where its invoice did: DOMAIN.md rule 4).
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy import event as event_api

from bench.events import cooperative
from engine import chart
from engine.config import Rules
from engine.money import ZERO, fmt, from_cents
from engine.config import Tier, parse_rules
from engine.mutualisation import Scale, contribution_scale, month_figure, owed, owed_tiered, societariat_scale, year_to_date
from engine.periods import last_day, parse_month
from engine.receivables import outstanding_ht
from ledger import receivables, schema
from ledger.balances import trial_balance, trial_totals
from ledger.closing import close_month
from ledger.db import open_ledger
from ledger.monthly import reconciliation_read
from ledger.payroll_run import run_payroll
from ledger.reconciliation import _only_year, month_reconciliation
from streams.pipeline import Raw, process
from tests.conftest import statements_of, statements_sent
from tests.test_fairness import payment as paid
from tests.test_rates import TIERED
from tests.ops_support import credit_note, event, ingest, invoice, joined

MONTHS = ("2026-03", "2026-06")
# A statement's figure, the account it sums in the month, and its sign (debit positive).
MONTH_FIGURES = (("revenue_ht", chart.REVENUE, -1), ("vat_collected", chart.VAT_COLLECTED, -1),
                 ("direct_costs_ht", chart.DIRECT_COSTS, 1), ("other_expenses_ht", chart.OTHER_EXPENSES, 1),
                 ("contribution", chart.CONTRIBUTION, 1), ("societariat", chart.CAPITAL, -1))


@pytest.fixture
def books(engine: Engine, rules: Rules) -> Engine:
    raws = [Raw(line, "bench") for line in cooperative(1_600, seed=18)]
    for start in range(0, len(raws), 400):
        process(engine, raws[start:start + 400], rules)
    ingest(engine, rules, joined("Z", on="2026-01-05"),
           invoice("Z", "F-Z1", "2026-02-10", "1000.00"),
           event("member.became_associate", member_id="Z", on="2026-03-01"),
           credit_note("Z", "A-Z1", "F-Z1", "2026-03-10", "400.00"),  # counts where F-Z1 did: not at all
           invoice("Z", "F-Z2", "2026-03-15", "2000.00"),
           paid("Z", "P-Z2", "F-Z2", "2026-03-20", "2600.00"),  # 200.00 over: the client's credit (rule 9)
           invoice("Z", "F-Z3", "2026-04-02", "100.00"),
           paid("Z", "P-Z3", "F-Z3", "2026-04-03", "120.00", from_credit=True))  # 80.00 of it left
    with engine.begin() as conn:
        for month in ("2026-01", "2026-02"):
            run_payroll(conn, month, rules, date(2026, 12, 1))
        close_month(conn, "2026-02")
    ingest(engine, rules, invoice("Z", "F-Z0", "2026-02-20", "300.00"))  # posted on 2026-03-01: late
    with engine.begin() as conn:
        for month in ("2026-03", "2026-04", "2026-05", "2026-06"):
            run_payroll(conn, month, rules, date(2026, 12, 1))
    return engine


class Plain:
    """The ledger's rows, read whole and summed in Python."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as conn:
            self.entries = {r.id: r for r in conn.execute(select(schema.entries))}
            self.lines = [(r, self.entries[r.entry_id]) for r in conn.execute(select(schema.lines))]
            self.invoices = {r.invoice_id: r for r in conn.execute(select(schema.invoices))}
            self.documents = list(conn.execute(select(schema.documents)))
            self.members = {r.member_id: r for r in conn.execute(select(schema.members))}
        assert not any(e.journal == "AN" for e in self.entries.values())  # no year opened: no à-nouveaux

    def trial_balance(self, end: date) -> list[tuple[str, Decimal, Decimal]]:
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for line, entry in self.lines:
            if entry.entry_date <= end:
                sums[line.account][0 if line.amount > 0 else 1] += abs(line.amount)
        return [(a, from_cents(d), from_cents(c)) for a, (d, c) in sorted(sums.items()) if d or c]

    def movements(self, month: str, member_id: str | None = None) -> dict[str, Decimal]:
        return self._summed(lambda day: day.strftime("%Y-%m") == month, member_id)

    def movements_to(self, end: date, member_id: str) -> dict[str, Decimal]:
        return self._summed(lambda day: day <= end, member_id)

    def _summed(self, dated: Callable[[date], bool], member_id: str | None) -> dict[str, Decimal]:
        """The lines of the entries whose date is `dated`, of `member_id` if given, per account."""
        found: dict[str, int] = defaultdict(int)
        for line, entry in self.lines:
            if dated(entry.entry_date) and (member_id is None or line.member_id == member_id):
                found[line.account] += line.amount
        return {a: from_cents(c) for a, c in found.items()}

    def dues(self) -> dict[str, tuple[int, int, int]]:
        """Per invoice: TTC less its credit notes and payments, HT less its credit notes, TTC less them."""
        credited_ht: dict[str, int] = defaultdict(int)
        credited: dict[str, int] = defaultdict(int)
        paid: dict[str, int] = defaultdict(int)
        for d in self.documents:
            if d.kind == "credit_note":
                credited[d.invoice_id] += d.amount
                credited_ht[d.invoice_id] += sum(int(part[1]) for part in json.loads(d.rates))
            elif d.kind == "payment":
                paid[d.invoice_id] += d.amount
        return {i: (r.ttc - credited[i] - paid[i], r.ht - credited_ht[i], r.ttc - credited[i])
                for i, r in self.invoices.items()}

    def receivables_ht(self, member_id: str, on: date) -> Decimal:
        """Rule 12 as at `on`: each invoice posted by then, less its documents posted by then."""
        posted = {(e.event_id, e.piece_ref): e.entry_date for e in sorted(self.entries.values(),
                                                                          key=lambda e: e.entry_date, reverse=True)}
        total = ZERO
        for i, r in self.invoices.items():
            if r.member_id != member_id or posted[(r.event_id, i)] > on:
                continue
            ht, ttc, moved = r.ht, r.ttc, 0
            for d in self.documents:
                if d.invoice_id != i or d.kind not in ("credit_note", "payment"):
                    continue
                if posted.get((d.event_id, d.doc_id), d.issued_on) > on:
                    continue
                if d.kind == "credit_note":
                    ht -= sum(int(part[1]) for part in json.loads(d.rates))
                    ttc -= d.amount
                else:
                    moved += d.amount
            total += outstanding_ht(from_cents(ttc - moved), from_cents(ht), from_cents(ttc))
        return total

    def unpaid(self, month: str) -> str:
        late = sorted((r.issued_on, i, r.member_id, due) for i, r in self.invoices.items()
                      if r.issued_on < last_day(month) - timedelta(days=60) and (due := self.dues()[i][0]) > 0)
        if not late:
            return "none"
        return f"{len(late)} unpaid: " + ", ".join(f"{i} ({m}, {on}, {fmt(from_cents(due))} due)"
                                                   for on, i, m, due in late[:20]) + (", …" if len(late) > 20 else "")

    def late_pieces(self, month: str) -> str:
        start = parse_month(month)
        found = sorted({e.piece_ref for e in self.entries.values()
                        if e.entry_date.strftime("%Y-%m") == month and e.piece_date < start})
        return "none" if not found else f"{len(found)} posted here: " + ", ".join(found[:20]) + (
            ", …" if len(found) > 20 else "")

    def client_credits(self) -> str:
        applied: dict[str, int] = defaultdict(int)
        for d in self.documents:
            if d.kind == "payment" and d.from_credit:
                applied[d.invoice_id] += d.amount
        credit: dict[tuple[str, str], int] = defaultdict(int)
        for i, (due, _, _) in self.dues().items():
            r = self.invoices[i]
            credit[(r.member_id, r.client)] += max(-due, 0) - applied[i]
        found = [(m, c, cents) for (m, c), cents in sorted(credit.items()) if cents > 0]
        return "none" if not found else f"{len(found)}: " + ", ".join(
            f"{c} for {m} ({fmt(from_cents(cents))})" for m, c, cents in found[:20]) + (", …" if len(found) > 20 else "")

    def mutualisation(self, month: str, rules: Rules) -> tuple[int, list[str]]:
        """How many member-figures of the year the check compares, and those where posted ≠ the rules."""
        end, year = last_day(month), month[:4]
        invoice_of_credit = {d.event_id: d.invoice_id for d in self.documents if d.kind == "credit_note"}
        bases: dict[str, dict[str, dict[str, Decimal]]] = {"contribution": defaultdict(dict),
                                                          "societariat": defaultdict(dict)}
        posted: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for line, entry in self.lines:
            if line.member_id is None or entry.entry_date > end or str(entry.entry_date.year) != year:
                continue
            m, amount = entry.entry_date.strftime("%Y-%m"), from_cents(line.amount)
            if line.account in (chart.REVENUE, chart.DIRECT_COSTS):
                figures = bases["contribution"][line.member_id]
                figures[m] = figures.get(m, ZERO) - amount
            if line.account == chart.REVENUE:
                own = self.invoices.get(entry.piece_ref)
                credited = self.invoices.get(invoice_of_credit.get(entry.event_id, ""))
                counts_from = (own.issued_on if own is not None and own.event_id == entry.event_id
                               else credited.issued_on if credited is not None else entry.piece_date)
                since = self.members[line.member_id].associate_on
                if since is not None and counts_from >= since:
                    figures = bases["societariat"][line.member_id]
                    figures[m] = figures.get(m, ZERO) - amount
            if line.account == chart.CONTRIBUTION:
                posted[(line.member_id, "contribution")] += amount
            if line.account == chart.CAPITAL:
                posted[(line.member_id, "societariat")] -= amount
        compared, wrong = 0, []
        for what, scale in (("contribution", contribution_scale), ("societariat", societariat_scale)):
            for member_id in sorted(set(bases[what]) | {m for m, w in posted if w == what}):
                compared += 1
                given = year_to_date(sorted(bases[what].get(member_id, {}).items()), month,
                                     lambda k, scale=scale: scale(rules.at(parse_month(k))))
                if given != posted[(member_id, what)]:
                    wrong.append(f"{member_id} {what}")
        return compared, wrong


def test_the_trial_balance_is_the_sum_of_the_lines(books: Engine) -> None:
    plain = Plain(books)
    for month in (*MONTHS, "2026-12"):
        with books.connect() as conn:
            found = [(r.account, r.debit, r.credit) for r in trial_balance(conn, last_day(month))]
        assert found == plain.trial_balance(last_day(month)), month


def test_the_reconciliation_says_what_the_rows_say(books: Engine, rules: Rules) -> None:
    plain = Plain(books)
    for month in MONTHS:
        report = reconciliation_read(books, month, rules)
        checks = {c.name: c for c in report.checks}
        balance = plain.trial_balance(last_day(month))
        debit, credit = sum((d for _, d, _ in balance), ZERO), sum((c for _, _, c in balance), ZERO)
        assert checks["trial balance balanced"].detail == f"debit {fmt(debit)} = credit {fmt(credit)}"
        movements = plain.movements(month)
        for key, account, sign in MONTH_FIGURES:
            ledger = sign * movements.get(account, ZERO)
            assert checks[f"statements' {key} = account {account}"].detail == f"{fmt(ledger)} = {fmt(ledger)}"
        joined_by = {m for m, r in plain.members.items() if r.joined_on <= last_day(month)}
        assert [line.statement.member_id for line in report.members] == sorted(joined_by)
        for line in report.members:
            s, own = line.statement, plain.movements(month, line.statement.member_id)
            for key, account, sign in MONTH_FIGURES:
                assert getattr(s, key) == sign * own.get(account, ZERO), (month, s.member_id, key)
            assert s.receivables_ht == plain.receivables_ht(s.member_id, last_day(month)), (month, s.member_id)
        assert checks["no invoice unpaid after 60 days"].detail == plain.unpaid(month)
        assert checks["late events posted from a closed month"].detail == plain.late_pieces(month)
        assert checks["clients' credit balances (overpayments)"].detail == plain.client_credits()
        compared, wrong = plain.mutualisation(month, rules)
        assert wrong == []
        mutualisation = checks["contribution and sociétariat recomputed from the ledger"]
        assert (mutualisation.ok, mutualisation.detail) == (True, f"{compared} member-figures of the year agree")
    assert plain.late_pieces("2026-03") == "1 posted here: F-Z0"
    assert plain.unpaid("2026-06").split()[0].isdigit()  # the books have invoices unpaid after 60 days


@pytest.mark.parametrize("chunk", [1, 10**6])
@pytest.mark.parametrize("day", ["2026-06-30", "last"])
def test_what_clients_owe_is_the_same_read_whole_or_member_by_member(books: Engine, chunk: int, day: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Rule 12 per member, on both of `receivables_ht`'s paths: every member at once with every
    credit note's rates in one query (chunk 1: "many"), and members named a chunk at a time with
    the rates of their own credit notes (the payroll's and a statement's way); in the books' past,
    and on their last day (no entry after it: documents are not looked up by their entries' dates)."""
    monkeypatch.setattr(receivables, "CHUNK", chunk)
    plain = Plain(books)
    on = date.fromisoformat(day) if day != "last" else max(e.entry_date for e in plain.entries.values())
    with books.connect() as conn:
        found = receivables.receivables_ht(conn, on, plain.members)
    assert found == {m: plain.receivables_ht(m, on) for m in plain.members}
    assert any(found.values())


def test_the_mutualisation_check_of_a_first_year_reads_the_members_sums(books: Engine, rules: Rules) -> None:
    """December of a ledger whose every entry is in the year: the figures come from each member's
    sums, and only the associates who joined after the ledger's earliest invoice or piece date
    have their sales looked up (Z, an associate from March, has a February invoice that does not
    count, and its credit note). Then a member of the year before sends an invoice of December
    2025, posted in March (the months before were closed): its date is the earliest now. Both
    times the check agrees with the rules applied month by month to every line."""
    for late in (False, True):
        if late:
            ingest(books, rules, joined("Y", on="2025-11-03"), invoice("Y", "F-Y-2025", "2025-12-15", "500.00"))
        with books.connect() as conn:
            assert _only_year(conn, date(2026, 1, 1), last_day("2026-12"))
        compared, wrong = Plain(books).mutualisation("2026-12", rules)
        assert wrong == [] and compared > 0
        (check,) = [c for c in reconciliation_read(books, "2026-12", rules).checks
                    if c.name == "contribution and sociétariat recomputed from the ledger"]
        assert (check.ok, check.detail) == (True, f"{compared} member-figures of the year agree")


# From April, a tiered contribution (test_rates.py's scale): the year has two rate periods.
RATES_CHANGE_IN_APRIL = TIERED.replace("from = 2027-01-01", "from = 2026-04-01")


def test_the_mutualisation_check_follows_the_rates_of_each_month(engine: Engine) -> None:
    """The check sums the year per member and rate period, not per month: the sum of a period's
    month figures is its scale at its end less at its start. With rates that change in April
    (a tiered scale from then on), it must agree with the month-by-month reading of the rules,
    in a month of each period and at the year's end, credit notes and late associates included."""
    rules = parse_rules(RATES_CHANGE_IN_APRIL)
    raws = [Raw(line, "bench") for line in cooperative(1_200, seed=7)]
    for start in range(0, len(raws), 400):
        process(engine, raws[start:start + 400], rules)
    ingest(engine, rules, joined("Z", on="2026-01-05"), joined("IDLE", on="2026-01-05"),
           invoice("Z", "F-Z1", "2026-02-10", "30000.00"),
           event("member.became_associate", member_id="Z", on="2026-03-01"),
           credit_note("Z", "A-Z1", "F-Z1", "2026-05-10", "4000.00"),  # in the second period, for the first's invoice
           invoice("Z", "F-Z2", "2026-05-15", "20000.00"))
    plain = Plain(engine)
    for month in ("2026-03", "2026-06", "2026-12"):
        compared, wrong = plain.mutualisation(month, rules)
        assert wrong == [] and compared > 0
        (check,) = [c for c in reconciliation_read(engine, month, rules).checks
                    if c.name == "contribution and sociétariat recomputed from the ledger"]
        assert (check.ok, check.detail) == (True, f"{compared} member-figures of the year agree"), month


def _sales(engine: Engine, rules: Rules, invoices: int) -> None:
    """`invoices` invoices of 5 members in 2026, each with a credit note the next day."""
    raws = [joined(f"S{k}") for k in range(5)]
    for n in range(invoices):
        on = date(2026, 1, 6) + timedelta(days=n * 300 // invoices)
        raws += [invoice(f"S{n % 5}", f"F{n}", on.isoformat(), "1000.00"),
                 credit_note(f"S{n % 5}", f"A{n}", f"F{n}", (on + timedelta(days=1)).isoformat(), "100.00")]
    ingest(engine, rules, *raws)


def _sqlite_steps(engine: Engine, rules: Rules, month: str) -> int:
    """SQLite's virtual machine instructions (in thousands) to compute the month's reconciliation:
    the work its queries do, whatever the machine's load."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        raw.set_progress_handler(tick, 1000)  # type: ignore[union-attr]
        try:
            month_reconciliation(conn, month, rules)
        finally:
            raw.set_progress_handler(None, 1000)  # type: ignore[union-attr]
    return steps


def test_the_reconciliation_grows_with_the_books_not_with_their_square(tmp_path: Path, rules: Rules) -> None:
    """Each sale found its credit note by scanning every credit note (45–63 s on 60,000 events):
    twice the sales and credit notes must cost about twice the work, not four times.

    Counted in SQLite's instructions, not seconds, so that the machine's load cannot move it;
    PostgreSQL's planner joins these by hash, where the square never was."""
    work = []
    for size in (200, 400):
        engine = open_ledger(f"sqlite:///{tmp_path / f'sales-{size}.db'}")
        _sales(engine, rules, size)
        work.append(_sqlite_steps(engine, rules, "2026-12"))
        engine.dispose()
    assert work[1] / work[0] < 2.6, work


months = st.lists(st.tuples(st.sampled_from([f"2026-{n:02d}" for n in range(1, 13)]),
                            st.integers(-10**9, 10**9).map(from_cents)), max_size=30)
TIERS = (Tier(Decimal("40000"), Decimal("0.12")), Tier(Decimal("100000"), Decimal("0.08")), Tier(None, Decimal("0.05")))


@given(months=months, through=st.sampled_from([f"2026-{n:02d}" for n in range(1, 13)]),
       changes=st.sets(st.sampled_from([f"2026-{n:02d}" for n in range(2, 13)]), max_size=3))
def test_the_year_to_date_is_the_sum_of_the_month_figures(months: list[tuple[str, Decimal]], through: str,
                                                          changes: set[str]) -> None:
    """Rules 3 and 4: the year to date, carried month to month and telescoped over the months that
    share their rates, is Σ f(Y(M)) − f(Y(M−1)) as defined, whatever months the rates change in."""
    scales: list[Scale] = [lambda base: owed(Decimal("0.115"), base), lambda base: owed_tiered(TIERS, base),
                           lambda base: owed(Decimal("0.03"), base), lambda base: owed_tiered(TIERS[1:], base)]

    def scale_of(month: str) -> Scale:  # a new scale from each month of `changes` on
        return scales[sum(1 for c in changes if c <= month)]
    expected = sum((month_figure(months, k, scale_of(k)) for k in sorted({m for m, _ in months}) if k <= through),
                   ZERO)
    assert year_to_date(months, through, scale_of) == expected


def _statement(n: int) -> Raw:
    """A bank statement of a new account, one line of fees (CONTRACT.md §1, bank.statement_received)."""
    from schwifty import IBAN

    iban = str(IBAN.generate("FR", bank_code="3000600001", account_code=f"{9500 + n:011d}").compact)
    return event("bank.statement_received", account=iban, statement_id=f"S-NEW-{n}", opening_balance="100.00",
                 closing_balance="90.00", **{"from": "2026-06-02", "to": "2026-06-02"},
                 lines=[{"line_ref": f"N{n}", "booked_on": "2026-06-02", "value_on": "2026-06-02", "amount": "-10.00",
                         "counterparty_name": "Frais bancaires", "remittance": "Frais"}])


def _statements_run(engine: Engine, rules: Rules, month: str) -> int:
    with statements_sent(engine) as sent:
        reconciliation_read(engine, month, rules)
    return sent.statements


def test_the_reconciliation_asks_the_same_number_of_queries_whatever_the_bank_accounts(books: Engine,
                                                                                       rules: Rules) -> None:
    """Each bank account cost three queries and one more per 900 of its lines: no query per account now."""
    before = _statements_run(books, rules, "2026-06")
    ingest(books, rules, *(_statement(n) for n in range(3)))
    report = reconciliation_read(books, "2026-06", rules)
    assert len(report.bank) >= 3 + 8  # bench/events.py's eight accounts, and three more
    assert _statements_run(books, rules, "2026-06") == before


@given(cells=st.lists(st.text(st.sampled_from("abcdé 0123456789.-"), min_size=1, max_size=30), min_size=1, max_size=16),
       width=st.integers(30, 240))
def test_the_narrow_reconciliation_lays_pairs_out_as_rich_columns(cells: list[str], width: int) -> None:
    """`cae reconcile --all` on a narrow terminal: the same text as rich's Columns laid it out, to the space."""
    from rich.columns import Columns
    from rich.console import Console
    from rich.text import Text

    from cli.reconcile import pair_lines

    if max(len(c) for c in cells) > width:
        return  # rich cannot lay out a cell wider than the terminal (it divides by zero columns)
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(Columns([Text(c, no_wrap=True) for c in cells], padding=(0, 3)))
    assert "\n".join(pair_lines(cells, width, 3)) + "\n" == console.file.getvalue()  # type: ignore[attr-defined]


def test_the_narrow_reconciliation_prints_its_headings_bold_and_its_figures_plain(books: Engine, rules: Rules) -> None:
    from rich.console import Console

    import cli.reconcile as command

    report = reconciliation_read(books, "2026-06", rules)
    console = Console(width=80, file=io.StringIO(), force_terminal=True, color_system="standard")
    two = list(report.members[:2])
    for part in command._compact(report, two, command._printed(report, two)):
        console.print(part)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    first = report.members[0].statement.member_id
    assert f"\x1b[1m{first}\x1b[0m\nBudget before" in shown and "\x1b[1mTotal\x1b[0m\n" in shown


def _narrow(monkeypatch: pytest.MonkeyPatch, width: int, parts: Callable[[], list[Any]]) -> str:
    """What `cae reconcile --all` prints of `parts()` on a terminal `width` columns wide, in colour."""
    from rich.console import Console

    import cli.reconcile as command

    console = Console(width=width, file=io.StringIO(), force_terminal=True, color_system="standard")
    monkeypatch.setattr(command, "console", console)
    for part in parts():
        console.print(part)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("width", [200, 80, 41, 30, 22])
def test_the_narrow_reconciliation_prints_what_rich_printed_member_by_member(
        books: Engine, rules: Rules, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Laid out to fit, the members' blocks are written as rich's segments: the same bytes as each
    block printed as a rich text (bold heading, then its lines), styles included; at 22 columns a
    pair is wider than the terminal, and rich wraps it as before."""
    from rich.text import Text

    import cli.reconcile as command

    report = reconciliation_read(books, "2026-06", rules)
    shown = list(report.members)

    def by_rich() -> list[Any]:
        blocks = [(line.statement.member_id + (" (capped)" if line.payslip and line.payslip.capped else ""),
                   line.amounts()) for line in shown] + [("Total", report.totals)]
        return [Text(f"Reconciliation {report.month}", style="bold underline")] + [
            Text.assemble((heading, "bold"), "\n" + "\n".join(command.pair_lines(
                [f"{header} {fmt(amounts[key])}" for header, key in zip(command._HEADERS, command._ROW)], width, 3)))
            for heading, amounts in blocks]
    printed = command._printed(report, shown)
    assert _narrow(monkeypatch, width, lambda: command._compact(report, shown, printed)) == _narrow(monkeypatch, width, by_rich)


def test_the_narrow_reconciliation_is_not_wrapped_again_member_by_member(books: Engine, rules: Rules,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """rich looked through each member's block for where to wrap it, already laid out to fit: 2 s
    for the 10,000 members of the payroll year (issue 18, point 4). Only the title is looked at."""
    from rich.text import Text

    import cli.reconcile as command

    report = reconciliation_read(books, "2026-06", rules)
    wrapped = []
    wrap = Text.wrap
    monkeypatch.setattr(Text, "wrap", lambda self, *args, **kwargs: wrapped.append(1) or wrap(self, *args, **kwargs))
    every = list(report.members)
    _narrow(monkeypatch, 80, lambda: command._compact(report, every, command._printed(report, every)))
    assert len(report.members) > 5 and len(wrapped) == 1


def plans_of(engine: Engine, read: Callable[[], Any]) -> list[str]:
    """SQLite's plan of each SELECT that `read()` sends, its steps joined by " | "."""
    asked: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        asked.append((statement, parameters))
    event_api.listen(engine, "before_cursor_execute", seen)
    try:
        read()
    finally:
        event_api.remove(engine, "before_cursor_execute", seen)
    with engine.connect() as conn:
        return [" | ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
                for statement, parameters in asked if statement.lstrip().upper().startswith("SELECT")]


def test_the_trial_balance_reads_narrow_indexes_not_the_tables(tmp_path: Path, rules: Rules) -> None:
    """Revision 0017: the lines summed from an index in account order, the à-nouveaux from the
    partial index that holds only them (SQLite's own plans: what it reads, whatever the load)."""
    engine = open_ledger(f"sqlite:///{tmp_path / 'plans.db'}")
    _sales(engine, rules, 20)

    def read() -> None:
        with engine.connect() as conn:
            trial_balance(conn, date(2026, 6, 30))
    plans = plans_of(engine, read)
    engine.dispose()
    steps = [step for plan in plans for step in plan.split(" | ")]
    assert [step for step in steps if step.startswith("SCAN lines")] == [  # one pass, over the narrow index
        "SCAN lines USING COVERING INDEX ix_lines_account_amount"], plans
    assert any("ix_entries_opening" in step for step in steps), plans  # the lines after the day: looked up


def test_a_first_years_reconciliation_reads_every_members_lines_once(tmp_path: Path, rules: Rules) -> None:
    """The statements' sums up to the month's end are the year's figures when the ledger is one
    year: the check of the mutualisation takes them instead of reading every member's lines again
    (SQLite's own plans: one pass over the members' index, whatever the load)."""
    engine = open_ledger(f"sqlite:///{tmp_path / 'first-year.db'}")
    _sales(engine, rules, 20)
    plans = plans_of(engine, lambda: reconciliation_read(engine, "2026-12", rules))
    engine.dispose()
    every_member = [plan for plan in plans if "ix_lines_member_account_amount (member_id>?)" in plan]
    assert len(every_member) == 1, every_member


def test_the_reconciliation_reads_the_members_and_the_payslips_once(books: Engine, rules: Rules) -> None:
    """The members (for the check of the year, and again for whom the payroll pays) and the month's
    payslips (as of the month's end for the statements, as they stand for the net pay to transfer)
    were each read twice: a tenth of a second on the payroll year (issue 18, point 4)."""
    asked = statements_of(books, lambda: reconciliation_read(books, "2026-06", rules))
    for table in ("member_statuses", "payslips", "payslip_revisions"):
        assert len([s for s in asked if f"FROM {table} " in s or s.endswith(f"FROM {table}")]) == 1, (table, asked)


def test_what_clients_owe_on_the_books_last_day_does_not_look_up_each_documents_entry(books: Engine,
                                                                                        rules: Rules) -> None:
    """When no entry is dated after the day (the reconciliation of the books' latest month), a
    document counts if it has an entry or is dated by then: each one's entry date is not looked up
    (issue 18, point 4: 0.1 s of the payroll year's reconciliation); before it, it still is."""
    plain = Plain(books)
    last = max(e.entry_date for e in plain.entries.values())

    def looked_up(on: date) -> bool:
        def read() -> None:
            with books.connect() as conn:
                receivables.receivables_ht(conn, on, plain.members)
        return any("min(entries.entry_date)" in statement for statement in statements_of(books, read))
    assert not looked_up(last) and looked_up(last - timedelta(days=1))


def test_the_reconciliation_is_built_without_the_collectors_passes(books: Engine, rules: Rules) -> None:
    """Its figures and records hold no reference cycles: the cyclic collector walking them while
    they are built was 0.13 s of the payroll year's reconciliation (issue 18, point 4)."""
    import gc

    passes: list[int] = []

    def counted(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])
    with books.connect() as conn:
        gc.collect()
        gc.callbacks.append(counted)
        try:
            report = month_reconciliation(conn, "2026-06", rules)
        finally:
            gc.callbacks.remove(counted)
    assert report.members and len(passes) <= 1 and gc.isenabled(), passes  # one, maybe, as it resumes


def test_the_reconciliation_reads_the_months_lines_once(books: Engine, rules: Rules) -> None:
    """The month's lines, summed per member for the statements and per account for the ledger's
    movements, were read twice, each time through the month's entries and a lookup of each of
    their lines: 0.09 s of the payroll year's reconciliation (issue 18, point 4). One read
    serves both; the figures are those of `test_the_reconciliation_says_what_the_rows_say`."""
    asked = statements_of(books, lambda: reconciliation_read(books, "2026-06", rules))
    month_lines = [s for s in asked if "sum(lines.amount)" in s and "entries.entry_date BETWEEN" in s]
    assert len(month_lines) == 1, month_lines


@pytest.mark.parametrize("width, tables", [(80, 0), (160, 0), (400, 1)])
def test_the_reconciliation_too_wide_for_the_terminal_is_not_built_as_a_table(
        books: Engine, db_url: str, width: int, tables: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cae reconcile --all` built its table of every member, then found it too wide (a pipe's 160
    columns, a terminal's 80) and printed the narrow form: 0.1 s of the payroll year's 10,000
    (issue 18, point 4). Whether it fits is known from the figures first; a wide terminal still
    gets the table, and the bytes of both are those of main (compared in the README's run)."""
    from click.testing import CliRunner
    from rich.console import Console
    from rich.table import Table

    import cli.reconcile as command
    from cli.main import cae

    console = Console(width=width, file=io.StringIO())
    monkeypatch.setattr(command, "console", console)
    built: list[int] = []
    monkeypatch.setattr(command, "Table", lambda *args, **kwargs: built.append(1) or Table(*args, **kwargs))
    CliRunner().invoke(cae, ["reconcile", "--month", "2026-06", "--all", "--db", db_url])
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert len(built) == tables and ("┃ Member" in shown) == bool(tables) and "Budget after" in shown


def test_the_reconciliation_checks_the_trial_balance_from_its_totals(books: Engine, rules: Rules) -> None:
    """Its check that debits equal credits summed the lines per account, then the accounts: the
    totals are summed at once (0.03 s of the payroll year's, issue 18, point 4); the figures are
    those of `test_the_reconciliation_says_what_the_rows_say`, on an opened year in test_year_end."""
    asked = statements_of(books, lambda: reconciliation_read(books, "2026-06", rules))
    assert not [s for s in asked if "GROUP BY lines.account" in s], asked
    with books.connect() as conn:
        balance = trial_balance(conn, date(2026, 6, 30))
        assert trial_totals(conn, date(2026, 6, 30)) == (sum((r.debit for r in balance), ZERO),
                                                          sum((r.credit for r in balance), ZERO))


@pytest.mark.parametrize("members", [None, 3, 12])
def test_the_statements_sums_to_date_are_of_the_accounts_they_read(books: Engine, members: int | None,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to the month's end a statement reads its budget's accounts: the members' other sums (60 %
    of the payroll year's 129,000) were made figures for nothing (issue 18, point 4). On the three
    paths: every member, a few by a join, more by name (FEW lowered to 5)."""
    from engine.statement import BUDGET_ACCOUNTS, budget
    from ledger import balances

    monkeypatch.setattr(balances, "FEW", 5)
    plain = Plain(books)
    ids = None if members is None else sorted(plain.members)[:members]
    with books.connect() as conn:
        _, to_date = balances.member_sums(conn, "2026-06", ids)
    read = set().union(*(set(sums) for sums in to_date.values()))
    assert read and read <= BUDGET_ACCOUNTS, read
    for member_id in ids or plain.members:
        own = plain.movements_to(date(2026, 6, 30), member_id)
        assert budget(to_date.get(member_id, {})) == budget(own), member_id
