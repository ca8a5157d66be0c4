"""Issue 14, point 1: no poison message through `cae ingest` or `POST /api/events`.

The hostile corpus of `tests.hostile` (a lone surrogate anywhere, NUL, values
too long, bytes that are not UTF-8, deep nesting, numbers no column takes,
rows and dead letters the database itself refuses), interleaved with good
events: every line ends processed or dead-lettered with a readable reason,
the good ones all go through, no traceback and no 500, the books are those
of the good lines alone, and the same input again changes nothing. On SQLite
and PostgreSQL. (The same corpus through Kafka: tests/test_poison_kafka.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from engine.config import Rules, load_rules
from governance.config import load_governance
from ledger import deadletters, schema
from ledger.db import open_ledger
from ledger.deadletters import DeadLetter
from ledger.storable import storable
from streams.embedded import ingest, read_events
from tests.conftest import new_database_url
from tests.hostile import GOOD, HOSTILE, UNRECORDABLE, interleaved, refuse_in_database
from tests.kafka_fixtures import CAE, ledger_snapshot, write_events
from web import accounts
from web.app import create_app

BOOKS = ("processed", "entries", "invoices", "bases", "documents", "members", "governance")


def test_the_corpus_is_what_it_says() -> None:
    assert len({h.raw for h in HOSTILE}) == len(HOSTILE) and all(b"\n" not in h.raw for h in HOSTILE)
    assert len(interleaved()) == len(HOSTILE) + len(GOOD)


# Any text at all, lone surrogates and NUL often (hypothesis leaves surrogates out by default).
ANY_TEXT = st.lists(st.sampled_from("\x00\ud800\udc00\udfff") | st.characters(exclude_categories=()),
                    max_size=300).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300), reason=ANY_TEXT, source=ANY_TEXT, event_id=st.none() | ANY_TEXT)
def test_whatever_a_line_claims_its_dead_letter_is_recorded(engine: Engine, raw: bytes, reason: str, source: str,
                                                            event_id: str | None) -> None:
    """The bytes as they came; the texts as they came when a database can store them, else escaped."""
    raw += uuid.uuid4().bytes  # one letter per example (the same bytes twice make one row)
    letter = DeadLetter(raw, reason, source, event_id)
    with engine.begin() as conn:
        deadletters.record(conn, [letter])
    with engine.connect() as conn:
        (stored,) = [d for d in deadletters.listed(conn) if d.raw == raw]
    assert (stored.reason, stored.source, stored.event_id) == (letter.reason, letter.source, letter.event_id)
    if storable(reason) == reason and len(reason) <= deadletters.REASON_LENGTH:
        assert stored.reason == reason
    if storable(source) == source and len(source) <= deadletters.SOURCE_LENGTH:
        assert stored.source == source
    if event_id is not None and storable(event_id) == event_id and len(event_id) <= 128:
        assert stored.event_id == event_id


def books(db_url: str) -> dict[str, Any]:
    snapshot = ledger_snapshot(db_url)
    return {part: snapshot[part] for part in BOOKS}


@pytest.fixture
def reference(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The books of the good lines alone, on the same backend."""
    url = new_database_url("sqlite" if db_url.startswith("sqlite") else "postgresql", tmp_path, request)
    engine = open_ledger(url, create=True)
    try:
        outcome = ingest(engine, read_events(write_events(tmp_path / "good.jsonl", GOOD)), load_rules())
    finally:
        engine.dispose()
    assert outcome.processed == len(GOOD) and not outcome.dead_letters
    return books(url)


def stored_letters(engine: Engine) -> list[tuple[Any, ...]]:
    d = schema.dead_letters
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(d.c.raw, d.c.event_id, d.c.reason, d.c.status).order_by(d.c.id))]


def readable(reason: str) -> bool:
    return bool(reason) and "\n" not in reason and len(reason) <= 1000 and "Traceback" not in reason


