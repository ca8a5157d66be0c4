"""Issue 10: accounts, sessions, CSRF, tokens and throttling hold as a careful reviewer would try them."""

from __future__ import annotations

import html
import json
import re
import subprocess
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update

from ledger import schema
from ledger.db import make_engine
from tests.conftest import owner_url
from tests.kafka_fixtures import CAE
from tests.web_support import IDENTITIES, PASSWORD, WebLedger, csrf_of, login, web  # noqa: F401 — the fixture
from web.throttle import MAX_FAILURES

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
    assert throttled.status_code == 429 and "trop de tentatives" in throttled.text.lower()
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


def _browser(web: WebLedger, address: str) -> TestClient:
    return TestClient(web.app(), client=(address, 50000))


def _try(client: TestClient, email: str, password: str) -> int:
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(page.text), "email": email, "password": password, "next": "/"},
                       follow_redirects=False).status_code


def test_a_stranger_failing_on_the_admins_account_does_not_lock_the_admin_out(web: WebLedger) -> None:
    """Issue 14, point 7: one wrong try every few minutes from elsewhere must not keep the owner out."""
    stranger, admin = _browser(web, "198.51.100.66"), IDENTITIES["admin"][0]
    tries = [_try(stranger, admin, "a wrong guess") for _ in range(MAX_FAILURES + 2)]
    assert tries == [401] * MAX_FAILURES + [429, 429]
    assert _try(_browser(web, "203.0.113.10"), admin, PASSWORD) == 303  # the admin, at the office
    throttled = stranger.post("/login", data={"csrf": csrf_of(stranger.get("/login").text), "email": admin,
                                              "password": PASSWORD, "next": "/"})  # the stranger's address waits
    assert throttled.status_code == 429 and "trop de tentatives depuis cette adresse" in throttled.text.lower()


def test_a_person_changes_their_password_through_the_form(web: WebLedger) -> None:
    """Issue 14, point 7: the old password, every other session and every token of the account end;
    the browser that changed it stays signed in."""
    email = IDENTITIES["staff"][0]
    browser, elsewhere = web.client("staff"), web.client("staff")
    assert web.client().get("/api/me", headers=web.bearer("staff")).status_code == 200
    page = browser.get("/account/password")
    assert page.status_code == 200 and "Changer mon mot de passe" in page.text
    form = {"csrf": csrf_of(page.text), "current": PASSWORD, "new": "a brand new passphrase",
            "confirm": "a brand new passphrase"}
    assert browser.post("/account/password", data={**form, "csrf": "forged"}).status_code == 403
    mismatch = browser.post("/account/password", data={**form, "confirm": "something else entirely"})
    assert mismatch.status_code == 422 and "diffèrent" in mismatch.text
    wrong = browser.post("/account/password", data={**form, "current": "not my password at all"})
    assert wrong.status_code == 422 and "le mot de passe actuel n'est pas le bon" in html.unescape(wrong.text).lower()
    done = browser.post("/account/password", data=form)
    assert done.status_code == 200 and "Mot de passe changé" in done.text
    assert browser.get("/staff", follow_redirects=False).status_code == 200  # still signed in, on a new session
    assert elsewhere.get("/staff", follow_redirects=False).headers["location"].startswith("/login")
    assert web.client().get("/api/me", headers=web.bearer("staff")).status_code == 401
    assert _try(web.client(), email, PASSWORD) == 401
    assert _try(web.client(), email, "a brand new passphrase") == 303


def test_an_admin_resets_a_password_and_its_owner_chooses_a_new_one(web: WebLedger) -> None:
    """Issue 14, point 7: the temporary password is shown once, ends the account's sessions and tokens,
    and signs in only to the password form."""
    email = IDENTITIES["member"][0]
    member, admin = web.client("member"), web.client("admin")
    page = admin.get("/admin/accounts")
    user_id = re.search(rf'{re.escape(email)}</td>.*?action="/admin/accounts/(\d+)"', page.text, re.S)
    assert user_id is not None
    reset = admin.post(f"/admin/accounts/{user_id.group(1)}", data={"csrf": csrf_of(page.text), "action": "reset"})
    shown = re.search(r'id="temporary-password">.*?<code>([^<]+)</code>', reset.text, re.S)
    assert reset.status_code == 200 and shown is not None
    temporary = shown.group(1)
    assert temporary not in admin.get("/admin/accounts").text  # shown once
    assert member.get("/account", follow_redirects=False).headers["location"].startswith("/login")
    assert web.client().get("/api/me", headers=web.bearer("member")).status_code == 401

    browser = web.client()
    signed = browser.post("/login", data={"csrf": csrf_of(browser.get("/login").text), "email": email,
                                          "password": temporary, "next": "/members/M001/statement"},
                          follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/account/password"
    for elsewhere in ("/members/M001/statement?month=2026-10", "/account", "/"):
        assert browser.get(elsewhere, follow_redirects=False).headers["location"] == "/account/password"
    form = browser.get("/account/password")
    assert "mot de passe provisoire" in form.text
    done = browser.post("/account/password", data={"csrf": csrf_of(form.text), "current": temporary,
                                                    "new": "alices own passphrase", "confirm": "alices own passphrase"})
    assert done.status_code == 200 and "Mot de passe changé" in done.text
    assert browser.get("/members/M001/statement?month=2026-10", follow_redirects=False).status_code == 200


def test_each_login_purges_sessions_and_failures_past_use(web: WebLedger) -> None:
    """Issue 14, point 6: nothing else removes them, and only logins add them."""
    old = datetime.now(timezone.utc) - timedelta(days=2)
    gone = web.client("staff")
    assert gone.post("/logout", data={"csrf": csrf_of(gone.get("/staff").text)}).status_code == 200
    idle = web.client("board")
    with web.engine.begin() as conn:
        conn.execute(update(schema.sessions).where(schema.sessions.c.ended_at.is_not(None)).values(ended_at=old))
        conn.execute(update(schema.sessions).where(schema.sessions.c.ended_at.is_(None)).values(last_seen=old))
        conn.execute(schema.login_failures.insert(), [{"subject": "address:192.0.2.1", "at": old}] * 3)
        before = conn.execute(select(schema.sessions.c.id_hash)).all()
    assert len(before) == 2
    login(web.client(), IDENTITIES["admin"][0], PASSWORD)
    with web.engine.connect() as conn:
        left = conn.execute(select(schema.sessions.c.user_id, schema.sessions.c.ended_at)).all()
        failures = conn.scalar(select(func.count()).select_from(schema.login_failures))
    board_id = [r.user_id for r in left if r.ended_at is not None]
    assert len(left) == 2 and len(board_id) == 1 and failures == 0  # the staff's ended session is gone;
    assert idle.get("/board", follow_redirects=False).status_code == 303  # the board's idle one ended, to go in a day
