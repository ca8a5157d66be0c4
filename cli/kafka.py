"""`cae publish`, `cae worker`, `cae status`, `cae topics`: the engine on Apache Kafka.

Every command takes `--bootstrap` (default `$CAE_KAFKA_BOOTSTRAP`, else
localhost:9092) and `--topic-prefix` (default `$CAE_KAFKA_TOPIC_PREFIX`, else
none: the contract's names); `worker` and `status` take `--group` (default
`$CAE_KAFKA_GROUP`, else `cae-ledger`), the consumer group the workers share.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from cli.common import (F, UserError, console, db_options, emit_json, json_option, open_db, rules_from,
                        user_errors)
from engine.extras import require
from ledger.db import DatabaseError, open_ledger
from streams.embedded import read_events
from streams.topics import (DEFAULT_PARTITIONS, DEFAULT_WORKER_BATCH, KafkaUnavailable, Topics, admin_client,
                            bootstrap_servers, ensure_topics, group_id)

# faust and kafka-python load in the commands that use them, not in every `cae` command.


def kafka_options(func: F) -> F:
    func = click.option("--topic-prefix", metavar="PREFIX", default=None,
                        help="Put before every topic name; default $CAE_KAFKA_TOPIC_PREFIX or none.")(func)
    return click.option("--bootstrap", metavar="HOST:PORT[,…]", default=None,
                        help="Kafka brokers; default $CAE_KAFKA_BOOTSTRAP or localhost:9092.")(func)


def group_option(func: F) -> F:
    return click.option("--group", metavar="NAME", default=None,
                        help="Consumer group of the workers; default $CAE_KAFKA_GROUP or cae-ledger.")(func)


def partitions_option(func: F) -> F:
    return click.option("--partitions", type=click.IntRange(1, 1000), default=DEFAULT_PARTITIONS,
                        show_default=True, help="Partitions of cae.events and cae.postings, when creating them.")(func)


def topics_ready(bootstrap: str, prefix: str | None, partitions: int) -> Topics:
    """The contract's topics behind `prefix`, created where missing; `UserError` when Kafka refuses."""
    topics = Topics.named(prefix)
    try:
        ensure_topics(bootstrap, topics, partitions)
    except KafkaUnavailable as exc:
        raise UserError(str(exc)) from None
    return topics


@click.command("publish")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@kafka_options
@partitions_option
@json_option
@user_errors
def publish_command(path: Path, bootstrap: str | None, topic_prefix: str | None, partitions: int,
                    as_json: bool) -> None:
    """Send the events of a .jsonl file to Kafka (idempotent producer, acks=all, keyed by member)."""
    require("kafka", "cae publish")
    from streams.publish import publish

    servers = bootstrap_servers(bootstrap)
    topics = topics_ready(servers, topic_prefix, partitions)
    try:
        result = publish(read_events(path), servers, topics)
    except KafkaUnavailable as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json({"published": result.published,
                   "bad_lines": [{"source": s, "reason": r.text("en"), "code": r.code} for s, r in result.bad]})
        return
    console.print(f"{result.published} events published to {topics.events} / {topics.governance}")
    for source, reason in result.bad:
        console.print(f"  [red]not sent[/] {source}: {reason.text('en')}", highlight=False)


@click.command("worker")
@kafka_options
@group_option
@partitions_option
@db_options
@click.option("--batch", type=click.IntRange(1, 100_000), default=DEFAULT_WORKER_BATCH, show_default=True,
              help="Most events in one database transaction.")
@click.option("--within", type=click.FloatRange(0.01, 60), default=0.5, show_default=True,
              help="Seconds to wait for a batch to fill before processing what came.")
@click.option("--stop-when-idle", "stop_when_idle", type=click.FloatRange(0.5), default=None, metavar="SECONDS",
              help="Exit 0 once the group has consumed every partition and nothing came for SECONDS.")
