"""The FEC export (article A47 A-1 LPF) checked as the DGFiP's "Test Compta Demat" would.

`validate_fec` below is a small structural validator written from ../shared/notes/FEC.md, kept
here rather than in the package so that the export is judged by code that did not write it.
Every test runs on SQLite and PostgreSQL (the `engine` / `db_url` fixtures).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select

from cli.fec import fec_command
from cli.ingest import ingest_command
from engine.config import Rules
from engine.postings import Entry, Line
from ledger import schema
from ledger.balances import trial_balance
from ledger.closing import close_month
from ledger.fec import FIELDS, export_fec, latin9
from ledger.payroll_run import run_payroll
from ledger.posting import post
from streams.embedded import ingest, read_events
from streams.pipeline import Raw
from tests.conftest import SHARED

OCTOBER = SHARED / "scenarios/october/events.jsonl"
SIREN = "123456789"

HEADER = ("JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\t"
          "CompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\t"
          "ValidDate\tMontantdevise\tIdevise")
MANDATORY = ("JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
             "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "ValidDate")
PAIRS = (("CompAuxNum", "CompAuxLib"), ("EcritureLet", "DateLet"), ("Montantdevise", "Idevise"))
AMOUNT = re.compile(r"(0|[1-9][0-9]*),[0-9]{2}")
FILE_NAME = re.compile(r"(?P<siren>[0-9]{9})FEC(?P<closing>[0-9]{8})\.txt")
TRAILING_NUMBER = re.compile(r"(.*?)([0-9]+)")
FORBIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # control characters but the tab

Row = dict[str, str]


# --- the validator --------------------------------------------------------------------------

def _day(text: str) -> date | None:
    if not re.fullmatch(r"[0-9]{8}", text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _cents(text: str) -> int:
    whole, fraction = text.split(",")
    return int(whole) * 100 + int(fraction)


def validate_fec(path: Path, year: int) -> list[Row]:
    """The DGFiP's structural checks (notes/FEC.md); returns the rows, fails listing what is wrong."""
    problems: list[str] = []
    name = FILE_NAME.fullmatch(path.name)
    if name is None or name["closing"] != f"{year}1231":
        problems.append(f"file name {path.name!r} is not <SIREN>FEC{year}1231.txt")
    raw = path.read_bytes()
    text = raw.decode("iso8859_15")
    if text.encode("iso8859_15") != raw:
        problems.append("not ISO 8859-15")
    eol = next((e for e in ("\r\n", "\n", "\r") if e in text), "\r\n")  # CR and/or LF: all legal
    if not text.endswith(eol):
        problems.append("the last record is not ended like the others")
    records = text.split(eol)[:-1]
    if not records or records[0] != HEADER:
        problems.append(f"bad header {records[:1]!r}")
    rows: list[Row] = []
    for number, record in enumerate(records[1:], start=2):
        if FORBIDDEN.search(record):
            problems.append(f"line {number}: control character (stray CR, LF or other)")
        values = record.split("\t")
        if len(values) != len(FIELDS):
            problems.append(f"line {number}: {len(values)} fields, not 18")
            continue
        row = dict(zip(FIELDS, values))
        rows.append(row)
        where = f"line {number}"
        problems += [f"{where}: {f} is empty" for f in MANDATORY if not row[f]]
        problems += [f"{where}: {a}/{b} not both or neither" for a, b in PAIRS if bool(row[a]) != bool(row[b])]
        entry_day = _day(row["EcritureDate"])
        if entry_day is None or entry_day.year != year:
            problems.append(f"{where}: EcritureDate {row['EcritureDate']!r} not a date of {year}")
        for f in ("PieceDate", "ValidDate") + (("DateLet",) if row["DateLet"] else ()):
            if _day(row[f]) is None:
                problems.append(f"{where}: {f} {row[f]!r} is not a date YYYYMMDD")
        amounts = [row["Debit"], row["Credit"]] + ([row["Montantdevise"]] if row["Montantdevise"] else [])
        if not all(AMOUNT.fullmatch(a) for a in amounts):
            problems.append(f"{where}: amounts {amounts!r} not written 1234,56")
        elif (row["Debit"] == "0,00") == (row["Credit"] == "0,00"):
            problems.append(f"{where}: exactly one of Debit/Credit must be filled, not {amounts[:2]!r}")
        if not re.match(r"[1-8]", row["CompteNum"]):
            problems.append(f"{where}: CompteNum {row['CompteNum']!r} does not start with a PCG class 1-8")
    problems += _entry_problems(rows)
    assert not problems, "FEC rejected:\n" + "\n".join(problems[:30])
    return rows


