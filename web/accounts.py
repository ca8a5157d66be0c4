"""Accounts, their passwords, API tokens and the audit log, in the ledger's database.

- passwords are argon2 hashes (argon2-cffi's defaults), 12 characters at least;
- an API token's secret is 256 random bits, stored as its SHA-256: a reader of
  the tables can sign in as nobody (sessions alike: `web.sessions`);
- a failed login holds back the address that failed, never the account's owner
  elsewhere (`web.throttle`; issue 14, point 7);
- a person changes their own password, giving the current one; an admin resets
  one to a temporary password, shown once, that signs in for `TEMPORARY_FOR`
  and only to choose a new one. Either way every session and token of the
  account ends: whoever held the old password holds nothing more;
- every write made through an account is in the audit log, with who.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from engine.messages import Refused
from ledger import schema
from ledger.bulk import insert_new
from web import sessions, throttle
from web.access import Caller, Role
from web.sessions import Session, aware, digest, now

MIN_LENGTH = 12
TEMPORARY_FOR = timedelta(days=3)  # a reset password left unused stops working then
_HASHER = PasswordHasher()
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountError(Refused):
    """An account that cannot be made or changed as asked: a catalogue message, in English for the
    CLI and the API, in French on the pages."""


class WrongPassword(AccountError):
    """The current password given to change it is not the account's."""


class TemporaryExpired(AccountError):
    """A temporary password, right but past its time."""


def audit(conn: Connection, actor: str, action: str, detail: str) -> None:
    conn.execute(insert(schema.audit_log), {"at": now(), "actor": actor[:300], "action": action[:60],
                                            "detail": detail})


