"""The reconciliation knows the bank, and the close warns (DOMAIN.md rule 11, CONTRACT.md §5), on both backends."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import Engine

from cli.main import cae
from engine.config import Rules
from ledger.reconciliation import month_reconciliation
from tests.ops_support import event, ingest, invoice, joined
from tests.test_bank_processing import ACCOUNT, line, statement


def _bank(engine: Engine, rules: Rules) -> dict[str, object]:
    with engine.connect() as conn:
        document = month_reconciliation(conn, "2026-03", rules).to_json()
    check = next(c for c in document["checks"] if c["name"].startswith("bank balances"))
    return {"accounts": document["bank"]["accounts"], "ok": check["ok"], "detail": check["detail"]}


def test_each_account_s_ledger_balance_meets_its_last_statement_once_every_line_is_matched(
        engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, joined("M001"), invoice("M001", "F-1", "2026-03-02", "100.00"),
           event("payment.received", payment_id="P-2", invoice_id="F-1", member_id="M001",
                 received_on="2026-03-04", amount="20.00"),
           statement("1000.00", "1110.00", [line("100.00", "2026-03-05", remittance="F-1", line_ref="A"),
                                            line("20.00", "2026-03-05", remittance="F-1", line_ref="B"),
                                            line("-10.00", "2026-03-20", line_ref="C")]))
    bank = _bank(engine, rules)
    assert bank["accounts"] == [{"iban": ACCOUNT, "statement_closing": "1110.00", "statement_to": "2026-03-31",
                                 "ledger_balance": "1120.00", "difference": "-10.00", "unmatched_lines": 1}]
    assert bank["ok"] is False and "1 line(s) unmatched" in str(bank["detail"])
    ingest(engine, rules, event("bank.line_assigned", line_ref="C", account=ACCOUNT, assigned_by="claire",
                                ledger_account="431", label="Frais"))
    bank = _bank(engine, rules)
    assert bank["ok"] is True and bank["accounts"][0]["difference"] == "0.00"  # type: ignore[index]


def test_the_close_warns_while_lines_of_the_month_are_unmatched(db_url: str, engine: Engine, rules: Rules) -> None:
    ingest(engine, rules, statement("0.00", "-10.00", [line("-10.00", "2026-03-20", line_ref="C")]))
    result = CliRunner().invoke(cae, ["close", "--month", "2026-03", "--yes", "--without-payroll", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "1 bank line(s) of 2026-03 are not matched yet" in result.stderr
