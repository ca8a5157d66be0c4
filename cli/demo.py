"""`cae demo`: a sample cooperative from its events to its statements, on the embedded default.

No Kafka, no server: the events of `engine.sample` go through the embedded
runner (the same `process` as the Kafka workers) into a SQLite file, each
month's payroll runs, and the last month's statements, the dead letters and
the trial balance are printed from the ledger.

The file is `cae.db` in the working directory, the ledger every other command
reads by default, so that `cae statement M001 --month 2026-10` goes on from
the demo (issue 8). A demo ledger is marked as one (`engine.keys`): a second
demo replaces it, and a `cae.db` that holds real books is never touched.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, func, insert, select

from cli.common import UserError, console, emit_json, json_option, open_db, rules_from, user_errors
from cli.governance import tally_table
from cli.reconcile import outcome_mark
from engine.keys import internal_key
from engine.money import ZERO, fmt
from engine.periods import next_month, parse_month
from engine.sample import DEFAULT_MONTHS, cooperative
from engine.state import Member
from engine.statement import Statement
from governance.config import load_governance
from governance.results import record_of_assembly
from governance.store import load_meetings
from ledger import monthly, schema
from ledger.balances import trial_balance
from ledger.db import masked
from ledger.payroll_run import members_on
from ledger.runs import MANUAL, by_hand
from ledger.statements import statements
from streams.embedded import ingest
from streams.pipeline import Outcome, Raw
from engine.wording import term

DEMO_FILE = "cae.db"
DEMO_MARK = internal_key("demo")
DEMO_OPERATOR = "cae demo"
MAX_MONTHS = 120


def parse_months(text: str) -> list[str]:
    """`2026-07..2026-10`, one month `2026-10`, or a count `4` (the months up to 2026-10)."""
    text = text.strip()
    try:
        if text.isdigit():
            count = int(text)
            if not 1 <= count <= MAX_MONTHS:
                raise click.BadParameter(f"a count of months is 1 to {MAX_MONTHS}, not {count}")
            last = parse_month(DEFAULT_MONTHS[-1])
            index = last.year * 12 + last.month - 1 - (count - 1)
            return _month_range(f"{index // 12:04d}-{index % 12 + 1:02d}", DEFAULT_MONTHS[-1])
        start, _, end = text.partition("..")
        return _month_range(start, end or start)
    except ValueError as exc:
        raise click.BadParameter(f"{term(text)}: {exc} (expected such as 2026-07..2026-10, 2026-10 or 4)") from None


def _month_range(start: str, end: str) -> list[str]:
    parse_month(start), parse_month(end)
    if end < start:
        raise ValueError(f"{end} is before {start}")
    months = [start]
    while months[-1] < end:
        months.append(next_month(months[-1]))
        if len(months) > MAX_MONTHS:
            raise ValueError(f"at most {MAX_MONTHS} months")
    return months


@click.command("demo")
@click.option("--members", type=click.IntRange(1, 100_000), default=40, show_default=True,
              help="Members of the sample cooperative.")
@click.option("--months", metavar="FIRST..LAST|COUNT", default=f"{DEFAULT_MONTHS[0]}..{DEFAULT_MONTHS[-1]}",
              show_default=True, callback=lambda ctx, param, value: parse_months(value),
              help=f"The months to simulate: a range, one month, or a count of months up to "
                   f"{DEFAULT_MONTHS[-1]}.")
@click.option("--seed", type=int, default=2026, show_default=True,
              help="Seed of the generator: the same seed gives the same cooperative.")
@click.option("--db", "db_url", metavar="URL", default=None,
              help=f"Database URL. Default: {DEMO_FILE} in the working directory, made anew on each "
                   "run when it holds an earlier demo, refused when it holds other books "
                   "($CAE_DATABASE_URL is not used: the demo never writes into your ledger). "
                   "Any other database must be empty.")
@click.option("--serve", "then_serve", is_flag=True,
              help="Then make demo accounts (their logins are printed) and serve the pages on 127.0.0.1:8000.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="With --serve.")
@json_option
@user_errors
def demo_command(members: int, months: list[str], seed: int, db_url: str | None, then_serve: bool, port: int,
                 as_json: bool) -> None:
    """Generate a sample cooperative, process its events, run payroll, print the results."""
    started = time.perf_counter()
    engine, url = _fresh_database(db_url)
    rules = rules_from(None)
    opened = time.perf_counter()
    raws = (Raw(data, f"sample:{n}") for n, data in enumerate(cooperative(members, months, seed), 1))
    if as_json:
        outcome = ingest(engine, raws, rules)
    else:
        total = sum(1 for _ in cooperative(members, months, seed))
        with Progress(TextColumn("processing events"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("ingest", total=total)
            outcome = ingest(engine, raws, rules, progress=lambda n: bar.advance(task, n))
    ingested = time.perf_counter()
    payroll = []
    for month in months:  # recorded like the staff's own runs: they show in `cae runs` and the staff's pages
        _, run = by_hand(monthly.payroll(engine, month, rules, origin=MANUAL, started_by=DEMO_OPERATOR))
        slips = run.payslips
        payroll.append({"month": month, "payslips": len(slips),
                        "capped": sum(1 for s in slips if s.capped),
                        "gross": fmt(sum((s.gross for s in slips), ZERO))})
    paid = time.perf_counter()
    _, reconciliation = by_hand(monthly.reconciliation(engine, months[-1], rules, origin=MANUAL,
                                                       started_by=DEMO_OPERATOR))
    with engine.connect() as conn:
        found = statements(conn, months[-1])
        names = dict(conn.execute(select(schema.members.c.member_id, schema.members.c.name)).tuples().all())
        balances = trial_balance(conn)
        assemblies, _ = load_meetings(conn)
        showcase = showcase_member(members_on(conn, months[-1]), {s.member_id for s in run.payslips if s.gross},
                                   [a.held_on for a in assemblies])
        governance = load_governance()
        tallies = [t for a in assemblies
                   for t in record_of_assembly(conn, a.assembly_id, governance).tallies]
    engine.dispose()
    debit, credit = sum((r.debit for r in balances), ZERO), sum((r.credit for r in balances), ZERO)
    done = time.perf_counter()
    report = {
        "cooperative": {"members": members, "months": months, "seed": seed},
        "database": masked(url),
        "events": {"total": outcome.processed + outcome.duplicates + len(outcome.dead_letters),
                   "processed": outcome.processed, "duplicates": outcome.duplicates,
                   "dead_letters": len(outcome.dead_letters)},
        "payroll": payroll,
        "month": months[-1],
        "member_login": showcase,
        "statements": [s.to_json() for s in found],
        "totals": _totals(found),
        "dead_letters": [{"source": d.source, "event_id": d.event_id, "reason": d.reason}
                         for d in outcome.dead_letters],
        "trial_balance": {"total_debit": fmt(debit), "total_credit": fmt(credit),
                          "balanced": debit == credit},
        "reconciliation": {"month": reconciliation.month,
                           "checks": [c.to_json() for c in reconciliation.checks]},
        "tallies": [t.to_json() for t in tallies],
        "seconds": {"database": round(opened - started, 3), "ingest": round(ingested - opened, 3),
                    "payroll": round(paid - ingested, 3), "reports": round(done - paid, 3),
                    "total": round(done - started, 3)},
    }
    if as_json:
        emit_json(report)
    else:
        _print(report, found, names, outcome)
        for check in reconciliation.checks:
            console.print(f"reconciliation {reconciliation.month}: {outcome_mark(check)} {check.name}: {check.detail}",
                          highlight=False)
        for t in tallies:
            console.print(tally_table(t))
    if then_serve:
        from cli.web import serve

        logins = demo_accounts(url, [showcase] if showcase else [])
        click.echo("Demo accounts (passwords made for this demo only):", err=True)
        for email, role, password in logins:
            click.echo(f"  {role:<7} {email:<22} {password}", err=True)
        serve(url, None, "127.0.0.1", port)


def showcase_member(members: list[Member], paid: set[str], assembly_days: list[date]) -> str | None:
    """The member whose pages show the most of the product: the demo's member login (issue 15).

    An associate under a CESA, paid in the last month (so with payslips, a
    salary and capital), convened to an assembly (an associate on its day);
    the first such by id, so the README can name them.
    """
    for m in sorted(members, key=lambda m: m.member_id):
        if (m.member_id in paid and m.associate_on is not None
                and any(m.associate_on_day(day) for day in assembly_days)):
            return m.member_id
    return None


def demo_accounts(db_url: str, members: list[str]) -> list[tuple[str, str, str]]:
    """An account per role on the demo's books, with a fresh random password each: (email, role, password)."""
    import secrets

    from web.accounts import add_user

    logins: list[tuple[str, str, str | None]] = [(f"{role}@demo.cae", role, None) for role in ("admin", "staff", "board")]
    logins += [(f"{m.lower()}@demo.cae", "member", m) for m in members]
    made = []
    engine = open_db(db_url)
    with engine.begin() as conn:
        for email, role, member_id in logins:
            password = secrets.token_urlsafe(12)
            add_user(conn, email, password, role, member_id, "cae demo")
            made.append((email, role, password))
    engine.dispose()
    return made


