"""Issue 15 on the demo's pages, as a member and the staff read them (TestClient over `cae demo`'s books).

The PDF link shows only where a PDF can be made (point 5), the member lands on
their last month with activity (point 3), the staff's month counts events by
the month they concern (point 4), and the small things users hit (point 7).
"""

from __future__ import annotations

import re
import sys
from datetime import date
from html import escape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.test_web_french import demo  # noqa: F401 — the fixture: the demo's books, its app and logins
from ledger import schema
from tests.web_support import WebLedger, csrf_of, login, web  # noqa: F401 — the fixture
from web import data
from web.access import Caller, Role
from web.pdf import pdf_problem


def signed_in(demo: tuple, role: str) -> TestClient:
    app, logins, _ = demo
    client = TestClient(app)
    login(client, *logins[role])
    return client


@pytest.fixture
def no_weasyprint(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The server as it is without WeasyPrint: its import fails (what `pdf_problem` tries)."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    pdf_problem.cache_clear()
    yield
    pdf_problem.cache_clear()


def test_without_weasyprint_the_member_sees_no_pdf_link_and_the_staff_see_why(demo: tuple, no_weasyprint: None) -> None:
    member = demo[2]
    client = signed_in(demo, "member")
    page = client.get(f"/members/{member}/statement?month=2026-10")
    assert page.status_code == 200 and "statement.pdf" not in page.text
    asked = client.get(f"/members/{member}/statement.pdf?month=2026-10")
    assert asked.status_code == 503
    assert "pas disponible sur ce serveur" in asked.text
    assert not any(word in asked.text for word in ("pip", "WeasyPrint", "libpango", "ImportError"))
    health = signed_in(demo, "staff").get("/staff/health")
    assert health.status_code == 200
    assert "indisponibles" in health.text and "WeasyPrint" in health.text and "libpango" in health.text


def test_with_weasyprint_the_link_is_there_and_the_health_page_says_so(demo: tuple) -> None:
    member = demo[2]
    page = signed_in(demo, "member").get(f"/members/{member}/statement?month=2026-10")
    assert f"/members/{member}/statement.pdf?month=2026-10" in page.text
    health = signed_in(demo, "staff").get("/staff/health")
    assert health.status_code == 200 and "disponibles" in health.text and "indisponibles" not in health.text
    assert signed_in(demo, "member").get("/staff/health").status_code == 403


def test_the_member_lands_on_their_last_month_with_activity(demo: tuple) -> None:
    """The demo's books end in October 2026; today is later: the member opens on October, not on an
    empty month (issue 15, point 3), from the home page as from the statement without a month."""
    member = demo[2]
    client = signed_in(demo, "member")
    home = client.get("/")
    assert home.status_code == 200 and home.url.path == f"/members/{member}/statement"
    for page in (home, client.get(f"/members/{member}/statement")):
        assert "État des comptes — octobre 2026" in page.text
        assert 'value="2026-10"' in page.text


def test_the_reconciliation_and_the_runs_read_in_french_with_french_amounts(demo: tuple) -> None:
    """Issue 15, point 1 on the staff's pages: the checks' titles, outcomes and details, and the runs'
    details, come from the catalogue in French, every amount as `1 234,50 €`; the CLI keeps the English."""
    client = signed_in(demo, "staff")
    page = client.get("/staff/reconcile?month=2026-10").text
    assert "balance générale équilibrée" in page and "aucun membre au budget négatif" in page
    assert re.search(r"débit [\d\u202f ]+,\d\d\u00a0€ = crédit [\d\u202f ]+,\d\d\u00a0€", page), page
    assert "pas bon" in page and "à regarder" in page  # the demo's negative budgets, its dead letters
    assert "trial balance" not in page and "cae deadletter" not in page
    runs = client.get("/staff/runs").text
    assert re.search(r"\d+ bulletin\(s\) \(\d+ plafonné\(s\)\), brut [\d\u202f ]+,\d\d\u00a0€", runs), runs
    assert "pas bon(s) (6 membres)" in runs and "payslips" not in runs


def _events_card(page: str) -> str:
    return page.split('id="events-in"')[1].split("</div>")[0]


def test_the_staff_month_counts_events_in_the_month_they_concern(demo: tuple) -> None:
    """The demo's events all arrived today, but are dated in September and October 2026: the staff's
    month counts them there, and says how it counts (issue 15, point 4)."""
    client = signed_in(demo, "staff")
    october = _events_card(client.get("/staff?month=2026-10").text)
    assert "Comptés au mois qu'ils concernent" in october
    assert re.search(r"factures émises : [1-9]", october) and re.search(r"paiements reçus : [1-9]", october)
    september = _events_card(client.get("/staff?month=2026-09").text)
    assert re.search(r"factures émises : [1-9]", september)
    today = _events_card(client.get("/staff").text)  # the month they arrived in: nothing of theirs
    assert re.search(r'class="big">0<', today), today


def test_a_cesa_deadline_already_past_is_flagged(demo: tuple) -> None:
    """The demo's M003, under a CESA since September 2026 after a CAPE from October 2023, had until
    3 October 2026 to become an associate: the staff's month, the register and the member's statement
    say the term is past (issue 15, point 4)."""
    staff = signed_in(demo, "staff")
    month = staff.get("/staff?month=2026-10").text.split('id="associates"')[1].split("</div>")[0]
    assert "M003" in month and "échéance dépassée" in month.lower()
    register = staff.get("/board/register").text
    assert re.search(r"3 octobre 2026 — échéance dépassée", register)
    statement = staff.get("/members/M003/statement?month=2026-10").text
    assert "À devenir associé(e) avant le" in statement and "3 octobre 2026 — échéance dépassée" in statement


def test_a_payment_row_shows_its_amount(demo: tuple) -> None:
    """Issue 15, point 7: the month's entries show what a payment brought in, not an empty row."""
    member = demo[2]
    page = signed_in(demo, "member").get(f"/members/{member}/statement?month=2026-10").text
    rows = [row for row in page.split("<tr>") if "Règlement" in row]
    assert rows, "the demo member has a payment in October"
    for row in rows:
        assert re.search(r'data-figure="received">[\d\u202f ]+,\d\d\u00a0€<', row), row


def test_the_staff_payroll_names_whom_it_pays(demo: tuple) -> None:
    app, _, member = demo
    with app.state.site.engine.connect() as conn:
        name = conn.scalar(select(schema.members.c.name).where(schema.members.c.member_id == member))
    page = signed_in(demo, "staff").get("/staff/payroll?month=2026-10").text
    paid = page.split('id="paid"')[1].split("</table>")[0]
    assert f"{escape(name)} ({member})" in paid


def test_the_site_has_an_icon(demo: tuple) -> None:
    answer = TestClient(demo[0]).get("/favicon.ico")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/x-icon"
    assert answer.content.startswith(b"\x00\x00\x01\x00")  # an ICO file's header


def test_a_wrong_close_confirmation_keeps_the_form_as_typed(demo: tuple) -> None:
    """Issue 15, point 7: the close form comes back with what was typed and the refusal in French,
    not an error page; nothing is closed."""
    client = signed_in(demo, "staff")
    form = client.get("/staff/close?month=2026-09")
    assert 'name="confirm"' in form.text
    answer = client.post("/staff/close", data={"csrf": csrf_of(form.text), "month": "2026-09", "confirm": "2026-9"})
    assert answer.status_code == 422
    assert "Le mois retapé ne correspond pas" in answer.text
    assert 'name="confirm" value="2026-9"' in answer.text and 'id="locks"' in answer.text
    assert 'value="2026-09"' in client.get("/staff/close?month=2026-09").text  # still open: the form again


def test_events_of_a_month_and_a_members_last_month_on_each_backend(web: WebLedger) -> None:
    """The data behind points 3 and 4, on SQLite and PostgreSQL: the October and assembly scenarios
    arrive together, today. Their documents are all dated October 2026 and their governance events
    June 2026 (the scenarios' files): each processed one counts in that month, none today; and
    M001's last month with activity is October 2026."""
    staff = Caller(0, "staff@coop.test", Role.STAFF)
    p = schema.processed_events
    with web.engine.connect() as conn:
        processed = dict(conn.execute(select(p.c.type, func.count()).group_by(p.c.type)).tuples().all())
        october = data.events_of_month(conn, staff, "2026-10")
        june = data.events_of_month(conn, staff, "2026-06")
        today = data.events_of_month(conn, staff, date.today().strftime("%Y-%m"))
        last = data.last_active_month(conn, staff, "M001", date(2026, 12, 31))
        before = data.last_active_month(conn, staff, "M001", date(2026, 9, 30))
    documents = ("invoice.issued", "credit_note.issued", "expense.recorded", "payment.received")
    governance = ("assembly.convened", "attendance.recorded", "proxy.given", "vote.cast", "resolution.proposed",
                  "ritual.held")
    assert {k: october.get(k) for k in documents} == {k: processed[k] for k in documents}
    assert {k: june.get(k) for k in governance} == {k: processed[k] for k in governance}
    assert not set(documents) & set(june) and not set(governance) & set(october)
    assert not set(documents + governance) & set(today)  # the day they arrived counts none of them
    assert last == "2026-10" and before != "2026-10"
