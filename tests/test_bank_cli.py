"""The treasury's commands (CONTRACT.md §5): bank import, lines, assign; payroll transfers; receivables.

On both backends, through `cae` itself (click's runner), on the README's example
bank file (docs/examples) and the tests' third-party files.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from lxml import etree
from sqlalchemy import Engine, func, select

from cli.main import cae
from engine.config import Rules
from ledger import schema
from tests.bank_support import DATA, balance, movement
from tests.ops_support import event, ingest, invoice, joined
from tests.test_bank_processing import bank_cents, line, scalar, statement
from tests.conftest import ROOT

EXAMPLES = ROOT / "docs" / "examples"
MAPPING = str(EXAMPLES / "releve-banque.toml")
CSV = str(EXAMPLES / "releve-2026-11.csv")
IBAN_M1 = "FR1420041010050500013M02606"


def run(db_url: str, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cae, [*args, "--db", db_url])
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return json.loads(result.stdout) if code == 0 and "--json" in args else result


def _books(engine: Engine, rules: Rules) -> None:
    """The two invoices the example file pays, by its reference and by the client's name (rule 11 a, b)."""
    ingest(engine, rules, joined("M034"), joined("M006"),
           event("invoice.issued", invoice_id="F2026-00262", member_id="M034", issued_on="2026-10-30",
                 client="Biocoop Rive Gauche", lines=[{"label": "x", "amount_ht": "1304.47", "vat_rate": "0.20"}]),
           event("invoice.issued", invoice_id="F2026-00210", member_id="M006", issued_on="2026-10-29",
                 client="Biocoop Rive Gauche", lines=[{"label": "x", "amount_ht": "2085.00", "vat_rate": "0.20"}]))


def test_bank_import_matches_then_the_same_file_again_adds_nothing(db_url: str, engine: Engine,
                                                                   rules: Rules) -> None:
    _books(engine, rules)
    first = run(db_url, "bank", "import", CSV, "--mapping", MAPPING, "--json")
    assert first == {"statements": 1, "lines": 4, "new_lines": 4, "matched": 2, "unmatched": 2}
    assert run(db_url, "bank", "import", CSV, "--mapping", MAPPING, "--json") == {
        "statements": 1, "lines": 4, "new_lines": 0, "matched": 0, "unmatched": 0}
    lines = run(db_url, "bank", "lines", "--month", "2026-11", "--json")["lines"]
    assert [x["status"] for x in lines] == ["unmatched", "unmatched", "matched", "matched"]
    assert {x["matched_to"]["rule"] for x in lines if x["matched_to"]} == {"a", "b"}
    assert run(db_url, "bank", "lines", "--month", "2026-10", "--json") == {"lines": []}

    urssaf = next(x for x in lines if x["counterparty_name"] == "URSSAF ILE DE FRANCE")
    run(db_url, "bank", "assign", urssaf["line_ref"], "--account", "431", "--label", "URSSAF octobre", "--json")
    left = run(db_url, "bank", "lines", "--unmatched", "--json")["lines"]
    assert [x["remittance"] for x in left] == ["FRAIS TENUE DE COMPTE"]
    m = schema.bank_matches
    assert scalar(engine, select(m.c.assigned_by).where(m.c.line_ref == urssaf["line_ref"]))
    again = run(db_url, "bank", "assign", urssaf["line_ref"], "--account", "431", "--label", "x", code=1)
    assert "already matched" in again.output and "Traceback" not in again.output


