"""Issue 14, point 3: dates and amounts within bounds a cooperative can meet.

Before: a `member.joined` on 0001-01-01 was taken, and the staff's home and the
close failed from then on (year 0); 1000-01-01 gave `cae close` 12,322 months
to lock; a salary from 9999-12 and an invoice of 9999-12-31 were taken; 100
invoices of 500 lines at 999,999,999,999.99 overflowed SQLite's integer sums,
and the trial balance, the reconciliation and the statement failed for good
(the ledger is append-only). `month=0000-01` in a URL answered 500.

Now every date of every event (and its `occurred_at`, and a salary's month) is
in a window from 2000-01-01 to 31 December of the year after next, drawn from a
"today" that the caller gives; every amount and every document's TTC is at most
999,999.99; the rest is refused at the door with the field and the bound. The
arithmetic behind the ceiling (docs/events.md) is checked here against the real
rules, with hypothesis.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from cli.main import cae
from engine import rules as member_rules
from engine.config import Rates, Rules, Tier
from engine.events import BankEvent, EventError, GovernanceEvent, MemberEvent, decode, json_schema
from engine.payroll import payroll_entry, payslip
from engine.postings import Entry
from engine.state import Book, Member
from streams.pipeline import Raw, process
from tests.conftest import ROOT
from tests.ops_support import cli
from tests.web_support import IDENTITIES, PASSWORD, WebLedger, csrf_of, every_route, login, web  # noqa: F401 — the fixture
from web.access import Role
from web.routing import RULES

TODAY = date(2026, 12, 5)
CEILING_CENTS = 99_999_999  # 999,999.99: one amount, one document's TTC
INT64_MAX = 2**63 - 1
LINE = {"label": "Mission", "amount_ht": "100.00", "vat_rate": "0.20"}

# One sound event of every type: each value in it that reads as a date, a month or a timestamp
# is a date field the window applies to (the test finds them by their form, not by the models).
EXAMPLES: dict[str, dict[str, Any]] = {
    "member.joined": {"member_id": "M001", "name": "Alice", "joined_on": "2026-01-05", "status": "cape"},
    "member.status_changed": {"member_id": "M001", "on": "2026-06-01", "status": "salarie"},
    "member.became_associate": {"member_id": "M001", "on": "2026-06-01"},
    "member.left": {"member_id": "M001", "on": "2026-11-30"},
    "invoice.issued": {"invoice_id": "F-1", "member_id": "M001", "issued_on": "2026-10-10", "client": "Nord",
                       "lines": [LINE]},
    "credit_note.issued": {"credit_note_id": "A-1", "invoice_id": "F-1", "member_id": "M001",
                           "issued_on": "2026-10-15", "lines": [LINE]},
    "payment.received": {"payment_id": "P-1", "invoice_id": "F-1", "member_id": "M001",
                         "received_on": "2026-10-20", "amount": "120.00"},
    "expense.recorded": {"expense_id": "X-1", "member_id": "M001", "spent_on": "2026-10-12", "supplier": "Sud",
                         "amount_ht": "50.00", "vat": "10.00", "direct_cost": False},
    "salary.set": {"member_id": "M001", "from_month": "2026-10", "gross": "2000.00"},
    "assembly.convened": {"assembly_id": "AG", "kind": "AGO", "held_on": "2026-11-20", "convocation": 1},
    "resolution.proposed": {"resolution_id": "R1", "assembly_id": "AG", "title": "Comptes"},
    "ritual.held": {"meeting_id": "U1", "kind": "universite", "held_on": "2026-09-15", "title": "Rentrée"},
    "attendance.recorded": {"meeting_id": "U1", "member_id": "M001", "mode": "present"},
    "proxy.given": {"assembly_id": "AG", "from_member": "M001", "to_member": "M002"},
    "vote.cast": {"resolution_id": "R1", "member_id": "M001", "choice": "for"},
    "member.bank_account_set": {"member_id": "M001", "iban": "FR7630006000011234567890189", "from": "2026-10-01"},
    "bank.statement_received": {"account": "FR7630006000011234567890189", "statement_id": "S1",
                                "opening_balance": "-10.00", "closing_balance": "110.00", "from": "2026-10-01",
                                "to": "2026-10-31", "lines": [{"line_ref": "L1", "booked_on": "2026-10-20",
                                                               "value_on": "2026-10-20", "amount": "120.00"}]},
    "bank.line_assigned": {"line_ref": "L1", "account": "FR7630006000011234567890189", "assigned_by": "staff",
                           "invoice_id": "F-1"},
    "member.contact_set": {"member_id": "M001", "email": "m@example.org", "convocation_by_email": True,
                           "on": "2026-10-01"},
    "convocation.sent": {"assembly_id": "AG", "member_id": "M001", "channel": "email", "sent_on": "2026-11-01"},
    "bureau.appointed": {"assembly_id": "AG", "member_id": "M001", "role": "chair"},
    "minutes.recorded": {"assembly_id": "AG", "debates": "Débat.", "recorded_by": "S1"},
    "resolution.voting": {"resolution_id": "R1", "state": "open"},
}


def example(type_: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": "e1", "type": type_, "occurred_at": "2026-10-01T09:00:00Z", **EXAMPLES[type_], **fields}


def raw(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


_DAY, _MONTH, _MOMENT = (re.compile(p) for p in (r"\d{4}-\d{2}-\d{2}", r"\d{4}-\d{2}", r"\d{4}-\d{2}-\d{2}T.*"))
DATE_FIELDS = [(type_, name) for type_ in EXAMPLES for name, value in example(type_).items()
               if isinstance(value, str) and (_DAY.fullmatch(value) or _MONTH.fullmatch(value)
                                              or _MOMENT.fullmatch(value))]


def at(type_: str, name: str, day: date) -> dict[str, Any]:
    """The example with `name` set to `day`, in that field's form."""
    value = example(type_)[name]
    text = (f"{day.isoformat()}T09:00:00Z" if _MOMENT.fullmatch(value) else
            day.isoformat()[:7] if _MONTH.fullmatch(value) else day.isoformat())
    return example(type_, **{name: text})


