"""The Kafka workers: a faust-streaming app whose agents hand batches to `streams.pipeline.process`.

Three agents, one per input topic (`cae.events`, `cae.governance`, `cae.bank`), each taking
batches with `stream.noack_take(n, within=…)`: the buffering of `take`, but
the events are acknowledged by us, never by faust. The order for a batch:

1. `process` runs in a thread and commits one database transaction holding
   the batch's event ids, entries, rules' state and dead letters;
2. the entries go to `cae.postings` and the rejects to `cae.deadletter`, and
   the worker waits until Kafka has them;
3. only then are the batch's events acknowledged; faust commits the offsets
   of acknowledged messages (every `commit_interval`, at a rebalance, at a
   clean stop), and never past one that is not.

A crash anywhere before 3 leaves the offsets behind the batch, so it is
delivered again, to this worker or another; the event ids recorded in step 1
make the pipeline call the redelivered events duplicates, so nothing is
posted twice (and `streams.outputs.reposted` sends their entries again, in
case the crash came between 1 and 2). Plain `stream.take` would not do: it
acknowledges its buffer in a `finally`, so an exception or a cancellation in
the middle of a batch would let faust commit offsets of events never written.

Failures are waited out, not skipped: a transient database error retries
the batch with back-off (PostgreSQL restarting, a lock timeout, a full disk;
any other error has already made its event a dead letter, see
`streams.pipeline`), a Kafka error retries the sends; a worker asked to stop
meanwhile exits at once (code 75), its batch unacknowledged, as if killed.

Nothing is retried for ever for what it is (issue 14, point 1): should the
database stage still fail for a reason that is not transient (a bug), the
batch is tried `TRIES` times, then its messages one at a time, and a message
that fails `TRIES` times alone is a dead letter ("could not be processed"),
sent to `cae.deadletter` with its bytes and recorded in the ledger if it can
be; the worker moves on to the next.

The two topics are consumed side by side, so a governance event can arrive
before the `member.joined` of a member it names, still waiting on
`cae.events`: in a file the join came first. Such an event waits: the
governance batch is held from it on (its order is the assembly's), and
offered again every second while the members' topic has lag, for at most
`WorkerConfig.member_wait` seconds (`--wait-for-members`, 300 by default);
it is a dead letter only if the member is still unknown once the members'
topic is caught up, or when the wait is over.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import faust
from faust.streams import Stream
from faust.types import EventT, StreamT
from sqlalchemy import Engine

from engine.config import Rules
from engine.events import claimed_event_id
from engine.messages import Message
from engine.postings import Entry
from ledger import deadletters
from ledger.deadletters import DeadLetter
from ledger.errors import is_transient, one_line
from ledger.rows import freeze_startup_heap
from streams.outputs import OutputProducer, deadletter_message, posting_messages, reposted
from streams.pipeline import Outcome, Raw, process
from streams.status import group_lag, lag_line
from streams.topics import DEFAULT_WORKER_BATCH, KafkaUnavailable, Topics, admin_client

log = logging.getLogger("cae.worker")
T = TypeVar("T")

MAX_BACKOFF = 15.0
TRIES = 3  # failures that are not transient, before a batch is split, then a message dead-lettered
PIPELINE = 2  # batches in flight per agent: one in the database, one being taken or sent
EXIT_GAVE_UP = 75  # EX_TEMPFAIL: stopped during an outage, with batches left for the next worker


class _Stopping(Exception):
    """The worker was asked to stop while a batch could not be finished."""


class _Exhausted(Exception):
    """The database stage failed `TRIES` times for a reason that is not transient; the last one is its cause."""


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    bootstrap: str
    group: str
    topics: Topics
    batch: int = DEFAULT_WORKER_BATCH
    within: float = 0.5
    stop_when_idle: float | None = None
    session_timeout: float = 30.0
    commit_interval: float = 1.0
    log_every: float = 10.0
    member_wait: float = 300.0  # seconds a governance event may wait for a member not yet joined
    recheck: float = 1.0


@dataclass
class Stats:
    """What the worker did, for its log lines and its `--json` summary."""

    processed: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    events: int = 0
    batches: int = 0
    latencies: list[float] = field(default_factory=list)  # per batch: taken → acknowledged, seconds
    first_taken: float | None = None
    last_done: float | None = None
    last_activity: float = field(default_factory=time.monotonic)
    busy: int = 0
    stopped_idle: bool = False
    database: float = 0.0  # seconds in the database stage, summed over batches
    sending: float = 0.0  # seconds waiting for Kafka to take the outputs

    def add(self, taken: float, count: int, outcome: Outcome, send: float) -> None:
        now = time.monotonic()
        self.sending += send
        self.processed += outcome.processed
        self.duplicates += outcome.duplicates
        self.dead_letters += len(outcome.dead_letters)
        self.events += count
        self.batches += 1
        self.latencies.append(now - taken)
        self.last_done = self.last_activity = now

    def summary(self) -> dict[str, Any]:
        span = (self.last_done - self.first_taken) if self.first_taken and self.last_done else 0.0
        ordered = sorted(self.latencies)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0
        return {"processed": self.processed, "duplicates": self.duplicates,
                "dead_letters": self.dead_letters, "events": self.events, "batches": self.batches,
                "seconds": round(span, 3), "events_per_s": round(self.events / span, 1) if span else 0.0,
                "p95_commit_latency_ms": round(p95 * 1000, 1), "database_s": round(self.database, 3),
                "sending_s": round(self.sending, 3), "stopped_when_idle": self.stopped_idle,
                # the same span on the machine's monotonic clock, which all its processes share:
                # how a benchmark of several workers finds when the first began and the last ended
                "span_monotonic": [self.first_taken, self.last_done]}


class Worker:
    """One worker process: the faust app, its agents (one per input topic), and the idle/lag monitor."""

    def __init__(self, config: WorkerConfig, engine: Engine, rules: Rules, datadir: str) -> None:
        self.config, self.engine, self.rules = config, engine, rules
        self.stats = Stats()
        self.database = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cae-db")
        self.admin_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cae-admin")
        self._admin: Any = None  # the agents' admin client, for the members' lag
        self.app = faust.App(
            config.group,
            broker=[f"kafka://{server.strip()}" for server in config.bootstrap.split(",")],
            broker_client_id=f"cae-worker-{os.getpid()}",
            store="memory://", datadir=datadir, autodiscover=False, web_enabled=False,
            topic_disable_leader=True, topic_allow_declare=False,
            consumer_auto_offset_reset="earliest",
            broker_commit_interval=config.commit_interval,
            broker_session_timeout=config.session_timeout,
            broker_heartbeat_interval=min(3.0, config.session_timeout / 3),
            broker_max_poll_records=config.batch,
            stream_buffer_maxsize=max(4096, 2 * config.batch),
            stream_wait_empty=True,
        )
        for name in config.topics.inputs:
            topic = self.app.topic(name, key_type=bytes, value_type=bytes,
                                   key_serializer="raw", value_serializer="raw")
            self.app.agent(topic, name=f"cae.consume.{name}")(self._agent())
        self.app.task(self._monitor)
        self.outputs = OutputProducer(config.bootstrap, f"cae-worker-{os.getpid()}")

        @self.app.on_before_shutdown.connect
        async def _stop_outputs(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:  # all acked
            await self.outputs.stop()

    # -- the agents ---------------------------------------------------------------------------

    def _agent(self) -> Callable[[StreamT[Any]], Awaitable[None]]:
        async def consume(stream: StreamT[Any]) -> None:  # one function per agent: faust keys agents by it
            await self._consume(cast(Stream[Any], stream))
        return consume

    async def _consume(self, stream: Stream[Any]) -> None:
        """Take batches and pipeline them: the next batch is taken while this one is in the database.

        The database stage stays strictly sequential (a batch starts only once
        the one before it has committed: a member's later events never go in
        before the earlier ones); taking the next batch off Kafka and sending
        the outputs of the previous one overlap with it. At most `PIPELINE`
        batches are in flight; each is acknowledged by its own task when done.
        """
        turn: asyncio.Future[bool] | None = None  # the previous batch's database stage: True once committed
        flight: set[asyncio.Task[None]] = set()
        try:
            async for events in stream.noack_take(self.config.batch, within=self.config.within):
                taken = time.monotonic()
                self.stats.first_taken = self.stats.first_taken or taken
                self.stats.last_activity = taken
                if turn is not None and turn.done() and not turn.result():
                    return  # an earlier batch gave up (stopping): take nothing more
                mine: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
                task = asyncio.ensure_future(self._batch(stream, events, taken, turn, mine))
                flight.add(task)
                task.add_done_callback(flight.discard)
                task.add_done_callback(self._crash_on_error)
                turn = mine
                while len(flight) >= PIPELINE:
                    await asyncio.wait(flight, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if flight:
                await asyncio.wait(flight)

    async def _batch(self, stream: Stream[Any], events: Sequence[EventT], taken: float,
                     turn: asyncio.Future[bool] | None, mine: asyncio.Future[bool]) -> None:
        self.stats.busy += 1
        try:
            try:
                if turn is not None and not await turn:
                    raise _Stopping("an earlier batch was not done")
                outcome, entries = await self._commit(events)
            except BaseException:
                mine.set_result(False)  # and so every later batch of this agent stays unacknowledged
                raise
            mine.set_result(True)
            sent = time.monotonic()
            await self._retry("Kafka", lambda: self._send(entries, outcome))
            for event in events:
                await stream.ack(event)
            self.stats.add(taken, len(events), outcome, send=time.monotonic() - sent)
        except _Stopping as exc:
            log.warning("stopping with a batch of %d not done (%s)", len(events), exc)
            _give_up()
        finally:
            self.stats.busy -= 1
        log.debug("batch of %d from %s: %d processed, %d duplicates, %d dead letters, %d entries, %.0f ms",
                  len(events), _partitions(events), outcome.processed, outcome.duplicates,
                  len(outcome.dead_letters), len(outcome.entries), 1000 * (time.monotonic() - taken))
        for letter in outcome.dead_letters:
            log.info("dead letter %s: %s", letter.source, letter.reason)

    def _crash_on_error(self, task: asyncio.Task[None]) -> None:
        """What `_retry` does not catch is a bug: stop the worker (exit 1) rather than hang on it."""
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            log.error("a batch failed unexpectedly: %s", one_line(exc), exc_info=exc)
            asyncio.ensure_future(self.app.crash(exc))

    async def _commit(self, events: Sequence[EventT]) -> tuple[Outcome, list[Entry]]:
        """The database stage: `process` (one transaction), and the entries to send."""
        started = time.monotonic()
        raws = [Raw(e.message.value or b"", f"{e.message.topic}/{e.message.partition}@{e.message.offset}")
                for e in events]
        outcome = await self._process(raws, wait=True)
        held, outcome.held = outcome.held, []
        deadline = time.monotonic() + self.config.member_wait
        if held:
            log.info("%d governance event(s) from %s name a member not known yet: waiting for the members' "
                     "events (at most %.0f s)", len(held), held[0].source, self.config.member_wait)
        while held:  # governance events naming a member whose join is still on cae.events
            final = time.monotonic() >= deadline or self.app.should_stop or not await self._members_behind()
            if not final:
                await asyncio.sleep(self.config.recheck)
            more = await self._process(held, wait=not final)
            held, more.held = more.held, []
            outcome.add(more)
        entries = outcome.entries
        if outcome.duplicates:
            try:
                entries = entries + await self._retry(
                    "database", lambda: self._in_thread(reposted, self.engine, raws, outcome), TRIES)
            except _Exhausted as exc:  # the feed is at least once: these went out at the first delivery
                log.error("cannot read back the entries of the batch's duplicates (%s): not sent again",
                          one_line(exc.__cause__ or exc))
        self.stats.database += time.monotonic() - started
        return outcome, entries

    async def _process(self, raws: list[Raw], wait: bool) -> Outcome:
        """`process`, retried; a batch that keeps failing goes one message at a time (see module)."""
        try:
            return await self._retry("database", lambda: self._in_thread(
                functools.partial(process, wait_for_members=wait), self.engine, raws, self.rules), TRIES)
        except _Exhausted as exc:
            cause = exc.__cause__ or exc
            if len(raws) == 1:
                return await self._undeliverable(raws[0], cause)
            log.error("a batch of %d from %s failed %d times (%s): taking its messages one at a time",
                      len(raws), raws[0].source, TRIES, one_line(cause))
        outcome = Outcome()
        for at, raw in enumerate(raws):
            one = await self._process([raw], wait)
            outcome.add(one)
            if one.held:
                outcome.held += raws[at + 1:]
                break
        return outcome

    async def _undeliverable(self, raw: Raw, cause: BaseException) -> Outcome:
        """A message that cannot be processed: a dead letter, in the ledger if it takes it, on the topic anyway."""
        letter = DeadLetter.of(raw.data, Message.of("event.undeliverable", detail=one_line(cause), tries=TRIES),
                               raw.source, claimed_event_id(raw.data))
        log.error("message %s failed %d times: dead-lettered (%s)", raw.source, TRIES, one_line(cause))

        def record() -> None:
            with self.engine.begin() as conn:
                deadletters.record(conn, [letter])
        try:
            await self._retry("database", lambda: self._in_thread(record), 1)
        except _Exhausted as exc:
            log.error("the dead letter of %s is on %s only: the ledger refused it (%s)", raw.source,
                      self.config.topics.deadletter, one_line(exc.__cause__ or exc))
        return Outcome(dead_letters=[letter])

    async def _members_behind(self) -> bool:
        """Whether the group still has member events to consume (unknown lag counts as yes)."""
        loop = asyncio.get_running_loop()
        try:
            if self._admin is None:
                self._admin = await loop.run_in_executor(self.admin_pool, admin_client, self.config.bootstrap)
            lags = await loop.run_in_executor(self.admin_pool, group_lag, self._admin, self.config.group,
                                              (self.config.topics.events,))
        except KafkaUnavailable as exc:
            log.warning("cannot read the lag of %s: %s", self.config.topics.events, exc)
            return True
        return any(lag.lag for lag in lags)

    async def _send(self, entries: list[Entry], outcome: Outcome) -> None:
        topics = self.config.topics
        try:
            await self.outputs.send([
                (topics.postings, posting_messages(entries)),
                (topics.deadletter, [deadletter_message(letter) for letter in outcome.dead_letters])])
        except Exception:
            await self.outputs.stop()  # a fresh producer for the retry
            raise

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.database, function, *args)

    async def _retry(self, what: str, attempt: Callable[[], Awaitable[T]], tries: int | None = None) -> T:
        """`attempt()` until it succeeds, backing off; `_Stopping` if the worker is asked to stop meanwhile.

        With `tries`, a failure that is not transient (`ledger.errors.is_transient`) counts, and the
        `tries`-th raises `_Exhausted`: an outage is waited out for as long as it lasts, a bug is not.
        """
        delay, failures = 0.5, 0
        while True:
            try:
                return await attempt()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 — any failure: the batch must not be skipped
                if self.app.should_stop:
                    raise _Stopping(f"{what} error: {one_line(exc)}") from None
                if tries is not None and not is_transient(exc):
                    failures += 1
                    if failures >= tries:
                        raise _Exhausted(what) from exc
                log.warning("%s error, retrying the batch in %.1f s: %s", what, delay, one_line(exc),
                            exc_info=log.isEnabledFor(logging.DEBUG))
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)

    # -- the monitor: lag in the log, and --stop-when-idle ---------------------------------------

    async def _monitor(self) -> None:
        """Every second: is it time to log the lag, or to stop because everything is consumed?"""
        config, stats = self.config, self.stats
        loop = asyncio.get_running_loop()
        admin = None
        next_log = time.monotonic() + config.log_every
        last_events = 0
        while not self.app.should_stop:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            idle = now - stats.last_activity
            want_idle_check = config.stop_when_idle is not None and idle >= config.stop_when_idle
            if not want_idle_check and now < next_log:
                continue
            try:
                if admin is None:
                    admin = await loop.run_in_executor(self.admin_pool, admin_client, config.bootstrap)
                lags = await loop.run_in_executor(self.admin_pool, group_lag, admin, config.group,
                                                  config.topics.inputs)
            except KafkaUnavailable as exc:
                log.warning("cannot read the consumer lag: %s", exc)
                continue
            if now >= next_log:
                rate = (stats.events - last_events) / (now - next_log + config.log_every)
                log.info("consumed %d events (%.0f/s) in %d batches: %d processed, %d duplicates, "
                         "%d dead letters; assigned %s; lag %s", stats.events, rate, stats.batches,
                         stats.processed, stats.duplicates, stats.dead_letters,
                         _assignment(self.app), lag_line(lags))
                last_events, next_log = stats.events, now + config.log_every
            if want_idle_check and not stats.busy and all(lag.lag == 0 for lag in lags):
                log.info("every partition of %s consumed and nothing new for %.0f s: stopping",
                         ", ".join(config.topics.inputs), idle)
                stats.stopped_idle = True
                # From a task of our own, by signal: stopping the app from inside an agent hangs.
                os.kill(os.getpid(), signal.SIGTERM)
                return
        if admin is not None:
            admin.close()

    def shutdown(self) -> None:
        self.database.shutdown(wait=True)
        if self._admin is not None:
            self.admin_pool.submit(self._admin.close)
        self.admin_pool.shutdown(wait=True)


def run(config: WorkerConfig, engine: Engine, rules: Rules, datadir: str, loglevel: str = "info",
        quiet: bool = False) -> tuple[int, Stats]:
    """Run a worker until it is stopped (signal, `--stop-when-idle`, or a crash); returns its exit code."""
    worker = Worker(config, engine, rules, datadir)
    # stdout is the command's (`--json`): faust's banner and spinner go to stderr with the log.
    runner = faust.Worker(worker.app, loglevel=loglevel, quiet=quiet, redirect_stdouts=False,
                          workdir=os.getcwd(), stdout=sys.stderr)
    logging.getLogger("kafka").setLevel(logging.WARNING)  # kafka-python's admin client: chatty at INFO
    code = 0
    freeze_startup_heap()
    try:
        runner.execute_from_commandline()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        worker.shutdown()
    return code, worker.stats


def _give_up() -> None:
    """Stop now, as a kill would: nothing more is acknowledged, so no offset moves past the batch.

    A clean faust stop waits until every message taken is acknowledged, which
    a batch that cannot reach the database never will be; exiting at once is
    what is safe (the batch is delivered again, to whichever worker comes).
    """
    log.error("exiting with unfinished batches; they will be delivered again (exit %d)", EXIT_GAVE_UP)
    logging.shutdown()
    os._exit(EXIT_GAVE_UP)


def _partitions(events: Sequence[EventT]) -> str:
    seen = sorted({(e.message.topic, e.message.partition) for e in events})
    return ", ".join(f"{topic}/{partition}" for topic, partition in seen)


def _assignment(app: faust.App) -> str:
    try:
        assigned = sorted(app.consumer.assignment())
    except Exception:  # noqa: BLE001 — not started yet
        return "nothing yet"
    return ", ".join(f"{tp.topic}/{tp.partition}" for tp in assigned) or "nothing"
