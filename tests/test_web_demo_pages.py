"""Issue 15 on the demo's pages, as a member and the staff read them (TestClient over `cae demo`'s books).

The PDF link shows only where a PDF can be made (point 5), the member lands on
their last month with activity (point 3), the staff's month counts events by
the month they concern (point 4), and the small things users hit (point 7).
"""

from __future__ import annotations

import sys

import pytest
from fastapi.testclient import TestClient

from tests.test_web_french import demo  # noqa: F401 — the fixture: the demo's books, its app and logins
from tests.web_support import login
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
