"""The public scenario tests/scenarios/assembly_members (issue 17, checks): convocations, correspondence
votes, a proxy, votes in person, a secret election and the minutes, on both backends. Its expected
tallies were worked out by hand from DOMAIN.md (its `about` says how), not printed by the code."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import Engine

from cli.main import cae
from engine.config import Rules
from governance import ballot, secret
from governance.config import load_governance
from governance.results import tally_resolution
from streams.pipeline import Raw, process

HERE = Path(__file__).parent / "scenarios" / "assembly_members"
CONFIG = load_governance()


def _submit(engine: Engine, rules: Rules, make: Any) -> object:
    """A member's checked form, recorded as the web records it (secret ballots apart), or its refusal."""
    try:
        with engine.connect() as conn:
            form = make(conn)
    except ballot.BallotRefused as exc:
        return exc.status
    try:
        with engine.begin() as conn:
            secret.cast(conn, form.secret)
    except secret.AlreadyVoted:
        return 409
    done = process(engine, [Raw(line, "scenario") for line in ballot.lines(form.events)], rules)
    assert done.dead_letters == []
    return "recorded"


def test_the_scenario_gives_its_expected_tallies_and_minutes(engine: Engine, rules: Rules, db_url: str,
                                                            tmp_path: Path) -> None:
    lines = (HERE / "events.jsonl").read_bytes().splitlines()
    done = process(engine, [Raw(line, f"events.jsonl:{n}") for n, line in enumerate(lines, start=1)], rules)
    assert done.dead_letters == []
    sent = json.loads((HERE / "ballots.json").read_text(encoding="utf-8"))
    for form in sent["correspondence"]:
        answer = _submit(engine, rules, lambda conn: ballot.correspondence_votes(
            conn, "AGO-2027", form["member_id"], list(form["votes"].items()),
            datetime.fromisoformat(form["at"]), CONFIG))
        assert answer == form["answer"], form
    for vote in sent["in_session"]:
        answer = _submit(engine, rules, lambda conn: ballot.live_vote(
            conn, "AGO-2027", vote["member_id"], vote["resolution_id"], vote["choice"],
            datetime.fromisoformat("2027-06-20T11:00:00+02:00"), CONFIG))
        assert answer == vote["answer"], vote
    expected = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    with engine.connect() as conn:
        for want in expected["tallies"]:
            got = tally_resolution(conn, want["resolution_id"], CONFIG).to_json()
            got["not_counted"] = [[n["member_id"], n["reason"]] for n in got["not_counted"]]
            assert got == want
    path = tmp_path / "pv.html"
    result = CliRunner().invoke(cae, ["assembly", "AGO-2027", "--minutes", str(path), "--db", db_url])
    assert result.exit_code == 0, result.output
    text = " ".join(path.read_text(encoding="utf-8").replace("&#39;", "'").split())
    for words in expected["minutes"]:
        assert words in text, words
