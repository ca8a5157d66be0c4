"""Issue 10: what each page does, used as a person uses it (forms posted with their CSRF token).

The access matrix (test_web_access) says who may open what, the browser tests walk three
journeys in Chromium; these go through every other action the issue names, on both backends:
the member's year, payslips and simulator; the staff's dead letters, payroll preview, run and
rerun, close, downloads and run log; the board's convocation, an assembly "à venir", the
register and participation; the admin's accounts. Expected figures come from the scenario's
expected.json and DOMAIN.md rule 6, never from the code under test.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ledger import schema
from ledger.book_store import locked_through
from tests.web_support import PASSWORD, WebLedger, csrf_of, login, web  # noqa: F401 — the fixture

UNKNOWN_MEMBERS_INVOICE = {
    "event_id": "web-late-1", "type": "invoice.issued", "occurred_at": "2026-10-20T09:00:00Z",
    "invoice_id": "F-M042-0001", "member_id": "M042", "issued_on": "2026-10-20", "client": "Atelier Est",
    "lines": [{"label": "Conseil", "amount_ht": "500.00", "vat_rate": "0.20"}]}
M042_JOINS = {"event_id": "web-late-0", "type": "member.joined", "occurred_at": "2026-10-19T09:00:00Z",
              "member_id": "M042", "name": "Inès Roy", "joined_on": "2026-10-19", "status": "cape"}


CHART = r'<script type="application/json" id="[a-z-]*chart-data">(.*?)</script>'


def figures(html: str) -> dict[str, Decimal]:
    """The cells marked `data-figure`, read back from French (`1 234,56 €`) into decimals."""
    found = re.findall(r'data-figure="([a-z_]+)"[^>]*>([^<]*)<', html)
    return {name: Decimal(re.sub(r"[\s\u202f\u00a0€]", "", text).replace(",", ".")) for name, text in found}


def post_form(client: TestClient, page: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """Post `data` to `action` with the CSRF token of `page`, as the browser does from that page."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf": token, **data}, follow_redirects=False)


def post_events(web: WebLedger, *events: dict[str, object]) -> list[dict[str, str]]:  # noqa: F811
    answer = TestClient(web.app()).post("/api/events", headers=web.bearer("staff"),
                                        content="\n".join(json.dumps(e) for e in events))
    return list(answer.json()["results"])


# -- the member ----------------------------------------------------------------------------------

def test_the_simulator_applies_the_payroll_rule_to_the_budget_and_posts_nothing(web: WebLedger) -> None:  # noqa: F811
    client = web.client("member")
    with web.engine.connect() as conn:
        before = conn.scalar(select(func.count()).select_from(schema.entries))
    # M001's October budget before its payroll: 288.00 left after an employer cost of 852.00.
    asked = figures(client.get("/members/M001/simulate", params={"month": "2026-10", "gross": "600,00"}).text)
    assert asked == {"budget_before": Decimal("1140.00"), "gross": Decimal("600.00"), "net": Decimal("468.00"),
                     "employer_cost": Decimal("852.00")}
    capped = client.get("/members/M001/simulate", params={"month": "2026-10", "gross": "5 000,00"})
    # The largest gross in cents with gross + round(gross × 0.42) ≤ 1140.00: 802.82 + 337.18.
    assert figures(capped.text)["gross"] == Decimal("802.82")
    assert figures(capped.text)["employer_cost"] == Decimal("1140.00")
    assert "plafonné" in capped.text
    assert "Montant invalide" in client.get("/members/M001/simulate", params={"gross": "beaucoup"}).text
    assert client.get("/members/M003/simulate", params={"gross": "100"}).status_code == 404
    with web.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(schema.entries)) == before


def test_the_year_view_charts_each_month_and_the_payslips_are_listed(web: WebLedger) -> None:  # noqa: F811
    client = web.client("member")
    year = client.get("/members/M001/year", params={"year": 2026})
    assert year.status_code == 200
    chart = json.loads(re.search(CHART, year.text, re.S).group(1))
    october = chart["labels"].index("2026-10")
    series = {s["label"]: s["values"][october] for s in chart["series"]}
    assert series == {"Chiffre d'affaires HT": "1333.33", "Contribution": "153.33", "Salaire brut": "600.00"}
    payslips = client.get("/members/M001/payslips", params={"year": 2026}).text
    assert "468,00" in payslips and "600,00" in payslips  # October's net and gross


# -- the staff -----------------------------------------------------------------------------------

