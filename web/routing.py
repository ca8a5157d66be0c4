"""Routes that say whom they serve, and the request's caller: from its session cookie or its token.

Every route is declared with `Routes.page` or `Routes.api`, which records its
`Rule` (the roles it serves, the path parameter that names a member) in
`RULES`; the access test goes through that table, route by route and role by
role, and fails for a route that is not in it. Pages know their caller by a
signed cookie holding a session id only (`web.sessions`); the API by
`Authorization: Bearer TOKEN`. A page's POST must carry its session's CSRF
token, and declares its form (`FORMS`, `web.inputs`): the route reads only
those fields, checked; every route's path and query are checked too.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, Engine

from engine.config import Rules
from governance.config import GovernanceConfig
from ledger.db import reading
from web import accounts, sessions
from web.access import Caller, Forbidden, Role, Rule, require
from web.data import Reader
from web.inputs import Form, NoFields, plain_parameters, validated

if TYPE_CHECKING:
    from streams.pipeline import Raw
    from streams.publish import Published

Publisher = Callable[[list["Raw"]], "Published"]  # sends events to Kafka (web.server.kafka_publisher)

COOKIE = "cae_session"
RULES: dict[tuple[str, str], Rule] = {}  # (method, path) -> rule, for every route of the app
FORMS: dict[tuple[str, str], type[Form]] = {}  # (method, path) -> the form a page's POST takes


class NeedLogin(Exception):
    """No signed-in caller: a page sends to /login, the API answers 401."""


class MustChangePassword(Exception):
    """Signed in with a temporary password: every page but these sends to the password form."""


PASSWORD_PAGE = "/account/password"
WHILE_TEMPORARY = (PASSWORD_PAGE, "/logout")


class BadCsrf(Exception):
    """A form posted without its session's token (or from another session)."""


@dataclass
class Site:
    """What every request needs: the ledger, the rules, and how sessions are signed."""

    engine: Engine
    rules: Rules
    governance: GovernanceConfig
    config_path: str | None
    signer: URLSafeSerializer
    secure_cookies: bool
    zone: ZoneInfo
    reader: Reader  # the ledger read for the routes, answers kept until it changes (web.data)
    publish: Publisher | None = None  # events go to Kafka instead of `process`, when set (web.intake)

    def reading(self) -> AbstractContextManager[Connection]:
        """A connection for a page or an API answer that only reads: on SQLite its transaction
        is deferred, so readers never queue behind one another nor behind a writer (WAL)."""
        return reading(self.engine)

    def today(self) -> date:
        """Today where the cooperative is (`[schedule] timezone`): where its months end."""
        return datetime.now(self.zone).date()


def public_url(request: Request) -> str:
    """Where members reach the site, for the links in the emails it sends (issue 17): `CAE_BASE_URL`
    as the CLI's `--base-url` reads it, else the address this request came to (set it behind a
    proxy, so that no Host header a client sends ends up in a member's email)."""
    return (os.environ.get("CAE_BASE_URL") or str(request.base_url)).rstrip("/")


def site(request: Request) -> Site:
    found: Site = request.app.state.site
    return found


def cookie_session(request: Request) -> sessions.Session | None:
    """The request's live session, if its cookie is ours and not ended (read once per request).

    The cookie holds, signed, a session's id, or before login `{"csrf": token}`: the login
    form's session, which nothing stores (`web.sessions.anonymous`)."""
    if hasattr(request.state, "cae_session"):
        cached: sessions.Session | None = request.state.cae_session
        return cached
    found = None
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            held = site(request).signer.loads(raw)
        except BadSignature:
            held = None
        if isinstance(held, str):
            id_hash = sessions.digest(held)
            record = site(request).reader.kept(("session", id_hash), lambda conn: sessions.record(conn, id_hash))
            lookup = sessions.lookup(held, record, sessions.now())
            if lookup.end or lookup.seen:
                with site(request).engine.begin() as conn:
                    sessions.record_lookup(conn, held, lookup)
            found = lookup.session
        elif isinstance(held, dict) and isinstance(held.get("csrf"), str):
            found = sessions.Session(None, held["csrf"], None)
    request.state.cae_session = found
    return found


def set_session_cookie(response: Response, here: Site, session: sessions.Session) -> None:
    """The session's cookie: its id (or before login its CSRF token) signed, out of scripts' reach,
    never sent by another site."""
    held = session.id if session.id is not None else {"csrf": session.csrf}
    response.set_cookie(COOKIE, here.signer.dumps(held), httponly=True, samesite="strict",
                        secure=here.secure_cookies, path="/")


# The two ways in are coroutines: they read the session or token kept since the ledger last
# changed (a dict and a pragma) without a hop to the thread pool, which costs more than that.

async def page_caller(request: Request) -> Caller:
    session = cookie_session(request)
    if session is None or session.caller is None:
        raise NeedLogin()
    if session.must_change_password and request.url.path not in WHILE_TEMPORARY:
        raise MustChangePassword()
    return session.caller


async def api_caller(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NeedLogin()
    digest = sessions.digest(secret.strip())  # the key kept: a hash, never the token itself
    caller = site(request).reader.kept(("token", digest), lambda conn: accounts.caller_of_digest(conn, digest))
    if caller is None:
        raise NeedLogin()
    return caller


async def checked_form(request: Request) -> dict[str, str]:
    """A page's posted form, once its CSRF token is checked against the session's: the fields its
    route declares (`FORMS`), each checked (`web.inputs`: a 422 otherwise), absent ones empty."""
    form = await request.form()
    session = cookie_session(request)
    token = form.get("csrf")
    if session is None or not sessions.csrf_matches(session, token if isinstance(token, str) else None):
        raise BadCsrf()
    declared = FORMS[(request.method, request.scope["route"].path)]
    return validated(declared, {k: v for k, v in form.items() if isinstance(v, str)})


class Routes:
    """An APIRouter whose routes declare whom they serve."""

    def __init__(self) -> None:
        self.router = APIRouter()

    def _add(self, method: str, path: str, roles: frozenset[Role] | None, member_param: str | None,
             get_caller: Callable[[Request], Awaitable[Caller]], **options: Any) -> Callable[[Callable[..., Any]], Any]:
        RULES[(method, path)] = Rule(roles, member_param)
        dependencies = []
        if roles is not None:
            async def allowed(caller: Caller = Depends(get_caller)) -> None:
                require(caller, roles)
            dependencies.append(Depends(allowed))
        dependencies.append(Depends(plain_parameters))  # after the caller: a stranger learns nothing

        def register(handler: Callable[..., Any]) -> Any:
            self.router.add_api_route(path, handler, methods=[method], dependencies=dependencies, **options)
            return handler
        return register

    def page(self, method: str, path: str, roles: frozenset[Role] | None, member_param: str | None = None,
             form: type[Form] = NoFields, **options: Any) -> Callable[[Callable[..., Any]], Any]:
        """A page; `roles=None` for the open ones (login), served to anyone. A POST names its `form`."""
        if method == "POST":
            FORMS[(method, path)] = form
        return self._add(method, path, roles, member_param, page_caller, include_in_schema=False, **options)

    def api(self, method: str, path: str, roles: frozenset[Role] | None, member_param: str | None = None,
            **options: Any) -> Callable[[Callable[..., Any]], Any]:
        return self._add(method, path, roles, member_param, api_caller, **options)


__all__ = ["BadCsrf", "FORMS", "Forbidden", "MustChangePassword", "NeedLogin", "PASSWORD_PAGE", "RULES", "Routes",
           "Site", "api_caller", "checked_form", "cookie_session", "page_caller", "set_session_cookie", "site"]
