"""A cooperative on the web, for the web tests: the October and assembly scenarios, an account per role.

`WebLedger` holds the ledger (on the test's backend), a password and a token
per identity, and makes `TestClient`s of the app: anonymous, signed in (one
login per identity and client), or carrying a token. `declared_routes` reads
the app's route table with what each route declares (path and query
parameters, its form's fields), for the tests generated from it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import web.api
import web.pages_account
import web.pages_board
import web.pages_member
import web.pages_staff  # noqa: F401 — importing them registers their routes
from cli.demo import demo_accounts
from engine.config import Rules
from governance.config import load_governance
from ledger.payroll_run import run_payroll
from streams.embedded import ingest, read_events
from tests.conftest import SHARED
from tests.kafka_fixtures import CAE, free_port
from web import accounts
from web.access import Role, Rule
from web.app import create_app
from web.inputs import Form
from web.routing import FORMS, RULES

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


def make_demo(where: Path) -> tuple[str, str, dict[str, tuple[str, str]]]:
    """`cae demo` (six members, September and October 2026) on a fresh SQLite file in `where`, and an
    account per role: its URL, its member login's id, and each role's (email, password)."""
    url = f"sqlite:///{where / 'demo.db'}"
    made = subprocess.run([CAE, "demo", "--members", "6", "--months", "2026-09..2026-10", "--json", "--db", url],
                          capture_output=True, text=True, cwd=where, timeout=600)
    assert made.returncode == 0, made.stderr[-2000:]
    member = json.loads(made.stdout)["member_login"]
    logins = {role: (email, password) for email, role, password in demo_accounts(url, [member])}
    return url, member, logins


# -- the route table, for the tests generated from it (test_web_access, test_web_hostile) ----------

# A valid value for each parameter a route declares, by its name: what a generated request sends
# where it tests something else (member_id is the caller's own for a member).
VALID = {"member_id": "M001", "resolution_id": "R1", "assembly_id": "AG2026", "letter_id": "1", "user_id": "1",
         "token_id": "t_none", "month": "2026-10", "year": "2026", "siren": "123456789", "gross": "1500,00",
         "type": "invoice.issued", "all": "true", "next": "/"}


QUERY = {name: VALID[name] for name in ("month", "year", "siren")}  # what any GET may be asked with


def filled(path: str) -> str:
    """A route's path with each parameter set to its `VALID` value (a member's own ids)."""
    for name, value in VALID.items():
        path = path.replace("{" + name + "}", value)
    return path


def every_route(routes: list[Any]) -> list[Any]:
    """Every route of the app, those of its included routers too (no prefixes here)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += every_route(inner.routes) if inner is not None else [route]
    return found


@dataclass(frozen=True)
class Declared:
    """A route of the table, with the parameters it declares: path, query, and its form's fields."""

    method: str
    path: str
    rule: Rule
    path_params: tuple[str, ...]
    query: tuple[str, ...]
    form: type[Form] | None

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/") or self.path == "/healthz"

    def serves(self, role: Role) -> bool:
        return self.rule.roles is None or role in self.rule.roles

    def url(self, values: dict[str, str]) -> str:
        """The path with its parameters put in, as given (already encoded for the wire)."""
        path = self.path
        for name in self.path_params:
            path = path.replace("{" + name + "}", values[name])
        return path


def _params(dependant: Dependant) -> tuple[list[str], list[str]]:
    path = [p.alias for p in dependant.path_params]
    query = [p.alias for p in dependant.query_params]
    for inner in dependant.dependencies:
        more_path, more_query = _params(inner)
        path += more_path
        query += more_query
    return path, query


def declared_routes(app: Any) -> list[Declared]:
    """Every route of `app` the table rules, with what it declares."""
    found = []
    for route in every_route(list(app.routes)):
        if not isinstance(route, APIRoute):
            continue
        path, query = _params(route.dependant)
        for method in sorted(route.methods):
            if (method, route.path) in RULES:
                found.append(Declared(method, route.path, RULES[(method, route.path)], tuple(dict.fromkeys(path)),
                                      tuple(dict.fromkeys(query)), FORMS.get((method, route.path))))
    return sorted(found, key=lambda d: (d.path, d.method))


@pytest.fixture
def clients(web: WebLedger) -> dict[str, TestClient]:
    """One client per identity, signed in once (argon2 makes a login cost a fifth of a second)."""
    found: dict[str, TestClient] = {"anonymous": web.client()}
    for identity in IDENTITIES:
        if identity != "other_member":
            found[identity] = web.client(identity)
    return found
