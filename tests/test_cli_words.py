"""Issue 15, the command line: suggestions for what was mistyped, the demo's own runs and member,
and one outcome word per reconciliation check wherever it shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from cli.main import cae
from engine.config import Rules
from tests.ops_support import cli, event, ingest, joined


def terminal(columns: str, *args: str) -> str:
    """What `cae ARGS` prints on a terminal this many columns wide (rich reads COLUMNS when it starts)."""
    done = subprocess.run([str(Path(sys.executable).with_name("cae")), *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": columns}, check=True)
    return done.stdout


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cae, list(args))
    return result.exit_code, result.output


def test_a_typo_in_a_command_name_suggests_the_closest() -> None:
    code, out = run("statment")
    assert code == 2 and "Did you mean 'statement'" in out
    code, out = run("payroll", "rnu")
    assert code == 2 and "Did you mean 'run' or 'rerun'?" in out
    code, out = run("xyzzy")
    assert code == 2 and "No such command 'xyzzy'." in out and "Did you mean" not in out


def _assembly(engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M001"), joined("M002"),
           event("member.became_associate", member_id="M001", on="2026-01-10"),
           event("assembly.convened", assembly_id="AGO-2026", kind="AGO", held_on="2026-06-20", convocation=1),
           event("resolution.proposed", resolution_id="AGO-2026-R1", assembly_id="AGO-2026", title="Comptes 2025"),
           event("resolution.proposed", resolution_id="AGO-2026-R2", assembly_id="AGO-2026", title="Affectation"),
           event("assembly.convened", assembly_id="AGE-2026", kind="AGE", held_on="2026-09-12", convocation=2))


def test_an_unknown_id_is_answered_with_the_closest_known_ones(engine: Engine, rules: Rules, db_url: str) -> None:
    _assembly(engine, rules)
    assert 'unknown resolution "R1" (did you mean "AGO-2026-R1"?)' in cli("tally", "R1", "--db", db_url, ok=False)
    assert 'unknown assembly "AG2026" (did you mean "AGO-2026"' in cli("assembly", "AG2026", "--db", db_url, ok=False)
    for command in (("statement", "M01", "--month", "2026-10"), ("payslip", "M01", "--month", "2026-10")):
        assert 'unknown member "M01" (did you mean "M001"' in cli(*command, "--db", db_url, ok=False)
    assert 'unknown member "Z" (known: "M001", "M002")' in cli("statement", "Z", "--month", "2026-10",
                                                               "--db", db_url, ok=False)


def test_assemblies_lists_each_with_its_resolutions_latest_first(engine: Engine, rules: Rules, db_url: str) -> None:
    _assembly(engine, rules)
    listed = cli("assemblies", "--db", db_url, "--json")["assemblies"]
    assert [(a["assembly_id"], a["kind"], a["held_on"], a["convocation"]) for a in listed] == [
        ("AGE-2026", "AGE", "2026-09-12", 2), ("AGO-2026", "AGO", "2026-06-20", 1)]
    assert listed[1]["resolutions"] == [{"resolution_id": "AGO-2026-R1", "title": "Comptes 2025"},
                                        {"resolution_id": "AGO-2026-R2", "title": "Affectation"}]
    assert listed[0]["resolutions"] == []
    assert "AGO-2026-R2  Affectation" in cli("assemblies", "--db", db_url)


def test_the_demo_records_its_runs_and_logs_in_as_a_member_who_shows_the_product(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    report: dict[str, Any] = cli("demo", "--db", db, "--json")
    login = report["member_login"]
    runs = cli("runs", "--db", db, "--json")["runs"]
    assert sorted((r["job"], r["month"]) for r in runs if r["started_by"] == "cae demo") == [
        ("payroll", "2026-07"), ("payroll", "2026-08"), ("payroll", "2026-09"), ("payroll", "2026-10"),
        ("reconcile", "2026-10")]
    (member,) = [m for m in cli("members", "--db", db, "--json")["members"] if m["member_id"] == login]
    assert member["status"] == "salarie" and member["associate"] and member["capital"] != "0.00"
    assert cli("payslip", login, "--month", "2026-10", "--db", db, "--json")["gross"] != "0.00"
    (assembly,) = cli("assemblies", "--db", db, "--json")["assemblies"]
    sheet = cli("assembly", assembly["assembly_id"], "--db", db, "--json")
    assert login in json.dumps(sheet)


def test_a_check_has_one_outcome_and_one_word_everywhere(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    demo = cli("demo", "--db", db, "--json")
    report = cli("reconcile", "--month", "2026-10", "--db", db, "--json")
    outcomes = {c["name"]: c["outcome"] for c in report["checks"]}
    assert {c["name"]: c["outcome"] for c in demo["reconciliation"]["checks"]} == outcomes
    assert set(outcomes.values()) == {"ok", "attention", "not_ok"}  # the demo's books have each
    assert all(c["outcome"] == ("not_ok" if not c["ok"] else "attention" if c["attention"] else "ok")
               for c in report["checks"])
    words = {"ok": "ok", "attention": "to look at", "not_ok": "not ok"}
    printed = CliRunner().invoke(cae, ["reconcile", "--month", "2026-10", "--db", db]).output
    for name, outcome in outcomes.items():
        assert f"{words[outcome]}  {name}:" in printed
    latest = cli("runs", "--db", db, "--json")["runs"][0]
    counts = {o: list(outcomes.values()).count(o) for o in words}
    assert latest["detail"].startswith(f"{counts['ok']} ok, {counts['attention']} to look at, "
                                       f"{counts['not_ok']} not ok")


def test_a_second_payroll_run_says_nothing_new_was_posted(engine: Engine, rules: Rules, db_url: str) -> None:
    ingest(engine, rules, joined("M1"), event("salary.set", member_id="M1", from_month="2026-10", gross="100.00"),
           event("invoice.issued", invoice_id="F1", member_id="M1", issued_on="2026-10-02", client="C",
                 lines=[{"label": "l", "amount_ht": "1000.00", "vat_rate": "0.20"}]))
    assert cli("payroll", "run", "--month", "2026-10", "--db", db_url, "--json")["posted"] == 1
    assert cli("payroll", "run", "--month", "2026-10", "--db", db_url, "--json")["posted"] == 0
    assert "Nothing new posted: every payslip of 2026-10 was already paid." in cli(
        "payroll", "run", "--month", "2026-10", "--db", db_url)
    assert cli("runs", "--db", db_url, "--json")["runs"][0]["detail"].endswith("; nothing new posted")


def test_a_statement_says_why_there_is_no_payslip_and_refuses_a_month_before_joining(
        engine: Engine, rules: Rules, db_url: str) -> None:
    ingest(engine, rules, joined("M1", on="2026-03-02"), joined("M2", status="cape"),
           event("salary.set", member_id="M1", from_month="2026-10", gross="100.00"))
    assert "not run yet" in cli("statement", "M1", "--month", "2026-10", "--db", db_url)
    assert "no salary requested" in cli("statement", "M1", "--month", "2026-09", "--db", db_url)
    assert "no salary requested" in cli("statement", "M2", "--month", "2026-10", "--db", db_url)
    assert "M1 joined on 2026-03-02: there is no statement for 2026-02" in cli(
        "statement", "M1", "--month", "2026-02", "--db", db_url, ok=False)


def test_a_file_name_given_as_a_database_url_names_the_url_meant(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run("runs", "--db", "nope.db")
    assert code == 1 and 'cae: "nope.db" is not a database URL: for a SQLite file, write sqlite:///nope.db' in out
    assert not (tmp_path / "nope.db").exists()


def test_the_demo_flags_a_past_cesa_deadline_and_counts_the_excused_alike_everywhere(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    cli("demo", "--db", db, "--json")
    members = cli("members", "--db", db, "--on", "2026-12-05", "--json")["members"]
    late = [m for m in members if m["deadline_passed"]]
    assert late and all(m["days_left"] < 0 for m in late)
    assert all(not m["deadline_passed"] for m in members if m["days_left"] is None or m["days_left"] >= 0)
    printed = CliRunner().invoke(cae, ["members", "--db", db, "--on", "2026-12-05"], terminal_width=250).output
    assert f"passed {-late[0]['days_left']} days ago" in printed
    (assembly,) = cli("assemblies", "--db", db, "--json")["assemblies"]
    sheet = cli("assembly", assembly["assembly_id"], "--db", db, "--json")
    (meeting,) = [m for m in cli("attendance", "--db", db, "--json")["meetings"]
                  if m["meeting_id"] == assembly["assembly_id"]]
    assert sheet["excused"] == meeting["excused"] and sheet["excused"] > 0
    assert sheet["eligible"] == sheet["present"] + sheet["excused"] + sheet["absent"]


def test_reconcile_puts_the_checks_first_then_the_members_that_need_a_look(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    cli("demo", "--db", db, "--json")
    report = cli("reconcile", "--month", "2026-10", "--db", db, "--json")
    named = {m for c in report["checks"] if c["outcome"] != "ok" for m in c["members"]}
    capped = {m["member_id"] for m in report["members"] if m["capped"]}
    look = named | capped
    quiet = sorted({m["member_id"] for m in report["members"]} - look)
    assert look and quiet
    for columns, shape in (("250", "│ {} "), ("60", "\n{}\n")):
        out = terminal(columns, "reconcile", "--month", "2026-10", "--db", db)
        assert out.index("trial balance balanced") < out.index("Reconciliation 2026-10")
        assert f"{len(look)} of {len(report['members'])} members shown" in out
        assert all(shape.format(m) in out or shape.format(m + " (capped)") in out for m in look), columns
        assert not any(shape.format(m) in out for m in quiet), columns
        assert all(len(line) <= int(columns) for line in out.splitlines())
        every = terminal(columns, "reconcile", "--month", "2026-10", "--db", db, "--all")
        assert all(shape.format(m) in every for m in quiet), columns


def test_messages_lists_the_codes_the_api_gives_in_both_languages() -> None:
    """The API's `code` (issue 15) is looked up with `cae messages`: a code, its English, its French."""
    code, out = run("messages", "month.", "--json")
    assert code == 0
    (found,) = [m for m in json.loads(out)["messages"] if m["code"] == "month.outside_window"]
    assert found["en"].startswith("{month:id} is not a month") and found["fr"].startswith("mois invalide")
    code, out = run("messages", "nothing-starts-so", "--json")
    assert code == 0 and json.loads(out) == {"messages": []}
