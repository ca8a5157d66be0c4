"""DOMAIN.md's ledger invariants, as the database's own triggers.

Python checks these too, but only the database sees every writer (a script, a
second worker, a hand-typed SQL fix), so the database has the last word:

- an entry balances and has at least two lines: its lines are inserted first,
  then the entry, whose insert trigger sums them; lines cannot be added to an
  entry already there, and the lines' deferred foreign key refuses at commit
  any line left without its entry;
- nothing posted is updated or deleted (a correction is a reversing entry);
- one event id posts at most one set of entries: `processed_events` says how
  many entries the event has, each entry takes a distinct `part` below that;
- nothing is posted into a closed month;
- definitive entry numbers (given when a month is closed) are continuous per
  journal and follow the entries' dates;
- the rules' state is append-only too (invoices, documents, bases' moves), and
  a member's association and departure are set once (revision 0004);
- on SQLite, `INSERT OR REPLACE` cannot rewrite a row by deleting it first,
  whatever the connection's pragmas: a connection that does not set
  `recursive_triggers` (the sqlite3 shell, a script, a database browser) does
  not fire delete triggers for the rows REPLACE removes, so every append-only
  table refuses, before the insert, a row whose key is already taken.

Dates, months and timestamps are checked by each table's CHECK constraints
(`ledger.schema`). The same rules are written twice, once per dialect; the
shared contract tests (tests/test_invariants.py) run against both.
"""

from __future__ import annotations

# The append-only tables that revision 0001 guards; a table added later gets its guards
# from its own revision (`append_only_guards`), so that 0001 keeps building what it built.
INITIAL_APPEND_ONLY = ("entries", "lines", "processed_events", "entry_numbers", "month_locks",
                       "payslips", "governance_events", "member_statuses", "salaries", "documents")
TREASURY_APPEND_ONLY = ("bank_accounts", "bank_statements", "bank_lines", "bank_matches",  # 0009: the bank
                        "member_bank_accounts", "transfer_orders")
TREASURY_LINKS_APPEND_ONLY = ("bank_payment_links", "invoice_clients")  # 0010: payment links, rule 11 b's index
APPEND_ONLY = INITIAL_APPEND_ONLY + ("payslip_revisions", "runs",  # 0003: corrections, run records
                                     "invoices", "base_moves", "dead_letter_history",  # 0004: the rules' state
                                     "login_failures", "audit_log", "web_settings",  # 0005: the web's records
                                     *TREASURY_APPEND_ONLY, *TREASURY_LINKS_APPEND_ONLY)

_SQLITE_CHECKS = [
    """CREATE TRIGGER lines_entry_not_posted BEFORE INSERT ON lines
       WHEN EXISTS (SELECT 1 FROM entries WHERE id = NEW.entry_id)
       BEGIN SELECT RAISE(ABORT, 'entry already posted: a line cannot be added to it'); END""",
    """CREATE TRIGGER entries_balanced BEFORE INSERT ON entries
       WHEN (SELECT count(*) < 2 OR sum(amount) <> 0 FROM lines WHERE entry_id = NEW.id)
       BEGIN SELECT RAISE(ABORT, 'unbalanced entry: debits and credits differ or fewer than 2 lines'); END""",
    """CREATE TRIGGER entries_one_set BEFORE INSERT ON entries
       WHEN NEW.part >= coalesce((SELECT entry_count FROM processed_events
                                  WHERE event_id = NEW.event_id), 0)
       BEGIN SELECT RAISE(ABORT, 'event already posted its entries'); END""",
    """CREATE TRIGGER entries_open_month BEFORE INSERT ON entries
       WHEN EXISTS (SELECT 1 FROM month_locks WHERE month >= strftime('%Y-%m', NEW.entry_date))
       BEGIN SELECT RAISE(ABORT, 'month closed: nothing can be posted into it'); END""",
    """CREATE TRIGGER entry_numbers_continuous BEFORE INSERT ON entry_numbers
       WHEN NEW.number <> coalesce((SELECT max(number) FROM entry_numbers
                                    WHERE journal = NEW.journal), 0) + 1
         OR NEW.journal <> (SELECT journal FROM entries WHERE id = NEW.entry_id)
         OR (SELECT entry_date FROM entries WHERE id = NEW.entry_id) <
            coalesce((SELECT e.entry_date FROM entry_numbers n JOIN entries e ON e.id = n.entry_id
                      WHERE n.journal = NEW.journal AND n.number = NEW.number - 1), '0000-00-00')
       BEGIN SELECT RAISE(ABORT, 'entry numbers must be continuous and chronological per journal'); END""",
]


