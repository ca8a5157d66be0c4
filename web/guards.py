"""What every request and answer of `cae serve` goes through (issue 10; issue 14, point 8).

- `SecurityHeaders`: the headers that keep the pages to themselves (no framing, no
  inline script, no referrer), `no-store` on every answer but the static files (a
  member's figures, an assembly, even `/`, which redirects by role: nothing a shared
  cache or the browser's back button should keep), and HSTS when the site is served
  over HTTPS (`cae serve --secure-cookies`);
- `BodyLimit`: a request's body is cut off at `MAX_BODY` while it is read, before the
  route has it: a declared length over it is refused before a byte is read, and a
  chunked upload as soon as it passes it. The route sees `413` as an `HTTPException`
  (`web.app` answers it in each side's language). Not FastAPI's own `max_body_size`
  (Starlette's limiter): over a declared length it replaces whatever the app answers with
  a plain English "Content Too Large", and a page must answer in French.

Plain ASGI, not `@app.middleware`: that one wraps each answer in a stream of its own, a
cost per request.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 16 * 1024 * 1024  # a month of events for a large cooperative, in one POST /api/events
HSTS = "max-age=31536000"  # a year; not includeSubDomains: the cooperative's other sites are not ours to decide
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
CACHEABLE = "/static/"  # the only answers a cache may keep: the stylesheet, the scripts


class SecurityHeaders:
    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.headers = {**SECURITY_HEADERS, **({"strict-transport-security": HSTS} if hsts else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = not str(scope["path"]).startswith(CACHEABLE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if private:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body over {limit} bytes: send fewer events at a time")


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared.isdigit() and int(declared) > self.limit:
                raise BodyTooLarge(self.limit)  # refused unread: the client may stop sending
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)
