"""Rates over time (issue 4, item 3): a change applies from its date, never to the past; tiers.

A document uses the rates of the month it is posted in (its own month, or the
first open month when its own is closed); payroll uses the rates of its
month. A tiered contribution is owed on the member's cumulative base of the
fiscal year and posted cumulatively, so the year's postings are exactly the
scale applied to the year's base, whatever the order the documents came in.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from engine import rules as member_rules
from engine.config import ConfigError, Tier, load_rules, parse_rules
from engine.events import decode
from engine.money import ZERO
from engine.mutualisation import owed_tiered
from engine.schedule import Schedule, parse_schedule
from engine.state import Book, Member
from ledger.closing import close_month
from ledger.payroll_run import run_payroll
from ledger.statements import statements
from tests.ops_support import BASE_RATES, credit_note, direct_cost, ingest, invoice, joined, salary

TODAY = date(2026, 12, 5)  # where the window of event dates is drawn from (engine.bounds)

BASE = BASE_RATES
LOWER_FROM_JANUARY = BASE + """
[[rates]]                         # the assembly lowers the contribution from January
from = 2027-01-01
contribution = "0.11"
societariat = "0.03"
employer_contributions = "0.45"
employee_contributions = "0.22"
"""
TIERED = BASE + """
[[rates]]
from = 2027-01-01
contribution_tiers = [{up_to = "35000", rate = "0.10"}, {up_to = "45000", rate = "0.08"}, {rate = "0.06"}]
societariat = "0.03"
employer_contributions = "0.42"
employee_contributions = "0.22"
"""
SCALE = (Tier(Decimal("35000"), Decimal("0.10")), Tier(Decimal("45000"), Decimal("0.08")),
         Tier(None, Decimal("0.06")))


def contribution(engine: Engine, member_id: str, month: str) -> Decimal:
    with engine.connect() as conn:
        (found,) = statements(conn, month, [member_id])
    return found.contribution


def test_documents_on_both_sides_of_the_date_use_their_own_rate(engine: Engine) -> None:
    rules = parse_rules(LOWER_FROM_JANUARY)
    ingest(engine, rules, joined("M1"), salary("M1", "2026-12", "1000.00"),
           invoice("M1", "F-DEC", "2026-12-31", "5000.00"), invoice("M1", "F-JAN", "2027-01-02", "5000.00"))
    assert contribution(engine, "M1", "2026-12") == Decimal("575.00")
    assert contribution(engine, "M1", "2027-01") == Decimal("550.00")
    with engine.begin() as conn:
        december = {s.member_id: s for s in run_payroll(conn, "2026-12", rules)}
        january = {s.member_id: s for s in run_payroll(conn, "2027-01", rules)}
    assert december["M1"].employer_contributions == Decimal("420.00")  # 42 % in 2026
    assert january["M1"].employer_contributions == Decimal("450.00")  # 45 % from 2027
    with engine.connect() as conn:
        labels = set(conn.scalars(text("SELECT label FROM entries WHERE journal = 'OD'")))
    assert labels == {"Contribution coopérative 11,5 % F-DEC", "Contribution coopérative 11 % F-JAN"}


def test_a_change_never_rewrites_a_month_already_posted(engine: Engine) -> None:
    ingest(engine, parse_rules(BASE), joined("M1"), invoice("M1", "F-DEC", "2026-12-10", "1000.00"))
    later = parse_rules(LOWER_FROM_JANUARY)  # the assembly's decision arrives afterwards
    ingest(engine, later, invoice("M1", "F-DEC2", "2026-12-20", "1000.00"),
           invoice("M1", "F-JAN", "2027-01-05", "1000.00"))
    assert contribution(engine, "M1", "2026-12") == Decimal("230.00")
    assert contribution(engine, "M1", "2027-01") == Decimal("110.00")


def test_a_document_of_a_closed_month_takes_the_rate_of_the_month_it_is_posted_in(engine: Engine) -> None:
    rules = parse_rules(LOWER_FROM_JANUARY)
    ingest(engine, rules, joined("M1"), invoice("M1", "F-DEC", "2026-12-10", "1000.00"))
    with engine.begin() as conn:
        close_month(conn, "2026-12")
    ingest(engine, rules, invoice("M1", "F-DEC-LATE", "2026-12-30", "1000.00"))  # posted 2027-01-01
    assert contribution(engine, "M1", "2026-12") == Decimal("115.00")
    assert contribution(engine, "M1", "2027-01") == Decimal("110.00")


def test_the_scale_is_marginal_on_the_year_base() -> None:
    assert owed_tiered(SCALE, Decimal("-100")) == ZERO
    assert owed_tiered(SCALE, Decimal("30000")) == Decimal("3000.00")
    assert owed_tiered(SCALE, Decimal("35000")) == Decimal("3500.00")
    assert owed_tiered(SCALE, Decimal("40000")) == Decimal("3900.00")
    assert owed_tiered(SCALE, Decimal("50000")) == Decimal("4600.00")
    assert owed_tiered(SCALE, Decimal("0.05")) == Decimal("0.01")  # rounded half-up, once, on the total


def test_tiers_are_read_from_the_configuration() -> None:
    rules = parse_rules(TIERED)
    assert rules.tiered and not parse_rules(BASE).tiered
    assert rules.at(date(2027, 3, 1)).contribution_tiers == SCALE
    assert rules.at(date(2026, 3, 1)).contribution_tiers == ()
    assert load_rules().at(date(2026, 1, 1)).contribution == Decimal("0.115")


@pytest.mark.parametrize("tiers, message", [
    ('contribution = "0.1"\ncontribution_tiers = [{rate = "0.1"}]', "either"),
    ("", "either"),
    ('contribution_tiers = [{up_to = "45000", rate = "0.1"}, {up_to = "35000", rate = "0.08"}, '
     '{rate = "0.06"}]', "not above"),
    ('contribution_tiers = [{up_to = "35000", rate = "0.1"}, {up_to = "45000", rate = "0.08"}]', "last tier"),
    ('contribution_tiers = [{up_to = 35000, rate = "0.1"}, {rate = "0.08"}]', "amount string"),
    ('contribution_tiers = [{up_to = "35000", rate = "1.5"}, {rate = "0.08"}]', "not below 1"),
    ("contribution_tiers = []", "list of"),
])
def test_a_wrong_scale_is_refused_with_the_reason(tiers: str, message: str) -> None:
    text_ = f"""[[rates]]\nfrom = 2027-01-01\n{tiers}\nsocietariat = "0.03"
