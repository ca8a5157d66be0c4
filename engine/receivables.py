"""What clients still owe: the HT share of what is due (DOMAIN.md rule 12) and its age.

Pure. The budget on cash is the activity budget less what the member's
clients still owe excluding VAT: VAT collected is the State's, so the part of
an unpaid invoice that the member's budget is waiting for is its HT share.

Invoice events carry no due date: an invoice is due 30 days after it is
issued, the payment term the Code de commerce (L441-10) applies when none
was agreed, and "days overdue" count from then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from engine.money import ZERO, from_cents, to_cents

PAYMENT_TERM = timedelta(days=30)
BUCKETS = ("0-30", "31-60", "61-90", ">90")  # days overdue, the staff's usual ageing


def outstanding_ht(due_ttc: Decimal, net_ht: Decimal, net_ttc: Decimal) -> Decimal:
    """Rule 12: `round(due_ttc × net_ht / net_ttc)`, with what is due taken as ≥ 0 and 0 for a cancelled invoice.

    An overpaid invoice (due < 0) owes nothing; its excess is the client's
    credit (rule 9), not a negative receivable that would raise the budget.
    """
    return from_cents(outstanding_ht_cents(to_cents(due_ttc), to_cents(net_ht), to_cents(net_ttc)))


def outstanding_ht_cents(due_ttc: int, net_ht: int, net_ttc: int) -> int:
    """`outstanding_ht` in integer cents, rounded half away from zero as `Decimal`'s ROUND_HALF_UP.

    The one computation of rule 12's share: exact in integers, where a Decimal per invoice cost
    the statements of a large cooperative seconds (issue 18, point 4).
    """
    if net_ttc == 0 or due_ttc <= 0:
        return 0
    numerator, denominator = due_ttc * net_ht, net_ttc
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    whole, rest = divmod(abs(numerator), denominator)
    if 2 * rest >= denominator:
        whole += 1
    return whole if numerator >= 0 else -whole


@dataclass(frozen=True, slots=True)
class Receivable:
    """An invoice with something still due on a day, and how late it is."""

    invoice_id: str
    member_id: str
    client: str
    issued_on: date
    due_ttc: Decimal
    on: date

    @property
    def days_overdue(self) -> int:
        return max(0, (self.on - (self.issued_on + PAYMENT_TERM)).days)

    @property
    def bucket(self) -> str:
        days = self.days_overdue
        return BUCKETS[0] if days <= 30 else BUCKETS[1] if days <= 60 else BUCKETS[2] if days <= 90 else BUCKETS[3]


def by_bucket(receivables: list[Receivable]) -> dict[str, Decimal]:
    """What is due per ageing bucket, every bucket shown (0.00 where nothing is)."""
    totals = dict.fromkeys(BUCKETS, ZERO)
    for r in receivables:
        totals[r.bucket] += r.due_ttc
    return totals
