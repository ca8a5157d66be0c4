"""The associate's own assembly page, "Mon vote" (issue 17, point 2; DOMAIN.md G2, G3, G4), in French.

`/assemblies/{id}/ballot`, for an associate of the assembly's electorate (anyone else: 404, as for
an assembly that does not exist): every resolution with its text and one choice each, the whole
form at once; a first send shows what will be recorded and asks to confirm; the confirmed form is
recorded through `web.api_assembly.record`, as the API does (secret resolutions apart, G4), and is
final. After the deadline the page says until when votes were taken, and takes none. Beside it, a
proxy to another associate, named by their member id: the page lists no other associate (issue 14:
a member learns nothing of other members).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ConfigDict, model_validator
from sqlalchemy import Connection

from governance import ballot, secret
from governance.records import CHOICES
from governance.member_view import without_votes
from governance.records import ATTENDING
from governance.results import record_of_assembly
from governance.sitting import last_modes
from governance.store import load_votes, load_voting
from web.access import GOVERNANCE, Caller, Hidden, Role
from streams.pipeline import Raw
from web import accounts, data, intake
from web.api_assembly import AlreadyRecorded, record
from web.inputs import Form, Text, one_of
from web.render import render
from web.routing import Routes, checked_form, page_caller, site

routes = Routes()
MEMBERS = frozenset({Role.MEMBER})
VOTE = "vote:"  # a choice's field is named after its resolution: vote:R1

REFUSALS = {
    "late": "Le vote par correspondance n'est plus ouvert : il l'était jusqu'au {deadline}.",
    "incomplete": "Choisissez une réponse pour chaque résolution : le vote porte sur toutes à la fois.",
    "already_voted": "Vous avez déjà voté par correspondance pour cette assemblée : votre vote est définitif.",
    "over": "L'assemblée a eu lieu : un pouvoir ne peut plus être donné.",
    "already_given": "Vous avez déjà donné votre pouvoir pour cette assemblée.",
    "holder": "Un pouvoir se donne à un autre associé de l'assemblée : indiquez son identifiant.",
    "not_open": "Le vote sur cette résolution n'est pas ouvert.",
    "not_present": "Seul un associé enregistré présent ou à distance vote en séance.",
    "already_voted_here": "Ce vote sur cette résolution est déjà exprimé : il est définitif.",
    "not_holder": "Vous ne détenez pas de pouvoir de cet associé qui compte à cette assemblée.",
}


class BallotForm(Form):
    """`step` (check, then send) and one `vote:<resolution>` field per resolution, each a choice."""

    model_config = ConfigDict(extra="allow", frozen=True)
    step: one_of(("check", "send")) = "check"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _choices(self) -> "BallotForm":
        for name, value in (self.model_extra or {}).items():
            if name.startswith(VOTE) and (len(name) > len(VOTE) + 128 or value not in CHOICES):
                raise ValueError(f"{name}: not one of {', '.join(CHOICES)}")
        return self


class ProxyPageForm(Form):
    to_member: Text = ""


class LiveForm(Form):
    resolution_id: Text = ""
    for_member: Text = ""  # empty: the associate's own vote; else the proxy giver's they vote for
    choice: one_of(CHOICES) = "for"  # type: ignore[valid-type]


class AttendanceForm(Form):
    member_id: Text = ""
    mode: one_of(("present", "remote", "absent")) = "present"  # type: ignore[valid-type]


class VotingForm(Form):
    resolution_id: Text = ""
    state: one_of(("open", "closed")) = "open"  # type: ignore[valid-type]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _view(conn: Connection, request: Request, caller: Caller, assembly_id: str) -> dict[str, Any]:
    """What the page shows the associate, or a 404 when they are not of the assembly's electorate."""
    here, me = site(request), caller.member_id or ""
    try:
        found = ballot.convened(conn, assembly_id, me, here.governance)
    except ballot.NotConvened:
        raise Hidden("no such assembly") from None
    resolutions = sorted(found.recorded.resolutions, key=lambda r: r.seq)
    ids = [r.resolution_id for r in resolutions]
    every_vote, everyone_secret = load_votes(conn, ids), secret.participation(conn, ids)
    votes = [v for v in every_vote if v.member_id == me]
    took_part = [p for p in everyone_secret if p.member_id == me]
    mine = {v.resolution_id: v.choice for v in votes if v.by_correspondence}
    secretly = {p.resolution_id for p in took_part if p.mode == "correspondence"}
    now = _now()
    voting = load_voting(conn, ids)
    record = record_of_assembly(conn, assembly_id, here.governance)
    done = {(v.member_id, v.resolution_id) for v in every_vote} | {(p.member_id, p.resolution_id)
                                                                     for p in everyone_secret}
    present = last_modes(found.recorded.attendance, assembly_id).get(me) in ATTENDING
    # Their own vote, then one for each associate whose proxy they hold (issue 17, point 3).
    voters = ["", *ballot.holding(conn, found, me, here.governance)] if present else []
    return {"a": found.recorded.assembly, "resolutions": resolutions, "mine": mine, "voting": voting,
            "live": [(r, who) for r in resolutions if voting.get(r.resolution_id) == "open"
                     for who in voters if (who or me, r.resolution_id) not in done],
            "results": [without_votes(t) for t in record.tallies if voting.get(t.resolution.resolution_id) == "closed"],
            "voted": bool(mine or secretly), "secretly": secretly,
            "deadline": found.deadline.astimezone(here.zone).strftime("%d/%m/%Y à %H:%M"),
            "open": now <= found.deadline, "proxy_open": now < found.day_ends,
            "proxy": next((p.to_member for p in found.recorded.proxies if p.from_member == me), None),
            "choice_words": {"for": "pour", "against": "contre", "abstain": "abstention", "blank": "blanc"}}


