"""Every page of every role, on the demo's books, reads in French (issue 15, point 1).

The crawl starts from the demo that `cae demo` makes (its own command, on a
fresh SQLite file), signs in as each role and follows every link of the pages
from the home page and from each page the route table declares, then visits
the error pages and the staff's dead letters, with one refused line per kind
of reason. The visible text (no scripts, no attributes) must hold none of the
English words the code base writes in its messages: names and ids never are
among them (an id holds digits or capitals, and the demo's names are French).
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from cli.common import rules_from
from governance.config import load_governance
from streams.embedded import Raw, ingest
from streams.bank_files import statement_events
from tests.bank_web_support import october_statement
from tests.web_support import csrf_of, declared_routes, login, make_demo
from treasury.formats import read_statements
from web.app import create_app

# Words of the English messages, labels and statuses the code base writes, that no French page
# needs: a French sentence never holds them (words French shares with English, such as "total",
# "date", "capital" or "note", are not in the list).
ENGLISH = frozenset("""
the and of is are was not with without from for this that these there their which when where what
run rerun runs payroll member members month months statement statements invoice invoices error errors
unknown missing field refused pending dismissed replayed settled staff board admin salary salaries
payment payments expense expenses closed open yes none check checks details due paid unpaid status
please must cannot can't could should would has have been before after only each every any
amount amounts event events letter letters reason reasons close closing locked lock run's nothing new
posted requested ok attention look needs found already try again later too many requests sign login
logout password account accounts token tokens name value values wrong forbidden allowed
associate associates employee employees university dashboard show download year years
""".split())

WORD = re.compile(r"[A-Za-z][a-z']+")
EMAIL = re.compile(r"\S+@\S+")  # an address is an id: admin@demo.cae
# What the catalogue's French quotes (engine.messages): a field's name, an id or a value the user sent.
QUOTED = re.compile("«\u00a0[^»]*\u00a0»")

# Pages whose default month (today's) is empty in the demo: crawled at a month that has their data.
WITH_DATA = ["/staff/bank?month=2026-10"]

# One refused line per kind of reason the pipeline gives a dead letter (engine.events `_reason`,
# the bounds and characters, the rules' refusals): each must read in French on the staff's page.
REFUSED = [
    b"not json at all",
    b"[1, 2]",
    b'{"event_id": "X1"}',
    b'{"type": "nope", "event_id": "X2"}',
    b'{"type": "invoice.issued", "event_id": "X3", "extra": 1}',
    b'{"type": "payment.received", "event_id": "X4", "occurred_at": "2026-10-03T10:00:00Z", '
    b'"member_id": "M001", "invoice_id": "INV-NOPE", "amount": 12.5}',
    b'{"type": "payment.received", "event_id": "X5", "occurred_at": "2026-10-03T10:00:00Z", '
    b'"member_id": "M001", "invoice_id": "INV-NOPE", "amount": "12.50"}',
    b'{"type": "expense.recorded", "event_id": "X6", "occurred_at": "2026-10-03T10:00:00Z", '
    b'"member_id": "NOBODY", "amount": "10.00", "label": "x\\u200by", "category": "travel"}',
    '{"event_id": "X7", "event_id": "X7"}'.encode(),
    b"\xff\xfe",
]


class _Visible(HTMLParser):
    """The text a reader sees: no scripts or styles, no attributes; the links, to follow them."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def english_in(html: str) -> tuple[set[str], list[str]]:
    """The English words in a page's visible text, and its links."""
    page = _Visible()
    page.feed(html)
    text = QUOTED.sub(" ", EMAIL.sub(" ", " ".join(page.text)))
    return {w for w in WORD.findall(text) if w.lower() in ENGLISH and not w.isupper()}, page.links


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    """The demo's books served as `cae serve` does: the app, an account per role, the member's id."""
    url, member, logins = make_demo(tmp_path_factory.mktemp("demo"))
    engine = create_engine(url)
    rules = rules_from(None)
    ingest(engine, (Raw(line, f"crawl:{n}") for n, line in enumerate(REFUSED, 1)), rules)
    # a bank statement whose lines wait for the staff, with candidates or not (issue 16)
    ingest(engine, iter(statement_events(read_statements(october_statement()), "crawl-bank")), rules)
    app = create_app(engine, rules, load_governance())
    yield app, logins, member
    engine.dispose()


