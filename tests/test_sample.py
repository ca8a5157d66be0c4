"""The sample cooperative: deterministic, sound but for its deliberate flaws, and balanced once ingested."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from engine.config import Rules
from engine.events import EventError, decode
from engine.sample import (DUPLICATE, FLAWS, VAT_RATES, SampleEvent, cooperative, cooperative_samples,
                           throughput_events)
from ledger import schema
from ledger.balances import trial_balance
from ledger.db import open_ledger
from ledger.payroll_run import run_payroll
from streams.embedded import ingest
from streams.pipeline import Outcome, Raw

MONTHS = ["2026-08", "2026-09", "2026-10"]
TODAY = date(2026, 12, 5)  # where the window of event dates is drawn from (engine.bounds)
REFUSED_AT_THE_DOOR = {"float amount", "non-EUR currency", "truncated JSON"}  # by `decode`
REFUSED_BY_THE_RULES = {"unknown member", "credit note over its invoice"}  # by `rules.apply`


def _ingest(engine: Engine, samples: list[SampleEvent], rules: Rules) -> Outcome:
    return ingest(engine, (Raw(s.data, f"sample:{n}") for n, s in enumerate(samples, 1)), rules,
                  batch=97)  # a batch size that splits members' histories across transactions


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    assert list(cooperative(15, MONTHS, seed=7)) == list(cooperative(15, MONTHS, seed=7))
    assert list(cooperative(15, MONTHS, seed=7)) != list(cooperative(15, MONTHS, seed=8))
    assert list(throughput_events(700, seed=3)) == list(throughput_events(700, seed=3))
    assert list(throughput_events(700, seed=3)) != list(throughput_events(700, seed=4))


def test_throughput_gives_exactly_n_events() -> None:
    for n in (1, 2, 49, 50, 1234):
        assert sum(1 for _ in throughput_events(n, seed=1)) == n


def test_every_sound_event_decodes_and_every_flaw_is_there() -> None:
    samples = list(cooperative_samples(40, MONTHS, seed=2026))
    flaws = Counter(s.flaw for s in samples if s.flaw)
    assert set(flaws) == set(FLAWS)
    assert 1 <= flaws[DUPLICATE] <= 6
    types: Counter[str] = Counter()
    for sample in samples:
        if sample.flaw in REFUSED_AT_THE_DOOR:
            with pytest.raises(EventError):
                decode(sample.data, TODAY)
            continue
        event = decode(sample.data, TODAY)
        types[getattr(event, "type")] += 1
    assert {"member.joined", "member.status_changed", "member.became_associate", "member.left",
            "invoice.issued", "credit_note.issued", "payment.received", "expense.recorded",
            "salary.set", "assembly.convened", "resolution.proposed", "ritual.held",
            "attendance.recorded", "proxy.given", "vote.cast"} <= set(types)
    rates = {line["vat_rate"] for s in samples if s.flaw is None
             for line in json.loads(s.data).get("lines", [])}
    assert rates == set(VAT_RATES)
    statuses = {json.loads(s.data)["status"] for s in samples if b'"member.joined"' in s.data}
    assert statuses == {"cape", "salarie"}


def test_without_bad_there_is_no_flaw() -> None:
    assert all(s.flaw is None for s in cooperative_samples(20, MONTHS, seed=5, bad=False))


def test_a_cooperative_ingests_with_only_its_deliberate_dead_letters(engine: Engine, rules: Rules) -> None:
    samples = list(cooperative_samples(30, MONTHS, seed=11))
    outcome = _ingest(engine, samples, rules)
    expected = {f"sample:{n}": s.flaw for n, s in enumerate(samples, 1) if s.flaw and s.flaw != DUPLICATE}
    assert {d.source: expected.get(d.source) for d in outcome.dead_letters} == expected
    assert outcome.duplicates == sum(1 for s in samples if s.flaw == DUPLICATE)
    assert outcome.processed == sum(1 for s in samples if s.flaw is None)
    with engine.begin() as conn:
        for month in MONTHS:
            run_payroll(conn, month, rules)
    with engine.connect() as conn:
        balances = trial_balance(conn)
        governance = conn.scalar(select(func.count()).select_from(schema.governance_events))
        payslips = conn.scalar(select(func.count()).select_from(schema.payslips))
    assert sum(r.debit for r in balances) == sum(r.credit for r in balances) > 0
    assert governance and payslips


@pytest.mark.parametrize("members, seed", [(1, 1), (2, 2), (5, 3), (13, 4), (60, 5)])
def test_any_size_and_seed_is_sound(members: int, seed: int, tmp_path: Path, rules: Rules) -> None:
    engine = open_ledger(f"sqlite:///{tmp_path / 'sample.db'}")
    samples = list(cooperative_samples(members, ["2026-06", "2026-07"], seed=seed))
    outcome = _ingest(engine, samples, rules)
    assert sorted(d.source for d in outcome.dead_letters) == sorted(
        f"sample:{n}" for n, s in enumerate(samples, 1) if s.flaw and s.flaw != DUPLICATE)
    engine.dispose()


def test_throughput_events_are_all_taken(engine: Engine, rules: Rules) -> None:
    outcome = ingest(engine, (Raw(d, f"bench:{n}") for n, d in enumerate(throughput_events(1500, 9), 1)),
                     rules, batch=400)
    assert (outcome.processed, outcome.duplicates, outcome.dead_letters) == (1500, 0, [])
    types = Counter(json.loads(d)["type"] for d in throughput_events(1500, 9))
    assert types["invoice.issued"] > types["payment.received"] > 0 and types["credit_note.issued"] > 0


def test_months_must_be_in_order() -> None:
    with pytest.raises(ValueError):
        cooperative_samples(5, ["2026-10", "2026-09"])
    with pytest.raises(ValueError):
        cooperative_samples(5, ["2026-13"])
    with pytest.raises(ValueError):
        cooperative_samples(0, MONTHS)
