"""A resolution's tally (dépouillement): a pure function of the recorded events.

DOMAIN.md (Governance): a present associate votes directly; a represented
associate votes through a `vote.cast` whose `cast_by` is the holder of their
proxy. Only the first vote of an associate on a resolution counts; a vote by
anyone else (not in the electorate, absent and not represented, through a
proxy that does not count) is listed with its reason and not counted.
The quorum is present + represented over the electorate (Code de commerce
L225-96 for an AGE, L225-98 for an AGO, or the statutes); the majority is
over the votes for and against only (loi 2019-744: abstentions and blank
votes are shown, not counted in the base).

"The first vote" is the first *valid* one: an invalid attempt (say a vote
cast by someone who holds no proxy) does not take away the associate's own
vote, which can still come after it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from governance.config import GovernanceRules, Majority
from governance.records import CHOICES, MemberFacts, Resolution, Vote
from governance.sitting import ProxyRefusal, Sitting


class Reason(str, Enum):
    """Why a vote is not counted (the issue's list); the value is the JSON `reason`."""

    NOT_ASSOCIATE = "not_associate"
    ABSENT = "absent"
    PROXY_NOT_VALID = "proxy_not_valid"
    OVER_LIMIT = "over_limit"
    SECOND_VOTE = "second_vote"
    LATE = "late"  # a vote by correspondence after the deadline (G2)
    POSTAL_VOTE_HOLDS = "postal_vote_holds"  # the associate voted by correspondence on this resolution (G2)


@dataclass(frozen=True, slots=True)
class NotCounted:
    vote: Vote
    reason: Reason
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"event_id": self.vote.event_id, "member_id": self.vote.member_id,
                "cast_by": self.vote.cast_by, "choice": self.vote.choice,
                "reason": self.reason.value, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Tally:
    resolution: Resolution
    kind: str
    eligible: int
    present: int
    represented: int
    postal: int
    regular: bool | None
    quorum_required: int
    quorum_met: bool
    counts: tuple[tuple[str, int], ...]
    majority: Majority
    adopted: bool
    counted: tuple[Vote, ...]
    not_counted: tuple[NotCounted, ...]

    def count(self, choice: str) -> int:
        return dict(self.counts)[choice]

    def to_json(self) -> dict[str, Any]:
        """CONTRACT.md §3 (exactly its keys, in its order), plus the `not_counted` list."""
        r = self.resolution
        return {"resolution_id": r.resolution_id, "assembly_id": r.assembly_id, "kind": self.kind,
                "eligible": self.eligible, "present": self.present, "represented": self.represented,
                "quorum_required": self.quorum_required, "quorum_met": self.quorum_met,
                **dict(self.counts), "majority": str(self.majority), "adopted": self.adopted,
                "postal": self.postal, "regular": self.regular,
                "not_counted": [n.to_json() for n in self.not_counted]}


def tally(sitting: Sitting, resolution: Resolution, votes: Iterable[Vote],
          members: Mapping[str, MemberFacts], rules: GovernanceRules,
          secret_counts: Mapping[str, int] | None = None) -> Tally:
    """Count the votes on `resolution` at its assembly's `sitting`, under `rules`.

    A secret resolution (G4) has no `vote.cast` (the gate refuses them): its ballots were judged
    when cast and come as `secret_counts`, per choice; its tally has counts only, no vote.
    """
    assembly = sitting.assembly
    counted: list[Vote] = []
    refused: list[NotCounted] = []
    voted: set[str] = set()
    mine = [] if resolution.secret else sorted(
        (v for v in votes if v.resolution_id == resolution.resolution_id), key=lambda v: v.seq)
    # G2: a correspondence vote by the deadline is final, whatever came before it in the stream.
    by_post = {v.member_id for v in mine if v.by_correspondence and v.member_id in sitting.postal
               and sitting.on_time(v)}
    for vote in mine:
        why = _refusal(vote, sitting, members) or _postal_refusal(vote, sitting, by_post)
        if why is None and vote.member_id in voted:
            why = (Reason.SECOND_VOTE, "only the first vote of an associate on a resolution counts")
        if why is None:
            voted.add(vote.member_id)
            counted.append(vote)
        else:
            refused.append(NotCounted(vote, *why))
    choices = Counter(secret_counts or {}) if resolution.secret else Counter(v.choice for v in counted)
    counts = tuple((c, choices.get(c, 0)) for c in CHOICES)
    eligible = len(sitting.electorate)
    required = rules.quorum_required(rules.quorum(assembly.kind, assembly.convocation), eligible)
    quorum_met = sitting.participants >= required
    majority = rules.majority(assembly.kind)
    adopted = quorum_met and majority.reached(choices.get("for", 0), choices.get("against", 0))
    regular = sitting.convocation.regular if sitting.convocation else None
    return Tally(resolution, assembly.kind, eligible, sitting.counted_present, sitting.counted_represented,
                 len(sitting.postal), regular, required, quorum_met, counts, majority, adopted, tuple(counted),
                 tuple(refused))


def _postal_refusal(vote: Vote, sitting: Sitting, by_post: set[str]) -> tuple[Reason, str] | None:
    """G2 for a vote the rules above let through: late by correspondence, or beside a postal vote."""
    if vote.by_correspondence:
        if not sitting.on_time(vote):
            return Reason.LATE, f"cast by correspondence at {vote.occurred_at}, after the deadline {sitting.deadline}"
        return None
    if vote.member_id in by_post:
        how = f"through {vote.cast_by}'s proxy" if vote.by_proxy else "in person"
        return Reason.POSTAL_VOTE_HOLDS, f"voted by correspondence: this vote {how} is not counted"
    return None


def _refusal(vote: Vote, sitting: Sitting, members: Mapping[str, MemberFacts]
             ) -> tuple[Reason, str] | None:
    voter = vote.member_id
    if voter not in sitting.electorate:
        return Reason.NOT_ASSOCIATE, _not_associate(members.get(voter), sitting)
    if vote.by_correspondence:
        return None  # from afar: neither presence nor a proxy is asked of it (G2)
    if not vote.by_proxy:
        if voter in sitting.present:
            return None
        holder = sitting.holder_of.get(voter)
        if holder is not None:
            return Reason.ABSENT, f"absent: represented by {holder}, who must cast the vote"
        return Reason.ABSENT, "absent and not represented"
    holder = vote.cast_by
    if voter in sitting.present:
        return Reason.PROXY_NOT_VALID, f"{voter} is present and votes in person, not through {holder}"
    if sitting.holder_of.get(voter) == holder:
        return None
    first = sitting.first_proxy_of(voter)
    if first is None:
        return Reason.PROXY_NOT_VALID, f"{voter} gave no proxy to {holder}"
    if first.proxy.to_member != holder:
        return Reason.PROXY_NOT_VALID, f"{voter}'s proxy is held by {first.proxy.to_member}, not {holder}"
    refusal = first.refusal
    if refusal is None:  # cannot be: a counting first proxy is in `holder_of`
        return None
    if refusal == ProxyRefusal.OVER_LIMIT:
        return Reason.OVER_LIMIT, sitting.refusal_words(refusal)
    return Reason.PROXY_NOT_VALID, f"the proxy to {holder} does not count: {sitting.refusal_words(refusal)}"


def _not_associate(member: MemberFacts | None, sitting: Sitting) -> str:
    day = sitting.assembly.held_on
    if member is None:
        return "not a member of the cooperative"
    if member.associate_on is None:
        return f"not an associate on {day}"
    if member.associate_on > day:
        return f"associate only from {member.associate_on}, after the assembly of {day}"
    return f"left the cooperative on {member.left_on}, before the assembly of {day}"
