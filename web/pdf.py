"""A member's statement as a PDF (WeasyPrint): the same page, laid out for A4.

WeasyPrint is an extra (`pip install 'cae-engine[pdf]'`, and Debian's pango
libraries). Whether it can draw is known once per process (`pdf_problem`):
without it a page offers no PDF link, a PDF asked for anyway is a 503 that
tells a member only that it is not available, and the staff read why on
their health page (issue 15, point 5: never a developer's message to a member).
"""

from __future__ import annotations

from functools import cache

from engine.messages import Message, Refused
from engine.statement import Statement
from web.data import Posting
from web.render import templates


class PdfUnavailable(Refused):
    """WeasyPrint (or the system libraries it needs) cannot draw: the page answers 503 (`web.app`)."""


def _draw(html: str) -> bytes:
    try:
        from weasyprint import HTML
        result: bytes = HTML(string=html).write_pdf()
    except (ImportError, OSError) as exc:  # the package, or the system's pango libraries
        raise PdfUnavailable("pdf.unavailable", detail=f"{type(exc).__name__}: {exc}") from None
    return result


@cache
def pdf_problem() -> Message | None:
    """Why no PDF can be made on this server, or None when WeasyPrint draws one (tried once, on a
    page of one word: an import that succeeds can still fail at the first drawing without pango)."""
    try:
        _draw("<p>PDF</p>")
    except PdfUnavailable as exc:
        return exc.message
    return None


def html_to_pdf(html: str) -> bytes:
    """A printable HTML document as a PDF (the statement, the minutes of an assembly)."""
    problem = pdf_problem()
    if problem is not None:
        raise PdfUnavailable(problem)
    return _draw(html)


def statement_pdf(found: Statement, postings: list[Posting], name: str) -> bytes:
    return html_to_pdf(templates.get_template("statement_print.html").render(s=found, postings=postings, name=name))
