"""Issue 10: what the web keeps between requests (web.readcache) is never older than the last commit.

The statement a member reloads is answered from memory until the ledger changes; a change by
any writer (the web itself, `cae ingest` in another process) is seen by the next request.
"""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from ledger import schema
from tests.kafka_fixtures import CAE
from tests.web_support import WebLedger, web  # noqa: F401 — the fixture
from web import accounts

INVOICE = {"type": "invoice.issued", "occurred_at": "2026-10-21T09:00:00Z", "member_id": "M002",
           "issued_on": "2026-10-21", "client": "Atelier Sud",
           "lines": [{"label": "Formation", "amount_ht": "800.00", "vat_rate": "0.20"}]}


def _revenue(client, web: WebLedger) -> Decimal:  # type: ignore[no-untyped-def]  # noqa: F811
    answer = client.get("/api/members/M002/statement", params={"month": "2026-10"}, headers=web.bearer("staff"))
    assert answer.status_code == 200
    return Decimal(answer.json()["revenue_ht"])


def test_a_kept_statement_gives_way_to_any_writers_commit(web: WebLedger, tmp_path: Path) -> None:  # noqa: F811
    client = web.client()
    before = _revenue(client, web)
    assert _revenue(client, web) == before  # answered again, from what the server keeps

    posted = client.post("/api/events", headers=web.bearer("staff"),
                         content=json.dumps({**INVOICE, "event_id": "cache-1", "invoice_id": "F-M002-0801"}))
    assert posted.json()["results"][0]["outcome"] == "processed"
    assert _revenue(client, web) == before + 800  # the web's own write

    events = tmp_path / "more.jsonl"
    events.write_text(json.dumps({**INVOICE, "event_id": "cache-2", "invoice_id": "F-M002-0802"}) + "\n")
    done = subprocess.run([CAE, "ingest", str(events), "--db", web.db_url, "--json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert _revenue(client, web) == before + 1600  # another process's


def test_a_revoked_token_is_refused_at_once_though_its_caller_was_kept(web: WebLedger) -> None:  # noqa: F811
    client = web.client()
    assert client.get("/api/me", headers=web.bearer("member")).status_code == 200  # its caller now kept
    t = schema.api_tokens
    with web.engine.begin() as conn:
        token_id = conn.scalar(select(t.c.id).where(t.c.secret_hash == accounts.digest(web.tokens["member"])))
        accounts.revoke_token(conn, token_id, "tests")  # as `cae token revoke` does, in another connection
    assert client.get("/api/me", headers=web.bearer("member")).status_code == 401


def test_the_app_started_again_after_a_shutdown_still_sees_each_commit(web: WebLedger) -> None:  # noqa: F811
    """The shutdown closes the change watcher's connection; a restart of the same app must neither
    fail on it nor mistake the new connection's counter for the old one's (a stale statement)."""
    from fastapi.testclient import TestClient

    app = web.app()
    with TestClient(app) as client:
        before = _revenue(client, web)
    with TestClient(app) as client:
        assert _revenue(client, web) == before
        posted = client.post("/api/events", headers=web.bearer("staff"),
                             content=json.dumps({**INVOICE, "event_id": "cache-3", "invoice_id": "F-M002-0803"}))
        assert posted.json()["results"][0]["outcome"] == "processed"
    with TestClient(app) as client:
        assert _revenue(client, web) == before + 800