def _posting_checks(posted: str, unbalanced: str, repeated: str) -> list[str]:
    """PostgreSQL's posting checks, which run once per statement over its transition table (a
    batch of thousands of entries is checked by one query, not one each): a line added to an
    entry already posted, an entry unbalanced or with fewer than 2 lines, more entries than its
    event posted, an entry in a closed month. Each argument is the query that finds a fault."""
    return [
        f"""CREATE OR REPLACE FUNCTION cae_lines_entry_not_posted() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS ({posted}) THEN
           RAISE EXCEPTION 'entry already posted: a line cannot be added to it';
         END IF;
         RETURN NULL;
       END $$""",
        f"""CREATE OR REPLACE FUNCTION cae_entries_checks() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS ({unbalanced}) THEN
           RAISE EXCEPTION 'unbalanced entry: debits and credits differ or fewer than 2 lines';
         END IF;
         IF EXISTS ({repeated}) THEN
           RAISE EXCEPTION 'event already posted its entries';
         END IF;
         IF EXISTS (SELECT 1 FROM new_entries n JOIN month_locks m
                    ON m.month >= to_char(n.entry_date, 'YYYY-MM')) THEN
           RAISE EXCEPTION 'month closed: nothing can be posted into it';
         END IF;
         RETURN NULL;
       END $$""",
    ]


_POSTING_CHECKS_0001 = _posting_checks(
    posted="SELECT 1 FROM new_lines n JOIN entries e ON e.id = n.entry_id",
    unbalanced="""SELECT 1 FROM new_entries n LEFT JOIN lines l ON l.entry_id = n.id
                    GROUP BY n.id HAVING count(l.id) < 2 OR coalesce(sum(l.amount), 0) <> 0""",
    repeated="""SELECT 1 FROM new_entries n LEFT JOIN processed_events p ON p.event_id = n.event_id
                    WHERE n.part >= coalesce(p.entry_count, 0)""")

_PG_FUNCTIONS = [
    """CREATE FUNCTION cae_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only: post a reversing entry instead', TG_TABLE_NAME; END $$""",
    *_POSTING_CHECKS_0001,
    """CREATE FUNCTION cae_entry_number_checks() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM pg_advisory_xact_lock(hashtext('entry_numbers:' || NEW.journal));
         IF NEW.number <> coalesce((SELECT max(number) FROM entry_numbers
                                    WHERE journal = NEW.journal), 0) + 1
            OR NEW.journal <> (SELECT journal FROM entries WHERE id = NEW.entry_id)
            OR (SELECT entry_date FROM entries WHERE id = NEW.entry_id) <
               coalesce((SELECT e.entry_date FROM entry_numbers n JOIN entries e ON e.id = n.entry_id
                         WHERE n.journal = NEW.journal AND n.number = NEW.number - 1), DATE '0001-01-01')
         THEN
           RAISE EXCEPTION 'entry numbers must be continuous and chronological per journal';
         END IF;
         RETURN NEW;
       END $$""",
]

_PG_CHECKS = [
    "CREATE TRIGGER lines_entry_not_posted AFTER INSERT ON lines REFERENCING NEW TABLE AS new_lines "
    "FOR EACH STATEMENT EXECUTE FUNCTION cae_lines_entry_not_posted()",
    "CREATE TRIGGER entries_checks AFTER INSERT ON entries REFERENCING NEW TABLE AS new_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION cae_entries_checks()",
    "CREATE TRIGGER entry_numbers_checks BEFORE INSERT ON entry_numbers "
    "FOR EACH ROW EXECUTE FUNCTION cae_entry_number_checks()",
]


