"""A bank statement taken whole or not at all, and what its lines post (DOMAIN.md rules 10 and 11).

Pure: the ledger (`ledger.bank_store`) tells what it knows of the account,
these functions decide. How an overlapping statement is taken (DOMAIN.md:
"the same file twice, or overlapping files, add nothing"), a choice written
down here:

- a statement is first checked on its own: opening + Σ lines = closing
  (`engine.bank.check_adds_up`, the figures in the reason);
- its opening must be a balance the account is known to have had at its
  start: the last closing balance (the usual next statement), or the
  account's balance before its first day, computed from the first
  statement's opening and the lines already known booked before that day
  (a file that repeats or overlaps earlier ones);
- only its lines not yet known are recorded; after them the account must
  stand at its closing balance when the statement ends on or after the last
  one, and a statement that ends before the last one may bring no new line
  (a line in the middle of a period already stated would contradict it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from engine import chart
from engine.bank import Statement, StatementError, StatementLine, check_adds_up
from engine.events import BankLine, BankStatementReceived
from engine.money import CURRENCY
from engine.postings import Entry, Line


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the ledger knows of an account before a statement: None for an account never seen."""

    last_closing: Decimal
    last_to: date
    balance_before: Decimal | None  # at the start of the statement's first day, from the known lines


def as_statement(event: BankStatementReceived) -> Statement:
    """The event as `engine.bank`'s value, so that its checks and messages serve here too."""
    return Statement(event.account, event.statement_id, CURRENCY, event.opening_balance, event.closing_balance,
                     event.from_, event.to, tuple(StatementLine(line.booked_on, line.amount) for line in event.lines))


def new_lines(event: BankStatementReceived, state: AccountState | None,
              known: set[str]) -> list[BankLine]:
    """The lines to record, or `StatementError` with the figures when the statement cannot be taken."""
    statement = as_statement(event)
    if event.to < event.from_:
        raise StatementError("bank.ends_before_start", statement=statement.name, end=event.to, start=event.from_)
    check_adds_up(statement)
    fresh = [line for line in event.lines if line.line_ref not in known]
    if state is None:
        return fresh
    opening = event.opening_balance
    if opening != state.last_closing and opening != state.balance_before:
        figures = {"statement": statement.name, "opening": opening, "closing": state.last_closing,
                   "on": state.last_to}
        if state.balance_before is None:
            raise StatementError("bank.not_following.dated", **figures)
        raise StatementError("bank.not_following.either", before=state.balance_before, start=event.from_, **figures)
    added = sum((line.amount for line in fresh), Decimal(0))
    if event.to >= state.last_to:
        if state.last_closing + added != event.closing_balance:
            raise StatementError("bank.overlap_disagrees", statement=statement.name, last=state.last_closing,
                                 count=len(fresh), added=added, reached=state.last_closing + added,
                                 closing=event.closing_balance)
    elif fresh:
        raise StatementError("bank.inside_stated", statement=statement.name, end=event.to, last=state.last_to,
                             count=len(fresh))
    return fresh


def settle_entry(line_amount: Decimal, booked_on: date, piece: str, label: str, account: str,
                 member_id: str | None, on: date, event_id: str) -> Entry:
    """A bank line's entry in `BQ` against `account` (421 net pay, 431, 627…): 512 moves by the line."""
    lines = (Line(chart.BANK, line_amount, member_id), Line(account, -line_amount, member_id))
    return Entry("BQ", on, piece, booked_on, label, lines, event_id)


def split_total(amounts: Sequence[Decimal], line_amount: Decimal) -> None:
    """The staff's split must give the whole line, no more, no less (CONTRACT.md §5)."""
    total = sum(amounts, Decimal(0))
    if total != abs(line_amount):
        raise StatementError("bank.splits_total", total=total, line=line_amount)
