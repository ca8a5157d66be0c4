"""The staff's treasury pages (issue 16, point 7; DOMAIN.md rules 10–13): the month's bank lines with
their candidates and a one-click assignment (or a split), a statement imported by upload, the month's
transfers file, and what clients owe.

Nothing is computed twice: the lines and their candidates are `ledger.treasury.bank_lines` (`cae bank
lines`), an upload goes through `streams.bank_files` like `cae bank import` (refused whole, nothing
recorded, the reason from the catalogue in French), an assignment is a `bank.line_assigned` event
saying who made it, checked the same way and taken by `web.intake` like the API's events, the
transfers file is `treasury.month_transfers` (the bytes of `cae payroll transfers`), and the
receivables are `ledger.receivables.report` (`cae receivables`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import create_model
from starlette.datastructures import UploadFile

from engine.messages import Refused
from engine.money import parse_amount
from ledger import treasury
from ledger.receivables import report
from streams import bank_files
from streams.pipeline import Raw
from treasury import month_transfers
from treasury.csvmap import MappingError, load_mapping
from treasury.formats import FORMATS, read_statements
from web import accounts, data, intake
from web.access import BOOKS, Caller
from web.downloads import attachment
from web.events_form import plain_amount
from web.inputs import Form, Text, one_of
from web.months import Month, month_in_window
from web.render import render
from web.routing import Routes, Site, checked_form, page_caller, site

routes = Routes()
SPLITS = 4  # rows of the split form: a line paid for several invoices at once rarely pays more
TARGETS = ("invoice_id", "member_id", "net_pay_month", "ledger_account", "label")
_ROW_FIELDS = {f"{name}_{n}": (Text, "") for n in range(SPLITS) for name in (*TARGETS, "amount")}


class Assign(Form):
    """One bank line and what it settles: row 0 alone (one click), or several rows with their amounts."""

    month: Text = ""
    account: Text = ""
    line_ref: Text = ""


Assignment = create_model("Assignment", __base__=Assign, **_ROW_FIELDS)  # type: ignore[call-overload]


class Upload(Form):
    """The statement file itself is read apart (`_uploaded`): a form's declared fields are texts."""

    month: Text = ""
    format: one_of(("", *FORMATS)) = ""  # type: ignore[valid-type]


class TransfersForm(Form):
    month: Text = ""
    account: Text = ""
    on: Text = ""


@dataclass(frozen=True, slots=True)
class LineView:
    """A line of `cae bank lines --json` with its figures as values, for the page's French."""

    line: dict[str, Any]

    @property
    def amount(self) -> Decimal:
        return Decimal(self.line["amount"])

    @property
    def booked_on(self) -> date:
        return date.fromisoformat(self.line["booked_on"])

    @property
    def candidates(self) -> list[dict[str, Any]]:
        """Each candidate with the fields its one-click assignment sends (none for a payment already
        recorded: assigning the line to its invoice would post the money a second time)."""
        found = []
        for c in self.line["candidates"]:
            if c["kind"] == "invoice":
                fields = {"invoice_id_0": c["invoice_id"]}
            elif c["kind"] in ("transfer", "net_pay"):
                fields = {"member_id_0": c["member_id"], "net_pay_month_0": c["month"]}
            elif c["kind"] == "account":
                fields = {"ledger_account_0": c["ledger_account"], "label_0": c["label"]}
            else:
                fields = {}
            found.append({**c, "fields": fields})
        return found


def _lines_page(request: Request, month: str, outcome: tuple[bool, str] | None = None,
                status: int = 200) -> Response:
    here = site(request)
    lines = [LineView(x) for x in treasury.bank_lines(here.engine, here.rules, month)]
    due = treasury.transfers_due(here.engine, month, here.today())
    return render(request, "bank_lines.html", {
        "month": month, "lines": lines, "unmatched": sum(x.line["status"] == "unmatched" for x in lines),
        "outcome": outcome, "splits": range(SPLITS), "formats": FORMATS, "due": due,
        "due_total": sum((p.amount for p in due.payees), Decimal(0)),
        "accounts": month_transfers.known_accounts(here.engine, here.rules), "today": here.today()}, status)


def _month(request: Request, month: str | None) -> str:
    return month or site(request).today().strftime("%Y-%m")


