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

from datetime import datetime, timezone
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ConfigDict, model_validator
from sqlalchemy import Connection

from governance import ballot, secret
from governance.records import CHOICES
from governance.store import load_votes
from web.access import Caller, Hidden, Role
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
    mine = {v.resolution_id: v.choice for v in load_votes(conn, ids) if v.member_id == me and v.by_correspondence}
    secretly = {p.resolution_id for p in secret.participation(conn, [r.resolution_id for r in resolutions if r.secret])
                if p.member_id == me and p.mode == "correspondence"}
    now = _now()
    return {"a": found.recorded.assembly, "resolutions": resolutions, "mine": mine,
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
    try:
        with here.engine.connect() as conn:
            given = ballot.proxy(conn, assembly_id, caller.member_id or "", form["to_member"].strip(), _now(),
                                 here.governance)
        record(here, caller, ballot.Form([given], []), "proxy")
    except ballot.NotConvened:
        raise Hidden("no such assembly") from None
    except ballot.BallotRefused as exc:
        return _refused(request, caller, assembly_id, exc, {})
    except AlreadyRecorded:
        return _refused(request, caller, assembly_id, ballot.BallotRefused(409, "", "already_given"), {})
    return RedirectResponse(f"/assemblies/{assembly_id}/ballot", status_code=303)


def _refused(request: Request, caller: Caller, assembly_id: str, exc: ballot.BallotRefused,
             chosen: dict[str, str]) -> Response:
    """The page again, with the reason in French and the associate's choices kept in the form."""
    with site(request).reading() as conn:
        view = _view(conn, request, caller, assembly_id)
    return render(request, "ballot.html", {**view, "chosen": chosen,
                                           "refusal": REFUSALS[exc.code].format(deadline=view["deadline"])},
                  exc.status)
