"""The board's part of an assembly's page (issue 17, points 1 and 5), on both backends: the convocation
sent by a button through a real SMTP server (aiosmtpd on loopback), refused with the reason in French
when it cannot go; the convocations sent; the letter list as CSV and as letters to print; the bureau
and the debates; the minutes as the same PDF as `cae assembly --minutes`. In Chromium at 375 and
1280 px; a member reaches none of it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cli.main import cae
from engine.config import Rules
from governance.config import load_governance
from governance.store import load_bureau, load_convocations, load_minutes
from tests.assembly_support import associates, assembly, cooperative_today, event, feed
from tests.smtp_support import Inbox, inbox  # noqa: F401  (the fixture)
from tests.test_web_browser import browser, screenshot  # noqa: F401  (the fixture)
from tests.test_assembly_pages import _phone as signed_in
from tests.web_support import csrf_of, login, served
from web import accounts
from web.app import create_app

SOON = (cooperative_today() + timedelta(days=30)).isoformat()
NEAR = (cooperative_today() + timedelta(days=5)).isoformat()
PASSWORD = "correct horse battery staple"


@pytest.fixture
def ledger(engine: Engine, rules: Rules) -> Engine:
    """A1 and A2 consented to email, A3 gave no address, A4 an address without consent."""
    done = feed(engine, rules, *associates("A1", "A2", "A3", "A4"),
                *[event("member.contact_set", member_id=m, email=f"{m.lower()}@example.org",
                        convocation_by_email=m != "A4", on="2025-02-01") for m in ("A1", "A2", "A4")],
                *assembly("AG", "R1", held_on=SOON, convened_on=None, vote_deadline=None),
                *assembly("NEAR", "N1", held_on=NEAR, convened_on=None, vote_deadline=None))
    assert done.dead_letters == []
    with engine.begin() as conn:
        accounts.add_user(conn, "chair@coop.test", PASSWORD, "board", None, "tests")
        accounts.add_user(conn, "a1@coop.test", PASSWORD, "member", "A1", "tests")
    return engine


def _client(engine: Engine, rules: Rules, email: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(engine, rules, load_governance()), raise_server_exceptions=True)
    login(client, email, PASSWORD)
    return client, csrf_of(client.get("/assemblies").text)


def test_the_button_emails_who_consented_records_each_sending_and_lists_the_letters(
        ledger: Engine, rules: Rules, inbox: Inbox) -> None:
    board, csrf = _client(ledger, rules, "chair@coop.test")
    sent = board.post("/assemblies/AG/convocations", data={"csrf": csrf}, follow_redirects=False)
    assert sent.status_code == 303, sent.text[:300]
    assert sorted(r[0] for r, _ in inbox.messages) == ["a1@example.org", "a2@example.org"]
    text = inbox.to("a1@example.org")[0].get_content()
    assert "Bonjour Associé A1" in text and "http://testserver/assemblies/AG" in text
    with ledger.connect() as conn:
        recorded = {(c.member_id, c.channel, c.sent_on) for c in load_convocations(conn, "AG")}
    today = cooperative_today()
    assert recorded == {("A1", "email", today), ("A2", "email", today), ("A3", "letter", today),
                        ("A4", "letter", today)}
    page = unescape(board.get("/assemblies/AG").text)
    for mid, channel in (("A1", "courriel"), ("A3", "lettre")):
        assert f'<tr id="sent-{mid}"><td>{mid} Associé {mid}</td>' in page and channel in page
    assert "Reste à convoquer : 0 par courriel" in page
    again = board.post("/assemblies/AG/convocations", data={"csrf": csrf}, follow_redirects=False)
    assert again.status_code == 303 and len(inbox.messages) == 2  # nobody twice
    rows = list(csv.reader(io.StringIO(board.get("/assemblies/AG/letters.csv").text)))
    assert rows == [["member_id", "name", "assembly_id", "held_on"], ["A3", "Associé A3", "AG", SOON],
                    ["A4", "Associé A4", "AG", SOON]]
    letters = unescape(board.get("/assemblies/AG/letters").text)
    assert 'id="letter-A3"' in letters and 'id="letter-A4"' in letters and 'id="letter-A1"' not in letters
    assert "Bonjour Associé A4" in letters and "L'assemblée approuve R1." in letters


def test_the_button_refuses_without_smtp_or_too_late_and_sends_nothing(
        ledger: Engine, rules: Rules, inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    board, csrf = _client(ledger, rules, "chair@coop.test")
    late = board.post("/assemblies/NEAR/convocations", data={"csrf": csrf})
    assert late.status_code == 422
    assert "est trop proche : la convocation part au moins 15 jours avant, il en reste 5" in unescape(late.text)
    monkeypatch.delenv("CAE_SMTP_URL")
    none = board.post("/assemblies/AG/convocations", data={"csrf": csrf})
    assert none.status_code == 422 and "aucun serveur de courriel n'est configuré" in unescape(none.text)
    assert board.post("/assemblies/NOPE/convocations", data={"csrf": csrf}).status_code == 404
    with ledger.connect() as conn:
        assert load_convocations(conn, "AG") == [] and load_convocations(conn, "NEAR") == []
    assert inbox.messages == []


def test_the_smtp_server_that_does_not_answer_is_said_in_french(
        ledger: Engine, rules: Rules, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.kafka_fixtures import free_port

    monkeypatch.setenv("CAE_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    board, csrf = _client(ledger, rules, "chair@coop.test")
    failed = board.post("/assemblies/AG/convocations", data={"csrf": csrf})
    assert failed.status_code == 422 and "n'a pas pris les messages : 0 envoyé(s)" in unescape(failed.text)


def test_the_bureau_and_the_debates_make_the_minutes_the_cli_writes(
        ledger: Engine, rules: Rules, db_url: str, tmp_path: Path) -> None:
    board, csrf = _client(ledger, rules, "chair@coop.test")
    for mid, role in (("A1", "chair"), ("A2", "secretary"), ("A3", "scrutineer")):
        done = board.post("/assemblies/AG/bureau", data={"csrf": csrf, "member_id": mid, "role": role},
                          follow_redirects=False)
        assert done.status_code == 303
    debates = "Le président ouvre la séance.\n\nLes comptes sont présentés et discutés. " * 30  # past a field's 1000
    done = board.post("/assemblies/AG/debates", data={"csrf": csrf, "debates": debates, "documents": "Rapport"},
                      follow_redirects=False)
    assert done.status_code == 303
    bad = board.post("/assemblies/AG/bureau", data={"csrf": csrf, "member_id": "NOBODY", "role": "chair"})
    assert bad.status_code == 422 and "Refusé" in bad.text
    with ledger.connect() as conn:
        assert [(o.member_id, o.role) for o in load_bureau(conn, "AG")] == [
            ("A1", "chair"), ("A2", "secretary"), ("A3", "scrutineer")]
        minutes = load_minutes(conn, "AG")
    assert minutes is not None and minutes.debates == debates.strip() and minutes.recorded_by == "chair@coop.test"
    page = unescape(board.get("/assemblies/AG").text)
    assert "Président de séance : A1 Associé A1" in page and "Scrutateur : A3" in page
    pdf = board.get("/assemblies/AG/minutes.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "pv.pdf"
    result = CliRunner().invoke(cae, ["assembly", "AG", "--minutes", str(path), "--db", db_url],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert pdf.content == path.read_bytes()
    sheet = board.get("/assemblies/AG/sheet.pdf")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")


def test_a_member_reaches_none_of_the_boards_part(ledger: Engine, rules: Rules) -> None:
    member, csrf = _client(ledger, rules, "a1@coop.test")
    for path in ("/assemblies/AG/letters", "/assemblies/AG/letters.csv", "/assemblies/AG/minutes.pdf",
                 "/assemblies/AG/sheet.pdf"):
        assert member.get(path).status_code == 403, path
    for path, form in (("/assemblies/AG/convocations", {}), ("/assemblies/AG/bureau", {"member_id": "A1"}),
                       ("/assemblies/AG/debates", {"debates": "x"})):
        assert member.post(path, data={"csrf": csrf, **form}).status_code == 403, path
    page = member.get("/assemblies/AG").text
    assert 'id="send-convocations"' not in page and 'id="appoint"' not in page
    with ledger.connect() as conn:
        assert load_convocations(conn, "AG") == [] and load_bureau(conn, "AG") == []


@pytest.mark.parametrize("width", [375, 1280])
def test_the_board_convenes_and_records_the_bureau_in_chromium(
        browser: Any, ledger: Engine, db_url: str, inbox: Inbox, width: int) -> None:
    with served(db_url) as base:
        page = signed_in(browser, base, "chair@coop.test", {"width": width, "height": 900})
        page.goto(f"{base}/assemblies/AG")
        page.get_by_role("button", name="Envoyer la convocation").click()
        assert "courriel" in page.locator("#sent-A1").inner_text()
        assert "lettre" in page.locator("#sent-A4").inner_text()
        form = page.locator("#appoint")
        form.get_by_label("Associé").select_option("A2")
        form.get_by_label("Fonction").select_option("secretary")
        form.get_by_role("button", name="Désigner").click()
        assert "Secrétaire : A2" in page.locator("#officers").inner_text()
        page.get_by_label("Résumé des débats").fill("La séance est ouverte à 18 h.")
        page.get_by_role("button", name="Enregistrer les débats").click()
        assert page.get_by_label("Résumé des débats").input_value() == "La séance est ouverte à 18 h."
        # The board's sections fit the phone (the tallies' table above them is the phone layout's work).
        wide = page.evaluate("""w => [...document.querySelectorAll('#convocations *, #bureau *, #debates *')]
                                 .filter(e => e.getBoundingClientRect().right > w).map(e => e.tagName + '#' + e.id)""",
                             width)
        assert wide == []
        screenshot(page, f"assembly-board-{width}")
        with page.expect_download() as download:
            page.locator("#minutes-pdf").click()
        assert download.value.suggested_filename == "proces-verbal-AG.pdf"
        page.goto(f"{base}/assemblies/NEAR")
        page.get_by_role("button", name="Envoyer la convocation").click()
        assert "trop proche" in page.get_by_role("alert").inner_text()
        page.close()
    assert sorted(r[0] for r, _ in inbox.messages) == ["a1@example.org", "a2@example.org"]


def test_the_emails_link_to_the_configured_site_never_to_a_host_header(
        ledger: Engine, rules: Rules, inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAE_BASE_URL", "https://coop.example")
    board, csrf = _client(ledger, rules, "chair@coop.test")
    sent = board.post("/assemblies/AG/convocations", data={"csrf": csrf}, headers={"host": "evil.example"},
                      follow_redirects=False)
    assert sent.status_code == 303
    text = inbox.to("a1@example.org")[0].get_content()
    assert "https://coop.example/assemblies/AG" in text and "evil.example" not in text
