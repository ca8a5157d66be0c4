"""Rule 4 whatever the arrival order: a `became_associate` recorded after the sales it covers.

An assembly admits a member as associate from a date; the event may reach us
after invoices dated on or after that date. Their sociétariat share must then
be posted, so that the figures are those of the natural order.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.config import Rules
from ledger.balances import trial_balance
from ledger.closing import close_month
from ledger.db import open_ledger
from ledger.statements import statements
from streams.pipeline import Raw, process
from tests.conftest import new_database_url
from tests.ops_support import credit_note, event, invoice, joined


def associate(member_id: str, on: str) -> Raw:
    return event("member.became_associate", member_id=member_id, on=on)


def figures(engine: Engine, month: str) -> tuple[Decimal, Decimal, list[tuple[str, Decimal, Decimal]]]:
    with engine.connect() as conn:
        (s,) = statements(conn, month, ["M001"])
        return s.societariat, s.capital_total, [(b.account, b.debit, b.credit) for b in trial_balance(conn)]


def test_association_recorded_after_its_sales_counts_them(engine: Engine, rules: Rules) -> None:
    sales = [invoice("M001", "F-1", "2026-10-05", "1000.00"),   # before the association: not counted
             invoice("M001", "F-2", "2026-10-20", "500.00"),
             invoice("M001", "F-3", "2026-11-03", "333.33"),
             credit_note("M001", "A-1", "F-2", "2026-11-10", "100.00")]
    assert process(engine, [joined("M001", on="2026-01-05"), *sales], rules).processed == 5
    outcome = process(engine, [associate("M001", "2026-10-10")], rules)
    assert outcome.processed == 1 and not outcome.dead_letters
    # October: 3 % of 500.00 = 15.00; November: 3 % of (333.33 - 100.00) = 7.00 (6.9999)
    societariat, capital, _ = figures(engine, "2026-10")
    assert (societariat, capital) == (Decimal("15.00"), Decimal("15.00"))
    societariat, capital, _ = figures(engine, "2026-11")
    assert (societariat, capital) == (Decimal("7.00"), Decimal("22.00"))


def test_late_association_gives_the_figures_of_the_natural_order(
        engine: Engine, rules: Rules, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    def story(late: bool) -> list[Raw]:
        docs = [invoice("M001", "F-1", "2026-10-05", "1000.00"), invoice("M001", "F-2", "2026-10-20", "500.00"),
                invoice("M001", "F-3", "2026-10-25", "250.00")]
        assoc = [associate("M001", "2026-10-10")]
        return [joined("M001", on="2026-01-05"), *(docs + assoc if late else assoc + docs)]

    process(engine, story(late=True), rules)  # one batch, the association last
    natural = open_ledger(new_database_url(engine.dialect.name, tmp_path, request))
    try:
        process(natural, story(late=False), rules)
        assert figures(engine, "2026-10")[:2] == figures(natural, "2026-10")[:2] == (
            Decimal("22.50"), Decimal("22.50"))  # 3 % of 750.00
        assert figures(engine, "2026-10")[2] == figures(natural, "2026-10")[2]
    finally:
        natural.dispose()


def test_association_dated_in_a_closed_month_posts_in_the_first_open_one(engine: Engine, rules: Rules) -> None:
    process(engine, [joined("M001", on="2026-01-05"), invoice("M001", "F-1", "2026-09-20", "1000.00")], rules)
    with engine.begin() as conn:
        close_month(conn, "2026-09")
    outcome = process(engine, [associate("M001", "2026-09-15")], rules)
    assert outcome.processed == 1 and not outcome.dead_letters
    assert figures(engine, "2026-09")[0] == Decimal("0.00")  # the closed month is untouched
    societariat, capital, _ = figures(engine, "2026-10")
    assert (societariat, capital) == (Decimal("30.00"), Decimal("30.00"))
