"""Signing in and out, each role's home, one's API tokens, and the admin's accounts page."""

from __future__ import annotations

import logging

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from engine.messages import text_of
from web import accounts, data, sessions, throttle
from web.access import BOOKS, EVERYONE, Caller, Hidden, Role
from web.inputs import Form, RowId, Text
from web.render import render
from web.routing import (COOKIE, PASSWORD_PAGE, Routes, Site, checked_form, cookie_session, page_caller,
                         set_session_cookie, site)

log = logging.getLogger("cae.web")
routes = Routes()
ADMIN = frozenset({Role.ADMIN})


class Login(Form):
    email: Text = ""
    password: Text = ""
    next: Text = ""


class TokenName(Form):
    name: Text = ""


class NewAccount(Form):
    email: Text = ""
    password: Text = ""
    role: Text = ""
    member_id: Text = ""


class PasswordChange(Form):
    current: Text = ""
    new: Text = ""
    confirm: Text = ""


class AccountChange(Form):
    action: Text = ""
    role: Text = ""
    member_id: Text = ""


def _safe_next(target: str | None) -> str:
    """Only a path of this site: `/login?next=https://evil.example` goes home instead."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@routes.page("GET", "/login", roles=None)
def login_form(request: Request, next: str | None = None) -> Response:
    """The login form. A visitor without a session gets its CSRF token in a signed cookie, and
    no row: reading the form writes nothing (issue 14, point 6)."""
    session = cookie_session(request)
    if session is not None and session.caller is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    fresh = session is None
    if session is None:
        session = request.state.cae_session = sessions.anonymous()
    response = render(request, "login.html", {"next": _safe_next(next), "error": None})
    if fresh:
        set_session_cookie(response, site(request), session)
    return response


@routes.page("POST", "/login", roles=None, form=Login)
async def login(request: Request) -> Response:
    form = await checked_form(request)
    before = cookie_session(request)
    target = _safe_next(form.get("next"))
    here = site(request)
    try:
        with here.engine.begin() as conn:
            session = accounts.sign_in(conn, form.get("email", ""), form.get("password", ""), _address(request),
                                       ending=before.id if before else None)
    except throttle.Throttled as exc:
        return _login_refused(request, target, text_of(exc, "fr"), 429)
    except accounts.TemporaryExpired as exc:
        return _login_refused(request, target, text_of(exc, "fr"), 401)
    finally:
        _purge(here)
    if session is None:
        return _login_refused(request, target, "Adresse ou mot de passe incorrect.", 401)
    response = RedirectResponse(PASSWORD_PAGE if session.must_change_password else target, status_code=303)
    set_session_cookie(response, here, session)
    return response


def _login_refused(request: Request, target: str, error: str, status: int) -> Response:
    return render(request, "login.html", {"next": target, "error": error}, status)


def _address(request: Request) -> str:
    """Who is trying: the client's address (uvicorn takes it from the proxy's X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"


def _purge(here: Site) -> None:
    """Sessions and failed logins past use are purged at each login attempt, in a transaction of their
    own: a purge that fails (a role not granted DELETE yet) is logged, and costs no one their login."""
    try:
        with here.engine.begin() as conn:
            sessions.purge(conn, sessions.now())
    except DBAPIError as exc:
        log.warning("sessions and failed logins not purged (cae migrate --grant ROLE?): %s",
                    str(exc.orig).splitlines()[0])


