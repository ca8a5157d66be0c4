"""Who sits at an assembly: the electorate, who is present, who is represented by whom.

Everything here is DOMAIN.md (Governance), as a pure function of recorded
events and member facts:

- the electorate is the associates on the assembly's date (became associate
  on or before it, not left before it): one associate, one vote (loi 78-763);
- present are the associates recorded `present` or `remote`; when a member's
  attendance is recorded twice for one meeting, the later record is a
  correction and wins (the record is append-only, a correction is a new event);
- proxies (pouvoirs): only the first proxy an associate gives counts; it
  counts when the giver is an absent associate and the holder another,
  present associate carrying fewer than the legal limit of proxies, the
  first ones in event order (loi 78-763, art. 14);
- correspondence voters (G2, issue 17): the associates of the electorate who
  voted by correspondence on a resolution of the assembly by its vote
  deadline. They count in the quorum as correspondence voters, even when
  they come to the assembly (R225-85: who voted from afar takes no other
  part), and their proxy does not count beside them: each associate is
  counted once, as present, represented or correspondence voter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import lru_cache
from types import MappingProxyType

from governance.config import GovernanceRules
from governance.convocation import ConvocationTiming, timing
from governance.records import ATTENDING, Assembly, Attendance, Convocation, MemberFacts, Proxy, Vote


class ProxyRefusal(str, Enum):
    """Why a proxy does not count; the value is what `cae assembly --json` shows."""

    SECOND_PROXY = "second_proxy"
    GIVER_NOT_ASSOCIATE = "giver_not_associate"
    GIVER_PRESENT = "giver_present"
    TO_ONESELF = "to_oneself"
    HOLDER_NOT_ASSOCIATE = "holder_not_associate"
    HOLDER_ABSENT = "holder_absent"
    OVER_LIMIT = "over_limit"


_WORDS = {
    ProxyRefusal.SECOND_PROXY: "only the first proxy an associate gives counts",
    ProxyRefusal.GIVER_NOT_ASSOCIATE: "the giver is not an associate at the assembly date",
    ProxyRefusal.GIVER_PRESENT: "the giver attends and votes in person",
    ProxyRefusal.TO_ONESELF: "a proxy to oneself",
    ProxyRefusal.HOLDER_NOT_ASSOCIATE: "the holder is not an associate at the assembly date",
    ProxyRefusal.HOLDER_ABSENT: "the holder is not present",
    ProxyRefusal.OVER_LIMIT: "over the holder's limit of {limit} (loi 78-763 art. 14)",
}


@dataclass(frozen=True, slots=True)
class ProxyOutcome:
    proxy: Proxy
    refusal: ProxyRefusal | None

    @property
    def counts(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class Sitting:
    """An assembly's electorate and attendance, the part of a tally shared by all its resolutions."""

    assembly: Assembly
    electorate: frozenset[str]
    present: frozenset[str]
    modes: Mapping[str, str]
    holder_of: Mapping[str, str]
    proxies: tuple[ProxyOutcome, ...]
    proxy_limit: int
    first_proxies: Mapping[str, ProxyOutcome]
    deadline: datetime | None = None
    postal: frozenset[str] = frozenset()
    convocation: ConvocationTiming | None = field(default=None)

    @property
    def represented(self) -> frozenset[str]:
        return frozenset(self.holder_of)

    @property
    def counted_present(self) -> int:
        """Attending and not a correspondence voter: counted in the quorum as present."""
        return len(self.present - self.postal)

    @property
    def counted_represented(self) -> int:
        """Represented by a proxy that counts, and not a correspondence voter."""
        return len(self.holder_of.keys() - self.postal)

    @property
    def participants(self) -> int:
        """Present + represented + correspondence voters, each associate once: against the quorum."""
        return self.counted_present + self.counted_represented + len(self.postal)

    def on_time(self, vote: Vote) -> bool:
        """A correspondence vote cast by the deadline (G2); `until the deadline` takes the deadline itself."""
        return self.deadline is None or _in_time(vote, self.deadline)

    def first_proxy_of(self, member_id: str) -> ProxyOutcome | None:
        """The proxy that decides whether `member_id` is represented (their first one)."""
        return self.first_proxies.get(member_id)

    def refusal_words(self, refusal: ProxyRefusal) -> str:
        limit = "one proxy" if self.proxy_limit == 1 else f"{self.proxy_limit} proxies"
        return _WORDS[refusal].format(limit=limit)


