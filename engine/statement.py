"""A member's statement ("état des comptes", Code du travail L7332-3), from ledger sums.

Every figure is a sum of ledger lines: the statement is computed from the
books, never kept beside them. `AccountSums` are the member's per-account
movements (debit positive) in the month and up to its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine import chart
from engine.money import ZERO, fmt


@dataclass(frozen=True, slots=True)
class PayrollFigures:
    gross: Decimal
    employer_contributions: Decimal
    employee_contributions: Decimal
    net: Decimal
    capped: bool

    @property
    def employer_cost(self) -> Decimal:
        return self.gross + self.employer_contributions


@dataclass(frozen=True, slots=True)
class Statement:
    member_id: str
    month: str
    revenue_ht: Decimal
    vat_collected: Decimal
    direct_costs_ht: Decimal
    other_expenses_ht: Decimal
    contribution: Decimal
    societariat: Decimal
    payroll: PayrollFigures | None
    budget_closing: Decimal
    capital_total: Decimal
    receivables_ht: Decimal = ZERO  # rule 12: what clients still owe excluding VAT at the month's end

    @property
    def cash_budget_closing(self) -> Decimal:
        """Rule 12: the activity budget less what clients still owe excluding VAT, at the month's end."""
        return self.budget_closing - self.receivables_ht

    def to_json(self) -> dict[str, Any]:
        """The contract's statement JSON (CONTRACT.md §3): amounts as 2-decimal strings."""
        payroll = None
        if self.payroll is not None:
            p = self.payroll
            payroll = {"gross": fmt(p.gross), "employer_contributions": fmt(p.employer_contributions),
                       "employee_contributions": fmt(p.employee_contributions), "net": fmt(p.net),
                       "employer_cost": fmt(p.employer_cost), "capped": p.capped}
        return {"member_id": self.member_id, "month": self.month,
                "revenue_ht": fmt(self.revenue_ht), "vat_collected": fmt(self.vat_collected),
                "direct_costs_ht": fmt(self.direct_costs_ht),
                "other_expenses_ht": fmt(self.other_expenses_ht),
                "contribution": fmt(self.contribution), "societariat": fmt(self.societariat),
                "payroll": payroll, "budget_closing": fmt(self.budget_closing),
                "capital_total": fmt(self.capital_total),
                "cash_budget_closing": fmt(self.cash_budget_closing), "receivables_ht": fmt(self.receivables_ht)}


# The accounts a statement reads up to the month's end: its budget's (rule 5), the capital among them.
BUDGET_ACCOUNTS = frozenset({chart.REVENUE, chart.CONTRIBUTION, chart.CAPITAL, chart.DIRECT_COSTS,
                             chart.OTHER_EXPENSES, chart.GROSS_PAY, chart.EMPLOYER_CONTRIBUTIONS})


def budget(to_date: Mapping[str, Decimal]) -> Decimal:
    """Rule 5: revenue − contributions − sociétariat − expenses − employer cost, all so far.

    Movements are debit-positive, so revenue and capital (credits) come in negative.
    """
    def s(account: str) -> Decimal:
        return to_date.get(account, ZERO)
    return (-s(chart.REVENUE) - s(chart.CONTRIBUTION) + s(chart.CAPITAL) - s(chart.DIRECT_COSTS)
            - s(chart.OTHER_EXPENSES) - s(chart.GROSS_PAY) - s(chart.EMPLOYER_CONTRIBUTIONS))


def statement(member_id: str, month: str, in_month: Mapping[str, Decimal],
              to_date: Mapping[str, Decimal], capped: bool | None, receivables_ht: Decimal) -> Statement:
    """`capped` is None when no payroll ran for the member and month; `receivables_ht` as at its last day."""
    def s(account: str) -> Decimal:
        return in_month.get(account, ZERO)
    payroll = None
    if capped is not None:
        gross, net = s(chart.GROSS_PAY), -s(chart.NET_PAY_DUE)
        payroll = PayrollFigures(gross, s(chart.EMPLOYER_CONTRIBUTIONS), gross - net, net, capped)
    return Statement(member_id, month, revenue_ht=-s(chart.REVENUE),
                     vat_collected=-s(chart.VAT_COLLECTED), direct_costs_ht=s(chart.DIRECT_COSTS),
                     other_expenses_ht=s(chart.OTHER_EXPENSES), contribution=s(chart.CONTRIBUTION),
                     societariat=-s(chart.CAPITAL), payroll=payroll, budget_closing=budget(to_date),
                     capital_total=-to_date.get(chart.CAPITAL, ZERO), receivables_ht=receivables_ht)
