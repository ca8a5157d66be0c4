"""Issue 16, points 4, 5 and 7 on the web, as the plain HTTP client sees them, on both backends: the staff's
bank pages (upload, one-click assignment, split, transfers file), members' IBANs (pages and API) and a
member's unpaid invoices, with who may see what.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

import pytest

from cli.main import cae
from ledger import monthly, schema, treasury
from ledger.payroll_run import run_payroll
from streams.embedded import ingest, read_events
from streams.pipeline import Raw
from tests.bank_web_support import ACCOUNT, IBANS, iban_events, october_statement
from tests.conftest import SHARED, new_database_url
from tests.web_support import WebLedger, clients, csrf_of, web  # noqa: F401 — the fixtures

MONTH = "2026-10"


def upload(client: Any, content: bytes, name: str = "releve-octobre.txt") -> Any:
    page = client.get(f"/staff/bank?month={MONTH}")
    return client.post("/staff/bank/import", data={"csrf": csrf_of(page.text), "month": MONTH, "format": ""},
                       files={"file": (name, content, "application/octet-stream")})


def lines(web: WebLedger) -> dict[str, dict[str, Any]]:
    """`cae bank lines --json`'s lines, by their remittance."""
    return {x["remittance"]: x for x in treasury.bank_lines(web.engine, web.rules, MONTH)}


def text_of(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()  # keeps the no-break spaces


def assign(client: Any, line: dict[str, Any], **rows: str) -> Any:
    page = client.get(f"/staff/bank?month={MONTH}")
    return client.post("/staff/bank/assign", data={"csrf": csrf_of(page.text), "month": MONTH,
                                                   "account": line["account"], "line_ref": line["line_ref"], **rows})


def test_the_staff_import_a_statement_and_assign_its_lines_in_one_click_or_split(web: WebLedger,
                                                                                 clients: dict[str, Any]) -> None:
    staff = clients["staff"]
    done = upload(staff, october_statement())
    assert done.status_code == 200, done.text[:2000]
    assert "1 relevé(s), 3 ligne(s) lue(s) : 3 nouvelle(s), 0 rapprochée(s) d'elles-mêmes, 3 à affecter." \
        in text_of(done.text)
    found = lines(web)
    named = found["VIR F-M002-0001 F-M003-0001"]
    assert [c["invoice_id"] for c in named["candidates"]] == ["F-M002-0001", "F-M003-0001"]
    page = staff.get(f"/staff/bank?month={MONTH}")
    assert page.text.count('name="invoice_id_0" value="F-M002-0001"') == 1  # the candidate's one click

    one = assign(staff, named, invoice_id_0="F-M002-0001")
    assert one.status_code == 200 and "Ligne affectée." in one.text
    matched = lines(web)["VIR F-M002-0001 F-M003-0001"]["matched_to"]
    assert matched["kind"] == "invoice" and matched["invoice_id"] == "F-M002-0001"
    assert matched["assigned_by"] == "staff@coop.test (web)"

    grouped = found["VIR REGLEMENTS GROUPES"]
    wrong = assign(staff, grouped, invoice_id_0="F-M003-0001", amount_0="880,00", invoice_id_1="F-M001-0002",
                   amount_1="300,00")
    assert wrong.status_code == 422
    assert "la répartition fait 1\u202f180,00\u00a0€, mais la ligne est de 1\u202f280,00\u00a0€" in text_of(wrong.text)
    split = assign(staff, grouped, invoice_id_0="F-M003-0001", amount_0="880,00", invoice_id_1="F-M001-0002",
                   amount_1="400,00")
    assert split.status_code == 200, text_of(split.text)[:3000]
    matched = lines(web)["VIR REGLEMENTS GROUPES"]["matched_to"]
    assert matched["kind"] == "split" and [s["invoice_id"] for s in matched["splits"]] == ["F-M003-0001",
                                                                                           "F-M001-0002"]
    with web.engine.connect() as conn:
        p = schema.processed_events
        assert conn.scalar(select(func.count()).where(p.c.type == "bank.line_assigned")) == 2
    dues = treasury.bank_lines(web.engine, web.rules, MONTH, unmatched_only=True)
    assert [x["remittance"] for x in dues] == ["FRAIS TENUE DE COMPTE"]
    page = staff.get(f"/staff/bank?month={MONTH}")  # the one left comes first
    assert page.text.index("FRAIS TENUE DE COMPTE") < page.text.index("VIR F-M002-0001 F-M003-0001")
    charges = assign(staff, dues[0], ledger_account_0="606", label_0="Frais bancaires")
    assert charges.status_code == 200 and "Toutes les lignes du mois sont rapprochées." in text_of(charges.text)
    again = assign(staff, dues[0], ledger_account_0="606", label_0="Frais bancaires")
    assert again.status_code == 422 and "n'attend plus d'affectation" in text_of(again.text)
    # every line matched: the ledger's 512 for the account is the statement's closing balance (rule 11),
    # the split's two invoice payments counted each
    (bank,) = monthly.reconciliation_read(web.engine, MONTH, web.rules).to_json()["bank"]["accounts"]
    assert (bank["iban"], bank["statement_closing"], bank["difference"]) == (ACCOUNT, "2535.00", "0.00")


def test_a_refused_statement_says_why_in_french_and_records_nothing(web: WebLedger,
                                                                    clients: dict[str, Any]) -> None:
    staff = clients["staff"]
    with web.engine.connect() as conn:
        letters = conn.scalar(select(func.count()).select_from(schema.dead_letters))  # the scenario's own
    wrong = upload(staff, october_statement(closing=Decimal("2500.00")))
    assert wrong.status_code == 422
    said = text_of(wrong.text)
    assert ("Relevé refusé, rien n'est enregistré : relevé du compte FR7630006000011234567890189 du 30 septembre "
            "2026 au 31 octobre 2026 ne tombe pas juste : solde d'ouverture 1\u202f000,00\u00a0€ + 3 lignes "
            "1\u202f535,00\u00a0€ = 2\u202f535,00\u00a0€, mais le solde de clôture est 2\u202f500,00\u00a0€ "
            "(écart -35,00\u00a0€).") in said
    unknown = upload(staff, b"Bonjour, voici mon releve.\n", "releve.pdf")
    assert unknown.status_code == 422
    assert "relevé bancaire illisible : ce n'est ni du CAMT.053, ni de l'OFX, ni du CFONB 120" in text_of(unknown.text)
    with web.engine.connect() as conn:
        for table in (schema.bank_statements, schema.bank_lines, schema.bank_accounts):
            assert conn.scalar(select(func.count()).select_from(table)) == 0
        assert conn.scalar(select(func.count()).select_from(schema.dead_letters)) == letters
