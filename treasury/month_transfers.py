"""The month's transfers file, made and recorded once (DOMAIN.md rule 13): `cae payroll transfers` and the
staff's download (`web.pages_bank`) both make it here, so that they give the same bytes.

`prepare` finds the net pay still unpaid (`ledger.treasury.transfers_due`),
the account it leaves from and the file; `record` records its transfer orders,
after which the same month gives only what no file has paid yet. The CLI
writes the file between the two (so a failure leaves neither a file nobody
recorded nor orders without their file); the page records, then sends it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, select

from engine.config import Rules
from engine.messages import Refused
from engine.money import ZERO, fmt
from ledger import schema, treasury
from treasury.pain001 import Debtor, transfers_file


class WhichAccount(Refused):
    """Several accounts (or none) could pay the salaries: the caller must say which."""


def known_accounts(engine: Engine, rules: Rules) -> list[str]:
    """The cooperative's accounts: those its statements brought, and those the rules name."""
    with engine.connect() as conn:
        known = set(conn.scalars(select(schema.bank_accounts.c.iban))) | set(dict(rules.treasury.accounts))
    return sorted(known)


def debtor(engine: Engine, rules: Rules, account: str | None) -> Debtor:
    """The account the salaries leave from: the one given, else the only one the ledger or the rules know."""
    named = dict(rules.treasury.accounts)
    if account is None:
        known = known_accounts(engine, rules)
        if not known:
            raise WhichAccount("transfers.no_account")
        if len(known) > 1:
            raise WhichAccount("transfers.which_account", known=tuple(known))
        account = known[0]
    return Debtor(named.get(account, "Cooperative"), account)


@dataclass(frozen=True, slots=True)
class MonthTransfers:
    month: str
    due: treasury.Transfers
    data: bytes | None  # None: nothing to pay
    file_id: str | None

    @property
    def total(self) -> Decimal:
        return sum((p.amount for p in self.due.payees), ZERO)

    def summary(self) -> dict[str, object]:
        """`cae payroll transfers --json` (CONTRACT.md §5)."""
        return {"transactions": len(self.due.payees), "total": fmt(self.total),
                "missing_iban": [p.member_id for p in self.due.missing]}


def prepare(engine: Engine, rules: Rules, month: str, on: date, account: str | None) -> MonthTransfers:
    """The month's file, executed on `on` from `account`; nothing recorded yet."""
    due = treasury.transfers_due(engine, month, on)
    if not due.payees:
        return MonthTransfers(month, due, None, None)
    data = transfers_file(debtor(engine, rules, account), due.payees, on)
    return MonthTransfers(month, due, data, "PAY-" + hashlib.sha256(data).hexdigest()[:24].upper())


def record(engine: Engine, made: MonthTransfers) -> None:
    """Its transfer orders: each payslip is in this file and no other (a second one is refused by the database)."""
    if made.file_id is not None:
        treasury.record_transfers(engine, made.month, made.due, made.file_id)
