"""The scheduler (定时任务): APScheduler inside the service, or alone (``jixiao scheduler``), one leader at a time.

Every process that runs it stands for election: the leader is whoever holds a PostgreSQL advisory lock on a session
of its own, and only the leader's APScheduler has jobs. The others try for the lock every ``scheduler_poll``
seconds; when a leader dies its session ends, PostgreSQL releases the lock, and a follower takes over within a
poll. (The lock session asks the server for TCP keepalives, so a leader cut off by the network loses it within
about 30 seconds too.) Two leaders can still overlap for a moment — a leader that has not yet noticed it lost the
lock — which is why every job is idempotent in the ledger itself.

Jobs are thin: each calls one application method for today's date (from an injectable clock, in the bureau's
timezone): the ledger's sweeps (:mod:`ledger.sweeps`) and signing a checkpoint. Each run is recorded in
``scheduler_jobs`` — one row per job: its last run, what it raised, and the last time it raised anything — which is
also how a run missed while no scheduler was up is found: on taking over, a job whose last scheduled run is more
than an interval ago runs once, at once (APScheduler coalesces the missed run times), then on its interval.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import partial
from typing import Any

import psycopg
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from psycopg import sql
from psycopg.conninfo import make_conninfo

from api.config.settings import Settings
from api.roles.health import RoleState
from ledger.application.ledger import Ledger
from ledger.domain.sweeps import SWEEPS
from ledger.store.recorder import lock_schema
from ledger.store.tlog import TransparencyLog

logger = logging.getLogger(__name__)

LEADER_LOCK = 0x6A78_7363  # pg advisory lock id held by the scheduler's leader ("jxsc")
JOBS = "scheduler_jobs"
JOBS_SCHEMA = sql.SQL("""
CREATE TABLE IF NOT EXISTS {} (
    job text PRIMARY KEY,
    runs bigint NOT NULL,
    last_started_at timestamptz NOT NULL,
    last_finished_at timestamptz NOT NULL,
    last_today date NOT NULL,
    last_trigger text NOT NULL,
    last_runner text NOT NULL,
    last_status text NOT NULL,
    last_error text,
    last_raised jsonb NOT NULL,
    last_scheduled_at timestamptz,
    raised_at timestamptz,
    raised jsonb
)
""").format(sql.Identifier(JOBS))
# A run recorded: the job's row rewritten (its last run), keeping when it last raised anything and what.
RECORD = sql.SQL(
    "INSERT INTO {} AS j (job, runs, last_started_at, last_finished_at, last_today, "
    "last_trigger, last_runner, last_status, last_error, last_raised, last_scheduled_at, raised_at, "
    "raised) "
    "VALUES (%(job)s, 1, %(started)s, clock_timestamp(), %(today)s, %(trigger)s, %(runner)s, %(status)s, "
    "%(error)s, %(raised)s::jsonb, %(scheduled)s, CASE WHEN %(any)s THEN %(started)s END, "
    "CASE WHEN %(any)s THEN %(raised)s::jsonb END) "
    "ON CONFLICT (job) DO UPDATE SET runs = j.runs + 1, last_started_at = excluded.last_started_at, "
    "last_finished_at = excluded.last_finished_at, last_today = excluded.last_today, "
    "last_trigger = excluded.last_trigger, last_runner = excluded.last_runner, "
    "last_status = excluded.last_status, last_error = excluded.last_error, "
    "last_raised = excluded.last_raised, "
    "last_scheduled_at = coalesce(excluded.last_scheduled_at, j.last_scheduled_at), "
    "raised_at = coalesce(excluded.raised_at, j.raised_at), raised = coalesce(excluded.raised, j.raised)"
).format(sql.Identifier(JOBS))
RUNS = sql.SQL(
    "SELECT job, runs, last_started_at, last_today, last_trigger, last_runner, last_status, last_error, "
    "last_raised, last_scheduled_at, raised_at, raised FROM {}"
).format(sql.Identifier(JOBS))
# The lock session: server-side keepalives, so a leader cut off by the network loses the lock in about 30 s.
LOCK_SESSION: dict[str, str | int] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "options": "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 "
    "-c statement_timeout=5000",
}


def runner_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class JobOutcome:
    """What one run of a job raised (event type -> count) and a line about it."""

    raised: dict[str, int]
    detail: str


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    description: str
    action: Callable[[date], JobOutcome]


@dataclass(frozen=True)
class JobRun:
    """A job's row in ``scheduler_jobs``."""

    job: str
    runs: int
    last_started_at: datetime
    last_today: date
    last_trigger: str
    last_runner: str
    last_status: str
    last_error: str | None
    last_raised: dict[str, int]
    last_scheduled_at: datetime | None
    raised_at: datetime | None
    raised: dict[str, int] | None


