"""The associate's "Mon vote" page (issue 17, point 2): the whole form at once, a confirmation, final once
sent, refused after the deadline with the reason, a proxy; in French, on a 375 px phone in Chromium
(Debian's, driven by Playwright), on both backends."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine.config import Rules
from governance.config import load_governance
from governance.results import tally_resolution
from tests.assembly_support import associates, assembly, feed
from tests.test_web_browser import browser, logged_in  # noqa: F401  (the fixture)
from tests.web_support import csrf_of, login, served
from web import accounts
from web.app import create_app

SOON = (date.today() + timedelta(days=30)).isoformat()
PAST = (date.today() - timedelta(days=30)).isoformat()
PASSWORD = "correct horse battery staple"
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def ledger(engine: Engine, rules: Rules) -> Engine:
    done = feed(engine, rules, *associates("A1", "A2", "A3"),
                *assembly("AG", "R1", "S1", secret=("S1",), held_on=SOON, convened_on=date.today().isoformat(),
                          vote_deadline=None),
                *assembly("OLD", "P1", held_on=PAST, convened_on=None, vote_deadline=None))
    assert done.dead_letters == []
    with engine.begin() as conn:
        for mid in ("A1", "A2", "A3"):
            accounts.add_user(conn, f"{mid.lower()}@coop.test", PASSWORD, "member", mid, "tests")
        accounts.add_user(conn, "chair@coop.test", PASSWORD, "board", None, "tests")
    return engine


def _phone(browser: Any, base: str, email: str, viewport: dict[str, int] = PHONE) -> Any:
    return logged_in(browser, base, email, PASSWORD, viewport)


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_associate_votes_by_correspondence_and_gives_no_second_vote_on_a_phone(
        browser: Any, ledger: Engine, db_url: str) -> None:
    with served(db_url) as base:
        page = _phone(browser, base, "a1@coop.test")
        page.goto(f"{base}/assemblies/AG")
        page.locator("#my-ballot").click()
        assert "L'assemblée approuve R1." in page.locator("#resolution-R1").inner_text()
        assert "vote à bulletin secret" in page.locator("#resolution-S1").inner_text()
        _fits(page)
        page.locator("#resolution-R1").get_by_label("pour").check()
        page.get_by_role("button", name="Vérifier mon vote").click()  # S1 unanswered: the browser asks for it
        assert page.locator("#confirm").count() == 0
        page.locator("#resolution-S1").get_by_label("contre").check()
        page.get_by_role("button", name="Vérifier mon vote").click()
        confirm = page.locator("#confirm").inner_text()
        assert "définitif" in confirm and "Résolution R1 : pour" in confirm and "Résolution S1 : contre" in confirm
        _fits(page)
        page.get_by_role("button", name="Confirmer et envoyer mon vote").click()
        assert "définitif" in page.locator("#final").inner_text()
        assert page.locator("#ballot").count() == 0  # final: no form any more
        _fits(page)
        page.close()
        page = _phone(browser, base, "a2@coop.test")
        page.goto(f"{base}/assemblies/AG/ballot")
        page.get_by_label("Identifiant de l'associé mandataire").fill("A3")
        page.get_by_role("button", name="Donner mon pouvoir").click()
        assert "A3" in page.locator("#proxy-given").inner_text()
        page.goto(f"{base}/assemblies/OLD/ballot")
        assert "Il est clos" in page.locator("#closed").inner_text()
        _fits(page)
        page.close()
    with ledger.connect() as conn:
        r1, s1 = (tally_resolution(conn, r, load_governance()) for r in ("R1", "S1"))
    assert (r1.count("for"), r1.postal, s1.count("against"), s1.counted) == (1, 1, 1, ())


def _client(engine: Engine, rules: Rules, email: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(engine, rules, load_governance()), raise_server_exceptions=True)
    login(client, email, PASSWORD)
    return client, csrf_of(client.get("/assemblies/AG/ballot").text)


def test_a_late_form_is_refused_with_the_deadline_and_a_stranger_finds_nothing(ledger: Engine, rules: Rules) -> None:
    client, csrf = _client(ledger, rules, "a1@coop.test")
    late = client.post("/assemblies/OLD/ballot", data={"csrf": csrf, "step": "send", "vote:P1": "for"})
    assert late.status_code == 422 and "n'est plus ouvert : il l'était jusqu'au" in unescape(late.text)
    half = client.post("/assemblies/AG/ballot", data={"csrf": csrf, "step": "send", "vote:R1": "for"})
    assert half.status_code == 422 and "chaque résolution" in half.text
    bad = client.post("/assemblies/AG/ballot", data={"csrf": csrf, "step": "send", "vote:R1": "maybe",
                                                     "vote:S1": "for"})
    assert bad.status_code == 422
    assert client.get("/assemblies/NOPE/ballot").status_code == 404
    closed = client.post("/assemblies/AG/ballot/live", data={"csrf": csrf, "resolution_id": "R1", "choice": "for"})
    assert closed.status_code == 422 and "pas ouvert" in unescape(closed.text)
    sent = client.post("/assemblies/AG/ballot", data={"csrf": csrf, "step": "send", "vote:R1": "for",
                                                      "vote:S1": "blank"}, follow_redirects=False)
    assert sent.status_code == 303
    again = client.post("/assemblies/AG/ballot", data={"csrf": csrf, "step": "send", "vote:R1": "against",
                                                       "vote:S1": "for"})
    assert again.status_code == 409 and "déjà voté par correspondance" in unescape(again.text)


def test_on_the_day_the_chair_checks_in_opens_and_closes_and_a_present_associate_votes_on_a_phone(
        browser: Any, ledger: Engine, db_url: str) -> None:
    with served(db_url) as base:
        chair = _phone(browser, base, "chair@coop.test", {"width": 1280, "height": 900})
        chair.goto(f"{base}/assemblies/AG")
        chair.locator("#chair-page").click()
        assert "non atteint" in chair.locator("#quorum").inner_text()  # 1 required of 3, nobody yet
        chair.locator("#member-A1").get_by_role("button", name="Présent").click()
        assert "présent" in chair.locator("#member-A1").inner_text()
        assert "atteint" in chair.locator("#quorum").inner_text() and "non" not in chair.locator("#quorum").inner_text()
        phone = _phone(browser, base, "a1@coop.test")
        phone.goto(f"{base}/assemblies/AG/ballot")
        assert phone.locator("form.live").count() == 0  # nothing open yet
        for rid in ("R1", "S1"):
            chair.locator(f"#chair-{rid}").get_by_role("button", name="Ouvrir le vote").click()
        phone.goto(f"{base}/assemblies/AG/ballot")
        _fits(phone)
        phone.locator("#live-R1").get_by_role("button", name="Pour").click()
        phone.locator("#live-S1").get_by_role("button", name="Contre").click()
        assert phone.locator("form.live").count() == 0  # one vote each, then the form is gone
        other = _phone(browser, base, "a2@coop.test")  # not checked in: no vote in session
        other.goto(f"{base}/assemblies/AG/ballot")
        assert other.locator("form.live").count() == 0
        for rid in ("R1", "S1"):
            chair.locator(f"#chair-{rid}").get_by_role("button", name="Clore le vote").click()
        assert "adoptée" in chair.locator("#chair-R1").inner_text()
        for page in (phone, other):  # the result, to all
            page.goto(f"{base}/assemblies/AG/ballot")
            assert "pour 1" in page.locator("#result-R1").inner_text()
            assert "contre 1" in page.locator("#result-S1").inner_text()
            _fits(page)
        for page in (chair, phone, other):
            page.close()
    with ledger.connect() as conn:
        s1 = tally_resolution(conn, "S1", load_governance())
    assert (s1.count("against"), s1.present, s1.counted) == (1, 1, ())
