"""The staff's mail page (issue 17, point 6) on a real SMTP server on loopback (aiosmtpd), both backends:
the button sends the month's "your statement is ready" notices as `cae mail statements` does, once;
the log says what was sent to whom, when and which kind, as `cae mail log`; in Chromium at 375 and
1280 px; the board and the members reach none of it."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest
from sqlalchemy import Engine

from engine.config import Rules
from tests.assembly_support import event, feed
from tests.smtp_support import Inbox, inbox  # noqa: F401  (the fixture)
from tests.test_web_browser import browser, screenshot, signed_in  # noqa: F401  (the fixture)
from tests.web_support import WebLedger, csrf_of, served, web  # noqa: F401


def _consented(engine: Engine, rules: Rules) -> None:
    done = feed(engine, rules,
                event("member.contact_set", member_id="M001", email="m001@coop.example", convocation_by_email=True,
                      statements_by_email=True, on="2026-10-01"),
                event("member.contact_set", member_id="M002", email="m002@coop.example", convocation_by_email=True,
                      on="2026-10-01"),  # no consent to the statement's notice
                event("convocation.sent", assembly_id="AG2026", member_id="M001", channel="email",
                      sent_on="2026-11-02"))
    assert done.dead_letters == []


def test_the_staff_sends_the_notices_once_and_reads_the_log(web: WebLedger, inbox: Inbox) -> None:
    _consented(web.engine, web.rules)
    staff = web.client("staff")
    csrf = csrf_of(staff.get("/staff/mail").text)
    sent = staff.post("/staff/mail/statements", data={"csrf": csrf, "month": "2026-10"})
    assert sent.status_code == 200 and "1 avis envoyé(s) pour octobre 2026" in unescape(sent.text)
    assert [r for r, _ in inbox.messages] == [["m001@coop.example"]]
    again = staff.post("/staff/mail/statements", data={"csrf": csrf, "month": "2026-10"})
    assert "0 avis envoyé(s)" in unescape(again.text) and len(inbox.messages) == 1
    log = unescape(staff.get("/staff/mail").text)
    assert "<td>état des comptes prêt</td><td>octobre 2026</td><td>M001</td><td>m001@coop.example</td>" in log
    assert "<td>convocation</td><td>assemblée AG2026</td><td>M001</td><td>m001@coop.example</td><td>2 novembre 2026" \
        in log
    bad = staff.post("/staff/mail/statements", data={"csrf": csrf, "month": "2026-13"})
    assert bad.status_code == 422 and "mois invalide" in unescape(bad.text).lower()


def test_without_smtp_the_page_says_none_went(web: WebLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    _consented(web.engine, web.rules)
    monkeypatch.delenv("CAE_SMTP_URL", raising=False)
    staff = web.client("staff")
    answer = staff.post("/staff/mail/statements", data={"csrf": csrf_of(staff.get("/staff/mail").text),
                                                        "month": "2026-10"})
    assert answer.status_code == 422 and "Aucun avis n'est parti" in unescape(answer.text)


def test_the_board_and_members_reach_none_of_it(web: WebLedger, inbox: Inbox) -> None:
    _consented(web.engine, web.rules)
    for identity in ("board", "member"):
        client = web.client(identity)
        csrf = csrf_of(client.get("/").text)
        assert client.get("/staff/mail").status_code == 403, identity
        assert client.post("/staff/mail/statements", data={"csrf": csrf, "month": "2026-10"}).status_code == 403
    assert inbox.messages == []


@pytest.mark.parametrize("width", [375, 1280])
def test_the_mail_page_in_chromium(browser: Any, web: WebLedger, inbox: Inbox, width: int) -> None:
    _consented(web.engine, web.rules)
    with served(web.db_url) as base:
        page = signed_in(browser, base, "staff", {"width": width, "height": 900})
        page.get_by_role("link", name="Courriels").click()
        page.get_by_label("Mois").fill("2026-10")
        page.get_by_role("button", name="Envoyer les avis du mois").click()
        assert "1 avis envoyé(s)" in page.locator("#mail-done").inner_text()
        assert "état des comptes prêt" in page.locator("#mail-log").inner_text()
        wide = page.evaluate("""w => [...document.querySelectorAll('main form *, main h2, main p')]
                                .filter(e => e.getBoundingClientRect().right > w).map(e => e.tagName)""", width)
        assert wide == []
        screenshot(page, f"staff-mail-{width}")
        page.close()
    assert len(inbox.messages) == 1