def test_the_examples_cover_every_type_and_are_sound() -> None:
    models = (MemberEvent.__args__ + GovernanceEvent.__args__  # type: ignore[attr-defined]
              + BankEvent.__args__)  # type: ignore[attr-defined]
    assert set(EXAMPLES) == {m.model_fields["type"].annotation.__args__[0] for m in models}
    for type_ in EXAMPLES:
        decode(raw(example(type_)), TODAY)
    assert len(DATE_FIELDS) == len(EXAMPLES) + 16  # occurred_at everywhere, and sixteen dates of their own


@pytest.mark.parametrize("type_,name", DATE_FIELDS)
@pytest.mark.parametrize("day", [date(1, 1, 1), date(1000, 1, 1), date(1999, 12, 31), date(2029, 1, 1),
                                 date(9999, 12, 31)], ids=str)
def test_a_date_outside_the_window_is_refused_with_its_field(type_: str, name: str, day: date) -> None:
    with pytest.raises(EventError) as refused:
        decode(raw(at(type_, name, day)), TODAY)
    reason = str(refused.value)
    assert reason.startswith(f"{name}: "), reason
    assert ("2000-01" in reason) if day.year < 2000 else ("2028-12" in reason), reason


@pytest.mark.parametrize("type_,name", DATE_FIELDS)
@pytest.mark.parametrize("day", [date(2000, 1, 1), date(2028, 12, 1)], ids=str)
def test_the_window_s_ends_are_taken(type_: str, name: str, day: date) -> None:
    decode(raw(at(type_, name, day)), TODAY)


def test_the_window_moves_with_the_clock_it_is_given() -> None:
    """Never `date.today()` inside: the caller's today decides, so the tests set it."""
    late = raw(example("invoice.issued", issued_on="2029-03-01"))
    with pytest.raises(EventError, match="2028-12-31"):
        decode(late, TODAY)
    assert decode(late, date(2027, 1, 1)).get("issued_on") == date(2029, 3, 1)


