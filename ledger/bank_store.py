"""The bank's side of the books in the ledger: statements, lines, matches (DOMAIN.md rules 10 and 11).

`BankBatch` follows one batch of `streams.pipeline.process`: it reads what the
ledger knows of an account and the candidates of a line through indexes (an
invoice by id, invoices of a TTC, a payment by invoice, a transfer by its
end-to-end id, members by IBAN), decides with the pure rules
(`engine.treasury_rules`, `engine.matching`), and keeps what it will write
until the batch's events are recorded (`save`), like `ledger.book_store`.
A statement or an assignment that cannot be taken raises `RuleError` before
changing anything, so it ends in the dead letters whole.

A line matched to an invoice is that invoice's payment: a `documents` payment
row (`BQ-<account>-<line_ref>`) so that what is due falls, posted 512 / 411 by
the same rule as a `payment.received` (`engine.rules`). A line matched to a
`payment.received` already recorded posts nothing: the money is in 512 already.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, select

from engine import chart
from engine import rules as member_rules
from engine.bank import StatementError
from engine.config import Rules
from engine.events import BankLine, BankLineAssigned, BankStatementReceived, PaymentReceived
from engine.matching import (
    Counterparty,
    Match,
    PAYMENT_WINDOW,
    NetPayDue,
    OpenInvoice,
    RecordedPayment,
    TransferOrder,
    match,
)
from engine.money import ZERO, from_cents, to_cents
from engine.periods import posting_date
from engine.postings import Entry
from engine.state import Book
from engine.treasury_rules import AccountState, new_lines, settle_entry, split_total
from ledger import payslips, schema
from ledger.bank_checks import payment_key
from ledger.book_store import client_key, load_more
from ledger.bulk import CHUNK, chunks, day_format, insert_rows

RuleError = member_rules.RuleError
_LINE_COLUMNS = ("account", "line_ref", "booked_on", "value_on", "amount", "counterparty_name",
                 "counterparty_iban", "remittance", "end_to_end_id", "event_id")
_MATCH_COLUMNS = ("account", "line_ref", "kind", "rule", "assigned_by", "invoice_id", "payment_id", "member_id",
                  "month", "ledger_account", "detail", "event_id")


@dataclass
class BankBatch:
    conn: Connection
    book: Book
    rules: Rules
    accounts: list[tuple[str, str]] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)
    lines: dict[tuple[str, str], tuple[BankLine, str]] = field(default_factory=dict)
    matches: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    links: dict[tuple[str, str], tuple[Any, ...]] = field(default_factory=dict)  # line -> bank_payment_links row
    # Indexes of what this batch holds, so that a line's cost does not grow with the batch:
    missing: set[str] = field(default_factory=set)  # words of remittances that are no invoice
    taken: set[str] = field(default_factory=set)  # payment ids the batch's lines matched
    by_invoice: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # invoice -> its lines matched
    pending: dict[str, list[Any]] = field(default_factory=dict)  # invoice -> the batch's payment documents
    pending_seen: int = 0  # how many of `book.new_documents` `pending` has read
    # What the ledger held, when the batch began, for its `payment.received` events (`expect_payments`):
    # two queries per batch instead of two per payment (issue 18: they were a quarter of the ingest).
    recorded_links: set[str] = field(default_factory=set)  # payment ids already linked to a line
    paid_by_lines: dict[str, list[tuple[str, str, date, int]]] = field(default_factory=dict)
    expected: set[str] = field(default_factory=set)  # payment ids whose invoice's lines are loaded

    def load_invoices(self, invoice_ids: Sequence[str]) -> None:
        """Load what is not loaded yet, once, remembering the words that are no invoice."""
        wanted = [x for x in invoice_ids if x not in self.book.invoices and x not in self.missing]
        if wanted:
            load_more(self.conn, self.book, invoices=wanted)
            self.missing.update(x for x in wanted if x not in self.book.invoices)

    def batch_payments(self, invoice_id: str) -> list[Any]:
        """The payment documents of this batch for an invoice (read incrementally from the book)."""
        new = self.book.new_documents
        for document in new[self.pending_seen:]:
            if document.kind == "payment" and document.invoice_id is not None:
                self.pending.setdefault(document.invoice_id, []).append(document)
        self.pending_seen = len(new)
        return self.pending.get(invoice_id, [])

    # -- what the ledger knows, with what this batch added -------------------------------------
    def _state(self, event: BankStatementReceived) -> AccountState | None:
        """The account's balances from its first statement and its known lines, not from "the last" statement.

        Statements of one day (or ending on one day) cannot be told apart by their
        dates, so the last closing balance is read as the first statement's
        opening plus every line known since: the balance statements that each
        followed the one before must have reached.
        """
        s, a, lines = schema.bank_statements, schema.bank_accounts, schema.bank_lines
        mine = [x for x in self.statements if x["account"] == event.account]
        first = self.conn.execute(select(s.c.opening_balance, s.c.from_date, s.c.to_date)
                                  .join(a, and_(a.c.iban == s.c.account, a.c.event_id == s.c.event_id))
                                  .where(s.c.account == event.account)).first()
        if first is None and not mine:
            return None
        first_opening, first_from = ((from_cents(first.opening_balance), first.from_date) if first else
                                     (from_cents(mine[0]["opening_balance"]), mine[0]["from_date"]))
        recorded_to = self.conn.scalar(select(func.max(s.c.to_date)).where(s.c.account == event.account))
        last_to = max([x["to_date"] for x in mine] + ([recorded_to] if recorded_to else []))

        def known(*where: Any) -> Decimal:
            cents = self.conn.scalar(select(func.coalesce(func.sum(lines.c.amount), 0)).where(
                lines.c.account == event.account, *where))
            return from_cents(int(cents or 0))

        def pending(before: date | None) -> Decimal:
            return sum((line.amount for (acct, _), (line, _) in self.lines.items()
                        if acct == event.account and (before is None or line.booked_on < before)), ZERO)

        last_closing = first_opening + known() + pending(None)
        before = None
        if event.from_ >= first_from:
            before = first_opening + known(lines.c.booked_on < event.from_) + pending(event.from_)
        return AccountState(last_closing, last_to, before)

    def _known(self, account: str, refs: list[str]) -> set[str]:
        lines = schema.bank_lines
        found = {ref for (acct, ref) in self.lines if acct == account}
        found.update(self.conn.scalars(select(lines.c.line_ref).where(lines.c.account == account,
                                                                      lines.c.line_ref.in_(refs))))
        return found

    # -- the events ------------------------------------------------------------------------------
    def apply(self, event: Any) -> list[Entry]:
        """A bank event's entries (`streams.pipeline`), or `RuleError` and nothing changed."""
        if isinstance(event, BankStatementReceived):
            return self.statement(event)
        return self.assigned(event)

    def statement(self, event: BankStatementReceived) -> list[Entry]:
        """Rule 10, then rule 11 for each new line; `RuleError` with the figures if refused."""
        try:
            fresh = new_lines(event, self._state(event), self._known(event.account, [x.line_ref for x in event.lines]))
        except StatementError as exc:
            raise RuleError(exc.message) from None
        if not self._registered(event.account):
            self.accounts.append((event.account, event.event_id))
        self.statements.append({"account": event.account, "statement_id": event.statement_id,
                                "opening_balance": to_cents(event.opening_balance),
                                "closing_balance": to_cents(event.closing_balance), "from_date": event.from_,
                                "to_date": event.to, "line_count": len(event.lines), "new_lines": len(fresh),
                                "event_id": event.event_id})
        entries: list[Entry] = []
        for line in fresh:
            self.lines[(event.account, line.line_ref)] = (line, event.event_id)
            found = match(line, LedgerCandidates(self, event.account))
            if isinstance(found, Match):
                entries += self._settle(event.account, line, found, event.event_id)
        return entries

    def _registered(self, account: str) -> bool:
        a = schema.bank_accounts
        return any(x == account for x, _ in self.accounts) or self.conn.scalar(
            select(a.c.iban).where(a.c.iban == account)) is not None

    def _settle(self, account: str, line: BankLine, found: Match, event_id: str) -> list[Entry]:
        target = found.target
        row: dict[str, Any] = {"kind": found.kind, "rule": found.rule}
        if isinstance(target, OpenInvoice):
            entries = self._invoice_payment(account, line, target.invoice_id, line.amount, event_id)
            row.update(invoice_id=target.invoice_id, payment_id=payment_key(account, line.line_ref),
                       member_id=target.member_id)
        elif isinstance(target, RecordedPayment):
            entries = []
            row.update(invoice_id=target.invoice_id, payment_id=target.payment_id, member_id=target.member_id)
        elif isinstance(target, (TransferOrder, NetPayDue)):
            entries = [self._entry(line, chart.NET_PAY_DUE, target.member_id, event_id,
                                   f"Virement salaire {target.month} {target.member_id}")]
            row.update(member_id=target.member_id, month=target.month)
        else:
            entries = [self._entry(line, target.account, None, event_id, target.label)]
            row.update(ledger_account=target.account)
        self._matched(account, line.line_ref, row, event_id)
        return entries

    def _matched(self, account: str, line_ref: str, row: dict[str, Any], event_id: str) -> None:
        self.matches[(account, line_ref)] = {**dict.fromkeys(_MATCH_COLUMNS), **row, "account": account,
                                             "line_ref": line_ref, "event_id": event_id}
        if row.get("payment_id"):
            self.taken.add(row["payment_id"])
        if row.get("kind") == "invoice" and row.get("invoice_id"):
            self.by_invoice.setdefault(row["invoice_id"], []).append((account, line_ref))

    def _entry(self, line: BankLine, account: str, member_id: str | None, event_id: str, label: str) -> Entry:
        on = posting_date(line.booked_on, self.book.locked_through)
        return settle_entry(line.amount, line.booked_on, line.line_ref, label, account, member_id, on, event_id)

    def _invoice_payment(self, account: str, line: BankLine, invoice_id: str, amount: Decimal,
                         event_id: str, payment_id: str | None = None) -> list[Entry]:
        """The invoice's payment by the same rule as a `payment.received` (512 / 411, what is due falls)."""
        if amount <= 0:
            raise RuleError("bank.debit_for_invoice", amount=line.amount, invoice=invoice_id)
        load_more(self.conn, self.book, invoices=[invoice_id])
        invoice = self.book.invoices.get(invoice_id)
        if invoice is None:
            raise RuleError("rule.invoice_unknown", invoice=invoice_id)
        load_more(self.conn, self.book, members=[invoice.member_id])
        payment = PaymentReceived.model_construct(
            type="payment.received", event_id=event_id, occurred_at=None,
            payment_id=payment_id or payment_key(account, line.line_ref),
            invoice_id=invoice_id, member_id=invoice.member_id, received_on=line.booked_on, amount=amount,
            currency="EUR", from_credit=False)
        return member_rules.apply(self.book, payment, self.rules)

    def payment(self, event: PaymentReceived) -> bool:
        """Rule 11 a the other way round: True when the payment is a bank line's money already posted.

        A `payment.received` of an invoice that a bank line has already paid
        (matched or assigned to that invoice, not split) for the same amount,
        booked within 10 days of `received_on`, is that line's money: it is
        checked like any payment (`engine.rules.check_payment`), then linked
        to the line (`bank_payment_links`) and posts nothing, so what is due
        falls once and 512 / 411 move once. Several such lines are the same
        money of the same invoice: the one booked nearest the payment's date
        takes it (then the first by account and reference). False: the
        payment is new money, for `engine.rules` to post.
        """
        self.expect_payments([event])
        if event.payment_id in self.recorded_links or any(row[0] == event.payment_id for row in self.links.values()):
            raise RuleError("rule.document_again", what="payment", document=event.payment_id)
        if event.from_credit:
            return False
        member_rules.check_payment(self.book, event)
        lines = sorted(self._lines_that_paid(event.invoice_id, event.amount, event.received_on),
                       key=lambda x: (abs((x[2] - event.received_on).days), x[0], x[1]))
        if not lines:
            return False
        account, line_ref, _ = lines[0]
        self.links[(account, line_ref)] = (event.payment_id, account, line_ref, event.invoice_id, event.member_id,
                                           event.received_on, event.event_id)
        self.book.documents.add(("payment", event.payment_id))  # taken: the same id again is refused
        return True

    def expect_payments(self, payments: Sequence[PaymentReceived]) -> None:
        """Read, for payments not read yet, what `payment` checks in the ledger: whether their id is
        linked to a line already, and the lines matched to their invoices that no payment took.

        The ledger does not change during the batch (`save` writes at its end), so what is read
        here, before the batch's first event, is what a query per payment would have found.
        """
        fresh = [e for e in payments if e.payment_id not in self.expected]
        if not fresh:
            return
        self.expected.update(e.payment_id for e in fresh)
        m, b, links = schema.bank_matches, schema.bank_lines, schema.bank_payment_links
        for chunk in chunks(sorted({e.payment_id for e in fresh}), CHUNK):
            self.recorded_links.update(self.conn.scalars(select(links.c.payment_id)
                                                         .where(links.c.payment_id.in_(chunk))))
        invoices = sorted({e.invoice_id for e in fresh} - set(self.paid_by_lines))
        self.paid_by_lines.update((invoice_id, []) for invoice_id in invoices)
        for chunk in chunks(invoices, CHUNK):
            for row in self.conn.execute(
                    select(m.c.invoice_id, m.c.account, m.c.line_ref, b.c.booked_on, b.c.amount)
                    .join(b, and_(b.c.account == m.c.account, b.c.line_ref == m.c.line_ref))
                    .where(m.c.invoice_id.in_(chunk), m.c.kind == "invoice",
                           ~select(links.c.payment_id).where(links.c.account == m.c.account,
                                                             links.c.line_ref == m.c.line_ref).exists())):
                self.paid_by_lines[row.invoice_id].append((row.account, row.line_ref, row.booked_on, row.amount))

    def _lines_that_paid(self, invoice_id: str, amount: Decimal, on: date) -> list[tuple[str, str, date]]:
        """(account, line_ref, booked_on) of the lines that paid that invoice that amount within the window."""
        start, end = on - PAYMENT_WINDOW, on + PAYMENT_WINDOW
        cents = to_cents(amount)
        found = [(account, line_ref, booked_on)
                 for account, line_ref, booked_on, paid in self.paid_by_lines.get(invoice_id, ())
                 if paid == cents and start <= booked_on <= end]
        for key in self.by_invoice.get(invoice_id, []):
            if key in self.lines:
                line = self.lines[key][0]
                if line.amount == amount and start <= line.booked_on <= end:
                    found.append((*key, line.booked_on))
        return [x for x in found if (x[0], x[1]) not in self.links]

    def assigned(self, event: BankLineAssigned) -> list[Entry]:
        """The staff's assignment of a line still unmatched (rule 11), with who made it."""
        line = self._line(event.account, event.line_ref)
        if (event.account, event.line_ref) in self.matches or self._match_recorded(event.account, event.line_ref):
            raise RuleError("bank.line_matched", line=event.line_ref)
        parts = event.splits or (event,)
        if event.splits:
            try:
                split_total([part.amount for part in event.splits], line.amount)
            except StatementError as exc:
                raise RuleError(exc.message) from None
        self._check_targets(parts, line)  # all of them before any changes the book: nothing half-posted
        sign = 1 if line.amount > 0 else -1
        entries: list[Entry] = []
        detail = []
        for n, part in enumerate(parts, start=1):
            amount = sign * part.amount if event.splits else line.amount  # type: ignore[attr-defined]
            payment_id = None
            one = BankLine.model_construct(line_ref=line.line_ref, booked_on=line.booked_on, value_on=line.value_on, amount=amount)
            if part.invoice_id is not None:
                payment_id = payment_key(event.account, event.line_ref, n if event.splits else None)
                entries += self._invoice_payment(event.account, one, part.invoice_id, amount, event.event_id,
                                                 payment_id)
                kind = "invoice"
            elif part.net_pay_month is not None and part.member_id is not None:
                entries.append(self._entry(one, chart.NET_PAY_DUE, part.member_id, event.event_id,
                                           f"Virement salaire {part.net_pay_month} {part.member_id}"))
                kind = "net_pay"
            else:
                assert part.ledger_account is not None and part.label is not None
                entries.append(self._entry(one, part.ledger_account, part.member_id, event.event_id, part.label))
                kind = "account"
            detail.append({"kind": kind, "amount": str(amount), "invoice_id": part.invoice_id, "payment_id": payment_id,
                           "member_id": part.member_id, "month": part.net_pay_month,
                           "ledger_account": part.ledger_account, "label": part.label})
        row = {key: value for key, value in detail[0].items() if key in _MATCH_COLUMNS}
        row["month"] = detail[0]["month"]
        if event.invoice_id is not None:
            row["payment_id"] = payment_key(event.account, event.line_ref)
        if event.splits:
            row = {"kind": "split", "detail": json.dumps(detail)}
        self._matched(event.account, event.line_ref, {**row, "assigned_by": event.assigned_by}, event.event_id)
        return entries

    def _check_targets(self, parts: Any, line: BankLine) -> None:
        for part in parts:
            if part.invoice_id is not None:
                if line.amount <= 0:
                    raise RuleError("bank.debit_for_invoice", amount=line.amount, invoice=part.invoice_id)
                load_more(self.conn, self.book, invoices=[part.invoice_id])
                if part.invoice_id not in self.book.invoices:
                    raise RuleError("rule.invoice_unknown", invoice=part.invoice_id)
            elif part.net_pay_month is not None:
                load_more(self.conn, self.book, members=[part.member_id])
                if part.member_id not in self.book.members:
                    raise RuleError("rule.member_unknown", member=part.member_id)
            elif self.conn.scalar(select(schema.accounts.c.number)
                                  .where(schema.accounts.c.number == part.ledger_account)) is None:
                raise RuleError("bank.ledger_account_unknown", account=part.ledger_account)

    def _line(self, account: str, line_ref: str) -> BankLine:
        pending = self.lines.get((account, line_ref))
        if pending is not None:
            return pending[0]
        t = schema.bank_lines
        row = self.conn.execute(select(t).where(t.c.account == account, t.c.line_ref == line_ref)).first()
        if row is None:
            raise RuleError("bank.line_unknown", line=line_ref, account=account)
        return BankLine.model_construct(line_ref=row.line_ref, booked_on=row.booked_on, value_on=row.value_on,
                        amount=from_cents(row.amount), counterparty_name=row.counterparty_name,
                        counterparty_iban=row.counterparty_iban, remittance=row.remittance,
                        end_to_end_id=row.end_to_end_id)

    def _match_recorded(self, account: str, line_ref: str) -> bool:
        m = schema.bank_matches
        return self.conn.scalar(select(m.c.kind).where(m.c.account == account, m.c.line_ref == line_ref)) is not None

    @property
    def wrote(self) -> bool:
        """Whether the batch took anything of the bank's: a book kept after it would not know it."""
        return bool(self.accounts or self.statements or self.lines or self.matches or self.links)

    def save(self, conn: Connection) -> None:
        """Record what the batch took; its events (and so their ids) must already be recorded.

        `conn` may be another connection than the one the batch read through (a file's ingest
        writes a batch on its own connection, `streams.overlapped`)."""
        day = day_format(conn)
        insert_rows(conn, schema.bank_accounts, ("iban", "event_id"), self.accounts)
        columns = tuple(schema.bank_statements.c.keys())
        insert_rows(conn, schema.bank_statements, columns,
                    [tuple(day(x[c]) if c.endswith("_date") else x[c] for c in columns) for x in self.statements])
        insert_rows(conn, schema.bank_lines, _LINE_COLUMNS, [
            (account, ref, day(line.booked_on), day(line.value_on), to_cents(line.amount), line.counterparty_name,
             line.counterparty_iban, line.remittance, line.end_to_end_id, event_id)
            for (account, ref), (line, event_id) in self.lines.items()])
        insert_rows(conn, schema.bank_matches, _MATCH_COLUMNS,
                    [tuple(row[c] for c in _MATCH_COLUMNS) for row in self.matches.values()])
        insert_rows(conn, schema.bank_payment_links, tuple(schema.bank_payment_links.c.keys()),
                    [(*row[:5], day(row[5]), row[6]) for row in self.links.values()])


