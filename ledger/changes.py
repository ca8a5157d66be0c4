"""Whether the ledger changed: a token, cheap to read, that differs after any commit.

Readers that keep answers (the web's `ReadCache`) compare it at each request and drop
what they kept when it moved, so that an answer is never older than the last commit
made before the request came in.

- SQLite: `PRAGMA data_version` on a connection of the watcher's own, which never writes;
  SQLite changes it whenever another connection, of this process or another, commits.
- PostgreSQL: `pg_current_snapshot()`: its next transaction id and the list of those in
  progress change whenever a transaction that wrote begins or ends, in any database of the
  server. Conservative (another database's writes count too), never late.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import Engine, text

from ledger.db import sqlite_path


class ChangeWatch:
    """`token()`: equal tokens mean no commit in between."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._sqlite: sqlite3.Connection | None = None
        self._opened = 0
        path = sqlite_path(str(engine.url))
        # as_uri escapes what a URI would misread in a path (?, #, %)
        self._sqlite_uri = None if path is None else path.resolve().as_uri() + "?mode=ro"

    @property
    def cheap(self) -> bool:
        """Whether `token` costs a pragma (SQLite), not a query to a server: a coroutine may call it."""
        return self._sqlite_uri is not None

    def token(self) -> object:
        if self._sqlite_uri is not None:
            with self._lock:
                if self._sqlite is None:  # opened on first use, and again after `close`
                    self._sqlite = sqlite3.connect(self._sqlite_uri, uri=True, check_same_thread=False)
                    self._opened += 1
                # data_version counts per connection: a new connection's must not meet an old one's
                return self._opened, self._sqlite.execute("PRAGMA data_version").fetchone()[0]
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                return conn.scalar(text("SELECT pg_current_snapshot()::text"))
        return object()  # an in-memory database: nothing to watch, so nothing is ever kept

    def close(self) -> None:
        """Close the watcher's SQLite connection; a later `token` opens a new one."""
        with self._lock:
            if self._sqlite is not None:
                self._sqlite.close()
                self._sqlite = None
