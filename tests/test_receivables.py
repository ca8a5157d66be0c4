"""Rule 12's HT share of what is due, and the ageing of receivables (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

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


def test_ageing_counts_from_thirty_days_after_the_invoice() -> None:
    issued = date(2026, 6, 1)  # due on 1 July
    ages = {on: Receivable("F1", "M1", "C", issued, Decimal("10.00"), on) for on in (
        date(2026, 6, 20), date(2026, 7, 31), date(2026, 8, 1), date(2026, 9, 29), date(2026, 9, 30))}
    assert [(r.days_overdue, r.bucket) for r in ages.values()] == [
        (0, "0-30"), (30, "0-30"), (31, "31-60"), (90, "61-90"), (91, ">90")]
    assert by_bucket(list(ages.values())) == {"0-30": Decimal("20.00"), "31-60": Decimal("10.00"),
                                             "61-90": Decimal("10.00"), ">90": Decimal("10.00")}
