"""Tally rules, case by case, from the law and DOMAIN.md (Governance): events in, figures out.

Each case is an assembly built from records, as the store would give them;
no database: the tally is a pure function of what was recorded.
"""

from __future__ import annotations

from datetime import date
from itertools import count

import pytest

from governance.config import GovernanceRules, packaged_governance
from governance.records import Assembly, Attendance, Choice, MemberFacts, Mode, Proxy, Resolution, Vote
from governance.sitting import ProxyRefusal, Sitting, sit
from governance.tally import Reason, Tally, tally

HELD = date(2026, 6, 20)
RULES: GovernanceRules = packaged_governance().at(HELD)


class Case:
    """One assembly and what was recorded of it, in event order."""

    def __init__(self, kind: str = "AGO", convocation: int = 1, rules: GovernanceRules = RULES) -> None:
        self.assembly = Assembly("AG", kind, HELD, convocation)
        self.rules = rules
        self.members: dict[str, MemberFacts] = {}
        self.attendance: list[Attendance] = []
        self.proxies: list[Proxy] = []
        self.votes: list[Vote] = []
        self._seq = count(1)

    def associates(self, n: int, prefix: str = "A") -> list[str]:
        ids = [f"{prefix}{i:03d}" for i in range(1, n + 1)]
        for mid in ids:
            self.member(mid, associate_on=date(2020, 1, 1))
        return ids

    def member(self, mid: str, associate_on: date | None = None, left_on: date | None = None) -> str:
        self.members[mid] = MemberFacts(mid, f"Member {mid}", date(2019, 1, 1), associate_on, left_on)
        return mid

    def attend(self, *mids: str, mode: Mode = "present") -> Case:
        for mid in mids:
            self.attendance.append(Attendance(next(self._seq), "AG", mid, mode))
        return self

    def proxy(self, giver: str, holder: str) -> Case:
        self.proxies.append(Proxy(next(self._seq), "AG", giver, holder))
        return self

    def vote(self, mid: str, choice: Choice = "for", cast_by: str | None = None) -> Case:
        seq = next(self._seq)
        self.votes.append(Vote(seq, "R1", mid, choice, cast_by, f"v{seq}"))
        return self

    def sitting(self) -> Sitting:
        return sit(self.assembly, self.members, self.attendance, self.proxies, self.rules)

    def tally(self) -> Tally:
        return tally(self.sitting(), Resolution("R1", "AG", "A resolution"), self.votes, self.members,
                     self.rules)


def reasons(t: Tally) -> dict[str, Reason]:
    return {n.vote.event_id: n.reason for n in t.not_counted}


# Quorum: present + represented over the electorate, the required number rounded up
# (AGO 1/5 on first convocation: Code de commerce L225-98; AGE 1/4, then 1/5: L225-96).

def test_quorum_exactly_met() -> None:
    case = Case()
    a = case.associates(10)
    case.attend(a[0]).proxy(a[1], a[0]).vote(a[0]).vote(a[1], cast_by=a[0])
    t = case.tally()
    assert (t.eligible, t.present, t.represented, t.quorum_required) == (10, 1, 1, 2)
    assert t.quorum_met and t.adopted


def test_quorum_missed_by_one() -> None:
    case = Case()
    a = case.associates(10)
    case.attend(a[0]).vote(a[0])
    t = case.tally()
    assert (t.present + t.represented, t.quorum_required) == (1, 2)
    assert not t.quorum_met
    assert t.count("for") == 1 and not t.adopted  # counted, but no adoption without quorum


@pytest.mark.parametrize(("kind", "convocation", "electorate", "required"), [
    ("AGO", 1, 11, 3),   # 11/5 = 2.2: rounded up
    ("AGO", 2, 11, 0),   # no quorum on second convocation
    ("AGE", 1, 10, 3),   # 10/4 = 2.5
    ("AGE", 2, 10, 2),   # 10/5
    ("AGE", 1, 0, 0),
])
def test_quorum_required_per_kind_and_convocation(kind: str, convocation: int, electorate: int,
                                                  required: int) -> None:
    case = Case(kind, convocation)
    case.associates(electorate)
    assert case.tally().quorum_required == required


