"""The long-running roles ``jixiao`` runs as processes of their own (``worker``: read models, ``dispatcher``:
webhooks, ``relay nats``, ``scheduler``), and the commands that look after them (``projections``, ``jobs``)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import click

from api.cli.options import (
    DATE,
    STATE,
    Command,
    Group,
    current_settings,
    json_option,
    print_json,
    settings_options,
)
from api.cli.progress import Progress
from api.config.database import database_url, display_url, open_ledger
from api.config.keys import open_log
from api.config.settings import Settings
from api.roles.scheduler import JobBook, Jobs, Scheduler, build_jobs, current_leader
from ledger.application import Ledger
from ledger.domain.sweeps import SWEEPS
from ledger.store.tlog import TransparencyLog
from projections.registry import read_model, read_models
from projections.runner import Runner


def serve_until_interrupted(serve: Callable[[], object], stop: Callable[[], object]) -> int:
    """Run ``serve`` until it returns or Ctrl-C interrupts it, then ``stop`` what it served, whichever way it ended;
    a command's exit status (0: an interrupt is the ordinary way to end a long-running role)."""
    try:
        serve()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0


def _runner(settings: Settings, *, create: bool = False) -> Runner:
    runner = Runner(
        database_url(settings, create=create),
        read_models(),
        page=settings.projection_page,
        interval=settings.projection_interval,
    )
    runner.setup()
    return runner


