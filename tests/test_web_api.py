"""Issue 10: the JSON API gives the CLI's figures, and takes events as `cae ingest` does."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import SHARED
from tests.kafka_fixtures import CAE
from tests.web_support import WebLedger, web  # noqa: F401 — the fixture

OCTOBER = json.loads((SHARED / "scenarios/october/expected.json").read_text(encoding="utf-8"))


def cli(*args: str) -> object:
    done = subprocess.run([CAE, *args, "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_october_scenario_through_the_api_equals_the_cli(web: WebLedger) -> None:
    client = web.client()
    for want in OCTOBER["statements"]:
        path = f"/api/members/{want['member_id']}/statement"
        api = client.get(path, params={"month": want["month"]}, headers=web.bearer("staff")).json()
        assert {k: api[k] for k in want} == want  # the scenario's figures, to the cent (and rule 12's beside)
        assert api == cli("statement", want["member_id"], "--month", want["month"], "--db", web.db_url)
    mine = client.get("/api/members/M001/statement", params={"month": "2026-10"}, headers=web.bearer("member"))
    want = next(s for s in OCTOBER["statements"] if s["member_id"] == "M001")
    assert {k: mine.json()[k] for k in want} == want
    assert client.get("/api/trial-balance", params={"month": "2026-10"}, headers=web.bearer("staff")).json() == \
        cli("trial-balance", "--month", "2026-10", "--db", web.db_url)
    assert client.get("/api/tally/R1", headers=web.bearer("board")).json() == cli("tally", "R1", "--db", web.db_url)
    api_report = client.get("/api/reconcile", params={"month": "2026-10"}, headers=web.bearer("staff")).json()
    cli_report = cli("reconcile", "--month", "2026-10", "--db", web.db_url)
    assert api_report == cli_report
    slips = client.get("/api/members/M001/payslips", params={"year": "2026"}, headers=web.bearer("member")).json()
    assert [p["gross"] for p in slips["payslips"]] == ["600.00"]
    assert client.get("/api/me", headers=web.bearer("member")).json() == {
        "email": "alice@coop.test", "role": "member", "member_id": "M001"}


def test_events_are_posted_one_or_as_json_lines_and_each_line_answered(web: WebLedger) -> None:
    client = web.client()
    one = {"event_id": "api-1", "type": "invoice.issued", "occurred_at": "2026-11-03T10:00:00Z",
           "invoice_id": "F-API-1", "member_id": "M001", "issued_on": "2026-11-03", "client": "Atelier Nord",
           "lines": [{"label": "Conseil", "amount_ht": "500.00", "vat_rate": "0.20"}]}
    single = client.post("/api/events", content=json.dumps(one), headers=web.bearer("staff")).json()
    assert single == {"results": [{"line": 1, "event_id": "api-1", "outcome": "processed", "reason": None}]}
    lines = "\n".join([json.dumps(one), json.dumps({**one, "event_id": "api-2", "invoice_id": "F-API-2",
                                                    "member_id": "M404"}), "not json"])
    answered = client.post("/api/events", content=lines, headers=web.bearer("staff")).json()["results"]
    assert [(r["line"], r["event_id"], r["outcome"]) for r in answered] == [
        (1, "api-1", "duplicate"), (2, "api-2", "dead_letter"), (3, None, "dead_letter")]
    assert answered[1]["reason"] == 'unknown member "M404"' and "not valid JSON" in answered[2]["reason"]
    assert [r.get("code") for r in answered] == [None, "rule.member_unknown", "event.not_json"]
    statement = client.get("/api/members/M001/statement", params={"month": "2026-11"}, headers=web.bearer("staff"))
    assert statement.json()["revenue_ht"] == "500.00"
    refused = client.post("/api/events", content=json.dumps(one), headers=web.bearer("member"))
    assert refused.status_code == 403 and set(refused.json()) == {"error"}
    malformed = client.get("/api/members/M001/statement", params={"month": "october"}, headers=web.bearer("staff"))
    assert malformed.status_code == 422 and malformed.json()["code"] == "month.outside_window"
    assert malformed.json()["error"].startswith('month: "october" is not a month YYYY-MM')


def test_the_openapi_document_lists_the_contracts_endpoints(web: WebLedger) -> None:
    document = web.client().get("/api/openapi.json").json()
    for path in ("/api/me", "/api/members/{member_id}/statement", "/api/members/{member_id}/payslips",
                 "/api/reconcile", "/api/trial-balance", "/api/tally/{resolution_id}", "/api/events", "/healthz"):
        assert path in document["paths"], path
    assert web.client().get("/healthz").json() == {"ok": True}