def _entry_problems(rows: list[Row]) -> list[str]:
    problems: list[str] = []
    labels: dict[tuple[str, str], set[str]] = defaultdict(set)
    balance: dict[tuple[str, str], int] = defaultdict(int)
    days: dict[tuple[str, str], set[str]] = defaultdict(set)
    finished: set[tuple[str, str]] = set()
    order: dict[str, list[tuple[int, str]]] = defaultdict(list)  # journal -> (number, date)
    previous: tuple[str, str] | None = None
    last_day = ""
    for row in rows:
        key = (row["JournalCode"], row["EcritureNum"])
        labels[("CompteNum", row["CompteNum"])].add(row["CompteLib"])
        labels[("JournalCode", row["JournalCode"])].add(row["JournalLib"])
        if key != previous:
            if key in finished:
                problems.append(f"entry {key}: lines not contiguous")
            if previous is not None:
                finished.add(previous)
            parsed = TRAILING_NUMBER.fullmatch(row["EcritureNum"])
            if parsed is None:
                problems.append(f"entry {key}: EcritureNum without a number")
            else:
                order[row["JournalCode"]].append((int(parsed[2]), row["EcritureDate"]))
            previous = key
        if AMOUNT.fullmatch(row["Debit"]) and AMOUNT.fullmatch(row["Credit"]):
            balance[key] += _cents(row["Debit"]) - _cents(row["Credit"])
        days[key].add(row["EcritureDate"])
        if row["EcritureDate"] < last_day:
            problems.append(f"entry {key}: file not in chronological order")
        last_day = max(last_day, row["EcritureDate"])
    problems += [f"entry {k}: off balance by {v} cents" for k, v in balance.items() if v]
    problems += [f"entry {k}: several dates {sorted(v)}" for k, v in days.items() if len(v) > 1]
    problems += [f"{kind} {code}: several labels {sorted(v)}" for (kind, code), v in labels.items()
                 if len(v) > 1]
    for journal, numbers in order.items():
        for (n1, d1), (n2, d2) in zip(numbers, numbers[1:]):
            if n2 != n1 + 1:
                problems.append(f"journal {journal}: EcritureNum {n2} follows {n1}")
            if d2 < d1:
                problems.append(f"journal {journal}: entry {n2} dated {d2} before {n1} dated {d1}")
    return problems


# --- helpers --------------------------------------------------------------------------------

def october(engine: Engine, rules: Rules) -> None:
    ingest(engine, read_events(OCTOBER), rules)
    with engine.begin() as conn:
        run_payroll(conn, "2026-10", rules)


def events(engine: Engine, rules: Rules, *docs: dict[str, object], batch: int = 2000) -> None:
    raws = (Raw(json.dumps(d, ensure_ascii=False).encode(), f"test:{i}") for i, d in enumerate(docs))
    outcome = ingest(engine, iter(raws), rules, batch=batch)
    assert not outcome.dead_letters, [d.reason for d in outcome.dead_letters]


def joined(member_id: str, name: str, on: str = "2026-01-01") -> dict[str, object]:
    return {"event_id": f"join-{member_id}", "type": "member.joined", "occurred_at": f"{on}T09:00:00Z",
            "member_id": member_id, "name": name, "joined_on": on, "status": "salarie"}