def _crawl(client: TestClient, seeds: list[str]) -> dict[str, set[str]]:
    """Each page reached from `seeds` by its links (one per path): the English words it shows."""
    found: dict[str, set[str]] = {}
    queue, seen = list(seeds), set()
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.path in seen or parts.netloc or not parts.path.startswith("/"):
            continue
        if parts.path.startswith(("/static", "/api")) or parts.path.endswith((".pdf", ".csv")) or parts.path == "/staff/fec":
            continue
        seen.add(parts.path)
        answer = client.get(url)
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        words, links = english_in(answer.text)
        if words:
            found[url] = words
        queue += [urljoin(url, link) for link in links]
    return found


ROLES = ("admin", "staff", "board", "member")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_each_role_reads_in_french(demo: tuple, role: str) -> None:
    app, logins, member = demo
    client = TestClient(app)
    login(client, *logins[role])
    seeds = [*WITH_DATA, "/"] + [d.path.replace("{member_id}", member) for d in declared_routes(app)
                     if d.method == "GET" and not d.api and d.serves(role) and "{" not in d.path.replace("{member_id}", "")]
    found = _crawl(client, seeds)
    assert not found, f"English on the {role}'s pages: {found}"


def test_error_pages_read_in_french(demo: tuple) -> None:
    app, logins, member = demo
    anonymous = TestClient(app)
    pages = [anonymous.get("/login"), anonymous.get("/nowhere")]
    client = TestClient(app)
    login(client, *logins["member"])
    pages += [client.get("/nowhere"), client.get(f"/members/{member}/statement?month=2026-13"),
              client.get("/members/NOBODY/statement"), client.get("/staff"), client.get("/assemblies/NOPE")]
    wrong = TestClient(app)
    pages.append(wrong.post("/login", data={"email": "nobody@demo.cae", "password": "x", "csrf": "x", "next": "/"}))
    found = {f"{p.request.method} {p.request.url.path} ({p.status_code})": english_in(p.text)[0]
             for p in pages if "text/html" in p.headers.get("content-type", "")}
    assert {k: v for k, v in found.items() if v} == {}


def test_each_dead_letter_reason_reads_in_french(demo: tuple) -> None:
    app, logins, _ = demo
    client = TestClient(app)
    login(client, *logins["staff"])
    # replayed, each is refused again: the new reason, in its history, reads in French too
    replayed = client.post("/staff/deadletters/replay", data={"csrf": csrf_of(client.get("/staff/deadletters").text)})
    assert replayed.status_code == 200 and "refusé à nouveau" in replayed.text
    page = client.get("/staff/deadletters?all=true")
    assert page.status_code == 200
    words, _ = english_in(page.text)
    assert not words, words
    refused = client.post("/staff/deadletters/1/dismiss", data={"csrf": csrf_of(page.text), "reason": "  "})
    assert refused.status_code == 422 and not english_in(refused.text)[0] and "demande une raison" in refused.text


