"""The ``jixiao`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from uuid import UUID

from api.database import database_url, display_url, open_ledger, stop_embedded_server
from api.integrity import open_log, signing_key
from api.scheduler import JobBook, Jobs, Scheduler, build_jobs, current_leader
from api.settings import Settings, load_settings
from ledger import speedups
from ledger.application import Ledger
from ledger.audit import BundleError, dumps_bundle, export_bundle, verify_bundle
from ledger.checkpoint import CheckpointError, VerifierKey
from ledger.errors import DomainError
from ledger.sweeps import SWEEPS
from ledger.tlog import ProofUnavailable, TransparencyLog, verify_log
from projections.catalog import read_model, read_models
from projections.runner import Runner


def _serve(settings: Settings, _: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    url = database_url(settings)  # start the embedded database before announcing anything
    base = f"http://{settings.host}:{settings.port}"
    print(f"Jixiao Ledger on {base}  —  OpenAPI docs: {base}/docs", flush=True)
    print(f"Database: {display_url(url)}", flush=True)
    print(f"Checkpoints signed by: {signing_key(settings).verifier.to_string()}", flush=True)
    # The access log only at info or debug: uvicorn builds each line's arguments before its logger looks at the level.
    access_log = settings.log_level in ("info", "debug")
    if settings.workers > 1:  # each worker process builds its own app from the same environment
        uvicorn.run("api.app:app_from_environment", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, log_level=settings.log_level, access_log=access_log)
    else:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
                    access_log=access_log)
    return 0


def _demo(settings: Settings, _: argparse.Namespace) -> int:
    from api.demo import format_summary, run_demo

    ledger = open_ledger(settings, database_url(settings))
    try:
        ledger.bootstrap()
        print(format_summary(run_demo(ledger)))
    finally:
        ledger.close()
    return 0


def _db_url(settings: Settings, _: argparse.Namespace) -> int:
    print(display_url(database_url(settings)))
    return 0


def _db_migrate(settings: Settings, _: argparse.Namespace) -> int:
    """Create or upgrade the whole schema (run as the database owner), then record ruleset version 1."""
    from api.schema import migrate

    url = database_url(settings)
    migrate(url, settings)
    print(f"schema ready in {display_url(url)}")
    return 0


def _db_service_role(settings: Settings, args: argparse.Namespace) -> int:
    """Create or update the role the services run as: append to the log and read it, nothing more."""
    from api.schema import grant_service_role, service_role_sql

    url = database_url(settings)
    if args.print:
        print(service_role_sql(args.role, url), end="")
        return 0
    grant_service_role(url, args.role, args.password or os.environ.get("JIXIAO_SERVICE_PASSWORD"))
    print(f"role {args.role} may append to and read the ledger in {display_url(url)}")
    return 0


def _db_stop(settings: Settings, _: argparse.Namespace) -> int:
    if settings.database_url:
        print("DATABASE_URL is set: that server is not ours to stop.", file=sys.stderr)
        return 1
    print("stopped" if stop_embedded_server(settings.data_dir) else "not running")
    return 0


def _key_show(settings: Settings, _: argparse.Namespace) -> int:
    """Print the verifier key auditors pin (publish it where they can find it)."""
    print(signing_key(settings).verifier.to_string())
    return 0


def _checkpoint(settings: Settings, _: argparse.Namespace) -> int:
    log = open_log(settings, database_url(settings))
    try:
        signed = log.sign_checkpoint()
        print(signed.note if signed else "the log has not grown since the last checkpoint", end="" if signed else "\n")
    finally:
        log.close()
    return 0


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    pinned = _pinned_key(args.key)
    if args.bundle:
        return _verify_bundle(Path(args.bundle), pinned)
    url = database_url(settings)
    key = pinned or signing_key(settings).verifier
    native = speedups.use_native(False if args.pure_python else None)
    print(f"Verifying {display_url(url)} against {key.name}+{key.key_id.hex()} ({speedups.describe(native)}) …",
          flush=True)
    report = verify_log(url, key, origin=settings.log_origin, workers=args.workers,
                        progress=lambda n: print(f"  {n:,} leaves", flush=True), accelerator=native)
    if not report.ok:
        for failure in report.failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"OK: {report.events:,} events, {report.checkpoints} signed checkpoints — every leaf hash, the chain, "
          f"every checkpoint's root and signature ({report.rate:,.0f} events/s; {report.implementation})")
    return 0


def _verify_bundle(path: Path, pinned: VerifierKey | None) -> int:
    report = verify_bundle(path.read_bytes(), pinned)
    if not report.ok:
        for failure in report.failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    what = ", ".join(f"{k}={v}" for k, v in report.summary.items())
    print(f"OK: {report.events} events of {report.object_id} ({what}) are in the log signed by {report.key_name} "
          f"at tree size {report.checkpoint_size}, unaltered and in order")
    if not report.key_pinned:
        print("NOTE: checked with the key inside the bundle; pin the published key with --key to rule out a forgery",
              file=sys.stderr)
    return 0


def _pinned_key(value: str | None) -> VerifierKey | None:
    if value is None:
        return None
    text = Path(value).read_text().strip() if Path(value).is_file() else value
    return VerifierKey.from_string(text)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    url = database_url(settings)
    log = open_log(settings, url)
    try:
        ledger = Ledger(url)
        try:
            object_id = _object_id(ledger, args.project)
        finally:
            ledger.close()
        bundle = export_bundle(log, signing_key(settings).verifier, object_id)
    finally:
        log.close()
    Path(args.out).write_text(dumps_bundle(bundle), encoding="utf-8")
    print(f"wrote {args.out}: {len(bundle['events'])} events proved against tree size "
          f"{bundle['checkpoint'].splitlines()[1]}")
    return 0


def _object_id(ledger: Ledger, given: str) -> UUID:
    """A project id, or ``YEAR/CODE`` (e.g. 2021/NY-01)."""
    if "/" in given:
        year, code = given.split("/", 1)
        return ledger.project_id_of(int(year), code)
    return UUID(given)


def _tokens(settings: Settings, args: argparse.Namespace) -> int:
    """Issue, list or revoke the bearer tokens principals use (only their SHA-256 is stored)."""
    from psycopg_pool import ConnectionPool

    from api.auth import TokenStore

    with ConnectionPool(database_url(settings), min_size=1, max_size=1, kwargs={"autocommit": True},
                        name="jixiao-cli") as pool:
        store = TokenStore(pool)
        if settings.create_schema:
            store.create_table()
        if args.what == "create":
            token, record = store.issue(args.name, args.role, args.org, created_by=args.by)
            print(token)
            print(f"{record.token_id}: {record.name} ({record.role}, {record.organisation or '-'}) — shown once, "
                  "keep it secret", file=sys.stderr)
        elif args.what == "list":
            for item in store.list():
                state = f"revoked {item.revoked_at:%Y-%m-%d %H:%M}" if item.revoked_at else "live"
                print(f"{item.token_id}  {item.role:<10} {item.name:<24} {item.organisation:<20} {state}")
        else:
            revoked = store.revoke(args.token_id)
            if revoked is None:
                print(f"no token {args.token_id}", file=sys.stderr)
                return 1
            print(f"revoked {revoked.token_id} ({revoked.name})")
    return 0


def _runner(settings: Settings) -> Runner:
    runner = Runner(database_url(settings), read_models(), page=settings.projection_page,
                    interval=settings.projection_interval)
    runner.setup()
    return runner


def _worker(settings: Settings, _: argparse.Namespace) -> int:
    """Follow the log with every read model until interrupted."""
    runner = _runner(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("following the log (Ctrl-C to stop) …", flush=True)
    try:
        runner.run(stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def _dispatcher(settings: Settings, _: argparse.Namespace) -> int:
    """Deliver webhooks until interrupted (run beside services started with JIXIAO_RUN_DISPATCHER=false)."""
    from api.app import dispatcher_for
    from api.webhooks import WebhookStore

    url = database_url(settings)
    if settings.create_schema:
        WebhookStore(url).create_tables()
    dispatcher = dispatcher_for(settings, url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    dispatcher.start()
    print("delivering webhooks (Ctrl-C to stop) …", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        dispatcher.stop()
    return 0


def _relay(settings: Settings, _: argparse.Namespace) -> int:
    """Publish every event to NATS JetStream, resuming where it stopped, until interrupted."""
    import asyncio

    from api.relay import NatsRelay

    relay = NatsRelay(database_url(settings), settings.nats_url, stream=settings.nats_stream,
                      prefix=settings.nats_subject_prefix)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        print(f"relaying the log to {settings.nats_url}, stream {settings.nats_stream} (Ctrl-C to stop) …",
              flush=True)
        await relay.run(stop)

    asyncio.run(main())
    return 0


def _projections(settings: Settings, args: argparse.Namespace) -> int:
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


def _scheduler(settings: Settings, _: argparse.Namespace) -> int:
    """Stand for the scheduler's leadership and run its jobs while leading, until interrupted."""
    with _service_parts(settings) as (url, ledger, log):
        scheduler = Scheduler.for_service(settings, ledger, log, url)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        scheduler.start()
        print(f"scheduler {scheduler.jobs.runner} standing for leadership on {display_url(url)} (Ctrl-C to stop)",
              flush=True)
        try:
            while not stop.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            scheduler.stop()
    return 0


