"""Issue 8: no typo, hand-written SQL, hostile line or stuck message can break the books.

One test (or a few) per numbered point of the issue, each of which failed on
the code before it; the point's number is in the test's docstring. Tests that
touch a database run on SQLite and PostgreSQL unless the point is one
backend's (SQLite's REPLACE, PostgreSQL's data errors and concurrency).
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import Engine, UniqueConstraint, text

from cli.main import cae
from engine.config import Rules
from engine.periods import next_month
from ledger import schema
from ledger.db import open_ledger, sqlite_path
from ledger.invariants import APPEND_ONLY
from ledger.payroll_run import run_payroll
from streams.pipeline import Raw, process
from tests.conftest import ROOT, owner_url
from tests.ops_support import cli, event, ingest, invoice, joined, salary
from tests.test_invariants import COOPERATIVE, NOVEMBER

CAE = str(Path(sys.executable).with_name("cae"))


# Points about one backend run on it alone (the fixture `db_url` takes the backend as its parameter).
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                        indirect=True)


def invoke(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cae, list(args), input=input)


@pytest.fixture
def books(engine: Engine, db_url: str, rules: Rules) -> str:
    """A small cooperative: postings, payroll, October closed, governance, dead letters."""
    assert process(engine, COOPERATIVE, rules).dead_letters == []
    cli("payroll", "run", "--month", "2026-10", "--db", db_url, "--json")
    cli("close", "--month", "2026-10", "--db", db_url, "--json")
    assert process(engine, NOVEMBER, rules).dead_letters == []
    ingest(engine, rules, event("assembly.convened", assembly_id="AG", kind="AGO", held_on="2026-11-20",
                                convocation=2),
           event("resolution.proposed", resolution_id="R1", assembly_id="AG", title="Comptes"),
           event("attendance.recorded", meeting_id="AG", member_id="M001", mode="present"),
           event("vote.cast", resolution_id="R1", member_id="M001", choice="for"))
    process(engine, [Raw(b"not json", "bad.jsonl:1")], rules)
    return db_url


# -- 1. append-only whatever the connection's pragmas ---------------------------------------------

def _plain(db_url: str) -> sqlite3.Connection:
    """A connection the application did not open: Python's sqlite3 with SQLite's defaults."""
    path = sqlite_path(db_url)
    assert path is not None
    return sqlite3.connect(path, isolation_level=None)


@SQLITE_ONLY  # INSERT OR REPLACE is SQLite's (PostgreSQL's ON CONFLICT DO UPDATE is an UPDATE, refused)
@pytest.mark.parametrize("table", sorted(set(APPEND_ONLY) | {"members", "dead_letters"}))
def test_1_insert_or_replace_cannot_rewrite_a_row_on_a_plain_connection(books: str, table: str) -> None:
    """1: `INSERT OR REPLACE` through the sqlite3 shell's defaults (no recursive_triggers)."""
    conn = _plain(books)
    conn.row_factory = sqlite3.Row
    assert conn.execute("PRAGMA recursive_triggers").fetchone()[0] == 0
    row = conn.execute(f"SELECT * FROM {table} ORDER BY rowid DESC LIMIT 1").fetchone()
    if row is None:  # empty in this small cooperative: its guard is installed all the same
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                            (f"{table}_no_replace",)).fetchone()[0] == 1
        return
    before = conn.execute(f"SELECT * FROM {table}").fetchall()
    values = dict(row)
    keys = {c.name for c in schema.metadata.tables[table].primary_key.columns}
    keys |= {c.name for u in schema.metadata.tables[table].constraints if isinstance(u, UniqueConstraint)
             for c in u.columns}
    changed = next((k for k, v in values.items() if isinstance(v, str) and k not in keys), None)
    if changed is not None:  # the same keys, another value: a rewrite in disguise
        values[changed] = values[changed][:-1] + "Z"
    upsert = f"INSERT OR REPLACE INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})"
    if table == "dead_letters":  # the same bytes rejected twice make one letter: the row is skipped
        conn.execute(upsert, tuple(values.values()))
    else:
        with pytest.raises(sqlite3.DatabaseError, match="append-only|never"):
            conn.execute(upsert, tuple(values.values()))
    assert conn.execute(f"SELECT * FROM {table}").fetchall() == before


