"""`cae reconcile --month M`: the month's reconciliation, as a table, JSON or CSV."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console, ConsoleOptions, RenderableType
from rich.table import Table
from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text

from cli.tables import columns_width, figures, texts
from cli.common import console, db_options, emit_json, json_option, month_option, open_db, rules_from, user_errors
from engine.money import fmt
from engine.reconciliation import Check, MemberLine, Reconciliation
from engine.spreadsheet import RECONCILED, reconciliation_csv
from ledger import monthly
from ledger.runs import MANUAL, by_hand, operator

_ROW = RECONCILED
_HEADERS = ("Budget before", "Revenue HT", "VAT", "Direct", "Other", "Contrib.", "Sociét.", "Req. gross",
            "Gross", "Net", "Empl. cost", "Budget after")


@click.command("reconcile")
@month_option
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write one line per member, and the totals, to this CSV file.")
@click.option("--all", "show_all", is_flag=True,
              help="Show every member, not only those a check names or whose salary was capped.")
@db_options
@json_option
@user_errors
def reconcile_command(month: str, csv_path: Path | None, show_all: bool, db_url: str | None,
                      config_path: str | None, as_json: bool) -> None:
    """The staff's monthly reconciliation: checks, then members and totals (recorded in `cae runs`).

    The checks come first; then the members that need a look (a check names
    them, or their salary was capped), or with --all every member: one table
    when the terminal is wide enough, a few lines per member otherwise.
    """
    _, report = by_hand(monthly.reconciliation(open_db(db_url), month, rules_from(config_path),
                                               origin=MANUAL, started_by=operator()))
    if csv_path is not None:
        write_csv(report, csv_path)
    if as_json:
        emit_json(report.to_json())
        return
    for check in report.checks:
        console.print(f"{outcome_mark(check)}  {check.name}: {check.detail}", highlight=False)
    shown = list(report.members) if show_all else report.to_look_at()
    console.print(f"\n{len(shown)} of {len(report.members)} members shown"
                  + ("" if show_all else ": those a check names or whose salary was capped (--all for every one)"),
                  highlight=False)
    printed = _printed(report, shown)
    if members_width(shown, printed) > console.width:
        for part in _compact(report, shown, printed):
            console.print(part)
    else:
        console.print(_table(report, shown, printed))


def outcome_mark(check: Check) -> str:
    """A check's outcome word, coloured, as `cae reconcile` and `cae demo` print it."""
    colour = {"ok": "green", "attention": "yellow", "not_ok": "red"}[check.outcome]
    return f"[{colour}]{check.label}[/]"