def test_a_refused_file_exits_1_in_one_line_and_records_nothing(db_url: str, engine: Engine,
                                                                 tmp_path: Path) -> None:
    out = run(db_url, "bank", "import", str(DATA / "own_cfonb_does_not_add_up.txt"), code=1)
    assert "does not add up" in out.output and len(out.output.strip().splitlines()) == 1
    # two statements of one account, the second not following the first: the first is not recorded either
    bank, branch, account = "30006", "00001", "12345678901"
    records = [balance("01", bank, branch, account, "010326", Decimal("100.00")),
               movement(bank, branch, account, "020326", Decimal("10.00"), "VIR RECU"),
               balance("07", bank, branch, account, "310326", Decimal("110.00")),
               balance("01", bank, branch, account, "010426", Decimal("200.00")),
               movement(bank, branch, account, "020426", Decimal("5.00"), "VIR RECU"),
               balance("07", bank, branch, account, "300426", Decimal("205.00"))]
    path = tmp_path / "two.cfo"
    path.write_text("\r\n".join(records) + "\r\n", encoding="ascii")
    out = run(db_url, "bank", "import", str(path), code=1)
    assert "does not follow" in out.output and "110.00" in out.output
    out = run(db_url, "bank", "import", str(DATA / "pennylane_cfonb_example.txt"), "--format", "camt053", code=1)
    assert len(out.output.strip().splitlines()) == 1
    for table in (schema.bank_lines, schema.bank_statements, schema.dead_letters, schema.processed_events):
        assert scalar(engine, select(func.count()).select_from(table)) == 0


def test_payroll_transfers_pay_each_payslip_once_and_list_who_has_no_iban(
        db_url: str, engine: Engine, rules: Rules, tmp_path: Path) -> None:
    ingest(engine, rules, joined("M1"), joined("M2"), event("member.bank_account_set", member_id="M1",
                                                            iban=IBAN_M1, **{"from": "2026-01-01"}),
           event("salary.set", member_id="M1", from_month="2026-03", gross="1000.00"),
           event("salary.set", member_id="M2", from_month="2026-03", gross="1000.00"),
           invoice("M1", "F1", "2026-03-02", "5000.00"), invoice("M2", "F2", "2026-03-02", "5000.00"),
           statement("0.00", "1.00", [line("1.00", "2026-03-02")]))
    run(db_url, "payroll", "run", "--month", "2026-03", "--json")
    out = tmp_path / "virements.xml"
    result = CliRunner().invoke(cae, ["payroll", "transfers", "--month", "2026-03", "-o", str(out), "--json",
                                      "--on", "2026-03-31", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"transactions": 1, "total": "780.00", "missing_iban": ["M2"]}
    assert "M2" in result.stderr
    xml = etree.fromstring(out.read_bytes())
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    assert xml.xpath("//p:EndToEndId/text()", namespaces=ns) == ["SAL-202603-M1-0"]
    assert xml.xpath("//p:CdtrAcct//p:IBAN/text()", namespaces=ns) == [IBAN_M1]
    again = run(db_url, "payroll", "transfers", "--month", "2026-03", "-o", str(tmp_path / "b.xml"), "--json")
    assert again["transactions"] == 0 and not (tmp_path / "b.xml").exists()
    # the transfer comes back on the statement: rule 11 c settles the net pay
    ingest(engine, rules, statement("1.00", "-779.00", [line("-780.00", "2026-04-02",
                                                             end_to_end_id="SAL-202603-M1-0")],
                                    "2026-04-01", "2026-04-30"))
    m = schema.bank_matches
    assert scalar(engine, select(m.c.rule).where(m.c.member_id == "M1")) == "c"
    assert bank_cents(engine) == -78000  # 421 settled; the unmatched 1.00 waits for the staff


def test_receivables_age_what_clients_owe(db_url: str, engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M1"), invoice("M1", "F1", "2026-01-05", "100.00"),
           invoice("M1", "F2", "2026-03-20", "50.00"),
           event("payment.received", payment_id="P1", invoice_id="F1", member_id="M1", received_on="2026-02-01",
                 amount="20.00"))
    found = run(db_url, "receivables", "--on", "2026-04-30", "--json")
    assert [(x["invoice_id"], x["due"], x["outstanding_ht"], x["days_overdue"], x["bucket"])
            for x in found["invoices"]] == [("F1", "100.00", "83.33", 85, "61-90"), ("F2", "60.00", "50.00", 11, "0-30")]
    assert found["buckets"] == {"0-30": "60.00", "31-60": "0.00", "61-90": "100.00", ">90": "0.00"}
    assert found["total"] == "160.00"
    assert run(db_url, "receivables", "--on", "2026-01-31", "--member", "M1", "--json")["total"] == "120.00"
