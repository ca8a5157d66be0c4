"""Small event builders and readers shared by the payroll-operations tests (issue 4)."""

from __future__ import annotations

import json
from itertools import count
from typing import Any

from click.testing import CliRunner
from sqlalchemy import Engine, text

from cli.main import cae
from engine.config import Rules
from streams.pipeline import Raw, process

# The packaged default rates, as a cooperative's own TOML file would state them.
BASE_RATES = """
[[rates]]
from = 2000-01-01
contribution = "0.115"
societariat = "0.03"
employer_contributions = "0.42"
employee_contributions = "0.22"
"""

_ids = count(1)


def event(type_: str, **fields: Any) -> Raw:
    body = {"event_id": f"ops-{next(_ids)}", "type": type_, "occurred_at": "2026-01-01T09:00:00Z", **fields}
    return Raw(json.dumps(body).encode(), "ops_support")


def joined(member_id: str, status: str = "salarie", on: str = "2026-01-05") -> Raw:
    return event("member.joined", member_id=member_id, name=f"Member {member_id}", joined_on=on, status=status)


def invoice(member_id: str, invoice_id: str, on: str, ht: str, vat_rate: str = "0.20") -> Raw:
    return event("invoice.issued", invoice_id=invoice_id, member_id=member_id, issued_on=on,
                 client="Atelier Nord", lines=[{"label": "Mission", "amount_ht": ht, "vat_rate": vat_rate}])


def credit_note(member_id: str, credit_id: str, invoice_id: str, on: str, ht: str) -> Raw:
    return event("credit_note.issued", credit_note_id=credit_id, invoice_id=invoice_id, member_id=member_id,
                 issued_on=on, lines=[{"label": "Refund", "amount_ht": ht, "vat_rate": "0.20"}])


def direct_cost(member_id: str, expense_id: str, on: str, ht: str) -> Raw:
    return event("expense.recorded", expense_id=expense_id, member_id=member_id, spent_on=on,
                 supplier="Freelance dev", amount_ht=ht, vat="0.00", direct_cost=True)


def salary(member_id: str, from_month: str, gross: str) -> Raw:
    return event("salary.set", member_id=member_id, from_month=from_month, gross=gross)


def ingest(engine: Engine, rules: Rules, *raws: Raw) -> None:
    outcome = process(engine, list(raws), rules)
    assert outcome.dead_letters == [], [d.reason for d in outcome.dead_letters]
    assert outcome.processed == len(raws)


def cli(*args: str, ok: bool = True) -> Any:
    """Run `cae ARGS`; the parsed JSON when `--json` is among them, else the output text."""
    result = CliRunner().invoke(cae, list(args))
    if ok:
        rejected = args[0] == "ingest" and "--json" in args and json.loads(result.stdout)["dead_letters"] > 0
        assert result.exit_code == (3 if rejected else 0), (result.exit_code, result.output, result.exception)
    else:
        assert result.exit_code == 1, (result.exit_code, result.output)
        return result.output
    return json.loads(result.stdout) if "--json" in args else result.output


def rows(engine: Engine, table: str) -> set[tuple[Any, ...]]:
    """Every row of a table, as a set of tuples: to prove that history only grows."""
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}"))}


def sums_by_account(engine: Engine, month_start: str, month_end: str) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT l.account, sum(l.amount) FROM lines l JOIN entries e ON e.id = l.entry_id "
            "WHERE e.entry_date BETWEEN :a AND :b GROUP BY l.account"),
            {"a": month_start, "b": month_end}).tuples().all())