def _sweep(ledger: Ledger, name: str, day: date) -> JobOutcome:
    report = ledger.sweep(name, day)
    lost = f", {report.conflicts} lost races re-checked" if report.conflicts else ""
    rechecked = f", {report.rechecked} more in the full pass" if report.rechecked else ""
    missed = f" ({report.missed} due that the watch list did not name)" if report.missed else ""
    return JobOutcome(report.raised, f"visited {report.visited}{lost}{rechecked}{missed}")


def _checkpoint(log: TransparencyLog, day: date) -> JobOutcome:
    """Sign a checkpoint if the log has grown, then ask the witnesses that have not cosigned the latest one (a
    witness that was down is asked again on the next run, with a proof from the size it last cosigned)."""
    signed = log.sign_checkpoint()
    witnesses = log.cosign(signed)
    asked = "; ".join(f"{name}: {outcome}" for name, outcome in sorted(witnesses.items()))
    if signed is None:
        return JobOutcome({}, "the log has not grown" + (f" ({asked})" if asked else ""))
    return JobOutcome({"Checkpoint": 1}, f"signed at tree size {signed.column_size}" + (f"; {asked}" if asked else ""))


def build_jobs(settings: Settings, ledger: Ledger, log: TransparencyLog) -> list[Job]:
    """The jobs of a deployment: every sweep of the ledger, and checkpoints unless their interval is 0."""
    every = timedelta(seconds=settings.sweep_interval)
    jobs = [Job(name, every, sweep.title, partial(_sweep, ledger, name)) for name, sweep in SWEEPS.items()]
    if settings.checkpoint_interval > 0:
        jobs.append(
            Job(
                "checkpoints",
                timedelta(seconds=settings.checkpoint_interval),
                "a signed checkpoint of the log, when it has grown",
                partial(_checkpoint, log),
            )
        )
    return jobs


