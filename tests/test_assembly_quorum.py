"""A resolution's tally reads only its own votes, and of the others who voted by correspondence (G2), on
both backends: an associate who voted by correspondence on another resolution only, in time, counts in
this one's quorum; one who did so after the deadline does not."""

from __future__ import annotations

from sqlalchemy import Engine

from engine.config import Rules
from governance.config import load_governance
from governance.results import tally_resolution
from tests.assembly_support import associates, assembly, event, feed


def test_a_correspondence_vote_on_another_resolution_counts_in_the_quorum(engine: Engine, rules: Rules) -> None:
    done = feed(engine, rules, *associates("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10"),
                *assembly("AG", "R1", "R2"),
                event("vote.cast", at="2026-06-10T08:00:00Z", resolution_id="R2", member_id="A1", choice="for",
                      mode="correspondence"),
                event("vote.cast", at="2026-06-19T13:00:00Z", resolution_id="R2", member_id="A2", choice="for",
                      mode="correspondence"),  # 15:00 in Paris: the deadline itself
                event("vote.cast", at="2026-06-19T13:00:01Z", resolution_id="R2", member_id="A3", choice="for",
                      mode="correspondence"))  # a second late
    assert done.dead_letters == []
    with engine.connect() as conn:
        r1 = tally_resolution(conn, "R1", load_governance())
        r2 = tally_resolution(conn, "R2", load_governance())
    assert (r1.postal, r1.quorum_met, r1.count("for")) == (2, True, 0)  # quorum: ceil(10 / 5) = 2
    assert (r2.postal, r2.count("for"), [n.reason.value for n in r2.not_counted]) == (2, 2, ["late"])