def _fresh_database(db_url: str | None) -> tuple[Engine, str]:
    """`cae.db` here (an earlier demo's is made anew), or the user's database, which must be empty."""
    if db_url is None:
        db_url = f"sqlite:///{DEMO_FILE}"
        if Path(DEMO_FILE).exists():
            if not _is_demo(db_url):
                raise UserError(f"{DEMO_FILE} here holds books that are not a demo: the demo leaves them "
                                "alone (run it elsewhere, or give --db a new file)")
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(DEMO_FILE + suffix).unlink(missing_ok=True)
    engine = open_db(db_url, create=True)
    with engine.begin() as conn:
        if conn.scalar(select(func.count()).select_from(schema.processed_events)):
            engine.dispose()
            raise UserError(f"{masked(db_url)} already holds events: the demo needs an empty database "
                            f"(or no --db, for {DEMO_FILE} here)")
        conn.execute(insert(schema.processed_events).values(
            event_id=DEMO_MARK, fingerprint="-" * 64, type="demo", entry_count=0, source="cae demo",
            processed_at=datetime.now(timezone.utc)))
    return engine, db_url


def _is_demo(db_url: str) -> bool:
    engine = open_db(db_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(schema.processed_events.c.event_id)
                               .where(schema.processed_events.c.event_id == DEMO_MARK)) is not None
    finally:
        engine.dispose()