# -- amounts -----------------------------------------------------------------------------------

def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@pytest.mark.parametrize("type_,fields,where", [
    ("invoice.issued", {"lines": [{**LINE, "amount_ht": "1000000.00"}]}, "lines.0.amount_ht"),
    ("invoice.issued", {"lines": [{**LINE, "amount_ht": "999999999999.99"}]}, "lines.0.amount_ht"),
    ("invoice.issued", {"lines": [{**LINE, "amount_ht": "900000.00"}]}, "lines"),  # 1,080,000.00 TTC
    ("invoice.issued", {"lines": [{**LINE, "amount_ht": "2000.00", "vat_rate": "0"}] * 500}, "lines"),
    ("credit_note.issued", {"lines": [{**LINE, "amount_ht": "999999.99", "vat_rate": "0.055"}]}, "lines"),
    ("payment.received", {"amount": "1000000.00"}, "amount"),
    ("expense.recorded", {"amount_ht": "1000000.00"}, "amount_ht"),
    ("expense.recorded", {"amount_ht": "900000.00", "vat": "180000.00"}, "vat"),
    ("salary.set", {"gross": "1000000.00"}, "gross"),
])
def test_an_amount_or_a_document_over_the_ceiling_is_refused(type_: str, fields: dict[str, Any],
                                                             where: str) -> None:
    with pytest.raises(EventError) as refused:
        decode(raw(example(type_, **fields)), TODAY)
    reason = str(refused.value)
    assert reason.startswith(f"{where}: ") and "999999.99" in reason, reason


AT_THE_CEILING = [{**LINE, "amount_ht": "833333.32"}, {**LINE, "amount_ht": "0.01", "vat_rate": "0"}]  # 999,999.99


def test_a_document_at_the_ceiling_is_taken() -> None:
    assert decode(raw(example("invoice.issued", lines=AT_THE_CEILING)), TODAY)
    assert decode(raw(example("expense.recorded", amount_ht="999999.00", vat="0.99")), TODAY)
    assert decode(raw(example("payment.received", amount="999999.99")), TODAY)


# The worst case of docs/events.md: a document posts at most WORST_PER_EVENT × the ceiling in all
# (twice its TTC for its own entry; for the contribution and the share, in each of the up to twelve
# months of its year, a change of at most twice rate × HT, posted on two lines); a payslip at most
# four times it (gross and employer cost, each on both sides).
WORST_PER_EVENT = 100
EVENTS_PER_YEAR = 1_000_000  # ten times the largest CAE's documents


def test_a_million_documents_a_year_at_the_ceiling_fit_for_centuries() -> None:
    yearly = EVENTS_PER_YEAR * WORST_PER_EVENT * CEILING_CENTS
    assert yearly * 2 * 400 < INT64_MAX  # the year-end's balances at most double a year; 400 years


rates = st.decimals(Decimal("0"), Decimal("0.99"), places=2)


@st.composite
def rules_below_one(draw: Any) -> Rules:
    """Rates as a configuration may set them (each below 1), flat or in tiers, changing mid-year."""
    def period(starts: date) -> Rates:
        tiers: tuple[Tier, ...] = ()
        if draw(st.booleans()):
            bounds = sorted(draw(st.sets(st.integers(1, CEILING_CENTS), min_size=1, max_size=3)))
            tiers = tuple(Tier(Decimal(b) / 100, draw(rates)) for b in bounds) + (Tier(None, draw(rates)),)
        return Rates(starts, draw(rates), draw(rates), draw(rates), draw(rates), contribution_tiers=tiers)
    return Rules((period(date(2000, 1, 1)), period(date(2026, draw(st.integers(2, 12)), 1))))


