"""A hostile corpus by class (issue 14, point 1), for every way in: `cae ingest`, the API, Kafka.

Each hostile line must end a dead letter with a readable reason, whatever
validation catches it or not: what gets past the validator and cannot be
stored is the ledger's to refuse. The good lines around them must all go
through. Two cases are refused by the database itself, by triggers the
owner adds (`refuse_in_database`): a valid event the database will not
take, and one whose dead letter it will not take either.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from ledger.db import open_ledger
from tests.conftest import owner_url

REFUSED_BY_THE_DATABASE = "db-refused"  # a valid event whose row the database refuses
UNRECORDABLE = "unrecordable"  # ...and whose dead letter it refuses too


def event(event_id: str, type_: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": type_, "occurred_at": "2026-10-01T09:00:00Z", **fields}


def joined(event_id: str, member_id: str, **fields: Any) -> dict[str, Any]:
    return event(event_id, "member.joined", **{"member_id": member_id, "name": "Alice Martin",
                                               "joined_on": "2026-01-05", "status": "salarie", **fields})


def invoice(event_id: str, member_id: str = "G1", amount: str = "100.00", **fields: Any) -> dict[str, Any]:
    return event(event_id, "invoice.issued", **{
        "invoice_id": f"F-{event_id}", "member_id": member_id, "issued_on": "2026-10-10",
        "client": "Atelier Nord", "lines": [{"label": "Mission", "amount_ht": amount, "vat_rate": "0.20"}],
        **fields})


def encode(document: Any) -> bytes:
    """JSON text as a producer would write it: `ensure_ascii` escapes a lone surrogate as `\\udc00`."""
    return json.dumps(document).encode()


@dataclass(frozen=True)
class Hostile:
    name: str
    raw: bytes


def _with(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert old in raw
    return raw.replace(old, new, 1)


BASE = encode(invoice("h-base"))
DEEP = b"[" * 10_000 + b"]" * 10_000

HOSTILE = [
    # a lone surrogate anywhere: an id, a text, a member, a type, a field's name
    Hostile("lone trailing surrogate as the event id", encode(invoice("\udc00"))),
    Hostile("lone leading surrogate in the event id", encode(invoice("h-\ud800"))),
    Hostile("surrogates in the wrong order", encode(invoice("h-\udc00\ud800"))),
    Hostile("lone surrogate in a text", encode(invoice("h-text", client="Atelier \udfff"))),
    Hostile("lone surrogate in the member id", encode(invoice("h-member", member_id="G\udc01"))),
    Hostile("lone surrogate in the type", encode(event("h-type", "invoice.\udc02"))),
    Hostile("lone surrogate in a field name", encode({**invoice("h-key"), "\udc03": 1})),
    Hostile("an event id of 200 lone surrogates", encode(invoice("\udc04" * 200))),
    # NUL, which PostgreSQL's text refuses: escaped, and a raw byte
    Hostile("NUL as the event id", encode(invoice("\u0000"))),
    Hostile("NUL in a text", encode(invoice("h-nul-text", client="Atelier\u0000Nord"))),
    Hostile("NUL in a field name", encode({**invoice("h-nul-key"), "a\u0000b": 1})),
    Hostile("a raw NUL byte in a string", _with(BASE, b"Atelier", b"Ate\x00lier")),
    # too long for any column, or for the dead-letter topic once escaped (`\u0001` is 6 bytes of JSON)
    Hostile("an event id of 60,000 characters", encode(invoice("i" * 60_000))),
    Hostile("2,000,000 control characters", b"\x01" * 2_000_000),
    Hostile("a client of 10,000 characters", encode(invoice("h-long", client="x" * 10_000))),
    # bytes that are not UTF-8
    Hostile("invalid UTF-8 in the event id", _with(BASE, b"h-base", b"h-\xff\xfe")),
    Hostile("a surrogate encoded in UTF-8 bytes", _with(BASE, b"h-base", b"h-\xed\xb0\x80")),
    Hostile("an overlong UTF-8 slash", _with(BASE, b"h-base", b"h-\xc0\xaf")),
    # nesting and numbers no parser should die of
    Hostile("10,000 nested arrays", DEEP),
    Hostile("10,000 nested arrays in a field", _with(BASE, b'"client": "Atelier Nord"', b'"client": ' + DEEP)),
    Hostile("a 5,000-digit amount", _with(encode(invoice("h-digits")), b'"100.00"', b"9" * 5000)),
    Hostile("a number over BIGINT", _with(encode(event("h-bigint", "assembly.convened", assembly_id="A1",
                                                        kind="AGO", held_on="2026-11-20", convocation=1)),
                                          b'"convocation": 1', b'"convocation": 9223372036854775808')),
    Hostile("1e400", _with(encode(invoice("h-1e400")), b'"100.00"', b"1e400")),
    # what the database itself refuses (triggers of `refuse_in_database`)
    Hostile("an event the database refuses", encode(joined(REFUSED_BY_THE_DATABASE, "G9"))),
    Hostile("an event whose dead letter the database refuses too", encode(joined(UNRECORDABLE, "G8"))),
]

GOOD = [encode(e) for e in (
    joined("g-1", "G1"), joined("g-2", "G2", name="Bruno Leroy", status="cape"),
    invoice("g-3"), invoice("g-4", "G2", "250.00"), invoice("g-5", amount="75.50"),
    event("g-6", "payment.received", payment_id="P-g-6", invoice_id="F-g-3", member_id="G1",
          received_on="2026-10-20", amount="120.00"),
)]


def interleaved() -> list[bytes]:
    """The good lines in order, the hostile ones between them: a bad line never comes last only."""
    lines: list[bytes] = []
    per_gap = -(-len(HOSTILE) // len(GOOD))
    for n, good in enumerate(GOOD):
        lines += [h.raw for h in HOSTILE[n * per_gap:(n + 1) * per_gap]] + [good]
    return lines


def refuse_in_database(db_url: str) -> None:
    """As the owner: the database refuses the rows of REFUSED_BY_THE_DATABASE and UNRECORDABLE, and
    the dead letters of UNRECORDABLE (a refusal the validator cannot foresee: a key, a trigger)."""
    if db_url.startswith("sqlite"):
        path = make_url(db_url).database
        assert path
        with sqlite3.connect(path) as conn:
            conn.executescript(f"""
                CREATE TRIGGER test_refuse_event BEFORE INSERT ON processed_events
                WHEN NEW.event_id IN ('{REFUSED_BY_THE_DATABASE}', '{UNRECORDABLE}')
                BEGIN SELECT RAISE(ABORT, 'the database refuses this row'); END;
                CREATE TRIGGER test_refuse_letter BEFORE INSERT ON dead_letters
                WHEN NEW.event_id = '{UNRECORDABLE}'
                BEGIN SELECT RAISE(ABORT, 'the database refuses this dead letter'); END;""")
        conn.close()
        return
    owner = open_ledger(owner_url(db_url))
    with owner.begin() as conn:
        conn.execute(text("""
            CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.event_id = ANY (TG_ARGV) THEN
                RAISE EXCEPTION 'the database refuses this row of %', TG_TABLE_NAME;
              END IF;
              RETURN NEW;
            END $$"""))
        conn.execute(text(f"CREATE TRIGGER test_refuse_event BEFORE INSERT ON processed_events FOR EACH ROW "
                          f"EXECUTE FUNCTION test_refuse('{REFUSED_BY_THE_DATABASE}', '{UNRECORDABLE}')"))
        conn.execute(text(f"CREATE TRIGGER test_refuse_letter BEFORE INSERT ON dead_letters FOR EACH ROW "
                          f"EXECUTE FUNCTION test_refuse('{UNRECORDABLE}')"))
    owner.dispose()
