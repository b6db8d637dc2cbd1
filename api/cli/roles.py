"""The long-running roles ``jixiao`` runs as processes of their own (read models, webhooks, the NATS relay, the
scheduler), and the commands that look after them."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from api.config.database import database_url, display_url, open_ledger
from api.config.keys import open_log
from api.config.settings import Settings
from api.roles.scheduler import JobBook, Jobs, Scheduler, build_jobs, current_leader
from ledger.application import Ledger
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


def worker_command(settings: Settings, _: argparse.Namespace) -> int:
    """Follow the log with every read model until interrupted (on the embedded database: made if there is none)."""
    runner = _runner(settings, create=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:  # a Ctrl-C as soon as it says it follows is an ordinary stop too
        print("following the log (Ctrl-C to stop) …", flush=True)
        runner.run(stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def dispatcher_command(settings: Settings, _: argparse.Namespace) -> int:
    """Deliver webhooks until interrupted (run beside services started with JIXIAO_RUN_DISPATCHER=false)."""
    from api.app import dispatcher_for
    from api.roles.webhooks import WebhookStore

    url = database_url(settings)
    if settings.create_schema:
        WebhookStore(url).create_tables()
    dispatcher = dispatcher_for(settings, url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    dispatcher.start()
    print("delivering webhooks (Ctrl-C to stop) …", flush=True)
    return serve_until_interrupted(stop.wait, dispatcher.stop)


def relay_command(settings: Settings, _: argparse.Namespace) -> int:
    """Publish every event to NATS JetStream, resuming where it stopped, until interrupted."""
    import asyncio

    from api.roles.relay import NatsRelay

    relay = NatsRelay(
        database_url(settings), settings.nats_url, stream=settings.nats_stream, prefix=settings.nats_subject_prefix
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        print(f"relaying the log to {settings.nats_url}, stream {settings.nats_stream} (Ctrl-C to stop) …", flush=True)
        await relay.run(stop)

    asyncio.run(main())
    return 0


def projections_command(settings: Settings, args: argparse.Namespace) -> int:
    runner = _runner(settings)
    if args.projections_command == "status":
        print(f"{'projection':<24} {'position':>10} {'head':>10} {'lag':>8}  digest")
        for status in runner.status():
            digest = runner.digest(read_model(status.name))[:16]
            print(f"{status.name:<24} {status.position:>10,} {status.head:>10,} {status.lag:>8,}  {digest}")
        return 0
    names = [model.name for model in read_models()] if args.all else [args.name]
    if not names or names == [None]:
        print("name a projection or use --all", file=sys.stderr)
        return 2
    for name in names:
        started = time.perf_counter()
        digest = runner.rebuild(read_model(name))
        print(f"rebuilt {name} in {time.perf_counter() - started:.1f}s, digest {digest[:16]}")
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


def scheduler_command(settings: Settings, _: argparse.Namespace) -> int:
    """Stand for the scheduler's leadership and run its jobs while leading, until interrupted."""
    with _service_parts(settings) as (url, ledger, log):
        scheduler = Scheduler.for_service(settings, ledger, log, url)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        scheduler.start()
        print(
            f"scheduler {scheduler.jobs.runner} standing for leadership on {display_url(url)} (Ctrl-C to stop)",
            flush=True,
        )

        def wait() -> None:
            while not stop.wait(1):
                pass

        return serve_until_interrupted(wait, scheduler.stop)


def jobs_command(settings: Settings, args: argparse.Namespace) -> int:
    with _service_parts(settings) as (url, ledger, log):
        jobs = Jobs(build_jobs(settings, ledger, log), JobBook(url), clock=ledger.clock, zone=settings.zone)
        if settings.create_schema:
            jobs.book.create_table()
        if args.jobs_command == "list":
            print(_jobs_table(jobs, url, settings))
            return 0
        today = jobs.today()
        day = date.fromisoformat(args.today) if args.today else today
        if day > today:
            # A notice recorded for a day that has not come would be a false, permanent entry in the log.
            print(f"refused: {day} is after today ({today} in {settings.timezone})", file=sys.stderr)
            return 2
        outcome = jobs.run(args.name, today=day, trigger="manual")
        raised = ", ".join(f"{name} ×{count}" for name, count in sorted(outcome.raised.items())) or "nothing"
        print(f"{args.name} for {day}: raised {raised} ({outcome.detail})")
    return 0


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
