"""The signing key from the command line, as real processes: ``jixiao key generate`` (a private file, never over
another), ``jixiao key rotate`` end to end (a served log hands over to a new key; ``jixiao verify`` and an auditor
holding only the first key follow it), and a log origin changed after the first start (refused, saying how on).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from api.config.keys import key_name
from ledger.application import Ledger
from ledger.domain.log_keys import rotation_id
from ledger.log.checkpoint import CheckpointError, SigningKey, VerifierKey, open_note, write_signing_key
from ledger.store.tlog import TransparencyLog
from tests.api.cli.test_state_folder import clean_environment, tree
from tests.conftest import FINANCE, act

JIXIAO = [sys.executable, "-m", "api.cli"]
ORIGIN = "czj.example.gov.cn/jixiao"


def jixiao(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*JIXIAO, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180)


# ---------------------------------------------------------------------------
# key generate
# ---------------------------------------------------------------------------


def test_key_generate_writes_a_private_key_where_the_settings_look_and_never_over_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = clean_environment(JIXIAO_DATA_DIR=str(data), JIXIAO_LOG_ORIGIN=ORIGIN)
    made = jixiao("key", "generate", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    path = data / "signing.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    key = SigningKey.from_string(path.read_text(encoding="utf-8").strip())
    assert key.name == key_name(ORIGIN)
    assert made.stdout == key.verifier.to_string() + "\n"  # the verifier key to publish, alone on stdout
    assert str(path) in made.stderr
    assert tree(data) == {"signing.key"}

    shown = jixiao("key", "show", env=env)  # the very next command takes it (the RUNBOOK's old recipe made a 0644)
    assert (shown.returncode, shown.stdout) == (0, made.stdout), shown.stderr

    again = jixiao("key", "generate", env=env)
    assert again.returncode == 2
    assert again.stdout == ""
    assert "已存在，不予覆盖" in again.stderr
    assert f"a signing key file is already at {path}; refusing to overwrite it" in again.stderr
    assert "Traceback" not in again.stderr
    assert SigningKey.from_string(path.read_text(encoding="utf-8").strip()) == key


def test_a_key_made_under_the_legacy_name_stays_the_logs_key(tmp_path: Path) -> None:
    """Keys were once named with the origin's '/' as '-': such a file is still read (a new one is named as the
    origin, as C2SP asks), so a log begun then keeps its key until it rotates it."""
    data = tmp_path / "data"
    env = clean_environment(JIXIAO_DATA_DIR=str(data), JIXIAO_LOG_ORIGIN=ORIGIN)
    legacy = SigningKey.generate(ORIGIN.replace("/", "-"))
    write_signing_key(data / "signing.key", legacy)
    shown = jixiao("key", "show", env=env)
    assert (shown.returncode, shown.stdout) == (0, legacy.verifier.to_string() + "\n"), shown.stderr


def test_key_generate_out_writes_the_next_key_elsewhere(tmp_path: Path) -> None:
    env = clean_environment(JIXIAO_DATA_DIR=str(tmp_path / "data"), JIXIAO_LOG_ORIGIN=ORIGIN)
    out = tmp_path / "keys" / "next.key"
    made = jixiao("key", "generate", "--out", str(out), env=env)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert made.stdout.strip() == SigningKey.from_string(out.read_text(encoding="utf-8").strip()).verifier.to_string()
    assert not (tmp_path / "data").exists()
    assert jixiao("key", "generate", "--out", str(out), env=env).returncode == 2


def test_key_generate_notes_a_key_given_in_the_environment_wins(tmp_path: Path) -> None:
    given = SigningKey.generate(key_name(ORIGIN))
    env = clean_environment(
        JIXIAO_DATA_DIR=str(tmp_path / "data"), JIXIAO_LOG_ORIGIN=ORIGIN, JIXIAO_SIGNING_KEY=given.to_string()
    )
    made = jixiao("key", "generate", env=env)
    assert made.returncode == 0, made.stderr
    assert "JIXIAO_SIGNING_KEY is set" in made.stderr


# ---------------------------------------------------------------------------
# The origin, fixed for the log's life
# ---------------------------------------------------------------------------


@pytest.mark.db
def test_a_changed_origin_is_refused_with_the_way_on(ledger: Ledger, database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = clean_environment(JIXIAO_DATA_DIR=str(data), JIXIAO_LOG_ORIGIN=ORIGIN, DATABASE_URL=database_url)
    assert jixiao("key", "generate", env=env).returncode == 0
    ledger.register_department(act(FINANCE, date(2020, 8, 1)), "教育局")
    signed = jixiao("checkpoint", env=env)
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.startswith(f"{ORIGIN}\n")

    moved = {**env, "JIXIAO_LOG_ORIGIN": "czj.example.gov.cn/ledger"}
    for command in (["key", "show"], ["checkpoint"], ["verify"], ["serve"]):
        refused = jixiao(*command, env=moved)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        assert "Traceback" not in refused.stderr
        assert "JIXIAO_LOG_ORIGIN" in refused.stderr
        assert "Nothing was changed" in refused.stderr
        assert "Jixiao Ledger on" not in refused.stdout  # `serve` stops before it announces anything
    # With the key given in the environment (no key file to tell), the log's own checkpoints tell.
    given = {**moved, "JIXIAO_SIGNING_KEY": (data / "signing.key").read_text(encoding="utf-8")}
    refused = jixiao("verify", env=given)
    assert refused.returncode == 2
    assert f"JIXIAO_LOG_ORIGIN={ORIGIN} again" in refused.stderr
    assert "日志名是日志的终身标识" in refused.stderr
    assert jixiao("verify", env=env).returncode == 0  # and set back, all is as it was


# ---------------------------------------------------------------------------
# key rotate, end to end
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """``jixiao serve`` as a process, started and stopped again (as after a key change)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.env = {
            **env,
            "JIXIAO_PORT": str(self.port),
            "JIXIAO_RUN_PROJECTIONS": "false",
            "JIXIAO_RUN_SCHEDULER": "false",
            "JIXIAO_RUN_DISPATCHER": "false",
            "JIXIAO_CHECKPOINT_INTERVAL": "0",
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = log.open("a")
        self.process = subprocess.Popen([*JIXIAO, "serve"], env=self.env, stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(log.read_text(encoding="utf-8")) from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.output.close()


def grow(ledger: Ledger, count: int) -> None:
    start = ledger.head()
    for i in range(count):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), f"部门{start + i:04}")


