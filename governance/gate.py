"""Admission of governance events: what names an unknown member or document goes to the dead letters.

CONTRACT.md §1: an event that "names an unknown member or document" is never
dropped but dead-lettered, with its reason, and can be replayed after a fix.
For governance the documents are the assemblies, resolutions and rituals:

- a resolution must name a convened assembly; a vote must name a proposed
  resolution (so a vote that arrives before its resolution waits in the dead
  letters: `cae.governance` has one partition, so this means a real gap in
  the stream, not a race);
- attendance must name a held ritual or a convened assembly (one namespace:
  `meeting_id` is either), a proxy a convened assembly;
- every member named (voter, `cast_by`, proxy giver and holder, attendee,
  officer of the bureau, convoked or contact) must be known to the cooperative;
- a convocation sent, an officer appointed and minutes name a convened
  assembly, a vote opened or closed a proposed resolution (issue 17);
- a vote on a secret resolution is not an event (G4, `governance.secret`): a `vote.cast` naming
  one is refused;
- an assembly, resolution or ritual id is recorded once: a second event
  convening the same id is a conflict, not a correction.

Everything else is recorded as it comes and judged by the tally, which lists
what it does not count and why (a vote by a non-associate, a proxy to an
absent holder…): those are facts of the meeting, not malformed input.

An unknown member is refused with `MemberNotYetKnown`: on Kafka the member's
`member.joined` travels on the other topic and may simply not be processed
yet, so a worker can wait for it (`streams.kafka_app`) before dead-lettering.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

from engine.events import (
    AnyEvent,
    AssemblyConvened,
    AttendanceRecorded,
    BureauAppointed,
    ConvocationSent,
    MemberContactSet,
    MinutesRecorded,
    ProxyGiven,
    ResolutionProposed,
    ResolutionVoting,
    RitualHeld,
    VoteCast,
)
from engine.rules import RuleError


class GovernanceRefused(RuleError):
    """A governance event that names something unknown, or records an id twice."""


class MemberNotYetKnown(GovernanceRefused):
    """A governance event naming a member the ledger does not know (yet)."""


@dataclass
class Gate:
    """What the governance record knows, for the ids a batch names; grows as the batch is admitted.

    `members` are the members found in the database; `joining` is the live
    map of members of the batch being processed (`engine.state.Book.members`),
    so a member who joined earlier in the same batch is known.
    """

    members: set[str] = field(default_factory=set)
    joining: Container[str] = field(default_factory=set)
    assemblies: set[str] = field(default_factory=set)
    rituals: set[str] = field(default_factory=set)
    resolutions: dict[str, str] = field(default_factory=dict)
    secret: set[str] = field(default_factory=set)  # the secret resolutions among `resolutions`

    def admit(self, event: AnyEvent) -> None:
        """Raise `GovernanceRefused` with the reason, or take note of what the event defines."""
        if isinstance(event, AssemblyConvened):
            self._new_meeting(event.assembly_id, "assembly")
            self.assemblies.add(event.assembly_id)
        elif isinstance(event, RitualHeld):
            self._new_meeting(event.meeting_id, "ritual")
            self.rituals.add(event.meeting_id)
        elif isinstance(event, ResolutionProposed):
            if event.resolution_id in self.resolutions:
                raise GovernanceRefused("governance.resolution_again", resolution=event.resolution_id)
            self._assembly(event.assembly_id)
            self.resolutions[event.resolution_id] = event.assembly_id
            if event.secret:
                self.secret.add(event.resolution_id)
        elif isinstance(event, AttendanceRecorded):
            if event.meeting_id not in self.assemblies and event.meeting_id not in self.rituals:
                raise GovernanceRefused("governance.meeting_unknown", meeting=event.meeting_id)
            self._member(event.member_id)
        elif isinstance(event, ProxyGiven):
            self._assembly(event.assembly_id)
            self._member(event.from_member)
            self._member(event.to_member)
        elif isinstance(event, VoteCast):
            if event.resolution_id not in self.resolutions:
                raise GovernanceRefused("governance.resolution_unknown", resolution=event.resolution_id)
            if event.resolution_id in self.secret:
                raise GovernanceRefused("governance.secret_vote_named", resolution=event.resolution_id)
            self._member(event.member_id)
            if event.cast_by is not None:
                self._member(event.cast_by)
        elif isinstance(event, (ConvocationSent, BureauAppointed)):
            self._assembly(event.assembly_id)
            self._member(event.member_id)
        elif isinstance(event, MinutesRecorded):
            self._assembly(event.assembly_id)
        elif isinstance(event, ResolutionVoting) and event.resolution_id not in self.resolutions:
            raise GovernanceRefused("governance.resolution_unknown", resolution=event.resolution_id)
        elif isinstance(event, MemberContactSet):
            self._member(event.member_id)

    def _new_meeting(self, meeting_id: str, what: str) -> None:
        if meeting_id in self.assemblies:
            raise GovernanceRefused(f"governance.{what}_id_is_assembly", meeting=meeting_id)
        if meeting_id in self.rituals:
            raise GovernanceRefused(f"governance.{what}_id_is_ritual", meeting=meeting_id)

    def _assembly(self, assembly_id: str) -> None:
        if assembly_id not in self.assemblies:
            raise GovernanceRefused("governance.assembly_unknown", assembly=assembly_id)

    def _member(self, member_id: str) -> None:
        if member_id not in self.members and member_id not in self.joining:
            raise MemberNotYetKnown("rule.member_unknown", member=member_id)


def named_ids(events: list[AnyEvent]) -> tuple[set[str], set[str], set[str]]:
    """(members, meetings, resolutions) the events name: what a store must look up for a `Gate`."""
    members: set[str] = set()
    meetings: set[str] = set()
    resolutions: set[str] = set()
    for e in events:
        if isinstance(e, (AssemblyConvened, ProxyGiven, ConvocationSent, BureauAppointed, MinutesRecorded)):
            meetings.add(e.assembly_id)
        if isinstance(e, (ConvocationSent, BureauAppointed, MemberContactSet)):
            members.add(e.member_id)
        if isinstance(e, ResolutionProposed):
            meetings.add(e.assembly_id)
            resolutions.add(e.resolution_id)
        if isinstance(e, (RitualHeld, AttendanceRecorded)):
            meetings.add(e.meeting_id)
        if isinstance(e, AttendanceRecorded):
            members.add(e.member_id)
        if isinstance(e, ProxyGiven):
            members.update((e.from_member, e.to_member))
        if isinstance(e, ResolutionVoting):
            resolutions.add(e.resolution_id)
        if isinstance(e, VoteCast):
            resolutions.add(e.resolution_id)
            members.add(e.member_id)
            if e.cast_by is not None:
                members.add(e.cast_by)
    return members, meetings, resolutions
