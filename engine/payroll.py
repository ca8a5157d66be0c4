"""The monthly payroll of DOMAIN.md rule 6: from the activity budget to a salary.

Pure: the caller gives the member, their requested salaries and their budget
before this payroll; we return the payslip and its entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from engine import chart
from engine.config import Rates
from engine.keys import internal_key
from engine.money import CENT, ZERO, round_cents
from engine.periods import last_day
from engine.postings import Entry, Line
from engine.state import Member, Salary


@dataclass(frozen=True, slots=True)
class Payslip:
    member_id: str
    month: str
    requested_gross: Decimal
    gross: Decimal
    employer_contributions: Decimal
    employee_contributions: Decimal
    net: Decimal
    budget_before: Decimal
    capped: bool

    @property
    def employer_cost(self) -> Decimal:
        return self.gross + self.employer_contributions


def requested_gross(member: Member, month: str, salaries: Iterable[Salary]) -> Decimal | None:
    """The gross to pay in `month`, or None when the member is not to be paid.

    Paid (rule 6): under contract in the month, salaried (CESA) on its last day
    or, for a member who left during it, on the day they left, with a
    requested gross (the latest `salary.set` starting on or before the month;
    of two for the same month, the later event).
    """
    day = member.pay_day(month)
    if day is None or member.status_on(day) != "salarie":
        return None
    wanted = None
    for salary in salaries:
        if salary.from_month <= month and (wanted is None or salary.from_month >= wanted.from_month):
            wanted = salary
    return wanted.gross if wanted is not None else None


def employer_cost(gross: Decimal, rates: Rates) -> Decimal:
    return gross + round_cents(gross * rates.employer_contributions)


def affordable_gross(requested: Decimal, budget: Decimal, rates: Rates) -> Decimal:
    """The largest gross, in cents, up to `requested`, whose employer cost fits `budget`."""
    if employer_cost(requested, rates) <= budget:
        return requested
    if budget <= 0:
        return ZERO
    low, high = 0, int(requested / CENT)  # employer cost grows with gross: bisect on cents
    while low < high:
        mid = (low + high + 1) // 2
        if employer_cost(mid * CENT, rates) <= budget:
            low = mid
        else:
            high = mid - 1
    return (low * CENT).quantize(CENT)


def payslip(member_id: str, month: str, requested: Decimal, budget: Decimal, rates: Rates) -> Payslip:
    gross = affordable_gross(requested, budget, rates)
    net = round_cents(gross * (1 - rates.employee_contributions))
    return Payslip(member_id, month, requested, gross,
                   employer_contributions=round_cents(gross * rates.employer_contributions),
                   employee_contributions=gross - net, net=net, budget_before=budget,
                   capped=gross != requested)


def payroll_entry(slip: Payslip, name: str) -> Entry | None:
    """The PA journal entry of a payslip; None for a zero salary (nothing to post)."""
    if not slip.gross:
        return None
    m = slip.member_id
    lines = [Line(chart.GROSS_PAY, slip.gross, m),
             Line(chart.EMPLOYER_CONTRIBUTIONS, slip.employer_contributions, m),
             Line(chart.NET_PAY_DUE, -slip.net, m, m, name),
             Line(chart.SOCIAL_BODIES, -slip.employee_contributions, m),
             Line(chart.SOCIAL_BODIES, -slip.employer_contributions, m)]
    ref = f"PAIE-{slip.month}-{m}"
    day = last_day(slip.month)
    return Entry("PA", day, ref, day, f"Salaire {slip.month} {name}",
                 tuple(line for line in lines if line.amount), payslip_key(slip.month, m))


def payslip_key(month: str, member_id: str) -> str:
    """The key a member's payslip of the month is recorded under (`engine.keys`)."""
    return internal_key("payroll", month, member_id)
