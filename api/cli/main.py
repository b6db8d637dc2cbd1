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
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from api.config.database import database_url, display_url, open_ledger, stop_embedded_server
from api.config.keys import open_log, signing_key
from api.config.settings import Settings, load_settings
from api.roles.scheduler import JobBook, Jobs, Scheduler, build_jobs, current_leader
from ledger.application import Ledger
from ledger.application.replay import replay_all
from ledger.domain.errors import DomainError
from ledger.domain.sweeps import SWEEPS
from ledger.log import speedups
from ledger.log.audit import BundleError, dumps_bundle, verify_bundle
from ledger.log.checkpoint import CheckpointError, VerifierKey
from ledger.log.monitor import AuditError, CheckpointKeeper, LogClient, Misbehaviour, audit
from ledger.log.verifier import VerifyPolicy
from ledger.log.witness import TrustPolicy, WitnessError, WitnessKey
from ledger.store.tlog import BundleUnavailable, TransparencyLog
from ledger.store.tree import ProofUnavailable
from ledger.store.verify_log import verify_log
from projections.registry import read_model, read_models
from projections.runner import Runner

WORKER_HEALTHCHECK = 30  # seconds an API worker process may take to answer uvicorn's health check


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
        # A worker answers uvicorn's health check only once it has imported the app: on a busy machine that took
        # longer than uvicorn's 5 s, and each worker was killed and started again, for ever.
        uvicorn.run("api.app:app_from_environment", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, log_level=settings.log_level, access_log=access_log,
                    timeout_worker_healthcheck=WORKER_HEALTHCHECK)
    else:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level,
                    access_log=access_log)
    return 0


def _demo(settings: Settings, _: argparse.Namespace) -> int:
    from api.cli.demo import format_summary, run_demo

    url = database_url(settings)
    ledger = open_ledger(settings, url)
    try:
        ledger.bootstrap()
        print(format_summary(run_demo(ledger)))
    finally:
        ledger.close()
    log = open_log(settings, url)
    try:  # what the demo recorded is covered by a signed checkpoint at once, as the scheduler would within a minute
        log.cosign(log.sign_checkpoint())
    finally:
        log.close()
    return 0


def _db_url(settings: Settings, _: argparse.Namespace) -> int:
    print(display_url(database_url(settings)))
    return 0


def _db_migrate(settings: Settings, _: argparse.Namespace) -> int:
    """Create or upgrade the whole schema (run as the database owner), then record ruleset version 1."""
    from api.config.migrations import migrate

    url = database_url(settings)
    migrate(url, settings)
    print(f"schema ready in {display_url(url)}")
    return 0


def _db_service_role(settings: Settings, args: argparse.Namespace) -> int:
    """Create or update the role the services run as: append to the log and read it, nothing more."""
    from api.config.migrations import grant_service_role, service_role_sql

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
    """Sign a checkpoint now (if the log grew), ask the witnesses to cosign, print the note with cosignatures."""
    log = open_log(settings, database_url(settings))
    try:
        signed = log.sign_checkpoint()
        outcomes = log.cosign(signed)
        latest = log.latest_checkpoint()
        if latest is None:
            print("the log is empty: nothing to sign")
            return 0
        if signed is None:
            print(f"the log has not grown since the checkpoint at size {latest.column_size}", file=sys.stderr)
        print(log.cosigned_note(latest), end="")
        for name, outcome in sorted(outcomes.items()):
            print(f"witness {name}: {outcome}", file=sys.stderr)
    finally:
        log.close()
    return 0


def _policy_parts(args: argparse.Namespace) -> tuple[list[WitnessKey], int]:
    witnesses = [WitnessKey.from_string(_read_or_value(value)) for value in args.witness or []]
    return witnesses, args.min_witnesses if args.min_witnesses is not None else len(witnesses)