employer_contributions = "0.42"\nemployee_contributions = "0.22"\n"""
    with pytest.raises(ConfigError, match=message):
        parse_rules(text_)


def test_tiered_contributions_are_posted_cumulatively_over_the_year(engine: Engine) -> None:
    rules = parse_rules(TIERED)
    ingest(engine, rules, joined("M1"), invoice("M1", "F1", "2027-01-10", "30000.00"))
    ingest(engine, rules, invoice("M1", "F2", "2027-02-10", "10000.00"))
    ingest(engine, rules, invoice("M1", "F3", "2027-03-10", "12000.00"),
           credit_note("M1", "A3", "F3", "2027-03-20", "1000.00"),
           direct_cost("M1", "X3", "2027-03-21", "1000.00"))
    assert contribution(engine, "M1", "2027-01") == Decimal("3000.00")  # 10 % of 30,000
    assert contribution(engine, "M1", "2027-02") == Decimal("900.00")   # f(40,000) − f(30,000)
    assert contribution(engine, "M1", "2027-03") == Decimal("700.00")   # f(50,000) − f(40,000)
    ingest(engine, rules, invoice("M1", "F4", "2028-01-10", "1000.00"))
    assert contribution(engine, "M1", "2028-01") == Decimal("100.00")   # a new fiscal year starts at 0


def test_the_year_stays_exact_when_an_earlier_open_month_gets_a_document_late(engine: Engine) -> None:
    rules = parse_rules(TIERED)
    ingest(engine, rules, joined("M1"), invoice("M1", "F2", "2027-02-10", "40000.00"))
    ingest(engine, rules, invoice("M1", "F1", "2027-01-31", "10000.00"))  # January was still open
    total = contribution(engine, "M1", "2027-01") + contribution(engine, "M1", "2027-02")
    assert total == owed_tiered(SCALE, Decimal("50000")) == Decimal("4600.00")


_documents = st.lists(st.tuples(st.integers(1, 12), st.sampled_from(["invoice", "credit", "cost"]),
                                st.integers(1, 2_000_000)), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(_documents, st.randoms(use_true_random=False))
def test_whatever_the_order_the_year_posts_the_scale_of_its_base(documents: list[tuple[int, str, int]],
                                                                   rng: object) -> None:
    rules = parse_rules(TIERED)
    book = Book()
    book.members["M1"] = Member("M1", "M1", date(2026, 1, 1), [(date(2026, 1, 1), "salarie")])
    raws, base = [], ZERO
    for k, (month, kind, cents) in enumerate(documents):
        amount = f"{cents // 100}.{cents % 100:02d}"
        day = f"2027-{month:02d}-15"
        raws.append(invoice("M1", f"F{k}", day, amount))
        base += Decimal(amount)
        if kind == "credit":
            raws.append(credit_note("M1", f"A{k}", f"F{k}", day, amount))
            base -= Decimal(amount)
        elif kind == "cost":
            raws.append(direct_cost("M1", f"X{k}", day, amount))
            base -= Decimal(amount)
    rng.shuffle(raws)  # type: ignore[attr-defined]
    posted = ZERO
    for raw in sorted(raws, key=lambda r: b"credit_note" in r.data):  # a credit note after its invoice
        for entry in member_rules.apply(book, decode(raw.data, TODAY), rules):
            posted += sum((line.amount for line in entry.lines if line.account == "6581"), ZERO)
    assert posted == owed_tiered(SCALE, base)


def test_a_flat_rate_follows_the_same_year_to_date_rule() -> None:
    """Issue 9: one rule for flat and tiered rates: October's invoice credited in November gives
    October's contribution back in November."""
    rules = load_rules()
    book = Book()
    book.members["M1"] = Member("M1", "M1", date(2026, 1, 1), [(date(2026, 1, 1), "salarie")])
    posted: dict[str, Decimal] = {}
    for raw in (invoice("M1", "F1", "2026-10-30", "1000.00"), credit_note("M1", "A1", "F1", "2026-11-02", "1000.00")):
        for entry in member_rules.apply(book, decode(raw.data, TODAY), rules):
            month = entry.date.isoformat()[:7]
            posted[month] = posted.get(month, ZERO) + sum(
                (line.amount for line in entry.lines if line.account == "6581"), ZERO)
    assert posted == {"2026-10": Decimal("115.00"), "2026-11": Decimal("-115.00")}


def test_the_readme_configuration_examples_are_valid() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```toml\n")[1:]]
    assert len(blocks) >= 3, "the README shows the rates file, flat and tiered, and the schedule"
    parsed = [parse_rules(block) for block in blocks if "[[rates]]" in block]
    assert any(r.at(date(2027, 1, 1)).contribution_tiers == SCALE for r in parsed)
    schedules = [parse_schedule(block) for block in blocks if "[schedule]" in block]
    assert schedules == [Schedule()]  # the README shows the defaults
