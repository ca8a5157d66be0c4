"""Issue 14, point 8: files and headers.

The SQLite ledger (password hashes, the cookies' key) is its owner's alone; every answer but the
static files is `no-store`; HSTS with `--secure-cookies`; no server banner; a trailing-slash
redirect stays on this site whatever the Host header says; no documentation page loaded from a
CDN; and a body over the limit is refused while it is read. The server's own behaviour is tried
on a real `cae serve` (uvicorn on loopback), with raw sockets where a client library would hide it.
"""

from __future__ import annotations

import socket
import sqlite3
import stat
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.kafka_fixtures import CAE
from tests.web_support import QUERY, WebLedger, filled, served, web  # noqa: F401 — the fixture
from web.guards import MAX_BODY
from web.routing import RULES


def test_a_new_sqlite_ledger_and_its_wal_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    ledger = tmp_path / "cae.db"
    made = subprocess.run(["sh", "-c", f'umask 022 && "{CAE}" migrate --db "sqlite:///{ledger}" && "{CAE}" user add '
                           f'admin@coop.test --role admin --password-stdin --db "sqlite:///{ledger}"'],
                          input="correct horse battery staple\n", capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes["cae.db"] == 0o600
    with sqlite3.connect(ledger) as conn:  # a connection kept open holds the -wal and -shm files
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("SELECT count(*) FROM users").fetchone()
        held = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert {"cae.db-wal", "cae.db-shm"} <= set(held)
    assert set(held.values()) == {0o600}, held


def test_every_page_and_answer_but_the_static_files_is_no_store(web: WebLedger) -> None:  # noqa: F811
    clients = {identity: web.client(identity) for identity in ("member", "board", "staff")}
    stored = []
    for (method, path) in sorted(RULES):
        if method != "GET":
            continue
        for identity, client in clients.items():
            headers = web.bearer(identity) if path.startswith("/api/") else {}
            answer = client.get(filled(path), params=QUERY, headers=headers, follow_redirects=False)
            if answer.headers.get("cache-control") != "no-store":
                stored.append(f"{path} as {identity}: {answer.status_code}")
    assert stored == []
    assert web.client().get("/login").headers["cache-control"] == "no-store"
    assert "cache-control" not in web.client().get("/static/app.css").headers


def test_the_api_documentation_page_is_not_served_from_a_cdn(web: WebLedger) -> None:  # noqa: F811
    client = web.client()
    assert client.get("/api/docs").status_code == 404
    assert client.get("/api/openapi.json").json()["info"]["title"] == "CAE engine"


def test_a_page_body_over_the_limit_is_refused_in_french(web: WebLedger) -> None:  # noqa: F811
    refused = web.client().post("/login", content=b"x" * (MAX_BODY + 1),
                                headers={"content-type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 413 and "Envoi trop volumineux" in refused.text


# -- against a real `cae serve` ------------------------------------------------------------------

@pytest.fixture
def server(web: WebLedger) -> Iterator[tuple[str, int]]:  # noqa: F811
    with served(web.db_url) as base:
        parts = urlsplit(base)
        yield parts.hostname or "127.0.0.1", parts.port or 80


def raw(address: tuple[str, int], request: bytes, body_chunks: int = 0, chunk: bytes = b"",
        timeout: float = 20) -> bytes:
    """Send `request`, then `body_chunks` chunks (never the last, empty one), and read the answer's head."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(request)
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            for _ in range(body_chunks):
                sock.sendall(framed)
        except OSError:  # the server answered and closed while we were still sending: what we want
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            got = sock.recv(65536)
            if not got:
                break
            answer += got
        return answer


def test_a_chunked_upload_over_the_limit_is_cut_off_while_it_is_read(web: WebLedger,  # noqa: F811
                                                                    server: tuple[str, int]) -> None:
    """The body never ends (no last chunk): a server that read it all before measuring would wait
    for ever; this one answers 413 once the limit is passed."""
    head = (f"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {web.tokens['staff']}\r\n"
            "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunk = b"x" * 65536
    answer = raw(server, head, body_chunks=MAX_BODY // len(chunk) + 8, chunk=chunk)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_declared_length_over_the_limit_is_refused_before_the_body(web: WebLedger,  # noqa: F811
                                                                    server: tuple[str, int]) -> None:
    head = (f"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {web.tokens['staff']}\r\n"
            f"Content-Type: application/x-ndjson\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n").encode()
    answer = raw(server, head)  # not one byte of the body sent
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_trailing_slash_redirect_never_uses_the_host_header(server: tuple[str, int]) -> None:
    answer = raw(server, b"GET /login/?next=/staff HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    head = answer.decode("latin-1").lower()
    assert head.startswith("http/1.1 307") and "\r\nlocation: /login?next=/staff\r\n" in head, head
    assert "evil.example" not in head
    unknown = raw(server, b"GET //evil.example/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert unknown.startswith(b"HTTP/1.1 404")  # not a route: no redirect at all


def test_the_server_names_no_software(server: tuple[str, int]) -> None:
    with urllib.request.urlopen(f"http://{server[0]}:{server[1]}/healthz", timeout=10) as answer:
        assert answer.headers.get("server") is None
        assert answer.headers.get("strict-transport-security") is None  # plain HTTP: no HSTS


def test_hsts_is_sent_with_secure_cookies(web: WebLedger) -> None:  # noqa: F811
    with served(web.db_url, "--secure-cookies") as base:
        with urllib.request.urlopen(f"{base}/login", timeout=10) as answer:
            assert answer.headers.get("strict-transport-security") == "max-age=31536000"
            assert answer.headers.get("server") is None
