"""Signing in and out, each role's home, one's API tokens, and the admin's accounts page."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from web import accounts
from web.access import BOOKS, EVERYONE, Caller, Hidden, Role
from web.app import render, set_session_cookie
from web.inputs import Form, RowId, Text
from web.routing import Routes, checked_form, cookie_session, page_caller, site

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
    session = cookie_session(request)
    if session is not None and session.caller is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    response = render(request, "login.html", {"next": _safe_next(next), "error": None})
    if session is None:  # the login form's own session: it holds the form's CSRF token, nothing else
        with site(request).engine.begin() as conn:
            session = accounts.start_session(conn, None)
        request.state.cae_session = session
        response = render(request, "login.html", {"next": _safe_next(next), "error": None})
        set_session_cookie(response, site(request), session.id)
    return response


@routes.page("POST", "/login", roles=None, form=Login)
async def login(request: Request) -> Response:
    form = await checked_form(request)
    before = cookie_session(request)
    address = request.client.host if request.client else "unknown"
    target = _safe_next(form.get("next"))
    try:
        with site(request).engine.begin() as conn:
            caller = accounts.check_password(conn, form.get("email", ""), form.get("password", ""), address)
            session = accounts.start_session(conn, caller, ending=before.id if before else None) if caller else None
    except accounts.Throttled as exc:
        return render(request, "login.html", {"next": target, "error": f"Trop de tentatives : {exc}."}, 429)
    if session is None:
        return render(request, "login.html", {"next": target, "error": "Adresse ou mot de passe incorrect."}, 401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, site(request), session.id)
    return response


@routes.page("POST", "/logout", roles=EVERYONE)
async def logout(request: Request) -> Response:
    await checked_form(request)
    session = cookie_session(request)
    if session is not None:
        with site(request).engine.begin() as conn:
            accounts.end_session(conn, session.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie("cae_session", path="/")
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
    return render(request, "account.html", {"tokens": tokens, "created": None})


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
            if form.get("action") in ("disable", "enable"):
                accounts.set_disabled(conn, user_id, form.get("action") == "disable", caller.label)
            else:
                accounts.set_role(conn, user_id, form.get("role", ""), form.get("member_id") or None, caller.label)
    except accounts.AccountError as exc:  # nothing written, nothing audited: the transaction is rolled back
        return _refused(request, exc)
    return RedirectResponse("/admin/accounts", status_code=303)


def _refused(request: Request, exc: accounts.AccountError) -> Response:
    """The accounts page again, saying why the change was refused."""
    with site(request).reading() as conn:
        found = accounts.accounts(conn)
    return render(request, "accounts.html", {"accounts": found, "roles": [r.value for r in Role],
                                             "error": str(exc)}, 422)
