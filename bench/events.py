"""A synthetic cooperative's events, for the stream tests and the benchmark.

`cooperative(n)` gives about `n` JSON lines (CONTRACT.md §1), deterministic
for a seed: members join, some become associates and set a salary, then
invoice, credit, get paid and spend through 2026; a few governance events and
bank statements sit among them. Each member's events are in date order, and members are shuffled
together the way they would arrive from many sources, so the file is a fair
test of "every member's events stay ordered in one partition". With
`rejects=True`, about one event in 200 is a reject (an unknown member, a float
amount, an id reused with other content) and as many are plain duplicates, so
the dead letters and the duplicate count are exercised too.

    python bench/events.py 5000 > events.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

YEAR = 2026


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def _day(rng: random.Random, after: date) -> date:
    """A date a few days after `after`, staying in the year."""
    return min(after + timedelta(days=rng.randint(0, 4)), date(YEAR, 12, 31))


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T10:00:00Z"


class _Member:
    """One member's own story, told event by event in date order."""

    def __init__(self, rng: random.Random, number: int) -> None:
        self.rng, self.id = rng, f"M{number:05d}"
        self.day = date(YEAR, 1, 1) + timedelta(days=rng.randint(0, 20))
        self.open: list[tuple[str, str, int, int]] = []  # invoice id, its first VAT rate, left HT there, due TTC
        self.count = 0

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        self.count += 1
        return {"event_id": f"{self.id}-{self.count:05d}", "type": kind,
                "occurred_at": _stamp(self.day), "member_id": self.id, **fields}

    def opening(self) -> list[dict[str, Any]]:
        status = "salarie" if self.rng.random() < 0.6 else "cape"
        events = [self._event("member.joined", name=f"Membre {self.id}", joined_on=self.day.isoformat(),
                              status=status)]
        if self.rng.random() < 0.4:
            events.append(self._event("member.became_associate", on=self.day.isoformat()))
        if status == "salarie":
            events.append(self._event("salary.set", from_month=f"{YEAR}-{self.day.month:02d}",
                                      gross=_cents(self.rng.randint(50_000, 250_000))))
        return events

    def next(self) -> dict[str, Any]:
        """The member's next document: mostly invoices, then payments, expenses, credit notes."""
        rng = self.rng
        self.day = _day(rng, self.day)
        on, roll = self.day.isoformat(), rng.random()
        if self.open and roll < 0.25:
            invoice_id, rate, left_ht, due = self.open.pop(rng.randrange(len(self.open)))
            n = self.count + 1
            amount = due if rng.random() < 0.7 else max(1, due // 2)
            if due - amount > 0:
                self.open.append((invoice_id, rate, left_ht, due - amount))
            return self._event("payment.received", payment_id=f"P-{self.id}-{n}", invoice_id=invoice_id,
                               received_on=on, amount=_cents(amount))
        if self.open and roll < 0.32:
            invoice_id, rate, left_ht, due = self.open[-1]
            credit = min(left_ht, due * 10 // 12) // 4
            credit_ttc = credit + _vat({"amount_ht": _cents(credit), "vat_rate": rate})
            if 0 < credit < left_ht and credit_ttc < due:  # at a rate of the invoice, within it (rule 1)
                self.open[-1] = (invoice_id, rate, left_ht - credit, due - credit_ttc)
                return self._event("credit_note.issued", credit_note_id=f"A-{self.id}-{self.count + 1}",
                                   invoice_id=invoice_id, issued_on=on,
                                   lines=[{"label": "Remise", "amount_ht": _cents(credit), "vat_rate": rate}])
        if roll < 0.45:
            amount = rng.randint(1_000, 80_000)
            return self._event("expense.recorded", expense_id=f"X-{self.id}-{self.count + 1}", spent_on=on,
                               supplier=rng.choice(("Papeterie Martin", "SNCF", "Freelance dev", "Imprimerie")),
                               amount_ht=_cents(amount), vat=_cents(amount // 5),
                               direct_cost=rng.random() < 0.3)
        lines = [{"label": rng.choice(("Atelier", "Conseil", "Formation", "Design")),
                  "amount_ht": _cents(rng.randint(5_000, 300_000)), "vat_rate": rng.choice(("0.20", "0.10"))}
                 for _ in range(rng.randint(1, 3))]
        ht = sum(int(line["amount_ht"].replace(".", "")) for line in lines)
        vat = sum(_vat(line) for line in lines)
        invoice_id = f"F-{self.id}-{self.count + 1}"
        first = lines[0]["vat_rate"]
        at_first = sum(int(line["amount_ht"].replace(".", "")) for line in lines if line["vat_rate"] == first)
        self.open.append((invoice_id, first, at_first, ht + vat))
        return self._event("invoice.issued", invoice_id=invoice_id, issued_on=on,
                           client=rng.choice(("Atelier Nord", "Mairie", "Librairie du Port", "Studio Sud")),
                           lines=lines)


def _vat(line: dict[str, str]) -> int:
    """VAT of a line in cents, rounded half up (DOMAIN.md rule 1)."""
    ht, rate = int(line["amount_ht"].replace(".", "")), int(line["vat_rate"].replace(".", ""))
    return (ht * rate + 50) // 100


def _governance(number: int) -> dict[str, Any]:
    """Rituals, assemblies and their resolutions: events that name only each other.

    They travel on `cae.governance`, whose order is theirs alone, so the result
    is the same whichever way the two topics interleave. (An attendance naming
    a member could race that member's `member.joined` on `cae.events`, and be
    dead-lettered in one run and not in another: not what a comparison wants.)
    """
    base = {"event_id": f"G-{number:05d}", "occurred_at": _stamp(date(YEAR, 6, 1))}
    kind = (number // 50) % 3
    if kind == 0:
        return {**base, "type": "ritual.held", "meeting_id": f"RIT-{number}", "kind": "groupe_metier",
                "held_on": f"{YEAR}-06-01", "title": f"Groupe métier {number}"}
    if kind == 1:
        return {**base, "type": "assembly.convened", "assembly_id": f"AG-{number}", "kind": "AGO",
                "held_on": f"{YEAR}-06-20", "convocation": 1}
    return {**base, "type": "resolution.proposed", "resolution_id": f"RES-{number}",
            "assembly_id": f"AG-{number - 50}", "title": f"Résolution {number}"}


class _Bank:
    """The cooperative's bank statements (`cae.bank`), each account's chained on the last one.

    Their lines are bank fees and transfers from clients the books do not know,
    which no rule matches, and every tenth statement opens at a wrong balance
    (refused whole, DOMAIN.md rule 10): like the governance events, their result
    is the same whichever way the topics interleave, since an account's events
    keep their order on its partition (keyed by IBAN) and name nothing on
    `cae.events`. (A line paying an invoice could be taken before the invoice on
    the other topic, and be matched in one run and not in another.)
    """

    ACCOUNTS = 8

    def __init__(self, rng: random.Random) -> None:
        from schwifty import IBAN

        self.rng = rng
        self.ibans = [str(IBAN.generate("FR", bank_code="3000600001", account_code=f"{9000 + i:011d}").compact)
                      for i in range(self.ACCOUNTS)]
        self.balances = [100_000] * self.ACCOUNTS
        self.count = 0

    def statement(self) -> dict[str, Any] | None:
        account = self.count % self.ACCOUNTS
        on = date(YEAR, 1, 2) + timedelta(days=self.count // self.ACCOUNTS)
        if on.year != YEAR:
            return None
        self.count += 1
        amounts = [self.rng.choice((-1, 1)) * self.rng.randint(100, 90_000) for _ in range(self.rng.randint(1, 3))]
        lines = [{"line_ref": f"B{self.count}-{k}", "booked_on": on.isoformat(), "value_on": on.isoformat(),
                  "amount": _signed(amount), "counterparty_name": "Frais bancaires" if amount < 0 else "Client inconnu",
                  "remittance": f"Opération {self.count}-{k}"} for k, amount in enumerate(amounts)]
        opening = self.balances[account]
        wrong = self.count % 10 == 0
        if not wrong:
            self.balances[account] += sum(amounts)
        return {"event_id": f"B-{self.count:05d}", "type": "bank.statement_received", "occurred_at": _stamp(on),
                "account": self.ibans[account], "statement_id": f"S-{self.count:05d}",
                "opening_balance": _signed(opening + (1 if wrong else 0)),
                "closing_balance": _signed(opening + (1 if wrong else 0) + sum(amounts)),
                "from": on.isoformat(), "to": on.isoformat(), "lines": lines}


def _signed(cents: int) -> str:
    return ("-" if cents < 0 else "") + _cents(abs(cents))


def _reject(rng: random.Random, event: dict[str, Any], number: int) -> dict[str, Any]:
    """A copy of `event` that the pipeline must refuse, whatever the order of the partitions.

    A copy under another member's key must not reach what the original names: the
    unknown member is refused before its document is looked at, and a `member.joined`
    is never copied so (it would make NOBODY a member, whose documents would then race
    their originals on another partition: two members claiming one invoice id is a
    conflict whose winner the stream's order decides).
    """
    bad = dict(event, event_id=f"BAD-{number:05d}")
    kind = number % 3
    if kind == 0 and event["type"] == "member.joined":
        kind = 1
    if kind == 0:
        bad["member_id"] = "NOBODY"
    elif kind == 1 and bad["type"] == "invoice.issued":
        bad["lines"] = [dict(bad["lines"][0], amount_ht=12.5)]  # a float: refused
    elif kind == 1:
        bad["type"] = "invoice.cancelled"  # an unknown event type
    else:
        bad.update(event_id=event["event_id"], occurred_at=_stamp(date(YEAR, 12, 31)))  # id reused
    return bad


def cooperative(n: int, seed: int = 7, rejects: bool = True, governance: bool = True,
                bank: bool = True) -> Iterator[bytes]:
    """About `n` events as JSON lines (bytes, no newline); one in 100 a bank statement (`_Bank`)."""
    rng = random.Random(seed)
    statements = _Bank(random.Random(seed + 1))
    members = [_Member(rng, i + 1) for i in range(max(3, n // 200))]
    pending: list[list[dict[str, Any]]] = [m.opening() for m in members]
    emitted = 0
    number = 0
    while emitted < n:
        number += 1
        if governance and number % 50 == 0:
            yield _dump(_governance(number))
            emitted += 1
            continue
        statement = statements.statement() if bank and number % 100 == 75 else None
        if statement is not None:
            yield _dump(statement)
            emitted += 1
            continue
        index = rng.randrange(len(members))
        queue = pending[index]
        event = queue.pop(0) if queue else members[index].next()
        yield _dump(event)
        emitted += 1
        if rejects and number % 200 == 130:
            yield _dump(_reject(rng, event, number))
            emitted += 1
        if rejects and number % 200 == 170:
            yield _dump(event)  # the same event again: a duplicate, processed once
            emitted += 1


def _dump(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def write(path: str, n: int, seed: int = 7) -> int:
    count = 0
    with open(path, "wb") as handle:
        for line in cooperative(n, seed):
            handle.write(line + b"\n")
            count += 1
    return count


if __name__ == "__main__":
    for line in cooperative(int(sys.argv[1]) if len(sys.argv) > 1 else 1000):
        sys.stdout.buffer.write(line + b"\n")