@st.composite
def documents(draw: Any) -> list[bytes]:
    """A member's year of documents near the ceiling, in any order: invoices, credit notes, direct
    costs, payments; some over it, which must be refused."""
    near = st.one_of(st.integers(1, CEILING_CENTS), st.integers(CEILING_CENTS - 1000, CEILING_CENTS + 1000))
    found: list[bytes] = []
    for n in range(draw(st.integers(1, 12))):
        day = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 364)))
        kind = draw(st.sampled_from(["invoice", "invoice", "credit", "cost", "payment"]))
        lines = [{"label": "L", "amount_ht": money(draw(near)), "vat_rate": draw(st.sampled_from(["0", "0.2"]))}
                 for _ in range(draw(st.integers(1, 3)))]
        body: dict[str, Any]
        if kind == "invoice":
            body = example("invoice.issued", invoice_id=f"F{n}", issued_on=day.isoformat(), lines=lines)
        elif kind == "credit":
            body = example("credit_note.issued", credit_note_id=f"A{n}", invoice_id="F0",
                           issued_on="2026-12-31", lines=lines[:1])
        elif kind == "cost":
            body = example("expense.recorded", expense_id=f"X{n}", spent_on=day.isoformat(),
                           amount_ht=money(draw(near)), vat=money(draw(near) // 5), direct_cost=True)
        else:
            body = example("payment.received", payment_id=f"P{n}", invoice_id="F0", received_on="2026-12-31",
                           amount=money(draw(near)))
        found.append(raw({**body, "event_id": f"e{n}"}))
    return found


def _ttc_cents(document: dict[str, Any]) -> list[int]:
    """Every amount and total the ceiling is about, computed here from the JSON (rule 1: VAT per line)."""
    def cents(text: str) -> int:
        return int(Decimal(text) * 100)
    if "lines" in document:
        hts = [cents(line["amount_ht"]) for line in document["lines"]]
        vats = [int(Decimal(ht) * Decimal(line["vat_rate"]) + Decimal("0.5"))  # half up; all positive
                for ht, line in zip(hts, document["lines"])]
        return hts + [sum(hts) + sum(vats)]
    if "amount" in document:
        return [cents(document["amount"])]
    return [cents(document["amount_ht"]), cents(document["vat"]), cents(document["amount_ht"]) + cents(document["vat"])]


def _moved_cents(entries: list[Entry]) -> int:
    return sum(abs(int(line.amount * 100)) for entry in entries for line in entry.lines)


@settings(max_examples=150, deadline=None)
@given(documents(), rules_below_one(), st.booleans())
def test_an_accepted_document_moves_at_most_the_worst_case_the_docs_count(
        raws: list[bytes], rules: Rules, associate: bool) -> None:
    book = Book()
    member = Member("M001", "Alice", date(2026, 1, 1), [(date(2026, 1, 1), "salarie")])
    member.associate_on = date(2026, 1, 1) if associate else None
    book.members["M001"] = member
    for data in raws:
        document = json.loads(data)
        within = all(c <= CEILING_CENTS for c in _ttc_cents(document))
        try:
            event = decode(data, TODAY)
        except EventError as refused:
            assert not within and "999999.99" in str(refused), str(refused)
            continue
        assert within, document
        try:
            entries = member_rules.apply(book, event, rules)
        except member_rules.RuleError:
            continue  # a credit note or payment of an invoice that is not there, or over what is left
        assert _moved_cents(entries) <= WORST_PER_EVENT * CEILING_CENTS, (document, entries)


@given(st.integers(0, CEILING_CENTS), rules_below_one())
def test_a_payslip_at_the_ceiling_moves_at_most_four_times_it(gross: int, rules: Rules) -> None:
    slip = payslip("M001", "2026-10", Decimal(gross) / 100, Decimal(10 * CEILING_CENTS) / 100,
                   rules.at(date(2026, 10, 31)))
    entry = payroll_entry(slip, "Alice")
    assert entry is None or _moved_cents([entry]) <= 4 * CEILING_CENTS


# -- the ledger ----------------------------------------------------------------------------------

def test_the_issue_s_overflowing_invoices_are_refused_and_the_books_still_answer(
        engine: Engine, db_url: str, rules: Rules) -> None:
    """100 invoices of 500 lines at 999,999,999,999.99 went in and broke every sum for good."""
    setup = [example("member.joined", joined_on="2026-01-05", status="salarie"),
             example("salary.set", event_id="e2"),
             example("invoice.issued", event_id="e3", lines=AT_THE_CEILING),
             example("invoice.issued", event_id="e4", invoice_id="F-2", lines=AT_THE_CEILING)]
    assert process(engine, [Raw(raw(e), "setup") for e in setup], rules).dead_letters == []
    huge = [{**LINE, "amount_ht": "999999999999.99"}] * 500
    outcome = process(engine, [Raw(raw(example("invoice.issued", event_id=f"h{n}", invoice_id=f"H-{n}",
                                                 lines=huge)), f"huge:{n}") for n in range(100)], rules)
    assert outcome.processed == 0 and len(outcome.dead_letters) == 100
    assert all("lines.0.amount_ht" in d.reason and "999999.99" in d.reason for d in outcome.dead_letters)
    balance = {row["account"]: row for row in cli("trial-balance", "--db", db_url, "--json")["accounts"]}
    assert balance["411"]["debit"] == "1999999.98"  # two invoices at the ceiling
    statement = cli("statement", "M001", "--month", "2026-10", "--db", db_url, "--json")
    assert statement["revenue_ht"] == "1666666.66"
    assert cli("reconcile", "--month", "2026-10", "--db", db_url, "--json")["members"]


@pytest.mark.parametrize("document", [
    example("member.joined", joined_on="0001-01-01"),
    example("member.joined", joined_on="1000-01-01"),
    example("salary.set", from_month="9999-12"),
    example("invoice.issued", issued_on="9999-12-31"),
], ids=["year 1", "year 1000", "salary from 9999-12", "invoice of 9999-12-31"])
def test_the_issue_s_dates_are_dead_letters(engine: Engine, rules: Rules, document: dict[str, Any]) -> None:
    setup = [] if document["type"] == "member.joined" else [example("member.joined", event_id="j")]
    outcome = process(engine, [Raw(raw(e), "f") for e in setup + [document]], rules)
    (letter,) = outcome.dead_letters
    assert outcome.processed == len(setup)
    assert re.search(r"(joined_on|from_month|issued_on): .*(2000-01|20\d\d-12)", letter.reason), letter.reason


# -- months in URLs ------------------------------------------------------------------------------

def _takes_a_month(route: APIRoute) -> bool:
    """Whether the route reads `month` from its query, itself or through a dependency (FastAPI's view)."""
    dependants = [route.dependant, *route.dependant.dependencies]
    return any(p.name == "month" for d in dependants for p in d.query_params)


def _caller(web: WebLedger, path: str) -> TestClient:
    """A client signed in (pages) or carrying a token (API) as someone the route serves."""
    roles = RULES[("GET", path)].roles or set()
    who = ("member" if Role.MEMBER in roles else "staff" if Role.STAFF in roles else
           "admin" if Role.ADMIN in roles else "board")
    client = TestClient(web.app(), raise_server_exceptions=False)
    if path.startswith("/api/"):
        client.headers.update(web.bearer(who))
    else:
        login(client, IDENTITIES[who][0], PASSWORD)
    return client


def test_a_month_outside_the_window_in_any_url_is_a_422(web: WebLedger, db_url: str) -> None:
    routes = sorted(r.path for r in every_route(list(web.app().routes))
                    if isinstance(r, APIRoute) and "GET" in r.methods and _takes_a_month(r))
    assert len(routes) >= 12, routes
    for path in routes:
        client = _caller(web, path)
        url = path.replace("{member_id}", "M001")
        last = f"{date.today().year + 2}-12"  # the site's clock is the real one
        for month in ("2026-10", last):  # a month of the books, the window's last
            assert client.get(url, params={"month": month}).status_code == 200, (path, month)
        first = client.get(url, params={"month": "2000-01"})  # the window's first: before M001 joined
        assert first.status_code == (404 if "{member_id}" in path else 200), (path, first.status_code)
        beyond = f"{date.today().year + 3}-01"  # the site's clock is the real one
        for month in ("0000-01", "0001-01", "1999-12", beyond, "9999-12", "2026-13", "10000-01", "2026-1"):
            answer = client.get(url, params={"month": month})
            assert answer.status_code == 422, (path, month, answer.status_code)
            assert "month" in answer.text.lower() or "mois" in answer.text.lower(), answer.text


@pytest.mark.parametrize("action,fields", [("/staff/payroll/run", {}), ("/staff/close", {"confirm": "{month}"}),
                                           ("/staff/payroll/rerun", {"member_id": "M001", "reason": "typo"})])
def test_a_month_outside_the_window_in_a_staff_form_is_a_422(web: WebLedger, action: str,
                                                             fields: dict[str, str]) -> None:
    client = web.client("staff")
    token = csrf_of(client.get("/staff/payroll").text)
    with web.engine.connect() as conn:
        runs = conn.scalar(text("SELECT count(*) FROM runs"))
    for month in ("0001-01", "1999-12", "9999-12"):
        data = {"csrf": token, "month": month, **{k: v.format(month=month) for k, v in fields.items()}}
        answer = client.post(action, data=data, follow_redirects=False)
        assert answer.status_code == 422 and "mois invalide" in answer.text.lower(), (action, month, answer.status_code)
    with web.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM runs")) == runs  # nothing was run


@pytest.mark.parametrize("command", [["reconcile"], ["trial-balance"], ["statement", "M001"], ["payroll", "run"],
                                     ["close"]], ids=" ".join)
def test_a_month_outside_the_window_on_the_command_line_is_a_usage_error(engine: Engine, db_url: str,
                                                                          command: list[str]) -> None:
    """The same parser as the URLs': `cae reconcile --month 0001-01` failed inside (date out of range)."""
    for month in ("0000-01", "0001-01", "1999-12", "9999-12"):
        done = CliRunner().invoke(cae, [*command, "--month", month, "--db", db_url])
        assert done.exit_code == 2 and "is not a month YYYY-MM from 2000-01 to" in done.output, done.output


def test_a_month_without_members_reconciles_to_zeros(engine: Engine, db_url: str) -> None:
    """The window's first month is a month like another: no member yet, totals of zero (it failed)."""
    report = cli("reconcile", "--month", "2000-01", "--db", db_url, "--json")
    assert report["members"] == [] and set(report["totals"].values()) == {"0.00"}
    assert "Total" in cli("reconcile", "--month", "2000-01", "--db", db_url)


# -- what the docs and `cae schema` say ----------------------------------------------------------

def test_the_docs_state_the_bounds_and_their_arithmetic() -> None:
    docs = (ROOT / "docs/events.md").read_text(encoding="utf-8")
    for said in ('"999999.99"', "2000-01-01 to 31 December of the year after next", "99,999,999 cents",
                 "10^6 × 100 × 10^8 = 10^16", "461 years", "a 422"):
        assert said in docs, said
    assert (INT64_MAX // (2 * EVENTS_PER_YEAR * WORST_PER_EVENT * 10**8)) == 461


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(1, 10**12), st.integers(CEILING_CENTS - 100, CEILING_CENTS + 100)))
def test_the_published_amount_pattern_takes_what_the_door_takes(cents: int) -> None:
    """`cae schema` is what a producer checks its events against: it must refuse what we refuse."""
    pattern = json_schema()["$defs"]["PaymentReceived"]["properties"]["amount"]["pattern"]
    text = money(cents)
    try:
        decode(raw(example("payment.received", amount=text)), TODAY)
        taken = True
    except EventError:
        taken = False
    assert bool(re.fullmatch(pattern, text)) == taken, text