def invoice(invoice_id: str, member_id: str, on: str, ht: str, client: str = "Client SA",
            label: str = "Prestation") -> dict[str, object]:
    return {"event_id": f"ev-{invoice_id}", "type": "invoice.issued", "occurred_at": f"{on}T10:00:00Z",
            "invoice_id": invoice_id, "member_id": member_id, "issued_on": on, "client": client,
            "lines": [{"label": label, "amount_ht": ht, "vat_rate": "0.20"}]}


def expense(expense_id: str, member_id: str, on: str, ht: str, supplier: str) -> dict[str, object]:
    return {"event_id": f"ev-{expense_id}", "type": "expense.recorded", "occurred_at": f"{on}T10:00:00Z",
            "expense_id": expense_id, "member_id": member_id, "spent_on": on, "supplier": supplier,
            "amount_ht": ht, "vat": "0.00", "direct_cost": True}


def export(engine: Engine, year: int, directory: Path) -> tuple[list[Row], dict[str, object]]:
    summary = export_fec(engine, year, SIREN, directory)
    assert summary.path == (directory / f"{SIREN}FEC{year}1231.txt").resolve()
    rows = validate_fec(summary.path, year)
    return rows, summary.to_json()


def entries_of(rows: list[Row]) -> dict[tuple[str, str], list[Row]]:
    found: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        found[(row["JournalCode"], row["EcritureNum"])].append(row)
    return found


def assert_matches_trial_balance(engine: Engine, rows: list[Row], year: int,
                                 summary: dict[str, object]) -> None:
    """Per account, the file's debits and credits are the trial balance's movements of the year."""
    with engine.connect() as conn:
        end = {r.account: r for r in trial_balance(conn, date(year, 12, 31))}
        start = {r.account: r for r in trial_balance(conn, date(year - 1, 12, 31))}
        in_year = conn.scalar(select(func.count()).select_from(schema.entries)
                              .where(schema.entries.c.entry_date.between(date(year, 1, 1),
                                                                          date(year, 12, 31))))
    expected = {}
    for account, r in end.items():
        before = start.get(account)
        debit = r.debit - (before.debit if before else 0)
        credit = r.credit - (before.credit if before else 0)
        if debit or credit:
            expected[account] = (debit, credit)
    found: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal("0.00"), Decimal("0.00")])
    for row in rows:
        found[row["CompteNum"]][0] += Decimal(row["Debit"].replace(",", "."))
        found[row["CompteNum"]][1] += Decimal(row["Credit"].replace(",", "."))
    assert {a: tuple(v) for a, v in found.items()} == expected
    total_debit = sum((d for d, _ in expected.values()), Decimal("0.00"))
    total_credit = sum((c for _, c in expected.values()), Decimal("0.00"))
    assert summary["total_debit"] == f"{total_debit:.2f}" and summary["total_credit"] == f"{total_credit:.2f}"
    assert summary["lines"] == len(rows) and summary["entries"] == len(entries_of(rows)) == in_year


# --- the tests ------------------------------------------------------------------------------

