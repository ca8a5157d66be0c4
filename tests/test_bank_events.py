"""The treasury's events at the door (CONTRACT.md §5): IBANs, signed amounts, the staff's assignments."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from engine.events import MAX_EVENT_BYTES, EventError, decode, json_schema

TODAY = date(2026, 12, 1)
ACCOUNT = "FR7630006000011234567890189"
LINE = {"line_ref": "L1", "booked_on": "2026-10-20", "value_on": "2026-10-20", "amount": "120.00"}


def event(type_: str, **fields: Any) -> bytes:
    return json.dumps({"event_id": "e1", "type": type_, "occurred_at": "2026-10-01T09:00:00Z", **fields}).encode()


def statement(**fields: Any) -> bytes:
    return event("bank.statement_received", **{
        "account": ACCOUNT, "statement_id": "S1", "opening_balance": "-10.00", "closing_balance": "110.00",
        "from": "2026-10-01", "to": "2026-10-31", "lines": [LINE], **fields})


def assigned(**fields: Any) -> bytes:
    return event("bank.line_assigned", line_ref="L1", account=ACCOUNT, assigned_by="claire@cae.coop", **fields)


@pytest.mark.parametrize("iban,why", [
    ("FR7630006000011234567890188", "checksum"),
    ("FR76300060000112345678901", "length"),
    ("QQ7630006000011234567890189", "country"),
])
def test_a_member_s_iban_is_checked_by_country_length_and_check_digits(iban: str, why: str) -> None:
    with pytest.raises(EventError, match=r"^iban: .* is not a valid IBAN") as refused:
        decode(event("member.bank_account_set", member_id="M001", iban=iban, **{"from": "2026-10-01"}), TODAY)
    assert why in str(refused.value).lower() or "invalid" in str(refused.value).lower()


def test_an_iban_written_in_groups_is_taken_compact_and_a_bic_checked() -> None:
    taken = decode(event("member.bank_account_set", member_id="M001", iban="FR76 3000 6000 0112 3456 7890 189",
                         bic="AGRIFRPP", **{"from": "2026-10-01"}), TODAY)
    assert taken.get("iban") == ACCOUNT
    with pytest.raises(EventError, match="^bic: "):
        decode(event("member.bank_account_set", member_id="M001", iban=ACCOUNT, bic="AGRI-FRPP",
                     **{"from": "2026-10-01"}), TODAY)


def test_a_statement_carries_signed_amounts_and_its_account_keys_it() -> None:
    taken = decode(statement(lines=[{**LINE, "amount": "-45.10"}], closing_balance="-55.10"), TODAY)
    assert str(taken.get("lines")[0].amount) == "-45.10"
    assert taken.partition_key == ACCOUNT


@pytest.mark.parametrize("fields,where", [
    ({"account": "FR7630006000011234567890188"}, "account"),
    ({"lines": [{**LINE, "amount": "0.00"}]}, "lines.0.amount"),
    ({"lines": [{**LINE, "amount": -12.5}]}, "lines.0.amount"),
    ({"lines": [{**LINE, "amount": "-1000000.00"}]}, "lines.0.amount"),
    ({"lines": [{**LINE, "amount": "12.345"}]}, "lines.0.amount"),
    ({"closing_balance": "100000000.00"}, "closing_balance"),
    ({"lines": [LINE, {**LINE, "amount": "1.00"}]}, "lines"),
    ({"lines": [{**LINE, "counterparty_iban": "not an iban"}]}, "lines.0.counterparty_iban"),
    ({"currency": "USD"}, "currency"),
])
def test_a_statement_that_cannot_be_taken_says_where(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(EventError) as refused:
        decode(statement(**fields), TODAY)
    assert str(refused.value).startswith(f"{where}: "), str(refused.value)


def test_a_statement_may_be_larger_than_other_events_but_they_may_not() -> None:
    lines = [{**LINE, "line_ref": f"L{n}", "remittance": "x" * 200} for n in range(400)]
    big = statement(lines=lines, closing_balance=f"{-10 + 120 * 400}.00")
    assert len(big) > MAX_EVENT_BYTES
    assert len(decode(big, TODAY).get("lines")) == 400
    padded = event("member.left", member_id="M001", on="2026-10-01", pad="x" * MAX_EVENT_BYTES)
    with pytest.raises(EventError, match="bytes limit"):
        decode(padded, TODAY)


@pytest.mark.parametrize("fields", [
    {"invoice_id": "F-1"},
    {"member_id": "M001", "net_pay_month": "2026-10"},
    {"ledger_account": "431", "label": "URSSAF octobre"},
    {"ledger_account": "627", "label": "Frais", "member_id": "M001"},
    {"splits": [{"invoice_id": "F-1", "amount": "100.00"}, {"ledger_account": "627", "label": "Frais",
                                                             "amount": "2.00"}]},
])
def test_an_assignment_has_one_form(fields: dict[str, Any]) -> None:
    taken = decode(assigned(**fields), TODAY)
    assert taken.get("assigned_by") == "claire@cae.coop"
    assert taken.partition_key == ACCOUNT  # on cae.bank with its statement, even when it names a member


@pytest.mark.parametrize("fields,why", [
    ({}, "exactly one of"),
    ({"invoice_id": "F-1", "ledger_account": "431", "label": "x"}, "exactly one of"),
    ({"invoice_id": "F-1", "member_id": "M001"}, "stands alone"),
    ({"net_pay_month": "2026-10"}, "goes with member_id"),
    ({"ledger_account": "431"}, "goes with a label"),
    ({"ledger_account": "9999", "label": "x"}, "ledger_account"),
    ({"invoice_id": "F-1", "splits": [{"invoice_id": "F-1", "amount": "1.00"},
                                      {"invoice_id": "F-2", "amount": "1.00"}]}, "not both"),
    ({"splits": [{"invoice_id": "F-1", "amount": "1.00"}]}, "splits"),
    ({"splits": [{"invoice_id": "F-1", "amount": "1.00"}, {"invoice_id": "F-2", "amount": "-1.00"}]}, "splits"),
    ({"splits": [{"invoice_id": "F-1", "amount": "1.00"}, {"amount": "1.00"}]}, "exactly one of"),
])
def test_an_assignment_of_no_form_or_two_is_refused(fields: dict[str, Any], why: str) -> None:
    with pytest.raises(EventError, match=why):
        decode(assigned(**fields), TODAY)


def test_cae_schema_publishes_the_treasury_events() -> None:
    defs = json_schema()["$defs"]
    assert {"MemberBankAccountSet", "BankStatementReceived", "BankLineAssigned"} <= set(defs)
    assert defs["BankStatementReceived"]["properties"]["from"]["format"] == "date"