@routes.page("GET", "/staff/bank", roles=BOOKS)
def lines_page(request: Request, month: str | None = Month, caller: Caller = Depends(page_caller)) -> Response:
    """The month's bank lines, those waiting for the staff first, each with its candidates."""
    return _lines_page(request, _month(request, month))


class Unassignable(Refused):
    """An assignment form that says no target, or a row that says two."""


def _assignment(fields: dict[str, str], line_amount: Decimal) -> dict[str, Any]:
    """The event's target fields from the form's rows: one row alone (its amount, if given, is the whole
    line's), or a split whose rows' amounts add up to the line (`ledger.bank_store` checks the sum)."""
    rows = []
    for n in range(SPLITS):
        row = {name: fields.get(f"{name}_{n}", "").strip() for name in (*TARGETS, "amount")}
        kinds = [bool(row["invoice_id"]), bool(row["net_pay_month"]), bool(row["ledger_account"])]
        if not any(row.values()):
            continue
        if sum(kinds) != 1 or (kinds[1] and not row["member_id"]) or (kinds[2] and not row["label"]):
            raise Unassignable("bank.assign_row", row=n + 1)
        rows.append({k: v for k, v in row.items() if v})
    if not rows:
        raise Unassignable("bank.assign_nothing")
    if len(rows) == 1:
        amount = rows[0].pop("amount", None)
        if amount is not None and _parsed(amount) != abs(line_amount):
            raise Unassignable("bank.assign_one_part", amount=_parsed(amount), line=line_amount)
        return rows[0]
    for n, row in enumerate(rows):
        if "amount" not in row:
            raise Unassignable("bank.assign_split_amount", row=n + 1)
        row["amount"] = plain_amount(row["amount"])
    return {"splits": rows}


def _parsed(text: str) -> Decimal:
    try:
        return parse_amount(plain_amount(text))
    except ValueError:
        raise Unassignable("bank.assign_amount", value=text) from None


