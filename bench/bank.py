"""Benchmark: a year of bank statements imported and matched, against the raw insert of the same rows.

    python bench/bank.py --members 10000 --months 12 --json

1. (not timed) members join, salaried, with an IBAN and a monthly gross, and
   issue one invoice a month each, every month of the year at once, so that
   the books start with `members × months` open invoices; half are paid by a
   credit naming the invoice (rule 11 a), half by a credit of the client's name
   and amount (rule 11 b), and 2 % of the lines are noise no rule matches
   (bank fees, unknown payers); each month's payroll is run before its
   statements, and each payslip's net pay comes back as a salary debit on one
   of the month's statements: half by the end-to-end id of a transfer order
   recorded as `cae payroll transfers` records them (rule 11 c), half to the
   member's registered IBAN (rule 11 d);
2. each month's statements (one per day, chained) go through
   `streams.pipeline.process`, as `cae bank import` does: `lines_per_s` over
   the year, and per month the open invoices before it and the milliseconds
   per line (`by_month`): the matching reads its candidates through indexes,
   so the cost per line stays flat while the open invoices fall from
   `members × months` to `members`;
3. the raw limit in the same run: the bank lines the import recorded, read
   back and bulk-inserted with no logic into the same table of a fresh
   database (`raw_rows_per_s`, `ratio` = raw ÷ import time).

`salary_debits` counts those lines; `salaries_matched` those rules c and d matched.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schwifty import IBAN  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402

from engine.config import load_rules  # noqa: E402
from engine.payouts import end_to_end_id  # noqa: E402
from ledger import payslips, schema, treasury  # noqa: E402
from ledger.bulk import insert_rows  # noqa: E402
from ledger.db import open_ledger  # noqa: E402
from ledger.payroll_run import run_payroll  # noqa: E402
from streams.pipeline import Raw, process  # noqa: E402

YEAR = 2026
ACCOUNT = str(IBAN.generate("FR", bank_code="3000600001", account_code="00000000042").compact)
CLIENTS = ("Atelier Nord", "Mairie de Lyon", "Librairie du Port", "Studio Sud", "Biocoop Rive Gauche")
BATCH = 500


def _raw(body: dict[str, Any]) -> Raw:
    return Raw(json.dumps({"occurred_at": f"{YEAR}-01-01T09:00:00Z", **body}).encode(), "bench")


def _books(engine: Engine, members: int, months: int) -> dict[str, tuple[str, str, int]]:
    """Members and their invoices: invoice id -> (member, client, TTC cents)."""
    rules, raws, invoices = load_rules(), [], {}
    for m in range(members):
        member = f"M{m:05d}"
        raws.append(_raw({"event_id": f"join-{member}", "type": "member.joined", "member_id": member,
                          "name": f"Membre {member}", "joined_on": f"{YEAR}-01-01", "status": "salarie"}))
        raws.append(_raw({"event_id": f"iban-{member}", "type": "member.bank_account_set", "member_id": member,
                          "iban": _iban(m), "from": f"{YEAR}-01-01"}))
        raws.append(_raw({"event_id": f"gross-{member}", "type": "salary.set", "member_id": member,
                          "from_month": f"{YEAR}-01", "gross": "150.00"}))
        for month in range(1, months + 1):
            invoice_id = f"F-{member}-{month:02d}"
            ht = 10_000 + (m * 37 + month * 101) % 90_000  # distinct-ish amounts, whole cents
            client = f"{CLIENTS[m % len(CLIENTS)]} {m % 97}"
            raws.append(_raw({"event_id": f"inv-{invoice_id}", "type": "invoice.issued", "invoice_id": invoice_id,
                              "member_id": member, "issued_on": f"{YEAR}-{month:02d}-01", "client": client,
                              "lines": [{"label": "Mission", "amount_ht": f"{ht // 100}.{ht % 100:02d}",
                                         "vat_rate": "0.20"}]}))
            invoices[invoice_id] = (member, client, ht + (ht * 20 + 50) // 100)
    for start in range(0, len(raws), BATCH):
        process(engine, raws[start:start + BATCH], rules)
    return invoices


def _iban(m: int) -> str:
    return str(IBAN.generate("FR", bank_code="30004", branch_code="00001", account_code=f"{m:011d}").compact)


def _salaries(engine: Engine, month: int) -> list[dict[str, Any]]:
    """(not timed) The month's payroll, then its salary debits: half with the end-to-end id of a transfer
    order (recorded as `cae payroll transfers` does), half to the member's IBAN with no id."""
    rules, name = load_rules(), f"{YEAR}-{month:02d}"
    with engine.begin() as conn:
        run_payroll(conn, name, rules, date(YEAR, 12, 31))
        slips = payslips.current(conn, name)
    due = treasury.transfers_due(engine, name, date(YEAR, month, 28))
    ordered = [p for p in due.payees if int(p.member_id[1:]) % 2 == 0]
    treasury.record_transfers(engine, name, treasury.Transfers(ordered, [], due.revisions), f"PAY-BENCH-{month}")
    lines = []
    for member_id, found in sorted(slips.items()):
        if found.slip.net <= 0:
            continue
        line = {"amount": _cents(-int(found.slip.net * 100)), "remittance": f"Salaire {name}",
                "counterparty_name": f"Membre {member_id}"}
        if int(member_id[1:]) % 2 == 0:
            line["end_to_end_id"] = end_to_end_id(name, member_id, found.revision)
        else:
            line["counterparty_iban"] = _iban(int(member_id[1:]))
        lines.append(line)
    return lines