def electorate(members: Iterable[MemberFacts], assembly: Assembly) -> frozenset[str]:
    return frozenset(m.member_id for m in members if m.associate_at(assembly.held_on))


def last_modes(attendance: Iterable[Attendance], meeting_id: str) -> dict[str, str]:
    """Each member's attendance at the meeting: the last record in event order wins."""
    modes: dict[str, str] = {}
    for record in sorted(attendance, key=lambda a: a.seq):
        if record.meeting_id == meeting_id:
            modes[record.member_id] = record.mode
    return modes


def sit(assembly: Assembly, members: Mapping[str, MemberFacts], attendance: Iterable[Attendance],
        proxies: Iterable[Proxy], rules: GovernanceRules, votes: Iterable[Vote] = (),
        convocations: Iterable[Convocation] | None = None, postal_elsewhere: Iterable[str] = (),
        voters: frozenset[str] | None = None) -> Sitting:
    """The assembly's sitting from its recorded attendance, proxies and votes by correspondence
    (`votes`: those on the assembly's resolutions; `postal_elsewhere`: who else voted by correspondence
    by the deadline, on a secret one (`governance.secret`, taken only before the deadline) or on a
    resolution whose votes are not in `votes`); `convocations`, when given, say whether it was
    convened in time (G1). `voters`: the electorate when the database chose it
    (`store.load_electorate`), so that `members` need not hold every member's facts."""
    if voters is None:
        voters = electorate(members.values(), assembly)
    modes = last_modes(attendance, assembly.assembly_id)
    present = frozenset(m for m in voters if modes.get(m) in ATTENDING)
    limit = rules.proxy_limit.for_electorate(len(voters))
    holder_of: dict[str, str] = {}
    carried: Counter[str] = Counter()
    given: set[str] = set()
    outcomes: list[ProxyOutcome] = []
    first: dict[str, ProxyOutcome] = {}
    for proxy in sorted(proxies, key=lambda p: p.seq):
        if proxy.assembly_id != assembly.assembly_id:
            continue
        giver, holder = proxy.from_member, proxy.to_member
        refusal = _refusal(giver, holder, given, voters, present, carried[holder], limit)
        given.add(giver)
        if refusal is None:
            holder_of[giver] = holder
            carried[holder] += 1
        outcome = ProxyOutcome(proxy, refusal)
        first.setdefault(giver, outcome)
        outcomes.append(outcome)
    deadline = assembly.vote_deadline or rules.default_vote_deadline(assembly.held_on)
    postal = frozenset(v.member_id for v in votes
                       if v.by_correspondence and v.member_id in voters and _in_time(v, deadline)
                       ) | (frozenset(postal_elsewhere) & voters)
    return Sitting(assembly, voters, present, MappingProxyType(modes), MappingProxyType(holder_of),
                   tuple(outcomes), limit, MappingProxyType(first), deadline, postal,
                   None if convocations is None else timing(assembly, convocations, rules))


def _in_time(vote: Vote, deadline: datetime) -> bool:
    """G2: "until the vote deadline" takes a vote cast at the deadline itself."""
    return _text_in_time(vote.occurred_at, deadline)


@lru_cache(maxsize=4096)
def _text_in_time(occurred_at: str, deadline: datetime) -> bool:
    """Once per distinct time: a form's votes share theirs, and a tally of thousands of votes by
    correspondence asks of each whether it came in time (issue 17, point 5)."""
    return datetime.fromisoformat(occurred_at) <= deadline


def _refusal(giver: str, holder: str, given: set[str], voters: frozenset[str],
             present: frozenset[str], carried: int, limit: int) -> ProxyRefusal | None:
    if giver in given:
        return ProxyRefusal.SECOND_PROXY
    if giver not in voters:
        return ProxyRefusal.GIVER_NOT_ASSOCIATE
    if giver in present:
        return ProxyRefusal.GIVER_PRESENT
    if holder == giver:
        return ProxyRefusal.TO_ONESELF
    if holder not in voters:
        return ProxyRefusal.HOLDER_NOT_ASSOCIATE
    if holder not in present:
        return ProxyRefusal.HOLDER_ABSENT
    if carried >= limit:
        return ProxyRefusal.OVER_LIMIT
    return None