@click.option("--session-timeout", type=click.FloatRange(6, 300), default=30.0, show_default=True,
              help="Seconds without a heartbeat before the group gives a worker's partitions to the others.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
@click.option("--log-every", type=click.FloatRange(1), default=10.0, show_default=True,
              help="Seconds between two progress lines (events, rate, assignment, lag).")
@click.option("--wait-for-members", "member_wait", type=click.FloatRange(0, 86_400), default=300.0,
              show_default=True, metavar="SECONDS",
              help="How long a governance event naming a member not yet joined waits for the member's "
                   "events (on cae.events) before it is a dead letter.")
@click.option("--scheduler", "with_scheduler", is_flag=True,
              help="Also run the monthly routine (payroll, reconciliation, close) on its days; "
                   "safe on several workers: the database runs each job once.")
@json_option
@user_errors
def worker_command(bootstrap: str | None, topic_prefix: str | None, group: str | None, partitions: int,
                   db_url: str | None, config_path: str | None, batch: int, within: float,
                   stop_when_idle: float | None, session_timeout: float, log_level: str, log_every: float,
                   member_wait: float, with_scheduler: bool, as_json: bool) -> None:
    """Consume cae.events and cae.governance into the ledger until stopped (SIGTERM, Ctrl-C)."""
    require("kafka", "cae worker")
    from streams.kafka_app import WorkerConfig, run
    from streams.scheduler import start_background

    servers = bootstrap_servers(bootstrap)
    topics = topics_ready(servers, topic_prefix, partitions)
    engine, rules = _open_patiently(db_url), rules_from(config_path)
    config = WorkerConfig(servers, group_id(group), topics, batch=batch, within=within,
                          stop_when_idle=stop_when_idle, session_timeout=session_timeout, log_every=log_every,
                          member_wait=member_wait)
    # faust wants a data folder even with no tables, and leaves it empty: one per user, shared by
    # every worker (a folder per run would pile up after each kill).
    datadir = os.path.join(tempfile.gettempdir(), f"cae-faust-{os.getuid()}")
    routine = (start_background(engine.url.render_as_string(hide_password=False), config_path)
               if with_scheduler else None)
    try:
        code, stats = run(config, engine, rules, datadir, loglevel=log_level, quiet=as_json)
    finally:
        if routine is not None:
            routine.shutdown(wait=False)
        engine.dispose()
    if code != 0:
        raise UserError(f"the worker stopped on an error (exit {code}); its log says which")
    summary = stats.summary()
    summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if as_json:
        emit_json(summary)
        return
    console.print(f"{summary['events']} events consumed: {summary['processed']} processed, "
                  f"{summary['duplicates']} duplicates, {summary['dead_letters']} dead letters")


def _open_patiently(db_url: str | None) -> Engine:
    """The ledger, waiting a little for it: workers started together race to migrate a fresh
    database (the loser's upgrade fails, then finds it done), and a service manager may start
    a worker before PostgreSQL accepts connections. Gives up after about 15 s."""
    delay = 1
    while True:
        try:
            return open_ledger(db_url, create=True)
        except (DatabaseError, SQLAlchemyError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            if delay > 8:
                raise UserError(f"cannot open the ledger: {reason}") from None
            click.echo(f"cae: cannot open the ledger yet ({reason}); retrying in {delay} s", err=True)
            time.sleep(delay)
            delay *= 2


@click.command("status")
@kafka_options
@group_option
@db_options
@json_option
@user_errors
def status_command(bootstrap: str | None, topic_prefix: str | None, group: str | None, db_url: str | None,
                   config_path: str | None, as_json: bool) -> None:
    """Consumer lag per partition, dead letters pending, last entry posted.

    With no Kafka configured (neither --bootstrap nor $CAE_KAFKA_BOOTSTRAP: the embedded
    setup), it answers with the ledger's own figures at once and says so.
    """
    from streams.status import ledger_status

    name = group_id(group)
    document: dict[str, Any] = {"group": name}
    if bootstrap is None and not os.environ.get("CAE_KAFKA_BOOTSTRAP"):
        document.update(bootstrap=None, kafka={"configured": False})
    else:
        require("kafka", "cae status with Kafka configured")
        document.update(bootstrap=bootstrap_servers(bootstrap),
                        kafka=_kafka_status(bootstrap_servers(bootstrap), name, Topics.named(topic_prefix)))
    document.update(ledger_status(open_db(db_url)))
    if as_json:
        emit_json(document)
        return
    _print_status(document)


def _kafka_status(servers: str, group: str, topics: Topics) -> dict[str, Any]:
    from streams.status import group_lag, lag_document

    try:
        admin = admin_client(servers)
        try:
            return lag_document(group_lag(admin, group, topics.inputs))
        finally:
            admin.close()
    except KafkaUnavailable as exc:
        return {"configured": True, "error": str(exc)}


@click.command("topics")
@kafka_options
@partitions_option
@json_option
@user_errors
def topics_command(bootstrap: str | None, topic_prefix: str | None, partitions: int, as_json: bool) -> None:
    """Create the topics of the contract where missing, and show their partitions."""
    require("kafka", "cae topics")
    servers = bootstrap_servers(bootstrap)
    topics = Topics.named(topic_prefix)
    try:
        counts = ensure_topics(servers, topics, partitions)
    except KafkaUnavailable as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_json({"topics": [{"name": name, "partitions": counts[name]} for name in topics.all]})
        return
    for name in topics.all:
        console.print(f"{name}: {counts[name]} partition(s)")


def _print_status(document: dict[str, Any]) -> None:
    kafka = document["kafka"]
    if not kafka.get("configured", True):
        console.print("No Kafka is configured (--bootstrap or $CAE_KAFKA_BOOTSTRAP): the embedded setup.")
    elif "error" in kafka:
        console.print(f"[red]Kafka:[/] {kafka['error']}", highlight=False)
    else:
        table = Table(title=f"group {document['group']}: lag {kafka['total_lag']}")
        for column in ("Topic", "Partition", "Committed", "End", "Lag"):
            table.add_column(column)
        for p in kafka["partitions"]:
            table.add_row(p["topic"], str(p["partition"]), str(p["committed"] if p["committed"] is not None else "-"),
                          str(p["end"]), str(p["lag"]))
        console.print(table)
    console.print(f"events processed: {document['events_processed']}; "
                  f"dead letters pending: {document['dead_letters_pending']}")
    last = document["last_entry"]
    console.print("last entry: none" if last is None else
                  f"last entry: #{last['id']} {last['journal']} {last['date']} {last['piece_ref']} "
                  f"(event {last['event_id']}, posted {last['posted_at']})", highlight=False)


COMMANDS = (publish_command, worker_command, status_command, topics_command)
