"""Secret ballots (DOMAIN.md G4, loi 47-1775 art. 8): who voted, and the counts, kept apart.

A ballot on a secret resolution is never a `vote.cast` event (those name their voter and keep
their time and their order in the stream). It is written here, in one transaction, as two
things that share nothing but the resolution:

- a row of `secret_participation`: this associate voted on this resolution, directly, by
  correspondence or through their proxy holder (so nobody votes twice, and the quorum and the
  attendance sheet know who took part); no choice, no time;
- one more in one count of the resolution's single `secret_counts` row: no voter, no time, no
  row per ballot. An insert-only table of ballots, even with random ids, would keep them in
  the order they came (PostgreSQL's heap, SQLite's rowid), which is the voters' order beside
  the participation's; a counter has no order to give.

Whether a ballot counts is decided when it is cast, since afterwards nothing can tell it from
the others: by correspondence before the deadline, in person while present, through a proxy
that counts (the caller checks, `governance.ballot`). What this does not protect against is
written in the README ("Secret ballots").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from governance.records import CHOICES
from ledger import schema
from ledger.locks import lock_batch

_p, _c = schema.secret_participation, schema.secret_counts


class AlreadyVoted(ValueError):
    """The associate already took part in this secret vote: their ballot is final."""


@dataclass(frozen=True, slots=True)
class SecretBallot:
    """A ballot about to be cast: who it is for (to record their participation) and the choice
    (to count it). The two are separated by `cast`."""

    resolution_id: str
    member_id: str
    choice: str
    mode: str  # direct / correspondence / proxy
    cast_by: str | None = None


@dataclass(frozen=True, slots=True)
class Participation:
    resolution_id: str
    member_id: str
    mode: str
    cast_by: str | None


def cast(conn: Connection, ballots: Sequence[SecretBallot]) -> None:
    """Record the ballots' participation and add them to the counts, all or nothing (the caller's
    transaction); `AlreadyVoted` when one of the associates already voted on that resolution."""
    lock_batch(conn, [], governance=True)  # PostgreSQL: one writer of counts at a time (SQLite: its own lock)
    taken = {(p.resolution_id, p.member_id) for p in participation(conn, {b.resolution_id for b in ballots})}
    if any((b.resolution_id, b.member_id) in taken for b in ballots):
        raise AlreadyVoted("already voted: a secret ballot is final")
    try:
        conn.execute(_p.insert(), [{"resolution_id": b.resolution_id, "member_id": b.member_id, "mode": b.mode,
                                    "cast_by": b.cast_by} for b in ballots])
    except IntegrityError:  # the same associate twice in `ballots`
        raise AlreadyVoted("already voted: a secret ballot is final") from None
    existing = set(conn.scalars(select(_c.c.resolution_id)
                                .where(_c.c.resolution_id.in_({b.resolution_id for b in ballots}))))
    for rid in sorted({b.resolution_id for b in ballots} - existing):
        conn.execute(_c.insert().values(resolution_id=rid, **{f"n_{c}": 0 for c in CHOICES}))
    for b in ballots:
        column = _c.c[f"n_{b.choice}"]
        conn.execute(update(_c).where(_c.c.resolution_id == b.resolution_id).values({column: column + 1}))


def participation(conn: Connection, resolution_ids: Iterable[str]) -> list[Participation]:
    """Who took part in these secret votes, and how (no order: sorted by resolution and member)."""
    wanted = sorted(set(resolution_ids))
    if not wanted:
        return []
    rows = conn.execute(select(_p.c.resolution_id, _p.c.member_id, _p.c.mode, _p.c.cast_by)
                        .where(_p.c.resolution_id.in_(wanted))
                        .order_by(_p.c.resolution_id, _p.c.member_id))
    return [Participation(*row) for row in rows]


def counts(conn: Connection, resolution_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """Each secret resolution's ballots per choice (a resolution nobody voted on has none)."""
    wanted = sorted(set(resolution_ids))
    found: dict[str, dict[str, int]] = {rid: dict.fromkeys(CHOICES, 0) for rid in wanted}
    if wanted:
        for row in conn.execute(select(_c).where(_c.c.resolution_id.in_(wanted))):
            found[row.resolution_id] = {c: int(row._mapping[f"n_{c}"]) for c in CHOICES}
    return found
