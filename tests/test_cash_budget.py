"""The budget on cash (DOMAIN.md rule 12), on both backends: the statement shows it, the payroll caps at it.

The cash budget is the activity budget less what the member's clients still owe
excluding VAT, `round(due_ttc × net_ht / net_ttc)` per invoice, all as at the
month's last day; `budget_basis = "cash"` in a [[rates]] block makes the payroll
cap there instead of at the activity budget.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from engine.config import Rules, parse_rules
from ledger.payroll_run import payroll
from ledger.receivables import receivables_ht
from ledger.reconciliation import month_reconciliation
from ledger.statements import statements
from tests.ops_support import BASE_RATES, credit_note, event, ingest, invoice, joined, salary

CASH = parse_rules(BASE_RATES + 'budget_basis = "cash"\n')


def _story(engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M1"), salary("M1", "2026-03", "3000.00"),
           invoice("M1", "F1", "2026-03-02", "1000.00"),  # 1200.00 TTC
           invoice("M1", "F2", "2026-03-05", "300.00", vat_rate="0.10"),  # 330.00 TTC
           event("payment.received", payment_id="P1", invoice_id="F1", member_id="M1", received_on="2026-03-20",
                 amount="600.00"),
           event("payment.received", payment_id="P2", invoice_id="F2", member_id="M1", received_on="2026-04-02",
                 amount="330.00"),  # after March: still owed at March's end
           credit_note("M1", "A1", "F1", "2026-03-25", "100.00"))  # F1: net 900 HT, 1080 TTC, 480 due


def test_the_statement_shows_both_budgets(engine: Engine, rules: Rules) -> None:
    _story(engine, rules)
    with engine.connect() as conn:
        (march,) = statements(conn, "2026-03", ["M1"])
        (april,) = statements(conn, "2026-04", ["M1"])
    # F1: round(480 × 900 / 1080) = 400.00; F2: 330 × 300 / 330 = 300.00
    assert march.to_json()["receivables_ht"] == "700.00"
    assert march.cash_budget_closing == march.budget_closing - Decimal("700.00")
    assert april.to_json()["receivables_ht"] == "400.00"  # F2 paid on 2 April


def test_on_cash_the_payroll_caps_at_the_cash_budget(engine: Engine, rules: Rules) -> None:
    _story(engine, rules)
    with engine.begin() as conn:
        accrual_budget = statements(conn, "2026-03", ["M1"])[0].budget_closing
        (slip,) = payroll(conn, "2026-03", CASH, date(2026, 4, 1)).payslips
    assert slip.budget_before == accrual_budget - Decimal("700.00") and slip.capped
    assert slip.employer_cost <= slip.budget_before
    with engine.connect() as conn:  # one definition: the statement's cash budget is what the payslip spent
        report = month_reconciliation(conn, "2026-03", CASH).to_json()
        (march,) = statements(conn, "2026-03", ["M1"])
    check = next(c for c in report["checks"] if c["name"].startswith("payslips' budget"))
    assert check["ok"], check["detail"]
    assert march.cash_budget_closing + slip.employer_cost == slip.budget_before


def test_on_accrual_the_payroll_caps_at_the_activity_budget(engine: Engine, rules: Rules) -> None:
    _story(engine, rules)
    with engine.begin() as conn:
        accrual_budget = statements(conn, "2026-03", ["M1"])[0].budget_closing
        (slip,) = payroll(conn, "2026-03", rules, date(2026, 4, 1)).payslips
    assert slip.budget_before == accrual_budget


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(invoices=st.lists(st.tuples(st.integers(1, 500000), st.sampled_from(["0.20", "0.10", "0.055", "0.00"]),
                                   st.integers(0, 100), st.integers(0, 100)), min_size=1, max_size=4))
def test_receivables_ht_is_the_rounded_ht_share_of_what_is_due(engine: Engine, rules: Rules,
                                                               invoices: list[tuple[int, str, int, int]]) -> None:
    """Each invoice: HT, VAT rate, % of its TTC paid, % of its HT credited: Σ round(due × net_ht / net_ttc)."""
    member = f"R{abs(hash(tuple(invoices))) % 10**9}"
    raws, expected = [joined(member)], Decimal(0)
    for n, (cents, rate, paid_pct, credited_pct) in enumerate(invoices):
        ht = Decimal(cents) / 100
        invoice_id = f"{member}-F{n}"
        raws.append(invoice(member, invoice_id, "2026-03-02", str(ht), vat_rate=rate))
        ttc = ht + (ht * Decimal(rate)).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        credited = (ht * credited_pct / 100).quantize(Decimal("0.01"), "ROUND_DOWN")
        credited_ttc = Decimal(0)
        if 0 < credited:
            raws.append(event("credit_note.issued", credit_note_id=f"{invoice_id}-A", invoice_id=invoice_id,
                              member_id=member, issued_on="2026-03-10",
                              lines=[{"label": "x", "amount_ht": str(credited), "vat_rate": rate}]))
            credited_ttc = ttc if credited == ht else credited + (credited * Decimal(rate)).quantize(
                Decimal("0.01"), "ROUND_HALF_UP")
        paid = ((ttc - credited_ttc) * paid_pct / 100).quantize(Decimal("0.01"), "ROUND_DOWN")
        if paid > 0:
            raws.append(event("payment.received", payment_id=f"{invoice_id}-P", invoice_id=invoice_id,
                              member_id=member, received_on="2026-03-12", amount=str(paid)))
        net_ht, net_ttc = ht - credited, ttc - credited_ttc
        due = net_ttc - paid
        if net_ttc and due > 0:
            expected += (due * net_ht / net_ttc).quantize(Decimal("0.01"), "ROUND_HALF_UP")
    ingest(engine, rules, *raws)
    with engine.connect() as conn:
        assert receivables_ht(conn, date(2026, 3, 31), [member]) == {member: expected}
        assert receivables_ht(conn, date(2026, 3, 1), [member]) == {member: Decimal(0)}  # before any invoice
