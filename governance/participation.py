"""Participation in the cooperative's rituals: who comes, how often, and the trend over the years.

DOMAIN.md (Governance): attendance is recorded per member and meeting; the
cooperative looks at participation over time, to see whether its collective
is growing or fading. Rituals (`ritual.held`: université, assemblée, groupe
métier…) are expected of every member on their date; general assemblies
(AGO, AGE) of the associates of their electorate. A rate is who came
(present or remote) over who was expected; people who came without being
expected (a guest, a future member) are counted as attendees but not in the
rate, so it stays between 0 and 1. As on the attendance sheet, a member's
later record for a meeting corrects an earlier one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from governance.records import ATTENDING, Assembly, Attendance, MemberFacts, Ritual

_RATE = Decimal("0.001")


def rate(came: int, expected: int) -> Decimal | None:
    """came / expected to three decimals (half up), None when nobody was expected."""
    if expected == 0:
        return None
    return (Decimal(came) / Decimal(expected)).quantize(_RATE, ROUND_HALF_UP)


def _json_rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Meeting:
    meeting_id: str
    kind: str
    held_on: date
    title: str
    associates_only: bool

    def expects(self, member: MemberFacts) -> bool:
        if self.associates_only:
            return member.associate_at(self.held_on)
        return member.member_at(self.held_on)


def meetings_of(assemblies: Iterable[Assembly], rituals: Iterable[Ritual]) -> list[Meeting]:
    found = [Meeting(a.assembly_id, a.kind, a.held_on, f"{a.kind} {a.held_on}", True) for a in assemblies]
    found += [Meeting(r.meeting_id, r.kind, r.held_on, r.title, False) for r in rituals]
    return sorted(found, key=lambda m: (m.held_on, m.meeting_id))


@dataclass(frozen=True, slots=True)
class Count:
    """How many were expected, came (present or remote), excused themselves; plus unexpected attendees."""

    expected: int = 0
    came: int = 0
    excused: int = 0
    guests: int = 0

    def __add__(self, other: Count) -> Count:
        return Count(self.expected + other.expected, self.came + other.came,
                     self.excused + other.excused, self.guests + other.guests)

    @property
    def rate(self) -> Decimal | None:
        return rate(self.came, self.expected)

    def to_json(self) -> dict[str, Any]:
        return {"expected": self.expected, "came": self.came, "excused": self.excused,
                "guests": self.guests, "rate": _json_rate(self.rate)}


@dataclass(frozen=True, slots=True)
class Participation:
    """The report of `cae attendance` over a period."""

    start: date | None
    end: date | None
    meetings: tuple[tuple[Meeting, Count], ...]
    by_year: tuple[tuple[str, int, int, Count], ...]          # kind, year, meetings, count
    by_member: tuple[tuple[MemberFacts, str, Count], ...]     # member, kind, count

    def kinds(self) -> list[str]:
        return sorted({kind for kind, _, _, _ in self.by_year})

    def trend(self, kind: str) -> Decimal | None:
        """Change of the rate of `kind` from its previous year with meetings to its last one."""
        rates = [c.rate for k, _, _, c in self.by_year if k == kind and c.rate is not None]
        return rates[-1] - rates[-2] if len(rates) >= 2 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "meetings": [{"meeting_id": m.meeting_id, "kind": m.kind, "held_on": m.held_on.isoformat(),
                          "title": m.title, **c.to_json()} for m, c in self.meetings],
            "by_year": [{"kind": k, "year": y, "meetings": n, **c.to_json()}
                        for k, y, n, c in self.by_year],
            "trend": {k: _json_rate(self.trend(k)) for k in self.kinds()},
            "members": [{"member_id": m.member_id, "name": m.name, "kind": k, **c.to_json()}
                        for m, k, c in self.by_member],
        }


def participation(meetings: Iterable[Meeting], attendance: Iterable[Attendance],
                  members: Mapping[str, MemberFacts], start: date | None = None,
                  end: date | None = None, kinds: Iterable[str] = ()) -> Participation:
    """Per meeting, per kind and year, per member and kind, over [start, end] (inclusive)."""
    wanted = set(kinds)
    chosen = [m for m in meetings if (start is None or m.held_on >= start)
              and (end is None or m.held_on <= end) and (not wanted or m.kind in wanted)]
    modes: dict[str, dict[str, str]] = defaultdict(dict)
    for record in sorted(attendance, key=lambda a: a.seq):
        modes[record.meeting_id][record.member_id] = record.mode
    per_meeting: list[tuple[Meeting, Count]] = []
    per_member: dict[tuple[str, str], Count] = defaultdict(Count)
    for meeting in chosen:
        recorded = modes.get(meeting.meeting_id, {})
        total = Count()
        for member in members.values():
            if not meeting.expects(member):
                continue
            mode = recorded.get(member.member_id)
            one = Count(1, int(mode in ATTENDING), int(mode == "excused"))
            per_member[(member.member_id, meeting.kind)] += one
            total += one
        guests = sum(1 for mid, mode in recorded.items() if mode in ATTENDING
                     and (mid not in members or not meeting.expects(members[mid])))
        per_meeting.append((meeting, total + Count(guests=guests)))
    years: dict[tuple[str, int], tuple[int, Count]] = {}
    for meeting, count in per_meeting:
        n, so_far = years.get((meeting.kind, meeting.held_on.year), (0, Count()))
        years[(meeting.kind, meeting.held_on.year)] = (n + 1, so_far + count)
    return Participation(
        start, end, tuple(per_meeting),
        tuple((k, y, n, c) for (k, y), (n, c) in sorted(years.items())),
        tuple((members[mid], kind, c) for (mid, kind), c in sorted(per_member.items())))
