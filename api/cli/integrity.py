"""The integrity commands of ``jixiao``: the signing key (``key`` group, ``key show``), ``checkpoint``, ``verify``
(live and offline), ``audit`` (the auditor's client), ``witness`` (group) and ``export`` (audit bundles)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from api.cli.options import PROJECT, STATE, Command, Group, ProjectRef, current_settings, project_id, settings_options
from api.cli.progress import Progress
from api.cli.roles import serve_until_interrupted
from api.config.database import database_url, display_url
from api.config.keys import check_origin_at, open_log, signing_key
from ledger.application import Ledger
from ledger.application.draw_check import check_draws
from ledger.application.replay import replay_all
from ledger.log import speedups
from ledger.log.audit import dumps_bundle, verify_bundle
from ledger.log.checkpoint import CheckpointError, VerifierKey
from ledger.log.monitor import AuditError, CheckpointKeeper, LogClient, Misbehaviour, audit
from ledger.log.verifier import VerifyPolicy
from ledger.log.witness import TrustPolicy, WitnessError, WitnessKey
from ledger.store.verify_log import verify_log

F = TypeVar("F", bound=Callable[..., Any])


@click.group(cls=Group)
def key() -> None:
    """The checkpoint signing key."""


@key.command("show")
def key_show_command() -> int:
    """Print the verifier (public) key auditors pin (publish it where they can find it)."""
    print(signing_key(current_settings()).verifier.to_string())
    return 0


@click.command("checkpoint", cls=Command)
@settings_options(*STATE)
def checkpoint() -> int:
    """Sign a checkpoint of the log now.

    If the log grew since the last one; the witnesses are asked to cosign it, and the note is printed with their
    cosignatures."""
    settings = current_settings()
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


def witness_options(command: F) -> F:
    command = click.option(
        "--min-witnesses",
        type=click.IntRange(min=0),
        default=None,
        metavar="N",
        help="how many pinned witnesses must have cosigned (default: all pinned)",
    )(command)
    return click.option(
        "--witness",
        "witnesses",
        multiple=True,
        metavar="VKEY",
        help="a witness's verifier key (or a file holding it) to pin (repeatable)",
    )(command)


def _policy_parts(given: tuple[str, ...], min_witnesses: int | None) -> tuple[list[WitnessKey], int]:
    witnesses = [WitnessKey.from_string(_read_or_value(value)) for value in given]
    return witnesses, min_witnesses if min_witnesses is not None else len(witnesses)


@click.command("verify", cls=Command)
@click.option("--bundle", help="an audit bundle file: checked offline, no database needed")
@click.option("--key", "key_", metavar="VKEY", help="the published verifier key (or a file holding it) to pin")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="processes each checking chunks of the log and hashing their part of the tree "
    "(default: one per core; 0: all in this process)",
)
@witness_options
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    metavar="FILE",
    help="a checkpoint kept outside the operator's reach (e.g. by `jixiao audit`); the live log "
    "must still have its tree at its size, and the checkpoint table must hold it (repeatable)",
)
@click.option(
    "--max-unsigned",
    type=click.IntRange(min=0),
    default=None,
    metavar="LEAVES",
    help="fail when more leaves at the head are not covered by a signed (or witnessed) checkpoint "
    "(default: JIXIAO_VERIFY_MAX_UNSIGNED_LEAVES, no limit)",
)
@click.option(
    "--max-unsigned-age",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="fail when the first leaf not covered by a signed (or witnessed) checkpoint was recorded "
    "longer ago (default: JIXIAO_VERIFY_MAX_UNSIGNED_AGE, 600; 0: no limit)",
)
@click.option(
    "--deep",
    is_flag=True,
    help="also replay every aggregate from its events and compare every snapshot with the replay",
)
@click.option(
    "--pure-python",
    is_flag=True,
    help="check with the pure-Python reference implementation, not the C accelerator (as "
    "JIXIAO_PURE_PYTHON=1 does); both give the same results",
)
@settings_options(*STATE, "progress_interval")
def verify(
    bundle: str | None,
    key_: str | None,
    workers: int | None,
    witnesses: tuple[str, ...],
    min_witnesses: int | None,
    checkpoints: tuple[str, ...],
    max_unsigned: int | None,
    max_unsigned_age: float | None,
    deep: bool,
    pure_python: bool,
) -> int:
    """Verify the live ledger, or an audit bundle offline.

    Every leaf hash, the chain, every checkpoint's root and signature, the snapshots' authenticators, every
    re-evaluation draw recomputed from its secret, contribution and population; with --bundle, the bundle alone
    against the pinned key."""
    settings = current_settings()
    pinned = _pinned_key(key_)
    witness_keys, min_witnesses = _policy_parts(witnesses, min_witnesses)
    if bundle:
        policy = TrustPolicy(pinned or _bundle_key(Path(bundle)), tuple(witness_keys), min_witnesses)
        return _verify_bundle(Path(bundle), pinned, policy)
    url = database_url(settings)
    check_origin_at(settings, url)
    verifier = pinned or signing_key(settings).verifier
    TrustPolicy(verifier, tuple(witness_keys), min_witnesses)  # refuses a policy no checkpoint could meet
    kept = tuple((path, Path(path).read_text(encoding="utf-8")) for path in checkpoints)
    age = max_unsigned_age if max_unsigned_age is not None else settings.verify_max_unsigned_age
    policy_ = VerifyPolicy(
        kept=kept,
        witnesses=tuple(witness_keys),
        min_witnesses=min_witnesses,
        max_unanchored_leaves=max_unsigned if max_unsigned is not None else settings.verify_max_unsigned_leaves,
        max_unanchored_age=timedelta(seconds=age) if age else None,
    )
    native = speedups.use_native(False if pure_python else None)
    print(
        f"Verifying {display_url(url)} against {verifier.name}+{verifier.key_id.hex()} ({speedups.describe(native)}) …",
        flush=True,
    )
    with Progress("校验日志 verifying the log", "leaves", interval=settings.progress_interval) as progress:
        report = verify_log(
            url,
            verifier,
            origin=settings.log_origin,
            workers=workers,
            progress=progress.update,
            accelerator=native,
            policy=policy_,
        )
    # The draws' selections follow from what they record (commitment, secret, contribution, population): recomputed
    # on every verification, a few reads by primary key.
    draws = check_draws(url) if report.ok else None
    deep_report = None
    if deep and report.ok:
        print("Replaying every aggregate and comparing every snapshot with the replay …", flush=True)
        with Progress("重放 replaying", "events", total=report.events, interval=settings.progress_interval) as replay:
            deep_report = replay_all(url, workers=workers, progress=lambda part: replay.update(part.events))
    failures = report.failures + (draws.failures if draws else []) + (deep_report.failures if deep_report else [])
    if failures:
        for failure in failures[:50]:
            print(f"FAILED: {failure}", file=sys.stderr)
        if len(failures) > 50:
            print(f"FAILED: … and {len(failures) - 50} more", file=sys.stderr)
        return 1
    anchored = f"checkpoint {report.anchored:,}"
    if report.anchored_by:
        anchored += f" cosigned by {', '.join(report.anchored_by)}"
    tail = (
        f"; {report.unanchored:,} leaves at the head not yet covered (since "
        f"{report.unanchored_since:%Y-%m-%d %H:%M:%S %Z})"
        if report.unanchored and report.unanchored_since
        else ""
    )
    print(
        f"OK: {report.events:,} events, {report.checkpoints} signed checkpoints{_followed(report.rotations)} "
        "(newest meeting the policy: "
        f"{anchored}{tail}), {report.snapshots:,} snapshots authenticated, {report.kept} kept checkpoints held — "
        f"every leaf hash, the chain, every checkpoint's root and signature ({report.rate:,.0f} events/s; "
        f"{report.implementation})"
    )
    if draws is not None and draws.samples:
        print(
            f"OK: {draws.revealed} re-evaluation draws recomputed from their secret, contribution and population "
            f"({draws.samples} fiscal years, {draws.failed} draws failed in the record)"
        )
    if deep_report is not None:
        print(
            f"OK: {deep_report.aggregates:,} aggregates replayed from {deep_report.events:,} events; "
            f"{deep_report.snapshots:,} snapshots equal their replay ({deep_report.rate:,.0f} events/s)"
        )
    return 0


def _followed(rotations: int) -> str:
    """How many key rotations verification followed, as the OK line says it (nothing without any)."""
    if not rotations:
        return ""
    return (
        f", each against the key in force at its size ({rotations} key rotation{'s' if rotations > 1 else ''} followed)"
    )


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
    print(
        f"OK: {report.events} events of {report.object_id} ({what}) are in the log signed by {report.key_name} "
        f"at tree size {report.checkpoint_size}{witnessed}, unaltered and in order"
    )
    if not report.key_pinned:
        print(
            "NOTE: checked with the key inside the bundle; pin the published key with --key to rule out a forgery",
            file=sys.stderr,
        )
    return 0


def _read_or_value(value: str) -> str:
    """A key given as itself, or as the path of a file holding it."""
    path = Path(value)
    return path.read_text(encoding="utf-8").strip() if "+" not in value and path.is_file() else value.strip()


def _pinned_key(value: str | None) -> VerifierKey | None:
    if value is None:
        return None
    return VerifierKey.from_string(_read_or_value(value))


@click.command("audit", cls=Command)
@click.option("--url", required=True, help="the service, e.g. http://ledger.example:8000")
@click.option("--key", "key_", required=True, help="the log's published verifier key (or a file holding it)")
@click.option("--dir", "folder", required=True, help="the folder where this auditor keeps checkpoints (its own)")
@click.option("--origin", help="the log's origin to insist on (default: whatever the key signs)")
@witness_options
def audit_command(
    url: str, key_: str, folder: str, origin: str | None, witnesses: tuple[str, ...], min_witnesses: int | None
) -> int:
    """Keep the service's checkpoints, as an auditor.

    From any machine: fetch the service's checkpoint, prove it extends the one kept last time, keep it."""
    pinned = _pinned_key(key_)
    assert pinned is not None
    witness_keys, min_witnesses = _policy_parts(witnesses, min_witnesses)
    policy = TrustPolicy(pinned, tuple(witness_keys), min_witnesses, origin=origin)
    keeper = CheckpointKeeper(Path(folder))
    try:
        report = audit(LogClient(url), keeper, policy)
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
    if report.keys is not None and report.keys.leaves:
        in_force = report.keys.key_at(checkpoint.size)
        print(
            f"followed {len(report.keys.leaves)} key rotations from the pinned key (each signed by the key it retired "
            f"and proved in the log): checkpoint {checkpoint.size} is signed by {in_force.to_string()}"
        )
    if report.first:
        print(
            f"kept the first checkpoint of {checkpoint.origin}: size {checkpoint.size}{witnessed} (trusted on first "
            f"use; every later run must extend it) in {folder}"
        )
    elif report.previous is not None and report.previous.size == checkpoint.size:
        print(f"OK: {checkpoint.origin} is still at size {checkpoint.size}, the tree kept before{witnessed}")
    else:
        assert report.previous is not None
        print(
            f"OK: {checkpoint.origin} at size {checkpoint.size}{witnessed} extends the checkpoint kept at size "
            f"{report.previous.size} (RFC 9162 consistency proof verified); kept in {folder}"
        )
    return 0