@routes.page("POST", "/logout", roles=EVERYONE)
async def logout(request: Request) -> Response:
    await checked_form(request)
    session = cookie_session(request)
    if session is not None and session.id is not None:
        with site(request).engine.begin() as conn:
            sessions.end(conn, session.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@routes.page("GET", "/", roles=EVERYONE)
def home(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """Each role's home: a member's month, the staff's month, the board's assemblies."""
    if caller.role is Role.MEMBER:
        return RedirectResponse(f"/members/{caller.member_id}/statement", status_code=303)
    if caller.role in BOOKS:
        return RedirectResponse("/staff", status_code=303)
    return RedirectResponse("/board", status_code=303)


@routes.page("GET", "/account", roles=EVERYONE)
def account(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    with site(request).reading() as conn:
        tokens = accounts.tokens_of(conn, caller.user_id)
        own = data.bank_accounts(conn, caller, caller.member_id)[0] if caller.member_id else None  # issue 16
    return render(request, "account.html", {"tokens": tokens, "created": None, "bank_account": own})


@routes.page("POST", "/account/tokens", roles=EVERYONE, form=TokenName)
async def new_token(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    with site(request).engine.begin() as conn:
        token_id, secret = accounts.create_token(conn, caller.email, form.get("name", "").strip() or "jeton",
                                                 caller.label)
        tokens = accounts.tokens_of(conn, caller.user_id)
    return render(request, "account.html", {"tokens": tokens, "created": (token_id, secret)})


@routes.page("POST", "/account/tokens/{token_id}/revoke", roles=EVERYONE)
async def revoke(request: Request, token_id: str, caller: Caller = Depends(page_caller)) -> Response:
    await checked_form(request)
    with site(request).engine.begin() as conn:
        if token_id not in {t[0] for t in accounts.tokens_of(conn, caller.user_id)}:
            raise Hidden(token_id)
        accounts.revoke_token(conn, token_id, caller.label)
    return RedirectResponse("/account", status_code=303)


@routes.page("GET", PASSWORD_PAGE, roles=EVERYONE)
def password_form(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    return _password_page(request)


@routes.page("POST", PASSWORD_PAGE, roles=EVERYONE, form=PasswordChange)
async def change_password(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """One's own password changed (issue 14, point 7): every session and token of the account ends,
    and this browser gets a new session, so that the person who changed it stays signed in."""
    form = await checked_form(request)
    new = form.get("new", "")
    if new != form.get("confirm", ""):
        return _password_page(request, "Les deux nouveaux mots de passe diffèrent.", 422)
    here = site(request)
    try:
        with here.engine.begin() as conn:
            accounts.change_password(conn, caller.email, form.get("current", ""), new, _address(request),
                                     caller.label)
            session = request.state.cae_session = sessions.start(conn, caller, False)
    except throttle.Throttled as exc:
        return _password_page(request, text_of(exc, "fr"), 429)
    except accounts.AccountError as exc:
        return _password_page(request, text_of(exc, "fr"), 422)
    response = render(request, "password.html", {"error": None, "done": True})
    set_session_cookie(response, here, session)
    return response


def _password_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    session = cookie_session(request)
    return render(request, "password.html", {"error": error, "done": False,
                                             "temporary": session is not None and session.must_change_password},
                  status)


@routes.page("GET", "/admin/accounts", roles=ADMIN)
def accounts_page(request: Request, caller: Caller = Depends(page_caller), error: str | None = None) -> Response:
    with site(request).reading() as conn:
        found = accounts.accounts(conn)
    return render(request, "accounts.html", {"accounts": found, "roles": [r.value for r in Role], "error": error})


@routes.page("POST", "/admin/accounts", roles=ADMIN, form=NewAccount)
async def add_account(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    try:
        with site(request).engine.begin() as conn:
            accounts.add_user(conn, form.get("email", ""), form.get("password", ""), form.get("role", ""),
                              form.get("member_id") or None, caller.label)
    except accounts.AccountError as exc:
        return _refused(request, exc)
    return RedirectResponse("/admin/accounts", status_code=303)


@routes.page("POST", "/admin/accounts/{user_id}", roles=ADMIN, form=AccountChange)
async def change_account(request: Request, user_id: RowId, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    try:
        with site(request).engine.begin() as conn:
            if form.get("action") == "reset":
                return _reset(request, conn, user_id, caller)
            if form.get("action") in ("disable", "enable"):
                accounts.set_disabled(conn, user_id, form.get("action") == "disable", caller.label)
            else:
                accounts.set_role(conn, user_id, form.get("role", ""), form.get("member_id") or None, caller.label)
    except accounts.AccountError as exc:  # nothing written, nothing audited: the transaction is rolled back
        return _refused(request, exc)
    return RedirectResponse("/admin/accounts", status_code=303)


def _reset(request: Request, conn: Connection, user_id: int, caller: Caller) -> Response:
    """The admin resets an account's password: the temporary one is on this page, once (issue 14, point 7)."""
    found = {a.id: a for a in accounts.accounts(conn)}
    if user_id not in found:
        raise Hidden(str(user_id))
    temporary, until = accounts.reset_password(conn, found[user_id].email, caller.label)
    return render(request, "accounts.html", {"accounts": accounts.accounts(conn), "roles": [r.value for r in Role],
                                             "error": None, "reset": (found[user_id].email, temporary, until),
                                             "zone": site(request).zone})


def _refused(request: Request, exc: accounts.AccountError) -> Response:
    """The accounts page again, saying why the change was refused."""
    with site(request).reading() as conn:
        found = accounts.accounts(conn)
    return render(request, "accounts.html", {"accounts": found, "roles": [r.value for r in Role],
                                             "error": text_of(exc, "fr")}, 422)
