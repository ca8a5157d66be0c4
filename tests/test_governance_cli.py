"""Governance through the pipeline, the store and the `cae` commands, on SQLite and PostgreSQL.

The public scenario ../shared/scenarios/assembly: every tally equals its
expected.json, before and after the file is ingested again; the governance
record is append-only and idempotent; events that name unknown things go to
the dead letters and come back with a replay; the commands print what
CONTRACT.md §3 promises (one JSON document, exit 1 with one line on stderr).
"""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select, text
from sqlalchemy.engine.default import CACHE_HIT
from sqlalchemy.exc import DBAPIError

from cli.main import cae
from engine.config import Rules
from ledger import schema
from tests.assembly_support import HELD_ON, assembly, feed
from tests.conftest import SHARED

SCENARIO = SHARED / "scenarios" / "assembly"
EXPECTED = json.loads((SCENARIO / "expected.json").read_text(encoding="utf-8"))["tallies"]
_ids = count(1)


def run(db_url: str, *args: str) -> Result:
    return CliRunner().invoke(cae, [*args, "--db", db_url], catch_exceptions=False)


def run_json(db_url: str, *args: str) -> Any:
    """`cae ... --json`; an ingest exits 3 exactly when some line went to the dead letters."""
    result = run(db_url, *args, "--json")
    document = json.loads(result.stdout)
    rejected = args[0] == "ingest" and document["dead_letters"] > 0
    assert result.exit_code == (3 if rejected else 0), result.output
    return document


def write_events(path: Path, *events: dict[str, Any]) -> Path:
    lines = [json.dumps({"event_id": f"t{next(_ids)}", "occurred_at": "2026-06-01T09:00:00Z", **e})
             for e in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_assembly_scenario_every_tally_matches_expected(db_url: str) -> None:
    assert run_json(db_url, "ingest", str(SCENARIO / "events.jsonl")) == \
        {"processed": 65, "duplicates": 0, "dead_letters": 0}
    for want in EXPECTED:
        got = run_json(db_url, "tally", want["resolution_id"])
        assert {k: got[k] for k in want} == want
        assert set(got) == set(want) | {"not_counted", "postal", "regular"}
        assert (got["postal"], got["regular"]) == (0, None)  # no vote by correspondence, no sending date
    again = run_json(db_url, "ingest", str(SCENARIO / "events.jsonl"))
    assert again == {"processed": 0, "duplicates": 65, "dead_letters": 0}
    first = run_json(db_url, "tally", "R1")
    assert first == run_json(db_url, "tally", "R1")  # recomputed, same result
    assert {k: first[k] for k in EXPECTED[0]} == EXPECTED[0]
    assert [(n["member_id"], n["reason"]) for n in first["not_counted"]] == [
        ("A05", "over_limit"), ("A07", "over_limit"), ("A09", "not_associate"),
        ("A10", "not_associate"), ("A02", "second_vote")]


def test_assembly_record_attendance_and_members(db_url: str, tmp_path: Path) -> None:
    run_json(db_url, "ingest", str(SCENARIO / "events.jsonl"))
    html = tmp_path / "ag.html"
    record = run_json(db_url, "assembly", "AG2026", "--html", str(html))
    sheet = {line["member_id"]: (line["attendance"], line["represented_by"]) for line in record["attendance"]}
    assert sheet["A03"] == ("remote", None) and sheet["A04"] == ("represented", "A01")
    assert sheet["A05"] == ("absent", None) and sheet["A08"] == ("absent", None)
    assert [o["member_id"] for o in record["others"]] == ["A09", "A10"]
    assert [r["adopted"] for r in record["resolutions"]] == [True, False]
    assert [(p["from_member"], p["reason"]) for p in record["proxies"]] == [
        ("A04", None), ("A05", "over_limit"), ("A07", "over_limit"), ("A08", "holder_absent")]
    document = html.read_text(encoding="utf-8")
    assert "Feuille de présence" in document and "représenté par A01" in document
    assert "Le président de séance" in document and "Gaëlle" in document

    text_out = run(db_url, "assembly", "AG2026")
    assert text_out.exit_code == 0 and "represented by A01" in text_out.stdout

    chart = tmp_path / "participation.svg"
    report = run_json(db_url, "attendance", "--chart", str(chart))
    universite = [y for y in report["by_year"] if y["kind"] == "universite"][0]
    assert (universite["came"], universite["expected"], universite["rate"]) == (5, 10, "0.500")
    assert chart.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert run(db_url, "attendance", "--kind", "AGO").exit_code == 0

    members = run_json(db_url, "members", "--on", "2026-06-20")["members"]
    a10 = [m for m in members if m["member_id"] == "A10"][0]
    assert (a10["status"], a10["associate"], a10["associate_by"], a10["days_left"]) == \
        ("salarie", False, "2028-01-06", 565)


def test_unknown_resolution_or_assembly_is_exit_1_with_one_line(db_url: str) -> None:
    for args in (("tally", "R404"), ("assembly", "AG404"), ("tally", "R404", "--json")):
        result = run(db_url, *args)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and "unknown" in result.stderr


def test_events_naming_unknown_things_are_dead_lettered_then_replayed(db_url: str, tmp_path: Path) -> None:
    member = {"type": "member.joined", "member_id": "M1", "name": "Alice", "joined_on": "2025-01-06",
              "status": "salarie"}
    assembly = {"type": "assembly.convened", "assembly_id": "AG", "kind": "AGO", "held_on": "2026-06-20",
                "convocation": 2}
    events = write_events(
        tmp_path / "a.jsonl", member,
        {"type": "member.became_associate", "member_id": "M1", "on": "2025-06-01"},
        {"type": "vote.cast", "resolution_id": "R1", "member_id": "M1", "choice": "for"},  # too early
        {"type": "resolution.proposed", "resolution_id": "R0", "assembly_id": "AG", "title": "x"},
        assembly,
        {**assembly, "kind": "AGE"},                                                     # same id again
        {"type": "ritual.held", "meeting_id": "AG", "kind": "universite", "held_on": "2026-07-01",
         "title": "clash"},
        {"type": "attendance.recorded", "meeting_id": "U404", "member_id": "M1", "mode": "present"},
        {"type": "attendance.recorded", "meeting_id": "AG", "member_id": "M404", "mode": "present"},
        {"type": "proxy.given", "assembly_id": "AG", "from_member": "M1", "to_member": "M404"},
        {"type": "attendance.recorded", "meeting_id": "AG", "member_id": "M1", "mode": "present"},
    )
    assert run_json(db_url, "ingest", str(events)) == {"processed": 4, "duplicates": 0, "dead_letters": 7}
    reasons = [d["reason"] for d in run_json(db_url, "deadletter", "list")["dead_letters"]]
    assert reasons == ['unknown resolution "R1"', 'unknown assembly "AG"',
                       'assembly id "AG" is already an assembly convened by another event',
                       'ritual id "AG" is already an assembly convened by another event',
                       'unknown meeting "U404" (no ritual held or assembly convened with this id)',
                       'unknown member "M404"', 'unknown member "M404"']
    fix = write_events(tmp_path / "b.jsonl",
                       {"type": "resolution.proposed", "resolution_id": "R1", "assembly_id": "AG",
                        "title": "Approve"})
    assert run_json(db_url, "ingest", str(fix))["processed"] == 1
    replay = run_json(db_url, "deadletter", "replay")
    assert replay["replayed"] == 2  # the early vote, and the resolution whose assembly now exists
    tally = run_json(db_url, "tally", "R1")
    assert (tally["eligible"], tally["present"], tally["for"], tally["adopted"]) == (1, 1, 1, True)


def test_governance_record_is_append_only_and_idempotent(engine: Engine, db_url: str, owner: Engine,
                                                         tmp_path: Path) -> None:
    ritual = {"event_id": "same", "type": "ritual.held", "meeting_id": "U1", "kind": "universite",
              "held_on": "2026-07-01", "title": "Université", "occurred_at": "2026-06-01T09:00:00Z"}
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(ritual) + "\n" + json.dumps({**ritual, "title": "Changed"}) + "\n"
                    + json.dumps(ritual) + "\n", encoding="utf-8")
    assert run_json(db_url, "ingest", str(path)) == {"processed": 1, "duplicates": 1, "dead_letters": 1}
    for statement in ("UPDATE governance_events SET payload = '{}'", "DELETE FROM governance_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with owner.begin() as conn:
                conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM governance_events")).scalar() == 1


def test_the_tally_reads_one_resolution_through_its_index(engine: Engine) -> None:
    """The store's query, as SQLAlchemy renders it, matches the expression index of each database."""
    g = schema.governance_events
    query = (select(g.c.seq, schema.JsonField(g.c.payload, "member_id"))
             .where(g.c.type == "vote.cast", schema.JsonField(g.c.payload, "resolution_id").in_(["R1"])))
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        else:  # on a tiny table the planner rightly prefers a scan: forbid it to see the index match
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}"))
    assert "ix_governance_events_resolution" in plan