def test_the_staffs_refused_forms_say_why_in_french(demo: tuple) -> None:
    """The payroll's and the corrections' guards, and an account refused, said on the page in the
    catalogue's French, with no command line to type (issue 15, point 1)."""
    app, logins, member = demo
    client = TestClient(app)
    login(client, *logins["admin"])
    token = csrf_of(client.get("/staff/payroll").text)
    answers = {
        "ahead": client.post("/staff/payroll/run", data={"csrf": token, "month": "2028-02"}),
        "no reason": client.post("/staff/payroll/rerun", data={"csrf": token, "month": "2026-10",
                                                               "member_id": member, "reason": "  "}),
        "no payslip": client.post("/staff/payroll/rerun", data={"csrf": token, "month": "2026-08",
                                                                "member_id": member, "reason": "oubli"}),
        "bad email": client.post("/admin/accounts", data={"csrf": token, "email": "personne", "password": "x" * 12,
                                                          "role": "staff", "member_id": ""}),
    }
    expected = {"ahead": "ne peut pas encore être faite", "no reason": "une correction demande un motif",
                "no payslip": "il n'y a pas de bulletin à corriger", "bad email": "n'est pas une adresse électronique"}
    for case, answer in answers.items():
        shown = html.unescape(answer.text)  # a message alone starts with a capital (web.words.sentence)
        assert answer.status_code == 422 and expected[case] in shown.lower(), (case, answer.status_code, shown[-600:])
        assert "cae " not in shown and not english_in(answer.text)[0], (case, english_in(answer.text)[0])


def test_the_boards_convocation_pages_and_the_staffs_mail_page_read_in_french(demo: tuple) -> None:
    """Issue 17's pages, named here so the crawl cannot miss them: the board's part of an assembly's
    page, its letters to print, a refusal of the convocation's button, and the staff's mail page."""
    app, logins, _ = demo
    client = TestClient(app)
    login(client, *logins["admin"])
    assembly = re.search(r'href="/assemblies/([^"/]+)"', client.get("/board").text)
    assert assembly, "the demo has no assembly"
    base = f"/assemblies/{assembly.group(1)}"
    page = client.get(base).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf and 'id="send-convocations"' in page
    pages = [client.get(base), client.get(f"{base}/letters"), client.get("/staff/mail"),
             client.post(f"{base}/convocations", data={"csrf": csrf.group(1)}),  # no SMTP, or too late
             client.post("/staff/mail/statements", data={"csrf": csrf.group(1), "month": "2026-10"})]
    found = {f"{p.request.method} {p.request.url.path} ({p.status_code})": english_in(p.text)[0] for p in pages}
    assert [p.status_code for p in pages] == [200, 200, 200, 422, 200]  # nobody consented: nothing to send


def test_the_treasury_s_refusals_read_in_french(demo: tuple) -> None:
    """Issue 16: a statement refused at upload, an assignment refused, an IBAN refused, each in French."""
    app, logins, member = demo
    staff, own = TestClient(app), TestClient(app)
    login(staff, *logins["staff"])
    login(own, *logins["member"])
    page = staff.get("/staff/bank?month=2026-10")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    line = re.search(r'name="line_ref" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    account = re.search(r'name="account" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answers = [staff.post("/staff/bank/import", data={"csrf": csrf, "month": "2026-10"},
                          files={"file": ("r.txt", october_statement(Decimal("1.00")))}),
               staff.post("/staff/bank/import", data={"csrf": csrf, "month": "2026-10"},
                          files={"file": ("r.txt", b"pas un releve")}),
               staff.post("/staff/bank/assign", data={"csrf": csrf, "month": "2026-10", "account": account,
                                                      "line_ref": line, "invoice_id_0": "NOPE"}),
               staff.post("/staff/bank/assign", data={"csrf": csrf, "month": "2026-10", "account": account,
                                                      "line_ref": line, "invoice_id_0": "A", "amount_0": "1",
                                                      "invoice_id_1": "B", "amount_1": "2"}),
               staff.post(f"/staff/members/{member}/bank-account", data={"csrf": csrf, "iban": "FR76 3000 6000 0112"
                                                                         " 3456 7890 180"}),
               own.post("/account/bank-account", data={"csrf": re.search(r'name="csrf" value="([^"]+)"', own.get(
                   "/account").text).group(1), "iban": "XX00 1234"})]  # type: ignore[union-attr]
    assert [a.status_code for a in answers] == [422] * len(answers)
    found = {f"{a.request.method} {a.request.url.path} #{n}": english_in(a.text)[0] for n, a in enumerate(answers)}
    assert {k: v for k, v in found.items() if v} == {}
