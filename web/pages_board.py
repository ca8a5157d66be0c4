"""The governance pages: assemblies and their live tallies, the board's forms, the sheet, participation.

The board (and the staff) convene an assembly, propose its resolutions, record
attendance, proxies and votes: each form makes a governance event, which goes
through the same validators and `process` as a line of a file. A tally is
recomputed from the record at each view. A member sees the assemblies they
were convened to, read only. An assembly not yet held is "à venir": nobody
has been counted, so nothing is said of its quorum.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from governance.participation import meetings_of, participation
from governance.store import load_attendance, load_meetings, load_members
from web import data, intake
from web.access import EVERYONE, GOVERNANCE, Caller, Role
from web.render import render
from web.events_form import new_event_id
from web.inputs import form_for_events
from web.pages_convocations import PRINTABLE, board_part
from web.routing import Routes, checked_form, page_caller, site
from web.words import said

routes = Routes()
ASSEMBLIES_SEEN = EVERYONE  # members: the ones they were convened to (web.data)


@routes.page("GET", "/board", roles=GOVERNANCE)
def board_home(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    with site(request).reading() as conn:
        found = data.assemblies(conn, caller)
    return render(request, "board.html", {"assemblies": found, "today": site(request).today(),
                                          "event_id": new_event_id()})


@routes.page("GET", "/assemblies", roles=ASSEMBLIES_SEEN)
def assemblies_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    with site(request).reading() as conn:
        found = data.assemblies(conn, caller)
    return render(request, "assemblies.html", {"assemblies": found, "today": site(request).today()})


@routes.page("GET", "/assemblies/{assembly_id}", roles=ASSEMBLIES_SEEN)
def assembly_page(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    with site(request).reading() as conn:
        record = data.assembly(conn, caller, assembly_id, site(request).governance)
        members = sorted(load_members(conn).values(), key=lambda m: m.member_id) if caller.role is not Role.MEMBER else []
        board = board_part(conn, assembly_id) if caller.role in GOVERNANCE else {}
    return render(request, "assembly.html", {
        "record": record, "held": record.assembly.held_on <= site(request).today(), "members": members,
        "can_record": caller.role in GOVERNANCE, "event_id": new_event_id(), **board})


@routes.page("GET", "/assemblies/{assembly_id}/sheet", roles=GOVERNANCE)
def sheet_page(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    from governance.printable import assembly_html

    with site(request).reading() as conn:
        record = data.sheet(conn, caller, assembly_id, site(request).governance)
    rules = site(request).governance.at(record.assembly.held_on)
    return Response(assembly_html(record, rules), media_type="text/html; charset=utf-8", headers=PRINTABLE)


RECORDABLE = {
    "assembly.convened": ("assembly_id", "kind", "held_on", "convocation"),
    "resolution.proposed": ("resolution_id", "assembly_id", "title"),
    "attendance.recorded": ("meeting_id", "member_id", "mode"),
    "proxy.given": ("assembly_id", "from_member", "to_member"),
    "vote.cast": ("resolution_id", "member_id", "choice", "cast_by"),
    "ritual.held": ("meeting_id", "kind", "held_on", "title"),
}


BoardForm = form_for_events("BoardForm", RECORDABLE,
                            ["back", *dict.fromkeys(n for names in RECORDABLE.values() for n in names)])


@routes.page("POST", "/board/events", roles=GOVERNANCE, form=BoardForm)
async def record_event(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """A governance event from one of the board's forms; back to the assembly with the outcome."""
    form = await checked_form(request)
    kind = form["type"]
    event: dict[str, object] = {"event_id": form.get("event_id") or new_event_id(), "type": kind,
                                "occurred_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    for name in RECORDABLE[kind]:
        value = form.get(name, "").strip()
        if name == "cast_by" and not value:
            continue
        # A convocation is a number in the event; anything else ("²" is a digit to Python, not to
        # `int`) goes as typed, for the validator to refuse with its reason.
        event[name] = int(value) if name == "convocation" and re.fullmatch(r"[0-9]{1,3}", value) else value
    refused = intake.take_one(site(request), caller, event, "event.enter")
    if refused:
        return render(request, "error.html", {"status": 422, "message": f"Refusé : {refused}"}, 422)
    target = str(event.get("assembly_id") or event.get("meeting_id") or "")
    if kind == "vote.cast" or kind == "resolution.proposed" and not target:
        target = form.get("back", "")
    return RedirectResponse(f"/assemblies/{target}" if target and kind != "ritual.held" else "/board",
                            status_code=303)


@routes.page("GET", "/board/participation", roles=GOVERNANCE)
def participation_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    with site(request).reading() as conn:
        assemblies, rituals = load_meetings(conn)
        report = participation(meetings_of(assemblies, rituals), load_attendance(conn), load_members(conn),
                               None, None, ())
    years = sorted({y for _, y, _, _ in report.by_year})
    chart = {"labels": [str(y) for y in years], "series": [
        {"label": said(kind), "values": [next((str(round(c.rate * 100, 1)) for k, y2, _, c in report.by_year
                                         if k == kind and y2 == y and c.rate is not None), None) for y in years]}
        for kind in report.kinds()]}
    return render(request, "participation.html", {"report": report, "chart": chart})


@routes.page("GET", "/board/register", roles=GOVERNANCE)
def register_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    with site(request).reading() as conn:
        views = data.register(conn, caller, site(request).today(), site(request).governance)
    return render(request, "register.html", {"views": views, "today": site(request).today(),
                                             "nominal": site(request).governance.at(site(request).today()).share_nominal})