def test_october_scenario_gives_a_valid_fec_equal_to_the_trial_balance(
        engine: Engine, rules: Rules, tmp_path: Path) -> None:
    october(engine, rules)
    rows, summary = export(engine, 2026, tmp_path / "fec")
    assert_matches_trial_balance(engine, rows, 2026, summary)
    assert summary["total_debit"] == summary["total_credit"] != "0.00"
    entries = entries_of(rows)
    for journal in ("VT", "AC", "BQ", "OD", "PA"):  # no month closed: provisional, from 1
        assert (journal, f"{journal}00000001") in entries

    by_account: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_account[row["CompteNum"]].append(row)
    assert {(r["CompAuxNum"], r["CompAuxLib"]) for r in by_account["411"]} == {
        ("CATELIERNORD", "Atelier Nord"), ("CMAIRIEDESAINTECR", "Mairie de Sainte-Croix"),
        ("CLIBRAIRIEDUPORT", "Librairie du Port")}
    assert {(r["CompAuxNum"], r["CompAuxLib"]) for r in by_account["401"]} == {("FFREELANCEDEV", "Freelance dev")}
    assert {(r["CompAuxNum"], r["CompAuxLib"]) for r in by_account["421"]} == {
        ("M001", "Alice Martin"), ("M003", "Chloé Dubois")}
    # a line without an auxiliary account carries its member (DOMAIN.md: the analytic section)
    assert {(r["CompAuxNum"], r["CompAuxLib"]) for r in by_account["641"]} == {
        ("M001", "Alice Martin"), ("M003", "Chloé Dubois")}
    assert all(r["CompAuxNum"] for r in rows)

    sale = entries[("VT", "VT00000001")]
    assert [(r["CompteNum"], r["Debit"], r["Credit"]) for r in sale] == [
        ("411", "1500,60", "0,00"), ("706", "0,00", "1250,50"), ("44571", "0,00", "250,10")]
    assert {(r["PieceRef"], r["PieceDate"], r["EcritureLib"], r["JournalLib"]) for r in sale} == {
        ("F-M001-0001", "20261003", "Facture F-M001-0001 Atelier Nord", "Ventes")}
    with engine.connect() as conn:
        posted = {m.astimezone(timezone.utc).date() if m.tzinfo else m.date()
                  for m in conn.scalars(select(schema.entries.c.posted_at))}
    assert {r["ValidDate"] for r in rows} == {d.strftime("%Y%m%d") for d in posted}
    raw = summary_path(tmp_path / "fec", 2026).read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") == raw.count(b"\r") == len(rows) + 1  # CRLF, ours
    assert b"Chlo\xe9 Dubois" in raw and b"Op\xe9rations diverses" in raw  # ISO 8859-15, not UTF-8


def summary_path(directory: Path, year: int) -> Path:
    return directory / f"{SIREN}FEC{year}1231.txt"


def test_closing_keeps_the_numbers_and_a_late_event_lands_after_them(
        engine: Engine, rules: Rules, tmp_path: Path) -> None:
    october(engine, rules)
    before, _ = export(engine, 2026, tmp_path / "open")
    with engine.begin() as conn:
        assert close_month(conn, "2026-10") > 0
    closed, _ = export(engine, 2026, tmp_path / "closed")
    without_valid = [{k: v for k, v in r.items() if k != "ValidDate"} for r in closed]
    assert without_valid == [{k: v for k, v in r.items() if k != "ValidDate"} for r in before]
    e, n = schema.entries, schema.entry_numbers
    with engine.connect() as conn:
        definitive = {(j, f"{j}{num:08d}"): v.strftime("%Y%m%d") for j, num, v in conn.execute(
            select(n.c.journal, n.c.number, n.c.validated_on))}
        last = dict(conn.execute(select(n.c.journal, func.max(n.c.number)).group_by(n.c.journal)).tuples().all())
    assert {(r["JournalCode"], r["EcritureNum"]): r["ValidDate"] for r in closed} == definitive

    # a late invoice dated in October: posted on 1 November, numbered after October's entries
    events(engine, rules, invoice("F-M002-0002", "M002", "2026-10-28", "100.00", "Librairie du Port"))
    rows, summary = export(engine, 2026, tmp_path / "late")
    assert_matches_trial_balance(engine, rows, 2026, summary)
    late = entries_of(rows)[("VT", f"VT{last['VT'] + 1:08d}")]
    assert {(r["EcritureDate"], r["PieceDate"], r["PieceRef"]) for r in late} == {
        ("20261101", "20261028", "F-M002-0002")}
    assert rows[:len(closed)] == closed and len(rows) > len(closed)
    assert ("OD", f"OD{last['OD'] + 1:08d}") in entries_of(rows)

    # closing November turns the provisional number into the same definitive one
    with engine.begin() as conn:
        close_month(conn, "2026-11")
    after, _ = export(engine, 2026, tmp_path / "november")
    assert [{k: v for k, v in r.items() if k != "ValidDate"} for r in after] == [
        {k: v for k, v in r.items() if k != "ValidDate"} for r in rows]
    with engine.connect() as conn:
        assert conn.scalar(select(func.max(n.c.number)).where(n.c.journal == "VT")) == last["VT"] + 1
        assert conn.scalar(select(func.count()).select_from(e).outerjoin(n, n.c.entry_id == e.c.id)
                           .where(n.c.entry_id.is_(None))) == 0


