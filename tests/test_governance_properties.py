"""Properties of the tally (hypothesis), whatever the recorded events.

- it never counts more votes than present + represented, nor a member twice;
- every vote on the resolution is either counted or listed with a reason;
- recomputing from the same events gives the same result, whatever order the
  records are handed over in (the stream order, `seq`, is what counts);
- quorum and adoption follow their definitions;
- a member's view of it holds the counts and their own votes, nothing of other members.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.member_view import member_assembly, member_tally
from governance.records import CHOICES, Assembly, Attendance, MemberFacts, Proxy, Resolution, Vote
from governance.sheet import assembly_record
from governance.sitting import sit
from governance.tally import tally
from tests.test_governance_rules import HELD, RULES

IDS = [f"M{i:02d}" for i in range(30)]
member_id = st.sampled_from(IDS)
day = st.dates(min_value=HELD - timedelta(days=400), max_value=HELD + timedelta(days=60))


@st.composite
def members(draw: Any) -> dict[str, MemberFacts]:
    found = {}
    for mid in draw(st.lists(member_id, unique=True, max_size=len(IDS))):
        associate_on = draw(st.none() | day)
        left_on = draw(st.none() | day)
        found[mid] = MemberFacts(mid, mid, date(2020, 1, 1), associate_on, left_on)
    return found


@st.composite
def assemblies(draw: Any) -> dict[str, Any]:
    """An assembly's record: members, then attendance, proxies and votes interleaved in one stream."""
    kind = draw(st.sampled_from(["AGO", "AGE"]))
    records: list[Attendance | Proxy | Vote] = []
    steps = draw(st.lists(st.tuples(st.sampled_from(["attend", "proxy", "vote", "vote"]), member_id,
                                    member_id, st.sampled_from(["present", "remote", "excused", "absent"]),
                                    st.sampled_from(CHOICES), st.booleans(), st.sampled_from(["R1", "R2"])),
                          max_size=120))
    for seq, (what, a, b, mode, choice, by_proxy, resolution) in enumerate(steps, start=1):
        if what == "attend":
            records.append(Attendance(seq, "AG", a, mode))
        elif what == "proxy":
            records.append(Proxy(seq, "AG", a, b))
        else:
            records.append(Vote(seq, resolution, a, choice, b if by_proxy else None, f"e{seq}"))
    return {"assembly": Assembly("AG", kind, HELD, draw(st.sampled_from([1, 2]))),
            "members": draw(members()), "records": records}


def _tally(case: dict[str, Any], shuffle_seed: int | None = None) -> Any:
    records = list(case["records"])
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(records)
    attendance = [r for r in records if isinstance(r, Attendance)]
    proxies = [r for r in records if isinstance(r, Proxy)]
    votes = [r for r in records if isinstance(r, Vote)]
    sitting = sit(case["assembly"], case["members"], attendance, proxies, RULES)
    return sitting, tally(sitting, Resolution("R1", "AG", "t"), votes, case["members"], RULES)


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(assemblies())
def test_never_more_votes_than_present_and_represented_never_a_member_twice(case: dict[str, Any]) -> None:
    sitting, t = _tally(case)
    voters = [v.member_id for v in t.counted]
    assert len(voters) == len(set(voters))
    assert len(voters) <= t.present + t.represented
    assert set(voters) <= sitting.present | sitting.represented
    assert sum(n for _, n in t.counts) == len(voters)
    for vote in t.counted:  # a present associate votes in person, a represented one through the holder
        if vote.member_id in sitting.present:
            assert not vote.by_proxy
        else:
            assert vote.cast_by == sitting.holder_of[vote.member_id]


@PROPERTY
@given(assemblies())
def test_every_vote_is_counted_or_has_a_reason(case: dict[str, Any]) -> None:
    _, t = _tally(case)
    on_r1 = sorted(r.seq for r in case["records"] if isinstance(r, Vote) and r.resolution_id == "R1")
    assert sorted([v.seq for v in t.counted] + [n.vote.seq for n in t.not_counted]) == on_r1
    assert all(n.detail for n in t.not_counted)


@PROPERTY
@given(assemblies(), st.integers(min_value=0, max_value=2**32))
def test_recomputing_gives_the_same_result_whatever_the_order_handed_over(case: dict[str, Any],
                                                                         seed: int) -> None:
    _, first = _tally(case)
    _, again = _tally(case)
    _, shuffled = _tally(case, seed)
    assert first == again == shuffled
    assert first.to_json() == shuffled.to_json()


@PROPERTY
@given(assemblies())
def test_represented_within_limits_and_electorate(case: dict[str, Any]) -> None:
    sitting, t = _tally(case)
    assert sitting.present <= sitting.electorate and sitting.represented <= sitting.electorate
    assert not sitting.present & sitting.represented
    assert set(sitting.holder_of.values()) <= sitting.present
    holders = list(sitting.holder_of.values())
    assert all(holders.count(h) <= sitting.proxy_limit for h in holders)
    assert t.quorum_met == (t.present + t.represented >= t.quorum_required)
    assert t.quorum_required <= t.eligible
    if t.adopted:
        assert t.quorum_met and t.count("for") > 0


@PROPERTY
@given(assemblies(), member_id)
def test_a_member_sees_the_counts_and_their_own_votes_and_no_other_member(case: dict[str, Any], me: str) -> None:
    """Issue 14, point 4: a member's view of a tally and of its assembly has the same counts and
    result, each vote in their name with its fate, and no other member's id anywhere."""
    _, t = _tally(case)
    mine = member_tally(t, me)
    record = assembly_record(case["assembly"], [Resolution("R1", "AG", "t")], case["members"],
                             [r for r in case["records"] if isinstance(r, Attendance)],
                             [r for r in case["records"] if isinstance(r, Proxy)],
                             [r for r in case["records"] if isinstance(r, Vote)], RULES)
    seen = member_assembly(record, me)
    shown = json.dumps(mine.to_json()) + repr(seen)
    assert set(re.findall(r"M\d\d", shown)) <= {me}
    assert {k: v for k, v in mine.to_json().items() if k != "own_votes"} == {
        k: v for k, v in t.to_json().items() if k != "not_counted"}
    assert seen.tallies == (mine.tally,) and seen.own["R1"] == mine.own
    assert (seen.eligible, seen.present, seen.represented) == (t.eligible, t.present, t.represented)
    fate = {v.seq: None for v in t.counted} | {n.vote.seq: n.reason for n in t.not_counted}
    in_my_name = sorted((r for r in case["records"] if isinstance(r, Vote) and r.resolution_id == "R1"
                         and r.member_id == me), key=lambda v: v.seq)
    assert [(v.event_id, v.choice, v.reason) for v in mine.own] == [
        (v.event_id, v.choice, fate[v.seq]) for v in in_my_name]
