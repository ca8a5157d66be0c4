"""G1 (convened in time) and G2/G3 (correspondence votes, proxies from the member) in the tally.

The property test checks the tally against an oracle written from DOMAIN.md's text alone (the
rules as a reader of the statutes applies them, member by member), never from `governance.tally`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.config import packaged_governance, parse_governance
from governance.convocation import timing
from governance.records import CHOICES, Assembly, Attendance, Convocation, MemberFacts, Proxy, Resolution, Vote
from governance.sitting import sit
from governance.tally import Reason, Tally, tally

HELD = date(2026, 6, 20)
RULES = packaged_governance().at(HELD)
DEADLINE = datetime(2026, 6, 19, 13, 0, tzinfo=timezone.utc)  # the eve at 15:00 in Paris (summer time)
BEFORE, AFTER = "2026-06-19T12:59:59Z", "2026-06-19T13:00:01Z"


def _assembly(convocation: int = 1, convened_on: date | None = None, **kw: Any) -> Assembly:
    return Assembly("AG", "AGO", HELD, convocation, convened_on, **kw)


# -- G1 ----------------------------------------------------------------------------------------

def test_fifteen_days_on_first_convocation_ten_on_second() -> None:
    assert timing(_assembly(1, HELD - timedelta(days=15)), [], RULES).regular is True
    assert timing(_assembly(1, HELD - timedelta(days=14)), [], RULES).regular is False
    assert timing(_assembly(2, HELD - timedelta(days=10)), [], RULES).regular is True
    assert timing(_assembly(2, HELD - timedelta(days=9)), [], RULES).regular is False
    assert timing(_assembly(1), [], RULES).regular is None  # no sending date: not known


def test_a_convocation_sent_later_than_convened_on_makes_it_late() -> None:
    late = [Convocation(1, "AG", "A1", "letter", HELD - timedelta(days=20)),
            Convocation(2, "AG", "A2", "email", HELD - timedelta(days=12))]
    found = timing(_assembly(1, HELD - timedelta(days=30)), late, RULES)
    assert (found.days_before, found.regular) == (12, False)


def test_the_days_are_configuration_per_legal_form() -> None:
    sarl = parse_governance('[[governance]]\nfrom = 2001-01-01\nlegal_form = "SARL"\n', "t",
                            packaged_governance()).at(HELD)
    assert timing(_assembly(2, HELD - timedelta(days=10)), [], sarl).regular is False
    assert timing(_assembly(2, HELD - timedelta(days=15)), [], sarl).regular is True


def test_the_tally_shows_whether_the_assembly_was_convened_in_time() -> None:
    members = {"A1": MemberFacts("A1", "A1", date(2020, 1, 1), date(2020, 1, 1))}
    late = sit(_assembly(1, HELD - timedelta(days=3)), members, [], [], RULES, [], [])
    assert tally(late, Resolution("R1", "AG", "t"), [], members, RULES).to_json()["regular"] is False


# -- G2 / G3, by example --------------------------------------------------------------------------

class Case:
    def __init__(self, n: int = 5) -> None:
        self.ids = [f"A{i}" for i in range(1, n + 1)]
        self.members = {m: MemberFacts(m, m, date(2020, 1, 1), date(2020, 1, 1)) for m in self.ids}
        self.records: list[Attendance | Proxy | Vote] = []

    def add(self, what: str, a: str, b: str = "", choice: str = "for", mode: str | None = None,
            at: str = BEFORE, resolution: str = "R1") -> Case:
        seq = len(self.records) + 1
        if what == "attend":
            self.records.append(Attendance(seq, "AG", a, "present"))  # type: ignore[arg-type]
        elif what == "proxy":
            self.records.append(Proxy(seq, "AG", a, b))
        else:
            self.records.append(Vote(seq, resolution, a, choice, b or None, f"e{seq}", mode, at))  # type: ignore[arg-type]
        return self

    def tally(self, resolution: str = "R1") -> Tally:
        return _count(_assembly(), self.members, self.records, resolution)


def _count(assembly: Assembly, members: dict[str, MemberFacts], records: list[Any], resolution: str) -> Tally:
    attendance = [r for r in records if isinstance(r, Attendance)]
    proxies = [r for r in records if isinstance(r, Proxy)]
    votes = [r for r in records if isinstance(r, Vote)]
    sitting = sit(assembly, members, attendance, proxies, RULES, votes)
    return tally(sitting, Resolution(resolution, "AG", "t"), votes, members, RULES)


def _reasons(t: Tally) -> list[tuple[str, str]]:
    return [(n.vote.member_id, n.reason.value) for n in t.not_counted]


def test_a_correspondence_voter_counts_in_the_quorum_without_coming() -> None:
    t = Case().add("vote", "A1", mode="correspondence").tally()
    assert (t.present, t.represented, t.postal, t.quorum_required, t.quorum_met) == (0, 0, 1, 1, True)
    assert t.count("for") == 1 and t.adopted


def test_a_present_member_keeps_their_correspondence_vote_whatever_the_order() -> None:
    for order in ("post first", "direct first"):
        case = Case().add("attend", "A1")
        if order == "direct first":
            case.add("vote", "A1", choice="against", mode="direct")
        case.add("vote", "A1", choice="for", mode="correspondence")
        if order == "post first":
            case.add("vote", "A1", choice="against")
        t = case.tally()
        assert (t.count("for"), t.count("against"), t.present, t.postal) == (1, 0, 0, 1)
        assert _reasons(t) == [("A1", "postal_vote_holds")]
        assert "voted by correspondence" in t.not_counted[0].detail


def test_a_present_correspondence_voter_is_counted_once_in_the_quorum() -> None:
    t = Case(10).add("attend", "A1").add("vote", "A1", mode="correspondence").tally()
    assert (t.present, t.postal, t.quorum_required, t.quorum_met) == (0, 1, 2, False)


def test_a_proxy_does_not_count_for_a_resolution_its_giver_voted_on_by_correspondence() -> None:
    case = (Case().add("attend", "A2").add("proxy", "A1", "A2").add("vote", "A1", choice="for", mode="correspondence")
            .add("vote", "A1", "A2", choice="against", resolution="R1")
            .add("vote", "A1", "A2", choice="against", resolution="R2"))
    r1, r2 = case.tally("R1"), case.tally("R2")
    assert (r1.count("for"), r1.count("against")) == (1, 0) and _reasons(r1) == [("A1", "postal_vote_holds")]
    assert (r2.count("against"), r2.not_counted) == (1, ())  # not voted on R2 by correspondence: the proxy holds
    assert (r1.present, r1.represented, r1.postal) == (1, 0, 1)  # each associate counted once


def test_a_late_correspondence_vote_is_not_counted_with_the_reason() -> None:
    t = Case().add("vote", "A1", mode="correspondence", at=AFTER).tally()
    assert (t.postal, t.count("for"), _reasons(t)) == (0, 0, [("A1", "late")])
    assert "after the deadline 2026-06-19 15:00:00+02:00" in t.not_counted[0].detail


def test_a_vote_on_the_deadline_itself_counts() -> None:
    t = Case().add("vote", "A1", mode="correspondence", at="2026-06-19T15:00:00+02:00").tally()
    assert (t.postal, t.count("for"), t.not_counted) == (1, 1, ())


def test_only_the_first_correspondence_vote_counts() -> None:
    t = Case().add("vote", "A1", choice="for", mode="correspondence").add(
        "vote", "A1", choice="against", mode="correspondence").tally()
    assert (t.count("for"), t.count("against"), _reasons(t)) == (1, 0, [("A1", "second_vote")])


def test_a_correspondence_vote_by_a_non_associate_is_not_counted() -> None:
    case = Case()
    case.members["X"] = MemberFacts("X", "X", date(2020, 1, 1))
    t = case.add("vote", "X", mode="correspondence").tally()
    assert (t.postal, _reasons(t)) == (0, [("X", "not_associate")])


# -- G2 / G3: random interleavings against an oracle from DOMAIN.md ---------------------------------

def _oracle(assembly: Assembly, members: dict[str, MemberFacts], records: list[Any], resolution: str
            ) -> tuple[Counter[str], int, bool]:
    """DOMAIN.md, Governance and G2-G3, read member by member (records in stream order)."""
    electorate = {m for m, f in members.items()
                  if f.associate_on is not None and f.associate_on <= assembly.held_on
                  and (f.left_on is None or f.left_on >= assembly.held_on)}
    mode: dict[str, str] = {}
    for r in records:
        if isinstance(r, Attendance):
            mode[r.member_id] = r.mode
    attending = {m for m in electorate if mode.get(m) in ("present", "remote")}
    limit = 1 if len(electorate) < 20 else len(electorate) // 20
    holder_of: dict[str, str] = {}
    gave: set[str] = set()
    carried: Counter[str] = Counter()
    for r in records:
        if not isinstance(r, Proxy):
            continue
        first = r.from_member not in gave
        gave.add(r.from_member)
        if (first and r.from_member in electorate and r.from_member not in attending and r.to_member != r.from_member
                and r.to_member in attending and carried[r.to_member] < limit):
            holder_of[r.from_member] = r.to_member
            carried[r.to_member] += 1
    votes = [r for r in records if isinstance(r, Vote)]
    on_time = [v for v in votes if v.mode == "correspondence" and v.member_id in electorate
               and datetime.fromisoformat(v.occurred_at) <= DEADLINE]
    postal = {v.member_id for v in on_time}
    choice: dict[str, str] = {}
    for v in on_time:
        if v.resolution_id == resolution:
            choice.setdefault(v.member_id, v.choice)
    for v in votes:
        m = v.member_id
        if v.resolution_id != resolution or m in choice or v.mode == "correspondence" or m not in electorate:
            continue
        if m in postal and any(p.member_id == m and p.resolution_id == resolution for p in on_time):
            continue
        by_holder = v.cast_by is not None and v.cast_by != m
        if (not by_holder and m in attending) or (by_holder and holder_of.get(m) == v.cast_by):
            choice[m] = v.choice
    participants = len(attending | set(holder_of) | postal)
    required = -((-RULES.quorum("AGO", assembly.convocation).numerator * len(electorate))
                 // RULES.quorum("AGO", assembly.convocation).denominator)
    return Counter(choice.values()), participants, participants >= required


IDS = [f"M{i}" for i in range(8)]


@st.composite
def interleavings(draw: Any) -> dict[str, Any]:
    members = {m: MemberFacts(m, m, date(2020, 1, 1), draw(st.sampled_from([None, date(2020, 1, 1), HELD,
                                                                              HELD + timedelta(days=1)])))
               for m in draw(st.lists(st.sampled_from(IDS), unique=True, min_size=1))}
    steps = draw(st.lists(st.tuples(st.sampled_from(["attend", "proxy", "vote", "vote", "post", "post"]),
                                    st.sampled_from(IDS), st.sampled_from(IDS),
                                    st.sampled_from(["present", "remote", "excused", "absent"]),
                                    st.sampled_from(CHOICES), st.booleans(), st.sampled_from(["R1", "R2"]),
                                    st.sampled_from([BEFORE, AFTER, "2026-06-19T15:00:00+02:00", "2026-06-01T08:00:00Z"])),
                          max_size=60))
    records: list[Any] = []
    for seq, (what, a, b, mode, choice, by_proxy, resolution, at) in enumerate(steps, start=1):
        if what == "attend":
            records.append(Attendance(seq, "AG", a, mode))  # type: ignore[arg-type]
        elif what == "proxy":
            records.append(Proxy(seq, "AG", a, b))
        elif what == "post":
            records.append(Vote(seq, resolution, a, choice, None, f"e{seq}", "correspondence", at))
        else:
            records.append(Vote(seq, resolution, a, choice, b if by_proxy else None, f"e{seq}", None, at))
    return {"assembly": _assembly(draw(st.sampled_from([1, 2]))), "members": members, "records": records}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interleavings())
def test_the_tally_agrees_with_the_oracle_on_any_interleaving(case: dict[str, Any]) -> None:
    for resolution in ("R1", "R2"):
        t = _count(case["assembly"], case["members"], case["records"], resolution)
        counts, participants, quorum_met = _oracle(case["assembly"], case["members"], case["records"], resolution)
        assert {c: t.count(c) for c in CHOICES} == {c: counts.get(c, 0) for c in CHOICES}
        assert (t.present + t.represented + t.postal, t.quorum_met) == (participants, quorum_met)
        mine = [r for r in case["records"] if isinstance(r, Vote) and r.resolution_id == resolution]
        assert len(t.counted) + len(t.not_counted) == len(mine)
        assert all(n.reason in Reason for n in t.not_counted)