def test_events_out_of_date_order_are_numbered_by_date_across_years(
        engine: Engine, rules: Rules, tmp_path: Path) -> None:
    events(engine, rules, joined("M1", "Inès Ortega"), joined("M2", "Paul Vidal"))
    docs = [invoice("I-5", "M1", "2026-12-20", "500.00"), invoice("I-1", "M2", "2026-03-05", "100.00"),
            invoice("I-6", "M2", "2027-01-10", "600.00"), expense("X-2", "M1", "2026-07-14", "50.00", "Imprimerie"),
            invoice("I-2", "M1", "2026-03-05", "200.00"), invoice("I-0", "M1", "2026-01-02", "10.00"),
            expense("X-1", "M2", "2026-02-01", "20.00", "Imprimerie"), invoice("I-4", "M2", "2026-07-14", "400.00")]
    events(engine, rules, *docs, batch=1)  # one transaction each: ids in arrival order
    events(engine, rules, {"event_id": "sal-M1", "type": "salary.set", "occurred_at": "2026-11-30T09:00:00Z",
                           "member_id": "M1", "from_month": "2026-12", "gross": "100.00"})
    with engine.begin() as conn:
        run_payroll(conn, "2026-12", rules)

    rows, summary = export(engine, 2026, tmp_path / "2026")
    assert any(r["JournalCode"] == "PA" for r in rows)
    assert_matches_trial_balance(engine, rows, 2026, summary)
    sales = [(r["EcritureNum"], r["EcritureDate"], r["PieceRef"]) for r in rows
             if r["JournalCode"] == "VT" and r["CompteNum"] == "706"]
    assert sales == [("VT00000001", "20260102", "I-0"), ("VT00000002", "20260305", "I-1"),
                     ("VT00000003", "20260305", "I-2"), ("VT00000004", "20260714", "I-4"),
                     ("VT00000005", "20261220", "I-5")]
    # within a day: by journal, then number (AC before OD before VT)
    july = [(r["JournalCode"], r["EcritureNum"]) for r in rows if r["EcritureDate"] == "20260714"]
    assert july == sorted(july)

    rows_2027, summary_2027 = export(engine, 2027, tmp_path / "2027")
    assert_matches_trial_balance(engine, rows_2027, 2027, summary_2027)
    assert {r["EcritureNum"] for r in rows_2027 if r["JournalCode"] == "VT"} == {"VT00000006"}

    # closing December makes 2026 definitive: same numbers, and 2027 runs on from them
    with engine.begin() as conn:
        close_month(conn, "2026-12")
    assert [r["EcritureNum"] for r in export(engine, 2026, tmp_path / "c2026")[0]] == [
        r["EcritureNum"] for r in rows]
    assert [r["EcritureNum"] for r in export(engine, 2027, tmp_path / "c2027")[0]] == [
        r["EcritureNum"] for r in rows_2027]


