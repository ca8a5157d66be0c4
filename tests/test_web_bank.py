"""Issue 16, points 4, 5 and 7 on the web, as the plain HTTP client sees them, on both backends: the staff's
bank pages (upload, one-click assignment, split, transfers file), members' IBANs (pages and API) and a
member's unpaid invoices, with who may see what.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

import pytest

from cli.main import cae
from engine.french import euros
from ledger import monthly, schema, treasury
from ledger.receivables import report as receivables_report
from ledger.db import open_ledger
from ledger.payroll_run import run_payroll
from streams.embedded import ingest, read_events
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
    twice = upload(staff, october_statement())  # the same file again adds nothing
    assert "3 ligne(s) lue(s) : 0 nouvelle(s), 0 rapprochée(s) d'elles-mêmes, 0 à affecter." in text_of(twice.text)
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


def test_members_ibans_are_set_by_the_staff_and_by_each_member_for_themself(web: WebLedger,
                                                                            clients: dict[str, Any]) -> None:
    staff, member = clients["staff"], clients["member"]
    page = staff.get("/staff/members/M002/bank-account")
    bad = staff.post("/staff/members/M002/bank-account", data={"csrf": csrf_of(page.text),
                                                                "iban": "FR76 3000 6000 0112 3456 7890 180"})
    assert bad.status_code == 422
    assert ("«\u00a0FR76 3000 6000 0112 3456 7890 180\u00a0» n'est pas un IBAN valable (les chiffres de contrôle "
            "ne correspondent pas : une faute de frappe ?)") in text_of(bad.text)
    done = staff.post("/staff/members/M002/bank-account", data={"csrf": csrf_of(page.text), "iban": IBANS["M003"]},
                      follow_redirects=True)
    assert done.status_code == 200 and IBANS["M003"] in done.text
    listed = staff.get("/staff/bank-accounts").text
    assert IBANS["M003"] not in listed and "DE89 •••• 3000" in listed  # a list masks it

    account = member.get("/account")
    assert "Aucun IBAN enregistré" in text_of(account.text)
    refused = member.post("/account/bank-account", data={"csrf": csrf_of(account.text), "iban": "XX12 3456 7890 1234"})
    assert refused.status_code == 422 and "code pays « XX » inconnu" in text_of(refused.text)
    own = member.post("/account/bank-account", data={"csrf": csrf_of(account.text), "iban": IBANS["M001"],
                                                     "member_id": "M003"}, follow_redirects=True)  # not a field
    assert own.status_code == 200 and IBANS["M001"] in own.text
    with web.engine.connect() as conn:
        a = schema.member_bank_accounts
        assert dict(conn.execute(select(a.c.member_id, a.c.iban)).tuples().all()) == {
            "M001": IBANS["M001"], "M002": IBANS["M003"].replace(" ", "")}
        audit = list(conn.scalars(select(schema.audit_log.c.detail)
                                  .where(schema.audit_log.c.action == "member.bank_account_set")))
    assert all(IBANS["M001"] not in d and IBANS["M003"] not in d for d in audit) and len(audit) == 2

    # a member may read and set only their own, never see the staff's pages
    assert member.get("/staff/members/M003/bank-account").status_code == 403
    assert member.get("/staff/bank-accounts").status_code == 403
    assert member.get("/staff/bank").status_code == 403
    assert member.get("/staff/receivables").status_code == 403
    assert IBANS["M003"] not in member.get("/account").text


def test_the_api_sets_an_iban_for_the_staff_and_for_the_member_themself_only(web: WebLedger,
                                                                            clients: dict[str, Any]) -> None:
    api = clients["anonymous"]
    mine, staff = web.bearer("member"), web.bearer("staff")
    put = api.put("/api/members/M001/bank-account", json={"iban": IBANS["M001"]}, headers=mine)
    assert put.status_code == 200, put.text
    assert put.json()["iban"] == IBANS["M001"] and put.json()["outcome"] == "processed"
    other = api.put("/api/members/M003/bank-account", json={"iban": IBANS["M003"]}, headers=mine)
    unknown = api.put("/api/members/M999/bank-account", json={"iban": IBANS["M003"]}, headers=mine)
    assert (other.status_code, other.json()) == (unknown.status_code, unknown.json()) == (404, {"error": "not found"})
    assert api.get("/api/members/M003/bank-account", headers=mine).status_code == 404
    assert api.put("/api/members/M001/bank-account", json={"iban": IBANS["M001"]},
                   headers=web.bearer("board")).status_code == 403
    bad = api.post("/api/members/M003/bank-account", json={"iban": "FR7630006000011234567890180"}, headers=staff)
    assert bad.status_code == 422 and bad.json() == {
        "error": 'iban: "FR7630006000011234567890180" is not a valid IBAN (Invalid checksum digits)'}
    by_staff = api.post("/api/members/M003/bank-account", json={"iban": IBANS["M003"], "from": "2026-11-01"},
                        headers=staff)
    assert by_staff.status_code == 200 and by_staff.json()["from"] == "2026-11-01"
    assert api.get("/api/members/M001/bank-account", headers=mine).json() == {
        "member_id": "M001", "iban": IBANS["M001"], "bic": None, "from": put.json()["from"]}


def test_a_member_sees_their_own_unpaid_invoices_and_no_one_else_s(web: WebLedger, clients: dict[str, Any]) -> None:
    member, api = clients["member"], clients["anonymous"]
    with web.engine.connect() as conn:
        want = receivables_report(conn, date(2026, 12, 20), ["M001"]).to_json()
    assert want["invoices"] and {x["member_id"] for x in want["invoices"]} == {"M001"}
    page = member.get("/members/M001/unpaid?on=2026-12-20")
    assert page.status_code == 200
    shown = text_of(page.text)
    for x in want["invoices"]:
        assert f'data-invoice="{x["invoice_id"]}"' in page.text and x["client"] in shown
        assert f'data-days="{x["days_overdue"]}"' in page.text
    assert 'id="unpaid-link"' in member.get("/members/M001/statement?month=2026-10").text
    assert member.get("/members/M003/unpaid").status_code == 404
    answer = api.get("/api/members/M001/receivables?on=2026-12-20", headers=web.bearer("member"))
    assert answer.json() == want  # `cae receivables --member M001 --on 2026-12-20 --json`
    assert api.get("/api/members/M003/receivables", headers=web.bearer("member")).status_code == 404
    staff = clients["staff"].get("/staff/receivables?on=2026-12-20")
    with web.engine.connect() as conn:
        everyone = receivables_report(conn, date(2026, 12, 20)).to_json()
    assert f'data-figure="total">{euros(Decimal(everyone["total"]))}<' in staff.text
    assert all(f'data-invoice="{x["invoice_id"]}"' in staff.text for x in everyone["invoices"])


def cli(db_url: str, *args: str) -> Any:
    result = CliRunner().invoke(cae, [*args, "--db", db_url])
    assert result.exit_code == 0, (args, result.output)
    return result


def test_the_transfers_download_is_the_cli_s_file_byte_for_byte(web: WebLedger, clients: dict[str, Any],
                                                                 request: pytest.FixtureRequest,
                                                                 tmp_path: Path) -> None:
    """Two ledgers alike: the staff download the month's file from one, `cae payroll transfers` writes it from
    the other, same account and execution date."""
    kind = "postgresql" if web.db_url.startswith("postgresql") else "sqlite"
    other = new_database_url(kind, tmp_path, request)
    statement = tmp_path / "octobre.txt"
    statement.write_bytes(october_statement())
    (tmp_path / "ibans.jsonl").write_bytes(iban_events())
    twin = open_ledger(other)
    for scenario in ("october", "assembly"):  # as the `web` fixture made the first
        ingest(twin, read_events(SHARED / "scenarios" / scenario / "events.jsonl"), web.rules)
    with twin.begin() as conn:
        run_payroll(conn, MONTH, web.rules)
    twin.dispose()
    for url in (web.db_url, other):
        cli(url, "ingest", str(tmp_path / "ibans.jsonl"))
        cli(url, "bank", "import", str(statement))
    staff = clients["staff"]
    page = staff.get(f"/staff/bank?month={MONTH}")
    assert "2 virement(s) à faire pour octobre 2026" in text_of(page.text)
    assert "Sans IBAN" not in text_of(page.text)
    form = {"csrf": csrf_of(page.text), "month": MONTH, "account": ACCOUNT, "on": "2026-10-30"}
    download = staff.post("/staff/bank/transfers", data=form)
    assert download.status_code == 200 and download.headers["content-type"] == "application/xml"
    assert 'filename="virements-2026-10.xml"' in download.headers["content-disposition"]
    cli(other, "payroll", "transfers", "--month", MONTH, "-o", str(tmp_path / "cli.xml"), "--from-account", ACCOUNT,
        "--on", "2026-10-30")
    assert download.content == (tmp_path / "cli.xml").read_bytes()
    again = staff.post("/staff/bank/transfers", data=form)  # each payslip in one file only
    assert again.status_code == 422 and "Rien à virer pour ce mois" in text_of(again.text)
