"""The application `cae serve` runs: pages (Jinja2, in French) and the JSON API (FastAPI).

Errors speak each side's language: the API answers `{"error": "one line"}`
with 401, 403, 404 or 422 (CONTRACT §4); a page sends an anonymous visitor to
the login form and shows the others a page in French. Another member's id is
"not found", exactly like an id that does not exist. Responses carry headers
that keep the pages to themselves (no framing, no inline script, no referrer).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import URLSafeSerializer
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.config import Rules, read_config
from engine.schedule import parse_schedule
from engine.french import day_label, euros, local_time, month_label, number
from governance.config import GovernanceConfig
from ledger.changes import ChangeWatch
from streams.topics import KafkaUnavailable
from web import accounts
from web.access import Forbidden, Hidden
from web.data import Reader
from web.inputs import in_french
from web.readcache import ReadCache
from web.routing import COOKIE, BadCsrf, NeedLogin, Publisher, Site, cookie_session


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the system libraries it needs) is not installed."""

HERE = Path(__file__).parent
log = logging.getLogger("cae.web")
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(euros=euros, number=number, month=month_label, day=day_label, local=local_time)

_SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
_PRIVATE = ("/api/", "/members/", "/staff", "/board", "/admin", "/account")  # never kept by a cache


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page, with what every page's layout needs: the caller and the session's CSRF token."""
    session = cookie_session(request)
    return templates.TemplateResponse(request, name, {
        "caller": session.caller if session else None, "csrf": session.csrf if session else "", **context},
        status_code=status)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def _error(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        headers = {"www-authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return render(request, "error.html", {"status": status, "message": message}, status)


class SecurityHeaders:
    """The headers every answer carries, and `no-store` on private ones. Plain ASGI, not
    `@app.middleware`: that one wraps each answer in a stream of its own, a cost per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = str(scope["path"]).startswith(_PRIVATE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if private:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


THREADS = 4  # the routes' thread pool, per process


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
    from web import api, pages_account, pages_board, pages_member, pages_staff

    app = FastAPI(title="CAE engine", version="1", openapi_url="/api/openapi.json", docs_url="/api/docs",
                  redoc_url=None, lifespan=_lifespan)
    with engine.begin() as conn:
        key = accounts.signing_key(conn)
    zone = parse_schedule(*read_config(config_path)).zone
    app.state.threads = threads
    reader = Reader(engine, ReadCache(ChangeWatch(engine)))
    app.state.site = Site(engine, rules, governance, config_path, URLSafeSerializer(key, salt="session"),
                          secure_cookies, zone, reader, publish)
    for module in (api, pages_account, pages_member, pages_staff, pages_board):
        app.include_router(module.routes.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin) -> Response:
        if _is_api(request):
            return _error(request, 401, "no valid credentials: send Authorization: Bearer TOKEN")
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

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
        return _error(request, 503, str(exc))

    @app.exception_handler(KafkaUnavailable)
    async def no_kafka(request: Request, exc: KafkaUnavailable) -> Response:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return _error(request, 503, str(exc) if _is_api(request) else
                      "Kafka ne répond pas : rien n'a été envoyé, recommencez dans un moment.")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            message = "not found" if _is_api(request) else "Page introuvable."
        return _error(request, exc.status_code, message)

    return app


def set_session_cookie(response: Response, site: Site, session_id: str) -> None:
    response.set_cookie(COOKIE, site.signer.dumps(session_id), httponly=True, samesite="strict",
                        secure=site.secure_cookies, path="/")
