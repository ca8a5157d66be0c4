"""An associate's own votes by correspondence and proxy, checked before they become events (G2, G3).

CONTRACT.md §6: the form covers every resolution of the assembly at once, is taken until the vote
deadline, once and finally; a proxy is given once, to another associate of the electorate. What
passes is turned into the same events the staff would record (`vote.cast` with mode
`correspondence`, `proxy.given`), so the tally judges them like any other; what does not is
refused here with a reason the member can act on, and nothing is recorded.

Event ids are made from the assembly, the member and the resolution, so two forms sent at once
cannot both be counted: the second is the same id with other content, which the pipeline refuses.
A secret resolution's choice is not an event but a `SecretBallot` (G4), recorded apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from governance import secret
from governance.config import GovernanceConfig
from governance.secret import SecretBallot
from governance.records import ATTENDING
from governance.sitting import last_modes, sit
from governance.store import AssemblyEvents, load_assembly, load_members, load_votes, load_voting


class BallotRefused(ValueError):
    """Why a member's form is not taken: `status` 409 (already done) or 422 (too late, incomplete);
    `code` says which, for a page to say it in French (the reason is the API's English)."""

    def __init__(self, status: int, reason: str, code: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code


class NotConvened(LookupError):
    """Not an associate of the assembly's electorate (or no such assembly): a 404, like any other's."""


@dataclass(frozen=True, slots=True)
class Convened:
    recorded: AssemblyEvents
    deadline: datetime
    day_ends: datetime


def convened(conn: Connection, assembly_id: str, member_id: str, config: GovernanceConfig) -> Convened:
    try:
        recorded = load_assembly(conn, assembly_id)
    except LookupError:
        raise NotConvened(assembly_id) from None
    a = recorded.assembly
    member = load_members(conn, [member_id]).get(member_id)
    if member is None or not member.associate_at(a.held_on):
        raise NotConvened(assembly_id)
    rules = config.at(a.held_on)
    end = datetime.combine(a.held_on + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(rules.timezone))
    return Convened(recorded, a.vote_deadline or rules.default_vote_deadline(a.held_on), end)


@dataclass(frozen=True, slots=True)
class Form:
    """A member's form by correspondence, checked: the `vote.cast` events of its open resolutions,
    and the ballots of its secret ones (G4), which are never events (`governance.secret`)."""

    events: list[dict[str, Any]]
    secret: list[SecretBallot]


def correspondence_votes(conn: Connection, assembly_id: str, member_id: str, choices: list[tuple[str, str]],
                         now: datetime, config: GovernanceConfig) -> Form:
    """The member's form as events and secret ballots, or `BallotRefused` / `NotConvened`."""
    found = convened(conn, assembly_id, member_id, config)
    resolutions = {r.resolution_id: r for r in found.recorded.resolutions}
    if now > found.deadline:
        raise BallotRefused(422, f"votes by correspondence were taken until {found.deadline.isoformat()}", "late")
    given = dict(choices)
    if len(given) != len(choices):
        raise BallotRefused(422, "a resolution is named twice in the form", "incomplete")
    if set(given) != set(resolutions):
        missing = sorted(set(resolutions) - set(given))
        unknown = sorted(set(given) - set(resolutions))
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"not of it: {', '.join(unknown)}"] if unknown else [])
        raise BallotRefused(422, "the form must cover every resolution of the assembly: " + "; ".join(parts),
                            "incomplete")
    secret_ids = [rid for rid, r in resolutions.items() if r.secret]
    if (any(v.member_id == member_id and v.by_correspondence for v in load_votes(conn, list(resolutions)))
            or any(p.member_id == member_id for p in secret.participation(conn, secret_ids))):
        raise BallotRefused(409, "you already voted by correspondence for this assembly: it is final",
                            "already_voted")
    at = now.isoformat().replace("+00:00", "Z")
    ordered = sorted(resolutions, key=lambda r: resolutions[r].seq)
    return Form([{"event_id": f"post-{assembly_id}-{member_id}-{rid}"[:128], "type": "vote.cast", "occurred_at": at,
                  "resolution_id": rid, "member_id": member_id, "choice": given[rid], "mode": "correspondence"}
                 for rid in ordered if not resolutions[rid].secret],
                [SecretBallot(rid, member_id, given[rid], "correspondence") for rid in ordered
                 if resolutions[rid].secret])