def _totals(found: list[Statement]) -> dict[str, str]:
    def total(pick: Any) -> str:
        return fmt(sum((pick(s) for s in found), ZERO))
    return {"revenue_ht": total(lambda s: s.revenue_ht), "vat_collected": total(lambda s: s.vat_collected),
            "contribution": total(lambda s: s.contribution), "societariat": total(lambda s: s.societariat),
            "gross": total(lambda s: s.payroll.gross if s.payroll else ZERO),
            "net": total(lambda s: s.payroll.net if s.payroll else ZERO),
            "budget_closing": total(lambda s: s.budget_closing)}


def _print(report: dict[str, Any], found: list[Statement], names: dict[str, str], outcome: Outcome) -> None:
    coop, events = report["cooperative"], report["events"]
    console.print(f"[bold]Sample cooperative[/]: {coop['members']} members, {coop['months'][0]} to "
                  f"{coop['months'][-1]} (seed {coop['seed']}), in {report['database']}", highlight=False)
    console.print(f"{events['total']} events: {events['processed']} processed, "
                  f"{events['duplicates']} duplicates, {events['dead_letters']} dead letters")
    for run in report["payroll"]:
        console.print(f"payroll {run['month']}: {run['payslips']} payslips, {run['gross']} gross"
                      + (f", {run['capped']} capped by their budget" if run["capped"] else ""))
    table = Table(title=f"Statements {report['month']}")
    for name in ("Member", "Name", "Revenue HT", "Contribution", "Sociétariat", "Gross", "Net", "Budget"):
        table.add_column(name, justify="left" if name in ("Member", "Name") else "right")
    for s in found:
        p = s.payroll
        table.add_row(s.member_id, names.get(s.member_id, ""), fmt(s.revenue_ht), fmt(s.contribution),
                      fmt(s.societariat), (fmt(p.gross) + (" capped" if p.capped else "")) if p else "—",
                      fmt(p.net) if p else "—", fmt(s.budget_closing))
    t = report["totals"]
    table.add_row("Total", "", t["revenue_ht"], t["contribution"], t["societariat"], t["gross"], t["net"],
                  t["budget_closing"], style="bold")
    console.print(table)
    if outcome.dead_letters:
        letters = Table(title=f"{len(outcome.dead_letters)} dead letters")
        for name in ("Source", "Event", "Reason"):
            letters.add_column(name)
        for d in outcome.dead_letters:
            letters.add_row(d.source, d.event_id or "", d.reason)
        console.print(letters)
    tb = report["trial_balance"]
    console.print(f"Trial balance: debit {tb['total_debit']}, credit {tb['total_credit']}: "
                  + ("[green]balanced[/]" if tb["balanced"] else "[red]NOT balanced[/]"), highlight=False)
    sec = report["seconds"]
    console.print(f"Done in {sec['total']:.2f} s (new database {sec['database']:.2f} s, events "
                  f"{sec['ingest']:.2f} s, payroll {sec['payroll']:.2f} s, reports {sec['reports']:.2f} s)")