@click.command("worker", cls=Command)
@settings_options(*STATE, "projection_page", "projection_interval")
def worker() -> int:
    """Keep the read models following the log.

    Until interrupted; on the embedded database, made if there is none."""
    runner = _runner(current_settings(), create=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:  # a Ctrl-C as soon as it says it follows is an ordinary stop too
        print("following the log (Ctrl-C to stop) …", flush=True)
        runner.run(stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


@click.command("dispatcher", cls=Command)
@settings_options(*STATE, "webhook_max_attempts", "webhook_timeout")
def dispatcher() -> int:
    """Deliver webhooks to subscribers.

    Until interrupted; beside services run with JIXIAO_RUN_DISPATCHER=false."""
    from api.app import dispatcher_for
    from api.roles.webhooks import WebhookStore

    settings = current_settings()
    url = database_url(settings)
    if settings.create_schema:
        WebhookStore(url).create_tables()
    delivering = dispatcher_for(settings, url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    delivering.start()
    print("delivering webhooks (Ctrl-C to stop) …", flush=True)
    return serve_until_interrupted(stop.wait, delivering.stop)


@click.group("relay", cls=Group)
def relay() -> None:
    """Publish the log to other systems."""


@relay.command("nats")
@settings_options(*STATE, "nats_url", "nats_stream", "nats_subject_prefix")
def relay_nats() -> int:
    """Publish every event to NATS JetStream, resuming where it stopped, until interrupted."""
    import asyncio

    from api.roles.relay import NatsRelay

    settings = current_settings()
    publisher = NatsRelay(
        database_url(settings), settings.nats_url, stream=settings.nats_stream, prefix=settings.nats_subject_prefix
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        print(f"relaying the log to {settings.nats_url}, stream {settings.nats_stream} (Ctrl-C to stop) …", flush=True)
        await publisher.run(stop)

    asyncio.run(main())
    return 0


@click.group("projections", cls=Group)
def projections() -> None:
    """The read models."""


@projections.command("status")
@json_option
@settings_options(*STATE)
def projections_status(as_json: bool) -> int:
    """Each read model's position, the log head, lag, digest."""
    runner = _runner(current_settings())
    rows = [(status, runner.digest(read_model(status.name))) for status in runner.status()]
    if as_json:
        print_json(
            {
                "projections": [
                    {"name": s.name, "position": s.position, "head": s.head, "lag": s.lag, "digest": digest}
                    for s, digest in rows
                ]
            }
        )
        return 0
    print(f"{'projection':<24} {'position':>10} {'head':>10} {'lag':>8}  digest")
    for status, digest in rows:
        print(f"{status.name:<24} {status.position:>10,} {status.head:>10,} {status.lag:>8,}  {digest[:16]}")
    return 0


@projections.command("rebuild")
@click.argument("name", required=False, metavar="NAME", type=click.Choice([model.name for model in read_models()]))
@click.option("--all", "every", is_flag=True, help="rebuild every read model")
@settings_options(*STATE, "progress_interval")
def projections_rebuild(name: str | None, every: bool) -> int:
    """Rebuild a read model (NAME, or --all) from zero into a fresh table, then swap it in."""
    settings = current_settings()
    names = [model.name for model in read_models()] if every else [name] if name else []
    if not names:
        print("name a projection or use --all", file=sys.stderr)
        return 2
    runner = _runner(settings)
    for each in names:
        started = time.perf_counter()
        with Progress(f"重建 rebuilding {each}", "events", interval=settings.progress_interval) as progress:
            digest = runner.rebuild(read_model(each), progress=progress.update)
        print(f"rebuilt {each} in {time.perf_counter() - started:.1f}s, digest {digest[:16]}")
    return 0


@contextmanager
def _service_parts(settings: Settings) -> Iterator[tuple[str, Ledger, TransparencyLog]]:
    url = database_url(settings)
    ledger = open_ledger(settings, url)
    try:
        ledger.bootstrap()
        log = open_log(settings, url)
        try:
            yield url, ledger, log
        finally:
            log.close()
    finally:
        ledger.close()


@click.command("scheduler", cls=Command)
@settings_options(*STATE, "sweep_interval", "checkpoint_interval", "scheduler_poll", "timezone")
def scheduler() -> int:
    """Run the scheduler alone (one leader at a time).

    Stand for its leadership and run its jobs while leading, until interrupted."""
    settings = current_settings()
    with _service_parts(settings) as (url, ledger, log):
        running = Scheduler.for_service(settings, ledger, log, url)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        running.start()
        print(
            f"scheduler {running.jobs.runner} standing for leadership on {display_url(url)} (Ctrl-C to stop)",
            flush=True,
        )

        def wait() -> None:
            while not stop.wait(1):
                pass

        return serve_until_interrupted(wait, running.stop)


@contextmanager
def _jobs(settings: Settings) -> Iterator[tuple[str, Jobs]]:
    with _service_parts(settings) as (url, ledger, log):
        book = Jobs(build_jobs(settings, ledger, log), JobBook(url), clock=ledger.clock, zone=settings.zone)
        if settings.create_schema:
            book.book.create_table()
        yield url, book


@click.group("jobs", cls=Group)
def jobs() -> None:
    """The scheduler's jobs."""


@jobs.command("list")
@json_option
@settings_options(*STATE, "timezone")
def jobs_list(as_json: bool) -> int:
    """Each job's schedule, last run and what it raised."""
    settings = current_settings()
    with _jobs(settings) as (url, book):
        if as_json:
            print_json(_jobs_document(book, url))
        else:
            print(_jobs_table(book, url, settings))
    return 0


@jobs.command("run")
@click.argument("name", type=click.Choice([*SWEEPS, "checkpoints"]))
@click.option(
    "--today",
    type=DATE,
    help="the business day to run it for (not after today): 2025-03-19, 2025/03/19 or 2025年3月19日",
)
@settings_options(*STATE, "timezone")
def jobs_run(name: str, today: date | None) -> int:
    """Run one job now (idempotent), for today or a given past day."""
    settings = current_settings()
    with _jobs(settings) as (_, book):
        now = book.today()
        day = today or now
        if day > now:
            # A notice recorded for a day that has not come would be a false, permanent entry in the log.
            print(f"refused: {day} is after today ({now} in {settings.timezone})", file=sys.stderr)
            return 2
        outcome = book.run(name, today=day, trigger="manual")
    raised = ", ".join(f"{kind} ×{count}" for kind, count in sorted(outcome.raised.items())) or "nothing"
    print(f"{name} for {day}: raised {raised} ({outcome.detail})")
    return 0


def _jobs_document(book: Jobs, url: str) -> dict[str, Any]:
    """What ``jobs list --json`` prints: the leader (or null) and each job with its last run (or null)."""
    leader = current_leader(url)
    runs = book.book.runs()
    items = []
    for job in book:
        run = runs.get(job.name)
        last = None
        if run is not None:
            last = {
                "started_at": run.last_started_at,
                "today": run.last_today,
                "trigger": run.last_trigger,
                "runner": run.last_runner,
                "status": run.last_status,
                "error": run.last_error,
                "raised": run.last_raised,
            }
        items.append(
            {
                "name": job.name,
                "every_seconds": job.every.total_seconds(),
                "runs": run.runs if run else 0,
                "last_run": last,
                "last_raised_anything": {"at": run.raised_at, "raised": run.raised} if run and run.raised else None,
            }
        )
    return {"leader": {"runner": leader[0], "since": leader[1]} if leader else None, "jobs": items}


def _jobs_table(jobs: Jobs, url: str, settings: Settings) -> str:
    zone = settings.zone
    leader = current_leader(url)
    lines = [
        f"leader: {leader[0]} (since {leader[1].astimezone(zone):%Y-%m-%d %H:%M:%S %Z})"
        if leader
        else "leader: none (no scheduler is running)",
        "",
    ]
    book = jobs.book.runs()
    lines.append(
        f"{'job':<24} {'every':>8}  {'last run':<19} {'for day':<10}  {'trigger':<9} {'status':<6} "
        f"{'runs':>6}  raised by the last run / last raised anything"
    )
    for job in jobs:
        run = book.get(job.name)
        every = f"{job.every.total_seconds():g}s"
        if run is None:
            lines.append(f"{job.name:<24} {every:>8}  never")
            continue
        last = ", ".join(f"{k} ×{v}" for k, v in sorted(run.last_raised.items())) or "nothing"
        if run.last_status != "ok":
            last = f"FAILED: {run.last_error}"
        ever = ""
        if run.raised and run.raised_at and run.raised != run.last_raised:
            what = ", ".join(f"{k} ×{v}" for k, v in sorted(run.raised.items()))
            ever = f" / {run.raised_at.astimezone(zone):%Y-%m-%d %H:%M}: {what}"
        lines.append(
            f"{job.name:<24} {every:>8}  {run.last_started_at.astimezone(zone):%Y-%m-%d %H:%M:%S} "
            f"{run.last_today.isoformat():<10}  {run.last_trigger:<9} {run.last_status:<6} {run.runs:>6}  "
            f"{last}{ever}"
        )
    return "\n".join(lines)
