"""The treasury as the staff read it (CONTRACT.md §5): bank lines and their matches, receivables, transfers.

The commands (`cli.bank`, `cli.transfers`) and, later, the pages read
through here. `check_bank_events` takes bank events through the very code
that processes them (`ledger.bank_store.BankBatch`) without recording
anything, so that a file the ledger would refuse is refused whole before any
of its statements is processed ("a refused file: nothing recorded"). What the month's
reconciliation and close read of the bank is in `ledger.bank_checks`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Engine, and_, select

from engine.config import Rules
from engine.events import BankLine, BankLineAssigned, BankStatementReceived
from engine.matching import Counterparty, Match, NetPayDue, OpenInvoice, RecordedPayment, TransferOrder, match
from engine.money import fmt, from_cents, to_cents
from engine.payouts import Payee, end_to_end_id
from engine.periods import last_day, parse_month
from ledger import payslips, schema
from ledger.bank_store import BankBatch, LedgerCandidates
from ledger.book_store import Wanted, load_book, locked_through
from ledger.db import reading


def check_bank_events(engine: Engine, rules: Rules,
                      events: Sequence[BankStatementReceived | BankLineAssigned]) -> None:
    """`RuleError` with the reason if the ledger would refuse one of these events, in this order; nothing kept.

    An event already processed is skipped: the pipeline takes it as a duplicate (the same file again).
    """
    p = schema.processed_events
    with engine.connect() as conn:
        done = set(conn.scalars(select(p.c.event_id).where(p.c.event_id.in_([e.event_id for e in events]))))
        lock = locked_through(conn)
        bank = BankBatch(conn, load_book(conn, Wanted(), lock), rules)
        for event in events:
            if event.event_id not in done:
                bank.apply(event)
        conn.rollback()


def event_id_of(body: dict[str, Any]) -> str:
    """A stable id for an event built from a file: the same statement read again is a duplicate."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{body['type']}-{digest[:40]}"


def import_summary(engine: Engine, event_ids: Sequence[str]) -> dict[str, int]:
    """`new_lines`, `matched` and `unmatched` of the statements these events brought (CONTRACT.md §5)."""
    s, m = schema.bank_statements, schema.bank_matches
    with engine.connect() as conn:
        new = sum(conn.scalars(select(s.c.new_lines).where(s.c.event_id.in_(list(event_ids)))))
        matched = len(list(conn.scalars(select(m.c.line_ref).where(m.c.event_id.in_(list(event_ids))))))
    return {"new_lines": int(new), "matched": matched, "unmatched": int(new) - matched}


def _target(target: Any) -> dict[str, Any]:
    """A match's target or a candidate, as the JSON of `cae bank lines` shows it."""
    if isinstance(target, OpenInvoice):
        return {"kind": "invoice", "invoice_id": target.invoice_id, "member_id": target.member_id,
                "client": target.client, "due": fmt(target.due)}
    if isinstance(target, RecordedPayment):
        return {"kind": "payment", "payment_id": target.payment_id, "invoice_id": target.invoice_id,
                "member_id": target.member_id, "amount": fmt(target.amount)}
    if isinstance(target, (TransferOrder, NetPayDue)):
        return {"kind": "transfer" if isinstance(target, TransferOrder) else "net_pay",
                "member_id": target.member_id, "month": target.month, "amount": fmt(target.amount)}
    assert isinstance(target, Counterparty)
    return {"kind": "account", "ledger_account": target.account, "label": target.label}


_MATCHED = ("rule", "assigned_by", "invoice_id", "payment_id", "member_id", "month", "ledger_account")


