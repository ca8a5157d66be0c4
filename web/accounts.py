"""Accounts, sessions, API tokens, login throttling and the audit log, in the ledger's database.

- passwords are argon2 hashes (argon2-cffi's defaults);
- a session id and an API token's secret are 256 random bits, stored as their
  SHA-256: a reader of the tables can sign in as nobody. The browser's cookie
  holds the session id only, signed (`web.app`);
- login ends the session it came from and starts a new one (a cookie from
  before login is worth nothing after it); a session idle for `IDLE` ends;
- failed logins are counted per email and per address: past `MAX_FAILURES`
  in `WINDOW`, logins are refused for a while, right password or not;
- every write made through an account is in the audit log, with who.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update

from ledger import schema
from ledger.bulk import insert_new
from web.access import Caller, Role

IDLE = timedelta(minutes=30)
SEEN_EVERY = timedelta(minutes=1)  # how often a session's last_seen is written, not at every request
WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5  # per email; an address may fail 4 times as often (several people behind one NAT)
_HASHER = PasswordHasher()
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountError(ValueError):
    """An account that cannot be made or changed as asked."""


class Throttled(PermissionError):
    """Too many failed logins lately."""


def now() -> datetime:
    return datetime.now(timezone.utc)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def audit(conn: Connection, actor: str, action: str, detail: str) -> None:
    conn.execute(insert(schema.audit_log), {"at": now(), "actor": actor[:300], "action": action[:60],
                                            "detail": detail})


# -- users ------------------------------------------------------------------------------------

def add_user(conn: Connection, email: str, password: str, role: str, member_id: str | None, actor: str) -> int:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise AccountError(f"{email!r} is not an email address")
    kind = _role_of(conn, role, member_id)
    if len(password) < 12:
        raise AccountError("a password has at least 12 characters")
    if conn.scalar(select(schema.users.c.id).where(schema.users.c.email == email)) is not None:
        raise AccountError(f"{email} already has an account")
    user_id = conn.execute(insert(schema.users).returning(schema.users.c.id), {
        "email": email, "password_hash": _HASHER.hash(password), "role": kind.value, "member_id": member_id,
        "disabled": False, "created_at": now()}).scalar_one()
    audit(conn, actor, "user.add", f"{email} as {kind.value}" + (f" of {member_id}" if member_id else ""))
    return int(user_id)


def _role_of(conn: Connection, role: str, member_id: str | None) -> Role:
    """The role asked for, checked with the member it names: AccountError, never a database error."""
    try:
        kind = Role(role)
    except ValueError:
        raise AccountError(f"{role!r} is not a role: admin, staff, board or member") from None
    if (kind is Role.MEMBER) != (member_id is not None):
        raise AccountError("a member account names its member (--member ID), and only a member account does")
    if member_id is not None and conn.scalar(select(schema.members.c.member_id)
                                             .where(schema.members.c.member_id == member_id)) is None:
        raise AccountError(f"unknown member {member_id!r}")
    return kind


def _change(conn: Connection, user_id: int, **values: object) -> None:
    """Change an account, or AccountError when there is none: no audit row for a change not made."""
    u = schema.users
    if not conn.execute(update(u).where(u.c.id == user_id).values(**values)).rowcount:
        raise AccountError(f"no account #{user_id}")


def set_role(conn: Connection, user_id: int, role: str, member_id: str | None, actor: str) -> None:
    kind = _role_of(conn, role, member_id)
    _change(conn, user_id, role=kind.value, member_id=member_id)
    _end_sessions(conn, user_id)  # the new role applies from the next login
    audit(conn, actor, "user.role", f"user #{user_id} is now {kind.value}" + (f" of {member_id}" if member_id else ""))


def set_disabled(conn: Connection, user_id: int, disabled: bool, actor: str) -> None:
    _change(conn, user_id, disabled=disabled)
    if disabled:
        _end_sessions(conn, user_id)
    audit(conn, actor, "user.disable" if disabled else "user.enable", f"user #{user_id}")


def _end_sessions(conn: Connection, user_id: int) -> None:
    s = schema.sessions
    conn.execute(update(s).where(s.c.user_id == user_id, s.c.ended_at.is_(None)).values(ended_at=now()))


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    email: str
    role: Role
    member_id: str | None
    disabled: bool

    def caller(self) -> Caller:
        return Caller(self.id, self.email, self.role, self.member_id)


def accounts(conn: Connection) -> list[Account]:
    u = schema.users
    return [Account(r.id, r.email, Role(r.role), r.member_id, r.disabled)
            for r in conn.execute(select(u).order_by(u.c.email))]


def account_by_email(conn: Connection, email: str) -> Account | None:
    u = schema.users
    r = conn.execute(select(u).where(u.c.email == email.strip().lower())).first()
    return None if r is None else Account(r.id, r.email, Role(r.role), r.member_id, r.disabled)


# -- login ------------------------------------------------------------------------------------

def _failures(conn: Connection, subject: str) -> int:
    f = schema.login_failures
    return int(conn.scalar(select(func.count()).select_from(f)
                           .where(f.c.subject == subject, f.c.at >= now() - WINDOW)) or 0)


def check_password(conn: Connection, email: str, password: str, address: str) -> Caller | None:
    """The account, if the password is right and logins are not throttled; `Throttled` otherwise."""
    email = email.strip().lower()[:254]
    subjects = (f"email:{email}", f"address:{address}")
    if _failures(conn, subjects[0]) >= MAX_FAILURES or _failures(conn, subjects[1]) >= 4 * MAX_FAILURES:
        raise Throttled(f"too many failed logins: wait {int(WINDOW.total_seconds() // 60)} minutes")
    u = schema.users
    row = conn.execute(select(u).where(u.c.email == email)).first()
    good = False
    try:
        # A missing account is checked against a dummy hash all the same: the time does not tell.
        _HASHER.verify(row.password_hash if row is not None else _DUMMY, password)
        good = row is not None and not row.disabled
    except (VerificationError, InvalidHashError):
        good = False
    if not good:
        conn.execute(insert(schema.login_failures), [{"subject": s[:300], "at": now()} for s in subjects])
        return None
    assert row is not None
    return Caller(row.id, row.email, Role(row.role), row.member_id)


_DUMMY = _HASHER.hash("not a password: what a missing account is checked against")


# -- sessions ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Session:
    id: str  # the secret: only in the browser's cookie
    csrf: str
    caller: Caller | None


def start_session(conn: Connection, caller: Caller | None, ending: str | None = None) -> Session:
    """A new session (anonymous, for the login form, or the caller's); ends `ending`, the one before."""
    if ending is not None:
        s = schema.sessions
        conn.execute(update(s).where(s.c.id_hash == digest(ending), s.c.ended_at.is_(None)).values(ended_at=now()))
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    moment = now()
    conn.execute(insert(schema.sessions), {"id_hash": digest(session_id), "user_id": caller.user_id if caller else None,
                                           "csrf": csrf, "created_at": moment, "last_seen": moment})
    if caller is not None:
        audit(conn, caller.email, "session.login", "signed in")
    return Session(session_id, csrf, caller)


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
    caller: Caller | None
    disabled: bool


def session_record(conn: Connection, id_hash: str) -> SessionRecord | None:
    s, u = schema.sessions, schema.users
    row = conn.execute(select(s, u.c.email, u.c.role, u.c.member_id, u.c.disabled)
                       .select_from(s.outerjoin(u, u.c.id == s.c.user_id))
                       .where(s.c.id_hash == id_hash)).first()
    if row is None:
        return None
    caller = None if row.user_id is None else Caller(row.user_id, row.email, Role(row.role), row.member_id)
    return SessionRecord(row.csrf, _aware(row.last_seen), row.ended_at is not None, caller, bool(row.disabled))


def lookup(session_id: str, record: SessionRecord | None, moment: datetime) -> Lookup:
    """The live session of this id at `moment`, with its account if signed in, and what to write:
    only reads went before, so a page's requests never queue for the write lock, and
    `record_lookup` writes the rare change in a transaction of its own."""
    if record is None or record.ended:
        return Lookup(None)
    seen = moment - record.last_seen
    if seen > IDLE or (record.caller is not None and record.disabled):
        return Lookup(None, end=True)
    return Lookup(Session(session_id, record.csrf, record.caller), seen=seen > SEEN_EVERY)


def record_lookup(conn: Connection, session_id: str, lookup: Lookup) -> None:
    s = schema.sessions
    where = (s.c.id_hash == digest(session_id)) & s.c.ended_at.is_(None)
    if lookup.end:
        conn.execute(update(s).where(where).values(ended_at=now()))
    elif lookup.seen:
        conn.execute(update(s).where(where).values(last_seen=now()))


def end_session(conn: Connection, session_id: str) -> None:
    s = schema.sessions
    conn.execute(update(s).where(s.c.id_hash == digest(session_id)).values(ended_at=now()))


def csrf_matches(session: Session, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(session.csrf, token)


# -- API tokens -------------------------------------------------------------------------------

def create_token(conn: Connection, email: str, name: str, actor: str) -> tuple[str, str]:
    """(id, secret) of a new personal token; the secret is shown once and never stored."""
    account = account_by_email(conn, email)
    if account is None:
        raise AccountError(f"no account {email}")
    token_id, secret = "t_" + secrets.token_hex(8), "cae_" + secrets.token_urlsafe(32)
    conn.execute(insert(schema.api_tokens), {"id": token_id, "user_id": account.id, "name": name[:100] or "token",
                                             "secret_hash": digest(secret), "created_at": now()})
    audit(conn, actor, "token.create", f"{token_id} for {account.email} ({name})")
    return token_id, secret


def revoke_token(conn: Connection, token_id: str, actor: str) -> None:
    t = schema.api_tokens
    done = conn.execute(update(t).where(t.c.id == token_id, t.c.revoked_at.is_(None)).values(revoked_at=now()))
    if not done.rowcount:
        raise AccountError(f"no live token {token_id}")
    audit(conn, actor, "token.revoke", token_id)


def caller_of_digest(conn: Connection, secret_hash: str) -> Caller | None:
    """The account of a live token, by the token's hash."""
    t, u = schema.api_tokens, schema.users
    row = conn.execute(select(u.c.id, u.c.email, u.c.role, u.c.member_id)
                       .select_from(t.join(u, u.c.id == t.c.user_id))
                       .where(t.c.secret_hash == secret_hash, t.c.revoked_at.is_(None),
                              u.c.disabled.is_(False))).first()
    return None if row is None else Caller(row.id, row.email, Role(row.role), row.member_id)


def tokens_of(conn: Connection, user_id: int) -> list[tuple[str, str, datetime, datetime | None]]:
    t = schema.api_tokens
    return [(r.id, r.name, r.created_at, r.revoked_at)
            for r in conn.execute(select(t).where(t.c.user_id == user_id).order_by(t.c.created_at))]


# -- the key that signs cookies --------------------------------------------------------------

def signing_key(conn: Connection) -> str:
    w = schema.web_settings
    found = conn.scalar(select(w.c.value).where(w.c.name == "session_key"))
    if found is None:
        insert_new(conn, w, {"name": "session_key", "value": secrets.token_urlsafe(48)})
        found = conn.scalar(select(w.c.value).where(w.c.name == "session_key"))
    return str(found)
