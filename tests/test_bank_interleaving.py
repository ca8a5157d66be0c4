"""The same money from the bank and from the source system is posted once (DOMAIN.md rule 11 a), on both backends.

A client's payment can reach the books twice: as a `payment.received` event from
the member's invoicing system and as the bank line that brought it. Whichever
comes first posts it (512 / 411, what is due falls); the other is matched to it
and posts nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schwifty import IBAN
from sqlalchemy import Engine, func, select

from engine.config import Rules
from ledger import schema
from streams.pipeline import Raw, process
from tests.ops_support import event, invoice, joined
from tests.test_bank_processing import bank_cents, line, run, scalar, statement

_examples = count(1)
START = date(2026, 3, 2)

def _member_sum(engine: Engine, account: str, member_id: str) -> int:
    lines = schema.lines
    return int(scalar(engine, select(func.coalesce(func.sum(lines.c.amount), 0))
                      .where(lines.c.account == account, lines.c.member_id == member_id)) or 0)

def _paid(engine: Engine, invoice_id: str) -> int:
    d = schema.documents
    return int(scalar(engine, select(func.coalesce(func.sum(d.c.amount), 0))
                      .where(d.c.invoice_id == invoice_id, d.c.kind == "payment")) or 0)

def test_a_payment_event_after_the_bank_line_that_paid_it_posts_nothing(engine: Engine, rules: Rules) -> None:
    run(engine, rules, joined("M001"), invoice("M001", "F-8", "2026-03-02", "100.00"),
        statement("0.00", "120.00", [line("120.00", "2026-03-10", remittance="F-8", line_ref="A")]))
    later = run(engine, rules, event("payment.received", payment_id="P-8", invoice_id="F-8", member_id="M001",
                                     received_on="2026-03-01", amount="120.00"))
    assert later.processed == 1 and not later.dead_letters and later.entries == []
    assert bank_cents(engine) == 12000 and _paid(engine, "F-8") == 12000  # what is due fell once
    links = schema.bank_payment_links
    assert scalar(engine, select(links.c.line_ref).where(links.c.payment_id == "P-8")) == "A"
    # the same payment id from another event is refused, as any payment recorded twice
    again = run(engine, rules, event("payment.received", payment_id="P-8", invoice_id="F-8", member_id="M001",
                                     received_on="2026-03-10", amount="120.00"))
    assert "already recorded" in again.dead_letters[0].reason

def test_a_payment_event_outside_the_window_or_of_another_amount_is_new_money(engine: Engine, rules: Rules) -> None:
    run(engine, rules, joined("M001"), invoice("M001", "F-9", "2026-03-02", "100.00"),
        statement("0.00", "50.00", [line("50.00", "2026-03-10", remittance="F-9", line_ref="A")]))
    far = run(engine, rules, event("payment.received", payment_id="P-far", invoice_id="F-9", member_id="M001",
                                   received_on="2026-03-21", amount="50.00"))
    other = run(engine, rules, event("payment.received", payment_id="P-other", invoice_id="F-9",
                                     member_id="M001", received_on="2026-03-10", amount="20.00"))
    assert len(far.entries) == 1 and len(other.entries) == 1
    assert bank_cents(engine) == 12000

# -- any interleaving -----------------------------------------------------------------------------

@st.composite
def stories(draw: st.DrawFn) -> dict[str, Any]:
    """Invoices, the pieces of money that pay them, and the order in which their traces arrive.

    Each piece has its bank line (the bank is the truth; it names the invoice, or,
    when it pays a whole invoice no other of the client's has the TTC of, only
    the client: rule b) and maybe a payment event
    from the source system. Pieces fall in clusters of days a month apart: within a
    cluster every line and payment are within the 10 days of rule 11 a of each
    other, so the same amounts there are the same money to the books; across
    clusters, never. Lines come in the bank's order (a statement never goes back
    in time); payment events anywhere; batches cut anywhere.
    """
    n = next(_examples)
    member = f"PX{n}"
    invoices = {f"PX{n}-F{i}": draw(st.integers(2, 300)) * 100 for i in range(draw(st.integers(1, 2)))}
    pieces = []
    for invoice_id, ttc in invoices.items():  # TTC = HT × 1.2 with a whole HT: whole euros
        ttc = ttc * 12 // 10
        left = ttc
        for _ in range(draw(st.integers(1, 3))):
            if left <= 0:
                break
            cents = draw(st.sampled_from(sorted({left, min(left, 4000), max(1, left // 2)})))
            left -= cents
            cluster = START + timedelta(days=30 * draw(st.integers(0, 2)))
            pieces.append({"invoice_id": invoice_id, "cents": cents,
                           "line_on": cluster + timedelta(days=draw(st.integers(0, 5))),
                           "paid_on": cluster + timedelta(days=draw(st.integers(0, 5))),
                           "event": draw(st.booleans())})
        invoices[invoice_id] = ttc
    for piece in pieces:
        whole = [p for p in pieces if p["invoice_id"] == piece["invoice_id"]] == [piece]
        alone = list(invoices.values()).count(invoices[piece["invoice_id"]]) == 1
        piece["by_name"] = whole and alone and piece["cents"] == invoices[piece["invoice_id"]] and draw(st.booleans())
    items: list[tuple[str, int]] = [("line", i) for i in range(len(pieces))]
    items += [("payment", i) for i, p in enumerate(pieces) if p["event"]]
    order = draw(st.permutations(items))
    line_slots = [at for at, item in enumerate(order) if item[0] == "line"]
    by_date = sorted(range(len(pieces)), key=lambda i: pieces[i]["line_on"])
    order = list(order)
    for at, i in zip(line_slots, by_date):
        order[at] = ("line", i)
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(order) - 1)))))
    return {"n": n, "member": member, "invoices": invoices, "pieces": pieces, "order": order, "cuts": cuts}

def _account(n: int) -> str:
    return str(IBAN.generate("FR", bank_code="3000600001", account_code=f"{n:011d}"))

def _raws(story: dict[str, Any]) -> list[Raw]:
    n, member, pieces = story["n"], story["member"], story["pieces"]
    account, balance = _account(n), Decimal(0)
    raws = [joined(member)] + [invoice(member, i, "2026-03-01", str(Decimal(ttc) / 120))
                               for i, ttc in story["invoices"].items()]
    for kind, i in story["order"]:
        piece = pieces[i]
        amount = Decimal(piece["cents"]) / 100
        if kind == "payment":
            raws.append(event("payment.received", payment_id=f"PX{n}-P{i}", invoice_id=piece["invoice_id"],
                              member_id=member, received_on=piece["paid_on"].isoformat(), amount=str(amount)))
            continue
        on = piece["line_on"].isoformat()
        # rule b (no reference: the client's name and the whole TTC) where it can only mean this invoice
        named = {"counterparty_name": "ATELIER NORD SARL"} if piece["by_name"] else {
            "remittance": f"Facture {piece['invoice_id']}"}
        raws.append(event("bank.statement_received", account=account, statement_id=f"PX{n}-S{i}",
                          opening_balance=str(balance), closing_balance=str(balance + amount),
                          lines=[{"line_ref": f"PX{n}-L{i}", "booked_on": on, "value_on": on,
                                  "amount": str(amount), **named}],
                          **{"from": on, "to": on}))
        balance += amount
    return raws

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(story=stories())
def test_any_interleaving_of_payment_events_and_bank_lines_posts_the_money_once(
        engine: Engine, rules: Rules, story: dict[str, Any]) -> None:
    raws = _raws(story)
    bounds = [0, *[c for c in story["cuts"] if c < len(raws)], len(raws)]
    letters = []
    for start, end in zip(bounds, bounds[1:]):
        letters += process(engine, raws[start:end], rules).dead_letters
    assert [x.reason for x in letters] == []
    money = sum(p["cents"] for p in story["pieces"])
    member = story["member"]
    assert _member_sum(engine, "512", member) == money  # in the bank once
    assert _member_sum(engine, "411", member) == sum(story["invoices"].values()) - money  # owed less it, once
    for invoice_id in story["invoices"]:
        assert _paid(engine, invoice_id) == sum(p["cents"] for p in story["pieces"]
                                                if p["invoice_id"] == invoice_id)
