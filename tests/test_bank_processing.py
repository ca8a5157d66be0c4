"""Bank statements through the one pipeline (DOMAIN.md rules 10 and 11, issue 16 step 3), on both backends."""

from __future__ import annotations

import json
from decimal import Decimal
from itertools import count
from typing import Any

from sqlalchemy import Engine, func, select

from engine.config import Rules
from ledger import schema
from streams.pipeline import Outcome, Raw, process
from tests.ops_support import event, invoice, joined

ACCOUNT = "FR7630006000011234567890189"
MEMBER_IBAN = "FR1420041010050500013M02606"
_ids = count(1)


def line(amount: str, on: str = "2026-03-10", **fields: Any) -> dict[str, Any]:
    return {"line_ref": fields.pop("line_ref", f"L{next(_ids)}"), "booked_on": on, "value_on": on,
            "amount": amount, **fields}


def statement(opening: str, closing: str, lines: list[dict[str, Any]], start: str = "2026-03-01",
              end: str = "2026-03-31", statement_id: str | None = None) -> Raw:
    return event("bank.statement_received", account=ACCOUNT, statement_id=statement_id or f"S-{start}-{end}",
                 opening_balance=opening, closing_balance=closing, lines=lines, **{"from": start, "to": end})


def run(engine: Engine, rules: Rules, *raws: Raw) -> Outcome:
    return process(engine, list(raws), rules)


def scalar(engine: Engine, query: Any) -> Any:
    with engine.connect() as conn:
        return conn.scalar(query)


def bank_cents(engine: Engine) -> int:
    lines, entries = schema.lines, schema.entries
    return int(scalar(engine, select(func.coalesce(func.sum(lines.c.amount), 0))
                      .join(entries, entries.c.id == lines.c.entry_id).where(lines.c.account == "512")) or 0)


def test_a_statement_is_recorded_once_however_often_it_comes(engine: Engine, rules: Rules) -> None:
    lines = [line("100.00", line_ref="A"), line("-30.00", line_ref="B")]
    first = run(engine, rules, statement("1000.00", "1070.00", lines))
    assert first.processed == 1 and not first.dead_letters
    again = run(engine, rules, statement("1000.00", "1070.00", lines, statement_id="same file, other id"))
    assert again.processed == 1 and not again.dead_letters
    assert scalar(engine, select(func.count()).select_from(schema.bank_lines)) == 2
    assert scalar(engine, select(schema.bank_statements.c.new_lines)
                  .where(schema.bank_statements.c.statement_id == "same file, other id")) == 0


def test_an_overlapping_statement_adds_only_its_new_lines(engine: Engine, rules: Rules) -> None:
    run(engine, rules, statement("1000.00", "1100.00", [line("100.00", "2026-03-10", line_ref="A")],
                                 end="2026-03-15"))
    # from the 1st again: A is known, C is new; it opens at the account's balance on the 1st
    later = statement("1000.00", "1080.00", [line("100.00", "2026-03-10", line_ref="A"),
                                             line("-20.00", "2026-03-20", line_ref="C")])
    assert not run(engine, rules, later).dead_letters
    assert scalar(engine, select(func.sum(schema.bank_lines.c.amount))) == 8000


def test_a_statement_that_does_not_add_up_is_a_dead_letter_with_its_figures(engine: Engine, rules: Rules) -> None:
    out = run(engine, rules, statement("1000.00", "1100.00", [line("99.00")]))
    assert len(out.dead_letters) == 1
    reason = out.dead_letters[0].reason
    assert "does not add up" in reason and "1099.00" in reason and "1100.00" in reason
    assert scalar(engine, select(func.count()).select_from(schema.bank_lines)) == 0


def test_a_statement_that_does_not_follow_is_refused_whole(engine: Engine, rules: Rules) -> None:
    run(engine, rules, statement("1000.00", "1100.00", [line("100.00")]))
    out = run(engine, rules, statement("1200.00", "1250.00", [line("50.00", "2026-04-02")], "2026-04-01",
                                       "2026-04-30"))
    assert "does not follow" in out.dead_letters[0].reason and "1100.00" in out.dead_letters[0].reason
    assert scalar(engine, select(func.count()).select_from(schema.bank_lines)) == 1


def test_a_credit_naming_an_invoice_pays_it_in_bq(engine: Engine, rules: Rules) -> None:
    run(engine, rules, joined("M001"), invoice("M001", "F-2026-7", "2026-03-02", "100.00"))
    out = run(engine, rules, statement("0.00", "120.00", [line("120.00", remittance="Facture F-2026-7",
                                                                   line_ref="A")]))
    assert not out.dead_letters and [e.journal for e in out.entries] == ["BQ"]
    assert bank_cents(engine) == 12000
    m = schema.bank_matches
    assert scalar(engine, select(m.c.rule).where(m.c.line_ref == "A")) == "a"
    d = schema.documents
    assert scalar(engine, select(func.sum(d.c.amount)).where(d.c.invoice_id == "F-2026-7")) == 12000