def _jobs(settings: Settings, args: argparse.Namespace) -> int:
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
    lines = [f"leader: {leader[0]} (since {leader[1].astimezone(zone):%Y-%m-%d %H:%M:%S %Z})" if leader
             else "leader: none (no scheduler is running)", ""]
    book = jobs.book.runs()
    lines.append(f"{'job':<24} {'every':>8}  {'last run':<19} {'for day':<10}  {'trigger':<9} {'status':<6} "
                 f"{'runs':>6}  raised by the last run / last raised anything")
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
        lines.append(f"{job.name:<24} {every:>8}  {run.last_started_at.astimezone(zone):%Y-%m-%d %H:%M:%S} "
                     f"{run.last_today.isoformat():<10}  {run.last_trigger:<9} {run.last_status:<6} {run.runs:>6}  "
                     f"{last}{ever}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jixiao", description="Jixiao Ledger 绩效账本")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP service").set_defaults(handler=_serve)
    commands.add_parser("demo", help="load the fiscal-year 2021 scenario (idempotent)").set_defaults(handler=_demo)
    db = commands.add_parser("db", help="the database in use").add_subparsers(dest="db_command", required=True)
    db.add_parser("url", help="print the connection URL (for psql)").set_defaults(handler=_db_url)
    db.add_parser("stop", help="stop the embedded PostgreSQL").set_defaults(handler=_db_stop)
    db.add_parser("migrate", help="create the schema (as the database owner)").set_defaults(handler=_db_migrate)
    role = db.add_parser("service-role", help="create or update the role the services run as (as the owner)")
    role.add_argument("--role", required=True, help="its name, e.g. jixiao_app")
    role.add_argument("--password", help="its password (or JIXIAO_SERVICE_PASSWORD); omitted: left as it is")
    role.add_argument("--print", action="store_true", help="print the SQL instead of running it")
    role.set_defaults(handler=_db_service_role)
    key = commands.add_parser("key", help="the checkpoint signing key").add_subparsers(dest="key_command",
                                                                                        required=True)
    key.add_parser("show", help="print the verifier (public) key").set_defaults(handler=_key_show)
    commands.add_parser("checkpoint", help="sign a checkpoint of the log now").set_defaults(handler=_checkpoint)
    verify = commands.add_parser("verify", help="verify the live ledger, or an audit bundle offline")
    verify.add_argument("--bundle", help="an audit bundle file: checked offline, no database needed")
    verify.add_argument("--key", help="the published verifier key (or a file holding it) to pin")
    verify.add_argument("--workers", type=int, default=None,
                        help="processes each checking chunks of the log and hashing their part of the tree "
                             "(default: one per core; 0: all in this process)")
    verify.add_argument("--pure-python", action="store_true",
                        help="check with the pure-Python reference implementation, not the C accelerator (as "
                             "JIXIAO_PURE_PYTHON=1 does); both give the same results")
    verify.set_defaults(handler=_verify)
    commands.add_parser("worker", help="keep the read models following the log").set_defaults(handler=_worker)
    commands.add_parser("dispatcher", help="deliver webhooks to subscribers").set_defaults(handler=_dispatcher)
    relay = commands.add_parser("relay", help="publish the log to other systems").add_subparsers(
        dest="relay_target", required=True)
    relay.add_parser("nats", help="to NATS JetStream (JIXIAO_NATS_URL, JIXIAO_NATS_STREAM)").set_defaults(
        handler=_relay)
    projections = commands.add_parser("projections", help="the read models").add_subparsers(
        dest="projections_command", required=True)
    projections.add_parser("status", help="each read model's position, the log head, lag, digest").set_defaults(
        handler=_projections)
    rebuild = projections.add_parser("rebuild", help="rebuild from zero into a fresh table, then swap it in")
    rebuild.add_argument("name", nargs="?", help="the read model to rebuild")
    rebuild.add_argument("--all", action="store_true", help="rebuild every read model")
    rebuild.set_defaults(handler=_projections)
    token = commands.add_parser("token", help="bearer tokens for principals").add_subparsers(
        dest="what", required=True)
    create = token.add_parser("create", help="issue a token and print it (once)")
    create.add_argument("--role", required=True, help="finance, department, agency, auditor or admin")
    create.add_argument("--org", default="", help="the organisation it acts for (a department's exact name)")
    create.add_argument("--name", required=True, help="the principal's id, recorded on every event it causes")
    create.add_argument("--by", default="cli", help="who issued it (recorded)")
    create.set_defaults(handler=_tokens)
    token.add_parser("list", help="every token issued, live or revoked").set_defaults(handler=_tokens)
    revoke = token.add_parser("revoke", help="revoke a token by its id (tok_…)")
    revoke.add_argument("token_id")
    revoke.set_defaults(handler=_tokens)
    commands.add_parser("scheduler", help="run the scheduler alone (one leader across all processes)").set_defaults(
        handler=_scheduler)
    jobs = commands.add_parser("jobs", help="the scheduler's jobs").add_subparsers(dest="jobs_command", required=True)
    jobs.add_parser("list", help="each job's schedule, last run and what it raised").set_defaults(handler=_jobs)
    run = jobs.add_parser("run", help="run one job now (idempotent), for today or a given past day")
    run.add_argument("name", help="the job: " + ", ".join([*SWEEPS, "checkpoints"]))
    run.add_argument("--today", help="the business day to run it for (YYYY-MM-DD, not after today)")
    run.set_defaults(handler=_jobs)
    export = commands.add_parser("export", help="write an audit bundle for one project")
    export.add_argument("--project", required=True, help="project id, or YEAR/CODE such as 2021/NY-01")
    export.add_argument("--out", required=True, help="the bundle file to write")
    export.set_defaults(handler=_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(load_settings(), args))
    except DomainError as error:
        print(f"refused ({error.code}): {error.detail}", file=sys.stderr)
        return 2
    except (BundleError, CheckpointError, ProofUnavailable, OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
