"""`cae payroll rerun MEMBER --month M --reason TEXT`: correct one member's payslip after the run.

See `ledger.corrections`: a reversing entry and the payslip computed again,
posted in the payslip's month, or in the first open month when that one is
closed; recorded in `cae runs` with the reason.
"""

from __future__ import annotations

import click

from cli.common import console, db_options, emit_json, json_option, month_option, open_db, rules_from, user_errors
from cli.payroll import payslip_json
from engine.money import fmt
from ledger.corrections import RERUN_JOB as JOB, rerun
from ledger.runs import MANUAL, by_hand, operator, run_job


@click.command("rerun")
@click.argument("member_id")
@month_option
@click.option("--reason", required=True, help="Why the payslip is corrected (kept with the correction).")
@db_options
@json_option
@user_errors
def rerun_command(member_id: str, month: str, reason: str, db_url: str | None, config_path: str | None,
                  as_json: bool) -> None:
    """Correct a member's payslip of a month: reversing entry, then the payslip computed again."""
    _, fixed = by_hand(run_job(open_db(db_url), JOB, month, rerun(month, member_id, reason, rules_from(config_path)),
                               origin=MANUAL, started_by=operator(), member_id=member_id))
    posted_on = fixed.entries[0].date.isoformat() if fixed.entries else None
    if as_json:
        emit_json({"member_id": member_id, "month": month, "revision": fixed.revision,
                   "reason": " ".join(reason.split()), "posted_on": posted_on,
                   "before": payslip_json(fixed.before.slip), "after": payslip_json(fixed.after),
                   "entries": [{"journal": e.journal, "date": e.date.isoformat(), "piece_ref": e.piece_ref,
                                "label": e.label, "reverses": e.reverses} for e in fixed.entries]})
        return
    before, after = fixed.before.slip, fixed.after
    console.print(f"{member_id} {month}: payslip corrected (revision {fixed.revision}), posted on {posted_on}.")
    for label, old, new in (("Gross", before.gross, after.gross), ("Net", before.net, after.net),
                            ("Employer cost", before.employer_cost, after.employer_cost)):
        console.print(f"  {label:<14} {fmt(old):>12} -> {fmt(new):>12}", highlight=False)
