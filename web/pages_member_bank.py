"""Members' side of the treasury on the web (issue 16, points 4 and 5): their IBAN, set by the staff or
by the member themself, and their unpaid invoices.

The IBAN is shown whole only to the member and to the staff on that member's own page; the staff's
list shows it masked. Access is the data layer's (`web.data`), the event's intake `web.member_iban`.
"""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from engine.messages import Refused
from web import accounts, data
from web.access import BOOKS, Caller, Role
from web.inputs import Form, Text
from web.member_iban import set_iban
from web.render import render
from web.routing import Routes, checked_form, page_caller, site

routes = Routes()
MEMBER = frozenset({Role.MEMBER})
MEMBER_PAGES = BOOKS | MEMBER


class IbanForm(Form):
    iban: Text = ""
    bic: Text = ""


@routes.page("GET", "/staff/bank-accounts", roles=BOOKS)
def bank_accounts_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """Every member's IBAN, masked: a list shows no one's whole IBAN."""
    with site(request).reading() as conn:
        found = data.bank_accounts(conn, caller)
    return render(request, "bank_accounts.html", {"accounts": found})


def _member_page(request: Request, caller: Caller, member_id: str, error: str | None = None,
                 status: int = 200) -> Response:
    with site(request).reading() as conn:
        (found,) = data.bank_accounts(conn, caller, member_id)
    return render(request, "member_iban.html", {"account": found, "error": error, "saved": False}, status)


@routes.page("GET", "/staff/members/{member_id}/bank-account", roles=BOOKS, member_param="member_id")
def member_iban_page(request: Request, member_id: str, caller: Caller = Depends(page_caller)) -> Response:
    return _member_page(request, caller, member_id)


@routes.page("POST", "/staff/members/{member_id}/bank-account", roles=BOOKS, member_param="member_id",
             form=IbanForm)
async def set_member_iban(request: Request, member_id: str, caller: Caller = Depends(page_caller)) -> Response:
    """The staff set a member's IBAN: a `member.bank_account_set` event, refused in French when invalid."""
    form = await checked_form(request)
    try:
        set_iban(site(request), caller, member_id, form.get("iban", ""), form.get("bic") or None)
    except Refused as exc:
        return _member_page(request, caller, member_id, exc.message.text("fr"), 422)
    return RedirectResponse(f"/staff/members/{member_id}/bank-account", status_code=303)


@routes.page("POST", "/account/bank-account", roles=MEMBER, form=IbanForm)
async def set_own_iban(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """A member sets their own IBAN from their account page (never another's: the caller's own id)."""
    form = await checked_form(request)
    try:
        set_iban(site(request), caller, caller.member_id or "", form.get("iban", ""), form.get("bic") or None)
    except Refused as exc:
        with site(request).reading() as conn:
            tokens = accounts.tokens_of(conn, caller.user_id)
            (own,) = data.bank_accounts(conn, caller, caller.member_id or "")
        return render(request, "account.html", {"tokens": tokens, "created": None, "bank_account": own,
                                                "iban_error": exc.message.text("fr")}, 422)
    return RedirectResponse("/account#iban", status_code=303)


@routes.page("GET", "/members/{member_id}/unpaid", roles=MEMBER_PAGES, member_param="member_id")
def unpaid_page(request: Request, member_id: str, on: date | None = Query(default=None),
                caller: Caller = Depends(page_caller)) -> Response:
    """The member's invoices their clients have not paid yet, with how late each is (`cae receivables
    --member`)."""
    day = on or site(request).today()
    with site(request).reading() as conn:
        found = data.receivables(conn, caller, day, member_id)
    return render(request, "unpaid.html", {"report": found, "on": day, "member_id": member_id})
