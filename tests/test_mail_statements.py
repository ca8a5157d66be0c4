"""`cae mail statements --month M` and `cae mail log` (issue 17, point 6), on a real SMTP server on loopback
(aiosmtpd) and both backends: after the payroll, the members who consented are told their statement is
ready, with a link and no figure, once; the log says what was sent to whom."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from cli.main import cae
from engine.config import Rules
from ledger.payroll_run import run_payroll
from streams.embedded import ingest, read_events
from tests.assembly_support import event, feed
from tests.conftest import SHARED
from tests.smtp_support import Inbox, inbox  # noqa: F401  (the fixture)


def _paid(engine: Engine, rules: Rules) -> None:
    ingest(engine, read_events(Path(SHARED / "scenarios" / "october" / "events.jsonl")), rules)
    with engine.begin() as conn:
        run_payroll(conn, "2026-10", rules)
    done = feed(engine, rules,
                event("member.contact_set", member_id="M001", email="m001@coop.example", convocation_by_email=False,
                      statements_by_email=True, on="2026-10-01"),
                event("member.contact_set", member_id="M002", email="m002@coop.example", convocation_by_email=True,
                      on="2026-10-01"),  # no consent to the statement's notice
                event("member.contact_set", member_id="M003", email="m003@coop.example", convocation_by_email=True,
                      statements_by_email=True, on="2026-10-01"))
    assert done.dead_letters == []


def _send(db_url: str) -> dict[str, object]:
    result = CliRunner().invoke(cae, ["mail", "statements", "--month", "2026-10", "--base-url", "https://coop.example",
                                      "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    found: dict[str, object] = json.loads(result.output)
    return found


def test_who_consented_is_told_once_with_a_link_and_no_figure(engine: Engine, rules: Rules, db_url: str,
                                                               inbox: Inbox) -> None:
    _paid(engine, rules)
    assert _send(db_url) == {"month": "2026-10", "emailed": 2}
    assert sorted(r[0] for r, _ in inbox.messages) == ["m001@coop.example", "m003@coop.example"]
    mail = inbox.to("m001@coop.example")[0]
    text = mail.get_content()
    assert mail["Subject"] == "Votre état des comptes de octobre 2026 est prêt"
    assert "https://coop.example/members/M001/statement?month=2026-10" in text
    assert "€" not in text and not re.search(r"\d+,\d\d", text)  # no amount in an email
    assert _send(db_url) == {"month": "2026-10", "emailed": 0} and len(inbox.messages) == 2  # nobody twice
    log = CliRunner().invoke(cae, ["mail", "log", "--json", "--db", db_url])
    sent = json.loads(log.output)["sent"]
    assert [(s["kind"], s["about"], s["member_id"], s["address"]) for s in sent] == [
        ("statement", "2026-10", "M001", "m001@coop.example"), ("statement", "2026-10", "M003", "m003@coop.example")]
    assert "M003" in CliRunner().invoke(cae, ["mail", "log", "--db", db_url]).output


def test_no_payroll_no_notice(engine: Engine, rules: Rules, db_url: str, inbox: Inbox) -> None:
    _paid(engine, rules)
    result = CliRunner().invoke(cae, ["mail", "statements", "--month", "2026-11", "--db", db_url])
    assert result.exit_code == 0 and "0 statement notice(s)" in result.output and inbox.messages == []
