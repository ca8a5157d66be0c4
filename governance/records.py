"""The governance facts a tally is computed from, as small immutable values.

The pipeline keeps each governance event (CONTRACT.md §1) as JSON in the
append-only `governance_events` table, in arrival order (`seq`). The domain
functions of this package work on these records, not on rows or on pydantic
models: a tally is a pure function of them (DOMAIN.md, Governance), so a test,
a benchmark and the command line all compute it the same way.

`seq` is the event's rank in the governance stream: "the first proxy", "the
first vote" of DOMAIN.md mean the smallest `seq`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Mode = Literal["present", "remote", "excused", "absent"]
Choice = Literal["for", "against", "abstain", "blank"]
CHOICES: tuple[Choice, ...] = ("for", "against", "abstain", "blank")
ATTENDING: frozenset[str] = frozenset({"present", "remote"})


# A vote's time, parsed once per distinct text: a form's votes share theirs, and a tally of
# thousands of votes by correspondence compares each with the deadline (issue 17, point 5).
_moment = lru_cache(maxsize=4096)(datetime.fromisoformat)


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What governance needs of a member (the `members` table, fed by member events)."""

    member_id: str
    name: str
    joined_on: date
    associate_on: date | None = None
    left_on: date | None = None

    def associate_at(self, day: date) -> bool:
        """In the electorate of a meeting held on `day`: associate by then, not left before it."""
        return (self.associate_on is not None and self.associate_on <= day
                and (self.left_on is None or self.left_on >= day))

    def member_at(self, day: date) -> bool:
        """A member on `day` (joined by then, not left before): expected at the rituals."""
        return self.joined_on <= day and (self.left_on is None or self.left_on >= day)


@dataclass(frozen=True, slots=True)
class Assembly:
    """`assembly.convened`: an AGO or AGE, on first or second convocation."""

    assembly_id: str
    kind: str
    held_on: date
    convocation: int
    convened_on: date | None = None
    place: str | None = None
    remote: bool = False
    vote_deadline: datetime | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    resolution_id: str
    assembly_id: str
    title: str
    seq: int = 0
    text: str | None = None
    secret: bool = False


@dataclass(frozen=True, slots=True)
class Ritual:
    """`ritual.held`: a gathering whose attendance the cooperative follows (université, groupe métier…)."""

    meeting_id: str
    kind: str
    held_on: date
    title: str


@dataclass(frozen=True, slots=True)
class Attendance:
    seq: int
    meeting_id: str
    member_id: str
    mode: Mode


@dataclass(frozen=True, slots=True)
class Proxy:
    """`proxy.given` (pouvoir): `from_member` asks `to_member` (mandataire) to vote for them."""

    seq: int
    assembly_id: str
    from_member: str
    to_member: str


@dataclass(frozen=True, slots=True)
class Vote:
    """`vote.cast`: the vote of `member_id`, cast by themselves or by `cast_by`, their proxy holder."""

    seq: int
    resolution_id: str
    member_id: str
    choice: Choice
    cast_by: str | None = None
    event_id: str = ""
    mode: str | None = None
    occurred_at: str = ""  # RFC 3339 as stored: read (`cast_at`) only for a vote by correspondence

    @property
    def by_proxy(self) -> bool:
        return self.cast_by is not None and self.cast_by != self.member_id

    @property
    def by_correspondence(self) -> bool:
        return self.mode == "correspondence"

    @property
    def cast_at(self) -> datetime:
        return _moment(self.occurred_at)


@dataclass(frozen=True, slots=True)
class Contact:
    """`member.contact_set`: the latest one of a member holds (their consent may be withdrawn)."""

    seq: int
    member_id: str
    email: str
    convocation_by_email: bool
    on: date
    statements_by_email: bool = False


@dataclass(frozen=True, slots=True)
class Convocation:
    """`convocation.sent`: one associate convened, by email or by letter, on `sent_on`."""

    seq: int
    assembly_id: str
    member_id: str
    channel: str
    sent_on: date


@dataclass(frozen=True, slots=True)
class Officer:
    """`bureau.appointed`: chair, secretary or scrutineer of an assembly."""

    seq: int
    assembly_id: str
    member_id: str
    role: str


