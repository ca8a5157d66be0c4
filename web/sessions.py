"""Browser sessions: made at login, looked up at each request, ended, and purged when past use.

- a session id is 256 random bits, stored as its SHA-256: a reader of the table
  can sign in as nobody. The browser's cookie holds the id only, signed
  (`web.routing.set_session_cookie`);
- before login there is no row (issue 14, point 6): the login form's CSRF token
  lives in the browser's signed cookie alone (`anonymous`), so a visitor, a
  crawler or a flood of `GET /login` writes nothing;
- login ends the session it came from and starts a new one (a cookie from
  before login is worth nothing after it); a session idle for `IDLE` ends, and
  so do all of an account's when its role, its password or its state changes;
- `purge` deletes what is past use a day later: ended sessions, failed logins
  (`web.throttle`). The database refuses to delete a live session or a recent
  failure (revision 0008).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, delete, insert, select, update

from ledger import schema
from web.access import Caller, Role

IDLE = timedelta(minutes=30)
SEEN_EVERY = timedelta(minutes=1)  # how often a session's last_seen is written, not at every request
KEPT = timedelta(days=1)  # how long an ended session and a failed login stay before the purge deletes them


def now() -> datetime:
    return datetime.now(timezone.utc)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Session:
    """A browser's session: `id` None and no caller before login (the CSRF token only, no row);
    `must_change_password` while the account signs in with a temporary password (`web.accounts`)."""

    id: str | None  # the secret: only in the browser's cookie
    csrf: str
    caller: Caller | None
    must_change_password: bool = False


def anonymous() -> Session:
    """The login form's session: a CSRF token for the browser's cookie, nothing stored."""
    return Session(None, secrets.token_urlsafe(24), None)


def start(conn: Connection, caller: Caller, must_change_password: bool, ending: str | None = None) -> Session:
    """The caller's new session; ends `ending`, the one the browser came with."""
    moment = now()
    if ending is not None:
        s = schema.sessions
        conn.execute(update(s).where(s.c.id_hash == digest(ending), s.c.ended_at.is_(None)).values(ended_at=moment))
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    conn.execute(insert(schema.sessions), {"id_hash": digest(session_id), "user_id": caller.user_id, "csrf": csrf,
                                           "created_at": moment, "last_seen": moment})
    return Session(session_id, csrf, caller, must_change_password)


@dataclass(frozen=True, slots=True)
class Lookup:
    """A session looked up by its id, and what the lookup must write: end it (idle, or its account
    disabled: `session` is then None) or note that it was seen (once a minute, not at every request)."""

    session: Session | None
    end: bool = False
    seen: bool = False


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A session as stored, with its account: what a request reads (and the web may keep) by its hash."""

    csrf: str
    last_seen: datetime
    ended: bool
    caller: Caller | None  # None: a login form's session of before revision 0008, until purged
    disabled: bool
    must_change_password: bool


def record(conn: Connection, id_hash: str) -> SessionRecord | None:
    s, u = schema.sessions, schema.users
    row = conn.execute(select(s, u.c.email, u.c.role, u.c.member_id, u.c.disabled, u.c.password_temporary_until)
                       .select_from(s.outerjoin(u, u.c.id == s.c.user_id))
                       .where(s.c.id_hash == id_hash)).first()
    if row is None:
        return None
    caller = None if row.user_id is None else Caller(row.user_id, row.email, Role(row.role), row.member_id)
    return SessionRecord(row.csrf, aware(row.last_seen), row.ended_at is not None, caller, bool(row.disabled),
                         row.password_temporary_until is not None)


def lookup(session_id: str, found: SessionRecord | None, moment: datetime) -> Lookup:
    """The live session of this id at `moment`, with its account if signed in, and what to write:
    only reads went before, so a page's requests never queue for the write lock, and
    `record_lookup` writes the rare change in a transaction of its own."""
    if found is None or found.ended:
        return Lookup(None)
    seen = moment - found.last_seen
    if seen > IDLE or (found.caller is not None and found.disabled):
        return Lookup(None, end=True)
    return Lookup(Session(session_id, found.csrf, found.caller, found.must_change_password), seen=seen > SEEN_EVERY)


def record_lookup(conn: Connection, session_id: str, looked_up: Lookup) -> None:
    s = schema.sessions
    where = (s.c.id_hash == digest(session_id)) & s.c.ended_at.is_(None)
    if looked_up.end:
        conn.execute(update(s).where(where).values(ended_at=now()))
    elif looked_up.seen:
        conn.execute(update(s).where(where).values(last_seen=now()))


def end(conn: Connection, session_id: str) -> None:
    s = schema.sessions
    conn.execute(update(s).where(s.c.id_hash == digest(session_id), s.c.ended_at.is_(None)).values(ended_at=now()))


def end_all(conn: Connection, user_id: int) -> None:
    """End every live session of an account: its role, password or state changed."""
    s = schema.sessions
    conn.execute(update(s).where(s.c.user_id == user_id, s.c.ended_at.is_(None)).values(ended_at=now()))


def csrf_matches(session: Session, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(session.csrf, token)


@dataclass(frozen=True, slots=True)
class Purged:
    sessions: int
    failures: int


def purge(conn: Connection, moment: datetime) -> Purged:
    """End the sessions idle past `IDLE` (nobody came back to end them), then delete the sessions
    ended and the failed logins recorded more than `KEPT` ago (issue 14, point 6).

    Run at each login attempt (`web.pages_account`): only a login adds rows to either table, so
    neither holds more than a day of logins beyond the live sessions.
    """
    s, f = schema.sessions, schema.login_failures
    conn.execute(update(s).where(s.c.ended_at.is_(None), s.c.last_seen < moment - IDLE).values(ended_at=moment))
    sessions = conn.execute(delete(s).where(s.c.ended_at < moment - KEPT)).rowcount
    failures = conn.execute(delete(f).where(f.c.at < moment - KEPT)).rowcount
    return Purged(sessions, failures)
