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

    name: str
    ok: bool
    detail: str
    attention: bool = False
    members: tuple[str, ...] = ()  # the members it names: those the staff should look at

    @property
    def outcome(self) -> str:
        """One of `OUTCOMES`: what every surface (CLI, JSON, runs, pages) says of the check."""
        return "not_ok" if not self.ok else "attention" if self.attention else "ok"

    @property
    def label(self) -> str:
        return OUTCOMES[self.outcome]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "attention": self.attention,
                "outcome": self.outcome, "members": list(self.members)}


OUTCOMES = {"ok": "ok", "attention": "to look at", "not_ok": "not ok"}


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
              Check("payroll run for every eligible member", not facts.unpaid_members,
                    "all paid" if not facts.unpaid_members else "not paid: " + ", ".join(facts.unpaid_members),
                    members=tuple(facts.unpaid_members)),
              _negative_budgets(members), _payslip_budgets(members, facts.budget_basis),
              _bank_balances(facts.bank),
              _unpaid(facts.unpaid_invoices, facts.unpaid_count),
              Check("late events posted from a closed month", True,
                    "none" if not late else f"{len(late)} posted here: "
                    + ", ".join(late[:20]) + (" …" if len(late) > 20 else ""), attention=bool(late)),
              Check("clients' credit balances (overpayments)", True,
                    "none" if not credits else f"{len(credits)}: " + ", ".join(
                        f"{c.client} for {c.member_id} ({fmt(c.credit)})" for c in credits[:20])
                    + (" …" if len(credits) > 20 else ""), attention=bool(credits),
                    members=tuple(sorted({c.member_id for c in credits}))),
              Check("dead letters pending", True,
                    "none" if not facts.pending_dead_letters else
                    f"{facts.pending_dead_letters} pending, not in the books: see `cae deadletter list`",
                    attention=bool(facts.pending_dead_letters))]
    return Reconciliation(month, tuple(members), totals, tuple(checks), tuple(facts.bank),
                          facts.net_pay_not_transferred)


def _bank_balances(accounts: Sequence[BankAccountFigures]) -> Check:
    """Rule 11: each account's ledger balance at its last statement's date = that statement's closing."""
    wrong = [a for a in accounts if a.difference != 0]
    return Check("bank balances = the last statements' closing balances", not wrong,
                 f"{len(accounts)} account(s) agree" if not wrong else "differ: " + ", ".join(
                     f"{a.iban} on {a.statement_to}: statement {fmt(a.statement_closing)}, ledger "
                     f"{fmt(a.ledger_balance)} ({a.unmatched_lines} line(s) unmatched: `cae bank lines --unmatched`)"
                     for a in wrong))


def _mutualisation(found: Sequence[Recomputed]) -> Check:
    """The books' contribution and sociétariat against the rules applied to the books' own sales.

    A tampered state (the bases the rules read) changes later postings while
    every sum above still agrees with itself: this check computes the figures
    again from the sales and costs in the ledger and says where they differ.
    """
    wrong = [r for r in found if r.posted != r.recomputed]
    return Check("contribution and sociétariat recomputed from the ledger", not wrong,
                 f"{len(found)} member-figures of the year agree" if not wrong else "; ".join(
                     f"{r.member_id} {r.what}: posted {fmt(r.posted)}, rules give {fmt(r.recomputed)}"
                     for r in wrong[:10]) + (f" … ({len(wrong)} in all)" if len(wrong) > 10 else ""),
                 members=tuple(sorted({r.member_id for r in wrong})))


def _balanced(debit: Decimal, credit: Decimal) -> Check:
    return Check("trial balance balanced", debit == credit,
                 f"debit {fmt(debit)} = credit {fmt(credit)}" if debit == credit
                 else f"debit {fmt(debit)} != credit {fmt(credit)}")


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
        checks.append(Check(f"statements' {key} = account {account}", ours == ledger,
                            f"{fmt(ours)} = {fmt(ledger)}" if ours == ledger
                            else f"statements {fmt(ours)}, ledger {fmt(ledger)}"))
    social = totals.get("employee_contributions", ZERO) + totals.get("employer_contributions", ZERO)
    ledger = -movements.get(chart.SOCIAL_BODIES, ZERO)
    checks.append(Check(f"statements' social contributions = account {chart.SOCIAL_BODIES}",
                        social == ledger, f"{fmt(social)} = {fmt(ledger)}" if social == ledger
                        else f"statements {fmt(social)}, ledger {fmt(ledger)}"))
    return checks


def _negative_budgets(members: Sequence[MemberLine]) -> Check:
    negative = [m.statement for m in members if m.statement.budget_closing < 0]
    short = [f"{s.member_id} ({fmt(s.budget_closing)})" for s in negative]
    return Check("no member with a negative budget", not short,
                 "none" if not short else "negative: " + ", ".join(short[:20])
                 + (f" … ({len(short)} in all)" if len(short) > 20 else ""),
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
    differ = [f"{s.member_id} (payslip {fmt(p.budget_before)}, statement {fmt(shown(s) + p.employer_cost)})"
              for s, p in wrong]
    return Check("payslips' budget before payroll = statements'", not differ,
                 f"{sum(m.payslip is not None for m in members)} payslips agree" if not differ
                 else "differ: " + ", ".join(differ[:20]) + (f" … ({len(differ)} in all)" if len(differ) > 20 else ""),
                 members=tuple(s.member_id for s, _ in wrong))


def _unpaid(invoices: Sequence[UnpaidInvoice], count: int) -> Check:
    return Check("no invoice unpaid after 60 days", not count,
                 "none" if not count else f"{count} unpaid: " + ", ".join(
                     f"{i.invoice_id} ({i.member_id}, {i.issued_on}, {fmt(i.due)} due)"
                     for i in invoices[:20]) + (" …" if count > 20 else ""),
                 members=tuple(sorted({i.member_id for i in invoices})))
