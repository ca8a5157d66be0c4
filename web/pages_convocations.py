"""The board's part of an assembly's page (issue 17, points 1 and 5; DOMAIN.md G1, G5), in French.

- the convocation: a button that sends it as `cae assembly A --send-convocations` does
  (`streams.convocations`: emails to those who consented, the others recorded as convened by
  letter), refused with the reason when no SMTP server is configured or the assembly is too near
  to be convened in time; the convocations sent (who, when, how); the letter list as CSV and as
  letters to print;
- the bureau (chair, secretary, scrutineers) and the summary of the debates, each a form whose
  event goes through the same intake as the board's other forms (`web.intake.take_one`);
- the minutes with the sheet annexed as a PDF, the same bytes as `cae assembly A --minutes`, and
  the attendance sheet as a PDF.
"""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timezone
from typing import Annotated, Any

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field
from sqlalchemy import Connection

from engine.events import DEBATES_LENGTH, TEXT_LENGTH
from engine.messages import Message, Refused
from governance.convoke import recipients
from governance.minutes import ROLES, minutes_document
from governance.printable import assembly_html, letters_html
from governance.records import MemberFacts
from governance.store import (UnknownAssembly, load_assembly, load_bureau, load_contacts, load_convocations,
                              load_members, load_minutes)
from streams import smtp
from streams.convocations import by_letter, convening, in_time, send, write_letters
from web import data, intake
from web.access import GOVERNANCE, Caller, Hidden
from web.downloads import attachment
from web.inputs import Form, Text, one_of
from web.render import render
from web.routing import Routes, checked_form, page_caller, public_url, site

routes = Routes()
CHANNELS = {"email": "courriel", "letter": "lettre"}
# A page of its own, to print: its styles are in it, and nothing else may run there.
PRINTABLE = {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}


class BureauForm(Form):
    member_id: Text = ""
    role: one_of(tuple(ROLES)) = "chair"  # type: ignore[valid-type]


class DebatesForm(Form):
    """The summary of the debates (R225-106) and the documents submitted: longer than a field."""

    debates: Annotated[str, Field(max_length=DEBATES_LENGTH)] = ""
    documents: Annotated[str, Field(max_length=TEXT_LENGTH)] = ""


def _electorate(conn: Connection, held_on: date) -> list[MemberFacts]:
    return sorted((m for m in load_members(conn).values() if m.associate_at(held_on)), key=lambda m: m.member_id)


def board_part(conn: Connection, assembly_id: str) -> dict[str, Any]:
    """What the assembly's page shows the board beside the tallies (`web.pages_board.assembly_page`)."""
    a = load_assembly(conn, assembly_id).assembly
    members = load_members(conn)
    sent = load_convocations(conn, assembly_id)
    pending = recipients(a, members, load_contacts(conn), sent)
    minutes = load_minutes(conn, assembly_id)
    return {"convocations": [(c, members.get(c.member_id)) for c in sorted(sent, key=lambda c: c.member_id)],
            "channels": CHANNELS, "pending_email": len(pending.by_email), "pending_letter": len(pending.by_letter),
            "bureau": [(o, members.get(o.member_id)) for o in load_bureau(conn, assembly_id)],
            "roles": ROLES, "minutes": minutes, "electorate": _electorate(conn, a.held_on)}


def _assembly_or_404(conn: Connection, assembly_id: str) -> Any:
    try:
        return load_assembly(conn, assembly_id)
    except UnknownAssembly:
        raise Hidden("no such assembly") from None


def _refused(request: Request, reason: str) -> Response:
    return render(request, "error.html", {"status": 422, "message": f"Refusé : {reason}"}, 422)


def _back(assembly_id: str, part: str) -> Response:
    return RedirectResponse(f"/assemblies/{assembly_id}#{part}", status_code=303)