def test_second_convocation_ago_decides_with_anyone_present() -> None:
    case = Case("AGO", 2)
    a = case.associates(30)
    case.attend(a[0]).vote(a[0])
    t = case.tally()
    assert t.quorum_met and t.adopted


# Majority over for + against only (loi 2019-744): AGO more than half, AGE at least two thirds.

def _majority_case(kind: str, votes_for: int, against: int, abstain: int = 0) -> Tally:
    case = Case(kind)
    a = case.associates(votes_for + against + abstain)
    case.attend(*a)
    for i, mid in enumerate(a):
        case.vote(mid, "for" if i < votes_for else "against" if i < votes_for + against else "abstain")
    return case.tally()


def test_age_majority_at_exactly_two_thirds_is_adopted() -> None:
    t = _majority_case("AGE", 4, 2)
    assert (t.count("for"), t.count("against"), str(t.majority)) == (4, 2, "2/3")
    assert t.adopted


def test_age_majority_one_vote_short_of_two_thirds_is_rejected() -> None:
    assert not _majority_case("AGE", 5, 3).adopted  # 62.5 %


def test_ago_tie_is_rejected_and_abstentions_stay_out_of_the_base() -> None:
    assert not _majority_case("AGO", 3, 3).adopted
    t = _majority_case("AGO", 2, 1, abstain=5)
    assert t.adopted and t.count("abstain") == 5


def test_no_vote_for_or_against_adopts_nothing() -> None:
    assert not _majority_case("AGE", 0, 0, abstain=3).adopted


# Proxies: loi 78-763 art. 14, and DOMAIN.md.

def test_third_proxy_is_refused_when_the_limit_is_two() -> None:
    case = Case()
    a = case.associates(40)  # 40 associates: a twentieth is 2 proxies per holder
    case.attend(*a[:10])
    case.proxy(a[20], a[0]).proxy(a[21], a[0]).proxy(a[22], a[0])
    for giver in a[20:23]:
        case.vote(giver, "for", cast_by=a[0])
    s, t = case.sitting(), case.tally()
    assert s.proxy_limit == 2
    assert [o.refusal for o in s.proxies] == [None, None, ProxyRefusal.OVER_LIMIT]
    assert t.represented == 2 and t.count("for") == 2
    assert [n.reason for n in t.not_counted] == [Reason.OVER_LIMIT]


def test_under_twenty_associates_a_holder_carries_one_proxy() -> None:
    case = Case()
    a = case.associates(19)
    case.attend(a[0]).proxy(a[1], a[0]).proxy(a[2], a[0])
    assert [o.counts for o in case.sitting().proxies] == [True, False]


def test_proxy_to_an_absent_holder_does_not_count() -> None:
    case = Case()
    a = case.associates(5)
    case.attend(a[0]).attend(a[1], mode="excused")
    case.proxy(a[2], a[1]).vote(a[2], "against", cast_by=a[1]).vote(a[0])
    s, t = case.sitting(), case.tally()
    assert s.proxies[0].refusal == ProxyRefusal.HOLDER_ABSENT
    assert t.represented == 0 and t.count("against") == 0
    assert list(reasons(t).values()) == [Reason.PROXY_NOT_VALID]


@pytest.mark.parametrize(("giver", "holder", "refusal"), [
    ("A002", "A002", ProxyRefusal.TO_ONESELF),
    ("A002", "N001", ProxyRefusal.HOLDER_NOT_ASSOCIATE),
    ("N001", "A001", ProxyRefusal.GIVER_NOT_ASSOCIATE),
    ("A001", "A003", ProxyRefusal.GIVER_PRESENT),
])
def test_proxies_that_do_not_count(giver: str, holder: str, refusal: ProxyRefusal) -> None:
    case = Case()
    case.associates(5)
    case.member("N001")
    case.attend("A001", "A003", "N001").proxy(giver, holder)
    assert case.sitting().proxies[0].refusal == refusal
    assert case.tally().represented == 0


