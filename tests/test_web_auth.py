"""Issue 10: accounts, sessions, CSRF, tokens and throttling hold as a careful reviewer would try them."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text, update

from ledger import schema
from ledger.db import make_engine
from tests.conftest import owner_url
from tests.kafka_fixtures import CAE
from tests.web_support import IDENTITIES, PASSWORD, WebLedger, csrf_of, login, web  # noqa: F401 — the fixture
from web.accounts import MAX_FAILURES

INVOICE = {"csrf": "", "type": "invoice.issued", "event_id": "web-test-1", "invoice_id": "F-WEB-1", "member_id": "M001",
           "issued_on": "2026-11-05", "client": "Atelier Nord", "label_0": "Conseil", "amount_ht_0": "1 000,00",
           "vat_rate_0": "0.20"}


def test_a_form_needs_its_sessions_csrf_token(web: WebLedger) -> None:
    client = web.client("staff")
    page = client.get("/staff/events/new?type=invoice.issued")
    for token in ("", "forged", csrf_of(web.client("staff").get("/staff").text)):  # none, made up, another session's
        refused = client.post("/staff/events", data={**INVOICE, "csrf": token})
        assert refused.status_code == 403 and "Formulaire" in refused.text
    with web.engine.connect() as conn:
        assert conn.scalar(select(schema.invoices.c.invoice_id).where(schema.invoices.c.invoice_id == "F-WEB-1")) is None
    done = client.post("/staff/events", data={**INVOICE, "csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "Enregistré" in done.text


def test_a_session_cookie_from_before_login_is_worth_nothing_after_it(web: WebLedger) -> None:
    client = web.client()
    page = client.get("/login")
    before = client.cookies.get("cae_session")
    login(client, IDENTITIES["staff"][0], PASSWORD)
    after = client.cookies.get("cae_session")
    assert before and after and before != after
    assert client.get("/staff", follow_redirects=False).status_code == 200
    stale = web.client()
    stale.cookies.set("cae_session", before)
    assert stale.get("/staff", follow_redirects=False).headers["location"].startswith("/login")
    forged = web.client()
    forged.cookies.set("cae_session", after[:-2] + ("AA" if not after.endswith("AA") else "BB"))
    assert forged.get("/staff", follow_redirects=False).status_code == 303
    assert csrf_of(page.text)  # (the login form's token belonged to the session that ended)


def test_the_session_cookie_is_httponly_strict_and_holds_only_a_signed_id(web: WebLedger) -> None:
    client = web.client()
    response = client.get("/login")
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header
    value = client.cookies.get("cae_session") or ""
    assert IDENTITIES["staff"][0] not in value and len(value) < 200
    with web.engine.connect() as conn:
        stored = list(conn.scalars(select(schema.sessions.c.id_hash)))
    assert all(len(h) == 64 and h not in value for h in stored)  # hashes, not the ids in the cookies


def test_an_idle_session_ends(web: WebLedger) -> None:
    client = web.client("staff")
    owner = make_engine(owner_url(web.db_url))
    with owner.begin() as conn:
        conn.execute(update(schema.sessions).values(last_seen=datetime.now(timezone.utc) - timedelta(minutes=31)))
    owner.dispose()
    assert client.get("/staff", follow_redirects=False).headers["location"].startswith("/login")


def test_logout_ends_the_session(web: WebLedger) -> None:
    client = web.client("staff")
    cookie = client.cookies.get("cae_session")
    page = client.get("/staff")
    assert client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    again = web.client()
    again.cookies.set("cae_session", cookie or "")
    assert again.get("/staff", follow_redirects=False).status_code == 303


def test_a_revoked_token_is_refused(web: WebLedger) -> None:
    made = json.loads(subprocess.run([CAE, "token", "create", IDENTITIES["staff"][0], "--name", "script", "--db",
                                      web.db_url, "--json"], capture_output=True, text=True, check=True).stdout)
    client, headers = web.client(), {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/me", headers=headers).json()["role"] == "staff"
    subprocess.run([CAE, "token", "revoke", made["id"], "--db", web.db_url], check=True, capture_output=True)
    refused = client.get("/api/me", headers=headers)
    assert refused.status_code == 401 and refused.json() == {"error": refused.json()["error"]}
    with web.engine.connect() as conn:
        secrets = [row for row in conn.execute(text("SELECT * FROM api_tokens"))]
    assert not any(made["token"] in str(row) for row in secrets)  # only its hash is kept


def test_logins_are_throttled_after_repeated_failures(web: WebLedger) -> None:
    client = web.client()
    email = IDENTITIES["board"][0]
    for _ in range(MAX_FAILURES):
        page = client.get("/login")
        failed = client.post("/login", data={"csrf": csrf_of(page.text), "email": email, "password": "wrong guess",
                                             "next": "/"})
        assert failed.status_code == 401 and "incorrect" in failed.text
    page = client.get("/login")
    throttled = client.post("/login", data={"csrf": csrf_of(page.text), "email": email, "password": PASSWORD,
                                            "next": "/"}, follow_redirects=False)
    assert throttled.status_code == 429 and "Trop de tentatives" in throttled.text
    login(web.client(), IDENTITIES["staff"][0], PASSWORD)  # another account is not held back


def test_passwords_are_argon2_hashes_and_every_web_write_is_audited(web: WebLedger) -> None:
    client = web.client("staff")
    page = client.get("/staff/events/new?type=invoice.issued")
    client.post("/staff/events", data={**INVOICE, "csrf": csrf_of(page.text)})
    with web.engine.connect() as conn:
        hashes = list(conn.scalars(select(schema.users.c.password_hash)))
        audit = conn.execute(select(schema.audit_log.c.actor, schema.audit_log.c.action)
                             .where(schema.audit_log.c.action == "event.enter")).all()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert audit == [(f"{IDENTITIES['staff'][0]} (web)", "event.enter")]


def test_a_login_redirect_stays_on_this_site(web: WebLedger) -> None:
    client = web.client()
    page = client.get("/login?next=https://evil.example/")
    done = client.post("/login", data={"csrf": csrf_of(page.text), "email": IDENTITIES["staff"][0], "password": PASSWORD,
                                       "next": "https://evil.example/"}, follow_redirects=False)
    assert done.headers["location"] == "/"


def test_pages_forbid_framing_and_inline_scripts(web: WebLedger) -> None:
    response = web.client("member").get("/members/M001/statement?month=2026-10")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"  # a member's figures stay out of shared caches
    assert "<script>" not in response.text
    assert "cache-control" not in web.client().get("/static/app.css").headers