def test_a_credit_already_recorded_as_a_payment_posts_nothing_more(engine: Engine, rules: Rules) -> None:
    run(engine, rules, joined("M001"), invoice("M001", "F-8", "2026-03-02", "100.00"),
        event("payment.received", payment_id="P-8", invoice_id="F-8", member_id="M001",
              received_on="2026-03-09", amount="120.00"))
    out = run(engine, rules, statement("0.00", "120.00", [line("120.00", remittance="F-8", line_ref="A")]))
    assert not out.dead_letters and out.entries == []
    assert bank_cents(engine) == 12000  # once, from the payment event
    m = schema.bank_matches
    assert scalar(engine, select(m.c.payment_id).where(m.c.line_ref == "A")) == "P-8"


def test_a_debit_to_a_member_s_iban_settles_their_net_pay(engine: Engine, rules: Rules) -> None:
    run(engine, rules, joined("M001"), event("member.bank_account_set", member_id="M001", iban=MEMBER_IBAN,
                                             **{"from": "2026-01-01"}))
    with engine.begin() as conn:  # a payslip as the payroll records it (its own event)
        conn.execute(schema.processed_events.insert().values(
            event_id="pay", fingerprint="x", type="payroll", entry_count=0, source="t",
            processed_at=__import__("datetime").datetime(2026, 3, 1, tzinfo=__import__("datetime").timezone.utc)))
        conn.execute(schema.payslips.insert().values(
            month="2026-02", member_id="M001", requested_gross=200000, gross=200000, employer_contributions=90000,
            employee_contributions=44000, net=156000, budget_before=500000, capped=False, event_id="pay"))
    out = run(engine, rules, statement("5000.00", "3440.00", [line("-1560.00", counterparty_iban=MEMBER_IBAN,
                                                                   line_ref="A")]))
    assert not out.dead_letters
    assert [(li.account, li.amount) for e in out.entries for li in e.lines] == [("512", -1560), ("421", 1560)]
    m = schema.bank_matches
    assert scalar(engine, select(m.c.rule).where(m.c.line_ref == "A")) == "d"


def test_the_staff_assign_an_unmatched_line_to_an_account(engine: Engine, rules: Rules) -> None:
    run(engine, rules, statement("100.00", "90.00", [line("-10.00", line_ref="A", counterparty_name="Banque")]))
    assert scalar(engine, select(func.count()).select_from(schema.bank_matches)) == 0
    assign = event("bank.line_assigned", line_ref="A", account=ACCOUNT, assigned_by="claire",
                   ledger_account="431", label="URSSAF mars")
    out = run(engine, rules, assign)
    assert not out.dead_letters and len(out.entries) == 1
    m = schema.bank_matches
    assert scalar(engine, select(m.c.assigned_by).where(m.c.line_ref == "A")) == "claire"
    twice = run(engine, rules, event("bank.line_assigned", line_ref="A", account=ACCOUNT, assigned_by="x",
                                     ledger_account="431", label="again"))
    assert "already matched" in twice.dead_letters[0].reason


def test_a_split_that_does_not_make_the_line_is_refused_and_posts_nothing(engine: Engine, rules: Rules) -> None:
    run(engine, rules, joined("M001"), invoice("M001", "F-9", "2026-03-02", "100.00"),
        statement("0.00", "130.00", [line("130.00", line_ref="A")]))
    splits = [{"invoice_id": "F-9", "amount": "120.00"}, {"ledger_account": "431", "label": "x", "amount": "5.00"}]
    out = run(engine, rules, event("bank.line_assigned", line_ref="A", account=ACCOUNT, assigned_by="c",
                                   splits=splits))
    assert "the splits make 125.00" in out.dead_letters[0].reason
    assert bank_cents(engine) == 0
    splits[1]["amount"] = "10.00"
    assert not run(engine, rules, event("bank.line_assigned", line_ref="A", account=ACCOUNT, assigned_by="c",
                                        splits=splits)).dead_letters
    assert bank_cents(engine) == 13000
    assert json.loads(scalar(engine, select(schema.bank_matches.c.detail)))[0]["invoice_id"] == "F-9"


def test_the_fec_stays_valid_with_bank_entries(engine: Engine, rules: Rules, tmp_path: Any) -> None:
    """Issue 16 point 3: BQ entries from matched and assigned lines pass the FEC's structural checks."""
    from tests.test_fec import export

    run(engine, rules, joined("M001"), invoice("M001", "F-10", "2026-03-02", "100.00"),
        statement("0.00", "110.00", [line("120.00", remittance="F-10", line_ref="A"),
                                     line("-10.00", line_ref="B", counterparty_name="Frais")]),
        event("bank.line_assigned", line_ref="B", account=ACCOUNT, assigned_by="claire", ledger_account="431",
              label="URSSAF mars", member_id="M001"))
    rows, _ = export(engine, 2026, tmp_path)
    assert sum(1 for row in rows if row["JournalCode"] == "BQ") == 4


