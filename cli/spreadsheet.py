"""Cells a spreadsheet will open: text that starts like a formula stays text (issue 8).

A member named `=HYPERLINK("http://…", "clic")` must not become a live formula
in the staff's spreadsheet (CSV injection, OWASP). Text starting with `=`,
`+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote in
CSV, as OWASP advises; in XLSX it is written as a string cell, the quote
shown only as Excel's own "text" prefix. Amounts are numbers and stay so
(a negative amount is not text that starts with "-").
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from engine.money import fmt

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cells(values: Iterable[Any]) -> list[str]:
    """A row for `csv.writer`: amounts as `1234.50`, text made safe."""
    return [fmt(v) if isinstance(v, Decimal) else safe_text(str(v)) for v in values]


def xlsx_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl sheet: amounts as numbers, text as string cells, never formulas."""
    sheet.append(list(values))  # openpyxl writes a Decimal as a number, exactly
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if cell.value.startswith(FORMULA_STARTS):
                cell.quotePrefix = True