@click.group("witness", cls=Group)
def witness() -> None:
    """Run an independent witness (c2sp.org/tlog-witness).

    It cosigns the checkpoints of the logs it watches, each only if it extends the last one it cosigned."""


DATA = click.option("--data", required=True, help="the witness's data folder (key, watched logs, state)")


@witness.command("init")
@click.option("--name", required=True, help="the witness's name, e.g. sjj.example.gov.cn/witness")
@DATA
@click.option("--log", "logs", multiple=True, metavar="ORIGIN=VKEY", help="a log to watch (repeatable)")
def witness_init(name: str, data: str, logs: tuple[str, ...]) -> int:
    """Make a witness key in a data folder and print its verifier key."""
    from api.roles.witness import WitnessHome

    home = WitnessHome(Path(data))
    made = home.init(name)
    for entry in logs:
        origin, _, vkey = entry.partition("=")
        home.add_log(origin, VerifierKey.from_string(_read_or_value(vkey)))
    print(made.verifier.to_string())
    print(
        f"witness {name} made in {data}; give the verifier key above to the logs' auditors, and "
        "watch a log with `jixiao witness add-log`",
        file=sys.stderr,
    )
    return 0


@witness.command("add-log")
@DATA
@click.option("--origin", required=True, help="the log's origin (first line of its checkpoints)")
@click.option("--key", "key_", required=True, help="the log's verifier key (or a file holding it)")
def witness_add_log(data: str, origin: str, key_: str) -> int:
    """Watch a log: its origin and verifier key."""
    from api.roles.witness import WitnessHome

    WitnessHome(Path(data)).add_log(origin, VerifierKey.from_string(_read_or_value(key_)))
    print(f"watching {origin} (signed by {VerifierKey.from_string(_read_or_value(key_)).name})")
    return 0