def test_labels_outside_iso_8859_15_and_tabs_are_replaced(
        engine: Engine, rules: Rules, tmp_path: Path) -> None:
    events(engine, rules, joined("M\u00e91", "Zoë Œuvre ✓ 🎉"),
           invoice("F-€-1", "M\u00e91", "2026-05-04", "120.00", client="Café “Le Zinc” — Łódź ✓"))
    now = datetime(2026, 5, 6, 8, 0, tzinfo=timezone.utc)
    with engine.begin() as conn:  # around the door, which refuses tabs: the database does not
        conn.execute(insert(schema.processed_events), {
            "event_id": "manual-1", "fingerprint": "-" * 64, "type": "manual", "entry_count": 1,
            "source": "test", "processed_at": now})
        post(conn, [(Entry("OD", date(2026, 5, 6), "OD\t1", date(2026, 5, 6),
                           "Correction\tmanuelle\r\nligne 2 ✓", (
                               Line("512", Decimal("10.00"), None, "CTAB", "Client\tTab"),
                               Line("411", Decimal("-10.00"), None, None, None)),
                           "manual-1"), 0)], now)
    rows, summary = export(engine, 2026, tmp_path)
    assert_matches_trial_balance(engine, rows, 2026, summary)
    raw = summary_path(tmp_path, 2026).read_bytes()
    assert b"Zo\xeb \xbcuvre ?" in raw  # ë and Œ are in ISO 8859-15, ✓ is not
    assert b"F-\xa4-1" in raw  # € is 0xA4 in ISO 8859-15
    assert "🎉".encode() not in raw and "✓".encode() not in raw
    sale = [r for r in rows if r["CompteNum"] == "411" and r["JournalCode"] == "VT"]
    assert sale[0]["CompAuxLib"] == 'Café "Le Zinc" - Lódz ?'
    assert sale[0]["EcritureLib"] == 'Facture F-€-1 Café "Le Zinc" - Lódz ?'
    manual = [r for r in rows if r["PieceRef"].startswith("OD")]
    assert [(r["CompAuxNum"], r["CompAuxLib"]) for r in manual] == [("CTAB", "Client Tab"), ("", "")]
    assert {r["EcritureLib"] for r in manual} == {"Correction manuelle  ligne 2 ?"}
    assert {r["PieceRef"] for r in manual} == {"OD 1"}
    assert {r["ValidDate"] for r in manual} == {"20260506"}


@given(st.text())
def test_any_text_becomes_one_iso_8859_15_field(text: str) -> None:
    cleaned = latin9(text)
    cleaned.encode("iso8859_15")
    assert not re.search("[\x00-\x1f\x7f-\x9f]", cleaned)
    assert cleaned == cleaned.strip()
    try:
        text.encode("iso8859_15")
    except UnicodeEncodeError:
        return
    if not re.search("[\x00-\x1f\x7f-\x9f]", text):
        assert cleaned == text.strip()  # text already in the set is kept as it is


def test_a_year_without_entries_has_the_header_only(engine: Engine, tmp_path: Path) -> None:
    rows, summary = export(engine, 2031, tmp_path)
    assert rows == []
    assert summary_path(tmp_path, 2031).read_bytes() == HEADER.encode() + b"\r\n"
    assert summary == {"path": str(summary_path(tmp_path, 2031).resolve()), "entries": 0, "lines": 0,
                       "total_debit": "0.00", "total_credit": "0.00"}


def test_cae_has_the_fec_command() -> None:
    import click

    from cli.main import cae  # here, so that a sibling command being written cannot stop collection

    assert cae.get_command(click.Context(cae), "fec") is fec_command


