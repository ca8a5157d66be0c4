"""The application `cae serve` runs: pages (Jinja2, in French) and the JSON API (FastAPI).

Errors speak each side's language: the API answers `{"error": "one line"}`
with 401, 403, 404 or 422 (CONTRACT §4); a page sends an anonymous visitor to
the login form and shows the others a page in French. Another member's id is
"not found", exactly like an id that does not exist. Responses carry headers
that keep the pages to themselves (no framing, no inline script, no referrer,
no cache: `web.guards`), and a body is cut off past its limit while it is read.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from itsdangerous import URLSafeSerializer
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.routing import Match

from engine.config import Rules, read_config
from engine.messages import text_of
from engine.schedule import parse_schedule
from governance.config import GovernanceConfig
from ledger.changes import ChangeWatch
from streams.topics import KafkaUnavailable
from web import (accounts, api, api_assembly, pages_account, pages_assembly, pages_board, pages_member,
                 pages_staff)
from web import pages_convocations, pages_mail  # issue 17: the board's convocations and minutes, the mail log
from web import api_bank, pages_bank, pages_member_bank  # the treasury (issue 16)
from web.access import Forbidden, Hidden
from web.data import Reader
from web.guards import BodyLimit, SecurityHeaders
from web.inputs import in_french
from web.months import BadMonth
from web.pdf import PdfUnavailable
from web.readcache import ReadCache
from web.render import HERE, render
from web.routing import PASSWORD_PAGE, BadCsrf, MustChangePassword, NeedLogin, Publisher, Routes, Site

log = logging.getLogger("cae.web")

def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def _error(request: Request, status: int, message: str, code: str | None = None) -> Response:
    """The API's `{"error"}` (with the catalogue's `code` when the refusal has one), or a page."""
    if _is_api(request):
        headers = {"www-authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": message, **({"code": code} if code else {})}, status_code=status,
                            headers=headers)
    return render(request, "error.html", {"status": status, "message": message}, status)


def _without_slash(request: Request) -> str | None:
    """`/staff/` -> `/staff` when that is a route: a path of this site, never a URL made from the
    request's Host header (which Starlette's own redirect uses: a forged Host made it send
    visitors elsewhere). Only a path a route matches, so never `//elsewhere.example`."""
    path = request.url.path
    if path == "/" or not path.endswith("/"):
        return None
    probe = {**request.scope, "path": path.rstrip("/")}
    if not any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
        return None
    return probe["path"] + (f"?{request.url.query}" if request.url.query else "")


THREADS = 4  # the routes' thread pool, per process

# The icon every browser asks for at /favicon.ico: a small file, not a 404 in every log (issue 15, point 7).
icon = Routes()


@icon.page("GET", "/favicon.ico", roles=None)
def favicon() -> FileResponse:
    return FileResponse(HERE / "static" / "favicon.ico", media_type="image/x-icon")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The app's start and end. It runs the routes on a few threads, not anyio's default 40:
    their work holds the GIL (SQLite runs in the process), and more threads only take turns at
    it, slower (bench/web.py). At the end it closes the change watcher's own connection."""
    to_thread.current_default_thread_limiter().total_tokens = app.state.threads
    try:
        yield
    finally:
        app.state.site.reader.cache.watch.close()


def create_app(engine: Engine, rules: Rules, governance: GovernanceConfig, *, config_path: str | None = None,
               secure_cookies: bool = False, publish: Publisher | None = None,
               threads: int = THREADS) -> FastAPI:
    # No documentation viewer: FastAPI's loads its script from a CDN, which the pages' policy forbids
    # (issue 14); the OpenAPI document opens in any viewer. No redirect from a trailing slash made
    # from the Host header: `_without_slash` sends to the path alone.
    app = FastAPI(title="CAE engine", version="1", openapi_url="/api/openapi.json", docs_url=None,
                  redoc_url=None, lifespan=_lifespan, redirect_slashes=False)
    with engine.begin() as conn:
        key = accounts.signing_key(conn)
    zone = parse_schedule(*read_config(config_path)).zone
    app.state.threads = threads
    reader = Reader(engine, ReadCache(ChangeWatch(engine)))
    app.state.site = Site(engine, rules, governance, config_path, URLSafeSerializer(key, salt="session"),
                          secure_cookies, zone, reader, publish)
    for module in (api, api_assembly, pages_account, pages_member, pages_staff, pages_board, pages_assembly):
        app.include_router(module.routes.router)
    for module in (pages_convocations, pages_mail):
        app.include_router(module.routes.router)
    app.include_router(icon.router)
    for module in (api_bank, pages_bank, pages_member_bank):
        app.include_router(module.routes.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, hsts=secure_cookies)

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin) -> Response:
        if _is_api(request):
            return _error(request, 401, "no valid credentials: send Authorization: Bearer TOKEN")
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(MustChangePassword)
    async def must_change_password(request: Request, exc: MustChangePassword) -> Response:
        return RedirectResponse(PASSWORD_PAGE, status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, "this is not open to your role" if _is_api(request) else
                      "Cette page n'est pas ouverte à votre rôle.")

    @app.exception_handler(Hidden)
    async def hidden(request: Request, exc: Hidden) -> Response:
        return _error(request, 404, "not found" if _is_api(request) else "Page introuvable.")

    @app.exception_handler(BadCsrf)
    async def bad_csrf(request: Request, exc: BadCsrf) -> Response:
        return _error(request, 403, "Formulaire expiré ou envoyé d'ailleurs : rechargez la page et recommencez.")

    @app.exception_handler(BadMonth)
    async def bad_month(request: Request, exc: BadMonth) -> Response:
        return _error(request, 422, f"month: {exc}" if _is_api(request) else text_of(exc, "fr"), exc.message.code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        api = _is_api(request)
        return _error(request, 422, f"{where}: {first.get('msg', 'invalid')}" if api else in_french(first))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _error(request, 500, "internal error" if _is_api(request) else "Erreur interne : elle est consignée.")

    @app.exception_handler(PdfUnavailable)
    async def no_pdf(request: Request, exc: PdfUnavailable) -> Response:
        # Why is for the staff (their health page, the log), not for a member (issue 15, point 5).
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return _error(request, 503, "Le PDF n'est pas disponible sur ce serveur pour le moment : "
                                    "l'équipe d'appui en voit la raison sur sa page d'état du service.")

    @app.exception_handler(KafkaUnavailable)
    async def no_kafka(request: Request, exc: KafkaUnavailable) -> Response:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return _error(request, 503, str(exc) if _is_api(request) else
                      "Kafka ne répond pas : rien n'a été envoyé, recommencez dans un moment.")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            target = _without_slash(request)
            if target is not None:
                return RedirectResponse(target, status_code=307)
            message = "not found" if _is_api(request) else "Page introuvable."
        if exc.status_code == 413 and not _is_api(request):
            message = "Envoi trop volumineux : il dépasse ce que le serveur accepte."
        return _error(request, exc.status_code, message)

    return app