@SQLITE_ONLY
def test_1_a_tally_cannot_be_flipped_by_replacing_a_vote(books: str) -> None:
    """1: the example of the issue: a vote replaced by hand does not change the tally."""
    before = cli("tally", "R1", "--db", books, "--json")
    conn = _plain(books)
    seq, event_id, payload = conn.execute(
        "SELECT seq, event_id, payload FROM governance_events WHERE type = 'vote.cast'").fetchone()
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("INSERT OR REPLACE INTO governance_events (seq, event_id, type, payload) "
                     "VALUES (?, ?, 'vote.cast', ?)", (seq, event_id, payload.replace('"for"', '"against"')))
    assert cli("tally", "R1", "--db", books, "--json") == before


# -- 2. dates checked ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["2026-10-15x", "20261015", "2026-02-30", "15/10/2026"])
def test_2_a_malformed_date_cannot_slip_an_entry_into_a_closed_month(books: str, bad: str) -> None:
    """2: `strftime` gives NULL for these; the column's CHECK (or PostgreSQL's type) refuses them."""
    engine = open_ledger(owner_url(books))
    try:
        with pytest.raises(Exception, match="CHECK|check|invalid input|out of range|date"):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO processed_events (event_id, fingerprint, type, entry_count, source, "
                                  "processed_at) VALUES ('hand', 'x', 'hand', 1, 'hand', :t)"),
                             {"t": "2026-11-23 10:00:00"})
                conn.execute(text("INSERT INTO lines (entry_id, account, amount, member_id) VALUES "
                                  "(900001, '706', 100, 'M001'), (900001, '411', -100, 'M001')"))
                conn.execute(text("INSERT INTO entries (id, journal, entry_date, piece_ref, piece_date, label, "
                                  "event_id, part, posted_at) VALUES (900001, 'OD', :d, 'HAND', :d, 'x', 'hand', 0, "
                                  ":t)"), {"d": bad, "t": "2026-11-23 10:00:00"})
    finally:
        engine.dispose()


@pytest.mark.parametrize("column, value", [("month", "2026-13"), ("month", "٢٠٢٦-٠٩"), ("month", "2026-1")])
def test_2_a_month_column_takes_only_months(books: str, column: str, value: str) -> None:
    engine = open_ledger(owner_url(books))
    try:
        with pytest.raises(Exception, match="CHECK|check"):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO month_locks (month, locked_at) VALUES (:m, :t)"),
                             {"m": value, "t": "2026-11-23 10:00:00"})
    finally:
        engine.dispose()


# -- 3. the rules' state: append-only, and the reconciliation recomputes ----------------------

def test_3_a_tampered_base_is_caught_by_the_reconciliation(books: str, engine: Engine, rules: Rules) -> None:
    """3: a base added by hand changes later contributions; the books still balance, and
    `cae reconcile` says the contribution does not follow from the sales."""
    honest = cli("reconcile", "--month", "2026-11", "--db", books, "--json")
    assert all(c["ok"] for c in honest["checks"] if c["name"].startswith("contribution and"))
    owner = open_ledger(owner_url(books))
    with owner.begin() as conn:  # a hand-written "fix" of M001's November base, as any writer could
        conn.execute(text("INSERT INTO base_moves (member_id, month, event_id, contribution, societariat, revenue) "
                          "VALUES ('M001', '2026-11', 'inv-10', -500000, 0, 0)"))
    owner.dispose()
    ingest(engine, rules, invoice("M001", "F-4", "2026-11-25", "1000.00"))
    report = cli("reconcile", "--month", "2026-11", "--db", books, "--json")
    check = next(c for c in report["checks"] if c["name"].startswith("contribution and"))
    assert not check["ok"] and "M001 contribution" in check["detail"]
    assert next(c for c in report["checks"] if c["name"] == "trial balance balanced")["ok"]


