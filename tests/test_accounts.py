"""Issue 14, points 6 and 7, below the pages: sessions and failed logins purged when past use (and the
database refusing any other delete), the throttle that holds back an address and never the owner,
passwords changed and reset, on SQLite and on PostgreSQL as the application's role.
"""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from ledger import schema
from tests.kafka_fixtures import CAE
from web import accounts, sessions, throttle
from web.access import Caller

OWNER, STRANGER, OTHER = "203.0.113.10", "198.51.100.66", "192.0.2.7"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin(engine: Engine) -> Caller:
    with engine.begin() as conn:
        accounts.add_user(conn, "admin@coop.test", PASSWORD, "admin", None, "tests")
        found = accounts.account_by_email(conn, "admin@coop.test")
    assert found is not None
    return found.caller()


def sign_in(engine: Engine, password: str, address: str, email: str = "admin@coop.test") -> sessions.Session | None:
    with engine.begin() as conn:
        return accounts.sign_in(conn, email, password, address)


def count(engine: Engine, table: str, where: str = "1 = 1") -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM {table} WHERE {where}")) or 0)


# -- point 6: the purge -------------------------------------------------------------------------

def test_the_purge_deletes_what_is_past_use_and_keeps_the_rest(engine: Engine, admin: Caller) -> None:
    moment = sessions.now()
    day, hour = sessions.KEPT, timedelta(hours=1)
    s, f = schema.sessions, schema.login_failures
    with engine.begin() as conn:
        live = sessions.start(conn, admin, False)
        idle, ended_long_ago, ended_lately = (sessions.start(conn, admin, False) for _ in range(3))
        conn.execute(update(s).where(s.c.id_hash == sessions.digest(idle.id or "")).values(last_seen=moment - 2 * day))
        for gone, when in ((ended_long_ago, moment - 2 * day), (ended_lately, moment - hour)):
            conn.execute(update(s).where(s.c.id_hash == sessions.digest(gone.id or "")).values(ended_at=when))
        conn.execute(insert(f), [{"subject": "email:x@coop.test", "at": moment - 2 * day},
                                 {"subject": "email:x@coop.test", "at": moment - hour}])
    with engine.begin() as conn:  # as the application's role on PostgreSQL (granted DELETE, revision 0008)
        purged = sessions.purge(conn, moment)
    assert (purged.sessions, purged.failures) == (1, 1)
    with engine.connect() as conn:
        left = {r.id_hash: r.ended_at for r in conn.execute(select(s))}
        failures = list(conn.scalars(select(f.c.at)))
    assert set(left) == {sessions.digest(x.id or "") for x in (live, idle, ended_lately)}
    assert left[sessions.digest(idle.id or "")] is not None  # idle past 30 minutes: ended now, deleted in a day
    assert left[sessions.digest(live.id or "")] is None and len(failures) == 1
    with engine.begin() as conn:
        again = sessions.purge(conn, moment + 2 * day)  # a day on: the idle one goes too
    assert again.sessions == 2


def test_the_database_refuses_to_delete_a_live_session_or_a_recent_failure(engine: Engine, owner: Engine,
                                                                             admin: Caller) -> None:
    with engine.begin() as conn:
        sessions.start(conn, admin, False)
        throttle.record_failure(conn, "admin@coop.test", STRANGER, sessions.now())
    for statement, message in (("DELETE FROM sessions", "live session is never deleted"),
                               ("DELETE FROM login_failures", "append-only")):
        for who in (engine, owner):  # the application's role, and the tables' owner (PostgreSQL)
            with pytest.raises(DBAPIError, match=message):
                with who.begin() as conn:
                    conn.execute(text(statement))
    with pytest.raises(DBAPIError, match="append-only"):  # (the application's role may not even try)
        with owner.begin() as conn:
            conn.execute(text("UPDATE login_failures SET subject = 'email:someone@else.test'"))
    if engine.dialect.name == "postgresql":
        for table in ("sessions", "login_failures"):
            with pytest.raises(DBAPIError, match="append-only"):
                with owner.begin() as conn:
                    conn.execute(text(f"TRUNCATE {table}"))
    assert (count(engine, "sessions"), count(engine, "login_failures")) == (1, 3)


# -- point 7: the throttle ------------------------------------------------------------------------

def test_a_stranger_failing_on_an_account_does_not_keep_its_owner_out(engine: Engine, admin: Caller) -> None:
    for _ in range(throttle.MAX_FAILURES):
        assert sign_in(engine, "a wrong guess", STRANGER) is None
    for password in ("a wrong guess", PASSWORD):  # the stranger's address is held back, right password or not
        with pytest.raises(throttle.Throttled):
            sign_in(engine, password, STRANGER)
    session = sign_in(engine, PASSWORD, OWNER)  # the owner, from an address that has not failed, gets in
    assert session is not None and session.caller == admin


def test_a_guess_spread_over_many_addresses_gets_one_try_per_address(engine: Engine, admin: Caller) -> None:
    assert sign_in(engine, "a wrong guess", STRANGER) is None
    for n in range(throttle.UNDER_ATTACK - 1):
        assert sign_in(engine, "a wrong guess", f"10.0.{n // 250}.{n % 250 + 1}") is None
    with pytest.raises(throttle.Throttled):  # the account is being guessed: an address that failed waits
        sign_in(engine, PASSWORD, STRANGER)
    assert sign_in(engine, "another guess", "10.9.9.9") is None  # a fresh address gets its one try
    with pytest.raises(throttle.Throttled):
        sign_in(engine, "a third guess", "10.9.9.9")
    assert sign_in(engine, PASSWORD, OWNER) is not None  # and the owner still gets in


