"""Matching a bank line to what it settles ("lettrage", DOMAIN.md rule 11): explainable, never ambiguous.

Pure: the caller passes the line and a `Candidates` lookup that the ledger
answers through its indexes (an invoice by id, the invoices due of an amount,
a transfer order by end-to-end id…), so the cost per line does not grow with
the books. The rules are tried in the order of rule 11 (a to e); the first
rule that finds candidates decides: exactly one → a `Match` that names its
rule; several → no match, the line waits for the staff with those
candidates. A line no rule finds anything for waits with none.

Why stop at the first rule that finds candidates rather than try the next:
a credit whose remittance names two open invoices is the staff's to split;
letting rule b then pick one by amount would settle an invoice the client did
not name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal, Protocol

PAYMENT_WINDOW = timedelta(days=10)  # rule 11 a: a recorded payment within 10 days is the same money

Kind = Literal["invoice", "payment", "transfer", "net_pay", "account"]


class LineLike(Protocol):
    """What matching reads of a bank line (`engine.bank` lines have these fields)."""

    @property
    def amount(self) -> Decimal: ...  # signed: a credit is positive
    @property
    def booked_on(self) -> date: ...
    @property
    def counterparty_name(self) -> str | None: ...
    @property
    def counterparty_iban(self) -> str | None: ...
    @property
    def remittance(self) -> str | None: ...
    @property
    def end_to_end_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An invoice with something still due (TTC), and its client's name."""

    invoice_id: str
    member_id: str
    client: str
    due: Decimal
    ttc: Decimal | None = None  # what it was issued for; None where only what is due matters


@dataclass(frozen=True, slots=True)
class RecordedPayment:
    """A `payment.received` that no bank line has matched yet."""

    payment_id: str
    invoice_id: str
    member_id: str
    amount: Decimal
    received_on: date


@dataclass(frozen=True, slots=True)
class TransferOrder:
    """One transaction of a transfers file the cooperative sent (rule 13)."""

    end_to_end_id: str
    member_id: str
    month: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class NetPayDue:
    """A member's net pay of a month not yet paid out, and the IBAN it goes to."""

    member_id: str
    month: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Counterparty:
    """A configured counterparty (URSSAF, the tax office, a pension fund…) and its account (rule 11 e)."""

    account: str
    label: str
    name: str | None = None
    iban: str | None = None


class Candidates(Protocol):
    """The ledger's answers, each through an index."""

    def invoices(self, invoice_ids: Sequence[str]) -> list[OpenInvoice]: ...
    def client_invoices(self, name: str, ttc: Decimal) -> list[OpenInvoice]: ...  # by `same_name`, paid or not
    def unmatched_payments(self, invoice_id: str, amount: Decimal) -> list[RecordedPayment]: ...
    def transfer(self, end_to_end_id: str) -> TransferOrder | None: ...
    def net_pay_to(self, iban: str, amount: Decimal) -> list[NetPayDue]: ...
    def counterparties(self) -> Sequence[Counterparty]: ...


Target = OpenInvoice | RecordedPayment | TransferOrder | NetPayDue | Counterparty


@dataclass(frozen=True, slots=True)
class Match:
    """The one thing a line settles, and the rule (a–e) that found it."""

    rule: str
    target: Target

    @property
    def kind(self) -> Kind:
        return _KIND[type(self.target)]


@dataclass(frozen=True, slots=True)
class Unmatched:
    """No rule found exactly one candidate: the line waits for the staff with what was found."""

    rule: str | None  # the rule whose candidates these are
    candidates: tuple[Target, ...]


_KIND: dict[type, Kind] = {OpenInvoice: "invoice", RecordedPayment: "payment", TransferOrder: "transfer",
                           NetPayDue: "net_pay", Counterparty: "account"}


def match(line: LineLike, found: Candidates) -> Match | Unmatched:
    """Rule 11, a to e, in order; see the module's docstring for why the first rule to find decides."""
    for rule, attempt in (("a", _named_invoice), ("b", _client_and_amount), ("c", _our_transfer),
                          ("d", _member_net_pay), ("e", _known_counterparty)):
        candidates = attempt(line, found)
        if len(candidates) == 1:
            return Match(rule, candidates[0])
        if candidates:
            return Unmatched(rule, tuple(candidates))
    return Unmatched(None, ())


