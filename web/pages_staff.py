"""The staff's pages: the month at a glance, entering events, dead letters, payroll, reconciliation,
the close, downloads and the run log. Every action runs the ledger's own functions, recorded with
who did it (the run records, and the audit log).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, func, select

from engine.payroll_export import variables
from engine.messages import text_of
from engine.periods import last_day, parse_month
from engine.schedule import RECONCILE
from engine.spreadsheet import payroll_csv, reconciliation_csv
from ledger import deadletters, monthly, schema
from ledger.closing import CloseRefused, check_close, check_ended, plan_close
from ledger.corrections import RERUN_JOB, CorrectionError, rerun
from ledger.db import revision
from ledger.fec import FecError, export_fec
from ledger.payroll_run import PayrollError, payroll
from ledger.payslips import current as current_payslips
from ledger.runs import MANUAL, by_hand, list_runs, run_job
from streams import redelivery
from web import accounts, data, intake
from web.access import BOOKS, Caller
from web.downloads import attachment
from web.events_form import FORMS, EventForm, event_from, new_event_id
from web.inputs import Form, RowId, Text
from web.months import GivenMonth, Month, month_in_window
from web.pdf import pdf_problem
from web.render import render
from web.routing import Routes, Site, checked_form, page_caller, site

routes = Routes()
_SAID = {intake.PROCESSED: "Enregistré.",
         intake.DUPLICATE: "Déjà enregistré (même formulaire envoyé deux fois) : rien de plus.",
         intake.PUBLISHED: "Envoyé aux workers (Kafka) : il sera traité dans l'ordre du flux."}


class Dismissal(Form):
    reason: Text = ""


class MonthForm(Form):
    month: Text = ""


class Rerun(Form):
    month: Text = ""
    member_id: Text = ""
    reason: Text = ""


class Closing(Form):
    month: Text = ""
    confirm: Text = ""
    without_payroll: Text = ""


def _month(request: Request, month: str | None) -> str:
    return month or site(request).today().strftime("%Y-%m")


@routes.page("GET", "/staff", roles=BOOKS)
def month_page(request: Request, month: str | None = Month, caller: Caller = Depends(page_caller)) -> Response:
    """The month at a glance: events in, dead letters, payroll, the last reconciliation, what blocks the close."""
    month = _month(request, month)
    e = schema.entries
    with site(request).reading() as conn:
        events = data.events_of_month(conn, caller, month)
        posted = conn.scalar(select(func.count()).select_from(e).where(
            e.c.entry_date.between(parse_month(month), last_day(month)))) or 0
        letters = deadletters.listed(conn)
        slips = conn.scalar(select(func.count()).select_from(schema.payslips)
                            .where(schema.payslips.c.month == month)) or 0  # one per member paid; revisions aside
        plan = plan_close(conn, month)
        runs = list_runs(conn, month, None, 20)
        # Salariés past the legal term to become associates (L7331-3), as of today (issue 15, point 4).
        overdue = [v for v in data.register(conn, caller, site(request).today(), site(request).governance)
                   if v.deadline_passed]
    blocking = []
    try:
        check_close(plan, site(request).today())
    except CloseRefused as exc:
        blocking.append(exc.message.text("fr"))
    last_reconcile = next((r for r in runs if r.job == "reconcile"), None)
    return render(request, "staff_month.html", {
        "month": month, "events": events, "posted": posted, "letters": letters[:10], "pending": len(letters),
        "payslips": slips, "unpaid": plan.unpaid.get(month, []), "plan": plan, "blocking": blocking,
        "reconcile": last_reconcile, "runs": runs, "overdue": overdue})


@routes.page("GET", "/staff/events/new", roles=BOOKS)
def event_form(request: Request, type: str = Query(default="invoice.issued"),
               caller: Caller = Depends(page_caller)) -> Response:
    form = FORMS.get(type) or FORMS["invoice.issued"]
    return render(request, "event_form.html", {"form": form, "forms": FORMS.values(), "event_id": new_event_id(),
                                               "values": {}, "outcome": None})


@routes.page("POST", "/staff/events", roles=BOOKS, form=EventForm)
async def enter_event(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """An event from a form, through the same validators and `process` as `cae ingest` (or to Kafka)."""
    fields = await checked_form(request)
    form = FORMS[fields["type"]]
    raw = event_from(form.type, fields)
    taken = intake.take_audited(site(request), caller, raw, "event.enter")
    ok = taken.outcome != intake.DEAD_LETTER
    outcome_text = _SAID[taken.outcome] if ok else f"Refusé : {taken.reason_in('fr')}"
    return render(request, "event_form.html", {
        "form": form, "forms": FORMS.values(), "event_id": fields.get("event_id") if not ok else new_event_id(),
        "values": fields if not ok else {}, "outcome": (ok, outcome_text)}, 200 if ok else 422)


@routes.page("GET", "/staff/deadletters", roles=BOOKS)
def dead_letters_page(request: Request, all: bool = False, caller: Caller = Depends(page_caller)) -> Response:
    with site(request).reading() as conn:
        letters = deadletters.listed(conn, include_settled=all)
    return render(request, "deadletters.html", {"letters": letters, "all": all})


@routes.page("POST", "/staff/deadletters/{letter_id}/dismiss", roles=BOOKS, form=Dismissal)
async def dismiss(request: Request, letter_id: RowId, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    try:
        with site(request).engine.begin() as conn:
            deadletters.dismiss(conn, letter_id, form.get("reason", ""), caller.label)
            accounts.audit(conn, caller.label, "deadletter.dismiss", f"#{letter_id}: {form.get('reason', '')}")
    except deadletters.NotPending as exc:
        return render(request, "error.html", {"status": 422, "message": text_of(exc, "fr")}, 422)
    return RedirectResponse("/staff/deadletters", status_code=303)


@routes.page("POST", "/staff/deadletters/replay", roles=BOOKS)
async def replay(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    await checked_form(request)
    here = site(request)
    with here.reading() as conn:
        letters = deadletters.listed(conn)
    redelivery.replay(here.engine, letters, here.rules, caller.label)
    with here.engine.begin() as conn:
        accounts.audit(conn, caller.label, "deadletter.replay", f"{len(letters)} pending replayed")
    return RedirectResponse("/staff/deadletters", status_code=303)


@routes.page("GET", "/staff/payroll", roles=BOOKS)
def payroll_page(request: Request, month: str | None = Month, caller: Caller = Depends(page_caller)) -> Response:
    """The month's payslips, and a preview of what running it would pay (computed, then rolled back)."""
    month = _month(request, month)
    here = site(request)
    preview, error = None, None
    with here.reading() as conn:
        paid = [found.slip for _, found in sorted(current_payslips(conn, month).items())]
        names = _names(conn)
    with here.engine.connect() as conn:
        trans = conn.begin()
        try:
            preview = payroll(conn, month, here.rules, here.today())
        except PayrollError as exc:
            error = text_of(exc, "fr")
        finally:
            trans.rollback()  # a preview: what the run would post, posted nowhere
    return render(request, "payroll.html", {"month": month, "paid": paid, "preview": preview, "error": error,
                                            "names": names})


