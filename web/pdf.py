"""A member's statement as a PDF (WeasyPrint): the same page, laid out for A4.

WeasyPrint is an extra (`pip install 'cae-engine[pdf]'`, and Debian's pango
libraries); without it the PDF link says what to install.
"""

from __future__ import annotations

from engine.statement import Statement
from web.data import Posting
from web.render import templates


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the system libraries it needs) is not installed: the page answers 503 (`web.app`)."""


def html_to_pdf(html: str) -> bytes:
    """A printable HTML document as a PDF (the statement, the minutes of an assembly)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # the package, or the system's pango libraries
        raise PdfUnavailable("the PDF needs WeasyPrint: pip install 'cae-engine[pdf]' "
                             f"(and Debian's libpango-1.0-0 libpangoft2-1.0-0): {exc}") from None
    result: bytes = HTML(string=html).write_pdf()
    return result


def statement_pdf(found: Statement, postings: list[Posting], name: str) -> bytes:
    return html_to_pdf(templates.get_template("statement_print.html").render(s=found, postings=postings, name=name))
