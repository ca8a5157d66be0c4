"""On the day (issue 17, points 3 and 4), on both backends: a present associate votes while the chair
holds a resolution open, through the API with their own token only (`POST /api/assemblies/{id}/live`)
or on their page; a proxy holder votes for the associate whose proxy counts, on a secret resolution
too (G4: the ballot kept apart, judged when cast); once closed, each resolution's result is shown to
all the assembly convened (`GET /api/assemblies/{id}/results`, and the page). In Chromium at 375 and
1280 px."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine.config import Rules
from governance import secret
from governance.config import load_governance
from governance.results import tally_resolution
from tests.assembly_support import associates, assembly, event, feed
from tests.test_web_browser import browser, screenshot  # noqa: F401  (the fixture)
from tests.test_assembly_pages import _phone as signed_in
from tests.web_support import csrf_of, login, served
from web import accounts
from web.app import create_app

SOON = (date.today() + timedelta(days=30)).isoformat()
PASSWORD = "correct horse battery staple"


@pytest.fixture
def ledger(engine: Engine, rules: Rules) -> tuple[Engine, dict[str, str]]:
    """A1 present holds A2's proxy (it counts: the limit is one) and A3's (over the limit); A4 present;
    N1 is a member, not an associate. R1 (open) and S1 (secret, open); R2 not opened."""
    done = feed(engine, rules, *associates("A1", "A2", "A3", "A4"),
                event("member.joined", member_id="N1", name="Pas associé", joined_on="2025-01-01", status="cape"),
                *assembly("AG", "R1", "S1", "R2", secret=("S1",), held_on=SOON,
                          convened_on=date.today().isoformat(), vote_deadline=None),
                *[event("attendance.recorded", meeting_id="AG", member_id=m, mode="present") for m in ("A1", "A4")],
                event("proxy.given", assembly_id="AG", from_member="A2", to_member="A1"),
                event("proxy.given", assembly_id="AG", from_member="A3", to_member="A1"),
                *[event("resolution.voting", resolution_id=r, state="open") for r in ("R1", "S1")])
    assert done.dead_letters == []
    tokens = {}
    with engine.begin() as conn:
        for mid in ("A1", "A2", "A3", "A4", "N1"):
            accounts.add_user(conn, f"{mid.lower()}@coop.test", PASSWORD, "member", mid, "tests")
            tokens[mid] = accounts.create_token(conn, f"{mid.lower()}@coop.test", "tests", "tests")[1]
        accounts.add_user(conn, "staff@coop.test", PASSWORD, "staff", None, "tests")
        tokens["staff"] = accounts.create_token(conn, "staff@coop.test", "tests", "tests")[1]
    return engine, tokens


def _api(engine: Engine, rules: Rules) -> TestClient:
    return TestClient(create_app(engine, rules, load_governance()), raise_server_exceptions=True)


def _live(client: TestClient, token: str, resolution: str, choice: str, for_member: str | None = None) -> Any:
    return client.post("/api/assemblies/AG/live", headers={"Authorization": f"Bearer {token}"},
                       json={"resolution_id": resolution, "choice": choice, "for_member": for_member})


def test_the_holder_votes_for_themself_and_the_proxy_that_counts_and_no_other(
        ledger: tuple[Engine, dict[str, str]], rules: Rules) -> None:
    engine, tokens = ledger
    api = _api(engine, rules)
    assert _live(api, tokens["A1"], "R1", "for").json() == {"recorded": 1}
    assert _live(api, tokens["A1"], "R1", "against", "A2").json() == {"recorded": 1}
    assert _live(api, tokens["A1"], "S1", "for", "A2").json() == {"recorded": 1}
    assert _live(api, tokens["A1"], "S1", "blank").json() == {"recorded": 1}
    over = _live(api, tokens["A1"], "S1", "for", "A3")  # A3's proxy is over the holder's limit
    assert over.status_code == 422 and "no proxy of A3 that counts" in over.json()["error"]
    assert _live(api, tokens["A1"], "S1", "for", "A4").status_code == 422  # A4 gave no proxy
    assert _live(api, tokens["A1"], "S1", "against", "A2").status_code == 409  # final
    assert _live(api, tokens["A4"], "S1", "for", "A2").status_code == 422  # not A4's proxy
    assert _live(api, tokens["A2"], "R1", "for").status_code == 422  # absent: their holder votes
    assert _live(api, tokens["A4"], "R2", "for").status_code == 422  # not opened
    with engine.connect() as conn:
        r1, s1 = (tally_resolution(conn, r, load_governance()) for r in ("R1", "S1"))
        taken = {(p.member_id, p.mode, p.cast_by) for p in secret.participation(conn, ["S1"])}
    assert (r1.count("for"), r1.count("against"), r1.represented, r1.not_counted) == (1, 1, 1, ())
    assert [(v.member_id, v.cast_by) for v in r1.counted] == [("A1", None), ("A2", "A1")]
    assert (s1.count("for"), s1.count("blank"), s1.counted) == (1, 1, ())
    assert taken == {("A2", "proxy", "A1"), ("A1", "direct", None)}


def test_the_api_takes_only_the_callers_own_token_for_their_own_vote(
        ledger: tuple[Engine, dict[str, str]], rules: Rules) -> None:
    engine, tokens = ledger
    api = _api(engine, rules)
    assert _live(api, tokens["staff"], "R1", "for").status_code == 403  # the staff records, never votes here
    assert _live(api, tokens["N1"], "R1", "for").status_code == 404  # not of the electorate
    assert api.post("/api/assemblies/AG/live", json={"resolution_id": "R1", "choice": "for"}).status_code == 401
    assert _live(api, "not-a-token", "R1", "for").status_code == 401
    assert _live(api, tokens["A4"], "NOPE", "for").status_code == 404
    bad = api.post("/api/assemblies/AG/live", headers={"Authorization": f"Bearer {tokens['A4']}"},
                   json={"resolution_id": "R1", "choice": "maybe"})
    assert bad.status_code == 422
    with engine.connect() as conn:
        assert tally_resolution(conn, "R1", load_governance()).counted == ()


def test_each_result_is_shown_to_all_once_closed(ledger: tuple[Engine, dict[str, str]], rules: Rules) -> None:
    engine, tokens = ledger
    api = _api(engine, rules)
    _live(api, tokens["A1"], "S1", "for")
    _live(api, tokens["A4"], "S1", "against")
    _live(api, tokens["A4"], "R1", "for")

    def results(who: str) -> Any:
        return api.get("/api/assemblies/AG/results", headers={"Authorization": f"Bearer {tokens[who]}"})

    before = results("A2").json()["resolutions"]
    assert [(r["resolution_id"], r["voting"], r["result"]) for r in before] == [
        ("R1", "open", None), ("S1", "open", None), ("R2", None, None)]
    assert feed(engine, rules, event("resolution.voting", resolution_id="S1", state="closed")).dead_letters == []
    for who in ("A1", "A2", "A3", "A4", "staff"):
        s1 = results(who).json()["resolutions"][1]
        assert (s1["voting"], s1["result"]["for"], s1["result"]["against"], s1["result"]["adopted"]) == (
            "closed", 1, 1, False), who
        assert "not_counted" not in s1["result"] and results(who).json()["resolutions"][0]["result"] is None
    assert results("N1").status_code == 404
    page = TestClient(create_app(engine, rules, load_governance()))
    login(page, "a3@coop.test", PASSWORD)
    assert "pour 1, contre 1" in unescape(page.get("/assemblies/AG/ballot").text)


def test_the_holders_page_votes_for_the_giver(ledger: tuple[Engine, dict[str, str]], rules: Rules) -> None:
    engine, _ = ledger
    page = TestClient(create_app(engine, rules, load_governance()))
    login(page, "a1@coop.test", PASSWORD)
    html = page.get("/assemblies/AG/ballot").text
    for form in ("live-R1", "live-R1-for-A2", "live-S1", "live-S1-for-A2"):
        assert f'id="{form}"' in html, form
    assert "for-A3" not in html  # over the limit: not theirs to vote
    csrf = csrf_of(html)
    sent = page.post("/assemblies/AG/ballot/live", data={"csrf": csrf, "resolution_id": "S1", "choice": "against",
                                                         "for_member": "A2"}, follow_redirects=False)
    assert sent.status_code == 303
    assert 'id="live-S1-for-A2"' not in page.get("/assemblies/AG/ballot").text
    refused = page.post("/assemblies/AG/ballot/live", data={"csrf": csrf, "resolution_id": "S1", "choice": "for",
                                                            "for_member": "A3"})
    assert refused.status_code == 422 and "ne détenez pas de pouvoir" in unescape(refused.text)
    with engine.connect() as conn:
        assert tally_resolution(conn, "S1", load_governance()).count("against") == 1


@pytest.mark.parametrize("width", [375, 1280])
def test_the_holder_votes_for_the_giver_in_chromium(browser: Any, ledger: tuple[Engine, dict[str, str]],
                                                    db_url: str, width: int) -> None:
    engine, _ = ledger
    with served(db_url) as base:
        page = signed_in(browser, base, "a1@coop.test", {"width": width, "height": 900})
        page.goto(f"{base}/assemblies/AG/ballot")
        assert "Vous votez pour A2" in page.locator("#live-S1-for-A2").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"ballot-proxy-holder-{width}")
        page.locator("#live-S1-for-A2").get_by_role("button", name="Contre").click()
        page.locator("#live-S1").get_by_role("button", name="Pour").click()
        assert page.locator("#live-S1-for-A2").count() == 0 and page.locator("#live-S1").count() == 0
        page.close()
    with engine.connect() as conn:
        s1 = tally_resolution(conn, "S1", load_governance())
    assert (s1.count("for"), s1.count("against")) == (1, 1)
