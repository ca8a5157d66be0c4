"""`cae assembly A --minutes FILE.html|.pdf`: the minutes (R225-106) and the attendance sheet (R225-95),
in French, on both backends (DOMAIN.md G5; issue 17 point 5)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import Engine

from cli.main import cae
from engine.config import Rules
from governance import secret
from tests.assembly_support import associates, assembly, event, feed

ON_THE_DAY = "2026-06-20T10:00:00Z"


@pytest.fixture
def recorded(engine: Engine, rules: Rules) -> Engine:
    done = feed(engine, rules, *associates("A1", "A2", "A3", "A4", "A5", "A6"),
                *assembly("AG", "R1", "S1", secret=("S1",)),
                event("convocation.sent", assembly_id="AG", member_id="A1", channel="email", sent_on="2026-06-01"),
                event("convocation.sent", assembly_id="AG", member_id="A2", channel="letter", sent_on="2026-06-01"),
                event("bureau.appointed", assembly_id="AG", member_id="A1", role="chair"),
                event("bureau.appointed", assembly_id="AG", member_id="A2", role="secretary"),
                event("bureau.appointed", assembly_id="AG", member_id="A3", role="scrutineer"),
                event("attendance.recorded", meeting_id="AG", member_id="A1", mode="present"),
                event("attendance.recorded", meeting_id="AG", member_id="A2", mode="remote"),
                event("attendance.recorded", meeting_id="AG", member_id="A3", mode="present"),
                event("proxy.given", assembly_id="AG", from_member="A4", to_member="A1"),
                event("vote.cast", at="2026-06-10T08:00:00Z", resolution_id="R1", member_id="A5", choice="for",
                      mode="correspondence"),
                *(event("vote.cast", at=ON_THE_DAY, resolution_id="R1", member_id=m, choice="for") for m in
                  ("A1", "A2", "A3")),
                event("vote.cast", at=ON_THE_DAY, resolution_id="R1", member_id="A4", cast_by="A1",
                      choice="against"),
                event("minutes.recorded", assembly_id="AG", recorded_by="A2",
                      debates="Le président ouvre la séance.\nLe rapport de gestion est discuté.",
                      documents="Rapport de gestion 2025.\nComptes annuels 2025."))
    assert done.dead_letters == []
    with engine.begin() as conn:
        secret.cast(conn, [secret.SecretBallot("S1", "A5", "for", "correspondence"),
                           secret.SecretBallot("S1", "A1", "against", "direct")])
    return engine


def _minutes(db_url: str, path: Path) -> None:
    result = CliRunner().invoke(cae, ["assembly", "AG", "--minutes", str(path), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert f"written to {path}" in result.output


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).replace("&#39;", "'")


def test_the_minutes_give_every_item_of_r225_106_and_the_sheet_every_item_of_r225_95(
        recorded: Engine, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "pv.html"
    _minutes(db_url, path)
    html = path.read_text(encoding="utf-8")
    minutes, sheet = html.split("Annexe : feuille de présence")
    text = _words(minutes)
    for item in (
        "s'est réunie le 20 juin 2026, Salle des fêtes, Lyon",  # date and place
        "participer à distance",
        "convoquée sur première convocation, le 1er juin 2026, 19 jours avant la réunion (15 requis)",  # how
        "1 associé(s) par courrier électronique, avec leur accord écrit, et 1 par lettre",
        "Résolution R1", "Résolution S1 (vote à bulletin secret)",  # the agenda
        "Président de séance : Associé A1 (A1)", "Secrétaire : Associé A2 (A2)",  # the bureau
        "Scrutateur : Associé A3 (A3)",
        "Sur 6 associés (un associé, une voix) : 2 présent(s), 1 participant à distance, 1 représenté(s), "
        "1 ayant voté par correspondance, soit 5 associés participant au vote",  # participation
        "Le quorum requis est de 2 : il est atteint",
        "Rapport de gestion 2025. Comptes annuels 2025.",  # documents and reports
        "Le président ouvre la séance. Le rapport de gestion est discuté.",  # the debates
        "L'assemblée approuve R1. Second alinéa.",  # each resolution's text
        "Pour : 4 ; contre : 1 ; abstention : 0 ; blanc : 0. Cette résolution est adoptée.",  # its result
        "Vote à bulletin secret. Pour : 1 ; contre : 1",
        "signé par les membres du bureau",
    ):
        assert item in text, item
    rows = {m: _words(row) for m, row in re.findall(r"<tr><td>(A\d)</td>(.*?)</tr>", sheet, re.S)}
    assert set(rows) == {"A1", "A2", "A3", "A4", "A5"}  # A6, absent and not represented, is not on it
    assert "présent" in rows["A1"] and "réputé présent (à distance)" in rows["A2"]
    assert "représenté" in rows["A4"] and "Associé A1 (A1)" in rows["A4"]
    assert "vote par correspondance" in rows["A5"]
    assert "Parts sociales" in sheet and "Voix" in sheet and "Certifiée exacte par le bureau" in sheet


def test_the_minutes_as_a_pdf_and_the_bureau_in_the_json(recorded: Engine, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "pv.pdf"
    _minutes(db_url, path)
    pdf = PdfReader(io.BytesIO(path.read_bytes()))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Procès-verbal" in text and "feuille de présence" in text and len(pdf.pages) >= 2
    result = CliRunner().invoke(cae, ["assembly", "AG", "--json", "--db", db_url])
    assert json.loads(result.output)["bureau"] == [{"role": "chair", "member_id": "A1"},
                                                   {"role": "secretary", "member_id": "A2"},
                                                   {"role": "scrutineer", "member_id": "A3"}]


def test_minutes_are_written_as_pdf_or_html_only(recorded: Engine, db_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cae, ["assembly", "AG", "--minutes", str(tmp_path / "pv.docx"), "--db", db_url])
    assert result.exit_code == 2 and ".pdf or a .html" in result.output
