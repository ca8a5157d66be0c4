"""POST /api/assemblies/{id}/votes and .../proxy (CONTRACT.md §6; DOMAIN.md G2, G3), on both backends.

The member's own token only; the events go through the pipeline, so the tally counts them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine.config import Rules
from governance.config import load_governance
from governance.results import tally_resolution
from tests.assembly_support import associates, assembly, event, feed
from web import accounts
from web.app import create_app

SOON = (date.today() + timedelta(days=30)).isoformat()
PAST = (date.today() - timedelta(days=30)).isoformat()


class Site:
    def __init__(self, engine: Engine, rules: Rules) -> None:
        self.engine = engine
        outcome = feed(engine, rules, *associates("A1", "A2", "A3"),
                       event("member.joined", member_id="N1", name="Pas associé", joined_on="2025-01-01",
                             status="cape"),
                       *assembly("AG", "R1", "R2", held_on=SOON, convened_on=date.today().isoformat(),
                                 vote_deadline=None),
                       *assembly("OLD", "P1", held_on=PAST, convened_on=None, vote_deadline=None))
        assert outcome.dead_letters == []
        self.tokens: dict[str, str] = {}
        with engine.begin() as conn:
            for mid, role in (("A1", "member"), ("A2", "member"), ("N1", "member"), ("staff", "staff")):
                email = f"{mid.lower()}@coop.test"
                accounts.add_user(conn, email, "correct horse battery staple", role, None if role == "staff" else mid,
                                  "tests")
                self.tokens[mid] = accounts.create_token(conn, email, "tests", "tests")[1]
        self.client = TestClient(create_app(engine, rules, load_governance()), raise_server_exceptions=True)

    def post(self, who: str, path: str, body: Any) -> Any:
        return self.client.post(path, json=body, headers={"Authorization": f"Bearer {self.tokens[who]}"})


@pytest.fixture
def site(engine: Engine, rules: Rules) -> Site:
    return Site(engine, rules)


FORM = {"votes": [{"resolution_id": "R1", "choice": "for"}, {"resolution_id": "R2", "choice": "abstain"}]}


def test_a_form_is_recorded_counted_and_final(site: Site) -> None:
    done = site.post("A1", "/api/assemblies/AG/votes", FORM)
    assert (done.status_code, done.json()) == (200, {"recorded": 2})
    with site.engine.connect() as conn:
        t = tally_resolution(conn, "R1", load_governance())
    assert (t.postal, t.count("for"), t.quorum_met, t.regular) == (1, 1, True, True)
    again = site.post("A1", "/api/assemblies/AG/votes", FORM)
    assert again.status_code == 409 and "final" in again.json()["error"]


@pytest.mark.parametrize("votes,words", [
    ([{"resolution_id": "R1", "choice": "for"}], "missing R2"),
    ([{"resolution_id": "R1", "choice": "for"}, {"resolution_id": "R1", "choice": "for"}], "named twice"),
    ([{"resolution_id": "R1", "choice": "for"}, {"resolution_id": "P1", "choice": "for"}], "not of it: P1"),
])
def test_a_form_that_does_not_cover_the_resolutions_is_a_422(site: Site, votes: Any, words: str) -> None:
    done = site.post("A1", "/api/assemblies/AG/votes", {"votes": votes})
    assert done.status_code == 422 and words in done.json()["error"]


def test_after_the_deadline_a_form_is_a_422_with_the_deadline(site: Site) -> None:
    done = site.post("A1", "/api/assemblies/OLD/votes", {"votes": [{"resolution_id": "P1", "choice": "for"}]})
    assert done.status_code == 422 and "until" in done.json()["error"] and "15:00:00" in done.json()["error"]


@pytest.mark.parametrize("who,status", [("N1", 404), ("staff", 403)])
def test_only_an_associate_of_the_electorate_may_vote(site: Site, who: str, status: int) -> None:
    assert site.post(who, "/api/assemblies/AG/votes", FORM).status_code == status
    assert site.post("A1", "/api/assemblies/NOPE/votes", FORM).status_code == 404


def test_a_proxy_is_given_once_to_another_associate(site: Site) -> None:
    assert site.post("A1", "/api/assemblies/AG/proxy", {"to_member": "A1"}).status_code == 422
    assert site.post("A1", "/api/assemblies/AG/proxy", {"to_member": "N1"}).status_code == 422
    done = site.post("A1", "/api/assemblies/AG/proxy", {"to_member": "A2"})
    assert (done.status_code, done.json()) == (200, {"recorded": 1})
    assert site.post("A1", "/api/assemblies/AG/proxy", {"to_member": "A3"}).status_code == 409
    assert site.post("A1", "/api/assemblies/OLD/proxy", {"to_member": "A2"}).status_code == 422


def test_hostile_bodies_are_422_never_500(site: Site) -> None:
    for body in ({}, {"votes": []}, {"votes": [{"resolution_id": "R1", "choice": "maybe"}]}, {"votes": "x"},
                 {"to": "A2"}, [1, 2]):
        assert site.post("A1", "/api/assemblies/AG/votes", body).status_code == 422
        assert site.post("A1", "/api/assemblies/AG/proxy", body).status_code == 422
