"""From one validated member event to its journal entries (DOMAIN.md rules 1 to 9).

`apply(book, event, rules)` checks everything first and only then changes the
book, so a refused event (`RuleError`) leaves no trace: nothing half-posted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from engine import chart
from engine.config import ConfigError, Rates, Rules
from engine.events import (
    AnyEvent,
    CreditNoteIssued,
    DocumentLine,
    ExpenseRecorded,
    InvoiceIssued,
    MemberBankAccountSet,
    MemberBecameAssociate,
    MemberJoined,
    MemberLeft,
    MemberStatusChanged,
    PaymentReceived,
    SalarySet,
)
from engine.money import ZERO, fmt
from engine.mutualisation import contribution_label, contribution_scale, figure_changes, percent, societariat_scale
from engine.periods import month_of, parse_month, posting_date
from engine.postings import Entry, Line, pair
from engine.state import BaseMove, Book, Document, Invoice, Member, Part, Parts, Salary, add_parts
from engine.messages import CATALOGUE, Message, Refused


class RuleError(Refused):
    """An event that is well formed but breaks a rule of the cooperative; a message of the catalogue
    (`engine.messages`), said in French on the staff's pages (issue 15).

    A text that is no code of the catalogue yet (the treasury's refusals, ledger.bank_store) is
    kept as it is, under `rule.untranslated`: the pages show it, marked as not yet in French.
    """

    def __init__(self, message: Message | str, **params: Any) -> None:
        if isinstance(message, str) and message not in CATALOGUE:
            message = Message.of("rule.untranslated", text=message)
        super().__init__(message, **params)


def vat_of(lines: tuple[DocumentLine, ...]) -> Decimal:
    """Rule 1: VAT rounded per line, then summed."""
    return sum((line.vat for line in lines), ZERO)


def parts_of(lines: tuple[DocumentLine, ...]) -> Parts:
    """A document's HT and VAT per VAT rate, the VAT rounded per line (rule 1)."""
    parts: Parts = {}
    for line in lines:
        add_parts(parts, {line.vat_rate: Part(line.amount_ht, line.vat)})
    return parts


def _totals(parts: Parts) -> tuple[Decimal, Decimal]:
    return sum((p.ht for p in parts.values()), ZERO), sum((p.vat for p in parts.values()), ZERO)


@lru_cache(maxsize=4096)
def aux_code(prefix: str, name: str) -> str:
    """A stable auxiliary account code (CompAuxNum) from a client or supplier name."""
    slug = re.sub(r"[^A-Z0-9]", "", name.upper().translate(_ACCENTS))
    return prefix + (slug[:16] or "DIVERS")


_ACCENTS = str.maketrans("ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸ", "AAACEEEEIIOOUUUY")


def _member(book: Book, member_id: str, on: date | None = None, what: str = "document") -> Member:
    member = book.members.get(member_id)
    if member is None:
        raise RuleError("rule.member_unknown", member=member_id)
    if on is not None and on < member.joined_on:
        raise RuleError("rule.before_joining", what=what, on=on, member=member_id, joined=member.joined_on)
    if on is not None and member.left_on is not None and on > member.left_on:
        raise RuleError("rule.after_leaving", what=what, on=on, member=member_id, left=member.left_on)
    return member


def _new_document(book: Book, kind: str, doc_id: str) -> None:
    if (kind, doc_id) in book.documents:
        raise RuleError("rule.document_again", what=kind.replace("_", " "), document=doc_id)


def _record_document(book: Book, document: Document) -> None:
    book.documents.add((document.kind, document.doc_id))
    book.new_documents.append(document)


def _invoice_of(book: Book, invoice_id: str, member_id: str) -> Invoice:
    invoice = book.invoices.get(invoice_id)
    if invoice is None:
        raise RuleError("rule.invoice_unknown", invoice=invoice_id)
    if invoice.member_id != member_id:
        raise RuleError("rule.invoice_of_another", invoice=invoice_id, owner=invoice.member_id, member=member_id)
    return invoice


def _joined(book: Book, e: MemberJoined, rules: Rules) -> list[Entry]:
    if e.member_id in book.members:
        raise RuleError("rule.joined_again", member=e.member_id)
    book.members[e.member_id] = Member(e.member_id, e.name, e.joined_on, [(e.joined_on, e.status)])
    book.new_members.add(e.member_id)
    book.new_statuses.append((e.member_id, e.joined_on, e.status, e.event_id))
    return []


def _status_changed(book: Book, e: MemberStatusChanged, rules: Rules) -> list[Entry]:
    member = _member(book, e.member_id, e.on, "status change")
    member.statuses.append((e.on, e.status))
    book.new_statuses.append((e.member_id, e.on, e.status, e.event_id))
    return []


def _became_associate(book: Book, e: MemberBecameAssociate, rules: Rules) -> list[Entry]:
    """Rule 4 counts every sale of an invoice dated on or after the association, whenever the event comes.

    A `became_associate` that arrives after such sales (a late record of an
    assembly's decision) moves their sociétariat base now, in the months where
    they were posted (the first open month for a closed one), so the result
    does not depend on arrival order.
    """
    member = _member(book, e.member_id, e.on, "association")
    if member.associate_on is not None:
        raise RuleError("rule.associate_again", member=e.member_id, since=member.associate_on)
    backlog: dict[date, Decimal] = {}
    for sale in book.sales.get(e.member_id, ()):
        if sale.counts_from >= e.on:
            day = posting_date(max(e.on, parse_month(sale.month)), book.locked_through)
            backlog[day] = backlog.get(day, ZERO) + sale.revenue
    days = [(day, revenue) for day, revenue in sorted(backlog.items()) if revenue]
    for day, _ in days:  # checked before any change to the book
        _rates_on(rules, day)
    member.associate_on = e.on
    book.changed_members.add(e.member_id)
    entries: list[Entry] = []
    for day, revenue in days:
        entries += _mutualise(book, rules, BaseMove(e.member_id, month_of(day), e.event_id, ZERO, revenue),
                              day, f"SOCIETARIAT-{e.member_id}", e.on)
    return entries


def _left(book: Book, e: MemberLeft, rules: Rules) -> list[Entry]:
    member = _member(book, e.member_id, e.on, "departure")
    if member.left_on is not None:
        raise RuleError("rule.left_again", member=e.member_id, left=member.left_on)
    member.left_on = e.on
    book.changed_members.add(e.member_id)
    return []


def _sale(book: Book, rules: Rules, member: Member, piece: str, issued_on: date, counts_from: date,
          client: str, parts: Parts, sign: int, event_id: str) -> list[Entry]:
    """An invoice (sign 1) or a credit note (sign -1): the sale entry, then mutualisation.

    `counts_from`: the invoice's date, which decides whether the sale counts in
    the sociétariat base (rule 4: a credit note only where its invoice did).
    """
    ht, vat = _totals(parts)
    on = posting_date(issued_on, book.locked_through)
    lines = [Line(chart.CLIENTS, sign * (ht + vat), member.member_id, aux_code("C", client), client),
             Line(chart.REVENUE, -sign * ht, member.member_id)]
    if vat:
        lines.append(Line(chart.VAT_COLLECTED, -sign * vat, member.member_id))
    kind = "Facture" if sign > 0 else "Avoir"
    entries = [Entry("VT", on, piece, issued_on, f"{kind} {piece} {client}", tuple(lines), event_id)]
    associate = sign * ht if member.associate_on_day(counts_from) else ZERO
    move = BaseMove(member.member_id, month_of(on), event_id, sign * ht, associate, sign * ht, counts_from)
    return entries + _mutualise(book, rules, move, on, piece, issued_on)


def _rates_on(rules: Rules, day: date) -> None:
    try:
        rules.at(day)
    except ConfigError as exc:
        raise RuleError("rule.no_rates", detail=str(exc)) from None


_MUTUALISED = (("contribution", contribution_scale, chart.CONTRIBUTION, chart.CONTRIBUTIONS_RECEIVED),
               ("societariat", societariat_scale, chart.CAPITAL_DUE, chart.CAPITAL))


def _label(which: str, rates: Rates) -> str:
    if which == "contribution":
        return f"Contribution coopérative {contribution_label(rates)}"
    return f"Part de sociétariat {percent(rates.societariat)}"


def _mutualise(book: Book, rules: Rules, move: BaseMove, on: date, piece_ref: str,
               piece_date: date) -> list[Entry]:
    """Rules 3 and 4 for a move of a member-month's bases, posted `on` (a day of `move.month`).

    Each month whose figure the move changes gets an entry: the move's own
    month on `on`, a later month of the year (the event came late) on its
    first day; each with the rates of its month.
    """
    months = book.year_months(move.member_id, int(move.month[:4]))
    entries: list[Entry] = []
    for which, scale, debit, credit in _MUTUALISED:
        delta: Decimal = getattr(move, which)
        if not delta:
            continue
        bases = [(month, getattr(b, which)) for month, b in months]
        changes = figure_changes(bases, move.month, delta, lambda k: scale(rules.at(parse_month(k))))
        for month, change in changes:
            label = _label(which, rules.at(parse_month(month)))
            day, text = ((on, f"{label} {piece_ref}") if month == move.month else
                         (parse_month(month), f"{label} {piece_ref}, régularisation du cumul annuel"))
            entries.append(Entry("OD", day, piece_ref, piece_date, text,
                                 pair(debit, credit, change, member_id=move.member_id), move.event_id))
    book.move(move)
    return sorted(entries, key=lambda entry: entry.date)


def _invoice(book: Book, e: InvoiceIssued, rules: Rules) -> list[Entry]:
    member = _member(book, e.member_id, e.issued_on, "invoice")
    if e.invoice_id in book.invoices:
        raise RuleError("rule.invoice_again", invoice=e.invoice_id)
    invoice = Invoice(e.invoice_id, e.member_id, e.client, e.issued_on, parts_of(e.lines))
    book.invoices[e.invoice_id] = invoice
    book.new_invoices.append((invoice, e.event_id))
    return _sale(book, rules, member, e.invoice_id, e.issued_on, e.issued_on, e.client, invoice.rates, 1,
                 e.event_id)


def _credited(invoice: Invoice, wanted: Parts) -> Parts:
    """Rule 1: what a credit note takes at each VAT rate, or `RuleError`.

    At each rate at most what is left of the invoice's HT; the credit note that
    brings a rate's HT to zero takes exactly what is left of its VAT, so an
    invoice can always be cancelled whole however its credit notes split it.
    No credit note takes more VAT than is left at its rate.
    """
    taken: Parts = {}
    for rate, part in sorted(wanted.items()):
        if rate not in invoice.rates:
            raise RuleError("rule.credit_rate", rate=rate, invoice=invoice.invoice_id)
        left = invoice.left(rate)
        if part.ht > left.ht:
            raise RuleError("rule.credit_over", ht=part.ht, rate=rate, invoice=invoice.invoice_id, left=left.ht)
        taken[rate] = Part(part.ht, left.vat if part.ht == left.ht else min(part.vat, left.vat))
    return taken


def _credit_note(book: Book, e: CreditNoteIssued, rules: Rules) -> list[Entry]:
    member = _member(book, e.member_id, e.issued_on, "credit note")
    invoice = _invoice_of(book, e.invoice_id, e.member_id)
    _new_document(book, "credit_note", e.credit_note_id)
    if e.issued_on < invoice.issued_on:
        raise RuleError("rule.credit_before_invoice", on=e.issued_on, invoice=invoice.invoice_id,
                        issued=invoice.issued_on)
    taken = _credited(invoice, parts_of(e.lines))
    add_parts(invoice.credited, taken)
    ht, vat = _totals(taken)
    _record_document(book, Document("credit_note", e.credit_note_id, e.event_id, e.member_id,
                                    invoice.invoice_id, e.issued_on, ht + vat, taken))
    return _sale(book, rules, member, e.credit_note_id, e.issued_on, invoice.issued_on, invoice.client,
                 taken, -1, e.event_id)


def check_payment(book: Book, e: PaymentReceived) -> Invoice:
    """What any payment must meet (a known member, their invoice, a new payment id): its invoice.

    Also for a payment that turns out to be a bank line's money (`ledger.bank_store`), which is
    refused for the same reasons before it is linked to that line.
    """
    _member(book, e.member_id)
    invoice = _invoice_of(book, e.invoice_id, e.member_id)
    _new_document(book, "payment", e.payment_id)
    return invoice


def _payment(book: Book, e: PaymentReceived, rules: Rules) -> list[Entry]:
    """Rule 9: a payment above what is due is recorded; its excess is the client's credit.

    A payment `from_credit` applies that credit (what the client overpaid on
    their other invoices for this member, less what was applied already) to
    this invoice: it settles it in the books of the invoices and moves nothing
    in the ledger, where the money already sits on the client's account.
    """
    invoice = check_payment(book, e)
    document = Document("payment", e.payment_id, e.event_id, e.member_id, invoice.invoice_id,
                        e.received_on, e.amount, from_credit=e.from_credit)
    if e.from_credit:
        due = max(invoice.due, ZERO)
        if e.amount > due:
            raise RuleError("rule.credit_payment_over_due", amount=e.amount, due=due, invoice=invoice.invoice_id)
        clients = book.client_invoices(e.member_id, invoice.client)
        credit = sum((i.excess for i in clients), ZERO) - sum((i.from_credit for i in clients), ZERO)
        if e.amount > credit:
            raise RuleError("rule.credit_payment_over_credit", amount=e.amount, credit=credit,
                            client=invoice.client, member=e.member_id)
        invoice.from_credit += e.amount
        invoice.paid += e.amount
        _record_document(book, document)
        return []
    invoice.paid += e.amount
    _record_document(book, document)
    on = posting_date(e.received_on, book.locked_through)
    aux = aux_code("C", invoice.client)
    lines = (Line(chart.BANK, e.amount, e.member_id),
             Line(chart.CLIENTS, -e.amount, e.member_id, aux, invoice.client))
    return [Entry("BQ", on, e.payment_id, e.received_on,
                  f"Règlement {invoice.invoice_id} {invoice.client}", lines, e.event_id)]


def _expense(book: Book, e: ExpenseRecorded, rules: Rules) -> list[Entry]:
    _member(book, e.member_id, e.spent_on, "expense")
    _new_document(book, "expense", e.expense_id)
    _record_document(book, Document("expense", e.expense_id, e.event_id, e.member_id, None, e.spent_on,
                                    e.amount_ht + e.vat))
    on = posting_date(e.spent_on, book.locked_through)
    account = chart.DIRECT_COSTS if e.direct_cost else chart.OTHER_EXPENSES
    lines = [Line(account, e.amount_ht, e.member_id)]
    if e.vat:
        lines.append(Line(chart.VAT_DEDUCTIBLE, e.vat, e.member_id))
    lines.append(Line(chart.SUPPLIERS, -(e.amount_ht + e.vat), e.member_id,
                      aux_code("F", e.supplier), e.supplier))
    entries = [Entry("AC", on, e.expense_id, e.spent_on, f"Dépense {e.expense_id} {e.supplier}",
                     tuple(lines), e.event_id)]
    if e.direct_cost:
        move = BaseMove(e.member_id, month_of(on), e.event_id, -e.amount_ht, ZERO)
        entries += _mutualise(book, rules, move, on, e.expense_id, e.spent_on)
    return entries


def _salary(book: Book, e: SalarySet, rules: Rules) -> list[Entry]:
    _member(book, e.member_id)
    book.new_salaries.append(Salary(e.member_id, e.from_month, e.gross, e.event_id))
    return []


def _bank_account(book: Book, e: MemberBankAccountSet, rules: Rules) -> list[Entry]:
    """Rule 13: the IBAN the member's net pay goes to from `from`; the event itself is kept."""
    _member(book, e.member_id)
    book.new_bank_accounts.append(e)
    return []


_HANDLERS: dict[str, Callable[[Book, Any, Rules], list[Entry]]] = {
    "member.joined": _joined,
    "member.status_changed": _status_changed,
    "member.became_associate": _became_associate,
    "member.left": _left,
    "invoice.issued": _invoice,
    "credit_note.issued": _credit_note,
    "payment.received": _payment,
    "expense.recorded": _expense,
    "salary.set": _salary,
    "member.bank_account_set": _bank_account,
}


def apply(book: Book, event: AnyEvent, rules: Rules) -> list[Entry]:
    """The entries one member event posts; `RuleError` (and no change to `book`) if refused."""
    handler = _HANDLERS.get(event.type)
    if handler is None:
        raise RuleError("rule.not_member_event", type=event.type)
    doc_date = document_date(event)
    if doc_date is not None:  # checked before any change to the book
        _rates_on(rules, posting_date(doc_date, book.locked_through))
    return handler(book, event, rules)


def document_date(event: AnyEvent) -> date | None:
    """The date of a document event (rule 2: its month is the document's), None for other events."""
    day: date | None = event.get("issued_on") or event.get("spent_on")
    return day


def needs(event: AnyEvent) -> tuple[str | None, str | None]:
    """What `apply` will read: (member id, invoice id), for preloading."""
    return event.get("member_id"), event.get("invoice_id")