def _verify(settings: Settings, args: argparse.Namespace) -> int:
    pinned = _pinned_key(args.key)
    witnesses, min_witnesses = _policy_parts(args)
    if args.bundle:
        key = pinned
        policy = TrustPolicy(key or _bundle_key(Path(args.bundle)), tuple(witnesses), min_witnesses)
        return _verify_bundle(Path(args.bundle), pinned, policy)
    url = database_url(settings)
    key = pinned or signing_key(settings).verifier
    TrustPolicy(key, tuple(witnesses), min_witnesses)  # refuses a policy no checkpoint could meet
    kept = tuple((path, Path(path).read_text(encoding="utf-8")) for path in args.checkpoint or [])
    age = args.max_unsigned_age if args.max_unsigned_age is not None else settings.verify_max_unsigned_age
    policy_ = VerifyPolicy(kept=kept, witnesses=tuple(witnesses), min_witnesses=min_witnesses,
                           max_unanchored_leaves=args.max_unsigned if args.max_unsigned is not None
                           else settings.verify_max_unsigned_leaves,
                           max_unanchored_age=timedelta(seconds=age) if age else None)
    native = speedups.use_native(False if args.pure_python else None)
    print(f"Verifying {display_url(url)} against {key.name}+{key.key_id.hex()} ({speedups.describe(native)}) …",
          flush=True)
    report = verify_log(url, key, origin=settings.log_origin, workers=args.workers,
                        progress=lambda n: print(f"  {n:,} leaves", flush=True), accelerator=native,
                        policy=policy_)
    deep = None
    if args.deep and report.ok:
        print("Replaying every aggregate and comparing every snapshot with the replay …", flush=True)
        deep = replay_all(url, workers=args.workers)
    failures = report.failures + (deep.failures if deep else [])
    if failures:
        for failure in failures[:50]:
            print(f"FAILED: {failure}", file=sys.stderr)
        if len(failures) > 50:
            print(f"FAILED: … and {len(failures) - 50} more", file=sys.stderr)
        return 1
    anchored = f"checkpoint {report.anchored:,}"
    if report.anchored_by:
        anchored += f" cosigned by {', '.join(report.anchored_by)}"
    tail = (f"; {report.unanchored:,} leaves at the head not yet covered (since "
            f"{report.unanchored_since:%Y-%m-%d %H:%M:%S %Z})" if report.unanchored and report.unanchored_since
            else "")
    print(f"OK: {report.events:,} events, {report.checkpoints} signed checkpoints (newest meeting the policy: "
          f"{anchored}{tail}), {report.snapshots:,} snapshots authenticated, {report.kept} kept checkpoints held — "
          f"every leaf hash, the chain, every checkpoint's root and signature ({report.rate:,.0f} events/s; "
          f"{report.implementation})")
    if deep is not None:
        print(f"OK: {deep.aggregates:,} aggregates replayed from {deep.events:,} events; {deep.snapshots:,} snapshots "
              f"equal their replay ({deep.rate:,.0f} events/s)")
    return 0


def _bundle_key(path: Path) -> VerifierKey:
    import json

    try:
        return VerifierKey.from_string(json.loads(path.read_bytes())["verifier_key"])
    except (ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"the bundle names no verifier key: {error}") from None


def _verify_bundle(path: Path, pinned: VerifierKey | None, policy: TrustPolicy) -> int:
    report = verify_bundle(path.read_bytes(), pinned, policy)
    if not report.ok:
        for failure in report.failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    what = ", ".join(f"{k}={v}" for k, v in report.summary.items())
    witnessed = f", cosigned by {', '.join(report.witnesses)}" if report.witnesses else ""
    print(f"OK: {report.events} events of {report.object_id} ({what}) are in the log signed by {report.key_name} "
          f"at tree size {report.checkpoint_size}{witnessed}, unaltered and in order")
    if not report.key_pinned:
        print("NOTE: checked with the key inside the bundle; pin the published key with --key to rule out a forgery",
              file=sys.stderr)
    return 0


def _read_or_value(value: str) -> str:
    """A key given as itself, or as the path of a file holding it."""
    path = Path(value)
    return path.read_text(encoding="utf-8").strip() if "+" not in value and path.is_file() else value.strip()


def _pinned_key(value: str | None) -> VerifierKey | None:
    if value is None:
        return None
    return VerifierKey.from_string(_read_or_value(value))


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    """Fetch the service's checkpoint, prove it extends the one kept last time, keep it (see ledger.monitor)."""
    key = _pinned_key(args.key)
    assert key is not None
    witnesses, min_witnesses = _policy_parts(args)
    policy = TrustPolicy(key, tuple(witnesses), min_witnesses, origin=args.origin)
    keeper = CheckpointKeeper(Path(args.dir))
    try:
        report = audit(LogClient(args.url), keeper, policy)
    except Misbehaviour as error:
        print(f"MISBEHAVIOUR: {error}", file=sys.stderr)
        return 1
    except (CheckpointError, WitnessError) as error:
        print(f"FAILED: the service's checkpoint does not meet the policy: {error}", file=sys.stderr)
        return 1
    except AuditError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    checkpoint = report.checkpoint
    witnessed = f", cosigned by {', '.join(report.witnesses)}" if report.witnesses else ""
    if report.first:
        print(f"kept the first checkpoint of {checkpoint.origin}: size {checkpoint.size}{witnessed} (trusted on first "
              f"use; every later run must extend it) in {args.dir}")
    elif report.previous is not None and report.previous.size == checkpoint.size:
        print(f"OK: {checkpoint.origin} is still at size {checkpoint.size}, the tree kept before{witnessed}")
    else:
        assert report.previous is not None
        print(f"OK: {checkpoint.origin} at size {checkpoint.size}{witnessed} extends the checkpoint kept at size "
              f"{report.previous.size} (RFC 9162 consistency proof verified); kept in {args.dir}")
    return 0