def posting_checks_0001() -> list[str]:
    """Revision 0001's posting checks (for revision 0018's way down): each batch joined to the
    whole `lines` and `processed_events` tables, which PostgreSQL hashed whole as they grew."""
    return list(_POSTING_CHECKS_0001)


def posting_checks_0018() -> list[str]:
    """Revision 0018's: each new entry's own lines (`ix_lines_entry` holds their amounts) and own
    event, each new line's entry, looked up by index. A lateral or a scalar subquery cannot be
    turned into a join over the whole table, so a batch costs what it holds, whatever the size
    of the ledger. The same faults are found (tests/test_invariants.py)."""
    return _posting_checks(
        posted="SELECT 1 FROM new_lines n WHERE (SELECT true FROM entries e WHERE e.id = n.entry_id)",
        unbalanced="""SELECT 1 FROM new_entries n
                CROSS JOIN LATERAL (SELECT count(*) AS lines, coalesce(sum(l.amount), 0) AS total
                                    FROM lines l WHERE l.entry_id = n.id) own
                WHERE own.lines < 2 OR own.total <> 0""",
        repeated="""SELECT 1 FROM new_entries n
                WHERE n.part >= coalesce((SELECT p.entry_count FROM processed_events p
                                          WHERE p.event_id = n.event_id), 0)""")


def append_only_guards(dialect: str, tables: tuple[str, ...]) -> list[str]:
    """The triggers that refuse any update or delete of these tables' rows.

    On PostgreSQL they call `cae_append_only()`, which revision 0001 creates.
    """
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: post a reversing entry instead'); END"
            for table in tables for verb in ("update", "delete")
        ]
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cae_append_only()"
            for table in tables
        ]
    raise ValueError(f"no ledger invariants written for the {dialect} dialect")


def replace_guards(dialect: str, keys: dict[str, tuple[tuple[str, ...], ...]],
                   quietly: tuple[str, ...] = ()) -> list[str]:
    """SQLite: per table, a BEFORE INSERT trigger refusing a row whose key (any of `keys`) is taken.

    `INSERT OR REPLACE` resolves a conflict by deleting the row in the way, and
    without `PRAGMA recursive_triggers` that delete fires no trigger; a trigger
    before the insert runs before the conflict is resolved, pragma or not.
    The tables in `quietly` skip such a row instead (the dead letters: the same
    bytes rejected twice make one letter). PostgreSQL has no REPLACE.
    """
    if dialect != "sqlite":
        return []
    statements = []
    for table, table_keys in keys.items():
        taken = " OR ".join(
            f"EXISTS (SELECT 1 FROM {table} WHERE " + " AND ".join(f"{c} = NEW.{c}" for c in key) + ")"
            for key in table_keys)
        action = ("RAISE(IGNORE)" if table in quietly else
                  f"RAISE(ABORT, '{table} is append-only: a row with this unique key is already recorded, "
                  "and a recorded row is never replaced')")
        statements.append(f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN {taken} "
                          f"BEGIN SELECT {action}; END")
    return statements


# Columns that never change once written; `members` may set associate_on and left_on
# once each (from NULL), `dead_letters` its status once (from pending).
_MEMBERS_FIXED = ("member_id", "name", "joined_on")
_MEMBERS_ONCE = ("associate_on", "left_on")
LETTERS_FIXED_0004 = ("id", "raw", "raw_sha256", "event_id", "reason", "source", "received_at")
# Revision 0013: the reason's catalogue code (revision 0012) is as fixed as its English text.
LETTERS_FIXED = LETTERS_FIXED_0004 + ("reason_code",)
_MEMBER_MESSAGE = "members: a recorded fact never changes (association and departure are set once)"
_LETTER_MESSAGE = "dead_letters: a letter keeps its bytes and first reason, and is settled once"