def test_a_dead_letter_is_seen_dismissed_with_a_reason_and_listed_as_settled(web: WebLedger) -> None:  # noqa: F811
    [result] = post_events(web, UNKNOWN_MEMBERS_INVOICE)
    assert result["outcome"] == "dead_letter"
    client = web.client("staff")
    month = client.get("/staff", params={"month": "2026-10"}).text
    assert "web-late-1" in month and "M042" in month  # the event, and why: its member is unknown
    letters = client.get("/staff/deadletters").text
    pending = int(re.search(r"Rejets en attente \((\d+)\)", letters).group(1))
    letter_id = re.search(r'<tr><td[^>]*>(\d+)</td><td[^>]*><code>[^<]*</code></td><td[^>]*>web-late-1<', letters).group(1)
    assert post_form(client, "/staff/deadletters", f"/staff/deadletters/{letter_id}/dismiss",
                     {"reason": ""}).status_code == 422  # a dismissal says why
    done = post_form(client, "/staff/deadletters", f"/staff/deadletters/{letter_id}/dismiss",
                     {"reason": "facture saisie en double"})
    assert done.status_code == 303
    after = client.get("/staff/deadletters").text
    assert "web-late-1" not in after and f"Rejets en attente ({pending - 1})" in after
    assert "facture saisie en double" in client.get("/staff/deadletters", params={"all": "true"}).text


def test_a_replay_settles_the_letters_whose_cause_is_gone(web: WebLedger) -> None:  # noqa: F811
    post_events(web, UNKNOWN_MEMBERS_INVOICE)
    post_events(web, M042_JOINS)  # the member now exists: the invoice can go through
    client = web.client("staff")
    assert post_form(client, "/staff/deadletters", "/staff/deadletters/replay", {}).status_code == 303
    assert "web-late-1" not in client.get("/staff/deadletters").text
    statement = client.get("/api/members/M042/statement", params={"month": "2026-10"},
                           headers=web.bearer("staff")).json()
    assert Decimal(statement["revenue_ht"]) == Decimal("500.00")


def test_the_payroll_is_previewed_without_posting_then_run_and_corrected(web: WebLedger) -> None:  # noqa: F811
    client = web.client("staff")
    slips = select(func.count()).select_from(schema.payslips).where(schema.payslips.c.month == "2026-11")
    preview = client.get("/staff/payroll", params={"month": "2026-11"})
    assert preview.status_code == 200 and "M001" in preview.text
    with web.engine.connect() as conn:
        assert conn.scalar(slips) == 0
    assert post_form(client, "/staff/payroll", "/staff/payroll/run", {"month": "2026-11"}).status_code == 303
    with web.engine.connect() as conn:
        assert conn.scalar(slips) > 0

    nothing = post_form(client, "/staff/payroll", "/staff/payroll/rerun",
                        {"month": "2026-10", "member_id": "M003", "reason": "vérification"})
    assert nothing.status_code == 422  # nothing was posted since: nothing to correct
    post_events(web, {"event_id": "web-late-2", "type": "invoice.issued", "occurred_at": "2026-10-30T09:00:00Z",
                      "invoice_id": "F-M003-0099", "member_id": "M003", "issued_on": "2026-10-30",
                      "client": "Mairie de Sainte-Croix",
                      "lines": [{"label": "Suite", "amount_ht": "1000.00", "vat_rate": "0.20"}]})
    rerun = post_form(client, "/staff/payroll", "/staff/payroll/rerun",
                      {"month": "2026-10", "member_id": "M003", "reason": "facture tardive"})
    assert rerun.status_code == 303
    api = client.get("/api/members/M003/payslips", params={"year": 2026}, headers=web.bearer("staff")).json()
    october = [p for p in api["payslips"] if p["month"] == "2026-10"]
    assert Decimal(october[-1]["gross"]) > Decimal("1059.51")  # the capped salary lifted by the late invoice
    assert "staff@coop.test" in client.get("/staff/runs").text  # who ran them, in the run log


def test_a_close_needs_the_month_typed_again_then_locks_it(web: WebLedger) -> None:  # noqa: F811
    client = web.client("staff")
    page = client.get("/staff/close", params={"month": "2026-10"})
    assert "écritures recevront leur numéro définitif" in page.text
    wrong = post_form(client, "/staff/close?month=2026-10", "/staff/close", {"month": "2026-10", "confirm": "2026-11"})
    assert wrong.status_code == 422
    with web.engine.connect() as conn:
        assert locked_through(conn) is None  # nothing closed: the typo closed nothing
    done = post_form(client, "/staff/close?month=2026-10", "/staff/close", {"month": "2026-10", "confirm": "2026-10"})
    assert done.status_code == 303, done.text[:300]
    with web.engine.connect() as conn:
        assert locked_through(conn) == "2026-10"
    assert "déjà clôturé" in client.get("/staff/close", params={"month": "2026-10"}).text