def _witness(settings: Settings, args: argparse.Namespace) -> int:
    """Run an independent witness (c2sp.org/tlog-witness): see api.witness."""
    from api.roles.witness import WitnessHome, WitnessServer

    home = WitnessHome(Path(args.data))
    if args.witness_command == "init":
        key = home.init(args.name)
        for entry in args.log or []:
            origin, _, vkey = entry.partition("=")
            home.add_log(origin, VerifierKey.from_string(_read_or_value(vkey)))
        print(key.verifier.to_string())
        print(f"witness {args.name} made in {args.data}; give the verifier key above to the logs' auditors, and "
              "watch a log with `jixiao witness add-log`", file=sys.stderr)
        return 0
    if args.witness_command == "add-log":
        home.add_log(args.origin, VerifierKey.from_string(_read_or_value(args.key)))
        print(f"watching {args.origin} (signed by {VerifierKey.from_string(_read_or_value(args.key)).name})")
        return 0
    if args.witness_command == "show":
        print(home.key().verifier.to_string())
        for entry in home.logs():
            seen = home.witness().state.get(entry.origin)
            print(f"  {entry.origin}: {', '.join(k.to_string() for k in entry.keys)}; "
                  f"cosigned up to size {seen.size if seen else 0}")
        return 0
    witness = home.witness()
    if not witness.logs:
        print(f"error: the witness in {args.data} watches no log yet (jixiao witness add-log)", file=sys.stderr)
        return 2
    server = WitnessServer((args.host, args.port), witness)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"witness {witness.key.name} on http://{args.host}:{server.server_address[1]}/add-checkpoint, watching "
          f"{', '.join(witness.logs)} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    url = database_url(settings)
    log = open_log(settings, url)
    try:
        ledger = Ledger(url)
        try:
            object_id = _object_id(ledger, args.project)
        finally:
            ledger.close()
        bundle = log.export_bundle(signing_key(settings).verifier, object_id)
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
    """Issue, list, revoke or re-sign the bearer tokens principals use (only their SHA-256 is stored)."""
    import psycopg
    from psycopg_pool import ConnectionPool

    from api.auth import TokenStore, keys_for

    with ConnectionPool(database_url(settings), min_size=1, max_size=1, kwargs={"autocommit": True},
                        name="jixiao-cli") as pool:
        store = TokenStore(pool, keys_for(settings))
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
                refused = f"  REFUSED: {item.refused}" if item.refused else ""
                print(f"{item.token_id}  {item.role:<10} {item.name:<24} {item.organisation:<20} {state}{refused}")
        elif args.what == "resign":
            try:
                records = store.resign(confirm=args.yes)
            except psycopg.errors.InsufficientPrivilege as error:
                print(f"error: {error}; run it as the schema owner", file=sys.stderr)
                return 2
            for item in records:
                print(f"{item.token_id}  {item.role:<10} {item.name:<24} {item.organisation:<20} "
                      f"created {item.created_at:%Y-%m-%d %H:%M} by {item.created_by}")
            if not records:
                print("no unsigned token records")
            elif args.yes:
                print(f"signed {len(records)} token records with {store.keys.signer.verifier.key_id.hex()}"
                      if store.keys.signer else "")
            else:
                print(f"{len(records)} unsigned token records from before the upgrade (above); check each is one "
                      "you issued, then run again with --yes to sign them", file=sys.stderr)
                return 1
        else:
            revoked = store.revoke(args.token_id, revoked_by=args.by)
            if revoked is None:
                print(f"no token {args.token_id}", file=sys.stderr)
                return 1
            print(f"revoked {revoked.record.token_id} ({revoked.record.name})"
                  + (f"; {len(revoked.subscriptions)} webhook subscriptions disabled" if revoked.subscriptions
                     else ""))
            if revoked.unconfirmed or revoked.busy:
                print(f"warning: {revoked.unconfirmed} service processes did not confirm and {len(revoked.busy)} "
                      "subscriptions were still being delivered; they stop within seconds", file=sys.stderr)
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
    from api.roles.webhooks import WebhookStore

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

    from api.roles.relay import NatsRelay

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


