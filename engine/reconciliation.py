"""The staff's monthly reconciliation: figures per member, totals, and checks they can sign off.

Pure: the caller reads the month's statements, payslips and ledger movements;
here they are put side by side, and every check says ok or not, with what is
wrong in words a member of staff can act on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from engine import chart
from engine.messages import Message
from engine.money import ZERO, fmt
from engine.payroll import Payslip
from engine.statement import Statement


@dataclass(frozen=True, slots=True)
class Check:
    """One line the staff signs off. `attention`: ok, but there are items to look at (a listing).

    The books' own checks (balance, statements against accounts, everyone paid,
    budgets, unpaid invoices) fail when something is wrong. Late events and
    dead letters are listings instead: a late event is the normal path for a
    document of a closed month (rule 7), and a dead letter is an event that
    never reached the books (its sender's to fix, `cae deadletter replay` after),
    so neither makes the month's figures wrong; they are shown, not failed.
    """

    title: Message  # what is checked, from the catalogue: the CLI says it in English, the pages in French
    ok: bool
    said: Message  # what was found
    attention: bool = False
    members: tuple[str, ...] = ()  # the members it names: those the staff should look at

    @property
    def name(self) -> str:
        return self.title.text("en")

    @property
    def detail(self) -> str:
        return self.said.text("en")

    @property
    def outcome(self) -> str:
        """One of `OUTCOMES`: what every surface (CLI, JSON, runs, pages) says of the check."""
        return "not_ok" if not self.ok else "attention" if self.attention else "ok"

    @property
    def label(self) -> str:
        return OUTCOMES[self.outcome]

    @property
    def verdict(self) -> Message:
        """The outcome as the catalogue says it (ok, to look at, not ok)."""
        return Message.of(f"outcome.{self.outcome}")

    def line(self) -> Message:
        """`title: detail`, as a run's record lists the checks that need a look."""
        return Message.of("check.line", title=self.title, detail=self.said)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "attention": self.attention,
                "outcome": self.outcome, "members": list(self.members)}


OUTCOMES = {o: Message.of(f"outcome.{o}").text("en") for o in ("ok", "attention", "not_ok")}
NONE = Message.of("check.none")


def listing(items: Sequence[Message], limit: int = 20, count: bool = True) -> tuple[Message, ...]:
    """The first `limit` items, then `…` (with how many in all when `count`) if there are more."""
    if len(items) <= limit:
        return tuple(items)
    rest = Message.of("check.rest_count", total=len(items)) if count else Message.of("check.rest")
    return (*items[:limit], rest)


@dataclass(frozen=True, slots=True)
class MemberLine:
    statement: Statement
    payslip: Payslip | None

    @property
    def budget_before(self) -> Decimal:
        """The budget at the month's end before its payroll, as the ledger shows it: after + cost."""
        p = self.statement.payroll
        return self.statement.budget_closing + (p.employer_cost if p else ZERO)

    def to_json(self) -> dict[str, Any]:
        row = self.statement.to_json()
        slip = self.payslip
        row["requested_gross"] = fmt(slip.requested_gross) if slip else None
        row["capped"] = bool(slip and slip.capped)
        row["budget_before"] = fmt(self.budget_before)
        return row

    def amounts(self) -> dict[str, Decimal]:
        s, p = self.statement, self.statement.payroll
        return dict(zip(AMOUNTS, (
            self.budget_before, s.revenue_ht, s.vat_collected, s.direct_costs_ht, s.other_expenses_ht,
            s.contribution, s.societariat, self.payslip.requested_gross if self.payslip else ZERO,
            p.gross if p else ZERO, p.employer_contributions if p else ZERO,
            p.employee_contributions if p else ZERO, p.net if p else ZERO, p.employer_cost if p else ZERO,
            s.budget_closing, s.capital_total), strict=True))


# A member's figures, and the month's totals: every one of them, zero in a month without members.
AMOUNTS = ("budget_before", "revenue_ht", "vat_collected", "direct_costs_ht", "other_expenses_ht", "contribution",
           "societariat", "requested_gross", "gross", "employer_contributions", "employee_contributions", "net",
           "employer_cost", "budget_closing", "capital_total")


@dataclass(frozen=True, slots=True)
class Reconciliation:
    month: str
    members: tuple[MemberLine, ...]
    totals: dict[str, Decimal]
    checks: tuple[Check, ...]
    bank: tuple[BankAccountFigures, ...] = ()
    net_pay_not_transferred: Decimal = ZERO

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_look_at(self) -> list[MemberLine]:
        """The members a check that is not plainly ok names, and those whose salary was capped."""
        named = {m for c in self.checks if c.outcome != "ok" for m in c.members}
        return [line for line in self.members
                if line.statement.member_id in named or (line.payslip is not None and line.payslip.capped)]

    def to_json(self) -> dict[str, Any]:
        return {"month": self.month, "members": [m.to_json() for m in self.members],
                "totals": {k: fmt(v) for k, v in self.totals.items()},
                "checks": [c.to_json() for c in self.checks], "ok": self.ok,
                "bank": {"accounts": [a.to_json() for a in self.bank],
                         "net_pay_not_transferred": fmt(self.net_pay_not_transferred)}}


