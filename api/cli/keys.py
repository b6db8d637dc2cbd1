"""``jixiao key generate`` and ``jixiao key rotate``: a new signing key, and handing the log over to it.

A rotation (:mod:`ledger.log.rotation`) is recorded in the log as an event, signed by the key in force and by its
successor; the old key's last checkpoint closes its era and the new key's first one — signed by both, so that
witnesses and clients that know only the old key can check it too — opens the next. Both commands join the ``key``
group (:mod:`api.cli.integrity`).
"""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.options import STATE, Command, current_settings, settings_options
from api.config.database import database_url, open_ledger
from api.config.keys import generate_signing_key, key_name, legacy_key_names, open_log, signing_key
from api.config.settings import Settings
from api.config.state import key_for_another_origin
from ledger.application import Act
from ledger.domain.values import Principal, Role
from ledger.log.checkpoint import KeyNameMismatch, SigningKey, read_signing_key
from ledger.log.rotation import KeyRotation, sign_rotation

KEY_SETTINGS = (*STATE, "signing_key_file", "log_origin")  # where the key in force is, and the name it signs for


@click.command("generate", cls=Command)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write it here instead (e.g. the next key, for `key rotate`)",
)
@settings_options(*KEY_SETTINGS)
def generate(out: Path | None) -> int:
    """Write a new signing key (mode 0600) where the settings look for it, never over one that is there; print its
    verifier key."""
    settings = current_settings()
    key, path = generate_signing_key(settings, out)
    click.echo(key.verifier.to_string())
    click.echo(f"新签名密钥已写入 {path}（权限 0600）；请公布上面的验证密钥。", err=True)
    click.echo(f"a new signing key is in {path} (mode 0600); publish the verifier key above.", err=True)
    if out is None and settings.signing_key:
        click.echo("note: JIXIAO_SIGNING_KEY is set, and the service signs with it, not with this file", err=True)
    return 0


def _new_key(settings: Settings, path: Path) -> SigningKey:
    try:
        return read_signing_key(path, key_name(settings.log_origin), also=legacy_key_names(settings.log_origin))
    except KeyNameMismatch as error:
        raise key_for_another_origin(path, error.found, settings.log_origin, error.expected) from None


@click.command("rotate", cls=Command)
@click.option(
    "--new-key",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="the new signing key (from `key generate --out`)",
)
@click.option("--reason", required=True, help="why (recorded with the rotation, and public)")
@click.option("--by", default="cli", show_default=True, help="who rotates it (recorded with the rotation, and public)")
@settings_options(*KEY_SETTINGS)
def rotate(new_key: Path, reason: str, by: str) -> int:
    """Hand the log over to a new signing key.

    Closes the old key's era with a checkpoint, records the rotation statement the key in force and the new key both
    sign (old checkpoints stay verifiable with the old key), and signs the new key's first checkpoint with both. The
    signers then need the new key: the old one signs nothing any more."""
    settings = current_settings()
    old = signing_key(settings)
    new = _new_key(settings, new_key)
    url = database_url(settings)
    log = open_log(settings, url)
    try:
        log.check_key_in_force(old)  # before anything is written: the settings' key must be the log's
        log.sign_checkpoint()  # the old key's last checkpoint: everything recorded so far, under it
        ledger = open_ledger(settings, url)
        try:
            number = len(ledger.key_rotations()) + 1
            statement = sign_rotation(KeyRotation(settings.log_origin, number, old.verifier, new.verifier), old, new)
            principal = Principal(by, Role.ADMIN, "")
            written = ledger.record_key_rotation(Act(principal, ledger.today(), reason), statement, old.verifier)
        finally:
            ledger.close()
    finally:
        log.close()
    successor = open_log(settings, url, key=new)
    try:
        handover = successor.sign_checkpoint(also=(old,))
        outcomes = successor.cosign(handover)
    finally:
        successor.close()
    click.echo(new.verifier.to_string())
    size = f"checkpoint {handover.column_size}" if handover else "the next checkpoint"
    for name, outcome in sorted(outcomes.items()):
        click.echo(f"witness {name}: {outcome}", err=True)
    click.echo(
        f"已记录第 {number} 次密钥轮换（叶 {written.position}）；{size} 由新旧密钥共同签署。\n"
        f"recorded key rotation {number} at leaf {written.position}; {size} is signed by the new key and the old.\n"
        "Next / 后续:\n"
        "  1. publish the new verifier key above beside the old one (公布新验证密钥);\n"
        "  2. give the signers (API, scheduler) the new key — JIXIAO_SIGNING_KEY or its file — and restart them: "
        "the old key signs nothing from now on (以新密钥重启签名服务);\n"
        f"  3. witnesses add it: jixiao witness add-log --origin {settings.log_origin} --key <new verifier key>;\n"
        f"  4. to keep honouring token records and snapshots the old key signed: JIXIAO_TOKEN_KEYS="
        f"{old.verifier.to_string()} (never after a compromise: issue new tokens instead).",
        err=True,
    )
    return 0