@witness.command("show")
@DATA
def witness_show(data: str) -> int:
    """The witness's verifier key and what it has cosigned."""
    from api.roles.witness import WitnessHome

    home = WitnessHome(Path(data))
    print(home.key().verifier.to_string())
    for entry in home.logs():
        seen = home.witness().state.get(entry.origin)
        print(
            f"  {entry.origin}: {', '.join(k.to_string() for k in entry.keys)}; "
            f"cosigned up to size {seen.size if seen else 0}"
        )
    return 0


@witness.command("serve")
@DATA
@click.option("--host", default="127.0.0.1", show_default=True, help="where it listens")
@click.option("--port", type=click.IntRange(0, 65535), default=7380, show_default=True, help="its TCP port")
def witness_serve(data: str, host: str, port: int) -> int:
    """Serve POST /add-checkpoint."""
    from api.roles.witness import WitnessHome, WitnessServer

    found = WitnessHome(Path(data)).witness()
    if not found.logs:
        print(f"error: the witness in {data} watches no log yet (jixiao witness add-log)", file=sys.stderr)
        return 2
    server = WitnessServer((host, port), found)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(
        f"witness {found.key.name} on http://{host}:{server.server_address[1]}/add-checkpoint, watching "
        f"{', '.join(found.logs)} (Ctrl-C to stop)",
        flush=True,
    )
    return serve_until_interrupted(server.serve_forever, server.server_close)