def _page(request: Request, caller: Caller, assembly_id: str, status: int = 200, **extra: Any) -> Response:
    with site(request).reading() as conn:
        view = _view(conn, request, caller, assembly_id)
    return render(request, "ballot.html", {**view, **extra}, status)


@routes.page("GET", "/assemblies/{assembly_id}/ballot", roles=MEMBERS)
def ballot_page(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    return _page(request, caller, assembly_id)


@routes.page("POST", "/assemblies/{assembly_id}/ballot", roles=MEMBERS, form=BallotForm)
async def send_ballot(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    """`check`: the page again, with what will be recorded and a button to confirm; `send`: recorded."""
    form = await checked_form(request)
    choices = [(name[len(VOTE):], value) for name, value in form.items() if name.startswith(VOTE)]
    here = site(request)
    try:
        with here.engine.connect() as conn:
            checked = ballot.correspondence_votes(conn, assembly_id, caller.member_id or "", choices, _now(),
                                                  here.governance)
    except ballot.NotConvened:
        raise Hidden("no such assembly") from None
    except ballot.BallotRefused as exc:
        return _refused(request, caller, assembly_id, exc, dict(choices))
    if form["step"] != "send":
        return _page(request, caller, assembly_id, confirm=dict(choices))
    try:
        record(here, caller, checked, "votes")
    except AlreadyRecorded:
        return _refused(request, caller, assembly_id, ballot.BallotRefused(409, "", "already_voted"), {})
    return RedirectResponse(f"/assemblies/{assembly_id}/ballot", status_code=303)


@routes.page("POST", "/assemblies/{assembly_id}/ballot/proxy", roles=MEMBERS, form=ProxyPageForm)
async def give_proxy(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    here = site(request)
    return _take(request, caller, assembly_id, "proxy", "already_given", lambda conn: ballot.Form([ballot.proxy(
        conn, assembly_id, caller.member_id or "", form["to_member"].strip(), _now(), here.governance)], []))


def _take(request: Request, caller: Caller, assembly_id: str, what: str, conflict: str,
          make: Callable[[Connection], ballot.Form]) -> Response:
    """Check a member's form (`make`), record it, back to the page; or the page with the reason."""
    here = site(request)
    try:
        with here.engine.connect() as conn:
            checked = make(conn)
        record(here, caller, checked, what)
    except ballot.NotConvened:
        raise Hidden("no such assembly") from None
    except ballot.BallotRefused as exc:
        return _refused(request, caller, assembly_id, exc, {})
    except AlreadyRecorded:
        return _refused(request, caller, assembly_id, ballot.BallotRefused(409, "", conflict), {})
    return RedirectResponse(f"/assemblies/{assembly_id}/ballot", status_code=303)


def _refused(request: Request, caller: Caller, assembly_id: str, exc: ballot.BallotRefused,
             chosen: dict[str, str]) -> Response:
    """The page again, with the reason in French and the associate's choices kept in the form."""
    with site(request).reading() as conn:
        view = _view(conn, request, caller, assembly_id)
    return render(request, "ballot.html", {**view, "chosen": chosen,
                                           "refusal": REFUSALS[exc.code].format(deadline=view["deadline"])},
                  exc.status)


@routes.page("POST", "/assemblies/{assembly_id}/ballot/live", roles=MEMBERS, form=LiveForm)
async def vote_in_session(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    """A present associate's vote from their phone, while the chair holds the resolution's vote open:
    their own, or that of an associate whose proxy they hold (`for_member`)."""
    form = await checked_form(request)
    here = site(request)
    return _take(request, caller, assembly_id, "live", "already_voted_here", lambda conn: ballot.live_vote(
        conn, assembly_id, caller.member_id or "", form["resolution_id"], form["choice"], _now(), here.governance,
        form["for_member"].strip()))


# --- The chair's page for the day (issue 17, point 4): check-in, the quorum, each resolution's vote ---

def _chair_view(request: Request, caller: Caller, assembly_id: str) -> dict[str, Any]:
    here = site(request)
    with here.reading() as conn:
        found = data.sheet(conn, caller, assembly_id, here.governance)
        voting = load_voting(conn, [t.resolution.resolution_id for t in found.tallies])
    return {"record": found, "voting": voting,
            "modes": {"present": "présent", "remote": "à distance", "represented": "représenté",
                      "correspondence": "vote par correspondance", "excused": "excusé", "absent": "absent"}}


@routes.page("GET", "/assemblies/{assembly_id}/chair", roles=GOVERNANCE)
def chair_page(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    """The list of associates to check in, the quorum as it stands, each resolution to open and close."""
    return render(request, "chair.html", _chair_view(request, caller, assembly_id))


async def _chair_event(request: Request, caller: Caller, assembly_id: str, event: dict[str, Any]) -> Response:
    here = site(request)
    with here.reading() as conn:
        found = data.sheet(conn, caller, assembly_id, here.governance)  # the assembly exists (else 404)
    if "resolution_id" in event and event["resolution_id"] not in {t.resolution.resolution_id for t in found.tallies}:
        return render(request, "error.html", {"status": 422, "message": "Refusé : résolution inconnue."}, 422)
    done = intake.take(here, [Raw(json.dumps({"event_id": f"chair-{uuid.uuid4().hex}", **event,
                                              "occurred_at": _now().isoformat().replace("+00:00", "Z")}).encode(),
                                  f"web:{caller.email}")])[0]
    with here.engine.begin() as conn:
        accounts.audit(conn, caller.label, "assembly.chair", json.dumps(event))
    if done.reason:
        return render(request, "error.html", {"status": 422, "message": f"Refusé : {done.reason}"}, 422)
    return RedirectResponse(f"/assemblies/{assembly_id}/chair", status_code=303)


@routes.page("POST", "/assemblies/{assembly_id}/chair/attendance", roles=GOVERNANCE, form=AttendanceForm)
async def check_in(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    return await _chair_event(request, caller, assembly_id, {
        "type": "attendance.recorded", "meeting_id": assembly_id, "member_id": form["member_id"],
        "mode": form["mode"]})


@routes.page("POST", "/assemblies/{assembly_id}/chair/voting", roles=GOVERNANCE, form=VotingForm)
async def open_or_close(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    return await _chair_event(request, caller, assembly_id, {
        "type": "resolution.voting", "resolution_id": form["resolution_id"], "state": form["state"]})
