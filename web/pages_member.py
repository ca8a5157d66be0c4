"""A member's pages, "Mon activité": the month's statement and what is behind it, the year, the capital,
the payslips, the salary simulator, the statement as a PDF. Staff open any member's; a member their own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from engine.money import MoneyError, fmt, parse_amount
from web import data
from web.access import BOOKS, Caller, Role
from web.downloads import attachment
from web.months import Month
from web.pdf import pdf_problem, statement_pdf as make_pdf
from web.render import render
from web.routing import Routes, page_caller, site

routes = Routes()
MEMBER_PAGES = BOOKS | {Role.MEMBER}


def this_month(request: Request) -> str:
    return site(request).today().strftime("%Y-%m")


def _statement_view(request: Request, caller: Caller, member_id: str, month: str) -> dict[str, Any]:
    """What the statement page and its PDF show: one member's month, read as that caller."""
    found = data.member_month(site(request).reader, caller, member_id, month, site(request).governance)
    return {"s": found.statement, "postings": found.postings, "invoices": found.invoices, "capital": found.capital}


@routes.page("GET", "/members/{member_id}/statement", roles=MEMBER_PAGES, member_param="member_id")
def statement_page(request: Request, member_id: str, month: str | None = Month,
                   caller: Caller = Depends(page_caller)) -> Response:
    if month is None:  # the last month with activity, not an empty current month (issue 15, point 3)
        with site(request).reading() as conn:
            month = data.last_active_month(conn, caller, member_id, site(request).today()) or this_month(request)
    view = _statement_view(request, caller, member_id, month)
    return render(request, "statement.html", {**view, "month": month, "member_id": member_id,
                                              "pdf": pdf_problem() is None, "today": site(request).today()})


@routes.page("GET", "/members/{member_id}/statement.pdf", roles=MEMBER_PAGES, member_param="member_id")
def statement_pdf(request: Request, member_id: str, month: str | None = Month,
                  caller: Caller = Depends(page_caller)) -> Response:
    month = month or this_month(request)
    view = _statement_view(request, caller, member_id, month)
    return Response(make_pdf(view["s"], view["postings"], view["capital"].name), media_type="application/pdf",
                    headers=attachment(f"etat-des-comptes-{member_id}-{month}.pdf"))


@routes.page("GET", "/members/{member_id}/year", roles=MEMBER_PAGES, member_param="member_id")
def year_page(request: Request, member_id: str, year: int | None = Query(default=None, ge=1900, le=9999),
              caller: Caller = Depends(page_caller)) -> Response:
    year = year or site(request).today().year
    with site(request).reading() as conn:
        months = data.year(conn, caller, member_id, year)
        capital = data.capital(conn, caller, member_id, site(request).today(), site(request).governance)
    chart = {"labels": [m.month for m in months],
             "series": [{"label": "Chiffre d'affaires HT", "values": [fmt(m.revenue) for m in months]},
                        {"label": "Contribution", "values": [fmt(m.contribution) for m in months]},
                        {"label": "Salaire brut", "values": [fmt(m.gross) for m in months]}]}
    return render(request, "year.html", {"year": year, "months": months, "capital": capital, "member_id": member_id,
                                         "chart": chart})


@routes.page("GET", "/members/{member_id}/payslips", roles=MEMBER_PAGES, member_param="member_id")
def payslips_page(request: Request, member_id: str, year: int | None = Query(default=None, ge=1900, le=9999),
                  caller: Caller = Depends(page_caller)) -> Response:
    year = year or site(request).today().year
    with site(request).reading() as conn:
        found = data.payslips(conn, caller, member_id, year)
    return render(request, "payslips.html", {"payslips": found, "year": year, "member_id": member_id})


@routes.page("GET", "/members/{member_id}/simulate", roles=MEMBER_PAGES, member_param="member_id")
def simulate_page(request: Request, member_id: str, month: str | None = Month, gross: str | None = None,
                  caller: Caller = Depends(page_caller)) -> Response:
    """The payroll rule on a requested gross, for the month's budget: nothing is posted."""
    month = month or this_month(request)
    result, error = None, None
    with site(request).reading() as conn:
        data.statement(conn, caller, member_id, month)  # the member is the caller's, and exists
        if gross:
            try:
                wanted: Decimal = parse_amount(gross.strip().replace(",", ".").replace(" ", ""))
                result = data.simulate(conn, caller, member_id, month, wanted, site(request).rules)
            except MoneyError:
                error = "Montant invalide : écrivez par exemple 1500,00."
    return render(request, "simulate.html", {"member_id": member_id, "month": month, "gross": gross or "",
                                             "result": result, "error": error})