def test_only_the_first_proxy_an_associate_gives_counts() -> None:
    case = Case()
    a = case.associates(5)
    case.attend(a[0], a[1]).proxy(a[2], a[3]).proxy(a[2], a[1])  # first to an absent holder
    case.vote(a[2], cast_by=a[1])
    s, t = case.sitting(), case.tally()
    assert [o.refusal for o in s.proxies] == [ProxyRefusal.HOLDER_ABSENT, ProxyRefusal.SECOND_PROXY]
    assert list(reasons(t).values()) == [Reason.PROXY_NOT_VALID]


# The electorate on the assembly's date.

def test_vote_of_a_member_who_became_associate_after_the_assembly_is_not_counted() -> None:
    case = Case()
    a = case.associates(4)
    late = case.member("L001", associate_on=date(2026, 6, 21))
    case.attend(*a, late).vote(a[0]).vote(late, "against")
    t = case.tally()
    assert (t.eligible, t.present, t.count("against")) == (4, 4, 0)
    assert t.not_counted[0].reason == Reason.NOT_ASSOCIATE
    assert "2026-06-21" in t.not_counted[0].detail


def test_member_who_left_before_the_assembly_is_out_and_on_its_day_is_in() -> None:
    case = Case()
    a = case.associates(3)
    gone = case.member("G001", associate_on=date(2021, 1, 1), left_on=date(2026, 6, 19))
    leaving = case.member("G002", associate_on=date(2021, 1, 1), left_on=HELD)
    case.attend(*a, gone, leaving).vote(gone, "against").vote(leaving, "for")
    t = case.tally()
    assert t.eligible == 4 and t.count("for") == 1
    assert [(n.vote.member_id, n.reason) for n in t.not_counted] == [(gone, Reason.NOT_ASSOCIATE)]


def test_associate_on_the_day_of_the_assembly_votes() -> None:
    case = Case()
    case.member("D001", associate_on=HELD)
    case.attend("D001").vote("D001")
    assert case.tally().count("for") == 1


# Votes.

def test_double_vote_counts_the_first_only() -> None:
    case = Case()
    a = case.associates(3)
    case.attend(*a).vote(a[0], "for").vote(a[0], "against").vote(a[1], "blank")
    t = case.tally()
    assert (t.count("for"), t.count("against"), t.count("blank")) == (1, 0, 1)
    assert list(reasons(t).values()) == [Reason.SECOND_VOTE]


def test_an_invalid_attempt_does_not_take_the_associates_own_vote() -> None:
    case = Case()
    a = case.associates(3)
    case.attend(a[0], a[1]).proxy(a[2], a[0])
    case.vote(a[2], "against", cast_by=a[1]).vote(a[2], "for", cast_by=a[0])
    t = case.tally()
    assert t.count("for") == 1 and [n.reason for n in t.not_counted] == [Reason.PROXY_NOT_VALID]


def test_absent_member_not_represented_and_represented_member_voting_directly() -> None:
    case = Case()
    a = case.associates(4)
    case.attend(a[0]).attend(a[1], mode="excused").proxy(a[2], a[0])
    case.vote(a[1]).vote(a[2])
    t = case.tally()
    assert [n.reason for n in t.not_counted] == [Reason.ABSENT, Reason.ABSENT]
    assert "represented by A001" in t.not_counted[1].detail


def test_present_member_cannot_be_voted_for() -> None:
    case = Case()
    a = case.associates(3)
    case.attend(a[0], a[1]).vote(a[1], "against", cast_by=a[0]).vote(a[1], "for")
    t = case.tally()
    assert t.count("for") == 1 and t.not_counted[0].reason == Reason.PROXY_NOT_VALID


def test_a_later_attendance_record_corrects_an_earlier_one() -> None:
    case = Case()
    a = case.associates(3)
    case.attend(a[0], mode="absent").attend(a[0], mode="remote").attend(a[1]).attend(a[1], mode="excused")
    assert case.sitting().present == {a[0]}


def test_to_json_has_exactly_the_contract_keys_then_not_counted() -> None:
    case = Case()
    a = case.associates(2)
    case.attend(a[0]).vote(a[0]).vote(a[0])
    keys = list(case.tally().to_json())
    assert keys == ["resolution_id", "assembly_id", "kind", "eligible", "present", "represented",
                    "quorum_required", "quorum_met", "for", "against", "abstain", "blank", "majority",
                    "adopted", "postal", "regular", "not_counted"]  # CONTRACT §6 adds postal and regular
