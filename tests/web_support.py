"""A cooperative on the web, for the web tests: the October and assembly scenarios, an account per role.

`WebLedger` holds the ledger (on the test's backend), a password and a token
per identity, and makes `TestClient`s of the app: anonymous, signed in (one
login per identity and client), or carrying a token.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine.config import Rules
from governance.config import load_governance
from ledger.payroll_run import run_payroll
from streams.embedded import ingest, read_events
from tests.conftest import SHARED
from tests.kafka_fixtures import CAE, free_port
from web import accounts
from web.app import create_app

# identity -> (email, role, member)
IDENTITIES = {
    "admin": ("admin@coop.test", "admin", None),
    "staff": ("staff@coop.test", "staff", None),
    "board": ("board@coop.test", "board", None),
    "member": ("alice@coop.test", "member", "M001"),  # an associate since June: convened to AG2026
    "other_member": ("chloe@coop.test", "member", "M003"),
}
PASSWORD = "correct horse battery staple"


@dataclass
class WebLedger:
    engine: Engine
    rules: Rules
    db_url: str
    tokens: dict[str, str] = field(default_factory=dict)

    def app(self):  # type: ignore[no-untyped-def]
        return create_app(self.engine, self.rules, load_governance())

    def client(self, identity: str | None = None) -> TestClient:
        """A client of a fresh app: anonymous, or signed in as `identity` through the login form."""
        client = TestClient(self.app(), raise_server_exceptions=True)
        if identity is not None:
            login(client, IDENTITIES[identity][0], PASSWORD)
        return client

    def bearer(self, identity: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[identity]}"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def login(client: TestClient, email: str, password: str) -> None:
    page = client.get("/login")
    done = client.post("/login", data={"csrf": csrf_of(page.text), "email": email, "password": password, "next": "/"},
                       follow_redirects=False)
    assert done.status_code == 303, done.text[:500]


@pytest.fixture
def web(engine: Engine, rules: Rules, db_url: str) -> Iterator[WebLedger]:
    for scenario in ("october", "assembly"):
        ingest(engine, read_events(Path(SHARED / "scenarios" / scenario / "events.jsonl")), rules)
    with engine.begin() as conn:
        run_payroll(conn, "2026-10", rules)
    ledger = WebLedger(engine, rules, db_url)
    with engine.begin() as conn:
        for identity, (email, role, member) in IDENTITIES.items():
            accounts.add_user(conn, email, PASSWORD, role, member, "tests")
            ledger.tokens[identity] = accounts.create_token(conn, email, "tests", "tests")[1]
    yield ledger


@contextmanager
def served(db_url: str, *options: str) -> Iterator[str]:
    """`cae serve` over this ledger in a process of its own, on a free loopback port: its base URL."""
    port = free_port()
    server = subprocess.Popen([CAE, "serve", "--port", str(port), "--db", db_url, *options],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise AssertionError(f"cae serve did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
