"""The tally's reading of who voted by correspondence (issue 17, point 5; DOMAIN.md G2), on both backends.

A resolution's tally looks up, among the associates it does not already know voted by
correspondence in time, those who did on another resolution of the assembly, through the index of
revision 0014: the same associates as reading every correspondence vote of the others, found
without reading them all (bench/governance.py: p95 1.1 s before, 0.7 s after on this machine). Then
(revision 0016 and the electorate chosen by the database) the votes, attendance and proxies read
out of their indexes, and the facts only of the voters outside the electorate: CPU 173 -> 127 ms;
the last test holds that reading to the straightforward one of every member and every vote.
"""

from __future__ import annotations

from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from engine.config import Rules
from governance.config import load_governance
from governance.results import record_of_assembly, tally_resolution
from governance.store import correspondence_voters
from tests.assembly_support import DEADLINE, HELD_ON, associates, assembly, event, feed

IN_TIME, LATE = "2026-06-10T10:00:00Z", "2026-06-19T14:00:00Z"  # the deadline is 13:00 UTC


def test_the_postal_index_is_there_and_the_lookup_uses_it(engine: Engine) -> None:
    listed = ("SELECT name FROM sqlite_master WHERE type = 'index'" if engine.dialect.name == "sqlite"
              else "SELECT indexname FROM pg_indexes WHERE tablename = 'governance_events'")
    with engine.connect() as conn:
        assert "ix_governance_events_postal" in set(conn.scalars(text(listed)))
    if engine.dialect.name == "sqlite":
        query = ("SELECT DISTINCT json_extract(payload, '$.member_id') FROM governance_events WHERE type = 'vote.cast' "
                 "AND json_extract(payload, '$.mode') = 'correspondence' "
                 "AND json_extract(payload, '$.member_id') IN ('A1', 'A2') "
                 "AND json_extract(payload, '$.resolution_id') IN ('R1', 'R2')")
        with engine.connect() as conn:
            plan = " ".join(str(row) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
        assert "ix_governance_events_postal" in plan, plan



def test_the_indexes_hold_the_fields_a_tally_reads(engine: Engine) -> None:
    """Revision 0016: the indexes a resolution's votes, an assembly's proxies and a meeting's
    attendance are found by hold every field the tally reads of them, so SQLite reads them out of
    the indexes rather than parsing each event's JSON."""
    listed = ("SELECT sql FROM sqlite_master WHERE name = :name" if engine.dialect.name == "sqlite"
              else "SELECT indexdef FROM pg_indexes WHERE indexname = :name")
    held = {"resolution": ("resolution_id", "member_id", "choice", "cast_by", "mode", "occurred_at", "event_id"),
            "assembly": ("assembly_id", "from_member", "to_member"), "meeting": ("meeting_id", "member_id", "mode")}
    with engine.connect() as conn:
        for index, fields in held.items():
            definition = conn.scalars(text(listed), {"name": f"ix_governance_events_{index}"}).one()
            assert all(field in definition for field in fields), definition

def test_late_here_in_time_there_still_counts_in_the_quorum(engine: Engine, rules: Rules) -> None:
    """A1 voted by correspondence late on R1 but in time on R2: R1's tally counts A1 as postal (G2),
    and not A1's late vote; A2 voted in time on R1 only: postal on R2 as well."""
    done = feed(engine, rules, *associates("A1", "A2", "A3"), *assembly("AG", "R1", "R2"),
                event("vote.cast", at=LATE, resolution_id="R1", member_id="A1", choice="for", mode="correspondence"),
                event("vote.cast", at=IN_TIME, resolution_id="R2", member_id="A1", choice="for", mode="correspondence"),
                event("vote.cast", at=IN_TIME, resolution_id="R1", member_id="A2", choice="against",
                      mode="correspondence"))
    assert done.dead_letters == [] and DEADLINE.endswith("+02:00")
    with engine.connect() as conn:
        r1, r2 = (tally_resolution(conn, r, load_governance()) for r in ("R1", "R2"))
    assert (r1.postal, r1.count("for"), r1.count("against"), [n.reason.value for n in r1.not_counted]) == (
        2, 0, 1, ["late"])
    assert (r2.postal, r2.count("for")) == (2, 1)


_examples = count(1)
VOTE = st.tuples(st.sampled_from(["A1", "A2", "A3", "A4"]), st.sampled_from(["R1", "R2", "R3"]),
                 st.sampled_from([IN_TIME, LATE]), st.sampled_from(["correspondence", "direct"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(votes=st.lists(VOTE, max_size=12, unique_by=lambda v: (v[0], v[1])),
       among=st.sets(st.sampled_from(["A1", "A2", "A3", "A4", "N1"])), ids=st.sets(st.sampled_from(["R1", "R2", "R3"])))
def test_asking_among_some_finds_what_reading_all_finds_of_them(
        engine: Engine, rules: Rules, votes: list[tuple[str, str, str, str]], among: set[str], ids: set[str]) -> None:
    tag = f"p{next(_examples)}"  # each example its own associates and assembly in the one ledger
    done = feed(engine, rules, *associates(*(f"{tag}{m}" for m in ("A1", "A2", "A3", "A4"))),
                *assembly(f"{tag}AG", *(f"{tag}{r}" for r in ("R1", "R2", "R3"))),
                *(event("vote.cast", at=at, resolution_id=f"{tag}{r}", member_id=f"{tag}{m}", choice="for",
                        **({"mode": mode} if mode == "correspondence" else {}))
                  for m, r, at, mode in votes))
    assert done.dead_letters == []
    wanted = [f"{tag}{r}" for r in ids]
    with engine.connect() as conn:
        every = correspondence_voters(conn, wanted)
        some = correspondence_voters(conn, wanted, among={f"{tag}{m}" for m in among})
    assert some == [(m, at) for m, at in every if m.removeprefix(tag) in among]


MEMBER = st.tuples(st.sampled_from(["2025-01-01", HELD_ON, "2026-06-21", None]),  # became associate
                   st.sampled_from([None, "2026-06-19", HELD_ON, "2026-07-01"]))   # left
STEP = st.tuples(st.sampled_from(["attend", "proxy", "vote", "vote", "vote"]), st.sampled_from(range(6)),
                 st.sampled_from(range(6)), st.sampled_from(["present", "remote", "absent"]),
                 st.sampled_from(["R1", "R2"]), st.sampled_from(["direct", "correspondence", "proxy"]),
                 st.sampled_from([IN_TIME, LATE]), st.sampled_from(["for", "against", "abstain", "blank"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(facts=st.lists(MEMBER, min_size=6, max_size=6), steps=st.lists(STEP, max_size=40))
def test_a_tally_reads_what_reading_every_member_and_every_vote_gives(
        engine: Engine, rules: Rules, facts: list[tuple[str | None, str | None]],
        steps: list[tuple[str, int, int, str, str, str, str, str]]) -> None:
    """`cae tally`'s reading (the electorate chosen by the database, the facts only of the voters
    outside it, the votes out of the resolution's index, the others' correspondence voters asked
    about) gives what `cae assembly`'s straightforward one does: every member's facts and every vote
    of the assembly, through the same pure functions. Members become associates before, on or after
    the assembly's day and leave before, on or after it; votes come in person, by proxy, by
    correspondence in time or late."""
    tag = f"t{next(_examples)}"
    ids = [f"{tag}M{i}" for i in range(6)]
    members: list[dict[str, object]] = []
    for mid, (associate_on, left_on) in zip(ids, facts):
        members.append(event("member.joined", member_id=mid, name=f"Membre {mid}", joined_on="2024-01-01",
                             status="salarie"))
        if associate_on:
            members.append(event("member.became_associate", member_id=mid, on=associate_on))
        if left_on:
            members.append(event("member.left", member_id=mid, on=left_on))
    recorded: list[dict[str, object]] = []
    for what, a, b, mode, rid, how, at, choice in steps:
        if what == "attend":
            recorded.append(event("attendance.recorded", meeting_id=f"{tag}AG", member_id=ids[a], mode=mode))
        elif what == "proxy":
            recorded.append(event("proxy.given", assembly_id=f"{tag}AG", from_member=ids[a], to_member=ids[b]))
        else:
            recorded.append(event("vote.cast", at=at, resolution_id=f"{tag}{rid}", member_id=ids[a], choice=choice,
                                  **({"mode": "correspondence"} if how == "correspondence" else {}),
                                  **({"cast_by": ids[b]} if how == "proxy" else {})))
    done = feed(engine, rules, *members, *assembly(f"{tag}AG", f"{tag}R1", f"{tag}R2"), *recorded)
    assert done.dead_letters == []
    config = load_governance()
    with engine.connect() as conn:
        whole = record_of_assembly(conn, f"{tag}AG", config).tallies
        each = [tally_resolution(conn, f"{tag}{rid}", config) for rid in ("R1", "R2")]
    assert [(t.to_json(), t.counted) for t in each] == [(t.to_json(), t.counted) for t in whole]