@dataclass(frozen=True, slots=True)
class UnpaidInvoice:
    invoice_id: str
    member_id: str
    issued_on: date
    due: Decimal


@dataclass(frozen=True, slots=True)
class Recomputed:
    """A member's contribution or sociétariat of the year to date: as posted, and from the documents."""

    member_id: str
    what: str  # "contribution" or "societariat"
    posted: Decimal
    recomputed: Decimal


@dataclass(frozen=True, slots=True)
class ClientCredit:
    """What a client overpaid on a member's invoices and has not had applied yet (rule 9)."""

    member_id: str
    client: str
    credit: Decimal


@dataclass(frozen=True, slots=True)
class BankAccountFigures:
    """One bank account at its last statement of the month (CONTRACT.md §5, the reconciliation's `bank`).

    `ledger_balance`: the account's first opening balance (what the books take
    over when the account is first seen) plus the 512 movements the ledger
    posted for this account's lines booked up to `statement_to` (their own
    entries, or the `payment.received` a line was matched to): it equals the
    closing balance when every line is matched (DOMAIN.md rule 11).
    """

    iban: str
    statement_closing: Decimal
    statement_to: date
    ledger_balance: Decimal
    unmatched_lines: int

    @property
    def difference(self) -> Decimal:
        return self.statement_closing - self.ledger_balance

    def to_json(self) -> dict[str, Any]:
        return {"iban": self.iban, "statement_closing": fmt(self.statement_closing),
                "statement_to": self.statement_to.isoformat(), "ledger_balance": fmt(self.ledger_balance),
                "difference": fmt(self.difference), "unmatched_lines": self.unmatched_lines}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the ledger says beside the statements, for the checks.

    `movements`: the whole ledger's debit-positive movement per account in the
    month; `unpaid_members`: whom the payroll should have paid and has not;
    `unpaid_count`: how many invoices are unpaid when `unpaid_invoices` names
    only the first; `recomputed`: each member's year-to-date mutualisation, as
    posted and as computed again from the ledger's own lines and documents.
    """

    movements: Mapping[str, Decimal]
    balanced: tuple[Decimal, Decimal]
    unpaid_members: Sequence[str] = ()
    unpaid_invoices: Sequence[UnpaidInvoice] = ()
    unpaid_count: int = 0
    late_pieces: Sequence[str] = ()
    pending_dead_letters: int = 0
    recomputed: Sequence[Recomputed] = ()
    client_credits: Sequence[ClientCredit] = ()
    bank: Sequence[BankAccountFigures] = ()
    net_pay_not_transferred: Decimal = ZERO
    budget_basis: str = "accrual"  # what the month's payslips were capped at (rule 12)


def reconcile(month: str, members: Sequence[MemberLine], facts: Facts) -> Reconciliation:
    totals = dict.fromkeys(AMOUNTS, ZERO)
    for line in members:
        for key, value in line.amounts().items():
            totals[key] += value
    late, credits = facts.late_pieces, facts.client_credits
    checks = [_balanced(*facts.balanced), *_ledger_agrees(totals, facts.movements),
              _mutualisation(facts.recomputed),
              Check(Message.of("check.payroll"), not facts.unpaid_members,
                    Message.of("check.all_paid") if not facts.unpaid_members else
                    Message.of("check.not_paid", members=tuple(facts.unpaid_members)),
                    members=tuple(facts.unpaid_members)),
              _negative_budgets(members), _payslip_budgets(members, facts.budget_basis),
              _bank_balances(facts.bank),
              _unpaid(facts.unpaid_invoices, facts.unpaid_count),
              Check(Message.of("check.late"), True,
                    NONE if not late else Message.of("check.late_pieces", count=len(late),
                                                     pieces=(*late[:20], *(["…"] if len(late) > 20 else []))),
                    attention=bool(late)),
              Check(Message.of("check.credits"), True,
                    NONE if not credits else Message.of("check.client_credits", count=len(credits), credits=listing(
                        [Message.of("check.client_credit", client=c.client, member=c.member_id, credit=c.credit)
                         for c in credits], count=False)), attention=bool(credits),
                    members=tuple(sorted({c.member_id for c in credits}))),
              Check(Message.of("check.dead_letters"), True,
                    NONE if not facts.pending_dead_letters else
                    Message.of("check.pending", count=facts.pending_dead_letters),
                    attention=bool(facts.pending_dead_letters))]
    return Reconciliation(month, tuple(members), totals, tuple(checks), tuple(facts.bank),
                          facts.net_pay_not_transferred)


def _bank_balances(accounts: Sequence[BankAccountFigures]) -> Check:
    """Rule 11: each account's ledger balance at its last statement's date = that statement's closing."""
    wrong = [a for a in accounts if a.difference != 0]
    return Check(Message.of("check.bank"), not wrong,
                 Message.of("check.bank_agree", count=len(accounts)) if not wrong else Message.of(
                     "check.bank_differ", accounts=tuple(Message.of(
                         "check.bank_account", iban=a.iban, on=a.statement_to, statement=a.statement_closing,
                         ledger=a.ledger_balance, unmatched=a.unmatched_lines) for a in wrong)))


