"""Correcting a payslip after its run: a reversing entry, then the new payslip's entry.

DOMAIN.md: entries are never updated or deleted, a correction is a reversing
entry. A payroll line found wrong (a late `salary.set`, a status change, a
rate fixed in the configuration, a late invoice that lifts a capped salary)
is corrected by cancelling the payslip's entry line for line, and posting
the payslip computed again. Both are dated on the payslip's own month end,
or, when that month is closed, on the first day of the first open month
(rule 7): "a locked month cannot be changed, only corrected in the next open
one". The piece date stays the payslip's, so the correction is found with it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from engine.keys import internal_key
from engine.payroll import Payslip, payroll_entry
from engine.postings import Entry, Line


def rerun_event_id(month: str, member_id: str, revision: int) -> str:
    """The idempotency key of a correction: one set of entries per revision (`engine.keys`)."""
    return internal_key("payroll-rerun", month, member_id, str(revision))


def reversal(original: Entry, original_id: int, on: date, event_id: str) -> Entry:
    """The entry that cancels `original` (posted with id `original_id`) line for line."""
    lines = tuple(Line(line.account, -line.amount, line.member_id, line.aux_id, line.aux_label)
                  for line in original.lines)
    return Entry(original.journal, on, original.piece_ref, original.piece_date,
                 f"Annulation {original.label}", lines, event_id, reverses=original_id)


def corrected_entry(slip: Payslip, name: str, revision: int, on: date) -> Entry | None:
    """The corrected payslip's entry (None for a zero salary), as the payroll would post it."""
    entry = payroll_entry(slip, name)
    if entry is None:
        return None
    return replace(entry, date=on, piece_ref=f"{entry.piece_ref}-R{revision}",
                   label=f"{entry.label} (rectificatif {revision})",
                   event_id=rerun_event_id(slip.month, slip.member_id, revision))


def same_pay(a: Payslip, b: Payslip) -> bool:
    """Whether two payslips pay the same: nothing to correct between them."""
    return (a.requested_gross, a.gross, a.employer_contributions, a.employee_contributions, a.net,
            a.capped) == (b.requested_gross, b.gross, b.employer_contributions,
                          b.employee_contributions, b.net, b.capped)
