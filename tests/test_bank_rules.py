"""DOMAIN.md rule 10 on statements as values: they add up, they follow, each line is recorded once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bank import (
    Statement,
    StatementError,
    StatementLine,
    check_adds_up,
    check_continues,
    check_statements,
    event_body,
    line_refs,
)

IBAN = "FR7630003012340123456789057"
OTHER = "FR1420041010050500013M02606"


def statement(
    lines: list[StatementLine], opening: str = "100.00", closing: str | None = None, **kw: object
) -> Statement:
    total = Decimal(opening) + sum((line.amount for line in lines), Decimal(0))
    values: dict[str, object] = {
        "account": IBAN,
        "statement_id": "S1",
        "currency": "EUR",
        "opening_balance": Decimal(opening),
        "closing_balance": Decimal(closing) if closing is not None else total,
        "from_date": date(2024, 1, 1),
        "to_date": date(2024, 1, 31),
        "lines": tuple(lines),
    }
    values.update(kw)
    return Statement(**values)  # type: ignore[arg-type]


def line(day: int, amount: str, remittance: str | None = None, bank_ref: str | None = None) -> StatementLine:
    return StatementLine(
        booked_on=date(2024, 1, day), amount=Decimal(amount), remittance=remittance, bank_ref=bank_ref
    )


def test_a_statement_that_adds_up_passes() -> None:
    check_adds_up(statement([line(2, "10.00"), line(3, "-2.50")]))


def test_a_statement_that_does_not_add_up_is_refused_with_its_figures() -> None:
    wrong = statement([line(2, "10.00"), line(3, "-2.50")], closing="110.00")
    with pytest.raises(StatementError) as refused:
        check_adds_up(wrong)
    message = str(refused.value)
    assert "\n" not in message
    for figure in (
        "opening 100.00",
        "2 lines 7.50",
        "= 107.50",
        "closing balance is 110.00",
        "difference 2.50",
    ):
        assert figure in message


def test_the_first_statement_of_an_account_sets_its_balance_then_each_must_follow() -> None:
    check_continues(statement([], opening="100.00"), None)
    check_continues(statement([], opening="100.00"), Decimal("100.00"))
    with pytest.raises(
        StatementError, match=r"opens at 100\.00, but the account's last known closing balance is 99\.99"
    ):
        check_continues(statement([], opening="100.00"), Decimal("99.99"))


def test_a_file_is_checked_in_order_account_by_account_and_refused_at_the_first_break() -> None:
    first = statement([line(2, "10.00")])  # 100 → 110
    second = statement([line(5, "-5.00")], opening="110.00", statement_id="S2")  # 110 → 105
    elsewhere = statement([], opening="7.00", account=OTHER)
    assert check_statements([first, elsewhere, second], {}) == {
        IBAN: Decimal("105.00"),
        OTHER: Decimal("7.00"),
    }
    gap = statement([], opening="104.00", statement_id="S3")
    with pytest.raises(StatementError, match="S3"):
        check_statements([first, second, gap], {})
    with pytest.raises(StatementError, match="opens at 100.00"):
        check_statements([first], {IBAN: Decimal("90.00")})


def test_a_statement_in_another_currency_is_refused() -> None:
    with pytest.raises(StatementError, match="is in CHF: only EUR"):
        check_statements([statement([], currency="CHF")], {})


def test_the_event_body_follows_the_contract() -> None:
    body = event_body(
        statement(
            [
                StatementLine(
                    booked_on=date(2024, 1, 2),
                    value_on=date(2024, 1, 3),
                    amount=Decimal("1250.5"),
                    counterparty_name="Atelier Dupont",
                    counterparty_iban="FR7630004008190001012345632",
                    remittance="F2024-001",
                    end_to_end_id="E2E-1",
                    bank_ref="R1",
                ),
                line(4, "-0.10"),
            ],
            opening="-3",
        )
    )
    assert body == {
        "type": "bank.statement_received",
        "account": IBAN,
        "statement_id": "S1",
        "opening_balance": "-3.00",
        "closing_balance": "1247.40",
        "from": "2024-01-01",
        "to": "2024-01-31",
        "lines": [
            {
                "line_ref": body["lines"][0]["line_ref"],
                "booked_on": "2024-01-02",
                "value_on": "2024-01-03",
                "amount": "1250.50",
                "counterparty_name": "Atelier Dupont",
                "counterparty_iban": "FR7630004008190001012345632",
                "remittance": "F2024-001",
                "end_to_end_id": "E2E-1",
            },
            {
                "line_ref": body["lines"][1]["line_ref"],
                "booked_on": "2024-01-04",
                "value_on": "2024-01-04",
                "amount": "-0.10",
            },
        ],
    }
    assert event_body(statement([], currency="CHF"))["currency"] == "CHF"


def test_identical_lines_of_one_day_are_two_lines_and_the_same_file_twice_gives_the_same_refs() -> None:
    twice = statement([line(3, "-2.50", "COMMISSION"), line(3, "-2.50", "COMMISSION")])
    refs = line_refs(twice)
    assert len(set(refs)) == 2
    assert line_refs(twice) == refs


def test_a_bank_reference_used_twice_on_one_day_keeps_both_lines() -> None:
    """ING's example statement gives two 125.00 credits of 3 January the same AcctSvcrRef."""
    refs = line_refs(statement([line(3, "125.00", "A", "98888208N8"), line(3, "125.00", "B", "98888208N8")]))
    assert refs[0] != refs[1]