def test_command_line(db_url: str, rules: Rules, tmp_path: Path) -> None:
    runner = CliRunner()
    ingested = runner.invoke(ingest_command, [str(OCTOBER), "--db", db_url, "--json"])
    assert ingested.exit_code == 3, ingested.output  # the scenario's 4 dead letters
    out = tmp_path / "out"
    result = runner.invoke(fec_command, ["--year", "2026", "--siren", SIREN, "-o", str(out),
                                 "--db", db_url, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["path"] == str(summary_path(out, 2026).resolve())
    assert document["total_debit"] == document["total_credit"]
    assert len(validate_fec(Path(document["path"]), 2026)) == document["lines"] > 0
    assert sorted(p.name for p in out.iterdir()) == [f"{SIREN}FEC20261231.txt"]  # no leftovers

    text = runner.invoke(fec_command, ["--year", "2026", "--siren", "123 456 789", "-o", str(out),
                               "--db", db_url])
    assert text.exit_code == 0 and "2026" in text.stdout

    for bad in ("12345678", "1234567890", "12345678A", ""):
        refused = runner.invoke(fec_command, ["--year", "2026", "--siren", bad, "-o", str(out), "--db", db_url])
        assert refused.exit_code == 1, refused.output
        assert refused.stderr.count("\n") == 1 and "9 digits" in refused.stderr and not refused.stdout
    refused = runner.invoke(fec_command, ["--year", "26", "--siren", SIREN, "-o", str(out), "--db", db_url])
    assert refused.exit_code == 2


# --- the validator judges: it must refuse what the DGFiP refuses ----------------------------

_GOOD = [
    "VT\tVentes\tVT00000001\t20260103\t411\tClients\tC1\tClient\tF1\t20260103\tFacture F1\t120,00\t0,00\t\t\t20260104\t\t",
    "VT\tVentes\tVT00000001\t20260103\t706\tPrestations\t\t\tF1\t20260103\tFacture F1\t0,00\t100,00\t\t\t20260104\t\t",
    "VT\tVentes\tVT00000001\t20260103\t44571\tTVA\t\t\tF1\t20260103\tFacture F1\t0,00\t20,00\t\t\t20260104\t\t",
    "VT\tVentes\tVT00000002\t20260105\t411\tClients\tC1\tClient\tF2\t20260105\tFacture F2\t0,00\t1,00\t\t\t20260105\t\t",
    "VT\tVentes\tVT00000002\t20260105\t706\tPrestations\t\t\tF2\t20260105\tFacture F2\t1,00\t0,00\t\t\t20260105\t\t",
]


def _write(directory: Path, records: list[str], name: str = f"{SIREN}FEC20261231.txt",
           eol: str = "\r\n") -> Path:
    path = directory / name
    path.write_bytes("".join(r + eol for r in [HEADER] + records).encode("iso8859_15"))
    return path


def _swap(index: int, field: str, value: str) -> list[str]:
    records = list(_GOOD)
    values = records[index].split("\t")
    values[FIELDS.index(field)] = value
    records[index] = "\t".join(values)
    return records


def test_the_validator_accepts_a_good_file_and_refuses_broken_ones(tmp_path: Path) -> None:
    assert len(validate_fec(_write(tmp_path, _GOOD), 2026)) == 5
    broken = {
        "decimal point": _swap(0, "Debit", "120.00"),
        "thousands separator": _swap(0, "Debit", "1 120,00"),
        "both amounts": _swap(1, "Debit", "100,00"),
        "unbalanced": _GOOD[:2] + _GOOD[3:],
        "gap": [r.replace("VT00000002", "VT00000003") for r in _GOOD],
        "not contiguous": [_GOOD[0], _GOOD[3], _GOOD[1], _GOOD[2], _GOOD[4]],
        "two dates": _swap(2, "EcritureDate", "20260104"),
        "other year": [r.replace("20260105", "20270105") for r in _GOOD],
        "bad date": _swap(0, "PieceDate", "20260231"),
        "empty PieceRef": _swap(0, "PieceRef", ""),
        "class 9": _swap(2, "CompteNum", "94571"),
        "two account labels": _swap(4, "CompteLib", "Ventes"),
        "aux alone": _swap(1, "CompAuxNum", "C2"),
        "19 fields": _swap(0, "EcritureLib", "Facture\tF1"),
        "numbers back in time": [r.replace("20260105", "20260102") for r in _GOOD],
    }
    for why, records in broken.items():
        path = _write(tmp_path, records)
        try:
            validate_fec(path, 2026)
        except AssertionError:
            continue
        raise AssertionError(f"the validator accepted a file with {why}")
    assert len(validate_fec(_write(tmp_path, _GOOD, eol="\n"), 2026)) == 5  # LF alone is legal too
    mixed = _write(tmp_path, _GOOD)
    mixed.write_bytes(mixed.read_bytes().replace(b"\r\n", b"\n", 2))
    for path in (_write(tmp_path, _GOOD, name=f"{SIREN}FEC20251231.txt"),
                 _write(tmp_path, _GOOD, name="12345678FEC20261231.txt"), mixed):
        try:
            validate_fec(path, 2026)
        except AssertionError:
            continue
        raise AssertionError(f"the validator accepted {path.name} with {path.read_bytes()[:300]!r}")
