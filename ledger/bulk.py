"""Bulk inserts straight to the driver, for the hot path of posting.

SQLAlchemy's `insert()` with a list of dicts spends more time converting each
row than SQLite spends storing it; tuples go to the driver as they are. The price is that values must
already be in the driver's format: on SQLite, dates and timestamps as the
strings SQLAlchemy itself writes, so that reading back through SQLAlchemy
(`Date`, `DateTime`) sees the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timezone
from typing import Any, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")
CHUNK = 500  # SQLite allows 999 bound parameters per statement; a pair of keys takes two


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    """`items` a few hundred at a time, for `IN (…)` lists that every backend takes."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert in the caller's transaction: `executemany` on SQLite, `COPY` on PostgreSQL.

    COPY streams the rows in one command instead of a statement per row; row
    triggers still fire for each, so the invariants hold just the same.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    conn.exec_driver_sql(sql, rows)


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