@pytest.mark.db
def test_a_served_log_rotates_its_key_and_verify_and_the_auditor_follow(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = clean_environment(JIXIAO_DATA_DIR=str(data), JIXIAO_LOG_ORIGIN=ORIGIN, DATABASE_URL=database_url)
    auditor_env = clean_environment()
    first = jixiao("key", "generate", env=env).stdout.strip()
    first_file = tmp_path / "first.vkey"  # what the bureau published: the auditor holds this and nothing more
    first_file.write_text(first + "\n", encoding="utf-8")
    audit = ["audit", "--url", "", "--key", str(first_file), "--dir", str(tmp_path / "kept")]

    served = Served(env, tmp_path / "serve.log")
    try:
        audit[2] = served.url
        grow(ledger, 5)  # to 8 leaves: the ledger opens with three (ruleset, indicator library, working calendar)
        assert jixiao("checkpoint", env=env).returncode == 0
        kept = jixiao(*audit, env=auditor_env)
        assert kept.returncode == 0, kept.stderr
        assert "kept the first checkpoint" in kept.stdout

        nxt = tmp_path / "next.key"
        second = jixiao("key", "generate", "--out", str(nxt), env=env).stdout.strip()
        grow(ledger, 2)
        rotated = jixiao("key", "rotate", "--new-key", str(nxt), "--reason", "年度密钥轮换", "--by", "it-wang", env=env)
        assert rotated.returncode == 0, rotated.stderr
        assert rotated.stdout == second + "\n"
        assert "recorded key rotation 1 at leaf 10" in rotated.stderr
        assert "JIXIAO_TOKEN_KEYS=" + first in rotated.stderr

        grow(ledger, 3)
        stale = jixiao("checkpoint", env=env)  # a signer still holding the old key signs nothing
        assert stale.returncode == 2
        assert "retired by key rotation 1" in stale.stderr
        again = jixiao("key", "rotate", "--new-key", str(nxt), "--reason", "again", env=env)
        assert again.returncode == 2  # the settings' key is no longer the log's: nothing is recorded
        assert "retired" in again.stderr
    finally:
        served.stop()

    shutil.move(nxt, data / "signing.key")  # the signers get the new key, and start again
    served = Served(env, tmp_path / "serve.log")
    try:
        audit[2] = served.url
        assert jixiao("key", "show", env=env).stdout.strip() == second
        signed = jixiao("checkpoint", env=env)
        assert signed.returncode == 0, signed.stderr
        assert signed.stdout.splitlines()[1] == "14"
        followed = jixiao(*audit, env=auditor_env)
        assert followed.returncode == 0, followed.stderr
        assert "followed 1 key rotations" in followed.stdout
        assert f"checkpoint 14 is signed by {second}" in followed.stdout
        assert "extends the checkpoint kept at size 8" in followed.stdout

        with urllib.request.urlopen(f"{served.url}/log/keys", timeout=30) as response:
            keys = json.loads(response.read())
        assert keys["verifier_key"] == second
        assert [(r["number"], r["leaf_index"], r["old_key"], r["new_key"]) for r in keys["rotations"]] == [
            (1, 10, first, second)
        ]
        assert keys["rotations"][0]["originator_id"] == str(rotation_id(1))
    finally:
        served.stop()

    for pinned in (first, second):
        verified = jixiao("verify", "--key", pinned, env=env)
        assert verified.returncode == 0, verified.stderr
        assert "4 signed checkpoints, each against the key in force at its size (1 key rotation followed)" in (
            verified.stdout
        )
    assert jixiao("verify", env=env).returncode == 0  # with the settings' key, now the second

    bundle = tmp_path / "bundle.json"
    department = ledger.reads.events_at([3])[0][1].originator_id
    exported = jixiao("export", "--project", str(department), "--out", str(bundle), env=env)
    assert exported.returncode == 0, exported.stderr
    offline = jixiao("verify", "--bundle", str(bundle), "--key", str(first_file), env=auditor_env)
    assert offline.returncode == 0, offline.stderr

    log = TransparencyLog(database_url, origin=ORIGIN)
    try:
        notes = {item.column_size: item.note for item in log.checkpoints()}
    finally:
        log.close()
    assert sorted(notes) == [8, 10, 11, 14]  # the old key's last (10), the handover (11, signed by both), the new's
    signers = {size: {vkey for vkey in (first, second) if signed_by(note, vkey)} for size, note in notes.items()}
    assert signers == {8: {first}, 10: {first}, 11: {first, second}, 14: {second}}


def signed_by(note: str, vkey: str) -> bool:
    try:
        open_note(note, VerifierKey.from_string(vkey))
    except CheckpointError:
        return False
    return True


def test_a_rotation_needs_the_new_key_file_private_and_named_for_the_origin(tmp_path: Path) -> None:
    env = clean_environment(JIXIAO_DATA_DIR=str(tmp_path / "data"), JIXIAO_LOG_ORIGIN=ORIGIN)
    assert jixiao("key", "generate", env=env).returncode == 0
    loose = tmp_path / "loose.key"
    loose.write_text(SigningKey.generate(key_name(ORIGIN)).to_string() + "\n", encoding="utf-8")
    os.chmod(loose, 0o644)
    refused = jixiao("key", "rotate", "--new-key", str(loose), "--reason", "x", env=env)
    assert refused.returncode == 2
    assert "chmod 600" in refused.stderr
    other = tmp_path / "other.key"
    other.write_text(SigningKey.generate("another.example-log").to_string() + "\n", encoding="utf-8")
    os.chmod(other, 0o600)
    refused = jixiao("key", "rotate", "--new-key", str(other), "--reason", "x", env=env)
    assert refused.returncode == 2
    assert "made for another origin" in refused.stderr
    missing = jixiao("key", "rotate", "--new-key", str(tmp_path / "absent.key"), "--reason", "x", env=env)
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
