"""Reading many rows fast: dates without SQLAlchemy's per-row processing, and no collector pauses.

For the readers that load every member (the payroll, the register, the close's plan):
on SQLite, SQLAlchemy's `Date` parses each value in Python; read as text
(`raw_dates`) and turned into dates by `day` (`date.fromisoformat`, in C), ten
thousand members load in a fraction of the time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, type_coerce
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op


def raw_dates(*columns: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """Date columns as the driver gives them (text on SQLite, dates on PostgreSQL), for `day`."""
    return [type_coerce(c, String).label(c.key or "day") for c in columns]


def day(value: Any) -> date:
    """A NOT NULL date column read through `raw_dates`."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def maybe_day(value: Any) -> date | None:
    """A date column that may be NULL, read through `raw_dates`."""
    return None if value is None else day(value)


def unindexed(conn: Connection, column: Any) -> Any:
    """`column`, which SQLite will not read through an index: for a condition that a large part
    of the lines meet (a third of a year's are sales, costs, contributions and shares; most of a
    member's are of the accounts a statement reads), or a grouping by member, reading the rows
    in the order of the index already chosen costs less CPU than looking each one up from the
    account or member index (revision 0017), which SQLite, keeping no statistics, would
    otherwise choose; PostgreSQL's planner, which keeps them, chooses for itself."""
    if conn.dialect.name != "sqlite":
        return column
    # SQLite's unary `+`, which changes nothing but the plan: `column || ''` does the same and
    # builds a string for each row (the members' sums to date: 0.26 s instead of 0.18).
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


@contextmanager
def bulk() -> Iterator[None]:
    """Build thousands of small records without the cyclic collector scanning the heap meanwhile.

    Every few hundred allocations CPython's collector runs, and now and then it
    walks every live object; while thousands of records are built that is most
    of the load time. The records hold no reference cycles, so pausing it for
    the load frees nothing late.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_startup_heap() -> None:
    """Before a long run of batches (an ingest, a worker), once per process: `gc.freeze()`.

    CPython's collector walks its oldest generation now and then, and at start-up that
    holds every module, SQLAlchemy's compiled statements and the rules: a hundred thousand
    long-lived objects walked again and again during an ingest, for nothing. Frozen, they
    are never walked (they are still freed by reference counting); the collector then
    walks what the batches make. +15 % on `bench/ingest.py --events 100000` here.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
