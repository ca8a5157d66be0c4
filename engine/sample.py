"""A sample cooperative, generated: the events of `cae demo`, of the tests and of the benchmark.

Pure and deterministic: one seeded `random.Random`, no clock, no storage; the
same arguments give the same bytes, on every machine. Events come out as the
JSON lines of CONTRACT.md §1, in the order a real cooperative would send them
(a member's `member.joined` before their documents, an invoice before its
credit note and payments), one at a time: memory holds the members and the
follow-ups not yet due (a credit note, a payment), never the event stream.

Every event passes the engine's rules (documents dated from the day a member
joined and before they left, credit notes after their invoice and within what
is left of it, payments within what is still due), except the few that
`cooperative(bad=True)` adds on purpose, each tagged with its `flaw` by
`cooperative_samples`, so that the demo has dead letters to show.
"""

from __future__ import annotations

import heapq
import json
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.periods import last_day, month_of, parse_month

DEFAULT_MONTHS = ("2026-07", "2026-08", "2026-09", "2026-10")
VAT_RATES = ("0.20", "0.10", "0.055", "0.00")

# What the deliberate bad events break; all but "duplicate" end in the dead letters.
DUPLICATE = "duplicate"
FLAWS = (DUPLICATE, "float amount", "unknown member", "non-EUR currency", "truncated JSON",
         "credit note over its invoice")


@dataclass(frozen=True, slots=True)
class SampleEvent:
    """One event's bytes, and what is deliberately wrong with it (None: nothing)."""

    data: bytes
    flaw: str | None = None


@dataclass(frozen=True, slots=True)
class _Trade:
    labels: tuple[str, ...]
    vat_rate: str  # the trade's usual rate: 10 % renovation work, 5.5 % books, 0 % training
    line_cents: tuple[int, int]


_TRADES = (
    _Trade(("Logo design", "Brand guidelines", "Poster series", "Website mock-ups"), "0.20", (30000, 250000)),
    _Trade(("Development sprint", "Code review", "Hosting setup", "API integration"), "0.20",
           (50000, 600000)),
    _Trade(("Training day", "Workshop", "Coaching session", "E-learning module"), "0.00", (40000, 240000)),
    _Trade(("Kitchen fitting", "Shelving", "Door repair", "Parquet laying"), "0.10", (20000, 450000)),
    _Trade(("Sale of books", "Booklet print run", "Signed copies"), "0.055", (1500, 60000)),
    _Trade(("Translation", "Proofreading", "Interpreting"), "0.20", (15000, 180000)),
    _Trade(("Photo shoot", "Photo editing", "Print sale"), "0.20", (25000, 200000)),
)
_FIRST = ("Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gaëlle", "Hugo", "Inès", "Jules",
          "Karim", "Léa", "Manon", "Nicolas", "Océane", "Paul", "Quentin", "Rose", "Samir", "Théo",
          "Ursule", "Victor", "Wassim", "Yasmine", "Zoé", "Amandine", "Benoît", "Camille", "Élodie",
          "Fatou")
_LAST = ("Martin", "Leroy", "Dubois", "Bernard", "Moreau", "Laurent", "Simon", "Michel", "Garcia",
         "Roux", "Fournier", "Girard", "Bonnet", "Mercier", "Blanc", "Guérin", "Faure", "Chevalier",
         "Nguyen", "Diallo", "Lemoine", "Perrin", "Morel", "Caron")
_CLIENTS = ("Atelier Nord", "Mairie de Sainte-Croix", "Librairie du Port", "Biocoop Rive Gauche",
            "Théâtre des Halles", "Cabinet Lefèvre", "Association Les Petits Débrouillards",
            "SARL Boulangerie Dorée", "Conseil départemental", "Studio Lumen", "Hôtel du Lac",
            "Ferme de la Combe", "École Montessori Soleil", "Garage Central", "Éditions du Sablier",
            "Coopérative Terre Vive", "Clinique Saint-Jean", "Musée de la Mine", "Brasserie Artisane",
            "Lycée Jean Moulin")
_SUPPLIERS = (("Freelance dev", "0.20", True), ("Imprimerie Vautrin", "0.20", True),
              ("Bois et Scieries", "0.20", True), ("Traductions Express", "0.20", True),
              ("SNCF", "0.10", False), ("La Poste", "0.00", False), ("Fnac Pro", "0.20", False),
              ("Librairie Decitre", "0.055", False), ("OVHcloud", "0.20", False),
              ("Assurances MAIF", "0.00", False))
