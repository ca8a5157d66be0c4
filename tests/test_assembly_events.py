"""The events of issue 17 (CONTRACT.md §6): new fields optional, new types, through the pipeline.

An event published before these fields existed must stay the same event: same stored JSON, same
fingerprint (a file ingested last year and again today is all duplicates, never conflicts).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import Engine

from engine.config import Rules
from engine.events import EventError, decode, fingerprint, json_schema
from governance.store import (load_assembly, load_bureau, load_contacts, load_convocations, load_minutes,
                              load_votes)
from tests.assembly_support import associates, assembly, event, feed

TODAY = date(2026, 5, 1)

# Fingerprints of events without the new fields, computed by the code before issue 17 (commit 102c4f2).
BEFORE = [
    ({"event_id": "a1", "type": "assembly.convened", "occurred_at": "2026-05-01T10:00:00Z", "assembly_id": "AG1",
      "kind": "AGO", "held_on": "2026-06-01", "convocation": 1},
     "c9c2b069adb32c5589165c9f6fbabbb5b4f68839ed87eb0d80cb857c46149d3f"),
]


def _decode(document: dict[str, object]) -> object:
    return decode(json.dumps(document).encode(), TODAY)


@pytest.mark.parametrize("document,expected", BEFORE)
def test_an_event_without_the_new_fields_keeps_its_fingerprint(document: dict[str, object], expected: str) -> None:
    found = decode(json.dumps(document).encode(), TODAY)
    assert fingerprint(found) == expected
    assert json.loads(found.model_dump_json()) == document


def test_old_resolution_and_vote_dump_without_the_new_keys() -> None:
    resolution = _decode({"event_id": "r", "type": "resolution.proposed", "occurred_at": "2026-05-01T10:00:00Z",
                          "resolution_id": "R1", "assembly_id": "AG1", "title": "Comptes"})
    vote = _decode({"event_id": "v", "type": "vote.cast", "occurred_at": "2026-05-01T10:00:00Z",
                    "resolution_id": "R1", "member_id": "A1", "choice": "for", "cast_by": None})
    assert set(json.loads(resolution.model_dump_json())) == {"event_id", "type", "occurred_at", "resolution_id",  # type: ignore[attr-defined]
                                                             "assembly_id", "title"}
    assert "mode" not in json.loads(vote.model_dump_json())  # type: ignore[attr-defined]


@pytest.mark.parametrize("fields,reason", [
    ({"mode": "proxy"}, 'mode "proxy" needs cast_by'),
    ({"mode": "correspondence", "cast_by": "A2"}, 'mode "correspondence" is the member\'s own vote'),
    ({"mode": "by_pigeon"}, "mode:"),
])
def test_a_vote_whose_mode_contradicts_cast_by_is_refused(fields: dict[str, str], reason: str) -> None:
    with pytest.raises(EventError, match=reason):
        _decode(event("vote.cast", resolution_id="R1", member_id="A1", choice="for", **fields))


def test_paragraphs_take_a_newline_but_a_title_does_not() -> None:
    _decode(event("resolution.proposed", resolution_id="R", assembly_id="A", title="T", text="a\nb"))
    with pytest.raises(EventError, match="title: U\\+000A is a control character"):
        _decode(event("resolution.proposed", resolution_id="R", assembly_id="A", title="a\nb"))
    with pytest.raises(EventError, match="debates: U\\+202E is a bidirectional control"):
        _decode(event("minutes.recorded", assembly_id="A", debates="a\n\u202eb", recorded_by="S"))


@pytest.mark.parametrize("email", ["nobody", "a@b", "a b@c.fr", "a@@c.fr", "x" * 250 + "@c.fr"])
def test_an_email_that_is_not_one_is_refused(email: str) -> None:
    with pytest.raises(EventError, match="email"):
        _decode(event("member.contact_set", member_id="A1", email=email, convocation_by_email=True, on="2026-05-01"))


def test_convened_after_the_assembly_is_refused() -> None:
    with pytest.raises(EventError, match="convened_on 2026-06-21 is after held_on 2026-06-20"):
        _decode(assembly("AG", convened_on="2026-06-21")[0])


def test_the_schema_names_every_new_type() -> None:
    types = {branch["properties"]["type"]["const"] for branch in json_schema()["$defs"].values()
             if "type" in branch.get("properties", {})}
    assert {"member.contact_set", "convocation.sent", "bureau.appointed", "minutes.recorded"} <= types


def test_new_events_are_recorded_and_read_back(engine: Engine, rules: Rules) -> None:
    done = feed(engine, rules, *associates("A1", "A2"), *assembly("AG", "R1", "R2", secret=("R1",)),
                event("member.contact_set", member_id="A1", email="a1@example.org", convocation_by_email=True,
                      on="2026-05-01"),
                event("member.contact_set", member_id="A1", email="a1@example.org", convocation_by_email=False,
                      on="2026-05-02"),
                event("convocation.sent", assembly_id="AG", member_id="A2", channel="letter", sent_on="2026-06-01"),
                event("bureau.appointed", assembly_id="AG", member_id="A1", role="chair"),
                event("minutes.recorded", assembly_id="AG", debates="Premier point.\nSecond point.", recorded_by="S1"),
                event("vote.cast", at="2026-06-10T08:00:00Z", resolution_id="R2", member_id="A2", choice="for",
                      mode="correspondence"))  # R1 is secret: no vote.cast names its voter (G4)
    assert done.dead_letters == [] and done.processed == 13
    with engine.connect() as conn:
        recorded = load_assembly(conn, "AG")
        a, r = recorded.assembly, recorded.resolutions[0]
        assert (a.convened_on, a.place, a.remote) == (date(2026, 6, 1), "Salle des fêtes, Lyon", True)
        assert a.vote_deadline == datetime(2026, 6, 19, 13, 0, tzinfo=timezone.utc)
        assert (r.text, r.secret) == ("L'assemblée approuve R1.\nSecond alinéa.", True)
        assert load_contacts(conn)["A1"].convocation_by_email is False
        assert [(c.member_id, c.channel) for c in load_convocations(conn, "AG")] == [("A2", "letter")]
        assert [(o.member_id, o.role) for o in load_bureau(conn, "AG")] == [("A1", "chair")]
        assert load_minutes(conn, "AG").debates == "Premier point.\nSecond point."  # type: ignore[union-attr]
        vote = load_votes(conn, ["R2"])[0]
        assert vote.by_correspondence and vote.cast_at == datetime(2026, 6, 10, 8, tzinfo=timezone.utc)


def test_new_events_naming_unknown_things_are_dead_letters(engine: Engine, rules: Rules) -> None:
    done = feed(engine, rules, *associates("A1"),
                event("convocation.sent", assembly_id="NOPE", member_id="A1", channel="email", sent_on="2026-06-01"),
                *assembly("AG"),
                event("bureau.appointed", assembly_id="AG", member_id="GHOST", role="secretary"),
                event("member.contact_set", member_id="GHOST", email="g@example.org", convocation_by_email=True,
                      on="2026-05-01"))
    assert [d.reason for d in done.dead_letters] == ['unknown assembly "NOPE"', 'unknown member "GHOST"',
                                                      'unknown member "GHOST"']
    # each keeps its catalogue code: the staff's page says it in French
    assert [d.message.text("fr").split(" (")[0] for d in done.dead_letters if d.message] == [
        "assemblée inconnue «\u00a0NOPE\u00a0»", "membre inconnu «\u00a0GHOST\u00a0»", "membre inconnu «\u00a0GHOST\u00a0»"]
