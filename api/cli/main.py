"""The ``jixiao`` command line."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from api.cli import integrity, roles
from api.config.database import database_url, display_url, open_ledger, stop_embedded_server
from api.config.keys import open_log, signing_key
from api.config.settings import Settings, load_settings
from api.config.state import StateMissing
from api.logs import configure_logging, logging_config
from ledger.domain.errors import DomainError
from ledger.domain.sweeps import SWEEPS
from ledger.log.audit import BundleError
from ledger.log.checkpoint import CheckpointError
from ledger.log.witness import WitnessError
from ledger.store.tlog import BundleUnavailable
from ledger.store.tree import ProofUnavailable

ROLES = frozenset({"serve", "worker", "dispatcher", "relay", "scheduler"})  # the commands that run until stopped
WORKER_HEALTHCHECK = 30  # seconds an API worker process may take to answer uvicorn's health check


def _serve(settings: Settings, _: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    # Set the ledger up (the key first: a missing key file the settings name stops it before anything is made), and
    # start the embedded database, before announcing anything.
    key = signing_key(settings, create=True)
    url = database_url(settings, create=True)
    base = f"http://{settings.host}:{settings.port}"
    print(f"Jixiao Ledger on {base}  —  OpenAPI docs: {base}/docs", flush=True)
    print(f"Database: {display_url(url)}", flush=True)
    print(f"Checkpoints signed by: {key.verifier.to_string()}", flush=True)
    signal.signal(signal.SIGTERM, _stopped)
    # uvicorn logs through the service's configuration (JIXIAO_LOG_FORMAT), in every worker process; each request's
    # line is the service's own (api.logs.RequestLog), with its id, principal and duration, not uvicorn's.
    log_config = logging_config(settings.log_format, settings.log_level)
    if settings.workers > 1:  # each worker process builds its own app from the same environment
        # A worker answers uvicorn's health check only once it has imported the app: on a busy machine that took
        # longer than uvicorn's 5 s, and each worker was killed and started again, for ever.
        uvicorn.run(
            "api.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            log_config=log_config,
            access_log=False,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK,
            timeout_graceful_shutdown=settings.shutdown_timeout,
        )
    else:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            log_config=log_config,
            access_log=False,
            timeout_graceful_shutdown=settings.shutdown_timeout,
        )
    return 0


def _stopped(signum: int, frame: FrameType | None) -> None:
    """SIGTERM is how systemd and Kubernetes ask a service to stop. uvicorn handles it while it serves, stops, then
    raises it again for the handler it found: this one, so that an asked-for stop ends with status 0, as Ctrl-C does
    (the default action would kill the process: 143)."""
    raise SystemExit(0)


def _demo(settings: Settings, _: argparse.Namespace) -> int:
    from api.cli.demo import format_summary, run_demo

    signing_key(settings, create=True)
    url = database_url(settings, create=True)
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

    url = database_url(settings, create=True)
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


def _tokens(settings: Settings, args: argparse.Namespace) -> int:
    """Issue, list, revoke or re-sign the bearer tokens principals use (only their SHA-256 is stored)."""
    import psycopg
    from psycopg_pool import ConnectionPool

    from api.auth import TokenStore, keys_for

    with ConnectionPool(
        database_url(settings), min_size=1, max_size=1, kwargs={"autocommit": True}, name="jixiao-cli"
    ) as pool:
        store = TokenStore(pool, keys_for(settings))
        if settings.create_schema:
            store.create_table()
        if args.what == "create":
            if args.unit is not None and (args.org or args.role != "department"):
                print("--unit names a budget unit's staff: with --role department, instead of --org", file=sys.stderr)
                return 2
            organisation = args.org if args.unit is None else args.unit  # a unit's staff act for the unit by its name
            token, record = store.issue(args.name, args.role, organisation, created_by=args.by)
            print(token)
            print(
                f"{record.token_id}: {record.name} ({record.role}, {record.organisation or '-'}) — shown once, "
                "keep it secret",
                file=sys.stderr,
            )
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
                print(
                    f"{item.token_id}  {item.role:<10} {item.name:<24} {item.organisation:<20} "
                    f"created {item.created_at:%Y-%m-%d %H:%M} by {item.created_by}"
                )
            if not records:
                print("no unsigned token records")
            elif args.yes:
                print(
                    f"signed {len(records)} token records with {store.keys.signer.verifier.key_id.hex()}"
                    if store.keys.signer
                    else ""
                )
            else:
                print(
                    f"{len(records)} unsigned token records from before the upgrade (above); check each is one "
                    "you issued, then run again with --yes to sign them",
                    file=sys.stderr,
                )
                return 1
        else:
            revoked = store.revoke(args.token_id, revoked_by=args.by)
            if revoked is None:
                print(f"no token {args.token_id}", file=sys.stderr)
                return 1
            print(
                f"revoked {revoked.record.token_id} ({revoked.record.name})"
                + (f"; {len(revoked.subscriptions)} webhook subscriptions disabled" if revoked.subscriptions else "")
            )
            if revoked.unconfirmed or revoked.busy:
                print(
                    f"warning: {revoked.unconfirmed} service processes did not confirm and {len(revoked.busy)} "
                    "subscriptions were still being delivered; they stop within seconds",
                    file=sys.stderr,
                )
    return 0


def _add_witness_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--witness",
        action="append",
        metavar="VKEY",
        help="a witness's verifier key (or a file holding it) to pin (repeatable)",
    )
    parser.add_argument(
        "--min-witnesses",
        type=int,
        default=None,
        metavar="N",
        help="how many pinned witnesses must have cosigned (default: all pinned)",
    )


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
    key = commands.add_parser("key", help="the checkpoint signing key").add_subparsers(
        dest="key_command", required=True
    )
    key.add_parser("show", help="print the verifier (public) key").set_defaults(handler=integrity.key_show_command)
    commands.add_parser("checkpoint", help="sign a checkpoint of the log now").set_defaults(
        handler=integrity.checkpoint_command
    )
    verify = commands.add_parser("verify", help="verify the live ledger, or an audit bundle offline")
    verify.add_argument("--bundle", help="an audit bundle file: checked offline, no database needed")
    verify.add_argument("--key", help="the published verifier key (or a file holding it) to pin")
    verify.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes each checking chunks of the log and hashing their part of the tree "
        "(default: one per core; 0: all in this process)",
    )
    _add_witness_options(verify)
    verify.add_argument(
        "--checkpoint",
        action="append",
        metavar="FILE",
        help="a checkpoint kept outside the operator's reach (e.g. by `jixiao audit`); the live log "
        "must still have its tree at its size, and the checkpoint table must hold it (repeatable)",
    )
    verify.add_argument(
        "--max-unsigned",
        type=int,
        default=None,
        metavar="LEAVES",
        help="fail when more leaves at the head are not covered by a signed (or witnessed) checkpoint "
        "(default: JIXIAO_VERIFY_MAX_UNSIGNED_LEAVES, no limit)",
    )
    verify.add_argument(
        "--max-unsigned-age",
        type=float,
        default=None,
        metavar="SECONDS",
        help="fail when the first leaf not covered by a signed (or witnessed) checkpoint was recorded "
        "longer ago (default: JIXIAO_VERIFY_MAX_UNSIGNED_AGE, 600; 0: no limit)",
    )
    verify.add_argument(
        "--deep",
        action="store_true",
        help="also replay every aggregate from its events and compare every snapshot with the replay",
    )
    verify.add_argument(
        "--pure-python",
        action="store_true",
        help="check with the pure-Python reference implementation, not the C accelerator (as "
        "JIXIAO_PURE_PYTHON=1 does); both give the same results",
    )
    verify.set_defaults(handler=integrity.verify_command)
    auditing = commands.add_parser(
        "audit",
        help="as an auditor, from any machine: keep the service's checkpoints "
        "and prove each new one extends the last one kept",
    )
    auditing.add_argument("--url", required=True, help="the service, e.g. http://ledger.example:8000")
    auditing.add_argument("--key", required=True, help="the log's published verifier key (or a file holding it)")
    auditing.add_argument("--dir", required=True, help="the folder where this auditor keeps checkpoints (its own)")
    auditing.add_argument("--origin", help="the log's origin to insist on (default: whatever the key signs)")
    _add_witness_options(auditing)
    auditing.set_defaults(handler=integrity.audit_command)
    witness = commands.add_parser(
        "witness", help="run an independent witness that cosigns checkpoints (c2sp.org/tlog-witness)"
    ).add_subparsers(dest="witness_command", required=True)
    init = witness.add_parser("init", help="make a witness key in a data folder and print its verifier key")
    init.add_argument("--name", required=True, help="the witness's name, e.g. sjj.example.gov.cn/witness")
    init.add_argument("--data", required=True, help="its data folder (key, watched logs, state)")
    init.add_argument("--log", action="append", metavar="ORIGIN=VKEY", help="a log to watch (repeatable)")
    init.set_defaults(handler=integrity.witness_command)
    add_log = witness.add_parser("add-log", help="watch a log: its origin and verifier key")
    add_log.add_argument("--data", required=True)
    add_log.add_argument("--origin", required=True, help="the log's origin (first line of its checkpoints)")
    add_log.add_argument("--key", required=True, help="the log's verifier key (or a file holding it)")
    add_log.set_defaults(handler=integrity.witness_command)
    show = witness.add_parser("show", help="the witness's verifier key and what it has cosigned")
    show.add_argument("--data", required=True)
    show.set_defaults(handler=integrity.witness_command)
    serve_witness = witness.add_parser("serve", help="serve POST /add-checkpoint")
    serve_witness.add_argument("--data", required=True)
    serve_witness.add_argument("--host", default="127.0.0.1")
    serve_witness.add_argument("--port", type=int, default=7380)
    serve_witness.set_defaults(handler=integrity.witness_command)
    commands.add_parser("worker", help="keep the read models following the log").set_defaults(
        handler=roles.worker_command
    )
    commands.add_parser("dispatcher", help="deliver webhooks to subscribers").set_defaults(
        handler=roles.dispatcher_command
    )
    relay = commands.add_parser("relay", help="publish the log to other systems").add_subparsers(
        dest="relay_target", required=True
    )
    relay.add_parser("nats", help="to NATS JetStream (JIXIAO_NATS_URL, JIXIAO_NATS_STREAM)").set_defaults(
        handler=roles.relay_command
    )
    projections = commands.add_parser("projections", help="the read models").add_subparsers(
        dest="projections_command", required=True
    )
    projections.add_parser("status", help="each read model's position, the log head, lag, digest").set_defaults(
        handler=roles.projections_command
    )
    rebuild = projections.add_parser("rebuild", help="rebuild from zero into a fresh table, then swap it in")
    rebuild.add_argument("name", nargs="?", help="the read model to rebuild")
    rebuild.add_argument("--all", action="store_true", help="rebuild every read model")
    rebuild.set_defaults(handler=roles.projections_command)
    token = commands.add_parser("token", help="bearer tokens for principals").add_subparsers(dest="what", required=True)
    create = token.add_parser("create", help="issue a token and print it (once)")
    create.add_argument("--role", required=True, help="finance, department, agency, auditor or admin")
    create.add_argument(
        "--org", default="", help="the organisation it acts for (a department's exact name; a unit's staff: --unit)"
    )
    create.add_argument(
        "--unit",
        help="a budget unit's staff (预算单位, with --role department): the unit's exact name, instead of --org; they "
        "act for the unit's projects only",
    )
    create.add_argument("--name", required=True, help="the principal's id, recorded on every event it causes")
    create.add_argument("--by", default="cli", help="who issued it (recorded)")
    create.set_defaults(handler=_tokens)
    token.add_parser(
        "list", help="every token issued, live or revoked, and any the service refuses (and why)"
    ).set_defaults(handler=_tokens)
    revoke = token.add_parser("revoke", help="revoke a token by its id (tok_…): refused everywhere once this returns")
    revoke.add_argument("token_id")
    revoke.add_argument("--by", default="cli", help="who revoked it (recorded)")
    revoke.set_defaults(handler=_tokens)
    resign = token.add_parser(
        "resign",
        help="once, after upgrading: sign the token records of earlier versions "
        "(as the schema owner, with the signing key)",
    )
    resign.add_argument("--yes", action="store_true", help="sign them (without it: only list them)")
    resign.set_defaults(handler=_tokens)
    commands.add_parser("scheduler", help="run the scheduler alone (one leader across all processes)").set_defaults(
        handler=roles.scheduler_command
    )
    jobs = commands.add_parser("jobs", help="the scheduler's jobs").add_subparsers(dest="jobs_command", required=True)
    jobs.add_parser("list", help="each job's schedule, last run and what it raised").set_defaults(
        handler=roles.jobs_command
    )
    run = jobs.add_parser("run", help="run one job now (idempotent), for today or a given past day")
    run.add_argument("name", help="the job: " + ", ".join([*SWEEPS, "checkpoints"]))
    run.add_argument("--today", help="the business day to run it for (YYYY-MM-DD, not after today)")
    run.set_defaults(handler=roles.jobs_command)
    export = commands.add_parser("export", help="write an audit bundle for one project")
    export.add_argument("--project", required=True, help="project id, or YEAR/CODE such as 2021/NY-01")
    export.add_argument("--out", required=True, help="the bundle file to write")
    export.set_defaults(handler=integrity.export_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        # The long-running roles log at JIXIAO_LOG_LEVEL; a command that answers and ends, its warnings only.
        configure_logging(settings.log_format, settings.log_level if args.command in ROLES else "warning")
        return int(args.handler(settings, args))
    except DomainError as error:
        print(f"refused ({error.code}): {error.detail}", file=sys.stderr)
        return 2
    except StateMissing as error:  # says what is missing and what to run, in both languages
        print(error, file=sys.stderr)
        return 2
    except (
        BundleError,
        BundleUnavailable,
        CheckpointError,
        WitnessError,
        ProofUnavailable,
        OSError,
        ValueError,
        KeyError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
