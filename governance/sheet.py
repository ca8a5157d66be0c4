"""An assembly's record: the attendance sheet (feuille de présence) and the results of its resolutions.

Company law has the sheet kept at every general assembly, certified by the
officers of the meeting (Code de commerce R225-95 for an SA; the statutes of
a SCOP say the same); the chair signs it with the minutes (procès-verbal). It
lists every associate of the electorate with how they took part: present,
remote, represented (by whom), excused or absent; the proxies and whether
each counted; then each resolution's tally. Like the tally, it is a pure
function of the recorded events (DOMAIN.md, Governance).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from governance.config import GovernanceRules
from governance.records import Assembly, Attendance, Convocation, MemberFacts, Officer, Proxy, Resolution, Vote
from governance.secret import Participation
from governance.sitting import Sitting, sit
from governance.tally import Tally, tally


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """The secret resolutions' side of an assembly (G4, `governance.secret`): who took part, and
    each resolution's counts per choice, read apart."""

    participation: tuple[Participation, ...]
    counts: Mapping[str, Mapping[str, int]]

    @property
    def postal(self) -> frozenset[str]:
        return frozenset(p.member_id for p in self.participation if p.mode == "correspondence")


@dataclass(frozen=True, slots=True)
class SheetLine:
    """One person on the sheet; `attendance` is present / remote / represented / correspondence /
    excused / absent."""

    member_id: str
    name: str
    attendance: str
    recorded: str | None
    represented_by: str | None
    holds_proxies_of: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "name": self.name, "attendance": self.attendance,
                "recorded": self.recorded, "represented_by": self.represented_by,
                "holds_proxies_of": list(self.holds_proxies_of)}


@dataclass(frozen=True, slots=True)
class AssemblyRecord:
    sitting: Sitting
    lines: tuple[SheetLine, ...]
    others: tuple[SheetLine, ...]
    quorum_required: int
    quorum_met: bool
    tallies: tuple[Tally, ...]
    bureau: tuple[Officer, ...] = ()  # chair, secretary, scrutineers (G5), in the order appointed

    @property
    def assembly(self) -> Assembly:
        return self.sitting.assembly

    @property
    def eligible(self) -> int:
        return len(self.sitting.electorate)

    @property
    def present(self) -> int:
        """Present or remote, counted in the quorum as such (a correspondence voter who came counts as one)."""
        return self.sitting.counted_present

    @property
    def represented(self) -> int:
        return self.sitting.counted_represented

    def count(self, attendance: str) -> int:
        return sum(1 for line in self.lines if line.attendance == attendance)

    @property
    def excused(self) -> int:
        """Who excused themselves, represented or not: the same count as `cae attendance` gives.

        The electorate is present + excused + absent; "represented" counts those of
        the last two whose proxy counts, beside them, not instead of them.
        """
        return sum(1 for line in self.lines if line.recorded == "excused")

    @property
    def absent(self) -> int:
        return len(self.lines) - len(self.sitting.present) - self.excused

    def to_json(self) -> dict[str, Any]:
        a, s = self.assembly, self.sitting
        return {
            "assembly_id": a.assembly_id, "kind": a.kind, "held_on": a.held_on.isoformat(),
            "convocation": a.convocation, "eligible": self.eligible, "present": self.present,
            "remote": self.count("remote"), "represented": self.represented, "postal": len(s.postal),
            "regular": s.convocation.regular if s.convocation else None,
            "convocation_timing": s.convocation.to_json() if s.convocation else None,
            "postal_votes": sorted(s.postal),
            "excused": self.excused, "absent": self.absent,
            "quorum_required": self.quorum_required, "quorum_met": self.quorum_met,
            "proxy_limit": s.proxy_limit,
            "attendance": [line.to_json() for line in self.lines],
            "others": [line.to_json() for line in self.others],
            "proxies": [{"from_member": o.proxy.from_member, "to_member": o.proxy.to_member,
                         "counts": o.counts, "reason": o.refusal.value if o.refusal else None}
                        for o in s.proxies],
            "resolutions": [{"title": t.resolution.title, **t.to_json()} for t in self.tallies],
            "bureau": [{"role": o.role, "member_id": o.member_id} for o in self.bureau],
        }


def assembly_record(assembly: Assembly, resolutions: Iterable[Resolution],
                    members: Mapping[str, MemberFacts], attendance: Iterable[Attendance],
                    proxies: Iterable[Proxy], votes: Iterable[Vote],
                    rules: GovernanceRules, convocations: Iterable[Convocation] | None = None,
                    secret: SecretRecord | None = None, bureau: Iterable[Officer] = ()) -> AssemblyRecord:
    """The sheet and every resolution's tally, in the order the resolutions were proposed."""
    votes = list(votes)
    secret = secret or SecretRecord((), {})
    sitting = sit(assembly, members, attendance, proxies, rules, votes, convocations, secret.postal)
    by_resolution: dict[str, list[Vote]] = defaultdict(list)
    for vote in votes:
        by_resolution[vote.resolution_id].append(vote)
    tallies = tuple(tally(sitting, r, by_resolution[r.resolution_id], members, rules,
                          secret.counts.get(r.resolution_id))
                    for r in sorted(resolutions, key=lambda r: r.seq))
    held: dict[str, list[str]] = defaultdict(list)
    for giver, holder in sitting.holder_of.items():
        held[holder].append(giver)
    lines = tuple(_line(members[m], sitting, held) for m in sorted(sitting.electorate))
    others = tuple(_line(members[m] if m in members else MemberFacts(m, m, assembly.held_on),
                         sitting, held)
                   for m in sorted(set(sitting.modes) - sitting.electorate))
    required = rules.quorum_required(rules.quorum(assembly.kind, assembly.convocation),
                                     len(sitting.electorate))
    return AssemblyRecord(sitting, lines, others, required, sitting.participants >= required, tallies,
                          tuple(sorted(bureau, key=lambda o: o.seq)))


def _line(member: MemberFacts, sitting: Sitting, held: Mapping[str, list[str]]) -> SheetLine:
    m = member.member_id
    recorded = sitting.modes.get(m)
    holder = sitting.holder_of.get(m)
    if m in sitting.postal:  # G2: counted as a correspondence voter, even when they came (R225-85)
        attendance = "correspondence"
    elif m in sitting.present:
        attendance = str(recorded)
    elif holder is not None:
        attendance = "represented"
    elif recorded in ("excused", "absent"):
        attendance = str(recorded)
    elif m in sitting.electorate:
        attendance = "absent"
    else:  # recorded at the assembly, but not of its electorate: a guest, shown apart
        attendance = str(recorded or "absent")
    return SheetLine(m, member.name, attendance, recorded, holder, tuple(sorted(held.get(m, ()))))
