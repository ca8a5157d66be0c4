"""Cells a spreadsheet will open: text that starts like a formula stays text (issue 8).

A member named `=HYPERLINK("http://…", "clic")` must not become a live formula
in the staff's spreadsheet (CSV injection, OWASP). Text starting with `=`,
`+`, `-`, `@`, their fullwidth forms (`＝`, which a Japanese input method
types and spreadsheets read as `=`; issue 14, point 9), or any white space
(a tab, a newline, a space, a no-break or an ideographic space: spreadsheets
skip it before a formula) is prefixed with a single quote in CSV, as OWASP
advises; in XLSX it is written as a string cell, the quote shown only as
Excel's own "text" prefix. Amounts are numbers and stay so (a negative
amount is not text that starts with "-").
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TextIO

from engine.money import fmt
from engine.payroll_export import HEADERS, Variables
from engine.reconciliation import Reconciliation

FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and their fullwidth forms


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) or text[:1].isspace()


def safe_text(text: str) -> str:
    return "'" + text if looks_like_formula(text) else text


def csv_cells(values: Iterable[Any]) -> list[str]:
    """A row for `csv.writer`: amounts as `1234.50`, text made safe."""
    return [fmt(v) if isinstance(v, Decimal) else safe_text(str(v)) for v in values]


def xlsx_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl sheet: amounts as numbers, text as string cells, never formulas."""
    sheet.append(list(values))  # openpyxl writes a Decimal as a number, exactly
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if looks_like_formula(cell.value):
                cell.quotePrefix = True


def payroll_csv(rows: Iterable[Variables], out: TextIO) -> None:
    """The payroll variables (`cae payroll export`, the staff's download): a header line, then a member a line."""
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(csv_cells(row.cells()) for row in rows)


RECONCILED = ("budget_before", "revenue_ht", "vat_collected", "direct_costs_ht", "other_expenses_ht",
              "contribution", "societariat", "requested_gross", "gross", "net", "employer_cost", "budget_closing")


def reconciliation_csv(report: Reconciliation, out: TextIO) -> None:
    """The reconciliation's members and totals (`cae reconcile --csv`, the staff's download)."""
    writer = csv.writer(out)
    writer.writerow(("member_id",) + RECONCILED + ("capped",))
    for line in report.members:
        amounts = line.amounts()
        writer.writerow(csv_cells((line.statement.member_id, *(amounts[k] for k in RECONCILED),
                                   "yes" if line.payslip and line.payslip.capped else "")))
    writer.writerow(csv_cells(("TOTAL", *(report.totals[k] for k in RECONCILED), "")))
