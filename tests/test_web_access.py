"""Issues 10 and 14: who sees what, for every route of the app and every kind of caller.

The matrix is generated from the route table (`web.routing.RULES`): each route
× anonymous, a member on their own id, a member on another member's id, the
board, the staff, an admin, with the status its rule implies: 401 (API) or a
redirect to the login (pages) for anonymous callers; 403 for a role the route
does not serve; 404 for another member's id (the same answer as for an id
that does not exist); and otherwise a page or a document. A route the table
does not know fails `test_every_route_has_a_rule`.

Issue 14, point 4: a member learns nothing of other members. Every answer a
member gets, on every route open to them (pages, JSON, the PDF, charts' data,
headers), with every id of theirs or shared (each assembly, each resolution)
and each month, is searched for the other members' ids, names, documents and
figures: a ledger where another member voted, had a vote not counted, gave a
proxy to our member and invoiced odd amounts.
"""

from __future__ import annotations

import html
import io
import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pypdf import PdfReader
from sqlalchemy import Engine, select
from starlette.routing import Mount

from engine.french import number
from engine.money import fmt, parse_amount
from governance.store import load_assembly, load_meetings
from ledger import schema
from streams.embedded import ingest
from streams.pipeline import Raw
from web.access import Role, Rule
from web.routing import RULES
from tests.web_support import (IDENTITIES, VALID, Declared, WebLedger, clients, declared_routes,  # noqa: F401
                               every_route, web)

CALLERS = ("anonymous", "member_own", "member_other", "board", "staff", "admin")
OPEN_DOCS = {"/api/openapi.json", "/api/docs", "/docs/oauth2-redirect", "/static"}
OWN, OTHER = IDENTITIES["member"][2], IDENTITIES["other_member"][2]


def _url(route: Declared, caller: str) -> str:
    return route.url({**VALID, "member_id": OTHER if caller == "member_other" else OWN})


def expected(rule: Rule, caller: str, method: str, api: bool) -> int | str:
    """The status the rule implies, or "served" (the caller got past every rule)."""
    if rule.roles is None:
        return "served"
    if caller == "anonymous":
        return 401 if api else 303
    role = Role.MEMBER if caller.startswith("member") else Role(caller)
    if role not in rule.roles:
        return 403
    if rule.member_param and caller == "member_other":
        return 404
    return "served"


CASES = [(method, path, caller) for (method, path) in sorted(RULES) for caller in CALLERS]


def test_every_route_has_a_rule(web: WebLedger) -> None:
    app = web.app()
    everything = every_route(list(app.routes))
    routes = {(method, route.path) for route in everything if isinstance(route, APIRoute)
              for method in route.methods}
    unruled = sorted(r for r in routes if r not in RULES and r[1] not in OPEN_DOCS)
    assert unruled == [], f"routes without an access rule: {unruled}"
    assert routes >= set(RULES)
    others = [getattr(r, "path", r) for r in everything if not isinstance(r, (APIRoute, Mount))]
    assert set(others) <= OPEN_DOCS, others  # the OpenAPI document and its viewer, nothing else


def test_the_access_matrix(web: WebLedger, clients: dict[str, Any]) -> None:
    """Every route × every caller (one ledger, one login per identity): the mismatches, all at once."""
    routes = {(r.method, r.path): r for r in declared_routes(web.app())}
    secrets = others_facts(web.engine, OWN)
    wrong = [problem for method, path, caller in CASES
             if (problem := _check(web, clients, routes[(method, path)], caller, secrets)) is not None]
    assert wrong == [], f"{len(wrong)} of {len(CASES)} cases:\n" + "\n".join(wrong)
    assert len(CASES) > 200  # (the table is the app's, whole)


