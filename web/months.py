"""Months that come in URLs and forms: one parser, the events' own window (issue 14, point 3).

A URL's `month` used to pass a pattern (`0000-01` did) and fail further on:
year 0 has no first day, 9999-12 has no next month, a month before the rates
has none. Every route reads it through `Month` or `GivenMonth` here, which
take a month of the window that `engine.bounds` draws for events (from 2000-01
to December of the year after next, on the cooperative's today) and answer 422
for any other, in the caller's language (`web.app`).
"""

from __future__ import annotations

from datetime import date

from fastapi import Depends, Query, Request

from engine import bounds
from engine.messages import Refused
from web.routing import site

_HELP = "YYYY-MM, from 2000-01 to December of the year after next"


class BadMonth(Refused):
    """A month that is not one of the window: the API says which months are, a page which to choose."""

    def __init__(self, month: str, today: date) -> None:
        super().__init__("month.outside_window", month=month, first=f"{bounds.FIRST_DAY:%Y-%m}",
                         last=f"{bounds.last_day(today):%Y-%m}")


def month_in_window(month: str, today: date) -> str:
    """`month` if it is a month of the window on `today`, else `BadMonth`."""
    try:
        return bounds.check_month(month, today)
    except ValueError as exc:
        raise BadMonth(month, today) from None


async def _optional(request: Request, month: str | None = Query(default=None, description=_HELP)) -> str | None:
    return None if month is None else month_in_window(month, site(request).today())


async def _given(request: Request, month: str = Query(description=_HELP)) -> str:
    return month_in_window(month, site(request).today())


Month = Depends(_optional)  # the page's month, or None for its default
GivenMonth = Depends(_given)  # a month the route cannot do without