def test_a_reference_numbered_per_day_does_not_make_tuesday_monday() -> None:
    refs = line_refs(statement([line(1, "10.00", bank_ref="1"), line(2, "10.00", bank_ref="1")]))
    assert refs[0] != refs[1]


def test_a_bank_reference_outweighs_the_text() -> None:
    """The same entry with its text reworded by the bank (another export) is the same line."""
    one = line_refs(statement([line(3, "10.00", "VIR DUPONT", "R9")]))
    other = line_refs(statement([line(3, "10.00", "VIREMENT DE DUPONT", "R9")], statement_id="S2"))
    assert one == other


def test_refs_differ_between_accounts() -> None:
    same = [line(3, "10.00", "X")]
    assert line_refs(statement(same)) != line_refs(statement(same, account=OTHER))


days = st.integers(min_value=0, max_value=9)
amounts = st.sampled_from(["-2.50", "10.00", "-40.00", "0.01"]).map(Decimal)
texts = st.sampled_from(["COMMISSION", "VIR CLIENT", "PRLV EDF", None, "COMMISSION  "])
day_lines = st.lists(st.tuples(amounts, texts), max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(day_lines, min_size=3, max_size=10), st.data())
def test_overlapping_statements_give_the_shared_days_lines_the_same_identities(
    book: list, data: st.DataObject
) -> None:
    """Two statements of one account that share whole days: the shared days' lines get the same refs."""
    start = date(2024, 2, 1)
    dated = [
        [
            StatementLine(booked_on=start + timedelta(days=day), amount=amount, remittance=text)
            for amount, text in entries
        ]
        for day, entries in enumerate(book)
    ]
    cut_a = data.draw(st.integers(min_value=1, max_value=len(book) - 1))
    cut_b = data.draw(st.integers(min_value=0, max_value=cut_a - 1))
    first = [entry for day in dated[:cut_a] for entry in day]
    second = [entry for day in dated[cut_b:] for entry in day]
    refs_first = dict(zip(line_refs(statement(first)), first, strict=True))
    refs_second = dict(zip(line_refs(statement(second, statement_id="S2")), second, strict=True))
    shared_days = {start + timedelta(days=day) for day in range(cut_b, cut_a)}
    shared_first = {ref for ref, entry in refs_first.items() if entry.booked_on in shared_days}
    shared_second = {ref for ref, entry in refs_second.items() if entry.booked_on in shared_days}
    assert shared_first == shared_second
    assert len(refs_first) == len(first) and len(refs_second) == len(
        second
    )  # no two lines of a statement share a ref
    assert set(refs_first) | set(refs_second) == set(line_refs(statement([e for d in dated for e in d])))