def _check(web: WebLedger, clients: dict[str, Any], route: Declared, caller: str, secrets: set[str]) -> str | None:
    method, rule, api = route.method, route.rule, route.api
    identity = {"member_own": "member", "member_other": "member"}.get(caller, caller)
    client = clients["anonymous" if caller == "anonymous" or api else identity]
    headers = web.bearer(identity) if api and caller != "anonymous" else {}
    url = _url(route, caller)
    query = {name: VALID[name] for name in route.query if name in VALID}
    if method == "GET":
        response = client.get(url, params=query, headers=headers, follow_redirects=False)
    else:  # a form without its CSRF token: refused by the rule, or once past it by the CSRF check
        response = client.request(method, url, params=query, headers=headers, content=b"" if api else None,
                                  data=None if api else {"x": "1"}, follow_redirects=False)
    want = expected(rule, caller, method, api)
    got = response.status_code
    where = f"{method} {url} as {caller}: {got}"
    if want == "served":
        if method == "POST" and not api:  # past the rule, the missing CSRF token is refused
            ok = got == 403 and "Formulaire" in response.text
        elif method in ("POST", "PUT"):  # an API write: an empty body is refused (422)
            ok = got in (200, 303, 401, 422)
        else:
            ok = got in (200, 303)
        if ok and caller == "member_own" and (found := leaks(response, secrets)):
            return f"{where}: shows other members' {sorted(found)}"
        return None if ok else f"{where}, expected to be served ({response.text[:120]!r})"
    if got != want:
        return f"{where}, expected {want} ({response.text[:120]!r})"
    if want == 303 and not response.headers["location"].startswith("/login"):
        return f"{where}, sent to {response.headers['location']}, not to the login"
    if api and set(response.json()) != {"error"}:
        return f"{where}, not an {{\"error\"}} document"
    if want == 404:  # another member's id says no more than an id that does not exist
        unknown = client.get(url.replace(OTHER, "M999"), params=query, headers=headers, follow_redirects=False)
        if (unknown.status_code, unknown.text) != (got, response.text):
            return f"{where}, but an unknown member gives {unknown.status_code}: an existence oracle"
    return None


# -- issue 14, point 4: nothing of other members in what a member is answered ---------------------

# Another member's facts, as odd as can be told apart: a vote not counted (not an associate), an
# attendance, a proxy to our member, an invoice and an expense with figures found nowhere else.
# Our member votes too: once absent (not counted), once present (counted).
ODD_FIGURES = ("7654.32", "1234.56", "9185.18", "246.91")
OTHERS_EVENTS = [
    {"type": "invoice.issued", "invoice_id": "F-M003-0042", "member_id": OTHER, "issued_on": "2026-10-12",
     "client": "Zorglub Confidentiel",
     "lines": [{"label": "Audit secret", "amount_ht": "7654.32", "vat_rate": "0.20"}]},
    {"type": "expense.recorded", "expense_id": "X-M003-0042", "member_id": OTHER, "spent_on": "2026-10-13",
     "supplier": "Fournisseur Quux", "amount_ht": "1234.56", "vat": "246.91", "direct_cost": False},
    {"type": "attendance.recorded", "meeting_id": "AG2026", "member_id": OTHER, "mode": "present"},
    {"type": "vote.cast", "resolution_id": "R1", "member_id": OTHER, "choice": "against"},
    {"type": "proxy.given", "assembly_id": "AG2026", "from_member": OTHER, "to_member": OWN},
    {"type": "vote.cast", "resolution_id": "R2", "member_id": OWN, "choice": "for"},
    {"type": "attendance.recorded", "meeting_id": "AGE2026", "member_id": OWN, "mode": "present"},
    {"type": "vote.cast", "resolution_id": "R3", "member_id": OWN, "choice": "blank"},
]


@pytest.fixture
def shared_ledger(web: WebLedger) -> WebLedger:
    """The web ledger, with the facts above recorded."""
    raws = [Raw(json.dumps({"event_id": f"others-{n}", "occurred_at": "2026-10-20T10:00:00Z", **event}).encode(),
                f"test:{n}") for n, event in enumerate(OTHERS_EVENTS)]
    done = ingest(web.engine, iter(raws), web.rules)
    assert not done.dead_letters, done.dead_letters
    return web


def others_facts(engine: Engine, own: str) -> set[str]:
    """What a member must never be shown of the others: their ids and names, their documents'
    ids and clients, and the odd figures above (as the pages, the JSON and the PDF write them);
    less what is also a word of the member's own (A01 is "Alice", and so is our member)."""
    m, i, d = schema.members, schema.invoices, schema.documents
    with engine.connect() as conn:
        members = conn.execute(select(m.c.member_id, m.c.name)).all()
        facts = {text for row in members if row.member_id != own for text in row}
        facts |= {text for row in conn.execute(select(i.c.invoice_id, i.c.client).where(i.c.member_id != own))
                  for text in row}
        facts |= set(conn.scalars(select(d.c.doc_id).where(d.c.member_id != own)))
        mine = " ".join(str(text) for row in members if row.member_id == own for text in row)
    figures = {f for amount in ODD_FIGURES for f in (fmt(parse_amount(amount)), number(parse_amount(amount)))}
    return {f for f in facts if not _word(f, mine + " " + IDENTITIES["member"][0])} | figures