@routes.page("POST", "/assemblies/{assembly_id}/convocations", roles=GOVERNANCE)
async def send_convocations(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    """Convene the electorate: emails, each recorded, and the others recorded as convened by letter."""
    await checked_form(request)
    here = site(request)
    with here.reading() as conn:
        assembly = _assembly_or_404(conn, assembly_id).assembly
        before = sum(c.channel == "email" for c in load_convocations(conn, assembly_id))
    try:
        server = smtp.server_from_url()
        in_time(assembly, here.today(), here.governance)
    except smtp.MailError:
        return _refused(request, Message.of("convocation.no_smtp").text("fr"))
    except Refused as exc:
        return _refused(request, exc.message.text("fr"))
    refusals: list[str] = []

    def record(events: list[dict[str, Any]]) -> None:
        refusals.extend(r for r in (intake.take_one(here, caller, e, "assembly.convocation") for e in events) if r)

    try:
        # Thousands of emails are blocking work: off the event loop, as FastAPI runs a plain route.
        await to_thread.run_sync(lambda: send(here.engine, assembly_id, here.governance, here.today(),
                                              public_url(request), record, lambda found: None))
    except smtp.MailError:
        with here.reading() as conn:
            done = sum(c.channel == "email" for c in load_convocations(conn, assembly_id)) - before
        return _refused(request, Message.of("convocation.smtp_failed", where=server.where, sent=done).text("fr"))
    if refusals:
        return _refused(request, refusals[0])
    return _back(assembly_id, "convocations")


@routes.page("GET", "/assemblies/{assembly_id}/letters.csv", roles=GOVERNANCE)
def letters_csv(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    with site(request).reading() as conn:
        a = _assembly_or_404(conn, assembly_id).assembly
        out = io.StringIO()
        write_letters(out, a, by_letter(conn, assembly_id))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=attachment(f"lettres-{assembly_id}.csv"))


@routes.page("GET", "/assemblies/{assembly_id}/letters", roles=GOVERNANCE)
def letters_page(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    """Each letter's text, one per page when printed: the same convocation the emails carry."""
    here = site(request)
    with here.reading() as conn:
        _assembly_or_404(conn, assembly_id)
        found = convening(conn, assembly_id, here.governance, public_url(request))
        letters = [(m, found.text(m)) for m in by_letter(conn, assembly_id)]
    page = letters_html(found.recorded.assembly, letters)
    return Response(page, media_type="text/html; charset=utf-8", headers=PRINTABLE)


async def _take(request: Request, caller: Caller, assembly_id: str, event: dict[str, Any], part: str) -> Response:
    here = site(request)
    with here.reading() as conn:
        _assembly_or_404(conn, assembly_id)
    refused = intake.take_one(here, caller, {
        "event_id": f"board-{uuid.uuid4().hex}", "assembly_id": assembly_id,
        "occurred_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        **event}, "event.enter")
    return _refused(request, refused) if refused else _back(assembly_id, part)


@routes.page("POST", "/assemblies/{assembly_id}/bureau", roles=GOVERNANCE, form=BureauForm)
async def appoint(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    return await _take(request, caller, assembly_id, {"type": "bureau.appointed", "member_id": form["member_id"],
                                                      "role": form["role"]}, "bureau")


@routes.page("POST", "/assemblies/{assembly_id}/debates", roles=GOVERNANCE, form=DebatesForm)
async def record_debates(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    documents = form["documents"].strip()
    return await _take(request, caller, assembly_id, {
        "type": "minutes.recorded", "debates": form["debates"].strip(), "recorded_by": caller.email,
        **({"documents": documents} if documents else {})}, "debates")


@routes.page("GET", "/assemblies/{assembly_id}/minutes.pdf", roles=GOVERNANCE)
def minutes_pdf(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    """The minutes with the attendance sheet annexed: the PDF `cae assembly A --minutes` writes."""
    from web.pdf import html_to_pdf

    here = site(request)
    with here.reading() as conn:
        _assembly_or_404(conn, assembly_id)
        html = minutes_document(conn, assembly_id, here.governance)
    return Response(html_to_pdf(html), media_type="application/pdf",
                    headers=attachment(f"proces-verbal-{assembly_id}.pdf"))


@routes.page("GET", "/assemblies/{assembly_id}/sheet.pdf", roles=GOVERNANCE)
def sheet_pdf(request: Request, assembly_id: str, caller: Caller = Depends(page_caller)) -> Response:
    """The attendance sheet and the results (the printable sheet's page) as a PDF."""
    from web.pdf import html_to_pdf

    here = site(request)
    with here.reading() as conn:
        record = data.sheet(conn, caller, assembly_id, here.governance)
    html = assembly_html(record, here.governance.at(record.assembly.held_on))
    return Response(html_to_pdf(html), media_type="application/pdf",
                    headers=attachment(f"feuille-de-presence-{assembly_id}.pdf"))