def write_csv(report: Reconciliation, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        reconciliation_csv(report, handle)


Printed = tuple[list[list[str]], list[str]]  # each member's figures as printed, then the totals'


def _printed(report: Reconciliation, shown: list[MemberLine]) -> Printed:
    """The figures of the members shown and the totals, in `_ROW`'s order, formatted once for
    whichever layout prints them."""
    def row(amounts: Mapping[str, Decimal]) -> list[str]:
        return [fmt(amounts[key]) for key in _ROW]
    return [row(line.amounts()) for line in shown], row(report.totals)


def _capped(line: MemberLine) -> bool:
    return bool(line.payslip and line.payslip.capped)


def members_width(shown: list[MemberLine], printed: Printed) -> int:
    """The width `_table` needs (`cli.tables.needed_width`), from the figures as printed: whether
    it fits is known before it is built. Built, then found too wide for a pipe's 160 columns or a
    terminal's 80, its 10,000 rows were 0.1 s of the payroll year's `--all` (issue 18, point 4)."""
    rows, totals = printed
    return columns_width([("Member", [line.statement.member_id for line in shown] + ["Total"], False),
                          *((header, [row[n] for row in rows] + [totals[n]], True)
                            for n, header in enumerate(_HEADERS)),
                          ("Capped", ["yes" if _capped(line) else "" for line in shown] + [""], True)])


def _table(report: Reconciliation, shown: list[MemberLine], printed: Printed) -> Table:
    rows, totals = printed
    table = Table(title=f"Reconciliation {report.month}")
    texts(table, "Member")
    figures(table, *_HEADERS)
    table.add_column("Capped", no_wrap=True)
    for line, row in zip(shown, rows, strict=True):
        table.add_row(line.statement.member_id, *row, "yes" if _capped(line) else "")
    table.add_row("Total", *totals, "", style="bold")
    return table


def _compact(report: Reconciliation, shown: list[MemberLine], printed: Printed) -> list[RenderableType]:
    """Per member its name, then its figures as "label value" pairs in as many columns as fit: for
    terminals too narrow for the grid. A pair never breaks, so a label never wraps away from its figure."""
    width = console.width
    rows, totals = printed
    blocks = [(line.statement.member_id + (" (capped)" if _capped(line) else ""), pair_lines(_pairs(row), width, _GAP))
              for line, row in zip(shown, rows, strict=True)]
    blocks.append(("Total", pair_lines(_pairs(totals), width, _GAP)))
    title = Text(f"Reconciliation {report.month}", style="bold underline")
    if max(cell_len(text) for heading, lines in blocks for text in (heading, *lines)) <= width:
        return [title, _LaidOut(blocks)]
    return [title, *(Text.assemble((heading, "bold"), "\n" + "\n".join(lines)) for heading, lines in blocks)]


def _pairs(figures: list[str]) -> list[str]:
    return [f"{header} {figure}" for header, figure in zip(_HEADERS, figures, strict=True)]


@dataclass(frozen=True, slots=True)
class _LaidOut:
    """Blocks (a bold heading, then its lines) laid out to fit the terminal, printed as they are.

    As one rich `Text` each, they were each divided into lines and looked through again for where
    to wrap: 0.2 ms per member, 2 s for the 10,000 of the payroll year (issue 18, point 4). The
    same characters and styles, to the byte (tests/test_report_figures.py compares them).
    """

    blocks: list[tuple[str, list[str]]]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        bold, newline = console.get_style("bold"), Segment.line()
        for heading, lines in self.blocks:
            yield Segment(heading, bold)
            yield newline
            for line in lines:
                yield Segment(line)
                yield newline


_GAP = 3  # spaces between two pairs on a line


def pair_lines(cells: list[str], width: int, gap: int) -> list[str]:
    """The lines of `cells` in as many columns as fit `width`, each as wide as its widest cell.

    The layout of rich's `Columns(cells, padding=(0, gap))`, the same text to the space (tests/
    test_report_figures.py compares them), written out: laid out by rich, the narrow form of `cae
    reconcile --all` took 6 ms per member, a minute for 10,000 (issue 18, point 4).
    """
    sizes = [cell_len(cell) for cell in cells]
    count = _columns(tuple(sizes), width, gap)
    columns = [max(sizes[k::count]) for k in range(count)]
    return [(" " * gap).join(cells[n + k] + " " * (columns[k] - sizes[n + k]) if n + k < len(cells) else " " * columns[k]
                             for k in range(count)) for n in range(0, len(cells), count)]


@functools.lru_cache(maxsize=4096)
def _columns(sizes: tuple[int, ...], width: int, gap: int) -> int:
    """How many columns cells of these widths take: the members' figures are of a few widths, so
    most are laid out as one before them was (a tenth of a second on 10,000 members)."""
    count = len(sizes)
    while count > 1:  # the most columns whose widest cells fit, filling the rows left to right
        widest: dict[int, int] = {}
        for n, size in enumerate(sizes + (0,) * (-len(sizes) % count)):
            widest[n % count] = max(widest.get(n % count, 0), size)
            if sum(widest.values()) + gap * (len(widest) - 1) > width:
                count = len(widest) - 1
                break
        else:
            break
    return max(count, 1)
