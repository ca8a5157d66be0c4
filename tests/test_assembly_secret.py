"""Secret ballots (DOMAIN.md G4; issue 17 point 3), on both backends, through the member's API.

The proof that nothing links a ballot to its voter: two ledgers where the same associates vote,
in the same order, with their choices swapped, must hold exactly the same rows in every table, read
as anyone reading the database would (every table, no ORDER BY: the database's own order), once
the clock's times are set aside. Whatever a table kept that tied a choice to a voter (a voter
column, a ballot row in the voters' order, a ballot's own time), the two would differ there.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import DateTime, Engine, MetaData, select
from sqlalchemy.exc import DBAPIError

from engine.config import Rules
from governance.config import load_governance
from governance.results import record_of_assembly, tally_resolution
from ledger import schema
from ledger.db import open_ledger
from tests.assembly_support import associates, assembly, event, feed
from tests.conftest import new_database_url
from web import accounts, api_assembly
from web.app import create_app

SOON = (date.today() + timedelta(days=30)).isoformat()
VOTERS = ("A1", "A2", "A3")
EVENTS = [*associates(*VOTERS), *assembly("AG", "R1", "S1", "S2", secret=("S1", "S2"), held_on=SOON,
                                          convened_on=date.today().isoformat(), vote_deadline=None)]
# On the day (issue 17, point 3): H1 is present and holds the proxy of G1, who is absent; S1 is open.
ON_THE_DAY = [*associates("H1", "G1"), event("attendance.recorded", meeting_id="AG", member_id="H1", mode="present"),
              event("proxy.given", assembly_id="AG", from_member="G1", to_member="H1"),
              event("resolution.voting", resolution_id="S1", state="open")]


class Site:
    def __init__(self, engine: Engine, rules: Rules, *more: dict[str, Any]) -> None:
        self.engine = engine
        assert feed(engine, rules, *EVENTS, *more).dead_letters == []
        self.tokens: dict[str, str] = {}
        self.token_ids: list[str] = []
        with engine.begin() as conn:
            for mid in (*VOTERS, "H1") if more else VOTERS:
                email = f"{mid.lower()}@coop.test"
                accounts.add_user(conn, email, "correct horse battery staple", "member", mid, "tests")
                token_id, self.tokens[mid] = accounts.create_token(conn, email, "tests", "tests")
                self.token_ids.append(token_id)
        self.client = TestClient(create_app(engine, rules, load_governance()), raise_server_exceptions=True)

    def vote(self, who: str, **choices: str) -> Any:
        body = {"votes": [{"resolution_id": rid, "choice": c} for rid, c in choices.items()]}
        return self.client.post("/api/assemblies/AG/votes", json=body,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"})


@pytest.fixture
def site(engine: Engine, rules: Rules) -> Site:
    return Site(engine, rules)


def test_a_secret_ballot_is_counted_and_final_with_counts_only(site: Site) -> None:
    assert site.vote("A1", R1="for", S1="for", S2="blank").json() == {"recorded": 3}
    assert site.vote("A2", R1="against", S1="against", S2="for").status_code == 200
    assert site.vote("A1", R1="for", S1="against", S2="for").status_code == 409
    with site.engine.connect() as conn:
        s1 = tally_resolution(conn, "S1", load_governance())
        record = record_of_assembly(conn, "AG", load_governance())
        stored = conn.execute(select(schema.governance_events.c.payload)).scalars().all()
    assert (s1.count("for"), s1.count("against"), s1.postal, s1.counted, s1.not_counted) == (1, 1, 2, (), ())
    assert [t.to_json()["blank"] for t in record.tallies] == [0, 0, 1]
    assert sorted(record.to_json()["postal_votes"]) == ["A1", "A2"]
    assert not any(json.loads(p).get("resolution_id") in ("S1", "S2") and json.loads(p)["type"] == "vote.cast"
                   for p in stored)


def test_a_vote_cast_naming_its_voter_on_a_secret_resolution_is_refused(site: Site, rules: Rules) -> None:
    done = feed(site.engine, rules, event("attendance.recorded", meeting_id="AG", member_id="A1", mode="present"),
                event("vote.cast", resolution_id="S1", member_id="A1", choice="for"))
    assert len(done.dead_letters) == 1 and "secret ballot" in done.dead_letters[0].reason


def test_the_counts_take_one_ballot_at_a_time_and_never_lose_one(site: Site, owner: Engine) -> None:
    """Even the tables' owner cannot add a ballot without a voter, or take one away."""
    site.vote("A1", R1="for", S1="for", S2="for")
    c = schema.secret_counts
    for change in ({"n_for": 2}, {"n_for": 0, "n_against": 1}, {"n_against": 1}):
        with pytest.raises(DBAPIError), owner.begin() as conn:
            conn.execute(c.update().where(c.c.resolution_id == "S1").values(change))
    with pytest.raises(DBAPIError), owner.begin() as conn:
        conn.execute(c.delete())
    with pytest.raises(DBAPIError), owner.begin() as conn:
        conn.execute(schema.secret_participation.delete())