class JobBook:
    """``scheduler_jobs``: one row per job, rewritten by each run."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        with psycopg.connect(self.database_url, connect_timeout=10) as conn:
            yield conn

    def create_table(self) -> None:
        with self._connect() as conn, conn.transaction():
            lock_schema(conn)
            conn.execute(JOBS_SCHEMA)

    def record(
        self,
        job: str,
        *,
        started_at: datetime,
        today: date,
        trigger: str,
        runner: str,
        status: str,
        error: str | None,
        raised: dict[str, int],
    ) -> None:
        scheduled_at = started_at if trigger == "scheduled" else None
        raised_json = json.dumps(raised, sort_keys=True)
        with self._connect() as conn:
            conn.execute(
                RECORD,
                {
                    "job": job,
                    "started": started_at,
                    "today": today,
                    "trigger": trigger,
                    "runner": runner,
                    "status": status,
                    "error": error,
                    "raised": raised_json,
                    "scheduled": scheduled_at,
                    "any": bool(raised),
                },
            )

    def runs(self) -> dict[str, JobRun]:
        with self._connect() as conn:
            rows = conn.execute(RUNS).fetchall()
        return {row[0]: JobRun(*row) for row in rows}


class Jobs:
    """The jobs of this deployment, each run for one business day and recorded in the job book."""

    def __init__(
        self,
        jobs: Sequence[Job],
        book: JobBook,
        *,
        clock: Callable[[], datetime],
        zone: tzinfo,
        runner: str | None = None,
    ) -> None:
        self._jobs = {job.name: job for job in jobs}
        self.book = book
        self.clock = clock
        self.zone = zone
        self.runner = runner or runner_identity()

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def get(self, name: str) -> Job:
        try:
            return self._jobs[name]
        except KeyError:
            raise KeyError(f"no job named {name!r} (there are: {', '.join(self._jobs)})") from None

    def today(self) -> date:
        """The business date now, in the bureau's timezone."""
        return self.clock().astimezone(self.zone).date()

    def run(self, name: str, *, today: date | None = None, trigger: str = "manual") -> JobOutcome:
        """Run one job now for ``today`` (default: the clock's date) and record the run, failed or not."""
        job = self.get(name)
        day = today or self.today()
        started = datetime.now(UTC)  # real time: the next scheduled run is due an interval after it
        record = functools.partial(
            self.book.record, name, started_at=started, today=day, trigger=trigger, runner=self.runner
        )
        context = {"job": name, "trigger": trigger, "today": day.isoformat(), "runner": self.runner}
        logger.info("job %s started (%s, for %s)", name, trigger, day, extra={**context, "outcome": "started"})
        clock = time.perf_counter()
        try:
            outcome = job.action(day)
        except Exception as error:
            record(status="failed", error=f"{type(error).__name__}: {error}", raised={})
            logger.exception(
                "job %s failed after %.0f ms",
                name,
                _since(clock),
                extra={**context, "outcome": "failed", "duration_ms": _since(clock)},
            )
            raise
        record(status="ok", error=None, raised=outcome.raised)
        raised = ", ".join(f"{kind} ×{count}" for kind, count in sorted(outcome.raised.items())) or "nothing"
        logger.info(
            "job %s ok in %.0f ms: raised %s (%s)",
            name,
            _since(clock),
            raised,
            outcome.detail,
            extra={**context, "outcome": "ok", "duration_ms": _since(clock), "raised": outcome.raised},
        )
        return outcome


def _since(clock: float) -> float:
    return round((time.perf_counter() - clock) * 1000, 1)


class LeaderLock:
    """The scheduler's leadership: a session-level advisory lock held on a connection of its own."""

    def __init__(self, database_url: str, identity: str) -> None:
        self.database_url = database_url
        self.identity = identity
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None

    def _session(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._conn is None or self._conn.closed:
            conninfo = make_conninfo(
                self.database_url, application_name=f"jixiao-scheduler {self.identity}", **LOCK_SESSION
            )
            self._conn = psycopg.connect(conninfo, autocommit=True)
        return self._conn

    def acquire(self) -> bool:
        """Take the lock if nobody holds it (never waits); raises if the database does not answer."""
        try:
            row = self._session().execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()
        except psycopg.Error:
            self.close()  # a session of its own again at the next try
            raise
        return bool(row and row[0])

    def holding(self) -> bool:
        """Whether this session still holds the lock (false once the session is gone)."""
        try:
            row = (
                self._session()
                .execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND classid = %s AND objid = %s AND objsubid = 1 AND granted)",
                    (LEADER_LOCK >> 32, LEADER_LOCK & 0xFFFF_FFFF),
                )
                .fetchone()
            )
        except psycopg.Error:
            self.close()
            return False
        return bool(row and row[0])

    def release(self) -> None:
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (LEADER_LOCK,))
            except psycopg.Error:
                self.close()  # ending the session releases it anyway

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def current_leader(database_url: str) -> tuple[str, datetime] | None:
    """Who leads the scheduler now (its application name) and since when its session exists, if anyone does."""
    with psycopg.connect(database_url, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s AND l.objsubid = 1 AND l.granted",
            (LEADER_LOCK >> 32, LEADER_LOCK & 0xFFFF_FFFF),
        ).fetchone()
    return (str(row[0]), row[1]) if row else None