def _add_witness_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--witness", action="append", metavar="VKEY",
                        help="a witness's verifier key (or a file holding it) to pin (repeatable)")
    parser.add_argument("--min-witnesses", type=int, default=None, metavar="N",
                        help="how many pinned witnesses must have cosigned (default: all pinned)")


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
    _add_witness_options(verify)
    verify.add_argument("--checkpoint", action="append", metavar="FILE",
                        help="a checkpoint kept outside the operator's reach (e.g. by `jixiao audit`); the live log "
                             "must still have its tree at its size, and the checkpoint table must hold it (repeatable)")
    verify.add_argument("--max-unsigned", type=int, default=None, metavar="LEAVES",
                        help="fail when more leaves at the head are not covered by a signed (or witnessed) checkpoint "
                             "(default: JIXIAO_VERIFY_MAX_UNSIGNED_LEAVES, no limit)")
    verify.add_argument("--max-unsigned-age", type=float, default=None, metavar="SECONDS",
                        help="fail when the first leaf not covered by a signed (or witnessed) checkpoint was recorded "
                             "longer ago (default: JIXIAO_VERIFY_MAX_UNSIGNED_AGE, 600; 0: no limit)")
    verify.add_argument("--deep", action="store_true",
                        help="also replay every aggregate from its events and compare every snapshot with the replay")
    verify.add_argument("--pure-python", action="store_true",
                        help="check with the pure-Python reference implementation, not the C accelerator (as "
                             "JIXIAO_PURE_PYTHON=1 does); both give the same results")
    verify.set_defaults(handler=_verify)
    auditing = commands.add_parser("audit", help="as an auditor, from any machine: keep the service's checkpoints "
                                   "and prove each new one extends the last one kept")
    auditing.add_argument("--url", required=True, help="the service, e.g. http://ledger.example:8000")
    auditing.add_argument("--key", required=True, help="the log's published verifier key (or a file holding it)")
    auditing.add_argument("--dir", required=True, help="the folder where this auditor keeps checkpoints (its own)")
    auditing.add_argument("--origin", help="the log's origin to insist on (default: whatever the key signs)")
    _add_witness_options(auditing)
    auditing.set_defaults(handler=_audit)
    witness = commands.add_parser("witness", help="run an independent witness that cosigns checkpoints "
                                  "(c2sp.org/tlog-witness)").add_subparsers(dest="witness_command", required=True)
    init = witness.add_parser("init", help="make a witness key in a data folder and print its verifier key")
    init.add_argument("--name", required=True, help="the witness's name, e.g. sjj.example.gov.cn/witness")
    init.add_argument("--data", required=True, help="its data folder (key, watched logs, state)")
    init.add_argument("--log", action="append", metavar="ORIGIN=VKEY", help="a log to watch (repeatable)")
    init.set_defaults(handler=_witness)
    add_log = witness.add_parser("add-log", help="watch a log: its origin and verifier key")
    add_log.add_argument("--data", required=True)
    add_log.add_argument("--origin", required=True, help="the log's origin (first line of its checkpoints)")
    add_log.add_argument("--key", required=True, help="the log's verifier key (or a file holding it)")
    add_log.set_defaults(handler=_witness)
    show = witness.add_parser("show", help="the witness's verifier key and what it has cosigned")
    show.add_argument("--data", required=True)
    show.set_defaults(handler=_witness)
    serve_witness = witness.add_parser("serve", help="serve POST /add-checkpoint")
    serve_witness.add_argument("--data", required=True)
    serve_witness.add_argument("--host", default="127.0.0.1")
    serve_witness.add_argument("--port", type=int, default=7380)
    serve_witness.set_defaults(handler=_witness)
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
    token.add_parser("list", help="every token issued, live or revoked, and any the service refuses (and why)"
                     ).set_defaults(handler=_tokens)
    revoke = token.add_parser("revoke", help="revoke a token by its id (tok_…): refused everywhere once this returns")
    revoke.add_argument("token_id")
    revoke.add_argument("--by", default="cli", help="who revoked it (recorded)")
    revoke.set_defaults(handler=_tokens)
    resign = token.add_parser("resign", help="once, after upgrading: sign the token records of earlier versions "
                              "(as the schema owner, with the signing key)")
    resign.add_argument("--yes", action="store_true", help="sign them (without it: only list them)")
    resign.set_defaults(handler=_tokens)
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
    except (BundleError, BundleUnavailable, CheckpointError, WitnessError, ProofUnavailable, OSError, ValueError,
            KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