def write_once_guards(dialect: str) -> list[str]:
    """The members' facts set once, the dead letters settled once; neither deleted (revision 0004)."""
    members = " OR ".join([f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _MEMBERS_FIXED]
                          + [f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})"
                             for c in _MEMBERS_ONCE])
    if dialect == "sqlite":
        sqlite_members = members.replace("IS DISTINCT FROM", "IS NOT")
        return [
            f"CREATE TRIGGER members_write_once BEFORE UPDATE ON members WHEN {sqlite_members} "
            f"BEGIN SELECT RAISE(ABORT, '{_MEMBER_MESSAGE}'); END",
            *dead_letter_guard(dialect, LETTERS_FIXED_0004),
        ] + no_delete_guards(dialect, ("members", "dead_letters"))
    if dialect == "postgresql":
        return [
            "CREATE FUNCTION cae_members_write_once() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {members} THEN RAISE EXCEPTION '{_MEMBER_MESSAGE}'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER members_write_once BEFORE UPDATE ON members "
            "FOR EACH ROW EXECUTE FUNCTION cae_members_write_once()",
            *dead_letter_guard(dialect, LETTERS_FIXED_0004),
            "CREATE TRIGGER dead_letters_settle_once BEFORE UPDATE ON dead_letters "
            "FOR EACH ROW EXECUTE FUNCTION cae_dead_letters_settle_once()",
        ] + no_delete_guards(dialect, ("members", "dead_letters"))
    raise ValueError(f"no ledger invariants written for the {dialect} dialect")


def dead_letter_guard(dialect: str, fixed: tuple[str, ...]) -> list[str]:
    """A dead letter's `fixed` columns never change, its status once from pending: SQLite's
    trigger, or PostgreSQL's function (its trigger, which names it, is made once, in 0004).

    Revisions name their columns: 0004's had no `reason_code` yet; 0013 makes the guard again
    with it, so that a hand-written UPDATE cannot give a letter another reason in French."""
    letters = " OR ".join([f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in fixed] + ["OLD.status <> 'pending'"])
    if dialect == "sqlite":
        return [f"CREATE TRIGGER dead_letters_settle_once BEFORE UPDATE ON dead_letters "
                f"WHEN {letters.replace('IS DISTINCT FROM', 'IS NOT')} "
                f"BEGIN SELECT RAISE(ABORT, '{_LETTER_MESSAGE}'); END"]
    return ["CREATE OR REPLACE FUNCTION cae_dead_letters_settle_once() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF {letters} THEN RAISE EXCEPTION '{_LETTER_MESSAGE}'; END IF; RETURN NEW; END $$"]


def no_delete_guards(dialect: str, tables: tuple[str, ...]) -> list[str]:
    """Rows that may change (a member's facts, a session ending) but are never deleted."""
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are never deleted'); END" for table in tables]
    return [f"CREATE TRIGGER {table}_no_delete BEFORE DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION cae_append_only()" for table in tables]


# Revision 0008 (issue 14, point 6): what the web keeps only for a while is purged, and only then.
FAILURES_KEPT = "1 hour"  # a failed login younger than this may count for the throttle (15 minutes)
_PURGE_MESSAGES = {
    "sessions": "sessions: a live session is never deleted (it ends first)",
    "login_failures": f"login_failures is append-only: a failed login is deleted once {FAILURES_KEPT} old, not before",
}
_PURGEABLE_WHEN = {  # table -> (SQLite, PostgreSQL): the rows that may NOT be deleted
    "sessions": ("OLD.ended_at IS NULL", "OLD.ended_at IS NULL"),
    "login_failures": (f"datetime(OLD.at) > datetime('now', '-{FAILURES_KEPT}')",
                       f"OLD.at > now() - interval '{FAILURES_KEPT}'"),
}


