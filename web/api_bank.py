"""The treasury in the JSON API for a member's own data (issue 16, points 4 and 5; CONTRACT.md §4, §5).

`PUT` or `POST /api/members/{id}/bank-account` sets a member's IBAN (the staff for anyone, a member's
own token for their own account only: another member's id is "not found", enforced in the data
layer like the other member routes); `GET` the same path reads it; `GET
/api/members/{id}/receivables` gives the member's unpaid invoices as `cae receivables --member --json`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from engine.events import EventError
from web import data
from web.access import BOOKS, Caller, Role
from web.api import ERRORS
from web.member_iban import set_iban
from web.routing import Routes, api_caller, site

routes = Routes()
MEMBER_DATA = BOOKS | {Role.MEMBER}


class BankAccountBody(BaseModel):
    """A member's IBAN (checked: country, length, check digits), its BIC, and from when (default today)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    iban: str = Field(max_length=64)
    bic: str | None = Field(default=None, max_length=16)
    from_: date | None = Field(default=None, alias="from")


def _account_json(found: data.BankAccount) -> dict[str, Any]:
    return {"member_id": found.member_id, "iban": found.iban, "bic": found.bic,
            "from": found.since.isoformat() if found.since else None}


@routes.api("GET", "/api/members/{member_id}/bank-account", roles=MEMBER_DATA, member_param="member_id",
            responses=ERRORS)
def bank_account(request: Request, member_id: str, caller: Caller = Depends(api_caller)) -> dict[str, Any]:
    """The member's IBAN in force (the latest registered), or nulls."""
    with site(request).reading() as conn:
        (found,) = data.bank_accounts(conn, caller, member_id)
    return _account_json(found)


async def _set(request: Request, member_id: str, caller: Caller) -> JSONResponse:
    """Access first (another member's id is "not found" whatever the body), then the body, then the event."""
    here = site(request)

    def allowed() -> None:
        with here.reading() as conn:
            data.bank_accounts(conn, caller, member_id)
    await run_in_threadpool(allowed)
    try:
        body = BankAccountBody.model_validate_json(await request.body())
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return JSONResponse({"error": f"{where}: {first['msg']}"}, status_code=422)
    try:
        taken = await run_in_threadpool(set_iban, here, caller, member_id, body.iban, body.bic, body.from_)
    except EventError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)

    def current() -> data.BankAccount:
        with here.reading() as conn:
            return data.bank_accounts(conn, caller, member_id)[0]
    found = await run_in_threadpool(current)
    return JSONResponse({**_account_json(found), "event_id": taken.event_id, "outcome": taken.outcome})


_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": BankAccountBody.model_json_schema(by_alias=True)}}}}


@routes.api("PUT", "/api/members/{member_id}/bank-account", roles=MEMBER_DATA, member_param="member_id",
            responses=ERRORS, openapi_extra=_BODY)
async def put_bank_account(request: Request, member_id: str, caller: Caller = Depends(api_caller)) -> JSONResponse:
    """Set the member's IBAN (`{"iban", "bic"?, "from"?}`): a `member.bank_account_set` event; 422 with the
    reason when invalid."""
    return await _set(request, member_id, caller)


@routes.api("POST", "/api/members/{member_id}/bank-account", roles=MEMBER_DATA, member_param="member_id",
            responses=ERRORS, openapi_extra=_BODY)
async def post_bank_account(request: Request, member_id: str, caller: Caller = Depends(api_caller)) -> JSONResponse:
    """The same as `PUT`, for clients that only POST."""
    return await _set(request, member_id, caller)


@routes.api("GET", "/api/members/{member_id}/receivables", roles=MEMBER_DATA, member_param="member_id",
            responses=ERRORS)
def receivables(request: Request, member_id: str, on: date | None = Query(default=None),
                caller: Caller = Depends(api_caller)) -> dict[str, Any]:
    """The member's unpaid invoices as at `on` (default today): `cae receivables --member ID --json`."""
    with site(request).reading() as conn:
        return data.receivables(conn, caller, on or site(request).today(), member_id).to_json()
