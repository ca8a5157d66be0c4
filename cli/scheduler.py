"""`cae scheduler` (the monthly routine, for the embedded setup) and `cae runs` (what ran, by whom).

`cae scheduler` keeps running and does on its own what the staff would do by
hand each month (see `streams.scheduler`): the payroll on its day, the
reconciliation after it, the close of the previous month on its day, each
recorded in `cae runs`. `--once` looks at what is due now, runs it and exits,
for a system timer (cron, systemd) instead of a resident process.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import click
from rich.table import Table

from cli.common import console, db_options, emit_json, json_option, open_db, optional_month, rules_from, user_errors
from cli.tables import figures, records, show, texts
from engine.french import local_time
from ledger.runs import list_runs
from streams.scheduler import load_schedule, make_scheduler, run_due


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run what is due now, then exit (for cron or a systemd timer).")
@db_options
@json_option
@user_errors
def scheduler_command(once: bool, db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """Run the monthly payroll, reconciliation and close on the days the configuration sets."""
    engine, rules, schedule = open_db(db_url), rules_from(config_path), load_schedule(config_path)
    if once:
        ran = run_due(engine, rules, schedule, datetime.now(timezone.utc))
        if as_json:
            emit_json({"ran": [r.to_json() for r in ran]})
        else:
            for r in ran:
                console.print(f"{r.job} {r.month}: {r.outcome} — {r.detail}", highlight=False)
            if not ran:
                console.print("Nothing is due.")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    console.print(f"Scheduler on {engine.url.render_as_string(hide_password=True)}: payroll on day "
                  f"{schedule.payroll_day}, close on day {schedule.close_day} of the next month, at "
                  f"{schedule.at.strftime('%H:%M')} {schedule.timezone}. Ctrl-C stops it.", highlight=False)
    scheduler = make_scheduler(engine.url.render_as_string(hide_password=False), config_path, blocking=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


@click.command("runs")
@optional_month("Only this month's runs.")
@click.option("--job", default=None, help="Only this job: payroll, reconcile, close, payroll-rerun, export.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@db_options
@json_option
@user_errors
def runs_command(month: str | None, job: str | None, limit: int, db_url: str | None,
                 config_path: str | None, as_json: bool) -> None:
    """The monthly jobs that ran, by the scheduler or by hand, latest first."""
    with open_db(db_url).connect() as conn:
        runs = list_runs(conn, month, job, limit)
    if as_json:
        emit_json({"runs": [r.to_json() for r in runs]})
        return
    zone = load_schedule(config_path).zone
    table = Table(title=f"Runs (times in {zone})")
    figures(table, "#")
    for name in ("Job", "Month", "Member", "How"):
        table.add_column(name, no_wrap=True)
    texts(table, "By")
    figures(table, "Started")
    table.add_column("Outcome", no_wrap=True)
    texts(table, "Detail")
    rows = []
    for r in runs:
        colour = {"ok": "green", "warning": "yellow", "failed": "red"}.get(r.outcome, "")
        started = local_time(r.started_at, zone)
        table.add_row(str(r.id), r.job, r.month, r.member_id or "", r.origin, r.started_by, started,
                      f"[{colour}]{r.outcome}[/]", r.detail)
        rows.append((f"#{r.id} {r.job} {r.month}", [("Member", r.member_id or ""), ("How", r.origin),
                                                    ("By", r.started_by), ("Started", started),
                                                    ("Outcome", r.outcome), ("Detail", r.detail)]))
    show(table, lambda: records(f"Runs (times in {zone})", rows))

