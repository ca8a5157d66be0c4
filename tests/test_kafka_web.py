"""Issue 10: where the deployment runs its workers on Kafka, the web sends events to their topics.

`cae serve --publish-to-kafka`: a line posted to the API goes to the events topic (the real broker
of tests.kafka_fixtures), a worker posts it into the same ledger, and the statement shows it; a
line that cannot be sent anywhere is not lost, it lands in the dead letters with its reason.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from governance.config import load_governance
from ledger import deadletters
from tests.kafka_fixtures import LocalKafka, WorkerProcess, kafka_env
from tests.web_support import WebLedger, web  # noqa: F401 — the fixture
from web.app import create_app
from web.server import kafka_publisher

pytest_plugins = ["tests.kafka_fixtures"]

INVOICE = {"event_id": "web-k1", "type": "invoice.issued", "occurred_at": "2026-10-21T09:00:00Z",
           "invoice_id": "F-M002-0900", "member_id": "M002", "issued_on": "2026-10-21", "client": "Atelier Sud",
           "lines": [{"label": "Formation", "amount_ht": "800.00", "vat_rate": "0.20"}]}


def test_events_posted_to_the_api_go_through_kafka_to_the_ledger(web: WebLedger, kafka: LocalKafka,  # noqa: F811
                                                                  topic_prefix: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    env = kafka_env(kafka, topic_prefix, group=f"web-{topic_prefix}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = TestClient(create_app(web.engine, web.rules, load_governance(), publish=kafka_publisher()))
    before = client.get("/api/members/M002/statement", params={"month": "2026-10"}, headers=web.bearer("staff"))
    body = json.dumps(INVOICE).encode() + b"\nnot an event\n"
    answer = client.post("/api/events", content=body, headers=web.bearer("staff"))
    assert answer.status_code == 200
    published, refused = answer.json()["results"]
    assert (published["outcome"], published["event_id"]) == ("published", "web-k1")
    assert refused["outcome"] == "dead_letter" and refused["reason"].startswith("not valid JSON")
    assert refused["code"] == "event.not_json"  # issue 15: the API may add the catalogue's code
    with web.engine.connect() as conn:
        letter = deadletters.listed(conn)[-1]  # after the scenario's own
    assert letter.raw == b"not an event"
    # sent nowhere, refused on the way to Kafka: its reason reads in French on the staff's page too
    assert letter.message is not None and letter.message.text("fr").startswith("ce n'est pas du JSON valide")

    worker = WorkerProcess(env, web.db_url, tmp_path / "worker.log", "--stop-when-idle", "2",
                           "--session-timeout", "6", "--within", "0.2")
    assert worker.result()["processed"] == 1, worker.tail()
    after = client.get("/api/members/M002/statement", params={"month": "2026-10"}, headers=web.bearer("staff"))
    assert Decimal(after.json()["revenue_ht"]) - Decimal(before.json()["revenue_ht"]) == Decimal("800.00")
