"""Malformed and hostile events through `cae ingest`: each one is kept, explained, and harmless.

CONTRACT.md §1 and DOMAIN.md rule 8: an event that fails validation, names an
unknown member or document, breaks a rule or conflicts with an earlier event
of the same id goes to the dead letters with its bytes and a reason in words;
nothing is posted for it, and `cae ingest` itself succeeds (exit 0). Every
case runs on a ledger that already holds one member (M001) and one invoice
(F-1: 1000.00 HT, 1200.00 TTC), and a second member (M002), on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select

from cli.main import cae
from engine.config import Rules
from ledger import schema
from ledger.balances import trial_balance
from streams.pipeline import Raw, process


def event(type_: str, event_id: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": type_, "occurred_at": "2026-10-01T09:00:00Z", **fields}


def line(amount_ht: Any = "100.00", vat_rate: Any = "0.20", **extra: Any) -> dict[str, Any]:
    return {"label": "Mission", "amount_ht": amount_ht, "vat_rate": vat_rate, **extra}


def invoice(event_id: str, lines: Any = None, **fields: Any) -> dict[str, Any]:
    body = {"invoice_id": f"F-{event_id}", "member_id": "M001", "issued_on": "2026-10-10",
            "client": "Atelier Nord", "lines": [line()] if lines is None else lines}
    return event("invoice.issued", event_id, **{**body, **fields})


def payment(event_id: str, **fields: Any) -> dict[str, Any]:
    body = {"payment_id": f"P-{event_id}", "invoice_id": "F-1", "member_id": "M001",
            "received_on": "2026-10-20", "amount": "100.00"}
    return event("payment.received", event_id, **{**body, **fields})


def encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


SETUP = [
    event("member.joined", "ok-1", member_id="M001", name="Alice Martin", joined_on="2026-01-05",
          status="salarie"),
    invoice("ok-2", invoice_id="F-1", issued_on="2026-10-03", lines=[line("1000.00")]),
    event("member.joined", "ok-3", member_id="M002", name="Bruno Leroy", joined_on="2026-09-01", status="cape"),
]


@dataclass(frozen=True)
class Case:
    name: str
    raw: bytes
    reason: str  # a fragment the reason must contain, so that a person knows what to fix


VALID_INVOICE = encode(invoice("bad-json"))
CASES = [
    # amounts: strings with at most 2 decimals, positive, no float, no exponent (DOMAIN rule 8)
    Case("float amount", encode(invoice("b01", [line(99.99)])), "99.99 is a float"),
    Case("integer amount", encode(payment("b02", amount=100)), "is not an amount string"),
    Case("exponent", encode(invoice("b03", [line("1e5")])), '"1e5" is not an amount'),
    Case("20 digits", encode(invoice("b04", [line("12345678901234567890")])), "is not an amount"),
    # amounts under a ceiling whose worst sums fit the ledger's integers (issue 14, point 3)
    Case("a line of a million", encode(invoice("b04b", [line("1000000.00")])),
         "lines.0.amount_ht: 1000000.00 is over 999999.99"),
    Case("the issue's 500 lines of 999,999,999,999.99", encode(invoice("b04c", [line("999999999999.99")] * 500)),
         "lines.0.amount_ht: 999999999999.99 is over 999999.99"),
    Case("500 lines under the ceiling, over it together", encode(invoice("b04d", [line("2000.00")] * 500)),
         "lines: the lines make 1200000.00 TTC, over 999999.99"),
    Case("a payment of a million", encode(payment("b04e", amount="1000000.00")), "amount: 1000000.00 is over"),
    Case("a salary of a million", encode(event("salary.set", "b04f", member_id="M001", from_month="2026-10",
                                               gross="1000000.00")), "gross: 1000000.00 is over"),
    Case("huge JSON number", b'{"event_id":"b05","type":"payment.received","occurred_at":"2026-10-01T09:00:00Z",'
         b'"payment_id":"P-b05","invoice_id":"F-1","member_id":"M001","received_on":"2026-10-20",'
         b'"amount":123456789012345678901234567890}', "is not an amount string"),
    Case("huge float", VALID_INVOICE.replace(b'"100.00"', b"1e300").replace(b"bad-json", b"b05b"),
         '1e+300 is a float: amounts are strings such as "12.50"'),
    Case("negative amount", encode(payment("b06", amount="-100.00")), '"-100.00" is not an amount'),
    Case("zero amount", encode(invoice("b07", [line("0.00")])), "not a positive amount"),
    Case("zero payment", encode(payment("b08", amount="0")), "not a positive amount"),
    Case("3 decimals", encode(invoice("b09", [line("10.005")])), "at most 2 decimals"),
    Case("decimal comma", encode(invoice("b10", [line("10,50")])), "at most 2 decimals"),
    Case("NaN string", encode(invoice("b11", [line("NaN")])), '"NaN" is not an amount'),
    Case("NaN literal", VALID_INVOICE.replace(b'"100.00"', b"NaN").replace(b"bad-json", b"b12"),
         'NaN is a float: amounts are strings such as "12.50"'),
    Case("Infinity literal", VALID_INVOICE.replace(b'"100.00"', b"Infinity").replace(b"bad-json", b"b13"),
         'Infinity is a float: amounts are strings such as "12.50"'),
    Case("float VAT rate", encode(invoice("b14", [line(vat_rate=0.2)])), "0.2 is a float"),
    Case("VAT rate of 150 %", encode(invoice("b15", [line(vat_rate="1.5")])), "not below 1"),
    Case("boolean amount", encode(invoice("b16", [line(True)])), "true is not an amount string"),
    Case("null amount", encode(invoice("b17", [line(None)])), "null is not an amount string"),
    Case("list amount", encode(invoice("b18", [line(["10.00"])])), '["10.00"] is not an amount string'),
    Case("amount with a newline", encode(invoice("b19", [line("10.00\n")])),
         '"10.00\\n" is not an amount with at most 2 decimals'),
    Case("duplicate key", VALID_INVOICE.replace(b'"amount_ht": "100.00"', b'"amount_ht": "100.00", "amount_ht": "99999.00"')
         .replace(b"bad-json", b"b19b"), 'duplicate key "amount_ht"'),
    # the event's shape
    Case("unknown type", encode(event("invoice.deleted", "b20", invoice_id="F-1")),
         'unknown event type "invoice.deleted"'),
    Case("missing type", encode({k: v for k, v in invoice("b21").items() if k != "type"}),
         'missing field "type"'),
    Case("missing field", encode({k: v for k, v in invoice("b22").items() if k != "client"}),
         'missing field "client"'),
    Case("unknown field", encode(invoice("b23", discount="5.00")), 'unknown field "discount"'),
    Case("unknown field in a line", encode(invoice("b24", [line(discount="5.00")])), "unknown field"),
    Case("NUL in a field name", encode(invoice("b25", **{"x\u0000y": 1})), "unknown field"),
    Case("lines as an object", encode(invoice("b26", line())), "lines"),
    Case("no lines", encode(invoice("b27", [])), "lines"),
    Case("event id as a number", encode({**invoice("b28"), "event_id": 28}), "event_id"),
    Case("event id of 129 characters", encode(invoice("b" * 129)), "event_id"),
    Case("control character in the event id", encode(invoice("b30\u0001")), "event_id"),
    Case("control character in a document id", encode(invoice("b31", invoice_id="F-\u0007-31")),
         "invoice_id"),
    Case("newline in the client name", encode(invoice("b32", client="Atelier\rNord")), "client"),
    # characters that make a text read other than it is stored (issue 14, point 9)
    Case("DEL in a member id", encode(invoice("b34", member_id="M0\x7f01")), "member_id: U+007F is a control"),
    Case("C1 control in a label", encode(invoice("b35", [line(label="Mission\x85")])),
         "lines.0.label: U+0085 is a control"),
    Case("right-to-left override in the client", encode(invoice("b36", client="Atelier \u202eNord")),
         "client: U+202E is a bidirectional control"),
    Case("isolate in an invoice id", encode(invoice("b37", invoice_id="F-\u2066-37")),
         "invoice_id: U+2066 is a bidirectional control"),
    Case("line separator in a name", encode(event("member.joined", "b38", member_id="M038", name="Zoé\u2028Roy",
                                                  joined_on="2026-01-05", status="cape")),
         "name: U+2028 is a line or paragraph separator"),
    Case("unknown status", encode(event("member.joined", "b33", member_id="M033", name="Zoé",
                                        joined_on="2026-01-05", status="boss")), "status"),
    # dates and times
    Case("30 February", encode(invoice("b40", issued_on="2026-02-30")), "issued_on"),
    Case("date with a time", encode(invoice("b41", issued_on="2026-10-10T00:00:00Z")), "issued_on"),
    Case("French date", encode(invoice("b42", issued_on="10/10/2026")), "issued_on"),
    Case("timestamp without offset", encode(invoice("b43", occurred_at="2026-10-10T09:00:00")),
         "occurred_at: Input should have timezone info"),
    Case("bad month", encode(event("salary.set", "b44", member_id="M001", from_month="2026-13",
                                   gross="1000.00")), "not a month"),
    # dates within bounds a cooperative can meet (issue 14, point 3)
    Case("joined in year 1", encode(event("member.joined", "b45", member_id="M045", name="Zoé",
                                          joined_on="0001-01-01", status="cape")),
         "joined_on: 0001-01-01 is before 2000-01-01"),
    Case("joined in year 1000", encode(event("member.joined", "b46", member_id="M046", name="Zoé",
                                             joined_on="1000-01-01", status="cape")),
         "joined_on: 1000-01-01 is before 2000-01-01"),
    Case("salary from 9999-12", encode(event("salary.set", "b47", member_id="M001", from_month="9999-12",
                                             gross="1000.00")), "from_month: \"9999-12\" is not a month YYYY-MM from"),
    Case("invoice of 9999-12-31", encode(invoice("b48", issued_on="9999-12-31")),
         "issued_on: 9999-12-31 is after"),
    Case("occurred in year 1", encode(invoice("b49", occurred_at="0001-01-01T00:00:00Z")),
         "occurred_at: 0001-01-01 is before 2000-01-01"),
    Case("payment of 1999", encode(payment("b49b", received_on="1999-12-31")),
         "received_on: 1999-12-31 is before 2000-01-01"),
    # bytes that are not one JSON object in UTF-8
    Case("truncated JSON", VALID_INVOICE[:60], "not valid JSON"),
    Case("JSON array", b"[" + VALID_INVOICE + b"]", "not a JSON object"),
    Case("JSON string", b'"invoice.issued"', "not a JSON object"),
    Case("invalid UTF-8", VALID_INVOICE.replace(b"Atelier", b"Atel\xe9ier"), "not UTF-8"),
    Case("UTF-16 text", VALID_INVOICE.decode().replace("bad-json", "b54").encode("utf-16"), "not UTF-8"),
    Case("lone surrogate", VALID_INVOICE.replace(b"Atelier", b"\\ud800").replace(b"bad-json", b"b55"),
         "client: U+D800 is a lone surrogate, not a character: it cannot be stored"),
    Case("lone surrogate in the event id", VALID_INVOICE.replace(b"bad-json", b"b55\\udc00"),
         "event_id: U+DC00 is a lone surrogate"),
    Case("lone surrogate in a key named twice", VALID_INVOICE.replace(
        b'"client"', b'"k\\udc00": 1, "k\\udc00": 2, "client"').replace(b"bad-json", b"b55b"),
         'duplicate key "k\\udc00"'),
    Case("deep nesting", b"[" * 5000 + b"]" * 5000, "not valid JSON"),
    Case("1 MB line", encode(invoice("b57", client="x" * 1_000_000)), "over the 65536 bytes limit"),
    # the rules (DOMAIN rule 8) and idempotency (CONTRACT §1)
    Case("unknown member", encode(invoice("b60", member_id="M404")), 'unknown member "M404"'),
    Case("unknown invoice", encode(payment("b61", invoice_id="F-404")), 'unknown invoice "F-404"'),
    Case("another member's invoice", encode(payment("b62", member_id="M002")),
         "invoice F-1 belongs to member M001, not M002"),
    Case("non-EUR currency", encode(invoice("b63", currency="USD")), '"USD" is not supported: v1 takes EUR'),
    Case("non-EUR payment", encode(payment("b64", currency="GBP")), '"GBP" is not supported: v1 takes EUR'),
    Case("credit note over what is left", encode(event(
        "credit_note.issued", "b65", credit_note_id="A-65", invoice_id="F-1", member_id="M001",
        issued_on="2026-10-15", lines=[line("1000.01")])), "is over what is left of invoice F-1"),
    Case("credit note dated before its invoice", encode(event(
        "credit_note.issued", "b66", credit_note_id="A-66", invoice_id="F-1", member_id="M001",
        issued_on="2026-10-01", lines=[line("10.00")])), "before its invoice"),
    Case("payment from a credit the client does not have", encode(payment("b67", amount="100.00", from_credit=True)),
         "is over the 0.00 of credit Atelier Nord has for member M001"),
    Case("credit note at a VAT rate its invoice does not have", encode(event(
        "credit_note.issued", "b71", credit_note_id="A-71", invoice_id="F-1", member_id="M001",
        issued_on="2026-10-15", lines=[line("10.00", "0.10")])), "that invoice F-1 does not have"),
    Case("invoice before the member joined", encode(invoice("b68", issued_on="2025-12-31")),
         "before member M001 joined"),
    Case("invoice id issued again", encode(invoice("b69", invoice_id="F-1")),
         'invoice "F-1" was already issued'),
    Case("member joining twice", encode(event("member.joined", "b70", member_id="M001", name="Alice",
                                              joined_on="2026-01-05", status="salarie")),
         "M001 has already joined"),
    Case("event id reused with other content", encode(invoice("ok-2", invoice_id="F-1", issued_on="2026-10-03",
                                                              lines=[line("9999.00")])),
         '"ok-2" was already processed with different content'),
]


def test_case_names_and_bytes_are_distinct() -> None:
    assert len({c.name for c in CASES}) == len({c.raw for c in CASES}) == len(CASES)


# -- running `cae` -----------------------------------------------------------------------------

def run(*args: str) -> Result:
    result = CliRunner().invoke(cae, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def run_json(*args: str) -> Any:
    """`cae ... --json`; an ingest exits 3 exactly when some line went to the dead letters."""
    result = run(*args, "--json")
    document = json.loads(result.stdout) if result.stdout else None
    if args[0] == "ingest" and document is not None:
        assert result.exit_code == (3 if document["dead_letters"] else 0), result.stderr
    else:
        assert result.exit_code == 0, result.stderr
    return document


def write(path: Path, raws: list[bytes], newline: bool = True) -> Path:
    path.write_bytes(b"\n".join(raws) + (b"\n" if newline else b""))
    return path


def processed_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(schema.processed_events)) or 0)


def balances(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(trial_balance(conn))


@pytest.fixture
def ledger(db_url: str, engine: Engine, rules: Rules) -> str:
    """The ledger of SETUP: M001 and her invoice F-1, and M002."""
    outcome = process(engine, [Raw(encode(e), "setup.jsonl") for e in SETUP], rules)
    assert outcome.processed == len(SETUP) and outcome.dead_letters == []
    return db_url


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_event_goes_to_the_dead_letters_and_posts_nothing(
        case: Case, ledger: str, engine: Engine, tmp_path: Path) -> None:
    balance = balances(engine)
    assert balance  # F-1 is posted
    processed = processed_count(engine)
    bad = write(tmp_path / "bad.jsonl", [case.raw], newline=case.name != "UTF-16 text")

    summary = run_json("ingest", str(bad), "--db", ledger)

    assert summary == {"processed": 0, "duplicates": 0, "dead_letters": 1}
    (letter,) = run_json("deadletter", "list", "--db", ledger)["dead_letters"]
    assert case.reason in letter["reason"]
    assert "\n" not in letter["reason"] and len(letter["reason"]) < 300  # one readable line
    assert letter["source"] == "bad.jsonl:1" and letter["status"] == "pending"
    assert balances(engine) == balance
    assert processed_count(engine) == processed


def test_the_whole_corpus_in_one_file_next_to_a_good_event(ledger: str, engine: Engine, tmp_path: Path) -> None:
    """One batch: the good event goes through, every bad one is dead-lettered on its own line."""
    good = encode(invoice("good-1", invoice_id="F-2", lines=[line("200.00")]))
    corpus = write(tmp_path / "corpus.jsonl", [c.raw for c in CASES if c.name != "UTF-16 text"] + [good])
    summary = run_json("ingest", str(corpus), "--db", ledger)
    assert summary == {"processed": 1, "duplicates": 0, "dead_letters": len(CASES) - 1}
    letters = run_json("deadletter", "list", "--db", ledger)["dead_letters"]
    by_line = {int(d["source"].rsplit(":", 1)[1]): d["reason"] for d in letters}
    for number, case in enumerate((c for c in CASES if c.name != "UTF-16 text"), start=1):
        assert case.reason in by_line[number], case.name
    accounts = {a["account"]: a for a in run_json("trial-balance", "--db", ledger)["accounts"]}
    assert accounts["706"]["credit"] == "1200.00"  # F-1 and F-2: nothing else was posted


def test_ingesting_the_same_bad_file_twice_adds_no_dead_letter(ledger: str, tmp_path: Path) -> None:
    corpus = write(tmp_path / "corpus.jsonl", [c.raw for c in CASES])
    first = run_json("ingest", str(corpus), "--db", ledger)
    letters = run_json("deadletter", "list", "--db", ledger)["dead_letters"]
    second = run_json("ingest", str(corpus), "--db", ledger)
    assert first["processed"] == second["processed"] == 0
    assert run_json("deadletter", "list", "--db", ledger)["dead_letters"] == letters
    assert len(letters) >= len(CASES)


def test_a_dead_letter_replayed_after_its_member_joined_is_posted(ledger: str, tmp_path: Path) -> None:
    early = write(tmp_path / "early.jsonl", [encode(invoice("early-1", member_id="M003", invoice_id="F-M003",
                                                            lines=[line("500.00")]))])
    assert run_json("ingest", str(early), "--db", ledger)["dead_letters"] == 1
    (letter,) = run_json("deadletter", "list", "--db", ledger)["dead_letters"]
    assert 'unknown member "M003"' in letter["reason"]

    assert run_json("deadletter", "replay", "--db", ledger) == {
        "replayed": 0, "still_pending": [{"id": letter["id"], "reason": 'unknown member "M003"'}]}
    joined = write(tmp_path / "joined.jsonl", [encode(event(
        "member.joined", "join-2", member_id="M003", name="Chloé Dubois", joined_on="2026-09-01", status="cape"))])
    assert run_json("ingest", str(joined), "--db", ledger)["processed"] == 1
    assert run_json("deadletter", "replay", "--db", ledger) == {"replayed": 1, "still_pending": []}

    assert run_json("deadletter", "list", "--db", ledger)["dead_letters"] == []
    (replayed,) = run_json("deadletter", "list", "--all", "--db", ledger)["dead_letters"]
    assert (replayed["id"], replayed["status"]) == (letter["id"], "replayed")
    statement = run_json("statement", "M003", "--month", "2026-10", "--db", ledger)
    assert (statement["revenue_ht"], statement["contribution"]) == ("500.00", "57.50")
    assert run_json("deadletter", "replay", "--db", ledger) == {"replayed": 0, "still_pending": []}


def test_the_real_command_keeps_quiet_about_bad_bytes(tmp_path: Path) -> None:
    """The installed `cae`, in a process of its own: exit 0, a JSON summary, no traceback."""
    cases = [c for c in CASES if c.name in ("invalid UTF-8", "1 MB line")]
    db = f"sqlite:///{tmp_path / 'cae.db'}"
    setup = write(tmp_path / "setup.jsonl", [encode(e) for e in SETUP])
    bad = write(tmp_path / "bad.jsonl", [c.raw for c in cases])
    command = os.path.join(os.path.dirname(sys.executable), "cae")
    for path, expected in ((setup, {"processed": len(SETUP), "duplicates": 0, "dead_letters": 0}),
                           (bad, {"processed": 0, "duplicates": 0, "dead_letters": 2})):
        done = subprocess.run([command, "ingest", str(path), "--db", db, "--json"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == (3 if expected["dead_letters"] else 0), done.stderr
        assert json.loads(done.stdout) == expected
        assert "Traceback" not in done.stderr + done.stdout
    listed = subprocess.run([command, "deadletter", "list", "--db", db, "--json"],
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr
    letters = json.loads(listed.stdout)["dead_letters"]
    assert [c.reason in d["reason"] for c, d in zip(cases, letters)] == [True, True]
