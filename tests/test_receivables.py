"""Rule 12's HT share of what is due, and the ageing of receivables (pure)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from engine.money import CENT, ZERO
from engine.receivables import Receivable, by_bucket, outstanding_ht

cents = st.integers(0, 10**9).map(lambda c: Decimal(c) / 100)


def test_the_ht_share_of_what_is_due() -> None:
    assert outstanding_ht(Decimal("600.00"), Decimal("1000.00"), Decimal("1200.00")) == Decimal("500.00")
    assert outstanding_ht(Decimal("0.01"), Decimal("1.00"), Decimal("1.20")) == Decimal("0.01")  # 0.00833 → 0.01
    assert outstanding_ht(Decimal("100.00"), Decimal("0.00"), Decimal("0.00")) == Decimal("0.00")  # cancelled
    assert outstanding_ht(Decimal("-50.00"), Decimal("1000.00"), Decimal("1200.00")) == Decimal("0.00")  # overpaid


@given(net_ht=cents, vat=cents, paid=cents)
def test_a_fully_paid_invoice_owes_nothing_and_an_unpaid_one_its_whole_ht(net_ht: Decimal, vat: Decimal,
                                                                          paid: Decimal) -> None:
    net_ttc = net_ht + vat
    assert outstanding_ht(Decimal(0), net_ht, net_ttc) == 0
    if net_ttc:
        assert outstanding_ht(net_ttc, net_ht, net_ttc) == net_ht
        part = outstanding_ht(min(paid, net_ttc), net_ht, net_ttc)
        assert 0 <= part <= net_ht


signed = st.integers(-10**10, 10**10).map(lambda c: Decimal(c) / 100)  # the amounts' ceiling either way


@given(due=signed, net_ht=signed, net_ttc=signed)
@example(due=Decimal("0.05"), net_ht=Decimal("0.10"), net_ttc=Decimal("0.20"))  # 0.025: half, up
@example(due=Decimal("0.05"), net_ht=Decimal("-0.10"), net_ttc=Decimal("0.20"))  # -0.025: half, away from 0
@example(due=Decimal("0.05"), net_ht=Decimal("0.10"), net_ttc=Decimal("-0.20"))
@example(due=Decimal("0.03"), net_ht=Decimal("0.10"), net_ttc=Decimal("0.20"))  # 0.015
def test_the_ht_share_in_integer_cents_is_the_decimal_formula_to_the_cent(due: Decimal, net_ht: Decimal,
                                                                         net_ttc: Decimal) -> None:
    """Issue 18, point 4: rule 12's share computed in integers is `round(due × HT / TTC)` half up, as in Decimal."""
    formula = ZERO if net_ttc == 0 or due <= 0 else (due * net_ht / net_ttc).quantize(CENT, ROUND_HALF_UP)
    assert outstanding_ht(due, net_ht, net_ttc) == formula


def test_ageing_counts_from_thirty_days_after_the_invoice() -> None:
    issued = date(2026, 6, 1)  # due on 1 July
    ages = {on: Receivable("F1", "M1", "C", issued, Decimal("10.00"), on) for on in (
        date(2026, 6, 20), date(2026, 7, 31), date(2026, 8, 1), date(2026, 9, 29), date(2026, 9, 30))}
    assert [(r.days_overdue, r.bucket) for r in ages.values()] == [
        (0, "0-30"), (30, "0-30"), (31, "31-60"), (90, "61-90"), (91, ">90")]
    assert by_bucket(list(ages.values())) == {"0-30": Decimal("20.00"), "31-60": Decimal("10.00"),
                                             "61-90": Decimal("10.00"), ">90": Decimal("10.00")}
