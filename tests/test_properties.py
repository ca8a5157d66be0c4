"""Property tests (hypothesis): the rules hold for any valid story, not only the ones we thought of.

A story is a random small cooperative: members joining, some becoming
associates, invoices with random lines and VAT rates, credit notes within what
is left of their invoice at each rate (any month after it), payments (now and
then above what is due), expenses direct or not, salary requests. The expected figures are computed here, independently of the
engine, from DOMAIN.md's words. The ledger-backed properties run on SQLite
(a fresh copy of one migrated file per example, so that each example costs
milliseconds); the backends' equivalence is the business of the contract tests.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from engine.config import Rates, load_rules
from engine.events import DocumentLine
from engine.money import CENT, D, MoneyError, parse_amount, round_cents, to_cents
from engine.payroll import affordable_gross, employer_cost, payslip
from engine.rules import vat_of
from ledger.balances import trial_balance
from ledger.payroll_run import run_payroll
from streams.pipeline import Outcome, Raw, process
from tests.ledger_copies import fresh_ledger, template  # noqa: F401 (a fixture)

RULES = load_rules()
LEDGER_SETTINGS = settings(max_examples=40, deadline=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PURE_SETTINGS = settings(max_examples=60, deadline=None)

# -- the stories -------------------------------------------------------------------------------

FIRST_DAY, LAST_DAY = date(2026, 9, 1), date(2026, 11, 30)  # three months: September to November
VAT_RATES = ["0.20", "0.10", "0.055", "0.021", "0.00", "0.085"]


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def round_half_up(value: Fraction) -> int:
    """Cents, rounded half away from zero (DOMAIN.md: half-up), in exact rational arithmetic."""
    sign = -1 if value < 0 else 1
    return sign * int((abs(value) * 2 + 1) // 2)


def vat_cents(cents: int, rate: str) -> int:
    return round_half_up(cents * Fraction(rate))


@dataclass
class InvoiceModel:
    """An invoice's HT and VAT per rate, and what credit notes took at each (DOMAIN.md rule 1)."""

    invoice_id: str
    member_id: str
    issued_on: date
    rates: dict[str, list[int]]  # rate -> [ht, vat] as issued
    credited: dict[str, list[int]] = field(default_factory=dict)
    paid: int = 0

    @property
    def ttc(self) -> int:
        return sum(ht + vat for ht, vat in self.rates.values())

    @property
    def credited_ttc(self) -> int:
        return sum(ht + vat for ht, vat in self.credited.values())

    def left(self, rate: str) -> tuple[int, int]:
        ht, vat = self.rates[rate]
        taken = self.credited.get(rate, [0, 0])
        return ht - taken[0], vat - taken[1]

    def credit(self, rate: str, ht: int) -> int:
        """Take `ht` at `rate`; the VAT it takes: all that is left when it empties the rate."""
        left_ht, left_vat = self.left(rate)
        vat = left_vat if ht == left_ht else min(vat_cents(ht, rate), left_vat)
        taken = self.credited.setdefault(rate, [0, 0])
        taken[0] += ht
        taken[1] += vat
        return vat


@dataclass
class Story:
    """Events (as dicts) and the figures DOMAIN.md says they must give, in cents."""

    events: list[dict[str, Any]] = field(default_factory=list)
    lifecycle: int = 0  # the first `lifecycle` events are joins and associations: they stay first
    associate_on: dict[str, date] = field(default_factory=dict)
    invoices: dict[str, InvoiceModel] = field(default_factory=dict)
    margin: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    associate_revenue: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def add(self, body: dict[str, Any]) -> None:
        body = {"event_id": f"ev-{len(self.events) + 1}", "occurred_at": "2026-09-01T08:00:00+02:00", **body}
        self.events.append(body)

    def sale(self, member_id: str, on: date, ht: int, sign: int, counts_from: date) -> None:
        """A sale posted on `on`, in the sociétariat base if its invoice (dated `counts_from`) counts."""
        key = (member_id, month_of(on))
        self.margin[key] += sign * ht
        if member_id in self.associate_on and self.associate_on[member_id] <= counts_from:
            self.associate_revenue[key] += sign * ht

    @staticmethod
    def month_figures(bases: dict[tuple[str, str], int], rate: str) -> dict[tuple[str, str], int]:
        """Rules 3 and 4: each member-month's f(Y(M)) − f(Y(M−1)), Y the year to date (all of 2026 here)."""
        figures: dict[tuple[str, str], int] = {}
        for member_id in {m for m, _ in bases}:
            before = 0
            for month in sorted(month for m, month in bases if m == member_id):
                after = before + bases[(member_id, month)]
                f = (lambda x: round_half_up(max(x, 0) * Fraction(rate)))
                if f(after) - f(before):
                    figures[(member_id, month)] = f(after) - f(before)
                before = after
        return figures

    def contributions(self) -> dict[tuple[str, str], int]:
        return self.month_figures(self.margin, "0.115")

    def societariat_postings(self) -> dict[tuple[str, str], int]:
        """The 1013 credits (negative) the months' sociétariat figures post."""
        return {k: -v for k, v in self.month_figures(self.associate_revenue, "0.03").items()}

    def receivable(self, member_id: str) -> int:
        return sum(i.ttc - i.credited_ttc - i.paid for i in self.invoices.values() if i.member_id == member_id)


