"""The scheduler in one process, on PostgreSQL: one leader, take-over, missed runs made once, the job book, the CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from api.app import create_app
from api.config.settings import Settings
from api.roles.scheduler import Job, JobBook, JobOutcome, Jobs, Scheduler, build_jobs, current_leader
from ledger.application import Ledger
from ledger.log.checkpoint import SigningKey
from ledger.store.tlog import TransparencyLog
from tests.ledger.application.test_application import approved_project

pytestmark = pytest.mark.db

KEY = SigningKey.generate("test.example-log")


def settings_for(url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "data_dir": tmp_path,
        "signing_key": KEY.to_string(),
        "log_origin": "test.example/log",
        "scheduler_poll": 0.2,
        "sweep_interval": 600,
        "checkpoint_interval": 3600,
        "run_projections": False,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def log(database_url: str) -> Iterator[TransparencyLog]:
    tlog = TransparencyLog(database_url, origin="test.example/log", signing_key=KEY)
    tlog.create_tables()
    try:
        yield tlog
    finally:
        tlog.close()


def scheduler_for(settings: Settings, ledger: Ledger, log: TransparencyLog, runner: str) -> Scheduler:
    assert settings.database_url is not None
    jobs = Jobs(
        build_jobs(settings, ledger, log),
        JobBook(settings.database_url),
        clock=ledger.clock,
        zone=settings.zone,
        runner=runner,
    )
    return Scheduler(jobs, settings.database_url, poll=settings.scheduler_poll)


def wait_for(condition: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def test_one_scheduler_leads_and_another_takes_over_when_it_stops(
    ledger: Ledger, log: TransparencyLog, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, tmp_path)
    first = scheduler_for(settings, ledger, log, "first:1")
    second = scheduler_for(settings, ledger, log, "second:2")
    first.start()
    assert first.wait_until_leader(5)
    second.start()
    try:
        time.sleep(1.0)  # five of the follower's tries
        assert (first.is_leader, second.is_leader) == (True, False)
        leader = current_leader(database_url)
        assert leader is not None
        assert leader[0] == "jixiao-scheduler first:1"
        first.stop()  # waits for any job it is running, then lets go of the lock
        released = time.monotonic()
        assert second.wait_until_leader(10)
        assert time.monotonic() - released < 3  # a few of the follower's 0.2 s polls, on a busy machine
        assert wait_for(lambda: (current_leader(database_url) or ("",))[0] == "jixiao-scheduler second:2")
        # The new leader keeps the schedule: what the first ran at its start is not due again for ten minutes.
        time.sleep(1.0)
        deadlines = JobBook(database_url).runs()["deadlines"]
        assert (deadlines.runs, deadlines.last_runner) == (1, "first:1")
    finally:
        second.stop()
    assert current_leader(database_url) is None


def test_a_job_missed_while_no_scheduler_ran_is_made_once_on_start(
    ledger: Ledger, log: TransparencyLog, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, tmp_path)
    book = JobBook(database_url)
    book.create_table()
    now = datetime.now(UTC)
    # Down for three hours: eighteen 10-minute runs of the deadline sweep missed; the hourly checkpoint is not due.
    book.record(
        "deadlines",
        started_at=now - timedelta(hours=3),
        today=date(2021, 1, 4),
        trigger="scheduled",
        runner="old:1",
        status="ok",
        error=None,
        raised={},
    )
    book.record(
        "checkpoints",
        started_at=now - timedelta(minutes=10),
        today=date(2021, 1, 4),
        trigger="scheduled",
        runner="old:1",
        status="ok",
        error=None,
        raised={},
    )
    approved_project(ledger)
    ledger.clock.set(date(2021, 8, 8))  # type: ignore[attr-defined]  # the FakeClock of the fixture
    scheduler = scheduler_for(settings, ledger, log, "new:2")
    scheduler.start()
    try:
        assert scheduler.wait_until_leader(5)
        never_run = ("deviations", "funding-suspension", "rectifications-overdue", "blacklist-expiry")
        assert wait_for(lambda: book.runs()["deadlines"].runs == 2 and set(never_run) <= set(book.runs()), 30)
        time.sleep(1.0)  # were the missed runs made one by one, they would be here by now
        runs = book.runs()
    finally:
        scheduler.stop()
    assert runs["deadlines"].runs == 2
    assert (runs["deadlines"].last_runner, runs["deadlines"].last_today) == ("new:2", date(2021, 8, 8))
    assert runs["deadlines"].last_raised == {"Project.DeadlineApproaching": 1}
    assert runs["checkpoints"].runs == 1  # not due: its last run was ten minutes ago
    assert {name: runs[name].runs for name in never_run} == dict.fromkeys(never_run, 1)  # never run before: at once


def test_the_job_book_keeps_the_last_run_and_the_last_thing_raised(database_url: str) -> None:
    book = JobBook(database_url)
    book.create_table()
    outcomes = iter([JobOutcome({"Project.DeadlineMissed": 2}, "visited 2"), JobOutcome({}, "visited 0")])

    def fail(day: date) -> JobOutcome:
        raise RuntimeError("database away")

    jobs = Jobs(
        [
            Job("deadlines", timedelta(minutes=5), "d", lambda day: next(outcomes)),
            Job("broken", timedelta(minutes=5), "b", fail),
        ],
        book,
        clock=lambda: datetime(2021, 8, 15, 16, 30, tzinfo=UTC),
        zone=Settings().zone,
        runner="me:1",
    )
    assert jobs.today() == date(2021, 8, 16)  # 00:30 in Shanghai
    jobs.run("deadlines", trigger="scheduled")
    jobs.run("deadlines", today=date(2021, 8, 10))
    with pytest.raises(RuntimeError):
        jobs.run("broken")
    runs = book.runs()
    deadlines = runs["deadlines"]
    assert (deadlines.runs, deadlines.last_today, deadlines.last_trigger, deadlines.last_raised) == (
        2,
        date(2021, 8, 10),
        "manual",
        {},
    )
    assert deadlines.raised == {"Project.DeadlineMissed": 2}
    assert deadlines.last_scheduled_at is not None  # from the scheduled run; a manual one does not move the schedule
    assert (runs["broken"].last_status, runs["broken"].last_error) == ("failed", "RuntimeError: database away")
    with pytest.raises(KeyError, match="no job named"):
        jobs.run("nonsense")


def test_the_service_runs_the_scheduler_for_its_lifetime(ledger: Ledger, database_url: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, tmp_path, checkpoint_interval=0.5)
    app = create_app(settings, ledger=ledger)

    async def serve() -> None:
        async with app.router.lifespan_context(app):  # what the server runs at start and at shutdown
            assert app.state.scheduler.wait_until_leader(5)
            assert wait_for(lambda: (current_leader(database_url) or ("",))[0].startswith("jixiao-scheduler "))
            assert wait_for(lambda: JobBook(database_url).runs().get("checkpoints") is not None)

    asyncio.run(serve())
    assert current_leader(database_url) is None
    with psycopg.connect(database_url) as conn:
        signed = conn.execute("SELECT count(*) FROM ledger_checkpoints").fetchone()
    assert signed is not None
    assert signed[0] >= 1


def jixiao(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JIXIAO_DATA_DIR": str(tmp_path),
        "JIXIAO_SIGNING_KEY": KEY.to_string(),
        "JIXIAO_LOG_ORIGIN": "test.example/log",
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_jobs_run_and_list_from_the_command_line(ledger: Ledger, database_url: str, tmp_path: Path) -> None:
    approved_project(ledger)
    ran = jixiao(database_url, tmp_path, "jobs", "run", "deadlines", "--today", "2021-08-16")
    assert ran.returncode == 0, ran.stderr
    assert "deadlines for 2021-08-16: raised Project.DeadlineMissed ×1" in ran.stdout
    again = jixiao(database_url, tmp_path, "jobs", "run", "deadlines", "--today", "2021-08-16")
    assert "raised nothing" in again.stdout
    future = jixiao(database_url, tmp_path, "jobs", "run", "deadlines", "--today", "2999-01-01")
    assert future.returncode == 2
    assert "after today" in future.stderr
    unknown = jixiao(database_url, tmp_path, "jobs", "run", "nonsense")
    assert unknown.returncode == 2
    listed = jixiao(database_url, tmp_path, "jobs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "leader: none" in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if line.startswith("deadlines "))
    assert "2021-08-16" in row
    assert "manual" in row
    assert "Project.DeadlineMissed ×1" in row  # the last run raised nothing; the one before raised this
    assert next(line for line in listed.stdout.splitlines() if line.startswith("deviations ")).endswith("never")
