"""The payroll variables a CAE sends its payroll provider each month (`cae payroll export`).

The cooperative computes the salary from the activity budget (rule 6); a
payroll firm then makes the legal payslip and the social declarations (DSN).
What it asks for, per employee: the gross to pay, the net and employer cost
we expect (to check theirs), the contract type and the hours basis.

Hours basis: a CESA is paid at least the SMIC per hour worked, so CAEs set
the contract's hours from the salary: gross ÷ the hourly SMIC, rounded to the
cent of an hour, at most full time (151.67 h a month, 35 h a week). Without
`smic_hourly` in the rates, the basis is full time. The hourly SMIC is a
dated rate like the others, since it changes every year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from engine.config import Rates
from engine.money import ZERO, fmt, round_cents
from engine.payroll import Payslip

CONTRACT = "CESA"  # contrat d'entrepreneur salarié associé: a permanent (CDI) employment contract
HEADERS = ("member_id", "name", "month", "contract_type", "hours_basis", "requested_gross", "gross",
           "net", "employer_cost", "capped")


def hours_basis(gross: Decimal, rates: Rates) -> Decimal:
    if rates.smic_hourly is None:
        return rates.full_time_hours
    if gross <= 0:
        return ZERO
    return min(rates.full_time_hours, round_cents(gross / rates.smic_hourly))


@dataclass(frozen=True, slots=True)
class Variables:
    """One employee's line of the export."""

    member_id: str
    name: str
    slip: Payslip
    hours: Decimal

    def cells(self) -> tuple[str | Decimal, ...]:
        """The line's values; amounts stay Decimal, for a spreadsheet to keep them numbers."""
        s = self.slip
        return (self.member_id, self.name, s.month, CONTRACT, self.hours, s.requested_gross, s.gross,
                s.net, s.employer_cost, "yes" if s.capped else "no")

    def text(self) -> tuple[str, ...]:
        return tuple(fmt(c) if isinstance(c, Decimal) else c for c in self.cells())


def variables(slips: Sequence[Payslip], names: dict[str, str], rates: Rates) -> list[Variables]:
    return [Variables(s.member_id, names.get(s.member_id, ""), s, hours_basis(s.gross, rates))
            for s in sorted(slips, key=lambda s: s.member_id)]