def _names(conn: Connection) -> dict[str, str]:
    """Each member's name by id: the payroll's page and its variables name whom they pay."""
    m = schema.members
    return dict(conn.execute(select(m.c.member_id, m.c.name)).tuples().all())


async def _month_job(request: Request, run: Callable[[Site, str], object], back: str,
                     refusal: type[Exception] = ValueError) -> Response:
    """A month's job run from its page's button (the form's `month`), then back to the page;
    a malformed month or the job's refusal is a page saying why."""
    form = await checked_form(request)
    here = site(request)
    month = month_in_window(form.get("month", ""), here.today())  # else a 422 page in French
    try:
        run(here, month)
    except (ValueError, refusal) as exc:
        return render(request, "error.html", {"status": 422, "message": text_of(exc, "fr")}, 422)
    return RedirectResponse(f"{back}?month={month}", status_code=303)


@routes.page("POST", "/staff/payroll/run", roles=BOOKS, form=MonthForm)
async def run_payroll_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    return await _month_job(request, lambda here, month: by_hand(monthly.payroll(
        here.engine, month, here.rules, origin=MANUAL, started_by=caller.label, today=here.today())),
        "/staff/payroll", PayrollError)


@routes.page("POST", "/staff/payroll/rerun", roles=BOOKS, form=Rerun)
async def rerun_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    member_id, reason = form.get("member_id", ""), form.get("reason", "")
    here = site(request)
    month = month_in_window(form.get("month", ""), here.today())
    try:
        by_hand(run_job(here.engine, RERUN_JOB, month, rerun(month, member_id, reason, here.rules),
                        origin=MANUAL, started_by=caller.label, member_id=member_id))
    except (CorrectionError, ValueError) as exc:
        return render(request, "error.html", {"status": 422, "message": text_of(exc, "fr")}, 422)
    return RedirectResponse(f"/staff/payroll?month={month}", status_code=303)


@routes.page("GET", "/staff/reconcile", roles=BOOKS)
def reconcile_page(request: Request, month: str | None = Month, caller: Caller = Depends(page_caller)) -> Response:
    """The month's reconciliation as it stands, and the last one recorded; looking records nothing,
    the button does (issue 14, point 6)."""
    month = _month(request, month)
    here = site(request)
    report = monthly.reconciliation_read(here.engine, month, here.rules)
    with here.reading() as conn:
        recorded = next(iter(list_runs(conn, month, RECONCILE, 1)), None)
    return render(request, "reconcile.html", {"month": month, "report": report, "recorded": recorded,
                                              "zone": here.zone})


