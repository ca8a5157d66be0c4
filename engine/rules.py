"""From one validated member event to its journal entries (DOMAIN.md rules 1 to 8).

`apply(book, event, rules)` checks everything first and only then changes the
book, so a refused event (`RuleError`) leaves no trace: nothing half-posted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from datetime import date
from decimal import Decimal
from typing import Any

from engine import chart
from engine.config import ConfigError, Rules
from engine.events import (
    AnyEvent,
    CreditNoteIssued,
    DocumentLine,
    ExpenseRecorded,
    InvoiceIssued,
    MemberBecameAssociate,
    MemberJoined,
    MemberLeft,
    MemberStatusChanged,
    PaymentReceived,
    SalarySet,
)
from engine.money import ZERO, round_cents
from engine.mutualisation import mutualise
from engine.periods import month_of, parse_month, posting_date
from engine.postings import Entry, Line
from engine.state import Book, Invoice, Member, Salary


class RuleError(ValueError):
    """An event that is well formed but breaks a rule of the cooperative."""


def vat_of(lines: tuple[DocumentLine, ...]) -> Decimal:
    """Rule 1: VAT rounded per line, then summed."""
    return sum((round_cents(line.amount_ht * line.vat_rate) for line in lines), ZERO)


def ht_of(lines: tuple[DocumentLine, ...]) -> Decimal:
    return sum((line.amount_ht for line in lines), ZERO)


@lru_cache(maxsize=4096)
def aux_code(prefix: str, name: str) -> str:
    """A stable auxiliary account code (CompAuxNum) from a client or supplier name."""
    slug = re.sub(r"[^A-Z0-9]", "", name.upper().translate(_ACCENTS))
    return prefix + (slug[:16] or "DIVERS")


_ACCENTS = str.maketrans("ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸ", "AAACEEEEIIOOUUUY")


def _member(book: Book, member_id: str, on: date | None = None, what: str = "document") -> Member:
    member = book.members.get(member_id)
    if member is None:
        raise RuleError(f"unknown member {member_id!r}")
    if on is not None and on < member.joined_on:
        raise RuleError(f"{what} dated {on} is before member {member_id} joined on {member.joined_on}")
    if on is not None and member.left_on is not None and on > member.left_on:
        raise RuleError(f"{what} dated {on} is after member {member_id} left on {member.left_on}")
    return member


def _new_document(book: Book, kind: str, doc_id: str) -> None:
    if (kind, doc_id) in book.documents:
        raise RuleError(f"{kind.replace('_', ' ')} {doc_id!r} was already recorded by another event")


def _record_document(book: Book, kind: str, doc_id: str, event_id: str) -> None:
    book.documents.add((kind, doc_id))
    book.new_documents.append((kind, doc_id, event_id))


def _invoice_of(book: Book, invoice_id: str, member_id: str) -> Invoice:
    invoice = book.invoices.get(invoice_id)
    if invoice is None:
        raise RuleError(f"unknown invoice {invoice_id!r}")
    if invoice.member_id != member_id:
        raise RuleError(f"invoice {invoice_id} belongs to member {invoice.member_id}, not {member_id}")
    return invoice


def _joined(book: Book, e: MemberJoined, rules: Rules) -> list[Entry]:
    if e.member_id in book.members:
        raise RuleError(f"member {e.member_id} has already joined")
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
    """Rule 4 counts every sale dated on or after the association, whenever the event comes.

    A `became_associate` that arrives after such sales (a late record of an
    assembly's decision) posts their sociétariat share now, month by month
    where they were posted, so the result does not depend on arrival order.
    """
    member = _member(book, e.member_id, e.on, "association")
    if member.associate_on is not None:
        raise RuleError(f"member {e.member_id} is already an associate since {member.associate_on}")
    backlog: dict[str, Decimal] = {}
    for doc_date, month, ht in book.sales.get(e.member_id, ()):
        if doc_date >= e.on:
            backlog[month] = backlog.get(month, ZERO) + ht
    days = [(posting_date(max(e.on, parse_month(month)), book.locked_through), revenue)
            for month, revenue in sorted(backlog.items()) if revenue]
    for day, _ in days:  # checked before any change to the book
        try:
            rules.at(day)
        except ConfigError as exc:
            raise RuleError(str(exc)) from None
    member.associate_on = e.on
    book.changed_members.add(e.member_id)
    entries: list[Entry] = []
    for day, revenue in days:
        entries += _mutualise(book, rules, e.member_id, day, margin=ZERO, associate_revenue=revenue,
                              event_id=e.event_id, piece_ref=f"SOCIETARIAT-{e.member_id}",
                              piece_date=e.on)
    return entries


def _left(book: Book, e: MemberLeft, rules: Rules) -> list[Entry]:
    member = _member(book, e.member_id, e.on, "departure")
    if member.left_on is not None:
        raise RuleError(f"member {e.member_id} already left on {member.left_on}")
    member.left_on = e.on
    book.changed_members.add(e.member_id)
    return []


def _sale(book: Book, e: InvoiceIssued | CreditNoteIssued, rules: Rules, member: Member,
          client: str, sign: int) -> list[Entry]:
    """An invoice (sign 1) or a credit note (sign -1): the sale entry, then mutualisation."""
    ht, vat = ht_of(e.lines), vat_of(e.lines)
    on = posting_date(e.issued_on, book.locked_through)
    piece = e.invoice_id if isinstance(e, InvoiceIssued) else e.credit_note_id
    aux = aux_code("C", client)
    lines = [Line(chart.CLIENTS, sign * (ht + vat), e.member_id, aux, client),
             Line(chart.REVENUE, -sign * ht, e.member_id)]
    if vat:
        lines.append(Line(chart.VAT_COLLECTED, -sign * vat, e.member_id))
    kind = "Facture" if sign > 0 else "Avoir"
    entries = [Entry("VT", on, piece, e.issued_on, f"{kind} {piece} {client}", tuple(lines), e.event_id)]
    associate_revenue = sign * ht if member.associate_on_day(e.issued_on) else ZERO
    history = book.sales.get(e.member_id)
    if history is not None:
        history.append((e.issued_on, month_of(on), sign * ht))
    entries += _mutualise(book, rules, e.member_id, on, margin=sign * ht,
                          associate_revenue=associate_revenue, event_id=e.event_id, piece_ref=piece,
                          piece_date=e.issued_on)
    return entries


def _mutualise(book: Book, rules: Rules, member_id: str, on: date, **posting: Any) -> list[Entry]:
    """Rules 3 and 4 for a document posted `on`, with the rates of that day (a flat or tiered scale)."""
    rates, bases = rules.at(on), book.base(member_id, month_of(on))
    year_base = book.year_base(member_id, on.year) if rates.contribution_tiers else ZERO
    return mutualise(bases, rates, member_id=member_id, on=on, year_base=year_base, **posting)


def _invoice(book: Book, e: InvoiceIssued, rules: Rules) -> list[Entry]:
    member = _member(book, e.member_id, e.issued_on, "invoice")
    if e.invoice_id in book.invoices:
        raise RuleError(f"invoice {e.invoice_id!r} was already issued by another event")
    ht, vat = ht_of(e.lines), vat_of(e.lines)
    book.invoices[e.invoice_id] = Invoice(e.invoice_id, e.member_id, e.client, e.issued_on, ht, ht + vat)
    book.new_invoices.add(e.invoice_id)
    return _sale(book, e, rules, member, e.client, 1)


def _credit_note(book: Book, e: CreditNoteIssued, rules: Rules) -> list[Entry]:
    member = _member(book, e.member_id, e.issued_on, "credit note")
    invoice = _invoice_of(book, e.invoice_id, e.member_id)
    _new_document(book, "credit_note", e.credit_note_id)
    if e.issued_on < invoice.issued_on:
        raise RuleError(f"credit note dated {e.issued_on} is before its invoice {invoice.invoice_id} "
                        f"({invoice.issued_on})")
    ht, vat = ht_of(e.lines), vat_of(e.lines)
    left_ht, left_ttc = invoice.ht - invoice.credited_ht, invoice.ttc - invoice.credited_ttc
    if ht > left_ht or ht + vat > left_ttc:
        raise RuleError(f"credit note of {ht} HT ({ht + vat} TTC) is over what is left of invoice "
                        f"{invoice.invoice_id}: {left_ht} HT, {left_ttc} TTC")
    invoice.credited_ht += ht
    invoice.credited_ttc += ht + vat
    book.changed_invoices.add(invoice.invoice_id)
    _record_document(book, "credit_note", e.credit_note_id, e.event_id)
    return _sale(book, e, rules, member, invoice.client, -1)


def _payment(book: Book, e: PaymentReceived, rules: Rules) -> list[Entry]:
    _member(book, e.member_id)
    invoice = _invoice_of(book, e.invoice_id, e.member_id)
    _new_document(book, "payment", e.payment_id)
    if e.amount > invoice.due:
        raise RuleError(f"payment of {e.amount} is over the {invoice.due} still due on invoice "
                        f"{invoice.invoice_id}")
    invoice.paid += e.amount
    book.changed_invoices.add(invoice.invoice_id)
    _record_document(book, "payment", e.payment_id, e.event_id)
    on = posting_date(e.received_on, book.locked_through)
    aux = aux_code("C", invoice.client)
    lines = (Line(chart.BANK, e.amount, e.member_id),
             Line(chart.CLIENTS, -e.amount, e.member_id, aux, invoice.client))
    return [Entry("BQ", on, e.payment_id, e.received_on,
                  f"Règlement {invoice.invoice_id} {invoice.client}", lines, e.event_id)]


def _expense(book: Book, e: ExpenseRecorded, rules: Rules) -> list[Entry]:
    _member(book, e.member_id, e.spent_on, "expense")
    _new_document(book, "expense", e.expense_id)
    _record_document(book, "expense", e.expense_id, e.event_id)
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
        entries += _mutualise(book, rules, e.member_id, on, margin=-e.amount_ht,
                              associate_revenue=ZERO, event_id=e.event_id, piece_ref=e.expense_id,
                              piece_date=e.spent_on)
    return entries


def _salary(book: Book, e: SalarySet, rules: Rules) -> list[Entry]:
    _member(book, e.member_id)
    book.new_salaries.append(Salary(e.member_id, e.from_month, e.gross, e.event_id))
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
}


def apply(book: Book, event: AnyEvent, rules: Rules) -> list[Entry]:
    """The entries one member event posts; `RuleError` (and no change to `book`) if refused."""
    handler = _HANDLERS.get(event.type)
    if handler is None:
        raise RuleError(f"{event.type} is not a member event")
    doc_date = _document_date(event)
    if doc_date is not None:
        try:
            rules.at(posting_date(doc_date, book.locked_through))
        except ConfigError as exc:  # checked before any change to the book
            raise RuleError(str(exc)) from None
    return handler(book, event, rules)


def _document_date(event: AnyEvent) -> date | None:
    day: date | None = event.get("issued_on") or event.get("spent_on")
    return day


def needs(event: AnyEvent, locked_through: str | None) -> tuple[str | None, str | None, str | None]:
    """What `apply` will read: (member id, invoice id, month of the bases), for preloading."""
    member_id, invoice_id = event.get("member_id"), event.get("invoice_id")
    doc_date = _document_date(event)
    month = month_of(posting_date(doc_date, locked_through)) if doc_date else None
    return member_id, invoice_id, month
