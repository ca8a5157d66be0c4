"""When failed logins hold an address back, and never its owner (issue 10; issue 14, point 7).

Counting failures per account and refusing the account past a few would let
anyone who knows an email (the admin's) keep its owner out for ever, with one
wrong try every few minutes. So what is held back is the *address* that fails,
over the last `WINDOW`:

- an address that failed `MAX_FAILURES` times on an account may not try that
  account again for a while, right password or not (a guess from one host);
- an address that failed `4 * MAX_FAILURES` times in all may not try any
  account (one host trying many; several people may share an address, hence
  the room);
- an account that failed `UNDER_ATTACK` times from anywhere is being guessed
  from many hosts: then an address that has failed on it even once is held
  back from it, so a spread-out guess gets one try per address and window.

An address that has not failed on the account gets in with the right password,
whatever strangers did meanwhile: the owner, at home or at the office, is not
locked out. Failures are stored per account, per address and per pair (the
pair as a hash: the email is not written twice); the purge deletes them a day
later (`web.accounts.purge`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select

from engine.messages import Refused
from ledger import schema

WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5  # per account and address
PER_ADDRESS = 4 * MAX_FAILURES  # per address, all accounts together
UNDER_ATTACK = 4 * MAX_FAILURES  # per account, all addresses together


class Throttled(Refused):
    """Too many failed logins from this address lately: `minutes` to wait, at most."""

    def __init__(self, minutes: int) -> None:
        super().__init__("login.throttled", minutes=minutes)
        self.minutes = minutes


def _subjects(email: str, address: str) -> tuple[str, str, str]:
    pair = hashlib.sha256(f"{email}\n{address}".encode()).hexdigest()
    return f"email:{email}"[:300], f"address:{address}"[:300], f"pair:{pair}"


def _count(conn: Connection, subject: str, since: datetime) -> int:
    f = schema.login_failures
    return int(conn.scalar(select(func.count()).select_from(f).where(f.c.subject == subject, f.c.at >= since)) or 0)


def check(conn: Connection, email: str, address: str, moment: datetime) -> None:
    """Raise `Throttled` if this address may not try this account now (the rules above)."""
    account, by_address, pair = _subjects(email, address)
    since = moment - WINDOW
    tried = _count(conn, pair, since)
    allowed = 1 if _count(conn, account, since) >= UNDER_ATTACK else MAX_FAILURES
    if tried >= allowed or _count(conn, by_address, since) >= PER_ADDRESS:
        raise Throttled(int(WINDOW.total_seconds() // 60))


def record_failure(conn: Connection, email: str, address: str, moment: datetime) -> None:
    conn.execute(insert(schema.login_failures), [{"subject": s, "at": moment} for s in _subjects(email, address)])