def test_one_address_failing_on_many_accounts_is_held_back_from_all(engine: Engine, admin: Caller) -> None:
    for n in range(throttle.PER_ADDRESS):
        assert sign_in(engine, "a guess", STRANGER, email=f"nobody{n}@coop.test") is None
    with pytest.raises(throttle.Throttled):
        sign_in(engine, PASSWORD, STRANGER)
    assert sign_in(engine, PASSWORD, OTHER) is not None


def test_failures_older_than_the_window_no_longer_count(engine: Engine, admin: Caller) -> None:
    with engine.begin() as conn:
        for _ in range(throttle.MAX_FAILURES):
            throttle.record_failure(conn, "admin@coop.test", STRANGER, sessions.now() - throttle.WINDOW - timedelta(1))
    assert sign_in(engine, PASSWORD, STRANGER) is not None


# -- point 7: passwords -------------------------------------------------------------------------

def live(engine: Engine, user_id: int) -> tuple[int, int]:
    """The account's live sessions and live tokens."""
    return (count(engine, "sessions", f"user_id = {user_id} AND ended_at IS NULL"),
            count(engine, "api_tokens", f"user_id = {user_id} AND revoked_at IS NULL"))


def test_changing_ones_password_ends_every_session_and_token(engine: Engine, admin: Caller) -> None:
    for _ in range(2):
        assert sign_in(engine, PASSWORD, OWNER) is not None
    with engine.begin() as conn:
        accounts.create_token(conn, admin.email, "script", "tests")
    assert live(engine, admin.user_id) == (2, 1)
    with pytest.raises(accounts.WrongPassword):
        with engine.begin() as conn:
            accounts.change_password(conn, admin.email, "not my password", "a brand new passphrase", OWNER, "tests")
    with pytest.raises(accounts.AccountError, match="12 characters"):
        with engine.begin() as conn:
            accounts.change_password(conn, admin.email, PASSWORD, "too short", OWNER, "tests")
    assert live(engine, admin.user_id) == (2, 1)
    with engine.begin() as conn:
        accounts.change_password(conn, admin.email, PASSWORD, "a brand new passphrase", OWNER, "tests")
    assert live(engine, admin.user_id) == (0, 0)
    assert sign_in(engine, PASSWORD, OTHER) is None
    assert sign_in(engine, "a brand new passphrase", OTHER) is not None


def test_a_reset_gives_a_temporary_password_that_only_leads_to_choosing_one(engine: Engine, admin: Caller) -> None:
    assert sign_in(engine, PASSWORD, OWNER) is not None
    with engine.begin() as conn:
        temporary, until = accounts.reset_password(conn, admin.email, "boss@coop.test")
        stored = conn.scalar(select(schema.users.c.password_hash).where(schema.users.c.id == admin.user_id))
    assert live(engine, admin.user_id) == (0, 0) and temporary not in str(stored) and len(temporary) >= 12
    assert until - sessions.now() > accounts.TEMPORARY_FOR - timedelta(minutes=1)
    assert sign_in(engine, PASSWORD, OWNER) is None  # the old password is gone
    session = sign_in(engine, temporary, OWNER)
    assert session is not None and session.must_change_password
    with engine.begin() as conn:
        accounts.change_password(conn, admin.email, temporary, "my own passphrase now", OWNER, admin.label)
    session = sign_in(engine, "my own passphrase now", OWNER)
    assert session is not None and not session.must_change_password
    with engine.connect() as conn:
        actions = list(conn.scalars(select(schema.audit_log.c.action).order_by(schema.audit_log.c.id)))
    assert actions.count("user.reset") == 1 and actions.count("user.password") == 1


def test_a_temporary_password_left_unused_expires(engine: Engine, owner: Engine, admin: Caller) -> None:
    with engine.begin() as conn:
        temporary, _ = accounts.reset_password(conn, admin.email, "tests")
    with owner.begin() as conn:
        conn.execute(update(schema.users).values(password_temporary_until=sessions.now() - timedelta(minutes=1)))
    with pytest.raises(accounts.TemporaryExpired):
        sign_in(engine, temporary, OWNER)


def test_the_commands_change_and_reset_a_password(db_url: str, engine: Engine, admin: Caller) -> None:
    changed = subprocess.run([CAE, "user", "password", admin.email, "--password-stdin", "--db", db_url, "--json"],
                             input=f"{PASSWORD}\nthe new passphrase\n", capture_output=True, text=True)
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout) == {"email": admin.email, "changed": True}
    wrong = subprocess.run([CAE, "user", "password", admin.email, "--password-stdin", "--db", db_url],
                           input=f"{PASSWORD}\nyet another passphrase\n", capture_output=True, text=True)
    assert wrong.returncode != 0 and "current password is not right" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    reset = subprocess.run([CAE, "user", "reset", admin.email, "--db", db_url, "--json"],
                           capture_output=True, text=True)
    assert reset.returncode == 0, reset.stderr
    made = json.loads(reset.stdout)
    assert set(made) == {"email", "temporary_password", "valid_until"}
    session = sign_in(engine, made["temporary_password"], OWNER)
    assert session is not None and session.must_change_password
    with engine.connect() as conn:
        assert made["temporary_password"] not in str(conn.execute(select(schema.audit_log)).all())
        assert conn.scalar(select(func.count()).select_from(schema.users)) == 1
