"""Bulk inserts straight to the driver, for the hot path of posting.

SQLAlchemy's `insert()` with a list of dicts spends more time converting each
row than SQLite spends storing it; tuples go to the driver as they are. The price is that values must
already be in the driver's format: on SQLite, dates and timestamps as the
strings SQLAlchemy itself writes, so that reading back through SQLAlchemy
(`Date`, `DateTime`) sees the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")
CHUNK = 500  # SQLite allows 999 bound parameters per statement; a pair of keys takes two


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    """`items` a few hundred at a time, for `IN (…)` lists that every backend takes."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass(frozen=True, slots=True)
class Encoded:
    """Rows already written as the JSON array that SQLite's insert reads (`encode`)."""

    text: str


Rows = list[tuple[Any, ...]] | Encoded


def encode(conn: Connection, rows: list[tuple[Any, ...]]) -> Rows:
    """Rows as `insert_rows` will take them through `conn`: on SQLite written as JSON now, by the
    thread that builds them rather than by the one that writes them (`streams.overlapped`)."""
    if conn.dialect.name == "sqlite" and rows:
        return Encoded(_json(rows))
    return rows


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Rows, shift: int = 0) -> None:
    """Insert in the caller's transaction: one statement on SQLite, `COPY` on PostgreSQL.

    COPY streams the rows in one command instead of a statement per row; row
    triggers still fire for each, so the invariants hold just the same.
    `shift` is added to each row's first column (ids reserved as the rows are written,
    `ledger.posting.insert_postings`).
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        assert not isinstance(rows, Encoded), "rows encoded for SQLite"
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((row[0] + shift, *row[1:]) if shift else row)
        return
    # One statement for the whole list: SQLite reads the rows from one JSON array (`json_each`)
    # and runs the insert, its triggers and its indexes without coming back to Python between
    # rows, so another thread (the ingest's next batch, `streams.embedded`) runs meanwhile; with
    # `executemany` each row waits for the interpreter's lock (issue 18).
    # The shift is a parameter, not written into the text: the driver keeps each text's prepared
    # statement (128 of them), and the entries' and lines' with their triggers are about 1 MB
    # each, so a text per batch held 128 MB more by the 250th batch than by the first.
    values = [f"json_extract(value, '$[{at}]')" for at in range(len(columns))]  # `->>` would need SQLite 3.38
    text = rows.text if isinstance(rows, Encoded) else _json(rows)
    if shift:
        values[0] = f"? + ({values[0]})"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(values)} FROM json_each(?)"
    conn.exec_driver_sql(sql, (int(shift), text) if shift else (text,))


def _json(rows: list[tuple[Any, ...]]) -> str:
    """The rows as one JSON array, as `json.dumps` writes it compactly (tests/test_hot_path.py), in
    a fifth of its time: a batch's rows were 0.75 s of the deciding thread's 10 s for 100,000 events.
    Unlike `json`, msgspec would also write a date, a time or a Decimal, in its own format: the
    rows' builders give text and integers (`day_format`, `time_format`, `to_cents`)."""
    return msgspec.json.encode(rows).decode()


def insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]] | dict[str, Any]) -> None:
    """Insert, leaving alone any row whose key is already there (`ON CONFLICT DO NOTHING`).

    For writers that may race one another to insert the same row (two web workers creating the
    cookie key, a dead letter received twice): the first wins, and nobody fails.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def day_format(conn: Connection) -> Callable[[date], Any]:
    """How the driver wants a date: SQLite stores ISO text, PostgreSQL takes the object."""
    return date.isoformat if conn.dialect.name == "sqlite" else _same


def time_format(conn: Connection) -> Callable[[datetime], Any]:
    if conn.dialect.name == "sqlite":
        return lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return _same


def iso_utc(moment: datetime) -> str:
    """A stored timestamp as ISO text with its zone: SQLite gives timestamps back naive, in UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def _same(value: Any) -> Any:
    return value