def month_of(day: date) -> str:
    return day.isoformat()[:7]


days = st.integers(0, (LAST_DAY - FIRST_DAY).days).map(lambda n: FIRST_DAY + timedelta(days=n))
cents = st.one_of(st.integers(1, 300), st.integers(1, 500_000))  # small ones make the roundings bite


@st.composite
def stories(draw: st.DrawFn, max_documents: int = 16) -> Story:
    story = Story()
    members = [f"M{n:03d}" for n in range(1, draw(st.integers(1, 3)) + 1)]
    for member_id in members:
        story.add({"type": "member.joined", "member_id": member_id, "name": f"Membre {member_id}",
                   "joined_on": "2026-08-01", "status": draw(st.sampled_from(["cape", "salarie"]))})
    for member_id in members:
        if draw(st.booleans()):
            on = draw(days)
            story.associate_on[member_id] = on
            story.add({"type": "member.became_associate", "member_id": member_id, "on": on.isoformat()})
    story.lifecycle = len(story.events)
    for n in range(draw(st.integers(1, max_documents))):
        kind = draw(st.sampled_from(["invoice", "invoice", "credit_note", "payment", "expense", "salary"]))
        open_invoices = [i for i in story.invoices.values() if any(i.left(r)[0] for r in i.rates)]
        if kind == "credit_note" and not open_invoices:
            kind = "invoice"
        if kind == "payment" and not story.invoices:
            kind = "invoice"
        member_id = draw(st.sampled_from(members))
        if kind == "invoice":
            lines = draw(st.lists(st.tuples(cents, st.sampled_from(VAT_RATES)), min_size=1, max_size=4))
            on = draw(days)
            rates: dict[str, list[int]] = {}
            for c, r in lines:
                part = rates.setdefault(str(Decimal(r).normalize()), [0, 0])
                part[0] += c
                part[1] += vat_cents(c, r)
            invoice_id = f"F-{n}"
            story.invoices[invoice_id] = InvoiceModel(invoice_id, member_id, on, rates)
            story.sale(member_id, on, sum(c for c, _ in lines), 1, on)
            story.add({"type": "invoice.issued", "invoice_id": invoice_id, "member_id": member_id,
                       "issued_on": on.isoformat(), "client": draw(st.sampled_from(["Atelier Nord", "Mairie"])),
                       "lines": [{"label": f"Ligne {k}", "amount_ht": money(c), "vat_rate": r}
                                 for k, (c, r) in enumerate(lines)]})
        elif kind == "credit_note":
            invoice = draw(st.sampled_from(open_invoices))
            rate = draw(st.sampled_from(sorted(r for r in invoice.rates if invoice.left(r)[0])))
            left = invoice.left(rate)[0]
            ht = draw(st.one_of(st.just(left), st.integers(1, left)))  # often all that is left
            on = min(invoice.issued_on + timedelta(days=draw(st.integers(0, 70))), LAST_DAY)
            invoice.credit(rate, ht)
            story.sale(invoice.member_id, on, ht, -1, invoice.issued_on)
            story.add({"type": "credit_note.issued", "credit_note_id": f"A-{n}", "invoice_id": invoice.invoice_id,
                       "member_id": invoice.member_id, "issued_on": on.isoformat(),
                       "lines": [{"label": "Avoir", "amount_ht": money(ht), "vat_rate": rate}]})
        elif kind == "payment":
            invoice = draw(st.sampled_from(sorted(story.invoices.values(), key=lambda i: i.invoice_id)))
            due = invoice.ttc - invoice.credited_ttc - invoice.paid
            amount = draw(st.integers(1, max(due, 1) + draw(st.sampled_from([0, 0, 0, 5000]))))  # overpaid at times
            invoice.paid += amount
            story.add({"type": "payment.received", "payment_id": f"P-{n}", "invoice_id": invoice.invoice_id,
                       "member_id": invoice.member_id, "amount": money(amount),
                       "received_on": (invoice.issued_on + timedelta(days=draw(st.integers(0, 60)))).isoformat()})
        elif kind == "expense":
            ht, on, direct = draw(cents), draw(days), draw(st.booleans())
            if direct:
                story.margin[(member_id, month_of(on))] -= ht
            story.add({"type": "expense.recorded", "expense_id": f"X-{n}", "member_id": member_id,
                       "spent_on": on.isoformat(), "supplier": "Fournisseur", "amount_ht": money(ht),
                       "vat": money(draw(st.integers(0, 20_000))), "direct_cost": direct})
        else:
            story.add({"type": "salary.set", "member_id": member_id,
                       "from_month": draw(st.sampled_from(["2026-09", "2026-10", "2026-11"])),
                       "gross": money(draw(st.integers(0, 300_000)))})
    return story


