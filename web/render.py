"""A page rendered with what every page's layout needs: the templates, their French filters,
the caller and the session's CSRF token.

Its own module so that the page modules and `web.app`, which includes their routes, do not
import each other (issue 14).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from engine.french import day_label, euros, local_time, month_label, number, percent
from web.routing import cookie_session
from web.words import said, sentence

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(euros=euros, number=number, month=month_label, day=day_label, local=local_time,
                             said=said, percent=percent, sentence=sentence)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page, with what every page's layout needs: the caller and the session's CSRF token."""
    session = cookie_session(request)
    return templates.TemplateResponse(request, name, {
        "caller": session.caller if session else None, "csrf": session.csrf if session else "", **context},
        status_code=status)
