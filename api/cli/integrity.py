"""The integrity commands of ``jixiao``: the signing key, checkpoints, verification (live and offline), the
auditor's client, witnesses and audit bundles."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from api.cli.roles import serve_until_interrupted
from api.config.database import database_url, display_url
from api.config.keys import open_log, signing_key
from api.config.settings import Settings
from ledger.application import Ledger
from ledger.application.replay import replay_all
from ledger.log import speedups
from ledger.log.audit import dumps_bundle, verify_bundle
from ledger.log.checkpoint import CheckpointError, VerifierKey
from ledger.log.monitor import AuditError, CheckpointKeeper, LogClient, Misbehaviour, audit
from ledger.log.verifier import VerifyPolicy
from ledger.log.witness import TrustPolicy, WitnessError, WitnessKey
from ledger.store.verify_log import verify_log


def key_show_command(settings: Settings, _: argparse.Namespace) -> int:
    """Print the verifier key auditors pin (publish it where they can find it)."""
    print(signing_key(settings).verifier.to_string())
    return 0


def checkpoint_command(settings: Settings, _: argparse.Namespace) -> int:
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


def verify_command(settings: Settings, args: argparse.Namespace) -> int:
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
    policy_ = VerifyPolicy(
        kept=kept,
        witnesses=tuple(witnesses),
        min_witnesses=min_witnesses,
        max_unanchored_leaves=args.max_unsigned
        if args.max_unsigned is not None
        else settings.verify_max_unsigned_leaves,
        max_unanchored_age=timedelta(seconds=age) if age else None,
    )
    native = speedups.use_native(False if args.pure_python else None)
    print(
        f"Verifying {display_url(url)} against {key.name}+{key.key_id.hex()} ({speedups.describe(native)}) …",
        flush=True,
    )
    report = verify_log(
        url,
        key,
        origin=settings.log_origin,
        workers=args.workers,
        progress=lambda n: print(f"  {n:,} leaves", flush=True),
        accelerator=native,
        policy=policy_,
    )
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
    tail = (
        f"; {report.unanchored:,} leaves at the head not yet covered (since "
        f"{report.unanchored_since:%Y-%m-%d %H:%M:%S %Z})"
        if report.unanchored and report.unanchored_since
        else ""
    )
    print(
        f"OK: {report.events:,} events, {report.checkpoints} signed checkpoints (newest meeting the policy: "
        f"{anchored}{tail}), {report.snapshots:,} snapshots authenticated, {report.kept} kept checkpoints held — "
        f"every leaf hash, the chain, every checkpoint's root and signature ({report.rate:,.0f} events/s; "
        f"{report.implementation})"
    )
    if deep is not None:
        print(
            f"OK: {deep.aggregates:,} aggregates replayed from {deep.events:,} events; {deep.snapshots:,} snapshots "
            f"equal their replay ({deep.rate:,.0f} events/s)"
        )
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


def audit_command(settings: Settings, args: argparse.Namespace) -> int:
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
        print(
            f"kept the first checkpoint of {checkpoint.origin}: size {checkpoint.size}{witnessed} (trusted on first "
            f"use; every later run must extend it) in {args.dir}"
        )
    elif report.previous is not None and report.previous.size == checkpoint.size:
        print(f"OK: {checkpoint.origin} is still at size {checkpoint.size}, the tree kept before{witnessed}")
    else:
        assert report.previous is not None
        print(
            f"OK: {checkpoint.origin} at size {checkpoint.size}{witnessed} extends the checkpoint kept at size "
            f"{report.previous.size} (RFC 9162 consistency proof verified); kept in {args.dir}"
        )
    return 0


def witness_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run an independent witness (c2sp.org/tlog-witness): see api.witness."""
    from api.roles.witness import WitnessHome, WitnessServer

    home = WitnessHome(Path(args.data))
    if args.witness_command == "init":
        key = home.init(args.name)
        for entry in args.log or []:
            origin, _, vkey = entry.partition("=")
            home.add_log(origin, VerifierKey.from_string(_read_or_value(vkey)))
        print(key.verifier.to_string())
        print(
            f"witness {args.name} made in {args.data}; give the verifier key above to the logs' auditors, and "
            "watch a log with `jixiao witness add-log`",
            file=sys.stderr,
        )
        return 0
    if args.witness_command == "add-log":
        home.add_log(args.origin, VerifierKey.from_string(_read_or_value(args.key)))
        print(f"watching {args.origin} (signed by {VerifierKey.from_string(_read_or_value(args.key)).name})")
        return 0
    if args.witness_command == "show":
        print(home.key().verifier.to_string())
        for entry in home.logs():
            seen = home.witness().state.get(entry.origin)
            print(
                f"  {entry.origin}: {', '.join(k.to_string() for k in entry.keys)}; "
                f"cosigned up to size {seen.size if seen else 0}"
            )
        return 0
    witness = home.witness()
    if not witness.logs:
        print(f"error: the witness in {args.data} watches no log yet (jixiao witness add-log)", file=sys.stderr)
        return 2
    server = WitnessServer((args.host, args.port), witness)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(
        f"witness {witness.key.name} on http://{args.host}:{server.server_address[1]}/add-checkpoint, watching "
        f"{', '.join(witness.logs)} (Ctrl-C to stop)",
        flush=True,
    )
    return serve_until_interrupted(server.serve_forever, server.server_close)


def export_command(settings: Settings, args: argparse.Namespace) -> int:
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
    print(
        f"wrote {args.out}: {len(bundle['events'])} events proved against tree size "
        f"{bundle['checkpoint'].splitlines()[1]}"
    )
    return 0


def _object_id(ledger: Ledger, given: str) -> UUID:
    """A project id, or ``YEAR/CODE`` (e.g. 2021/NY-01)."""
    if "/" in given:
        year, code = given.split("/", 1)
        return ledger.project_id_of(int(year), code)
    return UUID(given)