@dataclass(frozen=True, slots=True)
class Minutes:
    """`minutes.recorded`: the summary of the debates, the documents submitted; the latest one holds."""

    seq: int
    assembly_id: str
    debates: str
    recorded_by: str
    documents: str | None = None


@dataclass(frozen=True, slots=True)
class Voting:
    """`resolution.voting`: the chair opened or closed the vote on a resolution; the latest holds."""

    seq: int
    resolution_id: str
    state: str


GovernanceRecord = (Assembly | Resolution | Ritual | Attendance | Proxy | Vote | Contact | Convocation
                    | Officer | Minutes | Voting)


# The fields of each stored event a record is made of, in the order `from_fields` takes them.
FIELDS: dict[str, tuple[str, ...]] = {
    "vote.cast": ("resolution_id", "member_id", "choice", "cast_by", "event_id", "mode", "occurred_at"),
    "attendance.recorded": ("meeting_id", "member_id", "mode"),
    "proxy.given": ("assembly_id", "from_member", "to_member"),
    "assembly.convened": ("assembly_id", "kind", "held_on", "convocation", "convened_on", "place", "remote",
                          "vote_deadline"),
    "resolution.proposed": ("resolution_id", "assembly_id", "title", "text", "secret"),
    "ritual.held": ("meeting_id", "kind", "held_on", "title"),
    "member.contact_set": ("member_id", "email", "convocation_by_email", "on", "statements_by_email"),
    "convocation.sent": ("assembly_id", "member_id", "channel", "sent_on"),
    "bureau.appointed": ("assembly_id", "member_id", "role"),
    "minutes.recorded": ("assembly_id", "debates", "recorded_by", "documents"),
    "resolution.voting": ("resolution_id", "state"),
}


# Records whose fields are (seq, *FIELDS[kind]) in this order: a stored row builds them as is,
# which matters for the thousands of votes and attendances of one assembly.
POSITIONAL: dict[str, type[Vote] | type[Attendance] | type[Proxy]] = {
    "vote.cast": Vote, "attendance.recorded": Attendance, "proxy.given": Proxy,
}


def from_fields(kind: str, seq: int, v: Sequence[Any]) -> GovernanceRecord:
    """A stored event as a record, from its `FIELDS` values (`seq`: its rank in the stream).

    The event was validated by `engine.events` before it was stored, so this
    only converts; an unknown type is a programming error, not a user's.
    """
    if kind == "vote.cast":
        return Vote(seq, v[0], v[1], v[2], v[3], v[4], v[5], v[6])
    if kind == "attendance.recorded":
        return Attendance(seq, v[0], v[1], v[2])
    if kind == "proxy.given":
        return Proxy(seq, v[0], v[1], v[2])
    if kind == "assembly.convened":
        return Assembly(v[0], v[1], date.fromisoformat(v[2]), int(v[3]), _day(v[4]), v[5], _flag(v[6]),
                        datetime.fromisoformat(v[7]) if v[7] else None)
    if kind == "resolution.proposed":
        return Resolution(v[0], v[1], v[2], seq, v[3], _flag(v[4]))
    if kind == "ritual.held":
        return Ritual(v[0], v[1], date.fromisoformat(v[2]), v[3])
    if kind == "member.contact_set":
        return Contact(seq, v[0], v[1], _flag(v[2]), date.fromisoformat(v[3]), _flag(v[4]))
    if kind == "convocation.sent":
        return Convocation(seq, v[0], v[1], v[2], date.fromisoformat(v[3]))
    if kind == "bureau.appointed":
        return Officer(seq, v[0], v[1], v[2])
    if kind == "minutes.recorded":
        return Minutes(seq, v[0], v[1], v[2], v[3])
    if kind == "resolution.voting":
        return Voting(seq, v[0], v[1])
    raise ValueError(f"{kind!r} is not a governance event type")


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _flag(value: Any) -> bool:
    """A JSON boolean as each database reads it out: SQLite 1 / 0, PostgreSQL's text "true" / "false"."""
    return value in (True, 1, "true", "1")


def from_payload(kind: str, payload: Mapping[str, Any], seq: int) -> GovernanceRecord:
    """A stored event's JSON payload (a dict) as a record."""
    return from_fields(kind, seq, [payload.get(f) for f in FIELDS[kind]])