_CHOICES = ("for", "for", "for", "for", "for", "for", "against", "against", "abstain", "blank")


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _vat(cents: int, rate: str) -> int:
    """Rule 1, in cents: round half-up of amount × rate."""
    return int((Decimal(cents) * Decimal(rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _at(day: date, minute: int) -> str:
    return f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}:00Z"


class _Writer:
    """Event ids (uuid4-like, from the seed) and the JSON bytes of each event."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.numbers: dict[str, int] = {}

    def number(self, prefix: str, day: date) -> str:
        """A document number, continuous per kind and year (F2026-00042)."""
        key = f"{prefix}{day.year}"
        self.numbers[key] = self.numbers.get(key, 0) + 1
        return f"{key}-{self.numbers[key]:05d}"

    def event(self, type_: str, day: date, minute: int, **fields: Any) -> bytes:
        event_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        document = {"event_id": event_id, "type": type_, "occurred_at": _at(day, minute), **fields}
        return json.dumps(document, ensure_ascii=False).encode()

    def lines(self, trade: _Trade, count: int) -> list[dict[str, str]]:
        low, high = trade.line_cents
        return [{"label": self.rng.choice(trade.labels),
                 "amount_ht": _money(self.rng.randrange(low, high) // 100 * 100
                                     if self.rng.random() < 0.6 else self.rng.randrange(low, high)),
                 "vat_rate": trade.vat_rate if self.rng.random() < 0.85 else self.rng.choice(VAT_RATES)}
                for _ in range(count)]


@dataclass(slots=True)
class _Member:
    member_id: str
    name: str
    trade: _Trade
    clients: tuple[str, ...]
    joined_on: date
    status: str
    salarie_on: date | None = None  # CAPE → CESA during the months
    associate_on: date | None = None
    left_on: date | None = None
    gross: int = 0  # requested monthly gross, in cents, once salaried

    def active(self, day: date) -> bool:
        """May issue a document dated `day` (from joining, until the day before leaving)."""
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)

    def associate(self, day: date) -> bool:
        return self.associate_on is not None and self.associate_on <= day and (
            self.left_on is None or self.left_on >= day)


@dataclass(slots=True)
class _Timeline:
    """Events waiting for their date: a heap on (day, minute, order of creation)."""

    heap: list[tuple[int, int, int, bytes, str | None]] = field(default_factory=list)
    seq: int = 0

    def push(self, day: date, minute: int, data: bytes, flaw: str | None = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (day.toordinal(), minute, self.seq, data, flaw))

    def until(self, end: date) -> Iterator[tuple[int, int, bytes, str | None]]:
        while self.heap and self.heap[0][0] <= end.toordinal():
            day, minute, _, data, flaw = heapq.heappop(self.heap)
            yield day, minute, data, flaw


def cooperative(members: int = 40, months: Sequence[str] = DEFAULT_MONTHS, seed: int = 2026,
                bad: bool = True) -> Iterator[bytes]:
    """The events of a sample cooperative over `months` (consecutive `YYYY-MM`), as JSON lines."""
    return (sample.data for sample in cooperative_samples(members, months, seed, bad))


def cooperative_samples(members: int = 40, months: Sequence[str] = DEFAULT_MONTHS, seed: int = 2026,
                        bad: bool = True) -> Iterator[SampleEvent]:
    """`cooperative`, each event tagged with its deliberate flaw (None for the sound ones)."""
    if members < 1:
        raise ValueError("a cooperative needs at least one member")
    if not months or list(months) != sorted(set(months)):
        raise ValueError("months must be a non-empty list of distinct months in order")
    for month in months:
        parse_month(month)
    return _Cooperative(members, list(months), seed, bad).events()


class _Cooperative:
    def __init__(self, count: int, months: list[str], seed: int, bad: bool) -> None:
        self.rng = random.Random(seed)
        self.out = _Writer(self.rng)
        self.months, self.bad = months, bad
        self.start, self.end = parse_month(months[0]), last_day(months[-1])
        self.timeline = _Timeline()
        self.members = self._plan(count)
        self.last_invoice: tuple[str, str, int, date] | None = None  # for the over-credit

    def _plan(self, count: int) -> list[_Member]:
        """Who joins when, with which status; who changes status, becomes an associate, leaves."""
        rng, width = self.rng, max(3, len(str(count)))
        founders = max(1, round(count * 0.6))
        planned = []
        for i in range(count):
            trade = _TRADES[i % len(_TRADES)]
            clients = tuple(rng.sample(_CLIENTS, rng.randint(2, 4)))
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            if i < founders:
                joined = self.start - timedelta(days=rng.randint(60, 1100))
                status = "salarie" if rng.random() < 0.65 else "cape"
            else:
                month = self.months[(i - founders) % len(self.months)]
                joined = parse_month(month) + timedelta(days=rng.randint(0, 19))
                status = "salarie" if rng.random() < 0.25 else "cape"
            member = _Member(f"M{i + 1:0{width}d}", name, trade, clients, joined, status)
            if status == "cape" and rng.random() < 0.4:
                change = max(joined + timedelta(days=20), self.start) + timedelta(days=rng.randint(0, 60))
                member.salarie_on = change if change <= self.end else None
            if status == "salarie" and i < founders and rng.random() < 0.7:
                member.associate_on = min(joined + timedelta(days=rng.randint(180, 400)),
                                          self.start - timedelta(days=1))
            member.gross = rng.randrange(900, 2000, 50) * 100
            planned.append(member)
        newly = [m for m in planned[1:founders] if m.status == "salarie" and m.associate_on is None]
        for member in newly[:2]:  # become associates during the months
            member.associate_on = self.start + timedelta(days=rng.randint(0, (self.end - self.start).days))
        leavers = [m for m in planned[1:founders] if m.associate_on is None and m.salarie_on is None]
        if leavers:
            leave_month = self.months[-2] if len(self.months) > 1 else self.months[-1]
            leavers[-1].left_on = parse_month(leave_month) + timedelta(days=rng.randint(9, 24))
        for member in planned:
            self._lifecycle(member)
        return planned

    def _lifecycle(self, m: _Member) -> None:
        """The member events, and their salary requests, onto the timeline."""
        rng, out, push = self.rng, self.out, self.timeline.push
        push(m.joined_on, 480, out.event("member.joined", m.joined_on, 480, member_id=m.member_id,
                                         name=m.name, joined_on=m.joined_on.isoformat(), status=m.status))
        if m.status == "salarie":
            first = max(m.joined_on, self.start)
            push(first, 490, out.event("salary.set", first, 490, member_id=m.member_id,
                                       from_month=month_of(first), gross=_money(m.gross)))
            raise_month = self.months[len(self.months) // 2]
            asked = parse_month(raise_month) - timedelta(days=5)
            if len(self.months) > 2 and first < asked and rng.random() < 0.25:
                push(asked, 600, out.event("salary.set", asked, 600, member_id=m.member_id,
                                           from_month=raise_month, gross=_money(m.gross + 20000)))
        if m.salarie_on is not None:
            on = m.salarie_on
            push(on, 485, out.event("member.status_changed", on, 485, member_id=m.member_id,
                                    on=on.isoformat(), status="salarie"))
            push(on, 490, out.event("salary.set", on, 490, member_id=m.member_id,
                                    from_month=month_of(on), gross=_money(m.gross)))
        if m.associate_on is not None:
            on = m.associate_on
            push(on, 470, out.event("member.became_associate", on, 470, member_id=m.member_id,
                                    on=on.isoformat()))
        if m.left_on is not None:
            push(m.left_on, 1080, out.event("member.left", m.left_on, 1080, member_id=m.member_id,
                                            on=m.left_on.isoformat()))

    def events(self) -> Iterator[SampleEvent]:
        self._governance()
        for index, month in enumerate(self.months):
            first, end = parse_month(month), last_day(month)
            for member in self.members:
                self._month_documents(member, first, end)
            if self.bad and index == len(self.months) - 1:
                self._bad_events(first, end)
            duplicated = False
            for day, minute, data, flaw in self.timeline.until(end):
                yield SampleEvent(data, flaw)
                if self.bad and not duplicated and b'"invoice.issued"' in data and flaw is None:
                    duplicated = True  # a redelivery, as Kafka or a resent file would make
                    again = min(date.fromordinal(day) + timedelta(days=1), end)
                    self.timeline.push(again, self.rng.randint(540, 1100), data, DUPLICATE)

    def _month_documents(self, m: _Member, first: date, end: date) -> None:
        """A member's invoices (with their credit notes and payments) and expenses of a month."""
        rng = self.rng
        days = [d for d in (first + timedelta(days=k) for k in range((end - first).days + 1)) if m.active(d)]
        if not days:
            return
        salaried = m.status == "salarie" or (m.salarie_on is not None and m.salarie_on <= end)
        for _ in range(rng.choice((1, 2, 2, 3, 3, 4) if salaried else (0, 1, 1, 2, 2, 3))):
            self._invoice(m, rng.choice(days))
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            day = rng.choice(days)
            supplier, rate, direct = rng.choice(_SUPPLIERS)
            cents = rng.randrange(2000, 150000 if direct else 40000)
            minute = rng.randint(540, 1100)
            self.timeline.push(day, minute, self.out.event(
                "expense.recorded", day, minute, expense_id=self.out.number("X", day),
                member_id=m.member_id, spent_on=day.isoformat(), supplier=supplier,
                amount_ht=_money(cents), vat=_money(_vat(cents, rate)), direct_cost=direct))

    def _invoice(self, m: _Member, day: date) -> None:
        rng, out, push = self.rng, self.out, self.timeline.push
        invoice_id, client, minute = out.number("F", day), rng.choice(m.clients), rng.randint(540, 1100)
        lines = out.lines(m.trade, rng.choice((1, 1, 1, 2, 2, 3)))
        push(day, minute, out.event("invoice.issued", day, minute, invoice_id=invoice_id,
                                    member_id=m.member_id, issued_on=day.isoformat(), client=client,
                                    lines=lines))
        cents = [int(line["amount_ht"].replace(".", "")) for line in lines]
        due = sum(c + _vat(c, line["vat_rate"]) for c, line in zip(cents, lines))
        if m.left_on is None:
            self.last_invoice = (invoice_id, m.member_id, sum(cents), day)
        after = day
        if rng.random() < 0.12:  # a credit note on part of one line: within what is left
            after = day + timedelta(days=rng.randint(2, 20))
            k = rng.randrange(len(lines))
            credit = cents[k] if rng.random() < 0.4 else max(1, cents[k] * rng.randint(1, 9) // 10)
            if m.left_on is None or after < m.left_on:
                due -= credit + _vat(credit, lines[k]["vat_rate"])
                push(after, minute, out.event(
                    "credit_note.issued", after, minute, credit_note_id=out.number("A", after),
                    invoice_id=invoice_id, member_id=m.member_id, issued_on=after.isoformat(),
                    lines=[{"label": f"Refund: {lines[k]['label']}", "amount_ht": _money(credit),
                            "vat_rate": lines[k]["vat_rate"]}]))
        if rng.random() < 0.15 or due <= 0:
            return  # not paid yet
        instalments = [due]
        if due >= 2 and rng.random() < 0.25:  # paid in two goes
            first_part = max(1, due * rng.randint(3, 6) // 10)
            instalments = [first_part, due - first_part]
        for amount in instalments:
            after += timedelta(days=rng.randint(5, 40))
            paid_at = rng.randint(540, 1100)
            push(after, paid_at, out.event("payment.received", after, paid_at,
                                           payment_id=out.number("P", after), invoice_id=invoice_id,
                                           member_id=m.member_id, received_on=after.isoformat(),
                                           amount=_money(amount)))

    def _governance(self) -> None:
        """An AGO with resolutions, attendance, proxies and votes; a université with attendance."""
        rng, out, push = self.rng, self.out, self.timeline.push
        first = parse_month(self.months[0])
        held = first + timedelta(days=7 + (3 - first.weekday()) % 7)  # the second Thursday or so
        meeting = f"UNIV-{held.year}"
        push(held, 540, out.event(
            "ritual.held", held, 540, meeting_id=meeting, kind="universite", held_on=held.isoformat(),
            title=f"Université annuelle {held.year}"))
        for m in self.members:
            if m.active(held):
                mode = rng.choice(("present",) * 6 + ("remote", "excused", "excused", "absent"))
                push(held, 1000, out.event("attendance.recorded", held, 1000, meeting_id=meeting,
                                           member_id=m.member_id, mode=mode))
        start = parse_month(self.months[min(1, len(self.months) - 1)])
        held = start + timedelta(days=17 + (5 - (start + timedelta(days=17)).weekday()) % 7)  # a Saturday
        electorate = [m for m in self.members if m.associate(held)]
        present = [m for m in electorate if rng.random() < 0.65]
        present_ids = {m.member_id for m in present}
        if not electorate or not present:
            return
        assembly, convened = f"AGO-{held.year}", held - timedelta(days=21)
        push(convened, 540, out.event("assembly.convened", convened, 540, assembly_id=assembly,
                                      kind="AGO", held_on=held.isoformat(), convocation=1))
        titles = (f"Approbation des comptes {held.year - 1}", f"Affectation du résultat {held.year - 1}",
                  "Élection du conseil d'administration")  # the cooperative's words: French (issue 15)
        resolutions = [f"{assembly}-R{k}" for k in range(1, len(titles) + 1)]
        for resolution, title in zip(resolutions, titles):
            push(convened, 545, out.event("resolution.proposed", convened, 545,
                                          resolution_id=resolution, assembly_id=assembly, title=title))
        limit = 1 if len(electorate) < 20 else len(electorate) // 20  # loi 78-763 art. 14
        held_by: dict[str, str] = {}
        carried = {m.member_id: 0 for m in present}
        for m in electorate:
            mode = "present" if m.member_id in present_ids else rng.choice(("excused", "excused", "absent"))
            if mode == "present" and rng.random() < 0.2:
                mode = "remote"
            push(held, 570, out.event("attendance.recorded", held, 570, meeting_id=assembly,
                                      member_id=m.member_id, mode=mode))
            holders = [h for h in present if carried[h.member_id] < limit]
            if mode != "present" and mode != "remote" and holders and rng.random() < 0.6:
                holder = rng.choice(holders)
                carried[holder.member_id] += 1
                held_by[m.member_id] = holder.member_id
                given = held - timedelta(days=rng.randint(1, 6))
                push(given, 700, out.event("proxy.given", given, 700, assembly_id=assembly,
                                           from_member=m.member_id, to_member=holder.member_id))
        guest = next((m for m in self.members if m.active(held) and not m.associate(held)), None)
        if guest is not None:  # a member who is not an associate attends, without a vote
            push(held, 575, out.event("attendance.recorded", held, 575, meeting_id=assembly,
                                      member_id=guest.member_id, mode="present"))
        for k, resolution in enumerate(resolutions):
            for m in electorate:
                minute = 600 + 20 * k
                if m.member_id in present_ids:
                    push(held, minute, out.event("vote.cast", held, minute, resolution_id=resolution,
                                                 member_id=m.member_id, choice=rng.choice(_CHOICES)))
                elif m.member_id in held_by:
                    push(held, minute, out.event("vote.cast", held, minute, resolution_id=resolution,
                                                 member_id=m.member_id, choice=rng.choice(_CHOICES),
                                                 cast_by=held_by[m.member_id]))

    def _bad_events(self, first: date, end: date) -> None:
        """The deliberate rejects of the last month, for the demo's dead letters."""
        rng, out, push = self.rng, self.out, self.timeline.push
        m = self.members[0]
        days = [first + timedelta(days=k) for k in range((end - first).days + 1)]
        days = [d for d in days if m.active(d)] or [end]

        def invoice(day: date, **overrides: Any) -> dict[str, Any]:
            fields: dict[str, Any] = {"invoice_id": out.number("F", day), "member_id": m.member_id,
                                      "issued_on": day.isoformat(), "client": rng.choice(m.clients),
                                      "lines": out.lines(m.trade, 1)}
            fields.update(overrides)
            return fields

        day = rng.choice(days)
        floaty = invoice(day)
        floaty["lines"][0]["amount_ht"] = float(floaty["lines"][0]["amount_ht"])
        push(day, 700, out.event("invoice.issued", day, 700, **floaty), "float amount")
        day = rng.choice(days)
        stranger = f"M{len(self.members) + 900}"
        push(day, 710, out.event("invoice.issued", day, 710, **invoice(day, member_id=stranger)),
             "unknown member")
        day = rng.choice(days)
        push(day, 720, out.event("invoice.issued", day, 720, **invoice(day, currency="USD")),
             "non-EUR currency")
        day = rng.choice(days)
        whole = out.event("invoice.issued", day, 730, **invoice(day))
        push(day, 730, whole[:len(whole) // 2], "truncated JSON")
        if self.last_invoice is not None and self.last_invoice[3] >= first:
            invoice_id, member_id, ht, issued = self.last_invoice
            push(issued, 1430, out.event(
                "credit_note.issued", issued, 1430, credit_note_id=out.number("A", issued),
                invoice_id=invoice_id, member_id=member_id, issued_on=issued.isoformat(),
                lines=[{"label": "Refund of more than was invoiced", "amount_ht": _money(ht + 10000),
                        "vat_rate": "0.20"}]), "credit note over its invoice")


def throughput_events(n: int, seed: int = 2026, year: int = 2026) -> Iterator[bytes]:
    """Exactly `n` sound events for the benchmark: a year of a large cooperative.

    About n/50 members (joined in earlier years, 40 % of them associates), then
    documents spread evenly over the year: mostly invoices, with credit notes,
    payments and expenses. Memory: a few open invoices per member.
    """
    rng = random.Random(seed)
    out = _Writer(rng)
    count = max(1, n // 50)
    width = max(3, len(str(count)))
    start = date(year, 1, 1)
    members: list[_Member] = []
    open_invoices: list[list[list[Any]]] = []
    emitted = 0
    for i in range(count):
        joined = start - timedelta(days=rng.randint(30, 1500))
        m = _Member(f"M{i + 1:0{width}d}", f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                    _TRADES[i % len(_TRADES)], tuple(rng.sample(_CLIENTS, 3)), joined,
                    "salarie" if i % 3 else "cape")
        members.append(m)
        open_invoices.append([])
        for data in _joining(out, m, i % 5 < 2):
            if emitted == n:
                return
            emitted += 1
            yield data
    documents = n - emitted
    for k in range(documents):
        day = start + timedelta(days=k * 365 // documents)
        index = rng.randrange(count)
        m, pending = members[index], open_invoices[index]
        roll, minute = rng.random(), rng.randint(480, 1140)
        if roll >= 0.68 and roll < 0.92 and pending:
            yield _follow_up(out, rng, m, pending, day, minute, credit=roll < 0.75)
        elif roll >= 0.92:
            supplier, rate, direct = rng.choice(_SUPPLIERS)
            cents = rng.randrange(2000, 90000)
            yield out.event("expense.recorded", day, minute, expense_id=out.number("X", day),
                            member_id=m.member_id, spent_on=day.isoformat(), supplier=supplier,
                            amount_ht=_money(cents), vat=_money(_vat(cents, rate)), direct_cost=direct)
        else:
            invoice_id, lines = out.number("F", day), out.lines(m.trade, rng.choice((1, 1, 2, 3)))
            amounts = [int(line["amount_ht"].replace(".", "")) for line in lines]
            due = sum(c + _vat(c, line["vat_rate"]) for c, line in zip(amounts, lines))
            pending.append([invoice_id, due, amounts[0], lines[0]["vat_rate"], lines[0]["label"]])
            del pending[:-4]  # older ones stay unpaid: memory per member is bounded
            yield out.event("invoice.issued", day, minute, invoice_id=invoice_id, member_id=m.member_id,
                            issued_on=day.isoformat(), client=rng.choice(m.clients), lines=lines)


def _joining(out: _Writer, m: _Member, associate: bool) -> Iterator[bytes]:
    yield out.event("member.joined", m.joined_on, 480, member_id=m.member_id, name=m.name,
                    joined_on=m.joined_on.isoformat(), status=m.status)
    if associate:
        on = m.joined_on + timedelta(days=20)
        yield out.event("member.became_associate", on, 480, member_id=m.member_id, on=on.isoformat())


def _follow_up(out: _Writer, rng: random.Random, m: _Member, pending: list[list[Any]], day: date,
               minute: int, credit: bool) -> bytes:
    """A credit note (one per invoice, on part of its first line) or a payment of what is due."""
    invoice = pending[rng.randrange(len(pending))]
    invoice_id, due, line_cents, rate, label = invoice
    amount = max(1, line_cents * rng.randint(1, 10) // 10)
    if credit and line_cents and amount + _vat(amount, rate) <= due:
        invoice[1], invoice[2] = due - amount - _vat(amount, rate), 0
        if invoice[1] <= 0:
            pending.remove(invoice)
        return out.event("credit_note.issued", day, minute, credit_note_id=out.number("A", day),
                         invoice_id=invoice_id, member_id=m.member_id, issued_on=day.isoformat(),
                         lines=[{"label": f"Refund: {label}", "amount_ht": _money(amount), "vat_rate": rate}])
    amount = due if due < 2 or rng.random() < 0.7 else due // 2
    invoice[1] = due - amount
    if invoice[1] <= 0:
        pending.remove(invoice)
    return out.event("payment.received", day, minute, payment_id=out.number("P", day),
                     invoice_id=invoice_id, member_id=m.member_id, received_on=day.isoformat(),
                     amount=_money(amount))
