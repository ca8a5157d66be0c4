"""Tables that never cut a figure, at any terminal width (issue 8).

Figures are never wrapped nor truncated (`figures`: right-aligned, no wrap);
text columns may fold. When even that does not fit the terminal, a table that
has a narrow layout (one small table per row, label and value) is shown in
it instead: a staff member on an 80-column terminal reads `3267.00`, not `32…`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from rich.cells import cell_len
from rich.console import RenderableType
from rich.table import Table

from cli.common import console


def figures(table: Table, *headers: str) -> None:
    """Columns of amounts, counts and dates: right-aligned, never wrapped."""
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)


def texts(table: Table, *headers: str) -> None:
    """Columns of words: they fold when space runs out."""
    for header in headers:
        table.add_column(header, overflow="fold")


FOLDED = 12  # the width a folding column may be squeezed to before the table is too narrow


def needed_width(table: Table) -> int:
    """The width `table` needs with every figure whole and its text columns folded to `FOLDED`."""
    return columns_width([(str(column.header), [str(cell) for cell in column.cells], column.no_wrap)
                          for column in table.columns])


def columns_width(columns: Iterable[tuple[str, Iterable[str], bool]]) -> int:
    """`needed_width` of a table's columns, each its header, its cells and whether it never wraps."""
    total = 1  # the right border
    for header, cells, no_wrap in columns:
        natural = max([cell_len(header), *map(cell_len, cells)])
        total += (natural if no_wrap else min(natural, FOLDED)) + 3  # padding and the left border
    return total


def show(table: Table, narrow: Callable[[], Iterable[RenderableType]] | None = None) -> None:
    """Print `table`, or its narrow layout when the table would not fit the terminal."""
    if narrow is not None and needed_width(table) > console.width:
        for part in narrow():
            console.print(part)
        return
    console.print(table)


def records(title: str, rows: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> list[RenderableType]:
    """A narrow layout: the title, then for each row a small table of its labels and values."""
    tables: list[RenderableType] = [f"[bold]{title}[/]"]
    for heading, pairs in rows:
        block = Table(title=heading, show_header=False, min_width=min(40, cell_len(heading) + 4))
        block.add_column("", no_wrap=True)
        block.add_column("", justify="right", overflow="fold")  # a figure fits; a long text folds
        for label, value in pairs:
            block.add_row(label, value)
        tables.append(block)
    return tables