def test_cae_ingest_takes_every_line_of_a_hostile_file(db_url: str, engine: Engine, tmp_path: Path,
                                                        reference: dict[str, Any]) -> None:
    refuse_in_database(db_url)
    # the file's own name is not UTF-8 either: it is every line's source
    path = write_events(Path(os.fsdecode(bytes(tmp_path) + b"/hostile-\xff.jsonl")), interleaved())
    for run in (1, 2):
        done = subprocess.run([CAE, "ingest", str(path), "--db", db_url, "--json"], capture_output=True,
                              timeout=300)
        assert b"Traceback" not in done.stderr + done.stdout, done.stderr.decode(errors="replace")[-3000:]
        assert done.returncode == 3, done.stderr.decode(errors="replace")[-3000:]
        summary = json.loads(done.stdout)
        assert summary == {"processed": len(GOOD) if run == 1 else 0, "duplicates": 0 if run == 1 else len(GOOD),
                           "dead_letters": len(HOSTILE)}
        if run == 1:
            letters = stored_letters(engine)
        assert stored_letters(engine) == letters  # the second run changes nothing
        assert books(db_url) == reference

    # Every hostile line but one is a stored dead letter, with its bytes, and a reason a person reads;
    # the one whose letter the database refuses is reported by the ingest all the same.
    assert sorted(raw for raw, *_ in letters) == sorted(h.raw for h in HOSTILE if UNRECORDABLE.encode() not in h.raw)
    assert all(readable(reason) and status == "pending" for _, _, reason, status in letters)
    listed = subprocess.run([CAE, "deadletter", "list", "--db", db_url, "--json"], capture_output=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    shown = json.loads(listed.stdout)["dead_letters"]
    # An id no valid event can carry is claimed by nobody: no correction could ever settle its letter,
    # and an escaped form could be some other, valid, event's id (engine.events.claimed_event_id).
    assert "db-refused" in {d["event_id"] for d in shown}
    assert not {"\\udc00", "h-\\ud800", "\\u0000"} & {d["event_id"] for d in shown}
    assert {d["reason"] for d in shown if d["event_id"] is None} >= {
        "event_id: U+DC00 is a lone surrogate, not a character: it cannot be stored nor encoded"}
    assert all(d["source"].startswith("hostile-\\udcff.jsonl:") for d in shown)
    human = subprocess.run([CAE, "ingest", str(path), "--db", db_url], capture_output=True, timeout=300)
    assert human.returncode == 3 and b"Traceback" not in human.stderr + human.stdout
    assert b"not recorded in the ledger" in b" ".join(human.stdout.split())


@pytest.fixture
def staff_token(engine: Engine) -> str:
    with engine.begin() as conn:
        accounts.add_user(conn, "staff@coop.test", "correct horse battery staple", "staff", None, "tests")
        return accounts.create_token(conn, "staff@coop.test", "tests", "tests")[1]


def test_the_api_takes_every_line_of_a_hostile_body(db_url: str, engine: Engine, rules: Rules, staff_token: str,
                                                     reference: dict[str, Any]) -> None:
    refuse_in_database(db_url)
    client = TestClient(create_app(engine, rules, load_governance()), raise_server_exceptions=False)
    body = b"\n".join(interleaved())
    outcomes = {raw: n for n, raw in enumerate(interleaved(), start=1)}
    for run in (1, 2):
        answer = client.post("/api/events", content=body, headers={"Authorization": f"Bearer {staff_token}"})
        assert answer.status_code == 200, answer.text[:2000]
        results = answer.json()["results"]
        assert [r["line"] for r in results] == list(range(1, len(outcomes) + 1))
        for good in GOOD:
            assert results[outcomes[good] - 1]["outcome"] == ("processed" if run == 1 else "duplicate")
        for hostile in HOSTILE:
            result = results[outcomes[hostile.raw] - 1]
            assert result["outcome"] == "dead_letter" and readable(result["reason"]), (hostile.name, result)
        if run == 1:
            letters = stored_letters(engine)
        assert stored_letters(engine) == letters
        assert books(db_url) == reference
    assert len(letters) == len(HOSTILE) - 1  # the database refuses one letter; the answer said why
    with engine.connect() as conn:
        audited = conn.scalar(select(func.count()).select_from(schema.audit_log)
                              .where(schema.audit_log.c.action == "event.api"))
    assert audited == 2