@dataclass
class LedgerCandidates:
    """`engine.matching.Candidates` answered by the ledger, each through an index."""

    batch: BankBatch
    account: str

    def invoices(self, invoice_ids: Any) -> list[OpenInvoice]:
        book = self.batch.book
        self.batch.load_invoices(list(invoice_ids))
        found = [book.invoices[x] for x in invoice_ids if x in book.invoices]
        return [OpenInvoice(i.invoice_id, i.member_id, i.client, i.due) for i in found if i.due > 0]

    def client_invoices(self, name: str, ttc: Decimal) -> list[OpenInvoice]:
        """The invoices of that client issued for that TTC, paid or not (index `ix_invoice_clients_key_ttc`)."""
        k, book = schema.invoice_clients, self.batch.book
        key = name[:schema.CLIENT_KEY_LENGTH]
        ids = list(self.batch.conn.scalars(select(k.c.invoice_id).where(k.c.client_key == key,
                                                                         k.c.ttc == to_cents(ttc))))
        ids += [x.invoice_id for x, _ in book.new_invoices if x.ttc == ttc and client_key(x.client) == key]
        self.batch.load_invoices(ids)
        return [OpenInvoice(i.invoice_id, i.member_id, i.client, i.due, i.ttc) for i in (book.invoices[x] for x in ids)]

    def unmatched_payments(self, invoice_id: str, amount: Decimal) -> list[RecordedPayment]:
        d, m, batch = schema.documents, schema.bank_matches, self.batch
        batch.load_invoices([invoice_id])
        invoice = batch.book.invoices.get(invoice_id)
        if invoice is None or invoice.paid == 0:  # no invoice, or no payment of it at all: nothing to ask
            return []
        rows = self.batch.conn.execute(select(d.c.doc_id, d.c.member_id, d.c.issued_on).where(
            d.c.invoice_id == invoice_id, d.c.kind == "payment", d.c.amount == to_cents(amount),
            d.c.from_credit.is_(False), d.c.doc_id.not_like("BQ-%"),
            ~select(m.c.payment_id).where(m.c.payment_id == d.c.doc_id).exists()))
        found = [RecordedPayment(r.doc_id, invoice_id, r.member_id, amount, r.issued_on) for r in rows]
        found += [RecordedPayment(x.doc_id, invoice_id, x.member_id, amount, x.issued_on)  # this batch's
                  for x in batch.batch_payments(invoice_id)
                  if x.amount == amount and not x.from_credit and x.issued_on is not None
                  and not x.doc_id.startswith("BQ-")]
        return [x for x in found if x.payment_id not in batch.taken]

    def transfer(self, end_to_end_id: str) -> TransferOrder | None:
        t = schema.transfer_orders
        row = self.batch.conn.execute(select(t).where(t.c.end_to_end_id == end_to_end_id)).first()
        return None if row is None else TransferOrder(row.end_to_end_id, row.member_id, row.month,
                                                      from_cents(row.amount))

    def net_pay_to(self, iban: str, amount: Decimal) -> list[NetPayDue]:
        """Unpaid net pay of that amount of the members who registered that IBAN (rule 11 d)."""
        a, p, m = schema.member_bank_accounts, schema.payslips, schema.bank_matches
        members = list(self.batch.conn.scalars(select(a.c.member_id).where(a.c.iban == iban).distinct()))
        if not members:
            return []
        rows = self.batch.conn.execute(select(p.c.member_id, p.c.month).where(
            p.c.member_id.in_(members),
            ~select(m.c.kind).where(m.c.member_id == p.c.member_id, m.c.month == p.c.month).exists()))
        settled = {(r["member_id"], r["month"]) for r in self.batch.matches.values()}
        unpaid = [(r.member_id, r.month) for r in rows if (r.member_id, r.month) not in settled]
        # the net of each payslip as it stands (a correction's revision), not the run's first figure
        return [NetPayDue(member_id, month, amount) for member_id, month in unpaid
                if payslips.current(self.batch.conn, month, [member_id])[member_id].slip.net == amount]

    def counterparties(self) -> Sequence[Counterparty]:
        """The counterparties the rules' TOML names (rule 11 e): a short list, read from memory."""
        return self.batch.rules.treasury.counterparties


