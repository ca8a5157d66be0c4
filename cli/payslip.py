"""`cae payslip MEMBER --month M`: a member's payslip summary, as text, JSON or an HTML page to keep.

The figures are the ledger's (see `engine.payslip_summary`); the HTML page is
self-contained (no external style or script) so that a member can save,
mail or print it (to PDF from any browser).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click
from jinja2 import Environment, PackageLoader, select_autoescape
from rich.table import Table

from cli.common import console, db_options, emit_json, json_option, month_option, open_db, user_errors
from engine.french import day_label, euros, month_label
from engine.money import fmt
from engine.payslip_summary import PayslipSummary
from ledger.payslips import payslip_summary

_ENV = Environment(loader=PackageLoader("cli", "templates"), autoescape=select_autoescape(["html"]))
# The page is the member's, in French: amounts as « 1 099,47 € » and dates as « 3 octobre 2026 » (issue 15).
_ENV.filters.update(euros=lambda text: euros(Decimal(text)), day=day_label)


def render_html(summary: PayslipSummary) -> str:
    return _ENV.get_template("payslip.html").render(s=summary, j=summary.to_json(),
                                                   month_label=month_label(summary.month))


@click.command("payslip")
@click.argument("member_id")
@month_option
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the summary as an HTML page the member can keep (and print to PDF).")
@db_options
@json_option
@user_errors
def payslip_command(member_id: str, month: str, html_path: Path | None, db_url: str | None,
                    config_path: str | None, as_json: bool) -> None:
    """A member's payslip summary for a month, figures from the ledger."""
    with open_db(db_url).connect() as conn:
        summary = payslip_summary(conn, month, member_id)
    if html_path is not None:
        html_path.write_text(render_html(summary), encoding="utf-8")
    if as_json:
        emit_json(summary.to_json())
        return
    console.print(_table(summary))
    for r in summary.revisions:
        console.print(f"Correction {r.revision} (posted {r.posted_on}): {r.reason}", highlight=False)
    if not summary.agrees:
        console.print("[red]The ledger's figures differ from the recorded payslip.[/]")


def _table(s: PayslipSummary) -> Table:
    f, y = s.month_figures, s.year_figures
    table = Table(title=f"Payslip {s.member_id} {s.name} — {s.month}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for label, value in (("Requested gross", s.recorded.requested_gross),
                         ("Gross" + (" (capped)" if s.recorded.capped else ""), f.gross),
                         ("Employee contributions", f.employee_contributions), ("Net", f.net),
                         ("Employer contributions", f.employer_contributions),
                         ("Employer cost", f.employer_cost), ("Budget before payroll", s.recorded.budget_before),
                         (f"Gross {s.month[:4]} to date", y.gross), (f"Net {s.month[:4]} to date", y.net)):
        table.add_row(label, fmt(value))
    return table