def test_a_query_on_json_fields_is_compiled_once_and_each_field_stays_its_own(engine: Engine, rules: Rules) -> None:
    """A tally's queries are written with `JsonField`; SQLAlchemy keeps their compiled SQL (issue 17,
    point 5) keyed on the fields they read, so a query reading other fields is not served another's."""
    assert feed(engine, rules, *assembly("AGCACHE")).dead_letters == []
    g = schema.governance_events

    def fields(*keys: str) -> Any:
        return select(*(schema.JsonField(g.c.payload, k) for k in keys)).where(
            g.c.type == "assembly.convened", schema.JsonField(g.c.payload, "assembly_id") == "AGCACHE")

    with engine.connect() as conn:
        conn.execute(fields("assembly_id", "kind")).all()
        again = conn.execute(fields("assembly_id", "kind"))
        other = conn.execute(fields("kind", "held_on"))
        assert again.context.cache_hit == CACHE_HIT
        assert (again.all(), other.all()) == ([("AGCACHE", "AGO")], [("AGO", HELD_ON)])

def test_the_cooperatives_own_rules_apply_from_their_date(db_url: str, tmp_path: Path) -> None:
    """Statutes asking three quarters at an AGE from 2026-09-01: R3 (2 for, 1 against) fails."""
    run_json(db_url, "ingest", str(SCENARIO / "events.jsonl"))
    rates = (Path(__file__).resolve().parent.parent / "engine" / "defaults.toml").read_text(encoding="utf-8")
    config = tmp_path / "coop.toml"
    config.write_text(rates + '\n[[governance]]\nfrom = 2026-09-01\nmajority = { AGE = "at least 3/4" }\n',
                      encoding="utf-8")
    r3 = run_json(db_url, "tally", "R3", "--config", str(config))
    assert (r3["majority"], r3["adopted"]) == ("3/4", False)
    r1 = run_json(db_url, "tally", "R1", "--config", str(config))  # an AGO, and before that date
    assert {k: r1[k] for k in EXPECTED[0]} == EXPECTED[0]