def _cents(value: int) -> str:
    return ("-" if value < 0 else "") + f"{abs(value) // 100}.{abs(value) % 100:02d}"


def _statements(month: int, invoices: dict[str, tuple[str, str, int]], salaries: list[dict[str, Any]],
                balance: int) -> tuple[list[Raw], int]:
    """The month's statements, one per day: a credit for each invoice of the month, and the salaries."""
    paid = [(i, x) for i, x in sorted(invoices.items()) if i.endswith(f"-{month:02d}")]
    days = 28
    raws = []
    for day in range(days):
        on = date(YEAR, month, 1) + timedelta(days=day)
        lines = []
        for n, (invoice_id, (_, client, ttc)) in enumerate(paid[day::days]):
            line = {"line_ref": f"L{month}-{day}-{n}", "booked_on": on.isoformat(), "value_on": on.isoformat(),
                    "amount": _cents(ttc)}
            if (day + n * days) % 50 == 49:  # 2 % noise: a fee no rule matches
                line.update(amount="-4.20", remittance="FRAIS", counterparty_name="Banque")
            elif n % 2:
                line.update(remittance=f"VIR Facture {invoice_id}")
            else:
                line.update(counterparty_name=f"{client.upper()} SARL", remittance="VIR SEPA")
            lines.append(line)
        lines += [{"line_ref": f"S{month}-{day}-{n}", "booked_on": on.isoformat(), "value_on": on.isoformat(), **x}
                  for n, x in enumerate(salaries[day::days])]  # spread: a statement is at most 1 MB
        total = sum(int(x["amount"].replace("-", "").replace(".", "")) * (-1 if x["amount"][0] == "-" else 1)
                    for x in lines)
        raws.append(_raw({"event_id": f"st-{month}-{day}", "type": "bank.statement_received", "account": ACCOUNT,
                          "statement_id": f"S-{month}-{day}", "opening_balance": _cents(balance),
                          "closing_balance": _cents(balance + total), "from": on.isoformat(), "to": on.isoformat(),
                          "lines": lines}))
        balance += total
    return raws, balance


def _count(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def bench(members: int, months: int, workdir: Path) -> dict[str, Any]:
    engine = open_ledger(f"sqlite:///{workdir / 'bank.db'}")
    invoices = _books(engine, members, months)
    rules, balance, by_month, seconds, lines = load_rules(), 0, [], 0.0, 0
    d = schema.documents
    debits = 0
    for month in range(1, months + 1):
        salaries = _salaries(engine, month)
        debits += len(salaries)
        raws, balance = _statements(month, invoices, salaries, balance)
        count = sum(len(json.loads(r.data)["lines"]) for r in raws)
        paid = _count(engine, select(func.count()).select_from(d).where(d.c.kind == "payment"))
        start = time.perf_counter()
        outcome = process(engine, raws, rules)
        spent = time.perf_counter() - start
        assert not outcome.dead_letters, outcome.dead_letters[0].reason
        seconds, lines = seconds + spent, lines + count
        by_month.append({"month": f"{YEAR}-{month:02d}", "open_invoices": len(invoices) - paid, "lines": count,
                         "ms_per_line": round(1000 * spent / count, 3)})
    m = schema.bank_matches
    matched = _count(engine, select(func.count()).select_from(m))
    salaries_matched = _count(engine, select(func.count()).select_from(m).where(m.c.kind.in_(("transfer", "net_pay"))))
    columns = tuple(schema.bank_lines.c.keys())
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(schema.bank_lines))]
        events = [tuple(r) for r in conn.execute(select(schema.processed_events)
                                                 .where(schema.processed_events.c.type == "bank.statement_received"))]
    raw = open_ledger(f"sqlite:///{workdir / 'raw.db'}")
    with raw.begin() as conn:  # untimed: what the lines' foreign keys point to
        insert_rows(conn, schema.processed_events, tuple(schema.processed_events.c.keys()), events)
        conn.execute(schema.bank_accounts.insert().values(iban=ACCOUNT, event_id=events[0][0]))
    start = time.perf_counter()
    with raw.begin() as conn:
        insert_rows(conn, schema.bank_lines, columns, rows)
    raw_s = time.perf_counter() - start
    engine.dispose()
    raw.dispose()
    costs = [x["ms_per_line"] for x in by_month]
    return {"members": members, "months": months, "lines": lines, "matched": matched,
            "unmatched": lines - matched, "salary_debits": debits, "salaries_matched": salaries_matched,
            "seconds": round(seconds, 3), "lines_per_s": round(lines / seconds, 1),
            "raw_rows_per_s": round(len(rows) / raw_s, 1), "ratio": round(raw_s / seconds, 4),
            "ms_per_line_first_last": [costs[0], costs[-1]], "by_month": by_month}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cae-bench-bank-") as tmp:
        result = bench(args.members, args.months, Path(tmp))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
