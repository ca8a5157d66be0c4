"""Journal entries as immutable values: what the rules produce and the ledger stores.

A line's amount is signed, debit positive and credit negative (as in
django-hordak): an entry balances when its amounts sum to zero, which is one
check here and one SQL `SUM` in the database's own trigger.
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime as dt
from decimal import Decimal

from engine.money import ZERO


class UnbalancedEntry(ValueError):
    """An entry whose debits and credits differ, or with fewer than two lines."""


@dataclass(frozen=True, slots=True)
class Line:
    account: str
    amount: Decimal
    member_id: str | None = None
    aux_id: str | None = None
    aux_label: str | None = None

    @property
    def debit(self) -> Decimal:
        return self.amount if self.amount > 0 else ZERO

    @property
    def credit(self) -> Decimal:
        return -self.amount if self.amount < 0 else ZERO


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal entry; `piece_date` is the document's own date, `date` where it is posted.

    `reverses`: the id of the posted entry this one cancels (a correction is a
    reversing entry, never an update), None for any other entry.
    """

    journal: str
    date: dt.date
    piece_ref: str
    piece_date: dt.date
    label: str
    lines: tuple[Line, ...]
    event_id: str
    reverses: int | None = None

    def __post_init__(self) -> None:
        if len(self.lines) < 2:
            raise UnbalancedEntry(f"entry {self.piece_ref} has {len(self.lines)} line(s), needs 2")
        total = ZERO
        for line in self.lines:
            if not line.amount:
                raise UnbalancedEntry(f"entry {self.piece_ref} has a zero line")
            total += line.amount
        if total:
            raise UnbalancedEntry(f"entry {self.piece_ref} is off balance by {total}")


def pair(debit_account: str, credit_account: str, amount: Decimal, *, member_id: str,
         credit_member: str | None = None) -> tuple[Line, Line]:
    """Two lines moving `amount` (which may be negative: the reverse movement)."""
    return (Line(debit_account, amount, member_id),
            Line(credit_account, -amount, credit_member if credit_member is not None else member_id))