class Scheduler:
    """APScheduler in this process, with jobs only while this process leads. ``start()`` / ``stop()``."""

    def __init__(self, jobs: Jobs, database_url: str, *, poll: float = 2.0, create_schema: bool = True) -> None:
        self.jobs = jobs
        self.poll = poll
        self.create_schema = create_schema
        self.lock = LeaderLock(database_url, jobs.runner)
        self._leading = threading.Event()
        self._stopping = threading.Event()
        self._aps = BackgroundScheduler(
            timezone=jobs.zone,
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            # A run missed (down, paused, slow) is made once however many were missed, however late.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._thread = threading.Thread(target=self._elect, name="jixiao-scheduler-election", daemon=True)
        self.state = RoleState("scheduler")  # up while its polls reach the database, leading or standing by
        self.state.thread = self._thread

    @classmethod
    def for_service(
        cls,
        settings: Settings,
        ledger: Ledger,
        log: TransparencyLog,
        database_url: str,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> Scheduler:
        jobs = Jobs(
            build_jobs(settings, ledger, log), JobBook(database_url), clock=clock or ledger.clock, zone=settings.zone
        )
        return cls(jobs, database_url, poll=settings.scheduler_poll, create_schema=settings.create_schema)

    @property
    def is_leader(self) -> bool:
        return self._leading.is_set()

    def wait_until_leader(self, timeout: float) -> bool:
        return self._leading.wait(timeout)

    def start(self) -> None:
        if self.create_schema:
            self.jobs.book.create_table()
        self._aps.start()
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)
        self._leading.clear()  # a run already queued does nothing
        if self._aps.running:  # stopping twice stops once
            self._aps.shutdown(wait=True)  # lets a running job finish before the lock goes
        self.lock.release()
        self.lock.close()

    def _elect(self) -> None:
        """Poll for the leadership (or, leading, check it is still held) until stopped. Nothing else ends it: with
        the database away (restarting, say) it stands down, and stands again at each poll until it answers."""
        while not self._stopping.is_set():
            try:
                if self._leading.is_set():
                    if self.lock.holding():
                        self.state.connected()
                    else:
                        logger.warning("the scheduler's leadership was lost (its database session ended)")
                        self._step_down()
                elif self.lock.acquire():
                    logger.info("%s leads the scheduler", self.jobs.runner)
                    self._take_over()
                    self.state.connected()
                else:
                    self.state.connected()  # another process leads: this one stands by
            except Exception as error:  # the database may be away: stand down, stand again at the next poll
                self.state.lost(error)
                if isinstance(error, psycopg.OperationalError):
                    logger.warning("the scheduler's election failed (%s); trying again", error)
                else:
                    logger.exception("the scheduler's election failed; trying again")
                self._step_down()
            self._stopping.wait(self.poll)

    def _take_over(self) -> None:
        book = self.jobs.book.runs()
        now = datetime.now(UTC)
        self._leading.set()  # before the first job can fire
        for job in self.jobs:
            last = book.get(job.name)
            previous = last.last_scheduled_at if last else None
            # Due an interval after the last scheduled run: if that is past, it was missed and runs now, once (a
            # run time a little in the past keeps APScheduler from iterating over every missed one).
            first = now if previous is None else max(previous + job.every, now - job.every)
            self._aps.add_job(
                self._scheduled,
                IntervalTrigger(seconds=job.every.total_seconds(), timezone=UTC),
                args=[job.name],
                id=job.name,
                name=job.name,
                next_run_time=first,
                replace_existing=True,
            )

    def _step_down(self) -> None:
        self._leading.clear()
        self._aps.remove_all_jobs()
        self.lock.release()

    def _scheduled(self, name: str) -> None:
        if not self._leading.is_set():
            return
        try:
            self.jobs.run(name, trigger="scheduled")  # which logs the run: its start, its end and what it raised
        except Exception:  # logged and recorded as failed in the job book; the next run tries again
            return
