"""The October cooperative of the web tests (tests/web_support.py) with a bank: an October statement in
CFONB 120 whose lines wait for the staff (one naming two invoices, one naming none, bank charges),
the same statement not adding up, and the members' IBANs.
"""

from __future__ import annotations

import json
from decimal import Decimal

from tests.bank_support import balance, movement

BANK, BRANCH, NUMBER = "30006", "00001", "12345678901"
ACCOUNT = "FR7630006000011234567890189"  # the IBAN of that RIB (schwifty: RIB key 89)
IBANS = {"M001": "FR1420041010050500013M02606", "M003": "DE89370400440532013000"}
# (booked DDMMYY, amount, label): a credit naming two invoices with more than it still due on each
# (two candidates), a credit naming none (for a split: F-M003-0001 880.00 + F-M001-0002 400.00), charges.
LINES = [("281026", Decimal("300.00"), "VIR F-M002-0001 F-M003-0001"),
         ("291026", Decimal("1280.00"), "VIR REGLEMENTS GROUPES"),
         ("301026", Decimal("-45.00"), "FRAIS TENUE DE COMPTE")]
OPENING = Decimal("1000.00")


def october_statement(closing: Decimal | None = None) -> bytes:
    """October's CFONB 120 statement; `closing` other than the lines' sum makes one that does not add up."""
    reached = OPENING + sum(amount for _, amount, _ in LINES)
    records = [balance("01", BANK, BRANCH, NUMBER, "300926", OPENING)]
    records += [movement(BANK, BRANCH, NUMBER, on, amount, label) for on, amount, label in LINES]
    records.append(balance("07", BANK, BRANCH, NUMBER, "311026", reached if closing is None else closing))
    return ("\r\n".join(records) + "\r\n").encode("ascii")


def iban_events() -> bytes:
    """The members' IBANs as events (for a ledger the web did not write)."""
    return "\n".join(json.dumps({"event_id": f"iban-{m}", "type": "member.bank_account_set",
                                 "occurred_at": "2026-10-01T09:00:00Z", "member_id": m, "iban": iban,
                                 "from": "2026-10-01"}) for m, iban in IBANS.items()).encode()
