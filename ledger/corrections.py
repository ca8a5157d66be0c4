"""`cae payroll rerun`: one member's payslip of a month computed again, and corrected in the ledger.

In one transaction (the caller's): the payslip is computed again from the
ledger as it stands (the member's requested gross, status and budget, with
the rates of the payslip's month), and when it pays differently, the
correction is posted under a new internal key (`engine.corrections.rerun_event_id`):
the reversal of the current payslip's entry (`entries.reverses` points at it)
and the new payslip's entry; a `payslip_revisions` row records it with the
reason. Nothing already posted or recorded changes (see `engine.corrections`).

The budget the new payslip may spend is the one any payroll of the month
sees (`ledger.payroll_run.budgets_before_payroll`): the member's activity
budget as the ledger shows it now on the day the correction posts (the
month's end, or the first open day when the month is closed, so with the
documents of the month posted there since), with every other month's
payroll, but none of this payslip's own entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Connection, insert, select

from engine.config import Rules
from engine.messages import Message
from engine.corrections import corrected_entry, rerun_event_id, reversal, same_pay
from engine.messages import Refused
from engine.money import ZERO, from_cents, to_cents
from engine.payroll import Payslip, payslip, requested_gross
from engine.periods import last_day, posting_date
from engine.postings import Entry, Line
from ledger import schema
from ledger.members import unknown_member
from ledger.book_store import locked_through
from ledger.locks import lock_books
from ledger.payroll_run import members_on, payroll_budgets, salaries_by_member
from ledger.payslips import Recorded, history
from ledger.posting import post
from ledger.runs import Done


RERUN_JOB = "payroll-rerun"  # its run records' job


class CorrectionError(Refused):
    """A correction that cannot be made, with what to do instead, in the catalogue's words."""


@dataclass(frozen=True, slots=True)
class Correction:
    before: Recorded
    after: Payslip
    revision: int
    entries: tuple[Entry, ...]


def rerun_payslip(conn: Connection, month: str, member_id: str, reason: str, rules: Rules) -> Correction:
    reason = " ".join(reason.split())
    if not reason:
        raise CorrectionError("correction.no_reason")
    lock_books(conn)
    versions = history(conn, month, [member_id]).get(member_id)
    if not versions:
        raise CorrectionError("correction.no_payslip", member=member_id, month=month)
    now, end = versions[-1], last_day(month)
    member = next((m for m in members_on(conn, month) if m.member_id == member_id), None)
    if member is None:
        raise CorrectionError(unknown_member(conn, member_id).message)
    requested = requested_gross(member, month, salaries_by_member(conn).get(member_id, [])) or ZERO
    slip = payslip(member_id, month, requested, payroll_budgets(conn, month, [member_id], rules)[member_id],
                   rules.at(end))
    if same_pay(slip, now.slip):
        raise CorrectionError("correction.same_pay", member=member_id, month=month, gross=now.slip.gross)
    revision = now.revision + 1
    on = posting_date(end, locked_through(conn))
    event_id = rerun_event_id(month, member_id, revision)
    entries: list[Entry] = []
    previous = _payslip_entry(conn, now.event_id)
    if previous is not None:
        entries.append(reversal(previous[1], previous[0], on, event_id))
    new = corrected_entry(slip, member.name, revision, on)
    if new is not None:
        entries.append(new)
    moment = datetime.now(timezone.utc)
    conn.execute(insert(schema.processed_events), {
        "event_id": event_id, "fingerprint": "-" * 64, "type": "payroll.rerun",
        "entry_count": len(entries), "source": "cae payroll rerun", "processed_at": moment})
    conn.execute(insert(schema.payslip_revisions), {
        "month": month, "member_id": member_id, "revision": revision,
        "requested_gross": to_cents(slip.requested_gross), "gross": to_cents(slip.gross),
        "employer_contributions": to_cents(slip.employer_contributions),
        "employee_contributions": to_cents(slip.employee_contributions), "net": to_cents(slip.net),
        "budget_before": to_cents(slip.budget_before), "capped": slip.capped, "reason": reason,
        "posted_on": on, "event_id": event_id})
    post(conn, [(entry, part) for part, entry in enumerate(entries)], moment)
    return Correction(now, slip, revision, tuple(entries))


def _payslip_entry(conn: Connection, event_id: str) -> tuple[int, Entry] | None:
    """The payslip entry an event posted (not a reversal), with its id; None for a zero salary."""
    e, lines = schema.entries, schema.lines
    row = conn.execute(select(e).where(e.c.event_id == event_id, e.c.reverses.is_(None))).first()
    if row is None:
        return None
    found = tuple(Line(r.account, from_cents(r.amount), r.member_id, r.aux_id, r.aux_label)
                  for r in conn.execute(select(lines).where(lines.c.entry_id == row.id).order_by(lines.c.id)))
    return row.id, Entry(row.journal, row.entry_date, row.piece_ref, row.piece_date, row.label, found,
                         row.event_id)


def rerun(month: str, member_id: str, reason: str, rules: Rules) -> Callable[[Connection], Done[Correction]]:
    """The rerun as a job of the run log (`ledger.runs.run_job`), the same from the CLI and the staff's
    page: its record says who, which revision and the gross before and after, in the catalogue's words."""
    def work(conn: Connection) -> Done[Correction]:
        fixed = rerun_payslip(conn, month, member_id, reason, rules)
        return Done(Message.of("run.rerun", member=member_id, revision=fixed.revision, before=fixed.before.slip.gross,
                               after=fixed.after.gross, reason=" ".join(reason.split())), fixed)
    return work
