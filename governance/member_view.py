"""What a member sees of an assembly and its tallies: the counts, and their own votes and their fate.

Issue 14, point 4: a member learns nothing of other members. The staff and the
board see the whole record (who attended, who represented whom, every vote not
counted with its voter and the proxy holder in its reason); a member of the
electorate sees what the assembly decided and how many took part, and of the
votes only those cast in their own name, whether each counted and, when not,
the reason's code (never its words: they name the proxy holder). A vote the
member carried for someone else as proxy holder is that other associate's
vote, so it is not among theirs.

The views are made from the full record here, below the web's routes, so that a
page or an endpoint cannot show a member what the view does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from governance.records import Assembly, Vote
from governance.sheet import AssemblyRecord
from governance.tally import Reason, Tally


@dataclass(frozen=True, slots=True)
class OwnVote:
    """A vote cast in the member's name (by themselves or by a proxy holder), and its fate."""

    event_id: str
    choice: str
    by_proxy: bool
    reason: Reason | None  # None: counted

    @property
    def counted(self) -> bool:
        return self.reason is None

    def to_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "choice": self.choice, "by_proxy": self.by_proxy,
                "counted": self.counted, "reason": self.reason.value if self.reason else None}


def own_votes(found: Tally, member_id: str) -> tuple[OwnVote, ...]:
    """The votes in `member_id`'s name on the tally's resolution, in the order they were cast."""
    votes: list[tuple[Vote, Reason | None]] = [(v, None) for v in found.counted if v.member_id == member_id]
    votes += [(n.vote, n.reason) for n in found.not_counted if n.vote.member_id == member_id]
    return tuple(OwnVote(v.event_id, v.choice, v.by_proxy, reason)
                 for v, reason in sorted(votes, key=lambda pair: pair[0].seq))


def without_votes(found: Tally) -> Tally:
    """The tally's counts, quorum and result, with no vote (hence no voter) left in it."""
    return replace(found, counted=(), not_counted=())


@dataclass(frozen=True, slots=True)
class MemberTally:
    """`GET /api/tally/R` for a member: the tally JSON of CONTRACT §3, and `own_votes` instead of
    the staff's `not_counted` list (which names the voters)."""

    tally: Tally  # without its votes
    own: tuple[OwnVote, ...]

    def to_json(self) -> dict[str, Any]:
        found = {k: v for k, v in self.tally.to_json().items() if k != "not_counted"}
        return {**found, "own_votes": [v.to_json() for v in self.own]}


def member_tally(found: Tally, member_id: str) -> MemberTally:
    return MemberTally(without_votes(found), own_votes(found, member_id))


@dataclass(frozen=True, slots=True)
class MemberAssembly:
    """An assembly's page for a member: how many sat, the quorum, each resolution's counts and
    result, and their own votes per resolution; no attendance sheet, no proxies, no voter."""

    assembly: Assembly
    eligible: int
    present: int
    represented: int
    quorum_required: int
    quorum_met: bool
    tallies: tuple[Tally, ...]  # without their votes
    own: Mapping[str, tuple[OwnVote, ...]]  # resolution id -> the member's votes on it


def member_assembly(record: AssemblyRecord, member_id: str) -> MemberAssembly:
    return MemberAssembly(record.assembly, record.eligible, record.present, record.represented,
                          record.quorum_required, record.quorum_met,
                          tuple(without_votes(t) for t in record.tallies),
                          MappingProxyType({t.resolution.resolution_id: own_votes(t, member_id)
                                            for t in record.tallies}))
