"""Issue 10: who sees what, for every route of the app and every kind of caller.

The matrix is generated from the route table (`web.routing.RULES`): each route
× anonymous, a member on their own id, a member on another member's id, the
board, the staff, an admin, with the status its rule implies: 401 (API) or a
redirect to the login (pages) for anonymous callers; 403 for a role the route
does not serve; 404 for another member's id (the same answer as for an id
that does not exist); and otherwise a page or a document. A route the table
does not know fails `test_every_route_has_a_rule`.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

import web.api
import web.pages_account
import web.pages_board
import web.pages_member
import web.pages_staff  # noqa: F401 — importing them registers their routes
from web.access import Role, Rule
from web.routing import RULES
from tests.web_support import IDENTITIES, WebLedger, web  # noqa: F401 — the fixture

pytest_plugins: list[str] = []
CALLERS = ("anonymous", "member_own", "member_other", "board", "staff", "admin")
EXAMPLES = {"member_id": None, "resolution_id": "R1", "assembly_id": "AG2026", "letter_id": "1", "user_id": "1",
            "token_id": "t_none"}
QUERY = {"month": "2026-10", "year": "2026", "siren": "123456789"}
OPEN_DOCS = {"/api/openapi.json", "/api/docs", "/docs/oauth2-redirect", "/static"}


def _path(path: str, caller: str) -> str:
    member = "M003" if caller == "member_other" else "M001"
    for name, value in EXAMPLES.items():
        path = path.replace("{" + name + "}", value or member)
    return path


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


def _walk(routes: list[Any]) -> list[Any]:
    """Every route of the app, those of its included routers too (no prefixes here)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += _walk(inner.routes) if inner is not None else [route]
    return found


def test_every_route_has_a_rule(web: WebLedger) -> None:
    app = web.app()
    everything = _walk(list(app.routes))
    routes = {(method, route.path) for route in everything if isinstance(route, APIRoute)
              for method in route.methods}
    unruled = sorted(r for r in routes if r not in RULES and r[1] not in OPEN_DOCS)
    assert unruled == [], f"routes without an access rule: {unruled}"
    assert routes >= set(RULES)
    others = [getattr(r, "path", r) for r in everything if not isinstance(r, (APIRoute, Mount))]
    assert set(others) <= OPEN_DOCS, others  # the OpenAPI document and its viewer, nothing else


def test_the_access_matrix(web: WebLedger, clients: dict[str, Any]) -> None:
    """Every route × every caller (one ledger, one login per identity): the mismatches, all at once."""
    wrong = [problem for method, path, caller in CASES
             if (problem := _check(web, clients, method, path, caller)) is not None]
    assert wrong == [], f"{len(wrong)} of {len(CASES)} cases:\n" + "\n".join(wrong)
    assert len(CASES) > 200  # (the table is the app's, whole)


def _check(web: WebLedger, clients: dict[str, Any], method: str, path: str, caller: str) -> str | None:
    rule = RULES[(method, path)]
    api = path.startswith("/api/") or path == "/healthz"
    identity = {"member_own": "member", "member_other": "member"}.get(caller, caller)
    client = clients["anonymous" if caller == "anonymous" or api else identity]
    headers = web.bearer(identity) if api and caller != "anonymous" else {}
    url = _path(path, caller)
    if method == "GET":
        response = client.get(url, params=QUERY, headers=headers, follow_redirects=False)
    else:  # a form without its CSRF token: refused by the rule, or once past it by the CSRF check
        response = client.post(url, params=QUERY, headers=headers, content=b"" if api else None,
                               data=None if api else {"x": "1"}, follow_redirects=False)
    want = expected(rule, caller, method, api)
    got = response.status_code
    where = f"{method} {url} as {caller}: {got}"
    if want == "served":
        if method == "POST" and not api:  # past the rule, the missing CSRF token is refused
            ok = got == 403 and "Formulaire" in response.text
        elif method == "POST":
            ok = got in (200, 303, 401, 422)
        else:
            ok = got in (200, 303)
        return None if ok else f"{where}, expected to be served ({response.text[:120]!r})"
    if got != want:
        return f"{where}, expected {want} ({response.text[:120]!r})"
    if want == 303 and not response.headers["location"].startswith("/login"):
        return f"{where}, sent to {response.headers['location']}, not to the login"
    if api and set(response.json()) != {"error"}:
        return f"{where}, not an {{\"error\"}} document"
    if want == 404:  # another member's id says no more than an id that does not exist
        unknown = client.get(url.replace("M003", "M999"), params=QUERY, headers=headers, follow_redirects=False)
        if (unknown.status_code, unknown.text) != (got, response.text):
            return f"{where}, but an unknown member gives {unknown.status_code}: an existence oracle"
    return None


@pytest.fixture
def clients(web: WebLedger) -> dict[str, Any]:
    """One client per identity, signed in once (argon2 makes a login cost a fifth of a second)."""
    found: dict[str, Any] = {"anonymous": web.client()}
    for identity in IDENTITIES:
        if identity != "other_member":
            found[identity] = web.client(identity)
    return found