@click.command("export", cls=Command)
@click.option(
    "--project",
    type=PROJECT,
    required=True,
    help="the project: YEAR/CODE such as 2021/NY-01, its code with --year, or its id",
)
@click.option("--year", type=click.IntRange(2000, 2100), help="the fiscal year of a project given by its code alone")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="the bundle file to write")
@settings_options(*STATE, "progress_interval")
def export(project: ProjectRef, year: int | None, out: str) -> int:
    """Write an audit bundle for one project.

    Its events, each with an inclusion proof, and a cosigned checkpoint: `jixiao verify --bundle` checks it with no
    database and no network."""
    settings = current_settings()
    url = database_url(settings)
    log = open_log(settings, url)
    try:
        ledger = Ledger(url)
        try:
            object_id = project_id(ledger, project, year)
        finally:
            ledger.close()
        with Progress("导出 exporting", "proofs", interval=settings.progress_interval) as progress:
            bundle = log.export_bundle(signing_key(settings).verifier, object_id, progress=progress.update)
    finally:
        log.close()
    Path(out).write_text(dumps_bundle(bundle), encoding="utf-8")
    print(
        f"wrote {out}: {len(bundle['events'])} events proved against tree size {bundle['checkpoint'].splitlines()[1]}"
    )
    return 0