def _word(fact: str, text: str) -> bool:
    """`fact` in `text` as a whole word or id (so a CSRF token's random letters are not a name)."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(fact)}(?![0-9A-Za-z])", text) is not None


def leaks(response: Any, facts: set[str]) -> set[str]:
    """The facts found in an answer: its body (the PDF's text), and its headers. A figure is found
    however its thousands are spaced (a PDF's text may lose or change the narrow space)."""
    text = leaks_text(response)
    bare = _unspaced(text)
    return {f for f in facts if _word(f, text) or (_FIGURE.fullmatch(f) and _unspaced(f) in bare)}


def leaks_text(response: Any) -> str:
    """An answer as text: its body (a PDF's extracted), then its headers."""
    body = response.content
    if body.startswith(b"%PDF"):
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    else:
        text = response.text
    return text + " " + " ".join(f"{k}: {v}" for k, v in response.headers.items())


_FIGURE = re.compile(r"[0-9][0-9\s\u00a0\u202f]*[.,][0-9]{2}")


def _unspaced(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]", "", text)


def member_requests(web: WebLedger) -> Iterator[tuple[Declared, str, dict[str, str]]]:
    """Every GET a member may make: each route open to them, with their own id, every assembly and
    resolution of the ledger, and each month and year they could ask (the generated half)."""
    with web.engine.connect() as conn:
        assemblies = [a.assembly_id for a in load_meetings(conn)[0]]
        resolutions = [r.resolution_id for a in assemblies for r in load_assembly(conn, a).resolutions]
    choices = {"member_id": [OWN], "assembly_id": assemblies, "resolution_id": resolutions,
               "month": ["2026-06", "2026-09", "2026-10"], "year": ["2026"], "gross": ["1500,00"]}
    for route in declared_routes(web.app()):
        if route.method != "GET" or not route.serves(Role.MEMBER):
            continue
        names = [n for n in (*route.path_params, *route.query) if n in choices]
        for values in itertools.product(*(choices[n] for n in names)):
            given = dict(zip(names, values))
            yield route, route.url(given), {n: v for n, v in given.items() if n in route.query}


def test_a_member_learns_nothing_of_other_members(shared_ledger: WebLedger, clients: dict[str, Any]) -> None:
    web = shared_ledger
    facts = others_facts(web.engine, OWN)
    assert {OTHER, "Chloé Dubois", "A02", "Zorglub Confidentiel", "7 654,32".replace(" ", "\u202f")} & facts
    seen, shown = 0, []
    for route, url, query in member_requests(web):
        client = clients["anonymous" if route.api else "member"]
        response = client.get(url, params=query, headers=web.bearer("member") if route.api else {},
                              follow_redirects=False)
        assert response.status_code in (200, 303), f"GET {url} {query}: {response.status_code}"
        seen += 1
        if found := leaks(response, facts):
            shown.append(f"GET {url} {query}: {sorted(found)}")
    assert shown == [], f"{len(shown)} of {seen} answers show other members:\n" + "\n".join(shown)
    assert seen > 20


def test_a_member_sees_the_counts_and_their_own_votes(shared_ledger: WebLedger, clients: dict[str, Any]) -> None:
    """What the member is shown instead: the same counts and result as the board, and their votes'
    fate (R2: cast while absent, not counted; R3: counted), on the API and on the page."""
    web = shared_ledger
    api = clients["anonymous"]
    for resolution, fate in (("R2", (False, "absent")), ("R3", (True, None))):
        board = api.get(f"/api/tally/{resolution}", headers=web.bearer("board")).json()
        mine = api.get(f"/api/tally/{resolution}", headers=web.bearer("member")).json()
        assert {k: v for k, v in mine.items() if k != "own_votes"} == {
            k: v for k, v in board.items() if k != "not_counted"}
        assert [(v["counted"], v["reason"]) for v in mine["own_votes"]] == [fate]
    page = html.unescape(clients["member"].get("/assemblies/AG2026").text)
    assert "Votre vote : pour — non compté : vous n'étiez pas présent" in page
    assert "Non comptés" not in page
    pdf = clients["member"].get(f"/members/{OWN}/statement.pdf", params={"month": "2026-10"})
    assert "Alice Martin" in leaks_text(pdf)