def _dump(engine: Engine, token_ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in the database's own order, the clock's times and the random ids of the
    voters' API tokens (named in the audit log when made) set aside."""
    tables = MetaData()
    tables.reflect(engine)
    found = {}
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            timed = {c.name for c in table.columns if isinstance(c.type, DateTime)}
            found[table.name] = [tuple("<time>" if k in timed else _untoken(v, token_ids)
                                       for k, v in row._mapping.items())
                                 for row in conn.execute(table.select())]
    return found


def _untoken(value: Any, token_ids: list[str]) -> Any:
    for n, token_id in enumerate(token_ids):
        if isinstance(value, str):
            value = value.replace(token_id, f"<token {n}>")
    return value


class _Clock(datetime):
    """The API's clock, stopped: the open resolution's votes carry the same time in both ledgers."""

    @classmethod
    def now(cls, tz: Any = None) -> "_Clock":
        return cls(2026, 1, 5, 12, 0, 0, tzinfo=timezone.utc)


def test_no_table_leads_from_a_ballot_back_to_its_voter(db_url: str, engine: Engine, rules: Rules,
                                                        tmp_path: Path, request: pytest.FixtureRequest,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_assembly, "datetime", _Clock)
    other_url = new_database_url("sqlite" if db_url.startswith("sqlite") else "postgresql",
                                 tmp_path / "other", request)
    (tmp_path / "other").mkdir()
    other = open_ledger(other_url)
    request.addfinalizer(other.dispose)
    dumps = []
    for ledger, choices in ((engine, ("for", "against", "blank", "for", "against")),
                            (other, ("blank", "for", "against", "against", "for"))):
        site = Site(ledger, rules, *ON_THE_DAY)
        for who, choice in zip(VOTERS, choices):
            assert site.vote(who, R1="abstain", S1=choice, S2="for").status_code == 200
        # The proxy holder's two ballots, their own and the giver's, in the same order in both ledgers.
        for for_member, choice in ((None, choices[3]), ("G1", choices[4])):
            live = site.client.post("/api/assemblies/AG/live", headers={"Authorization": f"Bearer {site.tokens['H1']}"},
                                    json={"resolution_id": "S1", "choice": choice, "for_member": for_member})
            assert live.json() == {"recorded": 1}
        with ledger.connect() as conn:
            assert tally_resolution(conn, "S1", load_governance()).counts == (
                ("for", 2), ("against", 2), ("abstain", 0), ("blank", 1))
        dumps.append(_dump(ledger, site.token_ids))
    secrets = {k: v for k, v in dumps[0].items() if k.startswith("secret_")}
    assert secrets["secret_participation"] and secrets["secret_counts"]
    for name in dumps[0]:
        if name not in ("users", "api_tokens", "web_settings"):  # salted hashes, the session key: random
            assert dumps[0][name] == dumps[1][name], f"{name} tells the two ledgers apart"