def _hash_new(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise AccountError("account.short_password", least=MIN_LENGTH)
    return _HASHER.hash(password)


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# -- users ------------------------------------------------------------------------------------

def add_user(conn: Connection, email: str, password: str, role: str, member_id: str | None, actor: str) -> int:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise AccountError("account.bad_email", email=email)
    kind = _role_of(conn, role, member_id)
    password_hash = _hash_new(password)
    if conn.scalar(select(schema.users.c.id).where(schema.users.c.email == email)) is not None:
        raise AccountError("account.taken", email=email)
    user_id = conn.execute(insert(schema.users).returning(schema.users.c.id), {
        "email": email, "password_hash": password_hash, "role": kind.value, "member_id": member_id,
        "disabled": False, "created_at": now()}).scalar_one()
    audit(conn, actor, "user.add", f"{email} as {kind.value}" + (f" of {member_id}" if member_id else ""))
    return int(user_id)


def _role_of(conn: Connection, role: str, member_id: str | None) -> Role:
    """The role asked for, checked with the member it names: AccountError, never a database error."""
    try:
        kind = Role(role)
    except ValueError:
        raise AccountError("account.bad_role", role=role) from None
    if (kind is Role.MEMBER) != (member_id is not None):
        raise AccountError("account.member_role")
    if member_id is not None and conn.scalar(select(schema.members.c.member_id)
                                             .where(schema.members.c.member_id == member_id)) is None:
        raise AccountError("account.unknown_member", member=member_id)
    return kind


def _change(conn: Connection, user_id: int, **values: object) -> None:
    """Change an account, or AccountError when there is none: no audit row for a change not made."""
    u = schema.users
    if not conn.execute(update(u).where(u.c.id == user_id).values(**values)).rowcount:
        raise AccountError("account.no_id", user=user_id)


def set_role(conn: Connection, user_id: int, role: str, member_id: str | None, actor: str) -> None:
    kind = _role_of(conn, role, member_id)
    _change(conn, user_id, role=kind.value, member_id=member_id)
    sessions.end_all(conn, user_id)  # the new role applies from the next login
    audit(conn, actor, "user.role", f"user #{user_id} is now {kind.value}" + (f" of {member_id}" if member_id else ""))


def set_disabled(conn: Connection, user_id: int, disabled: bool, actor: str) -> None:
    _change(conn, user_id, disabled=disabled)
    if disabled:
        sessions.end_all(conn, user_id)
    audit(conn, actor, "user.disable" if disabled else "user.enable", f"user #{user_id}")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    email: str
    role: Role
    member_id: str | None
    disabled: bool
    temporary_until: datetime | None  # set while the password is a temporary one (`reset_password`)

    def caller(self) -> Caller:
        return Caller(self.id, self.email, self.role, self.member_id)


def accounts(conn: Connection) -> list[Account]:
    u = schema.users
    return [_account(r) for r in conn.execute(select(u).order_by(u.c.email))]


def account_by_email(conn: Connection, email: str) -> Account | None:
    u = schema.users
    r = conn.execute(select(u).where(u.c.email == email.strip().lower())).first()
    return None if r is None else _account(r)


def _account(r: Any) -> Account:
    until = None if r.password_temporary_until is None else aware(r.password_temporary_until)
    return Account(r.id, r.email, Role(r.role), r.member_id, r.disabled, until)


# -- signing in and passwords ------------------------------------------------------------------

def sign_in(conn: Connection, email: str, password: str, address: str, ending: str | None = None) -> Session | None:
    """The account's new session if the password is right; None if not (the failure recorded).

    `Throttled` when this address may not try now (`web.throttle`), `TemporaryExpired` for a
    temporary password past its time. `ending`: the session the browser came with.
    """
    email = email.strip().lower()[:254]
    moment = now()
    throttle.check(conn, email, address, moment)
    u = schema.users
    row = conn.execute(select(u).where(u.c.email == email)).first()
    # A missing account is checked against a dummy hash all the same: the time does not tell.
    if not _verifies(row.password_hash if row is not None else _DUMMY, password) or row is None or row.disabled:
        throttle.record_failure(conn, email, address, moment)
        return None
    account = _account(row)
    if account.temporary_until is not None and account.temporary_until <= moment:
        raise TemporaryExpired("account.expired", email=email)
    session = sessions.start(conn, account.caller(), account.temporary_until is not None, ending)
    audit(conn, email, "session.login", "signed in" + (" with a temporary password" if account.temporary_until else ""))
    return session


_DUMMY = _HASHER.hash("not a password: what a missing account is checked against")


def change_password(conn: Connection, email: str, current: str, new: str, address: str, actor: str) -> None:
    """A person's own password changed, given the current one (throttled like a login: a session
    left open is not a way to guess it). Ends every session and token of the account."""
    email = email.strip().lower()[:254]
    moment = now()
    throttle.check(conn, email, address, moment)
    u = schema.users
    row = conn.execute(select(u).where(u.c.email == email)).first()
    if row is None or not _verifies(row.password_hash, current):
        throttle.record_failure(conn, email, address, moment)
        raise WrongPassword("account.wrong_password")
    if new == current:
        raise AccountError("account.same_password")
    _replace_password(conn, row.id, _hash_new(new), None)
    audit(conn, actor, "user.password", f"{email} changed their password; sessions and tokens ended")


def reset_password(conn: Connection, email: str, actor: str) -> tuple[str, datetime]:
    """An admin's reset: a temporary password (shown once, never stored) and until when it works.
    Ends every session and token of the account; at the next login, the person chooses their own."""
    account = account_by_email(conn, email)
    if account is None:
        raise AccountError("account.no_email", email=email)
    temporary, until = secrets.token_urlsafe(12), now() + TEMPORARY_FOR  # 16 characters, 96 random bits
    _replace_password(conn, account.id, _HASHER.hash(temporary), until)
    audit(conn, actor, "user.reset", f"{account.email}: temporary password until {until:%Y-%m-%d %H:%M} UTC; "
                                     "sessions and tokens ended")
    return temporary, until


def _replace_password(conn: Connection, user_id: int, password_hash: str, temporary_until: datetime | None) -> None:
    u, t = schema.users, schema.api_tokens
    conn.execute(update(u).where(u.c.id == user_id).values(password_hash=password_hash,
                                                          password_temporary_until=temporary_until))
    sessions.end_all(conn, user_id)
    conn.execute(update(t).where(t.c.user_id == user_id, t.c.revoked_at.is_(None)).values(revoked_at=now()))


# -- API tokens -------------------------------------------------------------------------------

def create_token(conn: Connection, email: str, name: str, actor: str) -> tuple[str, str]:
    """(id, secret) of a new personal token; the secret is shown once and never stored."""
    account = account_by_email(conn, email)
    if account is None:
        raise AccountError("account.no_email", email=email)
    token_id, secret = "t_" + secrets.token_hex(8), "cae_" + secrets.token_urlsafe(32)
    conn.execute(insert(schema.api_tokens), {"id": token_id, "user_id": account.id, "name": name[:100] or "token",
                                             "secret_hash": digest(secret), "created_at": now()})
    audit(conn, actor, "token.create", f"{token_id} for {account.email} ({name})")
    return token_id, secret


def revoke_token(conn: Connection, token_id: str, actor: str) -> None:
    t = schema.api_tokens
    done = conn.execute(update(t).where(t.c.id == token_id, t.c.revoked_at.is_(None)).values(revoked_at=now()))
    if not done.rowcount:
        raise AccountError("account.no_token", token=token_id)
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
