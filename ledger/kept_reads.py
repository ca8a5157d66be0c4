"""Every member's reads done once within one report, on one connection (issue 18, point 4).

The reconciliation reads every member's sums for its statements and again for its check of
the year, the month's payslips for its statements and again for its payroll figures and its
net pay to transfer, and the members for its check of the year and again for whom the payroll
pays: on a year of 10,000 members each read is a tenth of a second or more. Inside `reads_kept`, a read
of every member is done once per connection and key and its answer reused; the block is one
read transaction, so what is read twice is the same, and it is forgotten when the block ends.
Answers are shared: callers must not change them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")
_KEPT = "cae.kept_reads"


@contextmanager
def reads_kept(conn: Connection) -> Iterator[None]:
    conn.info[_KEPT] = {}
    try:
        yield
    finally:
        del conn.info[_KEPT]


def kept(conn: Connection, key: Hashable, read: Callable[[], T]) -> T:
    """`read()`, once per `key` inside `reads_kept`; every time outside it."""
    store: dict[Hashable, Any] | None = conn.info.get(_KEPT)
    if store is None:
        return read()
    if key not in store:
        store[key] = read()
    answer: T = store[key]
    return answer
