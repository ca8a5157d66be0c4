"""The associate's own votes by correspondence and proxy, through the API (CONTRACT.md §6, G2-G3).

Only a member's own token, for an assembly of whose electorate they are (anyone else: 404, the
same answer as for an assembly that does not exist). The checks are `governance.ballot`'s; what
passes goes through the same intake as every event of the web (`web.intake`), so it is recorded
(or published to Kafka) and tallied like the staff's records.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from collections.abc import Callable
from typing import Any, Literal

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from governance import ballot, secret
from streams.pipeline import Raw
from governance.member_view import without_votes
from governance.store import load_voting
from web import accounts, data, intake
from web.access import EVERYONE, Caller, Hidden, Role
from web.api import ERRORS
from web.routing import Routes, Site, api_caller, site

routes = Routes()
MEMBERS = frozenset({Role.MEMBER})
CONFLICT = {**ERRORS, 409: ERRORS[404]}


class _Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution_id: str = Field(min_length=1, max_length=128)
    choice: Literal["for", "against", "abstain", "blank"]


class VotesForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    votes: list[_Choice] = Field(min_length=1, max_length=500)


class ProxyForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_member: str = Field(min_length=1, max_length=128)


class AlreadyRecorded(Exception):
    """The form's votes or proxy were recorded before (a second form sent at the same moment)."""


def record(here: Site, caller: Caller, form: ballot.Form, what: str) -> int:
    """Record a checked form, the API's and the page's: the secret ballots first (their
    participation is the lock against a second form), then the events; how many were recorded.
    The audit names the events, and of the secret ballots only how many (never a choice)."""
    if form.secret:
        try:
            with here.engine.begin() as conn:
                secret.cast(conn, form.secret)
                accounts.audit(conn, caller.label, f"assembly.{what}", f"secret ballots: {len(form.secret)}")
        except secret.AlreadyVoted:
            raise AlreadyRecorded() from None
    raws = [Raw(line, f"api:{caller.email}:{what}:{n}") for n, line in enumerate(ballot.lines(form.events), start=1)]
    outcomes = intake.take(here, raws) if raws else []
    if outcomes:
        with here.engine.begin() as conn:
            accounts.audit(conn, caller.label, f"assembly.{what}",
                           json.dumps([(o.event_id, o.outcome) for o in outcomes]))
    if any(o.outcome in (intake.DEAD_LETTER, intake.DUPLICATE) for o in outcomes):
        raise AlreadyRecorded()  # its ids were taken by the first form
    return len(outcomes) + len(form.secret)


def _record(request: Request, caller: Caller, form: ballot.Form, what: str) -> JSONResponse:
    try:
        return JSONResponse({"recorded": record(site(request), caller, form, what)})
    except AlreadyRecorded:
        return JSONResponse({"error": "already recorded: it is final"}, status_code=409)


def _checked(request: Request, make: Callable[[Connection], ballot.Form]) -> ballot.Form:
    """The events of the member's form, or a 404 when they are not of the assembly's electorate."""
    try:
        with site(request).engine.connect() as conn:
            return make(conn)
    except ballot.NotConvened:
        raise Hidden("no such assembly") from None


@routes.api("POST", "/api/assemblies/{assembly_id}/votes", roles=MEMBERS, responses=CONFLICT)
def post_votes(request: Request, assembly_id: str, form: VotesForm,
               caller: Caller = Depends(api_caller)) -> JSONResponse:
    """A vote by correspondence on every resolution of the assembly: once, final, until the deadline."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        checked = _checked(request, lambda conn: ballot.correspondence_votes(
            conn, assembly_id, caller.member_id or "", [(v.resolution_id, v.choice) for v in form.votes], now,
            site(request).governance))
    except ballot.BallotRefused as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    return _record(request, caller, checked, "votes")


@routes.api("POST", "/api/assemblies/{assembly_id}/proxy", roles=MEMBERS, responses=CONFLICT)
def post_proxy(request: Request, assembly_id: str, form: ProxyForm,
               caller: Caller = Depends(api_caller)) -> JSONResponse:
    """The member's proxy (pouvoir) to another associate: once."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        given = _checked(request, lambda conn: ballot.Form([ballot.proxy(
            conn, assembly_id, caller.member_id or "", form.to_member, now, site(request).governance)], []))
    except ballot.BallotRefused as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    return _record(request, caller, given, "proxy")


# --- On the day (issue 17, points 3 and 4): the present associate's vote, and the results once closed ---

class LiveVoteForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution_id: str = Field(min_length=1, max_length=128)
    choice: Literal["for", "against", "abstain", "blank"]
    for_member: str | None = Field(default=None, min_length=1, max_length=128,
                                   description="the associate whose proxy the caller holds and votes for")


@routes.api("POST", "/api/assemblies/{assembly_id}/live", roles=MEMBERS, responses=CONFLICT)
def post_live(request: Request, assembly_id: str, form: LiveVoteForm,
              caller: Caller = Depends(api_caller)) -> JSONResponse:
    """The present associate's vote on a resolution while the chair holds it open: their own, or
    with `for_member` that of an associate whose proxy they hold (secret ballots kept apart, G4)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        checked = _checked(request, lambda conn: ballot.live_vote(
            conn, assembly_id, caller.member_id or "", form.resolution_id, form.choice, now,
            site(request).governance, form.for_member or ""))
    except ballot.BallotRefused as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    return _record(request, caller, checked, "live")


@routes.api("GET", "/api/assemblies/{assembly_id}/results", roles=EVERYONE, responses=ERRORS)
def get_results(request: Request, assembly_id: str, caller: Caller = Depends(api_caller)) -> dict[str, Any]:
    """Each resolution's voting state and, once the chair closed its vote, its result (the tally
    JSON of CONTRACT §3 without the votes: the same for everyone the assembly convened)."""
    with site(request).reading() as conn:
        record = data.assembly(conn, caller, assembly_id, site(request).governance)
        voting = load_voting(conn, [t.resolution.resolution_id for t in record.tallies])
    return {"assembly_id": assembly_id, "resolutions": [
        {"resolution_id": t.resolution.resolution_id, "title": t.resolution.title,
         "voting": voting.get(t.resolution.resolution_id),
         "result": ({k: v for k, v in without_votes(t).to_json().items() if k != "not_counted"}
                    if voting.get(t.resolution.resolution_id) == "closed" else None)}
        for t in record.tallies]}