def purge_guards(dialect: str) -> list[str]:
    """`sessions` and `login_failures` lose the rows that are past use, and only those.

    An ended session may be deleted, a live one never; a failed login once it is an hour
    old, when the throttle no longer reads it. Neither table is truncated, and a failed
    login is never rewritten (a session's last use and end do change). Each replaces the
    table's `no_delete` guard of revision 0005; on PostgreSQL the row trigger says why
    with `cae_refuse(message)`.
    """
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} WHEN {when[0]} "
                f"BEGIN SELECT RAISE(ABORT, '{_PURGE_MESSAGES[table]}'); END" for table, when in _PURGEABLE_WHEN.items()]
    if dialect == "postgresql":
        return [
            "CREATE FUNCTION cae_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$",
            "CREATE TRIGGER sessions_no_truncate BEFORE TRUNCATE ON sessions "
            "FOR EACH STATEMENT EXECUTE FUNCTION cae_append_only()",
            "CREATE TRIGGER login_failures_append_only BEFORE UPDATE OR TRUNCATE ON login_failures "
            "FOR EACH STATEMENT EXECUTE FUNCTION cae_append_only()",
        ] + [f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW WHEN ({when[1]}) "
             f"EXECUTE FUNCTION cae_refuse('{_PURGE_MESSAGES[table]}')" for table, when in _PURGEABLE_WHEN.items()]
    raise ValueError(f"no ledger invariants written for the {dialect} dialect")


def statements(dialect: str) -> list[str]:
    """The DDL that installs revision 0001's invariants on a database of this dialect."""
    guards = append_only_guards(dialect, INITIAL_APPEND_ONLY)
    if dialect == "sqlite":
        return guards + _SQLITE_CHECKS
    return _PG_FUNCTIONS + guards + _PG_CHECKS


# Revision 0011 (issue 17, G4): secret ballots. The participation is append-only; the counts
# change, but only by one ballot at a time, never beyond the participation, never downwards.
SECRET_APPEND_ONLY = ("secret_participation", "mail_log")  # and the mail sent to members (point 6)
_COUNTS = ("n_for", "n_against", "n_abstain", "n_blank")
_SUM_NEW, _SUM_OLD = (" + ".join(f"{row}.{c}" for c in _COUNTS) for row in ("NEW", "OLD"))
_ONE_MORE = (" OR ".join(f"NEW.{c} < OLD.{c}" for c in _COUNTS)
             + f" OR NEW.resolution_id <> OLD.resolution_id OR {_SUM_NEW} <> {_SUM_OLD} + 1")
_FROM_ZERO = " OR ".join(f"NEW.{c} <> 0" for c in _COUNTS)
_PARTICIPANTS = "(SELECT count(*) FROM secret_participation WHERE resolution_id = NEW.resolution_id)"
_COUNT_WORDS = ("secret_counts: a ballot adds one to one count, for one more participant recorded; "
                "nothing is taken away")


def secret_count_guards(dialect: str) -> list[str]:
    """`secret_counts` starts at zero, then each ballot adds one to one count, never more ballots
    than `secret_participation` has voters on the resolution; its rows are never deleted."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER secret_counts_from_zero BEFORE INSERT ON secret_counts WHEN {_FROM_ZERO} "
            f"BEGIN SELECT RAISE(ABORT, '{_COUNT_WORDS}'); END",
            f"CREATE TRIGGER secret_counts_one_ballot BEFORE UPDATE ON secret_counts "
            f"WHEN {_ONE_MORE} OR {_SUM_NEW} > {_PARTICIPANTS} "
            f"BEGIN SELECT RAISE(ABORT, '{_COUNT_WORDS}'); END",
        ] + no_delete_guards(dialect, ("secret_counts",))
    if dialect == "postgresql":
        return [
            "CREATE FUNCTION cae_secret_count_check() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF (TG_OP = 'INSERT' AND ({_FROM_ZERO})) OR (TG_OP = 'UPDATE' AND ({_ONE_MORE} "
            f"OR {_SUM_NEW} > {_PARTICIPANTS})) THEN RAISE EXCEPTION '{_COUNT_WORDS}'; END IF; "
            "RETURN NEW; END $$",
            "CREATE TRIGGER secret_counts_checks BEFORE INSERT OR UPDATE ON secret_counts "
            "FOR EACH ROW EXECUTE FUNCTION cae_secret_count_check()",
        ] + no_delete_guards(dialect, ("secret_counts",))
    raise ValueError(f"no ledger invariants written for the {dialect} dialect")