def test_the_downloads_are_the_fec_the_payroll_variables_and_the_reconciliation(web: WebLedger) -> None:  # noqa: F811
    client = web.client("staff")
    fec = client.get("/staff/fec", params={"year": 2026, "siren": "123456789"})
    assert fec.status_code == 200 and fec.content.startswith(b"JournalCode\tJournalLib\tEcritureNum\t")
    assert "123456789FEC20261231" in fec.headers["content-disposition"]
    variables = client.get("/staff/payroll/variables.csv", params={"month": "2026-10"})
    assert variables.headers["content-type"].startswith("text/csv")
    assert "M001" in variables.text and "600.00" in variables.text.replace(",", ".")
    reconcile = client.get("/staff/reconcile.csv", params={"month": "2026-10"})
    assert reconcile.status_code == 200 and reconcile.text.count("\n") > 1


# -- the board -----------------------------------------------------------------------------------

def test_an_assembly_convened_for_later_is_a_venir_with_its_resolutions(web: WebLedger) -> None:  # noqa: F811
    client = web.client("board")
    later = (date.today() + timedelta(days=60)).isoformat()
    convened = post_form(client, "/board", "/board/events", {"type": "assembly.convened", "assembly_id": "AGE2027",
                                                             "kind": "AGE", "held_on": later, "convocation": "1"})
    assert convened.status_code == 303 and convened.headers["location"] == "/assemblies/AGE2027"
    proposed = post_form(client, "/assemblies/AGE2027", "/board/events",
                         {"type": "resolution.proposed", "assembly_id": "AGE2027", "resolution_id": "R-STAT",
                          "title": "Modifier les statuts"})
    assert proposed.status_code == 303
    page = client.get("/assemblies/AGE2027").text
    assert "À venir" in page and "quorum non atteint" not in page
    assert re.search(r'id="tally-R-STAT".*?data-result>à venir<', page, re.S)
    refused = post_form(client, "/board", "/board/events",
                        {"type": "assembly.convened", "assembly_id": "AGE2027", "kind": "AGE",
                         "held_on": "pas une date", "convocation": "1"})
    assert refused.status_code == 422 and "held_on" in refused.text


def test_the_register_shows_shares_and_participation_is_charted(web: WebLedger) -> None:  # noqa: F811
    client = web.client("board")
    register = client.get("/board/register").text
    assert "M001" in register and "40,00" in register  # M001's capital after October
    participation = client.get("/board/participation")
    chart = json.loads(re.search(CHART, participation.text, re.S).group(1))
    assert chart["labels"] and chart["series"]


# -- the admin -----------------------------------------------------------------------------------

def test_the_admin_adds_an_account_changes_its_role_and_disables_it(web: WebLedger) -> None:  # noqa: F811
    admin = web.client("admin")
    made = post_form(admin, "/admin/accounts", "/admin/accounts",
                     {"email": "ines@coop.test", "password": PASSWORD, "role": "member", "member_id": "M002"})
    assert made.status_code == 303
    ines = TestClient(web.app())
    login(ines, "ines@coop.test", PASSWORD)
    assert ines.get("/members/M002/statement", params={"month": "2026-10"}).status_code == 200
    assert ines.get("/board").status_code == 403

    row = re.search(r'ines@coop\.test</td>.*?action="/admin/accounts/(\d+)"', admin.get("/admin/accounts").text, re.S)
    assert row
    target = row.group(1)
    changed = post_form(admin, "/admin/accounts", f"/admin/accounts/{target}", {"action": "role", "role": "board"})
    assert changed.status_code == 303
    assert ines.get("/board").status_code == 200
    assert post_form(admin, "/admin/accounts", f"/admin/accounts/{target}", {"action": "disable"}).status_code == 303
    assert ines.get("/board", follow_redirects=False).status_code in (303, 401)
    again = TestClient(web.app())
    page = again.get("/login")
    refused = again.post("/login", data={"csrf": csrf_of(page.text), "email": "ines@coop.test",
                                         "password": PASSWORD, "next": "/"}, follow_redirects=False)
    assert refused.status_code != 303
    with web.engine.connect() as conn:
        assert "admin@coop.test" in " ".join(conn.scalars(select(schema.audit_log.c.actor)).all())
