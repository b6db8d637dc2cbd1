"""Tamper evidence end to end: proofs from the live log, and every kind of tampering caught.

Each tampering is done the way an attacker with database superuser rights would: triggers bypassed with
``session_replication_role = replica``. ``jixiao verify`` must name the first leaf or checkpoint that fails
and exit non-zero.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest

from ledger.application import Ledger
from ledger.domain.organisations import department_id
from ledger.log import merkle, speedups
from ledger.log.audit import dumps_bundle, verify_bundle
from ledger.log.checkpoint import Checkpoint, CheckpointError, SigningKey, sign_checkpoint, verify_checkpoint
from ledger.log.integrity import GENESIS_CHAIN_HASH, chain_hash, leaf_hash
from ledger.log.verifier import check_consistency
from ledger.store.tlog import TransparencyLog
from ledger.store.tree import ProofUnavailable
from ledger.store.verify_log import verify_log
from tests.conftest import FINANCE, act
from tests.implementations import ACCELERATORS, IMPLEMENTED

pytestmark = pytest.mark.db

ORIGIN = "czj.example.gov.cn/jixiao-test"


@dataclass
class SignedLedger:
    url: str
    ledger: Ledger
    log: TransparencyLog
    key: SigningKey
    first_checkpoint: str  # the note an auditor kept from earlier

    def run_cli(self, *args: str, accelerator: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "JIXIAO_SIGNING_KEY": self.key.to_string(),
            "JIXIAO_LOG_ORIGIN": ORIGIN,
            "JIXIAO_PURE_PYTHON": "0" if accelerator else "1",
        }
        return subprocess.run(
            [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )


@pytest.fixture
def signed(ledger: Ledger, database_url: str) -> Iterator[SignedLedger]:
    key = SigningKey.generate("czj.example.gov.cn-jixiao-test")
    log = TransparencyLog(database_url, origin=ORIGIN, signing_key=key)
    log.create_tables()
    # Checkpoints at tree sizes 22 and 39 (the tests below name leaves and sizes), after what bootstrap recorded.
    bootstrap = ledger.head()
    for i in range(22 - bootstrap):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), f"部门{i:02}")
    first = log.sign_checkpoint()
    assert first is not None
    assert first.checkpoint.size == 22
    for i in range(22 - bootstrap, 39 - bootstrap):
        ledger.register_department(act(FINANCE, date(2020, 8, 2)), f"部门{i:02}")
    assert log.sign_checkpoint() is not None
    try:
        yield SignedLedger(database_url, ledger, log, key, first.note)
    finally:
        log.close()


def tamper(url: str, *statements: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # what a superuser can do: bypass the triggers
        for statement in statements:
            conn.execute(statement)


def ran(result: subprocess.CompletedProcess[str], accelerator: bool) -> None:
    """``jixiao verify`` names the implementation that checks the log: the one asked for."""
    assert f"({speedups.describe(accelerator)}) …\n" in result.stdout, result.stdout


def assert_caught(signed: SignedLedger, expected: str, accelerator: bool) -> None:
    result = signed.run_cli("verify", accelerator=accelerator)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stderr, result.stderr
    ran(result, accelerator)


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_an_intact_log_verifies(signed: SignedLedger, accelerator: bool) -> None:
    result = signed.run_cli("verify", accelerator=accelerator)
    assert result.returncode == 0, result.stderr
    assert "OK: 39 events, 2 signed checkpoints" in result.stdout
    ran(result, accelerator)
    assert result.stdout.endswith(f" events/s; {speedups.describe(accelerator)})\n"), result.stdout


def test_the_pure_python_flag_asks_for_the_reference(signed: SignedLedger) -> None:
    result = signed.run_cli("verify", "--pure-python", accelerator=True)
    assert result.returncode == 0, result.stderr
    ran(result, accelerator=False)


def test_every_inclusion_and_consistency_proof_from_the_database_verifies(signed: SignedLedger) -> None:
    latest = signed.log.latest_checkpoint()
    assert latest is not None
    size, root = latest.checkpoint.size, latest.checkpoint.root_hash
    with psycopg.connect(signed.url) as conn:
        leaves = [bytes(row[0]) for row in conn.execute("SELECT leaf_hash FROM ledger_events ORDER BY leaf_index")]
    for index, leaf in enumerate(leaves):
        assert merkle.verify_inclusion(leaf, index, size, signed.log.inclusion_proof(index, size), root)
    # fetched together, as an audit bundle's are, in any order and with repeats: the same proofs
    asked = [*reversed(range(size)), 0, size - 1]
    assert signed.log.inclusion_proofs(asked, size) == [signed.log.inclusion_proof(i, size) for i in asked]
    smaller = size // 2
    assert signed.log.inclusion_proofs(range(smaller), smaller) == [
        signed.log.inclusion_proof(i, smaller) for i in range(smaller)
    ]
    assert signed.log.inclusion_proofs([], size) == []
    with pytest.raises(ProofUnavailable):
        signed.log.inclusion_proofs([0, size], size)
    for old in range(size + 1):
        proof = signed.log.consistency_proof(old, size)
        assert merkle.verify_consistency(old, size, signed.log.root(old), root, proof)


def test_an_auditor_holding_an_old_checkpoint_gets_a_consistency_proof(signed: SignedLedger) -> None:
    old, new = check_consistency(signed.log, signed.first_checkpoint, signed.key.verifier)
    assert (old.size, new.size) == (22, 39)


def test_a_rewritten_history_fails_the_consistency_proof(signed: SignedLedger) -> None:
    """The operator rewrites history and re-signs it with the real key: the old checkpoint exposes it."""
    forged = TransparencyLog(signed.url, origin=ORIGIN, signing_key=signed.key)
    try:
        with psycopg.connect(signed.url) as conn:
            rows = conn.execute("SELECT leaf_hash FROM ledger_events ORDER BY leaf_index").fetchall()
        leaves = [bytes(row[0]) for row in rows]
        leaves[3] = bytes(32)  # a different history under the same size
        builder = merkle.TreeBuilder(0, {})
        for leaf in leaves:
            builder.append(leaf)
        forged_note = sign_checkpoint(Checkpoint(ORIGIN, len(leaves), builder.root()), signed.key)
        old = verify_checkpoint(signed.first_checkpoint, signed.key.verifier, ORIGIN)
        proof = signed.log.consistency_proof(old.size, len(leaves))
        new_root = verify_checkpoint(forged_note, signed.key.verifier, ORIGIN).root_hash
        assert not merkle.verify_consistency(old.size, len(leaves), old.root_hash, new_root, proof)
    finally:
        forged.close()


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_a_rewritten_event_is_caught(signed: SignedLedger, accelerator: bool) -> None:
    tamper(  # leaf 9: 部门06, after bootstrap's three events
        signed.url,
        "UPDATE ledger_events SET state = convert_to(replace(convert_from(state, 'UTF8'), "
        "'部门06', '部门66'), 'UTF8') WHERE leaf_index = 9",
    )
    assert_caught(signed, "leaf 9: its stored leaf_hash does not match its contents", accelerator)


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_a_deleted_event_is_caught(signed: SignedLedger, accelerator: bool) -> None:
    tamper(signed.url, "DELETE FROM ledger_events WHERE leaf_index = 30")
    assert_caught(signed, "leaf 30: missing", accelerator)


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_two_swapped_rows_are_caught(signed: SignedLedger, accelerator: bool) -> None:
    tamper(
        signed.url,
        "UPDATE ledger_events SET leaf_index = -1 WHERE leaf_index = 12",
        "UPDATE ledger_events SET leaf_index = 12 WHERE leaf_index = 13",
        "UPDATE ledger_events SET leaf_index = 13 WHERE leaf_index = -1",
    )
    assert_caught(signed, "leaf 12: chain_hash does not follow", accelerator)


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_a_rewritten_tail_with_a_recomputed_chain_is_caught_by_the_signed_checkpoint(
    signed: SignedLedger, accelerator: bool
) -> None:
    """The attacker rewrites events 25.. and recomputes every leaf and chain hash: only the signature stands."""
    with psycopg.connect(signed.url) as conn:
        conn.execute("SET session_replication_role = replica")
        rows = conn.execute(
            "SELECT leaf_index, originator_id, originator_version, topic, state FROM ledger_events ORDER BY leaf_index"
        ).fetchall()
        previous = GENESIS_CHAIN_HASH
        for index, oid, version, topic, state in rows:
            state = bytes(state)
            if index >= 25:
                state = state.replace("部门".encode(), "部分".encode())
            leaf = leaf_hash(oid, version, topic, state)
            previous = chain_hash(previous, leaf)
            conn.execute(
                "UPDATE ledger_events SET state = %s, leaf_hash = %s, chain_hash = %s WHERE leaf_index = %s",
                (state, leaf, previous, index),
            )
    assert_caught(signed, "checkpoint 39: its signed root does not match the leaves", accelerator)


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_a_forged_checkpoint_signature_is_caught(signed: SignedLedger, accelerator: bool) -> None:
    latest = signed.log.latest_checkpoint()
    assert latest is not None
    body, signature_line = latest.note.split("\n\n")
    prefix, encoded = signature_line.rsplit(" ", 1)
    forged = encoded[:10] + ("A" if encoded[10] != "A" else "B") + encoded[11:]
    note = f"{body}\n\n{prefix} {forged}"
    tamper(signed.url, f"UPDATE ledger_checkpoints SET note = '{note}' WHERE tree_size = 39")
    assert_caught(signed, "checkpoint 39:", accelerator)


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_a_checkpoint_signed_by_another_key_is_caught(signed: SignedLedger, accelerator: bool) -> None:
    impostor = SigningKey.generate(signed.key.name)  # same name, different key
    latest = signed.log.latest_checkpoint()
    assert latest is not None
    note = sign_checkpoint(latest.checkpoint, impostor)
    tamper(signed.url, f"UPDATE ledger_checkpoints SET note = '{note}' WHERE tree_size = 39")
    assert_caught(signed, "checkpoint 39:", accelerator)


@pytest.mark.parametrize("accelerator", ACCELERATORS)
def test_an_altered_recording_time_is_caught(signed: SignedLedger, accelerator: bool) -> None:
    tamper(signed.url, "UPDATE ledger_events SET recorded_at = recorded_at + interval '1 day' WHERE leaf_index = 38")
    assert_caught(signed, "checkpoint 39: signed at", accelerator)


def test_the_log_tables_refuse_changes_without_superuser_tricks(signed: SignedLedger) -> None:
    with psycopg.connect(signed.url) as conn:
        for statement in (
            "UPDATE ledger_checkpoints SET note = note",
            "DELETE FROM ledger_tree_nodes",
            "TRUNCATE ledger_checkpoints",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
            conn.rollback()


def test_a_bundle_verifies_offline_and_one_changed_byte_fails(signed: SignedLedger, tmp_path: Path) -> None:
    bundle_path = tmp_path / "bundle.json"
    result = signed.run_cli("export", "--project", str(department_id("部门05")), "--out", str(bundle_path))
    assert result.returncode == 0, result.stderr
    pinned = signed.key.verifier.to_string()
    good = signed.run_cli("verify", "--bundle", str(bundle_path), "--key", pinned)
    assert good.returncode == 0, good.stderr
    assert "OK: 1 events" in good.stdout
    original = bundle_path.read_bytes()
    bundle = json.loads(original)
    # Every byte of every event's state and proof matters: flip one character in each kind of field.
    targets = [
        original.index(bundle["events"][0]["state"][:12].encode()),
        original.index(bundle["events"][0]["inclusion_proof"][0].encode()),
        original.index(bundle["checkpoint"].split("\n")[2][:8].encode()),
    ]
    # Each edit changes one byte; upper-casing a hex digit is among them (same value, another spelling).
    edits = [(position + 3, ord("0") if original[position + 3] != ord("0") else ord("1")) for position in targets]
    node = bundle["events"][0]["inclusion_proof"][0]
    letter = next(i for i, ch in enumerate(node) if ch in "abcdef")  # a 64-digit hash has one, but for 2^-32
    edits.append((targets[1] + letter, ord(node[letter].upper())))
    for position, replacement in edits:
        edited = bytearray(original)
        assert edited[position] != replacement
        edited[position] = replacement
        bundle_path.write_bytes(bytes(edited))
        bad = signed.run_cli("verify", "--bundle", str(bundle_path), "--key", pinned)
        assert bad.returncode == 1, bad.stdout
        assert "FAILED" in bad.stderr


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("principal", {"id": "someone-else", "role": "finance", "organisation": "市财政局"}, "principal shown"),
        ("effective_on", "2020-01-01", "effective_on"),
        ("recorded_at", "2999-01-01T00:00:00+00:00", "after the checkpoint was signed"),
    ],
)
def test_a_bundle_whose_shown_fields_disagree_with_the_hashed_event_fails(
    signed: SignedLedger, field: str, value: object, message: str
) -> None:
    bundle = signed.log.export_bundle(signed.key.verifier, department_id("部门05"))
    bundle["events"][0][field] = value
    report = verify_bundle(dumps_bundle(bundle), signed.key.verifier)
    assert not report.ok
    assert message in report.failures[0]


def test_a_bundle_with_its_own_forged_key_fails_against_the_pinned_key(signed: SignedLedger) -> None:
    bundle = signed.log.export_bundle(signed.key.verifier, department_id("部门05"))
    impostor = SigningKey.generate(signed.key.name)
    checkpoint = verify_checkpoint(bundle["checkpoint"], signed.key.verifier, ORIGIN)
    bundle["checkpoint"] = sign_checkpoint(checkpoint, impostor)
    bundle["verifier_key"] = impostor.verifier.to_string()
    assert verify_bundle(dumps_bundle(bundle)).ok  # consistent with itself …
    report = verify_bundle(dumps_bundle(bundle), signed.key.verifier)  # … but not with the published key
    assert not report.ok


def test_verification_in_parallel_finds_the_same_first_failure(signed: SignedLedger) -> None:
    tamper(signed.url, "UPDATE ledger_events SET topic = topic || ' ' WHERE leaf_index IN (5, 33)")
    for workers, accelerator in itertools.product((0, 1, 2), IMPLEMENTED):
        report = verify_log(signed.url, signed.key.verifier, origin=ORIGIN, workers=workers, accelerator=accelerator)
        assert report.implementation == speedups.describe(accelerator)
        assert report.failures[0].startswith("leaf 5:"), report.failures


def rewrite_with_recomputed_hashes(url: str, first: int, last: int) -> None:
    """What an attacker who cannot sign does: rewrite leaves ``first..last`` and recompute every hash after them."""
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        rows = conn.execute(
            "SELECT leaf_index, originator_id, originator_version, topic, state FROM ledger_events ORDER BY leaf_index"
        ).fetchall()
        previous = GENESIS_CHAIN_HASH
        for index, oid, version, topic, state in rows:
            state = bytes(state) + (b" " if first <= index <= last else b"")
            leaf = leaf_hash(oid, version, topic, state)
            previous = chain_hash(previous, leaf)
            if index >= first:
                conn.execute(
                    "UPDATE ledger_events SET state = %s, leaf_hash = %s, chain_hash = %s WHERE leaf_index = %s",
                    (state, leaf, previous, index),
                )


# Leaves 15 and 16 straddle a chunk boundary for every chunk size below; checkpoints sign sizes 22 and 39.
APPEND_A_BYTE = "UPDATE ledger_events SET state = state || '\\x20'::bytea WHERE leaf_index = "
CHUNK_BOUNDARY_TAMPERING = {
    "altered first leaf of a chunk": ([APPEND_A_BYTE + "16"], "leaf 16: its stored leaf_hash does not match"),
    "altered last leaf of a chunk": ([APPEND_A_BYTE + "15"], "leaf 15: its stored leaf_hash does not match"),
    "deleted first leaf of a chunk": (["DELETE FROM ledger_events WHERE leaf_index = 16"], "leaf 16: missing"),
    "deleted last leaf of a chunk": (["DELETE FROM ledger_events WHERE leaf_index = 15"], "leaf 15: missing"),
    "rows swapped across chunks": (
        [
            "UPDATE ledger_events SET leaf_index = -1 WHERE leaf_index = 15",
            "UPDATE ledger_events SET leaf_index = 15 WHERE leaf_index = 16",
            "UPDATE ledger_events SET leaf_index = 16 WHERE leaf_index = -1",
        ],
        "leaf 15: chain_hash does not follow",
    ),
    "chain hash of a chunk's last leaf": (
        ["UPDATE ledger_events SET chain_hash = leaf_hash WHERE leaf_index = 15"],
        "leaf 15: chain_hash does not follow",
    ),
    "time running backwards into a chunk": (
        ["UPDATE ledger_events SET recorded_at = recorded_at - interval '1 day' WHERE leaf_index = 16"],
        "leaf 16: recorded_at runs backwards",
    ),
    "a row of another shape": (
        ["ALTER TABLE ledger_events ALTER COLUMN originator_version TYPE integer"],
        "leaf 0: its row does not have the shape",
    ),
}


@pytest.mark.parametrize("chunk", [1, 8, 16, 1 << 16])
@pytest.mark.parametrize("case", list(CHUNK_BOUNDARY_TAMPERING))
def test_verification_in_chunks_names_the_first_failure_at_chunk_boundaries(
    signed: SignedLedger, chunk: int, case: str
) -> None:
    statements, expected = CHUNK_BOUNDARY_TAMPERING[case]
    tamper(signed.url, *statements)
    for workers, accelerator in itertools.product((0, 2), IMPLEMENTED):
        report = verify_log(
            signed.url, signed.key.verifier, origin=ORIGIN, workers=workers, chunk=chunk, accelerator=accelerator
        )
        assert report.implementation == speedups.describe(accelerator)
        assert report.failures, (workers, chunk, accelerator)
        assert report.failures[0].startswith(expected), report.failures


@pytest.mark.parametrize("chunk", [1, 4, 8, 16, 1 << 16])
@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (None, None, None),
        (38, 38, "checkpoint 39: its signed root does not match"),  # the last leaf: only the later checkpoint fails
        (22, 22, "checkpoint 39: its signed root does not match"),  # the first leaf after the earlier checkpoint
        (21, 21, "checkpoint 22: its signed root does not match"),  # the last leaf the earlier checkpoint covers
        (0, 0, "checkpoint 22: its signed root does not match"),
    ],
)
def test_verification_in_chunks_rebuilds_the_root_of_every_checkpoint(
    signed: SignedLedger, chunk: int, first: int | None, last: int | None, expected: str | None
) -> None:
    if first is not None and last is not None:
        rewrite_with_recomputed_hashes(signed.url, first, last)
    for workers, accelerator in itertools.product((0, 2), IMPLEMENTED):
        report = verify_log(
            signed.url, signed.key.verifier, origin=ORIGIN, workers=workers, chunk=chunk, accelerator=accelerator
        )
        assert report.implementation == speedups.describe(accelerator)
        if expected is None:
            assert report.ok, report.failures
            assert (report.events, report.checkpoints) == (39, 2)
        else:
            assert report.failures == [
                expected + " the leaves (the log was rewritten before leaf " + expected.split()[1].rstrip(":") + ")"
            ], report.failures


def test_verification_chunks_must_be_powers_of_two(signed: SignedLedger) -> None:
    with pytest.raises(ValueError, match="power of two"):
        verify_log(signed.url, signed.key.verifier, origin=ORIGIN, chunk=12)


def test_signing_is_idempotent_when_the_log_has_not_grown(signed: SignedLedger) -> None:
    assert signed.log.sign_checkpoint() is None
    with pytest.raises(CheckpointError):
        TransparencyLog(signed.url, origin=ORIGIN).sign_checkpoint()


def test_history_gives_every_event_with_its_position_and_hashes(signed: SignedLedger) -> None:
    department = department_id("部门05")
    signed.ledger.set_overall_goals(act(FINANCE, date(2020, 10, 1), "年度目标"), "部门05", 2021, ["目标一"])
    history = signed.ledger.history(department)
    assert [entry.version for entry in history] == [1, 2]
    assert [entry.event_type for entry in history] == ["Department.Registered", "Department.OverallGoalsSet"]
    assert history[1].reason == "年度目标"
    assert history[1].payload == {"fiscal_year": 2021, "goals": ["目标一"]}
    assert history[1].principal == FINANCE
    checkpoint = signed.log.sign_checkpoint()
    assert checkpoint is not None
    with psycopg.connect(signed.url) as conn:
        for entry in history:
            row = conn.execute(
                "SELECT leaf_hash, chain_hash FROM ledger_events WHERE leaf_index = %s", (entry.leaf_index,)
            ).fetchone()
            assert row is not None
            assert (bytes(row[0]).hex(), bytes(row[1]).hex()) == (entry.leaf_hash, entry.chain_hash)
            proof = signed.log.inclusion_proof(entry.leaf_index, checkpoint.checkpoint.size)
            assert merkle.verify_inclusion(
                bytes.fromhex(entry.leaf_hash),
                entry.leaf_index,
                checkpoint.checkpoint.size,
                proof,
                checkpoint.checkpoint.root_hash,
            )
    assert signed.ledger.version_as_of(department, history[0].recorded_at) == 1
    assert signed.ledger.version_as_of(department, history[1].recorded_at) == 2


def test_concurrent_signers_keep_checkpoints_growing_in_size_and_time(signed: SignedLedger) -> None:
    import threading

    logs = [TransparencyLog(signed.url, origin=ORIGIN, signing_key=signed.key) for _ in range(3)]
    try:

        def work(log: TransparencyLog, n: int) -> None:
            for i in range(6):
                signed.ledger.register_department(act(FINANCE, date(2020, 8, 3)), f"并发{n}-{i}")
                log.sign_checkpoint()

        threads = [threading.Thread(target=work, args=(log, n)) for n, log in enumerate(logs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for log in logs:
            log.close()
    report = verify_log(signed.url, signed.key.verifier, origin=ORIGIN)
    assert report.ok, report.failures
    assert report.checkpoints >= 3