# -- 5. close refuses what is surely a mistake --------------------------------------------------

@pytest.mark.parametrize("month", [f"{date.today().year + 2}-12", "9999-12", None])
def test_5_a_month_that_has_not_ended_cannot_be_closed(books: str, month: str | None) -> None:
    """5: a month ahead, 9999-12 and the current month are refused, and nothing is locked.
    (9999-12 is refused at the door since issue 14: it is past the window of months.)"""
    month = month or date.today().strftime("%Y-%m")
    result = invoke("close", "--month", month, "--db", books, "--json")
    if month == "9999-12":
        assert result.exit_code == 2 and "is not a month YYYY-MM from 2000-01" in result.output
    else:
        assert result.exit_code == 1 and "has not ended" in result.stderr
    assert cli("payroll", "run", "--month", "2026-11", "--db", books, "--json")  # November still open


@pytest.mark.parametrize("month", ["٢٠٢٦-١٠", "２０２６-１０", "2026-10 ", "202610"])
def test_5_months_are_ascii_yyyy_mm(books: str, month: str) -> None:
    result = invoke("close", "--month", month, "--db", books)
    assert result.exit_code == 2 and "is not a month YYYY-MM" in result.output


def test_5_a_month_whose_payroll_has_not_run_is_not_closed_unless_asked(books: str) -> None:
    result = invoke("close", "--month", "2026-11", "--db", books, "--json")
    assert result.exit_code == 1 and "payroll of 2026-11 has not paid 1 member" in result.stderr
    done = json.loads(invoke("close", "--month", "2026-11", "--without-payroll", "--db", books, "--json").stdout)
    assert done["closed"] is True and done["locked"] == ["2026-11"]


