"""Which database errors pass on their own, and how to tell a user about the others.

A worker must neither give up on an outage nor retry forever what can never
succeed (issue 8): a lost connection, a serialisation failure, a deadlock, a
lock timeout or a server restarting are *transient*, and the batch is tried
again after a pause; anything else (a value too long for its column, a
trigger's refusal, a constraint) is *permanent*: retried alone, the event that
causes it goes to the dead letters with the database's reason.

Storage that cannot take a write (a full disk, a read-only file or database,
an I/O error, a damaged file) is transient too (issue 14, point 2): it is
nobody's event's fault, so nothing is dead-lettered for it; the ingest stops
with the storage's words, the worker waits, and the same input goes through
once the storage is mended.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError

# PostgreSQL SQLSTATE classes and codes that mean "try again": connection exceptions (08),
# transaction rollback (40: serialization failure, deadlock), insufficient resources (53: disk
# full, out of memory), system errors (58: I/O), a read-only transaction (25006: a standby, or
# default_transaction_read_only), lock not available (55P03), query canceled by a timeout
# (57014), the server shutting down or starting (57P01, 57P02, 57P03), data or an index found
# corrupted (XX001, XX002).
_TRANSIENT_CLASSES = ("08", "40", "53", "58")
_TRANSIENT_CODES = frozenset({"25006", "55P03", "57014", "57P01", "57P02", "57P03", "XX001", "XX002"})
# SQLite's primary result codes of the same kinds: SQLITE_BUSY and SQLITE_LOCKED (another
# process holds the write lock longer than the busy timeout), NOMEM, READONLY, IOERR, CORRUPT,
# FULL, CANTOPEN, PROTOCOL, NOTADB (https://sqlite.org/rescode.html).
_SQLITE_TRANSIENT = frozenset({5, 6, 7, 8, 10, 11, 13, 14, 15, 26})


def is_transient(exc: BaseException) -> bool:
    """Whether the same work may succeed if tried again later, unchanged."""
    if isinstance(exc, DisconnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    original = getattr(exc, "orig", None) or exc
    state = getattr(original, "sqlstate", None)
    if isinstance(state, str):
        return state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_CODES
    module = type(original).__module__
    if module.startswith("psycopg"):  # no SQLSTATE: the connection itself failed
        import psycopg

        return isinstance(original, psycopg.OperationalError)
    code = getattr(original, "sqlite_errorcode", None)
    if module.startswith("sqlite3") and isinstance(code, int):
        return code & 0xFF in _SQLITE_TRANSIENT  # an extended code's low byte is its primary code
    return False


def reason(exc: BaseException) -> str:
    """The database's own words, first line only: what a dead letter or a user reads."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:500]


def one_line(exc: BaseException) -> str:
    """The error's kind and its first line, for a log line or a reason that says what broke."""
    return f"{type(exc).__name__}: {reason(exc)}"