def _mutualisation(found: Sequence[Recomputed]) -> Check:
    """The books' contribution and sociétariat against the rules applied to the books' own sales.

    A tampered state (the bases the rules read) changes later postings while
    every sum above still agrees with itself: this check computes the figures
    again from the sales and costs in the ledger and says where they differ.
    """
    wrong = [r for r in found if r.posted != r.recomputed]
    return Check(Message.of("check.mutualisation"), not wrong,
                 Message.of("check.recomputed_agree", count=len(found)) if not wrong else Message.of(
                     "check.recomputed_differ_all", items=listing([Message.of(
                         "check.recomputed_differ", member=r.member_id, what=r.what, posted=r.posted,
                         recomputed=r.recomputed) for r in wrong], limit=10)),
                 members=tuple(sorted({r.member_id for r in wrong})))


def _balanced(debit: Decimal, credit: Decimal) -> Check:
    return Check(Message.of("check.balanced"), debit == credit,
                 Message.of("check.debit_credit" if debit == credit else "check.debit_credit_differ",
                            debit=debit, credit=credit))


# Each statement total against the ledger account it comes from (sign: debit positive).
_AGREEMENT = (("revenue_ht", chart.REVENUE, -1), ("vat_collected", chart.VAT_COLLECTED, -1),
              ("direct_costs_ht", chart.DIRECT_COSTS, 1), ("other_expenses_ht", chart.OTHER_EXPENSES, 1),
              ("contribution", chart.CONTRIBUTION, 1), ("contribution", chart.CONTRIBUTIONS_RECEIVED, -1),
              ("societariat", chart.CAPITAL, -1), ("gross", chart.GROSS_PAY, 1),
              ("employer_contributions", chart.EMPLOYER_CONTRIBUTIONS, 1), ("net", chart.NET_PAY_DUE, -1))


def _ledger_agrees(totals: Mapping[str, Decimal], movements: Mapping[str, Decimal]) -> list[Check]:
    checks = []
    for key, account, sign in _AGREEMENT:
        ledger = sign * movements.get(account, ZERO)
        ours = totals.get(key, ZERO)
        checks.append(Check(Message.of("check.statement_account", key=key, account=account), ours == ledger,
                            _agreement(ours, ledger)))
    social = totals.get("employee_contributions", ZERO) + totals.get("employer_contributions", ZERO)
    ledger = -movements.get(chart.SOCIAL_BODIES, ZERO)
    checks.append(Check(Message.of("check.social", account=chart.SOCIAL_BODIES), social == ledger,
                        _agreement(social, ledger)))
    return checks


def _agreement(ours: Decimal, ledger: Decimal) -> Message:
    return Message.of("check.equal" if ours == ledger else "check.statements_ledger", ours=ours, ledger=ledger)


def _negative_budgets(members: Sequence[MemberLine]) -> Check:
    negative = [m.statement for m in members if m.statement.budget_closing < 0]
    short = [Message.of("check.member_amount", member=s.member_id, amount=s.budget_closing) for s in negative]
    return Check(Message.of("check.negative_budget"), not short,
                 NONE if not short else Message.of("check.negative", members=listing(short)),
                 members=tuple(s.member_id for s in negative))


def _payslip_budgets(members: Sequence[MemberLine], basis: str = "accrual") -> Check:
    """Each payslip spent the budget its member's statement shows before it (issue 19).

    The statement's closing budget plus what the payslip cost is the budget
    before it, as the ledger reads it now (a correction of another month posted
    in this one is in the closing budget, not added back). They differ when a
    document dated in the month came after its payroll (the payslip is then
    corrected with a rerun), or when a payroll read a budget other than the
    statement's: both are for the staff to act on.
    """
    def shown(s: Statement) -> Decimal:  # on cash (rule 12) the payslip spent the cash budget
        return s.cash_budget_closing if basis == "cash" else s.budget_closing

    wrong = [(m.statement, m.payslip) for m in members if m.payslip is not None
             and m.payslip.budget_before != shown(m.statement) + m.payslip.employer_cost]
    differ = [Message.of("check.payslip_differs", member=s.member_id, payslip=p.budget_before,
                         statement=shown(s) + p.employer_cost) for s, p in wrong]
    return Check(Message.of("check.payslip_budgets"), not differ,
                 Message.of("check.payslips_agree", count=sum(m.payslip is not None for m in members)) if not differ
                 else Message.of("check.payslips_differ", members=listing(differ)),
                 members=tuple(s.member_id for s, _ in wrong))


def _unpaid(invoices: Sequence[UnpaidInvoice], count: int) -> Check:
    shown = [Message.of("check.unpaid_invoice", invoice=i.invoice_id, member=i.member_id, issued=i.issued_on, due=i.due)
             for i in invoices[:20]]
    return Check(Message.of("check.unpaid"), not count,
                 NONE if not count else Message.of("check.unpaid_invoices", count=count, invoices=(
                     *shown, *([Message.of("check.rest")] if count > 20 else []))),
                 members=tuple(sorted({i.member_id for i in invoices})))
