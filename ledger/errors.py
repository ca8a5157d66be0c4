"""Which database errors pass on their own, and how to tell a user about the others.

A worker must neither give up on an outage nor retry forever what can never
succeed (issue 8): a lost connection, a serialisation failure, a deadlock, a
lock timeout or a server restarting are *transient*, and the batch is tried
again after a pause; anything else (a value too long for its column, a
trigger's refusal, a constraint) is *permanent*: retried alone, the event that
causes it goes to the dead letters with the database's reason.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError

# PostgreSQL SQLSTATE classes and codes that mean "try again": connection exceptions (08),
# transaction rollback (40: serialization failure, deadlock), insufficient resources (53),
# lock not available (55P03), query canceled by a timeout (57014), the server shutting
# down or starting (57P01, 57P02, 57P03).
_TRANSIENT_CLASSES = ("08", "40", "53")
_TRANSIENT_CODES = frozenset({"55P03", "57014", "57P01", "57P02", "57P03"})
# SQLite: another process holds the write lock longer than the busy timeout.
_SQLITE_TRANSIENT = ("database is locked", "database is busy", "database table is locked")


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
    if module.startswith("sqlite3"):
        text = str(original).lower()
        return any(marker in text for marker in _SQLITE_TRANSIENT)
    return False


def reason(exc: BaseException) -> str:
    """The database's own words, first line only: what a dead letter or a user reads."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:500]


def one_line(exc: BaseException) -> str:
    """The error's kind and its first line, for a log line or a reason that says what broke."""
    return f"{type(exc).__name__}: {reason(exc)}"