def _named_invoice(line: LineLike, found: Candidates) -> list[Target]:
    """a. A credit whose remittance or end-to-end id names an invoice with at least that much due.

    When a `payment.received` of that invoice and amount within 10 days is
    still unmatched, the line is that payment: the same money is never posted twice.
    """
    if line.amount <= 0:
        return []
    tokens = tokens_of(line.remittance, line.end_to_end_id)
    if not tokens:
        return []
    # the recorded payments first: an invoice paid in full by a recorded payment has nothing due left
    named = {i.invoice_id for i in found.invoices(tokens)} | set(tokens)
    paid = [p for invoice_id in sorted(named) for p in _same_money(line, found, invoice_id)]
    if paid:
        return list(paid)
    return [i for i in found.invoices(tokens) if line.amount <= i.due]


def _same_money(line: LineLike, found: Candidates, invoice_id: str) -> list[RecordedPayment]:
    """The recorded payment of that invoice and amount within the window that is this line's money.

    Several payments of the same invoice and amount are the same money to the
    books (the line settles that invoice by that amount whichever it is): the
    one received nearest the booking date is taken, then the first by id, so
    they are not an ambiguity for the staff. At most one.
    """
    near = [p for p in found.unmatched_payments(invoice_id, line.amount)
            if abs((p.received_on - line.booked_on).days) <= PAYMENT_WINDOW.days]
    return sorted(near, key=lambda p: (abs((p.received_on - line.booked_on).days), p.payment_id))[:1]


def _client_and_amount(line: LineLike, found: Candidates) -> list[Target]:
    """b. A credit equal to what is due on exactly one invoice of the counterparty's name.

    The ledger answers by the client's name as `same_name` reads it and the
    invoice's TTC (one index), so the cost of a line does not grow with the
    books: the invoices of that client issued for that amount, paid or not —
    a paid one may have its `payment.received` waiting for this line. What a
    client pays of an invoice already partly paid, without naming it, is left
    to the staff (its remainder is not an amount the index knows).
    """
    if line.amount <= 0 or not line.counterparty_name:
        return []
    invoices = found.client_invoices(same_name(line.counterparty_name), line.amount)
    paid = [p for i in invoices for p in _same_money(line, found, i.invoice_id)]
    return list(paid) if paid else [i for i in invoices if i.due == line.amount]


def _our_transfer(line: LineLike, found: Candidates) -> list[Target]:
    """c. A debit whose end-to-end id is one of the cooperative's transfer orders (rule 13)."""
    if line.amount >= 0 or not line.end_to_end_id:
        return []
    order = found.transfer(line.end_to_end_id)
    return [order] if order is not None and order.amount == -line.amount else []


def _member_net_pay(line: LineLike, found: Candidates) -> list[Target]:
    """d. A debit to a member's registered IBAN equal to their unpaid net pay."""
    if line.amount >= 0 or not line.counterparty_iban:
        return []
    return list(found.net_pay_to(compact_iban(line.counterparty_iban), -line.amount))


def _known_counterparty(line: LineLike, found: Candidates) -> list[Target]:
    """e. A configured counterparty, by IBAN, else by name."""
    iban = compact_iban(line.counterparty_iban) if line.counterparty_iban else None
    by_iban = [c for c in found.counterparties() if iban and c.iban and compact_iban(c.iban) == iban]
    if by_iban:
        return list(by_iban)
    name = same_name(line.counterparty_name) if line.counterparty_name else None
    return [c for c in found.counterparties() if name and c.name and same_name(c.name) == name]


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]*[A-Za-z0-9]|[A-Za-z0-9]")


def tokens_of(*texts: str | None) -> list[str]:
    """The words of a remittance that could be a document id, in order, once each.

    Case is kept (ids are compared as the members' systems wrote them); a
    trailing dot or dash is not part of the word ("F-12." names F-12).
    """
    seen: dict[str, None] = {}
    for text in texts:
        for token in _TOKEN.findall(text or ""):
            seen.setdefault(token, None)
    return list(seen)


# Legal forms a client's name may carry or not ("Atelier Nord SARL" pays as "ATELIER NORD").
_LEGAL = {"sa", "sas", "sasu", "sarl", "eurl", "sci", "scop", "scic", "snc", "ei", "eirl", "selarl",
          "association", "asso", "ste", "societe", "sc", "gie", "cie", "et", "the", "ltd", "gmbh", "inc"}


def same_name(name: str) -> str:
    """A name as rule 11 b compares it: case, accents, punctuation and legal forms ignored.

    Dots are dropped rather than split on, so that an acronym ("S.A.S.", "D.G.F.I.P.") stays one word.
    """
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().replace(".", "")
    words = re.findall(r"[a-z0-9]+", plain)
    return " ".join(w for w in words if w not in _LEGAL)


def compact_iban(iban: str) -> str:
    return re.sub(r"\s+", "", iban).upper()