def bank_lines(engine: Engine, rules: Rules, month: str | None = None,
               unmatched_only: bool = False) -> list[dict[str, Any]]:
    """The bank lines (of a month's booking dates), unmatched first, each with its match or its candidates."""
    b, m, links = schema.bank_lines, schema.bank_matches, schema.bank_payment_links
    query = (select(b, m.c.kind, *[m.c[c].label(f"m_{c}") for c in _MATCHED], m.c.detail,
                    links.c.payment_id.label("linked_payment"))
             .select_from(b.outerjoin(m, and_(m.c.account == b.c.account, m.c.line_ref == b.c.line_ref))
                          .outerjoin(links, and_(links.c.account == b.c.account, links.c.line_ref == b.c.line_ref)))
             .order_by(b.c.booked_on, b.c.account, b.c.line_ref))
    if month is not None:
        query = query.where(b.c.booked_on.between(parse_month(month), last_day(month)))
    if unmatched_only:
        query = query.where(m.c.kind.is_(None))
    found = []
    with reading(engine) as conn:  # a read: on SQLite, no writer waits for it (the staff's page reads it)
        lock = locked_through(conn)
        bank = BankBatch(conn, load_book(conn, Wanted(), lock), rules)
        for row in conn.execute(query):
            item: dict[str, Any] = {
                "line_ref": row.line_ref, "account": row.account, "booked_on": row.booked_on.isoformat(),
                "amount": fmt(from_cents(row.amount)), "counterparty_name": row.counterparty_name,
                "remittance": row.remittance, "status": "unmatched" if row.kind is None else "matched",
                "matched_to": None, "candidates": []}
            if row.kind is not None:
                matched = {"kind": row.kind, **{c: getattr(row, f"m_{c}") for c in _MATCHED
                                                if getattr(row, f"m_{c}") is not None}}
                if row.detail:
                    matched["splits"] = json.loads(row.detail)
                if row.linked_payment:
                    matched["payment_event"] = row.linked_payment  # rule 11 a, the event that came after
                item["matched_to"] = matched
            else:
                line = BankLine.model_construct(
                    line_ref=row.line_ref, booked_on=row.booked_on, value_on=row.value_on,
                    amount=from_cents(row.amount), counterparty_name=row.counterparty_name,
                    counterparty_iban=row.counterparty_iban, remittance=row.remittance,
                    end_to_end_id=row.end_to_end_id)
                found_match = match(line, LedgerCandidates(bank, row.account))
                targets = ((found_match.target,) if isinstance(found_match, Match)
                           else found_match.candidates)
                item["candidates"] = [_target(t) for t in targets]
            found.append(item)
        conn.rollback()
    return sorted(found, key=lambda x: x["status"] == "matched")  # stable: by date within each


def find_line_account(engine: Engine, line_ref: str) -> str:
    """The account a line reference is on; `LookupError` when none or several (then `--bank-account`)."""
    b = schema.bank_lines
    with engine.connect() as conn:
        accounts = list(conn.scalars(select(b.c.account).where(b.c.line_ref == line_ref)))
    if not accounts:
        raise LookupError(f"no bank line {line_ref} (see `cae bank lines --unmatched`)")
    if len(accounts) > 1:
        raise LookupError(f"bank line {line_ref} is on {len(accounts)} accounts: say which with --bank-account")
    return accounts[0]


# -- transfers (rule 13) --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Transfers:
    payees: list[Payee]  # with an IBAN: in the file
    missing: list[Payee]  # without: listed, not paid
    revisions: dict[str, int]  # member -> the payslip revision each payee's transfer pays


def transfers_due(engine: Engine, month: str, on: date) -> Transfers:
    """The month's net pay not yet in a transfers file nor settled by a bank line, one per member."""
    t, m, a, mem = schema.transfer_orders, schema.bank_matches, schema.member_bank_accounts, schema.members
    with engine.connect() as conn:
        slips = payslips.current(conn, month)
        ordered = {(r.member_id, r.revision) for r in conn.execute(select(t.c.member_id, t.c.revision)
                                                                   .where(t.c.month == month))}
        settled = set(conn.scalars(select(m.c.member_id).where(m.c.month == month)))
        names = dict(conn.execute(select(mem.c.member_id, mem.c.name)).tuples().all())
        ibans: dict[str, str] = {}
        for row in conn.execute(select(a.c.member_id, a.c.iban).where(a.c.from_date <= on)
                                .order_by(a.c.from_date, a.c.id)):
            ibans[row.member_id] = row.iban  # the latest in force on the execution date
    payees: list[Payee] = []
    missing: list[Payee] = []
    revisions: dict[str, int] = {}
    for member_id, slip in sorted(slips.items()):
        if slip.slip.net <= 0 or member_id in settled or any(x == member_id for x, _ in ordered):
            continue
        payee = Payee(member_id, names.get(member_id, member_id), ibans.get(member_id), slip.slip.net,
                      end_to_end_id(month, member_id, slip.revision), f"Salaire {month}")
        revisions[member_id] = slip.revision
        (payees if payee.iban else missing).append(payee)
    return Transfers(payees, missing, revisions)


def record_transfers(engine: Engine, month: str, transfers: Transfers, file_id: str) -> None:
    """The transfer orders of a file, once: a payslip revision already in a file is refused by the database."""
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(schema.transfer_orders.insert(), [
            {"end_to_end_id": p.end_to_end_id, "month": month, "member_id": p.member_id,
             "revision": transfers.revisions[p.member_id], "amount": to_cents(p.amount), "iban": p.iban,
             "file_id": file_id, "created_at": now} for p in transfers.payees])