@routes.page("POST", "/staff/reconcile", roles=BOOKS, form=MonthForm)
async def run_reconcile_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """The reconciliation run on purpose, recorded in the run log with who (like `cae reconcile`)."""
    return await _month_job(request, lambda here, month: by_hand(monthly.reconciliation(
        here.engine, month, here.rules, origin=MANUAL, started_by=caller.label)), "/staff/reconcile")


@routes.page("GET", "/staff/reconcile.csv", roles=BOOKS)
def reconcile_csv(request: Request, month: str = GivenMonth,
                  caller: Caller = Depends(page_caller)) -> Response:
    here = site(request)
    out = io.StringIO()
    reconciliation_csv(monthly.reconciliation_read(here.engine, month, here.rules), out)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=attachment(f"rapprochement-{month}.csv"))


@routes.page("GET", "/staff/payroll/variables.csv", roles=BOOKS)
def variables_csv(request: Request, month: str = GivenMonth,
                  caller: Caller = Depends(page_caller)) -> Response:
    here = site(request)
    with here.reading() as conn:
        slips = [found.slip for found in current_payslips(conn, month).values()]
        names = _names(conn)
    out = io.StringIO()
    payroll_csv(variables(slips, names, here.rules.at(last_day(month))), out)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=attachment(f"variables-paie-{month}.csv"))


@routes.page("GET", "/staff/fec", roles=BOOKS)
def fec_download(request: Request, year: int = Query(ge=1900, le=9999), siren: str = Query(),
                 caller: Caller = Depends(page_caller)) -> Response:
    with tempfile.TemporaryDirectory() as folder:
        try:
            summary = export_fec(site(request).engine, year, siren, Path(folder))
        except FecError as exc:
            return render(request, "error.html", {"status": 422, "message": str(exc)}, 422)
        content = summary.path.read_bytes()
    return Response(content, media_type="text/plain; charset=iso-8859-15",
                    headers=attachment(summary.path.name))


@routes.page("GET", "/staff/close", roles=BOOKS)
def close_page(request: Request, month: str | None = Month, caller: Caller = Depends(page_caller)) -> Response:
    return render(request, "close.html", _close_view(request, month or _previous_month(request)))


def _close_view(request: Request, month: str) -> dict[str, Any]:
    """What the close page shows of a month: what it would lock, or why it cannot be closed."""
    here = site(request)
    problem, plan, unpaid_only = None, None, False
    try:
        check_ended(month, here.today())
        with here.reading() as conn:
            plan = plan_close(conn, month)
        check_close(plan, here.today())
    except CloseRefused as exc:
        problem = exc.message.text("fr")
        # Only members left unpaid: the page offers to close without the payroll (the CLI's option).
        unpaid_only = exc.message.code == "close.unpaid"
        plan = plan if unpaid_only else None
    return {"month": month, "plan": plan, "problem": problem, "without_payroll": unpaid_only, "typed": {}}


@routes.page("POST", "/staff/close", roles=BOOKS, form=Closing)
async def close(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    form = await checked_form(request)
    month = form.get("month", "")
    here = site(request)
    month_in_window(month, here.today())
    if form.get("confirm") != month:  # the form again, as it was typed, with what to fix (issue 15, point 7)
        return render(request, "close.html", {
            **_close_view(request, month), "typed": form,
            "refusal": f"Le mois retapé ne correspond pas : tapez exactement {month} pour confirmer la clôture."}, 422)
    try:
        by_hand(monthly.close(here.engine, month, here.rules, origin=MANUAL, started_by=caller.label,
                              today=here.today(), without_payroll=form.get("without_payroll") == "on"))
    except (CloseRefused, ValueError) as exc:
        return render(request, "error.html", {"status": 422, "message": text_of(exc, "fr")}, 422)
    return RedirectResponse(f"/staff?month={month}", status_code=303)


@routes.page("GET", "/staff/runs", roles=BOOKS)
def runs_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    with site(request).reading() as conn:
        runs = list_runs(conn, None, None, 200)
    return render(request, "runs.html", {"runs": runs, "zone": site(request).zone})


@routes.page("GET", "/staff/health", roles=BOOKS)
def health_page(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """What this server can and cannot do, and why: the PDF (WeasyPrint), where events go, the
    database and its schema (issue 15, point 5: the staff read here why members see no PDF link)."""
    here = site(request)
    with here.reading() as conn:
        pending = len(deadletters.listed(conn))
    return render(request, "health.html", {
        "pdf_problem": pdf_problem(), "kafka": here.publish is not None, "database": here.engine.dialect.name,
        "revision": revision(here.engine), "pending": pending})


def _previous_month(request: Request) -> str:
    first = site(request).today().replace(day=1)
    return f"{first.year - (first.month == 1):04d}-{(first.month - 2) % 12 + 1:02d}"