def raws(events: list[dict[str, Any]]) -> list[Raw]:
    return [Raw(json.dumps(e).encode(), f"story:{e['event_id']}") for e in events]


def in_dependency_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A shuffled list, each credit note and payment moved just after its invoice if it came before."""
    placed: list[dict[str, Any]] = []
    waiting: list[dict[str, Any]] = []
    issued: set[str] = set()
    for event in events:
        waiting.append(event)
        moved = True
        while moved:
            moved = False
            for item in list(waiting):
                if item["type"] == "invoice.issued" or item.get("invoice_id", "-") in issued | {"-"}:
                    placed.append(item)
                    waiting.remove(item)
                    if item["type"] == "invoice.issued":
                        issued.add(item["invoice_id"])
                    moved = True
    assert not waiting
    return placed


def split(items: list[Raw], sizes: list[int]) -> Iterator[list[Raw]]:
    start, sizes = 0, sizes or [len(items)]
    for n in range(len(items)):
        size = sizes[n % len(sizes)]
        if start >= len(items):
            return
        yield items[start:start + size]
        start += size


# -- a fresh SQLite ledger per example ---------------------------------------------------------



def ingest(engine: Engine, items: list[Raw], sizes: list[int]) -> Outcome:
    total = Outcome()
    for batch in split(items, sizes):
        total.add(process(engine, batch, RULES))
    return total


def member_month_sums(engine: Engine, account: str) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT l.member_id, substr(e.entry_date, 1, 7), sum(l.amount) FROM lines l "
            "JOIN entries e ON e.id = l.entry_id WHERE l.account = :a GROUP BY 1, 2"), {"a": account})
        return {(m, month): int(total) for m, month, total in rows if total}


def ledger_state(engine: Engine) -> tuple[Any, ...]:
    with engine.connect() as conn:
        counts = tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                       for t in ("entries", "lines", "processed_events", "dead_letters", "base_moves",
                                 "invoices", "documents", "salaries"))
        return counts, tuple(trial_balance(conn))


batch_sizes = st.lists(st.integers(1, 8), min_size=1, max_size=4)


# -- (a) every entry balances, and so does the trial balance ----------------------------------

@LEDGER_SETTINGS
@given(story=stories(), sizes=batch_sizes)
def test_any_valid_story_keeps_every_entry_and_the_trial_balance_balanced(
        template: Path, story: Story, sizes: list[int]) -> None:
    with fresh_ledger(template) as engine:
        outcome = ingest(engine, raws(story.events), sizes)
        assert [d.reason for d in outcome.dead_letters] == []
        assert outcome.processed == len(story.events)
        with engine.begin() as conn:
            for month in ("2026-09", "2026-10", "2026-11"):
                run_payroll(conn, month, RULES)
        with engine.connect() as conn:
            unbalanced = conn.execute(text(
                "SELECT e.id, count(l.id), coalesce(sum(l.amount), 0) FROM entries e "
                "LEFT JOIN lines l ON l.entry_id = e.id GROUP BY e.id "
                "HAVING count(l.id) < 2 OR coalesce(sum(l.amount), 0) <> 0")).all()
            orphans = conn.execute(text(
                "SELECT count(*) FROM lines WHERE entry_id NOT IN (SELECT id FROM entries)")).scalar()
            balance = trial_balance(conn)
        assert unbalanced == [] and orphans == 0
        assert sum(a.debit for a in balance) == sum(a.credit for a in balance)
        receivable = member_month_sums(engine, "411")
        for member_id in {e["member_id"] for e in story.events}:
            owed = sum(v for (m, _), v in receivable.items() if m == member_id)
            assert owed == story.receivable(member_id), member_id


# -- (b) contribution and sociétariat: exact per member-month, whatever the order --------------
# Year to date (DOMAIN.md rules 3 and 4): a credit note in a later month gives back what its
# invoice's month paid, and the year's figures sum to f(the year's base).

@LEDGER_SETTINGS
@given(story=stories(), data=st.data())
def test_contribution_and_societariat_postings_sum_to_the_month_figure_whatever_the_order(
        template: Path, story: Story, data: st.DataObject) -> None:
    lifecycle, documents = story.events[:story.lifecycle], story.events[story.lifecycle:]
    shuffled = in_dependency_order(data.draw(st.permutations(documents), label="order"))
    arrangements = [(story.events, data.draw(batch_sizes, label="batches")),
                    (lifecycle + shuffled, data.draw(batch_sizes, label="batches after shuffle"))]
    expected_contribution = story.contributions()
    expected_societariat = story.societariat_postings()
    for events, sizes in arrangements:
        with fresh_ledger(template) as engine:
            outcome = ingest(engine, raws(events), sizes)
            assert [d.reason for d in outcome.dead_letters] == []
            assert member_month_sums(engine, "6581") == expected_contribution
            assert member_month_sums(engine, "1013") == expected_societariat
            for member_id in {m for m, _ in story.margin}:  # the year sums to f(the year's base)
                year_base = sum(v for (m, _), v in story.margin.items() if m == member_id)
                posted = sum(v for (m, _), v in member_month_sums(engine, "6581").items() if m == member_id)
                assert posted == round_half_up(max(year_base, 0) * Fraction("0.115"))


@settings(max_examples=20, deadline=None)
@given(lines=st.lists(st.integers(1, 300), min_size=2, max_size=12))
def test_many_small_invoices_post_the_rounded_month_figure_not_a_sum_of_roundings(
        template: Path, lines: list[int]) -> None:
    """round(0.115 x 0.13) + round(0.115 x 0.13) = 0.02 + 0.02, but the month owes round(0.115 x 0.26) = 0.03."""
    story = Story()
    story.add({"type": "member.joined", "member_id": "M001", "name": "Alice", "joined_on": "2026-08-01",
               "status": "cape"})
    for n, amount in enumerate(lines):
        story.add({"type": "invoice.issued", "invoice_id": f"F-{n}", "member_id": "M001",
                   "issued_on": "2026-10-05", "client": "Mairie",
                   "lines": [{"label": "x", "amount_ht": money(amount), "vat_rate": "0.20"}]})
    with fresh_ledger(template) as engine:
        ingest(engine, raws(story.events), [1])
        expected = round_half_up(sum(lines) * Fraction("0.115"))
        assert member_month_sums(engine, "6581") == ({("M001", "2026-10"): expected} if expected else {})


# -- (c) replaying a prefix changes nothing ----------------------------------------------------

@LEDGER_SETTINGS
@given(story=stories(), data=st.data())
def test_replaying_any_prefix_twice_changes_nothing(template: Path, story: Story, data: st.DataObject) -> None:
    items = raws(story.events)
    cut = data.draw(st.integers(0, len(items)), label="prefix")
    sizes = data.draw(batch_sizes, label="batches")
    with fresh_ledger(template) as engine:
        first = ingest(engine, items[:cut], sizes)
        assert (first.processed, first.dead_letters) == (cut, [])
        before = ledger_state(engine)
        again = ingest(engine, items[:cut], data.draw(batch_sizes, label="replay batches"))
        assert (again.processed, again.duplicates, again.dead_letters) == (0, cut, [])
        assert ledger_state(engine) == before
        rest = ingest(engine, items, sizes)  # the whole file, as a restarted runner would read it
        assert (rest.processed, rest.duplicates, rest.dead_letters) == (len(items) - cut, cut, [])
        assert member_month_sums(engine, "6581") == story.contributions()


# -- (d) the pure money rules ------------------------------------------------------------------

@PURE_SETTINGS
@given(st.integers(0, 10**14 - 1))
def test_an_amount_with_two_decimals_reads_back_to_the_cent(amount: int) -> None:
    assert parse_amount(money(amount)) == Decimal(amount) / 100
    assert to_cents(parse_amount(money(amount))) == amount
    if amount % 10 == 0:  # "12.5" is "12.50"
        assert parse_amount(money(amount)[:-1]) == Decimal(amount) / 100


@PURE_SETTINGS
@given(st.integers(0, 10**12), st.integers(0, 999).map(lambda n: f"{n:03d}"))
def test_an_amount_with_three_decimals_is_refused(units: int, decimals: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(f"{units}.{decimals}")


@PURE_SETTINGS
@given(st.integers(1, 10**6), st.sampled_from(["-{}", "+{}", "{}e2", "{}E-2", " {}", "{} ", "{},00", "0{}",
                                               "{}.", ".{}", "1_{}", "{}€", "Infinity", "NaN", ""]))
def test_amounts_in_any_other_form_are_refused(number: int, form: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(form.format(number))


@PURE_SETTINGS
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_never_becomes_money(value: float) -> None:
    with pytest.raises(MoneyError, match="float"):
        D(value)


@PURE_SETTINGS
@given(st.integers(-10**12, 10**12), st.integers(0, 6))
def test_rounding_is_half_up_to_the_cent(numerator: int, places: int) -> None:
    value = Decimal(numerator).scaleb(-places)
    expected = round_half_up(Fraction(numerator, 10**places) * 100)
    assert round_cents(value) == Decimal(expected) / 100
    assert round_cents(-value) == -round_cents(value)  # half away from zero, both ways


@PURE_SETTINGS
@example(lines=[(3, "0.20"), (3, "0.20")])  # 0.01 + 0.01, where the total would give round(0.012) = 0.01
@given(st.lists(st.tuples(st.integers(1, 99_999_999), st.sampled_from(VAT_RATES + ["0.196", "0.0001"])),
                min_size=1, max_size=20))
def test_vat_is_rounded_per_line_then_summed(lines: list[tuple[int, str]]) -> None:
    document = tuple(DocumentLine(label="x", amount_ht=money(c), vat_rate=r) for c, r in lines)
    assert vat_of(document) == Decimal(sum(vat_cents(c, r) for c, r in lines)) / 100


def test_vat_per_line_can_differ_from_vat_on_the_total() -> None:
    document = tuple(DocumentLine(label="x", amount_ht="0.03", vat_rate="0.20") for _ in "ab")
    assert vat_of(document) == Decimal("0.02")
    assert round_cents(Decimal("0.06") * Decimal("0.20")) == Decimal("0.01")


employer_rates = st.integers(0, 9999).map(lambda n: Decimal(n).scaleb(-4))  # 0 to 99.99 %


def cost_cents(gross: int, rate: Decimal) -> int:
    return gross + round_half_up(gross * Fraction(rate))


@PURE_SETTINGS
@example(requested=100_000, budget=88_500, rate=Decimal("0.42"))  # 623.24: the worked example
@example(requested=0, budget=-1, rate=Decimal("0.42"))
@example(requested=1, budget=1, rate=Decimal("0.42"))
@given(requested=st.integers(0, 10**8), budget=st.integers(-10**8, 2 * 10**8), rate=employer_rates)
def test_affordable_gross_is_the_largest_cent_amount_whose_cost_fits(requested: int, budget: int,
                                                                     rate: Decimal) -> None:
    rates = Rates(date(2000, 1, 1), Decimal("0.115"), Decimal("0.03"), rate, Decimal("0.22"))
    gross = affordable_gross(Decimal(requested) / 100, Decimal(budget) / 100, rates)
    assert gross == gross.quantize(CENT) and gross >= 0
    g = int(gross * 100)
    assert g <= requested  # never more than asked
    if cost_cents(requested, rate) <= budget:
        assert g == requested
    elif budget <= 0:
        assert g == 0
    else:
        assert cost_cents(g, rate) <= budget  # it fits...
        assert cost_cents(g + 1, rate) > budget  # ...and one cent more would not
        assert employer_cost(gross + CENT, rates) > Decimal(budget) / 100


@PURE_SETTINGS
@given(requested=st.integers(0, 10**8), budget=st.integers(-10**8, 2 * 10**8))
def test_a_payslip_adds_up(requested: int, budget: int) -> None:
    rates = RULES.at(date(2026, 10, 31))
    slip = payslip("M001", "2026-10", Decimal(requested) / 100, Decimal(budget) / 100, rates)
    assert slip.net + slip.employee_contributions == slip.gross
    assert slip.employer_contributions == round_cents(slip.gross * rates.employer_contributions)
    assert slip.net == round_cents(slip.gross * (1 - rates.employee_contributions))
    assert slip.capped == (slip.gross != slip.requested_gross)
    assert slip.employer_cost <= max(Decimal(budget) / 100, Decimal(0)) or not slip.capped
