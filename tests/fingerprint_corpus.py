"""Events of every type in every form we know, and what the door made of each (issue 18, point 5).

A redelivered event is a duplicate only if its fingerprint (`engine.events.fingerprint`) is the one
it had when it was first processed: any change to how events are decoded or hashed must leave every
fingerprint byte-identical, and every refusal the same words. `tests/data/fingerprints.json` was
written by the code before the hot path was redesigned (issue 18), with

    python -m tests.fingerprint_corpus --write

and must never be rewritten to make a test pass: a line whose fingerprint changed would be a
conflict, not a duplicate, for every ledger that processed it before.

The corpus: one sound event of each type (`tests.test_bounds.EXAMPLES`) and variants of them with
every optional field, other offsets and fractions of a second, amounts and rates in their other
forms, texts with accents, quotes, escapes and characters outside the BMP; the hostile corpus
(`tests.hostile`); the sample cooperative (with its deliberate flaws) and the bench's events.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from engine.events import EventError, decode, fingerprint
from engine.sample import cooperative, throughput_events
from tests.hostile import GOOD, HOSTILE
from tests.test_bounds import EXAMPLES, example

TODAY = date(2026, 12, 5)
FIXTURE = Path(__file__).parent / "data" / "fingerprints.json"
IBAN = "FR7630006000011234567890189"
TEXTS = ["Café « crème » — l’été", 'quote " and backslash \\ and slash /', "tab\tinside", "☕ 𝄞 emoji 😀",
         "\u00e9 composed vs e\u0301", "<script>&amp;</script>", "x" * 500]
MOMENTS = ["2026-10-01T09:00:00Z", "2026-10-01T09:00:00+00:00", "2026-10-01T09:00:00.5+02:00",
           "2026-10-01T09:00:00.123456-05:30", "2026-10-01T23:59:59.000001+14:00", "2026-10-01T09:00:00.100Z",
           "2026-10-01 09:00:00Z", "2026-10-01T09:00Z", "2026-10-01T09:00:00+0200", "2026-10-01T09:00:00"]
AMOUNTS = ["100", "100.5", "100.50", "0.01", "999999.99", "0", "0.00", "1e2", "+5.00", "05.00", "100.505"]
RATES = ["0", "0.2", "0.20", "0.055", "0.085000", "0.0000001", "1", "0.999999"]

VARIANTS: dict[str, list[dict[str, Any]]] = {
    "invoice.issued": [{"currency": "EUR"}, {"lines": [{"label": "a", "amount_ht": "10.00", "vat_rate": "0.2"},
                                                       {"label": "b", "amount_ht": "0.05", "vat_rate": "0.055"},
                                                       {"label": "c", "amount_ht": "3", "vat_rate": "0"}]}],
    "payment.received": [{"from_credit": True}, {"from_credit": False}, {"currency": "EUR"}],
    "expense.recorded": [{"direct_cost": True}, {"vat": "0"}, {"vat": "0.00"}],
    "salary.set": [{"gross": "0"}, {"gross": "0.00"}],
    "assembly.convened": [{"convened_on": "2026-11-01", "place": "Salle", "remote": True,
                           "vote_deadline": "2026-11-19T15:00:00+01:00"}, {"remote": False},
                          {"place": None}, {"kind": "AGE", "convocation": 2}],
    "member.contact_set": [{"statements_by_email": True}, {"statements_by_email": False},
                           {"statements_by_email": None}],
    "minutes.recorded": [{"documents": "Rapport\nannuel"}, {"debates": "Ligne 1\nLigne 2\r\nfin"}],
    "member.bank_account_set": [{"bic": "AGRIFRPP"}, {"bic": "AGRIFRPPXXX"}, {"iban": "FR76 3000 6000 0112 3456 7890 189"},
                                {"iban": "fr7630006000011234567890189"}],
    "bank.statement_received": [{"lines": [
        {"line_ref": "L1", "booked_on": "2026-10-20", "value_on": "2026-10-21", "amount": "-120",
         "counterparty_name": "Nord", "counterparty_iban": "FR7630006000011234567890189",
         "remittance": "F-1 merci", "end_to_end_id": "E2E-1"},
        {"line_ref": "L2", "booked_on": "2026-10-20", "value_on": "2026-10-20", "amount": "0.5"}]},
        {"opening_balance": "0", "closing_balance": "-0.00", "lines": []}],
    "bank.line_assigned": [{"invoice_id": None, "ledger_account": "6226", "label": "Honoraires"},
                           {"invoice_id": None, "member_id": "M001", "net_pay_month": "2026-10"},
                           {"invoice_id": None, "splits": [{"invoice_id": "F-1", "amount": "20"},
                                                           {"ledger_account": "627", "label": "Frais",
                                                            "amount": "0.50"}]}],
}


def _examples() -> Iterator[dict[str, Any]]:
    for type_ in EXAMPLES:
        yield example(type_)
        for moment in MOMENTS:
            yield example(type_, occurred_at=moment)
        for variant in VARIANTS.get(type_, []):
            yield {key: value for key, value in example(type_, **variant).items() if value is not None} \
                if variant.get("place", 1) is not None else example(type_, **variant)
        for name, value in example(type_).items():
            if name in ("type", "event_id", "occurred_at") or not isinstance(value, str):
                continue
            for text in TEXTS:
                yield example(type_, **{name: text})
            for amount in AMOUNTS:
                yield example(type_, **{name: amount})
    for rate in RATES:
        for amount in AMOUNTS:
            yield example("invoice.issued", lines=[{"label": "Mission", "amount_ht": amount, "vat_rate": rate}])


def _encodings(document: dict[str, Any]) -> Iterator[bytes]:
    """The same document as different producers write it: compact, spaced, escaped or raw UTF-8."""
    yield json.dumps(document).encode()
    yield json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    yield json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True).encode()


def corpus() -> Iterator[bytes]:
    """Every line of the corpus, in a fixed order."""
    for document in _examples():
        yield from _encodings(document)
    yield from (h.raw for h in HOSTILE)
    yield from GOOD
    yield from cooperative(members=12, months=["2026-01", "2026-02", "2026-03"], seed=7)
    yield from throughput_events(3000, seed=18)


def key(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:24]


def outcome(raw: bytes) -> str:
    """What the door makes of a line: its fingerprint, or the words of its refusal."""
    try:
        return fingerprint(decode(raw, TODAY))
    except EventError as exc:
        return f"refused: {exc.message}"


def recorded() -> dict[str, str]:
    found: dict[str, str] = json.loads(FIXTURE.read_text())
    return found


def main() -> None:
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.fingerprint_corpus --write  (only from the code before issue 18)")
    table = {key(raw): outcome(raw) for raw in corpus()}
    FIXTURE.write_text(json.dumps(table, indent=0, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"{len(table)} lines, {sum(not v.startswith('refused') for v in table.values())} sound")


if __name__ == "__main__":
    main()
