"""The staff's mail page (issue 17, point 6), in French: what was emailed to whom and when (the
monthly statement notices and the convocations by email, as `cae mail log` lists them), and a
button that sends a month's "your statement is ready" notices as `cae mail statements` does
(`streams.member_mail`: once per member and month, to those who consented, no figure in them).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.responses import Response

from engine.french import day_label, local_time, month_label
from streams import smtp
from streams.member_mail import Sent, mail_log, send_statements
from web.access import BOOKS, Caller
from web.inputs import Form, Text
from web.months import month_in_window
from web.render import render
from web.routing import Routes, checked_form, page_caller, public_url, site

routes = Routes()
KINDS = {"statement": "état des comptes prêt", "convocation": "convocation"}


class StatementsForm(Form):
    month: Text = ""


def _when(sent: Sent, request: Request) -> str:
    """A notice's moment where the cooperative is; a convocation's day (G1 records the day only)."""
    if len(sent.sent) <= 10:
        return day_label(date.fromisoformat(sent.sent))
    return local_time(datetime.fromisoformat(sent.sent), site(request).zone)


def _about(sent: Sent) -> str:
    return month_label(sent.about) if sent.kind == "statement" else f"assemblée {sent.about}"


def _page(request: Request, status: int = 200, **extra: Any) -> Response:
    with site(request).reading() as conn:
        found = mail_log(conn)
    rows = [{"kind": KINDS.get(s.kind, s.kind), "about": _about(s), "member_id": s.member_id,
             "address": s.address or "", "when": _when(s, request)} for s in found]
    default = (site(request).today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")  # last month's payroll
    return render(request, "mail.html", {"rows": rows, "month": default, **extra}, status)


@routes.page("GET", "/staff/mail", roles=BOOKS)
def mail_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    return _page(request)


@routes.page("POST", "/staff/mail/statements", roles=BOOKS, form=StatementsForm)
async def send_notices(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """The month's notices; the page again, saying how many went, or why none could."""
    form = await checked_form(request)
    here = site(request)
    month = month_in_window(form["month"].strip(), here.today())
    base = public_url(request)
    try:
        sent = await to_thread.run_sync(lambda: send_statements(here.engine, month, base))
    except smtp.MailError:
        return _page(request, 422, error="Aucun avis n'est parti : le serveur de courriel (CAE_SMTP_URL) n'est pas "
                                         "configuré ou ne répond pas.")
    return _page(request, done=f"{sent} avis envoyé(s) pour {month_label(month)}.")