def test_5_on_a_terminal_the_close_says_what_it_locks_and_asks(books: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("payroll", "run", "--month", "2026-11", "--db", books, "--json")
    monkeypatch.setattr("cli.payroll.interactive", lambda: True)
    refused = invoke("close", "--month", "2026-11", "--db", books, input="n\n")
    assert refused.exit_code == 1 and "Closing 2026-11 locks 2026-11 (1 month(s)) for good;" in refused.output
    assert "entries will get their definitive number" in refused.output and "Close? [y/N]" in refused.output
    assert "2026-11 is closed" in cli("close", "--month", "2026-11", "--yes", "--db", books)


# -- 6. payroll: out of order, ahead of time ------------------------------------------------------

def test_6_payrolls_run_out_of_order_spend_the_budget_once(engine: Engine, rules: Rules, db_url: str) -> None:
    """6: December, then November, then October: one 2,000.00 invoice pays one capped salary."""
    ingest(engine, rules, joined("M1"), invoice("M1", "F1", "2026-10-03", "2000.00"),
           salary("M1", "2026-10", "1000.00"))
    with engine.begin() as conn:
        for month in ("2026-12", "2026-11", "2026-10"):
            run_payroll(conn, month, rules, today=date(2026, 12, 20))
    december = cli("statement", "M1", "--month", "2026-12", "--db", db_url, "--json")
    assert december["budget_closing"] == "0.00"  # 2000 − 230 of contribution, spent once


def test_6_a_payroll_more_than_a_month_ahead_is_refused(db_url: str, engine: Engine) -> None:
    ahead = next_month(next_month(date.today().strftime("%Y-%m")))
    result = invoke("payroll", "run", "--month", ahead, "--db", db_url, "--json")
    assert result.exit_code == 1 and "more than one month ahead" in result.stderr
    assert invoke("payroll", "run", "--month", next_month(date.today().strftime("%Y-%m")),
                  "--db", db_url, "--json").exit_code == 0


# -- 7. internal keys no event can take, and room for long ids ---------------------------------

def test_7_an_event_id_like_a_payroll_key_does_not_stop_the_payroll(engine: Engine, rules: Rules,
                                                                   db_url: str) -> None:
    ingest(engine, rules, joined("M1"), invoice("M1", "F1", "2026-10-03", "5000.00"))
    sneaky = Raw(json.dumps({"event_id": "payroll:2026-10:M1", "type": "salary.set", "occurred_at":
                             "2026-10-01T09:00:00Z", "member_id": "M1", "from_month": "2026-10",
                             "gross": "1000.00"}).encode(), "sneaky")
    assert process(engine, [sneaky], rules).processed == 1
    lines = cli("payroll", "run", "--month", "2026-10", "--db", db_url, "--json")["lines"]
    assert [(p["member_id"], p["gross"]) for p in lines] == [("M1", "1000.00")]


def test_7_a_member_id_of_the_longest_allowed_length_is_paid(engine: Engine, rules: Rules, db_url: str) -> None:
    """7: `PAIE-<month>-<id>` of a 128-character id in a piece reference, the payslip's key too."""
    long_id = "M" * 128
    ingest(engine, rules, joined(long_id), invoice(long_id, "F1", "2026-10-03", "5000.00"),
           salary(long_id, "2026-10", "1000.00"))
    lines = cli("payroll", "run", "--month", "2026-10", "--db", db_url, "--json")["lines"]
    assert [p["gross"] for p in lines] == ["1000.00"]
    assert cli("statement", long_id, "--month", "2026-10", "--db", db_url, "--json")["payroll"]["gross"] == "1000.00"


# -- 9. data errors are dead letters, not a stuck partition ---------------------------------------

@POSTGRES_ONLY  # a data error SQLite does not raise (it does not enforce lengths)
def test_9_a_value_the_database_cannot_take_is_a_dead_letter(engine: Engine, db_url: str, rules: Rules) -> None:
    owner = open_ledger(owner_url(db_url))
    with owner.begin() as conn:  # a stricter column than the validator's: the database says no
        conn.execute(text("ALTER TABLE members ALTER COLUMN name TYPE varchar(10)"))
    owner.dispose()
    outcome = process(engine, [joined("M1"), event("member.joined", member_id="M2", name="A name far too long",
                                                   joined_on="2026-01-05", status="cape")], rules)
    assert outcome.processed == 1 and len(outcome.dead_letters) == 1
    assert "refused by the ledger: value too long" in outcome.dead_letters[0].reason
    refusal = outcome.dead_letters[0].message  # its page says it in French, around the database's words
    assert refusal is not None and refusal.text("fr").startswith("refusé par la base de données : value too long")


# -- 10. a batch delivered twice at once ------------------------------------------------------------

@POSTGRES_ONLY  # two writers at once (SQLite's take turns on its write lock)
def test_10_a_batch_delivered_twice_at_once_is_duplicates_not_conflicts(engine: Engine, db_url: str,
                                                                       rules: Rules) -> None:
    ingest(engine, rules, *[joined(f"M{n}") for n in range(20)])
    batch = [invoice(f"M{n % 20}", f"F-{n}", "2026-10-03", "100.00") for n in range(300)]
    outcomes: list[Any] = []
    threads = [threading.Thread(target=lambda: outcomes.append(process(engine, batch, rules))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(o.processed for o in outcomes) == 300
    assert sum(o.duplicates for o in outcomes) == 600
    assert [d.reason for o in outcomes for d in o.dead_letters] == []


# -- 12. passwords never printed ------------------------------------------------------------------

def test_12_a_database_password_is_masked_in_errors(tmp_path: Path) -> None:
    url = "postgresql+psycopg://cae:S3cretPassw0rd@127.0.0.1:1/cae"
    for args in (["statement", "M1", "--month", "2026-10"], ["migrate"]):
        done = subprocess.run([CAE, *args, "--db", url], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and "S3cretPassw0rd" not in done.stderr + done.stdout
        assert len(done.stderr.strip().splitlines()) == 1


def test_12_a_worker_never_logs_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://cae:S3cretPassw0rd@127.0.0.1:1/cae"
    done = subprocess.run([CAE, "worker", "--db", url, "--bootstrap", "127.0.0.1:1"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "S3cretPassw0rd" not in done.stderr + done.stdout


# -- 13. spreadsheet cells that look like formulas ----------------------------------------------

def test_13_exports_keep_a_formula_looking_name_as_text(engine: Engine, rules: Rules, db_url: str,
                                                      tmp_path: Path) -> None:
    name = '=HYPERLINK("http://evil.example","clic")'
    ingest(engine, rules, event("member.joined", member_id="@SUM(1)", name=name, joined_on="2026-01-05",
                                status="salarie"),
           invoice("@SUM(1)", "F1", "2026-10-03", "5000.00"), salary("@SUM(1)", "2026-10", "1000.00"))
    cli("payroll", "run", "--month", "2026-10", "--db", db_url, "--json")
    out_csv, out_xlsx, rec = tmp_path / "v.csv", tmp_path / "v.xlsx", tmp_path / "r.csv"
    cli("payroll", "export", "--month", "2026-10", "--csv", str(out_csv), "--xlsx", str(out_xlsx), "--db", db_url)
    cli("reconcile", "--month", "2026-10", "--csv", str(rec), "--db", db_url, "--json")
    (row,) = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert row["name"] == "'" + name and row["member_id"] == "'@SUM(1)" and row["gross"] == "1000.00"
    assert next(csv.reader(rec.open(encoding="utf-8").readlines()[1:]))[0] == "'@SUM(1)"
    sheet = load_workbook(out_xlsx).active
    cell = sheet["B2"]
    assert cell.value == name and cell.data_type == "s" and cell.quotePrefix
    assert isinstance(sheet["G2"].value, (int, float)) and sheet["G2"].value == 1000


# -- 16. dead letters: history, dismissal, settled by a corrected event -------------------------

def test_16_dead_letters_keep_every_reason_and_can_be_settled(books: str, engine: Engine, rules: Rules) -> None:
    early = Raw(json.dumps({"event_id": "late-1", "type": "invoice.issued", "occurred_at": "2026-11-01T09:00:00Z",
                            "invoice_id": "F-9", "member_id": "M009", "issued_on": "2026-11-05", "client": "X",
                            "lines": [{"label": "x", "amount_ht": 12.5, "vat_rate": "0.20"}]}).encode(), "f:1")
    process(engine, [early], rules)
    letters = {d["event_id"]: d for d in cli("deadletter", "list", "--db", books, "--json")["dead_letters"]}
    assert "12.5 is a float" in letters["late-1"]["reason"]
    cli("deadletter", "replay", "--db", books, "--json")  # still refused: a second reason, the first kept
    again = {d["event_id"]: d for d in cli("deadletter", "list", "--db", books, "--json")["dead_letters"]}
    assert again["late-1"]["first_reason"] == letters["late-1"]["reason"]
    assert [h["action"] for h in again["late-1"]["history"]] == ["retried"]
    # the sender fixes the line, same id: processing it settles the letter
    fixed = json.loads(early.data)
    fixed["member_id"], fixed["lines"][0]["amount_ht"] = "M001", "12.50"
    assert process(engine, [Raw(json.dumps(fixed).encode(), "f:2")], rules).processed == 1
    listed = {d["event_id"]: d for d in cli("deadletter", "list", "--all", "--db", books, "--json")["dead_letters"]}
    assert listed["late-1"]["status"] == "replayed"
    assert "corrected" in listed["late-1"]["history"][-1]["reason"]
    # the garbage line cannot be fixed: dismissed, with who and why; no longer pending
    (junk,) = cli("deadletter", "list", "--db", books, "--json")["dead_letters"]
    done = cli("deadletter", "dismiss", str(junk["id"]), "--reason", "test line, not an event", "--db", books,
               "--json")
    assert done["status"] == "dismissed" and done["by"]
    assert cli("deadletter", "list", "--db", books, "--json")["dead_letters"] == []
    assert "already dismissed" in cli("deadletter", "dismiss", str(junk["id"]), "--reason", "x", "--db", books,
                                      ok=False)
    report = cli("reconcile", "--month", "2026-11", "--db", books, "--json")
    assert next(c for c in report["checks"] if c["name"] == "dead letters pending")["detail"] == "none"


# -- 17, 18. no ledger made by a reader; ingest's exit code --------------------------------------

@pytest.mark.parametrize("args", [["statement", "M1", "--month", "2026-10"], ["trial-balance"],
                                  ["reconcile", "--month", "2026-10"], ["fec", "--year", "2026", "--siren",
                                                                         "123456789", "-o", "out"],
                                  ["payroll", "run", "--month", "2026-10"], ["deadletter", "list"], ["members"]])
def test_17_a_reader_on_a_missing_ledger_says_so_and_makes_none(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "typo.db"
    result = invoke(*args, "--db", f"sqlite:///{path}", "--json")
    assert result.exit_code == 1 and f"no ledger at {path}" in result.stderr
    assert not path.exists()


def test_18_ingest_exits_3_when_a_line_went_to_the_dead_letters(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_bytes(COOPERATIVE[0].data + b"\n")
    bad.write_bytes(b"not json\n")
    db = f"sqlite:///{tmp_path / 'cae.db'}"
    assert subprocess.run([CAE, "ingest", str(good), "--db", db, "--json"], capture_output=True).returncode == 0
    done = subprocess.run([CAE, "ingest", str(bad), "--db", db, "--json"], capture_output=True, text=True)
    assert done.returncode == 3 and json.loads(done.stdout)["dead_letters"] == 1


# -- 19. the event format ships with the project ------------------------------------------------

def test_19_the_schema_and_the_docs_name_every_type_and_field() -> None:
    from engine.events import BankEvent, GovernanceEvent, MemberEvent

    schema_out = json.loads(subprocess.run([CAE, "schema"], capture_output=True, text=True, check=True).stdout)
    docs = (ROOT / "docs/events.md").read_text(encoding="utf-8")
    for model in (MemberEvent.__args__ + GovernanceEvent.__args__  # type: ignore[attr-defined]
                  + BankEvent.__args__):  # type: ignore[attr-defined]
        kind = model.model_fields["type"].annotation.__args__[0]
        assert f"`{kind}`" in docs, kind
        for name, field in model.model_fields.items():
            assert f"`{field.alias or name}`" in docs, (kind, field.alias or name)
        assert any(d.get("properties", {}).get("type", {}).get("const") == kind
                   for d in schema_out["$defs"].values()), kind
    assert "../shared" not in docs  # the users' documentation stands on its own


# -- 20. tables that never cut a figure --------------------------------------------------------

@pytest.mark.parametrize("columns", ["80", "120"])
def test_20_reconcile_and_runs_never_cut_a_figure(books: str, columns: str) -> None:
    env = {**os.environ, "COLUMNS": columns}
    cli("reconcile", "--month", "2026-10", "--db", books, "--json")
    report = subprocess.run([CAE, "reconcile", "--month", "2026-10", "--db", books], capture_output=True,
                            text=True, env=env, check=True).stdout
    figures = cli("reconcile", "--month", "2026-10", "--db", books, "--json")["members"][0]
    for key in ("revenue_ht", "contribution", "budget_closing", "budget_before"):
        assert figures[key] in report, key
    assert "…" not in report
    runs = subprocess.run([CAE, "runs", "--db", books], capture_output=True, text=True, env=env, check=True).stdout
    assert "2026-10" in runs and "…" not in runs
    assert all(len(line) <= int(columns) for line in report.splitlines() + runs.splitlines())


# -- 21. the demo's ledger, status without Kafka ----------------------------------------------

def test_21_status_on_an_embedded_setup_answers_without_kafka(books: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CAE_KAFKA_BOOTSTRAP"}
    done = subprocess.run([CAE, "status", "--db", books, "--json"], capture_output=True, text=True, env=env,
                          timeout=60)
    status = json.loads(done.stdout)
    assert status["kafka"] == {"configured": False} and status["events_processed"] > 0


# -- 22. the licence ----------------------------------------------------------------------------

def test_22_the_repository_carries_the_licence_it_declares() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.lstrip().startswith("GNU AFFERO GENERAL PUBLIC LICENSE") and "Version 3" in licence[:200]
    assert "AGPL-3.0-or-later" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")

