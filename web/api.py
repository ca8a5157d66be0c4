"""The JSON API (CONTRACT §4): the same figures as the CLI's `--json`, for a personal token.

Errors are `{"error": "one line"}`: 401 without valid credentials, 403 when the
role may not use the endpoint, 404 for what does not exist or belongs to
another member, 422 for a malformed request (`web.app`).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from engine.money import ZERO, fmt
from engine.periods import last_day
from ledger import monthly
from streams.pipeline import Raw
from web import accounts, data, intake
from web.access import BOOKS, EVERYONE, Caller, Role
from web.months import GivenMonth, Month
from web.routing import Routes, api_caller, site

routes = Routes()
MEMBER_DATA = BOOKS | {Role.MEMBER}


class Error(BaseModel):
    error: str
    code: str | None = None  # the catalogue's code of the refusal, when it has one (issue 15)


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Error} for code in (401, 403, 404, 422)}


@routes.api("GET", "/healthz", roles=None, responses=ERRORS)
async def healthz() -> dict[str, bool]:
    return {"ok": True}


@routes.api("GET", "/api/me", roles=EVERYONE, responses=ERRORS)
def me(caller: Caller = Depends(api_caller)) -> dict[str, Any]:
    return {"email": caller.email, "role": caller.role.value, "member_id": caller.member_id}


@routes.api("GET", "/api/members/{member_id}/statement", roles=MEMBER_DATA, member_param="member_id",
            responses=ERRORS)
async def statement(request: Request, member_id: str, month: str = GivenMonth,
                    caller: Caller = Depends(api_caller)) -> JSONResponse:
    """The member's statement of the month: `cae statement MEMBER --month M --json`."""
    found = await data.statement_of(site(request).reader, caller, member_id, month)
    return JSONResponse(found.to_json())


@routes.api("GET", "/api/members/{member_id}/payslips", roles=MEMBER_DATA, member_param="member_id",
            responses=ERRORS)
def payslips(request: Request, member_id: str, year: int = Query(ge=1900, le=9999),
             caller: Caller = Depends(api_caller)) -> dict[str, Any]:
    """The member's payslips of a year, each as `cae payslip --json` gives it."""
    with site(request).reading() as conn:
        return {"payslips": [p.to_json() for p in data.payslips(conn, caller, member_id, year)]}


@routes.api("GET", "/api/reconcile", roles=BOOKS, responses=ERRORS)
def reconcile(request: Request, month: str = GivenMonth,
              caller: Caller = Depends(api_caller)) -> dict[str, Any]:
    """`cae reconcile --month M --json`'s document, read: a look records no run (issue 14, point 6)."""
    here = site(request)
    return monthly.reconciliation_read(here.engine, month, here.rules).to_json()


@routes.api("GET", "/api/trial-balance", roles=BOOKS, responses=ERRORS)
def trial_balance(request: Request, month: str | None = Month,
                  caller: Caller = Depends(api_caller)) -> dict[str, Any]:
    """`cae trial-balance [--month M] --json`."""
    with site(request).reading() as conn:
        rows = data.balances(conn, caller, last_day(month) if month else None)
    return {"accounts": [{"account": r.account, "label": r.label, "debit": fmt(r.debit), "credit": fmt(r.credit),
                          "balance": fmt(r.balance)} for r in rows],
            "total_debit": fmt(sum((r.debit for r in rows), ZERO)),
            "total_credit": fmt(sum((r.credit for r in rows), ZERO))}


@routes.api("GET", "/api/tally/{resolution_id}", roles=EVERYONE, responses=ERRORS)
def tally(request: Request, resolution_id: str, caller: Caller = Depends(api_caller)) -> dict[str, Any]:
    """`cae tally R --json`: staff and board; a member, for an assembly they were convened to."""
    with site(request).reading() as conn:
        return data.tally(conn, caller, resolution_id, site(request).governance).to_json()


@routes.api("POST", "/api/events", roles=BOOKS, responses=ERRORS)
async def post_events(request: Request, caller: Caller = Depends(api_caller)) -> JSONResponse:
    """One event (a JSON object) or JSON lines, processed as `cae ingest` would; each line's outcome."""
    text = (await request.body()).strip()  # at most `web.guards.MAX_BODY`: cut off while read, 413
    if not text:
        return JSONResponse({"error": "no event in the body"}, status_code=422)
    lines = [text] if text.startswith(b"{") and b"\n" not in text else [line for line in text.split(b"\n")
                                                                        if line.strip()]
    raws = [Raw(line.strip(), f"api:{caller.email}:{n}") for n, line in enumerate(lines, start=1)]
    here = site(request)
    results = [line.as_json() for line in intake.take(here, raws)]
    with here.engine.begin() as conn:
        accounts.audit(conn, caller.label, "event.api", json.dumps([(r["event_id"], r["outcome"]) for r in results]))
    return JSONResponse({"results": results})