def test_a_configured_counterparty_s_line_goes_to_its_account(engine: Engine) -> None:
    """Rule 11 e from the rules' TOML: URSSAF's debit settles 431, by name whatever its spelling."""
    from engine.config import parse_rules
    from tests.test_treasury_config import TREASURY, BASE_RATES

    rules = parse_rules(BASE_RATES + TREASURY)
    out = run(engine, rules, statement("5000.00", "4100.00", [
        line("-900.00", counterparty_name="D.G.F.I.P.", line_ref="A")]))
    assert not out.dead_letters
    assert [(li.account, li.amount) for e in out.entries for li in e.lines] == [("512", -900), ("44551", 900)]
    assert out.entries[0].label == "TVA à payer"
    m = schema.bank_matches
    assert scalar(engine, select(m.c.rule).where(m.c.line_ref == "A")) == "e"


def test_a_credit_of_the_client_s_name_and_amount_pays_its_invoice_or_meets_its_payment(
        engine: Engine, rules: Rules) -> None:
    """Rule 11 b by the client's name (legal form and case aside) and the invoice's TTC, through the index."""
    run(engine, rules, joined("M001"), invoice("M001", "F-20", "2026-03-02", "100.00"),
        invoice("M001", "F-21", "2026-03-02", "50.00"),
        event("payment.received", payment_id="P-21", invoice_id="F-21", member_id="M001",
              received_on="2026-03-05", amount="60.00"))
    out = run(engine, rules, statement("0.00", "180.00", [
        line("120.00", counterparty_name="ATELIER NORD SARL", line_ref="A"),
        line("60.00", counterparty_name="atelier nord", line_ref="B")]))
    assert not out.dead_letters
    m = schema.bank_matches
    assert scalar(engine, select(m.c.invoice_id).where(m.c.line_ref == "A", m.c.rule == "b")) == "F-20"
    # F-21 has nothing due left: its payment event is the line's money, posted once
    assert scalar(engine, select(m.c.payment_id).where(m.c.line_ref == "B", m.c.rule == "b")) == "P-21"
    assert bank_cents(engine) == 18000


def test_a_debit_to_a_member_settles_the_net_of_their_corrected_payslip(engine: Engine, rules: Rules) -> None:
    """Rule 11 d reads the payslip as it stands: a correction's net, not the run's first figure."""
    from datetime import date, datetime, timezone

    run(engine, rules, joined("M001"), event("member.bank_account_set", member_id="M001", iban=MEMBER_IBAN,
                                             **{"from": "2026-01-01"}))
    figures = dict(requested_gross=200000, gross=200000, employer_contributions=90000,
                   employee_contributions=44000, budget_before=500000, capped=False)
    with engine.begin() as conn:
        for event_id in ("pay", "rerun"):
            conn.execute(schema.processed_events.insert().values(
                event_id=event_id, fingerprint="x", type="payroll", entry_count=0, source="t",
                processed_at=datetime(2026, 3, 1, tzinfo=timezone.utc)))
        conn.execute(schema.payslips.insert().values(month="2026-02", member_id="M001", net=156000,
                                                     event_id="pay", **figures))
        conn.execute(schema.payslip_revisions.insert().values(
            month="2026-02", member_id="M001", revision=1, net=150000, reason="correction",
            posted_on=date(2026, 3, 2), event_id="rerun", **figures))
    out = run(engine, rules, statement("5000.00", "1940.00", [
        line("-1560.00", counterparty_iban=MEMBER_IBAN, line_ref="A"),
        line("-1500.00", counterparty_iban=MEMBER_IBAN, line_ref="B")]))
    assert not out.dead_letters
    m = schema.bank_matches
    assert scalar(engine, select(func.count()).select_from(m).where(m.c.line_ref == "A")) == 0
    assert scalar(engine, select(m.c.month).where(m.c.line_ref == "B", m.c.rule == "d")) == "2026-02"


def test_statements_of_one_day_follow_each_other_in_the_order_they_came(engine: Engine, rules: Rules) -> None:
    """Found by the interleaving property: three statements of one day, each opening at the one before's
    closing, are taken; "the last one" is not told by its date (they share it) but by the lines known."""
    day = "2026-03-02"
    raws = [statement(opening, str(Decimal(opening) + Decimal(amount)), [line(amount, day)], day, day, f"S{n}")
            for n, (opening, amount) in enumerate([("0.00", "1.20"), ("1.20", "0.60"), ("1.80", "2.00")])]
    out = run(engine, rules, *raws)  # in one batch, as one file brings them
    assert out.dead_letters == [], out.dead_letters[0].reason
    assert "does not follow" in run(engine, rules, statement("1.20", "1.30", [line("0.10", day)], day, day,
                                                             "S-again")).dead_letters[0].reason