def proxy(conn: Connection, assembly_id: str, member_id: str, to_member: str, now: datetime,
          config: GovernanceConfig) -> dict[str, Any]:
    """The `proxy.given` of a member to another associate (G3): until the assembly's day ends."""
    found = convened(conn, assembly_id, member_id, config)
    if now >= found.day_ends:
        raise BallotRefused(422, f"the assembly of {found.recorded.assembly.held_on} is over", "over")
    if any(p.from_member == member_id for p in found.recorded.proxies):
        raise BallotRefused(409, "you already gave your proxy for this assembly", "already_given")
    holder = load_members(conn, [to_member]).get(to_member)
    if to_member == member_id or holder is None or not holder.associate_at(found.recorded.assembly.held_on):
        raise BallotRefused(422, "a proxy is given to another associate of the assembly", "holder")
    return {"event_id": f"proxy-{assembly_id}-{member_id}"[:128], "type": "proxy.given",
            "occurred_at": now.isoformat().replace("+00:00", "Z"), "assembly_id": assembly_id,
            "from_member": member_id, "to_member": to_member}


def lines(events: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(e).encode() for e in events]


def holding(conn: Connection, found: Convened, holder: str, config: GovernanceConfig) -> list[str]:
    """Whose proxy `holder` carries at the assembly and it counts (DOMAIN.md: the first proxy given,
    to a present holder, within the legal limit): those they may vote for on the day."""
    a = found.recorded.assembly
    sitting = sit(a, load_members(conn), found.recorded.attendance, found.recorded.proxies, config.at(a.held_on))
    return sorted(giver for giver, to in sitting.holder_of.items() if to == holder)


def live_vote(conn: Connection, assembly_id: str, member_id: str, resolution_id: str, choice: str, now: datetime,
              config: GovernanceConfig, for_member: str = "") -> Form:
    """A present associate's vote on the day, while the chair holds the resolution's vote open
    (issue 17, point 4): their own, or with `for_member` the vote of an associate whose proxy they
    hold and that counts (issue 17, point 3). A direct (or proxy) `vote.cast`, or for a secret
    resolution a ballot kept apart (G4), judged here since nothing can tell it apart afterwards."""
    found = convened(conn, assembly_id, member_id, config)
    resolution = next((r for r in found.recorded.resolutions if r.resolution_id == resolution_id), None)
    if resolution is None:
        raise NotConvened(assembly_id)
    if load_voting(conn, [resolution_id]).get(resolution_id) != "open":
        raise BallotRefused(422, f"the vote on {resolution_id} is not open", "not_open")
    if last_modes(found.recorded.attendance, assembly_id).get(member_id) not in ATTENDING:
        raise BallotRefused(422, "only an associate checked in as present or remote votes here", "not_present")
    voter = for_member or member_id
    if voter != member_id and voter not in holding(conn, found, member_id, config):
        raise BallotRefused(422, f"you hold no proxy of {voter} that counts at this assembly", "not_holder")
    # G2: whoever voted on it already, by correspondence included, votes no more on it.
    if (any(v.member_id == voter for v in load_votes(conn, [resolution_id]))
            or any(p.member_id == voter for p in secret.participation(conn, [resolution_id]))):
        raise BallotRefused(409, f"{voter} already voted on {resolution_id}", "already_voted_here")
    by_proxy = voter != member_id
    if resolution.secret:
        return Form([], [SecretBallot(resolution_id, voter, choice, "proxy" if by_proxy else "direct",
                                      member_id if by_proxy else None)])
    return Form([{"event_id": f"live-{voter}-{resolution_id}"[:128], "type": "vote.cast",
                  "occurred_at": now.isoformat().replace("+00:00", "Z"), "resolution_id": resolution_id,
                  "member_id": voter, "choice": choice, "mode": "proxy" if by_proxy else "direct",
                  **({"cast_by": member_id} if by_proxy else {})}], [])