@routes.page("POST", "/staff/bank/assign", roles=BOOKS, form=Assignment)
async def assign(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """One click (or a split): a `bank.line_assigned` event saying who made it, checked whole first."""
    fields = await checked_form(request)
    here = site(request)
    month = month_in_window(fields.get("month", ""), here.today())
    line = next((x for x in treasury.bank_lines(here.engine, here.rules, month, unmatched_only=True)
                 if x["account"] == fields["account"] and x["line_ref"] == fields["line_ref"]), None)
    try:
        if line is None:
            raise Unassignable("bank.assign_gone", line=fields["line_ref"])
        body = {"line_ref": line["line_ref"], "account": line["account"], "assigned_by": caller.label,
                **_assignment(fields, Decimal(line["amount"]))}
        raw = bank_files.assignment(body, f"web:{caller.email}")
        bank_files.check(here.engine, here.rules, [raw])
    except Refused as exc:
        return _lines_page(request, month, (False, exc.message.text("fr")), 422)
    taken = _take(here, caller, [raw], "bank.assign")
    if taken.refused is not None:
        return _lines_page(request, month, (False, f"Refusé : {taken.refused}"), 422)
    return _lines_page(request, month, (True, _PUBLISHED if taken.published else "Ligne affectée."))


@dataclass(frozen=True, slots=True)
class Taken:
    published: bool  # sent to Kafka: the workers will take them
    refused: str | None  # the reason of one refused meanwhile (someone else took the line first)
    processed: list[str]  # the ids of those processed here (not duplicates)


def _take(here: Site, caller: Caller, raws: list[Raw], action: str) -> Taken:
    """Events checked whole, now taken through the API's intake (or sent to Kafka), and audited."""
    taken = intake.take(here, raws)
    with here.engine.begin() as conn:
        accounts.audit(conn, caller.label, action, json.dumps([(t.event_id, t.outcome) for t in taken]))
    return Taken(any(t.outcome == intake.PUBLISHED for t in taken),
                 next((t.reason_in("fr") for t in taken if t.outcome == intake.DEAD_LETTER), None),
                 [t.event_id for t in taken if t.outcome == intake.PROCESSED and t.event_id])


_PUBLISHED = "Envoyé aux workers (Kafka) : il sera traité dans l'ordre du flux."


async def _uploaded(request: Request, name: str) -> UploadFile | None:
    found = (await request.form()).get(name)
    return found if isinstance(found, UploadFile) and found.filename else None


@routes.page("POST", "/staff/bank/import", roles=BOOKS, form=Upload)
async def import_statement(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """A statement file, its format guessed from its content as `cae bank import` does; refused whole
    with the catalogue's reason in French, or taken through the intake and matched."""
    fields = await checked_form(request)
    here = site(request)
    month = month_in_window(fields.get("month") or _month(request, None), here.today())
    upload, mapping_file = await _uploaded(request, "file"), await _uploaded(request, "mapping")
    if upload is None:
        return _lines_page(request, month, (False, "Choisissez le fichier du relevé à importer."), 422)
    name = upload.filename or "releve"
    try:
        mapping = load_mapping((await mapping_file.read()).decode("utf-8")) if mapping_file else None
    except (MappingError, UnicodeDecodeError) as exc:
        return _lines_page(request, month, (False, f"Fichier de correspondance refusé : {exc}"), 422)
    try:
        statements = read_statements(await upload.read(), fields.get("format") or None, mapping)
        raws = bank_files.statement_events(statements, name)
        bank_files.check(here.engine, here.rules, raws)
    except Refused as exc:
        return _lines_page(request, month, (False, f"Relevé refusé, rien n'est enregistré : "
                                                   f"{exc.message.text('fr')}."), 422)
    taken = _take(here, caller, raws, "bank.import")
    if taken.refused is not None:
        return _lines_page(request, month, (False, f"Relevé refusé : {taken.refused}"), 422)
    done = f"{len(statements)} relevé(s), {sum(len(s.lines) for s in statements)} ligne(s) lue(s)"
    if taken.published:
        return _lines_page(request, month, (True, f"{done}. {_PUBLISHED}"))
    got = treasury.import_summary(here.engine, taken.processed)  # a statement taken before brings nothing
    return _lines_page(request, month, (True, f"{done} : {got['new_lines']} nouvelle(s), {got['matched']} "
                                              f"rapprochée(s) d'elles-mêmes, {got['unmatched']} à affecter."))


@routes.page("POST", "/staff/bank/transfers", roles=BOOKS, form=TransfersForm)
async def transfers(request: Request, caller: Caller = Depends(page_caller)) -> Response:
    """The month's SEPA transfers file (pain.001.001.03), recorded as `cae payroll transfers` records it:
    a payslip is in one file only, so the same month again gives only what no file has paid yet."""
    fields = await checked_form(request)
    here = site(request)
    month = month_in_window(fields.get("month", ""), here.today())
    try:
        on = date.fromisoformat(fields["on"]) if fields.get("on") else here.today()
    except ValueError:
        return _lines_page(request, month, (False, "Date d'exécution invalide : AAAA-MM-JJ attendu."), 422)
    account = fields.get("account") or None
    if account is not None and account not in month_transfers.known_accounts(here.engine, here.rules):
        return _lines_page(request, month, (False, "Compte inconnu de la coopérative."), 422)
    try:
        made = month_transfers.prepare(here.engine, here.rules, month, on, account)
    except Refused as exc:
        return _lines_page(request, month, (False, exc.message.text("fr")), 422)
    if made.data is None:
        return _lines_page(request, month, (False, "Rien à virer pour ce mois : chaque bulletin est déjà dans un "
                                                   "fichier, réglé, ou sans IBAN."), 422)
    month_transfers.record(here.engine, made)
    with here.engine.begin() as conn:
        accounts.audit(conn, caller.label, "payroll.transfers", f"{month}: {made.file_id}, {made.summary()}")
    return Response(made.data, media_type="application/xml", headers=attachment(f"virements-{month}.xml"))


@routes.page("GET", "/staff/receivables", roles=BOOKS)
def receivables_page(request: Request, on: date | None = Query(default=None),
                     caller: Caller = Depends(page_caller)) -> Response:
    """What each client owes, with days overdue and the buckets, as `cae receivables` shows it."""
    day = on or site(request).today()
    with site(request).reading() as conn:
        found = data.receivables(conn, caller, day)
    clients: dict[str, Decimal] = {}
    for r, _ in found.invoices:
        clients[r.client] = clients.get(r.client, Decimal(0)) + r.due_ttc
    return render(request, "receivables.html", {"report": found, "clients": sorted(clients.items()), "on": day})

