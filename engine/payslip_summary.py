"""A member's payslip summary (`cae payslip`), its figures read from the ledger.

What a member keeps: the month's gross, contributions, net and employer cost,
the year's cumulative gross and net (the "cumuls" of a French payslip), and
the corrections made to it with their reasons. The amounts are the sums of
the payslip's ledger lines (accounts 641, 645, 421), original entry,
reversals and corrections together, so they are what the books say was paid;
`agrees` tells whether they match the payslip as recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from engine import chart
from engine.money import ZERO, fmt
from engine.payroll import Payslip


@dataclass(frozen=True, slots=True)
class Revision:
    revision: int
    reason: str
    posted_on: date


@dataclass(frozen=True, slots=True)
class PayFigures:
    """Gross, employer contributions and net, from ledger sums (debit positive)."""

    gross: Decimal
    employer_contributions: Decimal
    net: Decimal

    @classmethod
    def of(cls, sums: Mapping[str, Decimal]) -> PayFigures:
        return cls(sums.get(chart.GROSS_PAY, ZERO), sums.get(chart.EMPLOYER_CONTRIBUTIONS, ZERO),
                   -sums.get(chart.NET_PAY_DUE, ZERO))

    @property
    def employee_contributions(self) -> Decimal:
        return self.gross - self.net

    @property
    def employer_cost(self) -> Decimal:
        return self.gross + self.employer_contributions


@dataclass(frozen=True, slots=True)
class PayslipSummary:
    member_id: str
    name: str
    month: str
    associate: bool
    recorded: Payslip
    month_figures: PayFigures
    year_figures: PayFigures
    revisions: tuple[Revision, ...]

    @property
    def agrees(self) -> bool:
        f, s = self.month_figures, self.recorded
        return (f.gross, f.employer_contributions, f.net) == (s.gross, s.employer_contributions, s.net)

    def to_json(self) -> dict[str, Any]:
        f, y, s = self.month_figures, self.year_figures, self.recorded
        return {"member_id": self.member_id, "name": self.name, "month": self.month,
                "contract": "CESA", "associate": self.associate,
                "requested_gross": fmt(s.requested_gross), "gross": fmt(f.gross),
                "employer_contributions": fmt(f.employer_contributions),
                "employee_contributions": fmt(f.employee_contributions), "net": fmt(f.net),
                "employer_cost": fmt(f.employer_cost), "capped": s.capped,
                "budget_before": fmt(s.budget_before),
                "year_to_date": {"gross": fmt(y.gross), "net": fmt(y.net),
                                 "employer_cost": fmt(y.employer_cost)},
                "revision": self.revisions[-1].revision if self.revisions else 0,
                "corrections": [{"revision": r.revision, "reason": r.reason,
                                 "posted_on": r.posted_on.isoformat()} for r in self.revisions],
                "ledger_agrees": self.agrees}
