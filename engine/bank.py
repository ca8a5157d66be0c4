"""Bank statements as values, and the rules that take one whole or not at all (DOMAIN.md rule 10).

Every reader of a bank file (treasury/: CAMT.053, OFX, CFONB 120, CSV) turns
it into these frozen values; everything after the reader sees one shape,
whatever the bank sent. The rules here are pure: a statement is refused with
its figures when it does not add up (opening + Σ lines ≠ closing) or does not
continue the account's last known closing balance, and each line gets the
identity under which it is recorded once however many files bring it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from engine.messages import Message, Refused
from engine.money import CURRENCY, fmt

EVENT_TYPE = "bank.statement_received"


class StatementError(Refused):
    """Why a statement is refused: one line with the figures, for the user and the dead letters; a
    message of the catalogue, so that the staff's upload page says it in French (issue 16, point 7)."""


@dataclass(frozen=True)
class StatementLine:
    """One booked movement: `amount` signed from the account holder's side (credit > 0).

    `bank_ref` is the bank's own reference of the entry (CAMT `AcctSvcrRef` or
    `NtryRef`, OFX `FITID`, a CSV's reference column); CFONB 120 has none that
    banks fill reliably, so its lines go by the fallback identity of rule 10.
    """

    booked_on: date
    amount: Decimal
    value_on: date | None = None
    remittance: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    end_to_end_id: str | None = None
    bank_ref: str | None = None


@dataclass(frozen=True)
class Statement:
    """One account's statement: balances, period and lines, as the bank states them.

    `from_date` is the date of the opening balance and `to_date` that of the
    closing balance, in every format, so that the ledger's balance at
    `to_date` can be compared with `closing_balance` (rule 11).
    """

    account: str
    statement_id: str
    currency: str
    opening_balance: Decimal
    closing_balance: Decimal
    from_date: date
    to_date: date
    lines: tuple[StatementLine, ...]

    @property
    def name(self) -> Message:
        """How messages name it: by the bank's id, or by its dates when the id is derived."""
        if self.statement_id == derived_statement_id(self.account, self.from_date, self.to_date):
            return Message.of("bank.statement_dated", account=self.account, start=self.from_date, end=self.to_date)
        return Message.of("bank.statement_named", id=self.statement_id, account=self.account)


def derived_statement_id(account: str, from_date: date, to_date: date) -> str:
    """The id of a statement whose format gives none (CFONB, OFX, CSV): stable when the file comes again."""
    return f"{account}/{from_date.isoformat()}/{to_date.isoformat()}"


def check_currency(statement: Statement) -> None:
    """v1 books euros only (CONTRACT.md §1): a statement in another currency is refused, not converted."""
    if statement.currency != CURRENCY:
        raise StatementError("bank.currency", statement=statement.name, currency=statement.currency,
                             expected=CURRENCY)


def check_adds_up(statement: Statement) -> None:
    """Rule 10: opening + Σ lines = closing, or the statement is refused with the figures in one line."""
    total = sum((line.amount for line in statement.lines), Decimal(0))
    reached = statement.opening_balance + total
    if reached != statement.closing_balance:
        raise StatementError("bank.not_adding_up", statement=statement.name, opening=statement.opening_balance,
                             count=len(statement.lines), total=total, reached=reached,
                             closing=statement.closing_balance, difference=statement.closing_balance - reached)


def check_continues(statement: Statement, last_closing: Decimal | None) -> None:
    """Rule 10: a statement opens at the account's last known closing balance; the first one sets it."""
    if last_closing is not None and statement.opening_balance != last_closing:
        raise StatementError("bank.not_following", statement=statement.name, opening=statement.opening_balance,
                             closing=last_closing)


def check_statements(
    statements: Sequence[Statement], last_closings: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """A file's statements, in their order, each checked against the one before on its account.

    `last_closings` holds each known account's last closing balance. Returns
    them as they stand after the file; raises at the first statement refused,
    so that a file is taken whole or not at all.
    """
    closings = dict(last_closings)
    for statement in statements:
        check_currency(statement)
        check_adds_up(statement)
        check_continues(statement, closings.get(statement.account))
        closings[statement.account] = statement.closing_balance
    return closings


def _same_text(text: str | None) -> str:
    """Remittance as compared for identity: runs of blanks count as one, ends trimmed."""
    return " ".join((text or "").split())


def line_refs(statement: Statement) -> tuple[str, ...]:
    """Each line's identity (rule 10), in the order of the lines.

    The bank's entry reference where the line has one, else the account,
    booking date, amount and remittance; then the line's rank among the lines
    of the statement that share all of it. Identical lines of one day are
    interchangeable, so overlapping files that both hold that whole day give
    them the same identities, and the same file twice adds nothing. The bank's
    reference is kept with the date and amount: a bank that numbers its
    entries per day (NtryRef 1, 2, …) must not make Tuesday's first line
    Monday's. A hash keeps the identity short enough to type.
    """
    seen: Counter[tuple[str, ...]] = Counter()
    refs = []
    for line in statement.lines:
        basis = ("ref", line.bank_ref) if line.bank_ref else ("text", _same_text(line.remittance))
        key = (statement.account, line.booked_on.isoformat(), fmt(line.amount), *basis)
        seen[key] += 1
        digest = hashlib.sha256("\x1f".join((*key, str(seen[key]))).encode("utf-8"))
        refs.append(digest.hexdigest()[:20])
    return tuple(refs)


def event_body(statement: Statement) -> dict[str, Any]:
    """The `bank.statement_received` event of CONTRACT.md §5, without the common fields.

    Amounts are 2-decimal strings; the four optional fields of a line are left
    out when the bank gave nothing; a line without a value date takes its
    booking date. A statement in another currency than EUR says so in
    `currency`, so that the event is refused at the door with that reason.
    """
    lines = []
    for ref, line in zip(line_refs(statement), statement.lines, strict=True):
        item: dict[str, Any] = {
            "line_ref": ref,
            "booked_on": line.booked_on.isoformat(),
            "value_on": (line.value_on or line.booked_on).isoformat(),
            "amount": fmt(line.amount),
        }
        optional = {
            "counterparty_name": line.counterparty_name,
            "counterparty_iban": line.counterparty_iban,
            "remittance": line.remittance,
            "end_to_end_id": line.end_to_end_id,
        }
        item.update({key: value for key, value in optional.items() if value})
        lines.append(item)
    body: dict[str, Any] = {
        "type": EVENT_TYPE,
        "account": statement.account,
        "statement_id": statement.statement_id,
        "opening_balance": fmt(statement.opening_balance),
        "closing_balance": fmt(statement.closing_balance),
        "from": statement.from_date.isoformat(),
        "to": statement.to_date.isoformat(),
        "lines": lines,
    }
    if statement.currency != CURRENCY:
        body["currency"] = statement.currency
    return body
