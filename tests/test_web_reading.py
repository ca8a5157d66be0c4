"""Issue 14, point 6: reading writes nothing.

Every page and endpoint read with GET, by every kind of caller, leaves every table with the
rows it had (a session's last use may be noted: a change, not a row). The reconciliation is
recorded when someone runs it on purpose (the page's button), not at each look; a visitor who
only opens the login form leaves no session behind.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from ledger import schema
from ledger.runs import list_runs
from tests.web_support import IDENTITIES, PASSWORD, QUERY, WebLedger, csrf_of, filled, login, web  # noqa: F401 — the fixture
from web.routing import RULES


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in schema.metadata.sorted_tables}


def test_no_page_nor_endpoint_read_with_get_adds_a_row(web: WebLedger) -> None:
    callers = {identity: web.client(identity) for identity in ("staff", "board", "member", "admin")}
    before = row_counts(web.engine)
    seen = 0
    for (method, path), rule in sorted(RULES.items()):
        if method != "GET":
            continue
        for identity, client in callers.items():
            api = path.startswith("/api/")
            client.get(filled(path), params=QUERY, headers=web.bearer(identity) if api else {},
                       follow_redirects=False)
            seen += 1
    after = row_counts(web.engine)
    assert seen > 100
    assert {t: (before[t], after[t]) for t in before if before[t] != after[t]} == {}


def test_looking_at_the_reconciliation_records_no_run_and_the_button_records_one(web: WebLedger) -> None:  # noqa: F811
    client = web.client("staff")
    for _ in range(3):
        page = client.get("/staff/reconcile", params={"month": "2026-10"})
        assert page.status_code == 200 and "Aucun rapprochement enregistré pour ce mois" in page.text
    assert client.get("/staff/reconcile.csv", params={"month": "2026-10"}).status_code == 200
    assert client.get("/api/reconcile", params={"month": "2026-10"}, headers=web.bearer("staff")).status_code == 200
    with web.engine.connect() as conn:
        assert [r for r in list_runs(conn, "2026-10", "reconcile")] == []

    ran = client.post("/staff/reconcile", data={"csrf": csrf_of(page.text), "month": "2026-10"}, follow_redirects=False)
    assert ran.status_code == 303 and ran.headers["location"] == "/staff/reconcile?month=2026-10"
    with web.engine.connect() as conn:
        runs = list_runs(conn, "2026-10", "reconcile")
    assert [(r.origin, r.started_by) for r in runs] == [("manual", f"{IDENTITIES['staff'][0]} (web)")]
    shown = client.get(ran.headers["location"]).text
    assert "Dernier rapprochement enregistré" in shown and IDENTITIES["staff"][0] in shown


def test_the_button_needs_its_csrf_token(web: WebLedger) -> None:  # noqa: F811
    client = web.client("staff")
    refused = client.post("/staff/reconcile", data={"csrf": "forged", "month": "2026-10"})
    assert refused.status_code == 403
    with web.engine.connect() as conn:
        assert list_runs(conn, "2026-10", "reconcile") == []


def test_a_visitor_who_only_opens_the_login_form_leaves_no_session(web: WebLedger) -> None:  # noqa: F811
    before = row_counts(web.engine)["sessions"]
    for _ in range(5):
        assert web.client().get("/login").status_code == 200  # a fresh browser each time: no cookie yet
    browser = web.client()
    page = browser.get("/login")
    assert browser.get("/login").text.count(csrf_of(page.text)) == 1  # the same browser keeps its token
    assert row_counts(web.engine)["sessions"] == before
    login(browser, IDENTITIES["staff"][0], PASSWORD)
    assert row_counts(web.engine)["sessions"] == before + 1  # signing in makes the session
    assert browser.get("/staff", follow_redirects=False).status_code == 200


def test_a_wrong_password_leaves_no_session_either(web: WebLedger) -> None:  # noqa: F811
    before = row_counts(web.engine)["sessions"]
    browser = web.client()
    page = browser.get("/login")
    failed = browser.post("/login", data={"csrf": csrf_of(page.text), "email": IDENTITIES["staff"][0],
                                          "password": "not the password", "next": "/"})
    assert failed.status_code == 401 and "incorrect" in failed.text
    assert row_counts(web.engine)["sessions"] == before
