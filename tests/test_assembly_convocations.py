"""`cae assembly A --send-convocations` on a real SMTP server (aiosmtpd on loopback), both backends.

DOMAIN.md G1: by email only to who consented, by letter to the others, each recorded; sending
again sends nobody twice; the password of CAE_SMTP_URL is never printed.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from cli.main import cae
from engine.config import Rules
from governance.store import load_convocations
from tests.kafka_fixtures import free_port
from tests.assembly_support import associates, assembly, event, feed
from tests.smtp_support import Inbox, inbox  # noqa: F401  (the fixture)


def _ledger(engine: Engine, rules: Rules) -> None:
    done = feed(engine, rules, *associates("A1", "A2", "A3", "A4"),
                event("member.joined", member_id="N1", name="Pas associé", joined_on="2025-01-01", status="cape"),
                event("member.contact_set", member_id="N1", email="n1@example.org", convocation_by_email=True,
                      on="2025-02-01"),
                *[event("member.contact_set", member_id=m, email=f"{m.lower()}@example.org",
                        convocation_by_email=m != "A3", on="2025-02-01") for m in ("A1", "A2", "A3")],
                *assembly("AG", "R1", "R2", secret=("R2",)))
    assert done.dead_letters == []


def _send(db_url: str, *extra: str) -> dict[str, int]:
    """What was sent, as `cae assembly --send-convocations --json` says it."""
    result = CliRunner().invoke(cae, ["assembly", "AG", "--send-convocations", "--base-url", "https://coop.example",
                                      "--db", db_url, "--json", *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["convocation_timing"]["regular"] is not None
    sent: dict[str, int] = document["convocations_sent"]
    return sent


def test_convocations_by_email_to_who_consented_and_by_letter_to_the_others(
        engine: Engine, rules: Rules, db_url: str, inbox: Inbox, tmp_path: Path) -> None:
    _ledger(engine, rules)
    letters = tmp_path / "letters.csv"
    _send(db_url, "--letters", str(letters))
    assert sorted(r[0] for r, _ in inbox.messages) == ["a1@example.org", "a2@example.org"]
    mail = inbox.to("a1@example.org")[0]
    text = mail.get_content().replace("\r\n", "\n")  # SMTP carries CRLF line ends
    assert mail["Subject"] == "Convocation : assemblée générale ordinaire du 20/06/2026"
    for words in ("Bonjour Associé A1", "Lieu : Salle des fêtes, Lyon", "Participation à distance",
                  "1. Résolution R1", "L'assemblée approuve R1.\nSecond alinéa.", "(vote à bulletin secret)",
                  "jusqu'au 19/06/2026 à 15:00", "https://coop.example/assemblies/AG"):
        assert words in text, words
    rows = list(csv.reader(letters.open(encoding="utf-8")))
    assert [r[0] for r in rows[1:]] == ["A3", "A4"]  # A3 withdrew nothing but never consented; A4 has no contact
    with engine.connect() as conn:
        assert sorted((c.member_id, c.channel) for c in load_convocations(conn, "AG")) == [
            ("A1", "email"), ("A2", "email"), ("A3", "letter"), ("A4", "letter")]


def test_sending_again_sends_nobody_twice(engine: Engine, rules: Rules, db_url: str, inbox: Inbox,
                                          tmp_path: Path) -> None:
    _ledger(engine, rules)
    _send(db_url)
    feed(engine, rules, event("member.contact_set", member_id="A4", email="a4@example.org",
                              convocation_by_email=True, on="2025-03-01"))
    again = _send(db_url)
    assert again["emailed"] == 1
    assert sorted(r[0] for r, _ in inbox.messages) == ["a1@example.org", "a2@example.org", "a4@example.org"]


def test_the_smtp_password_is_never_printed(engine: Engine, rules: Rules, db_url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _ledger(engine, rules)
    monkeypatch.setenv("CAE_SMTP_URL", f"smtps://user:s3cret-pass@127.0.0.1:{free_port()}")  # nobody listens
    result = CliRunner().invoke(cae, ["assembly", "AG", "--send-convocations", "--db", db_url])
    assert result.exit_code == 1 and "127.0.0.1" in result.output and "s3cret" not in result.output
    assert "Traceback" not in result.output
