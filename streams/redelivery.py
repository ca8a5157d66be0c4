"""Pending dead letters processed again, one by one, in the order they came (`cae deadletter
replay` and the staff's page share it).

Each letter goes through the same `process` as a new line; one that passes is settled as
replayed, one refused again keeps its place with the new reason (and its catalogue code, so
that the page says it in French) added to its history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from engine.config import Rules
from ledger import deadletters
from ledger.deadletters import DeadLetter, StoredDeadLetter
from streams.pipeline import Raw, process


@dataclass
class Redelivered:
    replayed: int = 0
    still: list[tuple[StoredDeadLetter, DeadLetter]] = field(default_factory=list)  # (letter, its new refusal)


def replay(engine: Engine, letters: Sequence[StoredDeadLetter], rules: Rules, by: str) -> Redelivered:
    done = Redelivered()
    for letter in letters:
        outcome = process(engine, [Raw(letter.raw, letter.source)], rules)
        with engine.begin() as conn:
            if outcome.dead_letters:
                deadletters.retried(conn, letter.id, outcome.dead_letters[0], by)
                done.still.append((letter, outcome.dead_letters[0]))
            else:
                deadletters.replayed(conn, letter.id, by)
                done.replayed += 1
    return done
