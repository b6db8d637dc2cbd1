"""Nothing the operator holds can change a decision unseen: snapshots, kept checkpoints and independent witnesses.

Each attack is made as the issue that asked for this describes it: a snapshot forged through the real service role,
checkpoints deleted after a rewrite, the checkpoint table rolled back, a fork shown to a witness, a split view
between witnesses, an auditor's kept checkpoint against a rewritten log, and a ledger with no checkpoint yet. Each is
caught, named, and makes the command exit non-zero.

Over 500 lines: each attack is set up as an attacker would make it, through the real roles and processes, and the
setting up is most of each test; they share one story, told in order.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest
from eventsourcing.domain import Snapshot

from api.config.settings import Settings
from api.roles.witness import WitnessHome, WitnessServer
from ledger.application import Ledger
from ledger.application.replay import replay_all
from ledger.domain.agencies import agency_id
from ledger.domain.errors import DomainError
from ledger.log.checkpoint import SigningKey
from ledger.log.integrity import chain_hash, leaf_hash
from ledger.log.monitor import CheckpointKeeper, LogClient, Misbehaviour, audit
from ledger.log.verifier import VerifyPolicy
from ledger.log.witness import TrustPolicy, WitnessEndpoint, WitnessKey, WitnessSigningKey
from ledger.store.tlog import TransparencyLog
from ledger.store.verify_log import verify_log
from tests.conftest import FINANCE, TEST_KEY, act, service_client
from tests.ledger.application.test_application import approved_project

CREDIT_CODE = "91632800864542843F"  # 统一社会信用代码 (GB 32100), its check characters right

pytestmark = pytest.mark.db

ORIGIN = "test.example/jixiao"
AGENCY = "青海某会计师事务所"


def blacklisted_agency(ledger: Ledger) -> uuid.UUID:
    ledger.register_agency(act(FINANCE, date(2020, 8, 1)), AGENCY, "执业证书", credit_code=CREDIT_CODE)
    ledger.record_misconduct(
        act(FINANCE, date(2021, 3, 1), evidence=["a" * 64]), AGENCY, "falsification", "伪造现场勘查记录"
    )
    ledger.blacklist_agency(act(FINANCE, date(2021, 3, 5), "评价结果不实"), AGENCY)
    return agency_id(AGENCY)


def forge_unblacklisted_snapshot(ledger: Ledger, agency: uuid.UUID) -> tuple[int, str, bytes]:
    """The attacker's snapshot: the agency at its current version with its blacklistings emptied."""
    current = ledger.agency(AGENCY)
    snapshot = Snapshot.take(current)
    snapshot.state["blacklistings"] = []
    stored = ledger.mapper.to_stored_event(snapshot)
    return stored.originator_version, stored.topic, stored.state


@pytest.mark.parametrize("authenticator", ["none", "random", "replayed"])
def test_a_forged_snapshot_changes_no_decision_and_verify_names_it(
    ledger: Ledger, service_url: str, database_url: str, authenticator: str, tmp_path: Path
) -> None:

    pid = approved_project(ledger)
    agency = blacklisted_agency(ledger)
    version, topic, state = forge_unblacklisted_snapshot(ledger, agency)
    log = TransparencyLog(database_url, origin=ORIGIN, signing_key=TEST_KEY)
    log.create_tables()
    assert log.sign_checkpoint() is not None
    forged_auth = {
        "none": None,
        "random": TEST_KEY.verifier.key_id + os.urandom(64),
        # a genuine signature — over another snapshot (of another aggregate, version and chain): no good here
        "replayed": ledger.snapshot_authenticator.sign(
            ledger.mapper.to_stored_event(Snapshot.take(ledger.project(pid))), bytes(32)
        ),
    }[authenticator]
    with psycopg.connect(service_url) as conn:  # as the service's own role: INSERT is all it needs, and all it has
        conn.execute(
            "INSERT INTO ledger_snapshots (originator_id, originator_version, topic, state, authenticator) "
            "VALUES (%s, %s, %s, %s, %s)",
            (agency, version, topic, state, forged_auth),
        )

    restarted = Ledger(service_url, create_schema=False, signing_key=TEST_KEY)  # a cold cache: loads the snapshot
    try:
        assert restarted.agency(AGENCY).is_blacklisted(date(2021, 9, 1)), "the forged snapshot was believed"
        with pytest.raises(DomainError) as refused:
            restarted.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, AGENCY)
        assert refused.value.code == "agency-blacklisted"
        assert sum(restarted.snapshot_authenticator.rejected.values()) >= 1
    finally:
        restarted.close()

    # The service itself, restarted on the service role: the commission is refused over HTTP, the refusal of the
    # snapshot is counted in /metrics.
    with service_client(service_url, tmp_path, TEST_KEY, ORIGIN) as client:
        token, _ = client.app.state.tokens.issue("fin-01", "finance", "市财政局", "test")  # type: ignore[attr-defined]
        answer = client.post(
            f"/projects/{pid}/key-evaluations",
            json={"agency": AGENCY, "effective_on": "2021-09-01"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 409, answer.text
        assert answer.json()["type"] == "urn:jixiao:problem:agency-blacklisted"
        metrics = client.get("/metrics").text
        reason = {"none": "unsigned", "random": "invalid", "replayed": "invalid"}[authenticator]
        assert f'jixiao_rejected_records_total{{kind="snapshot",reason="{reason}"}} 1.0' in metrics, metrics

    report = verify_log(database_url, TEST_KEY.verifier, origin=ORIGIN, workers=0)
    assert not report.ok
    assert any(f"snapshot of {agency} at version {version}" in failure for failure in report.failures), report.failures
    deep = replay_all(database_url, workers=0)
    assert any(
        f"snapshot of {agency} at version {version}: it differs from the replayed events (first in "
        "'blacklistings')" in failure
        for failure in deep.failures
    ), deep.failures


def test_authentic_snapshots_are_loaded_signed_by_the_key_and_equal_their_replay(
    ledger: Ledger, database_url: str
) -> None:
    agency = blacklisted_agency(ledger)
    for i in range(60):
        ledger.record_misconduct(act(FINANCE, date(2021, 4, 1)), AGENCY, "other", f"迟报材料 {i}")
    ledger.wait_for_snapshots()
    with psycopg.connect(database_url) as conn:
        versions = [
            row[0]
            for row in conn.execute(
                "SELECT originator_version FROM ledger_snapshots WHERE originator_id = %s ORDER BY 1", (agency,)
            )
        ]
    assert versions == [50]
    cold = Ledger(database_url, signing_key=TEST_KEY)
    try:
        assert len(cold.agency(AGENCY).misconduct) == 61
        assert not cold.snapshot_authenticator.rejected
    finally:
        cold.close()
    log = TransparencyLog(database_url, origin=ORIGIN, signing_key=TEST_KEY)
    log.create_tables()
    log.sign_checkpoint()
    report = verify_log(database_url, TEST_KEY.verifier, origin=ORIGIN, workers=2)
    assert report.ok, report.failures
    assert report.snapshots == 1
    other = SigningKey.generate("someone-else")
    assert any("not pinned" in failure for failure in verify_log(database_url, other.verifier, workers=0).failures)
    deep = replay_all(database_url, workers=2)
    assert deep.ok, deep.failures
    assert deep.snapshots == 1
    assert deep.events == report.events


def test_a_ledger_without_a_key_neither_takes_nor_trusts_snapshots(ledger: Ledger, database_url: str) -> None:
    blacklisted_agency(ledger)
    for i in range(55):
        ledger.record_misconduct(act(FINANCE, date(2021, 4, 1)), AGENCY, "other", f"迟报材料 {i}")
    ledger.wait_for_snapshots()
    keyless = Ledger(database_url)
    try:
        assert len(keyless.agency(AGENCY).misconduct) == 56  # replayed from events
        assert keyless.snapshots is not None
        assert keyless.snapshots.recorder.select_events(agency_id(AGENCY), desc=True, limit=1) == []
    finally:
        keyless.close()


# ----------------------------------------------------------------------------------------- checkpoints


@dataclass
class Logged:
    url: str
    ledger: Ledger
    log: TransparencyLog

    def cli(self, *args: str, key: SigningKey = TEST_KEY) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "JIXIAO_SIGNING_KEY": key.to_string(),
            "JIXIAO_LOG_ORIGIN": ORIGIN,
        }
        return subprocess.run(
            [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=180, check=False
        )


@pytest.fixture
def logged(ledger: Ledger, database_url: str) -> Iterator[Logged]:
    log = TransparencyLog(database_url, origin=ORIGIN, signing_key=TEST_KEY)
    log.create_tables()
    try:
        yield Logged(database_url, ledger, log)
    finally:
        log.close()


def grow(logged: Logged, count: int, prefix: str = "部门") -> None:
    start = logged.ledger.head()
    for i in range(count):
        logged.ledger.register_department(act(FINANCE, date(2020, 8, 1)), f"{prefix}{start + i:04}")


def rewrite_leaf(url: str, index: int) -> None:
    """As a superuser with triggers bypassed: change one event, recompute its leaf hash and every chain hash after."""
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        row = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events WHERE leaf_index = %s", (index,)
        ).fetchone()
        assert row is not None
        state = bytes(row[3])[:-1] + b" }"  # still the same JSON to a reader; other bytes to the hash
        conn.execute(
            "UPDATE ledger_events SET state = %s, leaf_hash = %s WHERE leaf_index = %s",
            (state, leaf_hash(row[0], row[1], row[2], state), index),
        )
        previous = bytes(32)
        for leaf_index, leaf in conn.execute(
            "SELECT leaf_index, leaf_hash FROM ledger_events ORDER BY leaf_index"
        ).fetchall():
            previous = chain_hash(previous, bytes(leaf))
            conn.execute("UPDATE ledger_events SET chain_hash = %s WHERE leaf_index = %s", (previous, leaf_index))
        conn.execute("DELETE FROM ledger_tree_nodes")


def delete_checkpoints(url: str, *, above: int = -1) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM ledger_checkpoints WHERE tree_size > %s", (above,))
        conn.execute("DELETE FROM ledger_cosignatures WHERE tree_size > %s", (above,))


def test_verify_with_no_checkpoint_yet_says_so_without_a_traceback(logged: Logged) -> None:
    grow(logged, 3)
    with psycopg.connect(logged.url) as conn:  # as right after `jixiao demo` on an old version: no tables even
        conn.execute("DROP TABLE ledger_cosignatures, ledger_checkpoints, ledger_tree_nodes CASCADE")
    result = logged.cli("verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no checkpoint signed by the key exists" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_rewritten_history_with_its_checkpoints_deleted_fails(logged: Logged) -> None:
    grow(logged, 20)
    assert logged.log.sign_checkpoint() is not None
    rewrite_leaf(logged.url, 5)
    delete_checkpoints(logged.url)
    result = logged.cli("verify", "--key", TEST_KEY.verifier.to_string())
    assert result.returncode == 1
    assert "no checkpoint signed by the key exists: none of the log's" in result.stderr


def test_an_unsigned_tail_is_reported_and_fails_beyond_the_policy(logged: Logged) -> None:
    grow(logged, 10)
    signed = logged.log.sign_checkpoint()
    assert signed is not None
    grow(logged, 5)
    report = verify_log(logged.url, TEST_KEY.verifier, origin=ORIGIN, workers=0)
    assert report.ok
    assert report.anchored == signed.column_size
    assert report.unanchored == 5
    assert report.unanchored_since is not None
    too_many = verify_log(logged.url, TEST_KEY.verifier, workers=0, policy=VerifyPolicy(max_unanchored_leaves=4))
    assert any("5 leaves at the head are not covered by a signed checkpoint" in f for f in too_many.failures)
    result = logged.cli("verify", "--max-unsigned-age", "0.001")
    assert result.returncode == 1
    assert "checkpoints stopped or were removed" in result.stderr
    ok = logged.cli("verify", "--max-unsigned", "5")
    assert ok.returncode == 0, ok.stderr
    assert "5 leaves at the head not yet covered" in ok.stdout


def test_a_rolled_back_checkpoint_table_fails_against_a_kept_checkpoint(logged: Logged, tmp_path: Path) -> None:
    grow(logged, 10)
    older = logged.log.sign_checkpoint()
    assert older is not None
    grow(logged, 10)
    newest = logged.log.sign_checkpoint()
    assert newest is not None
    kept = tmp_path / "kept.note"
    kept.write_text(newest.note, encoding="utf-8")
    assert logged.cli("verify", "--checkpoint", str(kept)).returncode == 0
    delete_checkpoints(logged.url, above=older.column_size)  # rolled back to the older one
    result = logged.cli("verify", "--checkpoint", str(kept))
    assert result.returncode == 1
    assert f"the checkpoint table holds none this large (largest {older.column_size})" in result.stderr


def test_a_kept_checkpoint_catches_a_history_rewritten_and_re_signed_with_the_key(
    logged: Logged, tmp_path: Path
) -> None:
    """The operator holds the key: it can rewrite, recompute the chain, delete and re-sign every checkpoint.
    Only a checkpoint kept outside its reach shows it."""
    grow(logged, 16)
    signed = logged.log.sign_checkpoint()
    assert signed is not None
    kept = tmp_path / "kept.note"
    kept.write_text(signed.note, encoding="utf-8")
    rewrite_leaf(logged.url, 3)
    delete_checkpoints(logged.url)
    grow(logged, 1)  # the log moves on, re-signed under the same key
    fresh = TransparencyLog(logged.url, origin=ORIGIN, signing_key=TEST_KEY)
    try:
        assert fresh.sign_checkpoint() is not None
    finally:
        fresh.close()
    assert logged.cli("verify").returncode == 0  # consistent with itself: the key signed it all
    result = logged.cli("verify", "--checkpoint", str(kept))
    assert result.returncode == 1
    assert (
        f"kept checkpoint {kept} (size {signed.column_size}): the log's tree at that size is not the one signed"
        in result.stderr
    )


# -------------------------------------------------------------------------- auditors and witnesses over HTTP


@pytest.fixture
def witnesses(tmp_path: Path) -> Iterator[list[tuple[WitnessKey, str, WitnessHome]]]:
    servers = []
    found = []
    for name in ("sjj.example.gov.cn/witness", "rd.example.gov.cn/witness"):
        home = WitnessHome(tmp_path / name.split(".")[0])
        key = home.init(name)
        home.add_log(ORIGIN, TEST_KEY.verifier)
        server = WitnessServer(("127.0.0.1", 0), home.witness())
        server.start()
        servers.append(server)
        found.append((key.verifier, f"http://127.0.0.1:{server.server_address[1]}", home))
    try:
        yield found
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_checkpoints_are_cosigned_and_a_fork_gathers_no_cosignature(
    logged: Logged, witnesses: list[tuple[WitnessKey, str, WitnessHome]]
) -> None:
    endpoints = [WitnessEndpoint(key, url) for key, url, _ in witnesses]
    keys = tuple(key for key, _, _ in witnesses)
    log = TransparencyLog(logged.url, origin=ORIGIN, signing_key=TEST_KEY, witnesses=endpoints)
    try:
        grow(logged, 12)
        log.sign_checkpoint()
        assert log.cosign() == {key.name: "cosigned" for key in keys}
        grow(logged, 5)
        latest = log.sign_checkpoint()
        assert latest is not None
        assert set(log.cosign().values()) == {"cosigned"}  # from size 12 to 17, each with a consistency proof
        note = log.cosigned_note(latest)
        checkpoint, cosigned = TrustPolicy(TEST_KEY.verifier, keys, 2, origin=ORIGIN).check(note)
        assert checkpoint.size == latest.column_size
        assert len(cosigned) == 2
        report = verify_log(
            logged.url,
            TEST_KEY.verifier,
            origin=ORIGIN,
            workers=0,
            policy=VerifyPolicy(witnesses=keys, min_witnesses=2),
        )
        assert report.ok
        assert report.anchored == latest.column_size
        assert report.anchored_by == sorted(k.name for k in keys)

        # The fork: history rewritten under the operator's key, old checkpoints removed, a new one signed.
        rewrite_leaf(logged.url, 2)
        delete_checkpoints(logged.url)
        grow(logged, 3)
        assert log.sign_checkpoint() is not None
        outcomes = log.cosign()
        assert all(outcome.startswith("failed") for outcome in outcomes.values()), outcomes
        assert all("422" in outcome or "409" in outcome for outcome in outcomes.values()), outcomes
        forked = verify_log(
            logged.url,
            TEST_KEY.verifier,
            origin=ORIGIN,
            workers=0,
            policy=VerifyPolicy(witnesses=keys, min_witnesses=1),
        )
        assert any("no checkpoint is cosigned by 1 of the pinned witnesses" in f for f in forked.failures)
        assert verify_log(logged.url, TEST_KEY.verifier, origin=ORIGIN, workers=0).ok  # without witnesses: fooled
        evidence = witnesses[0][2].folder / "state" / "evidence.jsonl"
        assert evidence.exists()
    finally:
        log.close()


def test_a_witness_that_is_down_delays_only_its_own_cosignature(
    logged: Logged, witnesses: list[tuple[WitnessKey, str, WitnessHome]]
) -> None:
    (up, up_url, _), (down, _, _) = witnesses
    endpoints = [WitnessEndpoint(up, up_url), WitnessEndpoint(down, "http://127.0.0.1:9")]
    log = TransparencyLog(logged.url, origin=ORIGIN, signing_key=TEST_KEY, witnesses=endpoints, witness_timeout=2)
    try:
        grow(logged, 4)
        log.sign_checkpoint()
        outcomes = log.cosign()
        assert outcomes[up.name] == "cosigned"
        assert outcomes[down.name].startswith("failed")
        assert log.witness_failures == {down.name: 1}
        latest = log.latest_checkpoint()
        assert latest is not None
        assert TrustPolicy(TEST_KEY.verifier, (up,), 1).check(log.cosigned_note(latest))
    finally:
        log.close()


def test_the_auditor_keeps_checkpoints_and_catches_rollback_rewrite_and_split_view(
    logged: Logged, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    grow(logged, 8)
    logged.log.sign_checkpoint()
    settings = Settings(
        database_url=logged.url,
        data_dir=tmp_path,
        run_projections=False,
        run_dispatcher=False,
        run_scheduler=False,
        checkpoint_interval=0,
        log_origin=ORIGIN,
        signing_key=TEST_KEY.to_string(),
    )
    folder = tmp_path / "auditor"
    policy = TrustPolicy(TEST_KEY.verifier, origin=ORIGIN)
    with TestClient(create_app(settings)) as http:
        client = LogClient("http://testserver")
        client._get = lambda path, params: http.get(path, params=params).text  # type: ignore[method-assign]
        first = audit(client, CheckpointKeeper(folder), policy)
        assert first.first
        size = first.checkpoint.size
        grow(logged, 8)
        logged.log.sign_checkpoint()
        second = audit(client, CheckpointKeeper(folder), policy)
        assert not second.first
        assert second.checkpoint.size == size + 8
        assert second.previous is not None
        assert second.previous.size == size

        delete_checkpoints(logged.url, above=size)  # rolled back
        with pytest.raises(Misbehaviour, match=f"smaller than the {size + 8}"):
            audit(client, CheckpointKeeper(folder), policy)

        rewrite_leaf(logged.url, 1)  # rewritten and re-signed: the proof from 16 cannot hold
        delete_checkpoints(logged.url)
        grow(logged, 4)
        logged.log.sign_checkpoint()
        with pytest.raises(Misbehaviour, match="history was rewritten") as caught:
            audit(client, CheckpointKeeper(folder), policy)
        assert caught.value.evidence is not None
        assert caught.value.evidence.exists()

    # A split view: another tree of a size already kept, signed by the key.
    kept_folder = tmp_path / "split"
    keeper = CheckpointKeeper(kept_folder)
    from ledger.log.checkpoint import Checkpoint, sign_checkpoint
    from ledger.log.rotation import RecordedRotation

    keeper.keep(ORIGIN, 20, sign_checkpoint(Checkpoint(ORIGIN, 20, bytes(32)), TEST_KEY))

    class Shown(LogClient):
        def checkpoint_note(self, witnesses: int = 0) -> str:
            return sign_checkpoint(Checkpoint(ORIGIN, 20, b"\x01" * 32), TEST_KEY)

        def key_rotations(self) -> list[RecordedRotation]:
            return []

    with pytest.raises(Misbehaviour, match="split view"):
        audit(Shown("http://unused"), keeper, policy)


def test_jixiao_audit_from_another_machine_exits_non_zero_on_a_rewrite(logged: Logged, tmp_path: Path) -> None:
    """The command an auditor runs: only the public key and the URL, against a real server process."""
    import socket

    grow(logged, 6)
    signed = logged.log.sign_checkpoint()
    assert signed is not None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": logged.url,
        "JIXIAO_SIGNING_KEY": TEST_KEY.to_string(),
        "JIXIAO_LOG_ORIGIN": ORIGIN,
        "JIXIAO_PORT": str(port),
        "JIXIAO_RUN_PROJECTIONS": "false",
        "JIXIAO_RUN_SCHEDULER": "false",
        "JIXIAO_RUN_DISPATCHER": "false",
        "JIXIAO_CHECKPOINT_INTERVAL": "0",
        "JIXIAO_DATA_DIR": str(tmp_path / "var"),
    }
    output = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve"], env=env, stdout=output, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        auditor_env = {key: value for key, value in os.environ.items() if not key.startswith(("JIXIAO", "DATABASE"))}
        command = [
            sys.executable,
            "-m",
            "api.cli",
            "audit",
            "--url",
            url,
            "--key",
            TEST_KEY.verifier.to_string(),
            "--dir",
            str(tmp_path / "kept"),
        ]
        first = subprocess.run(command, env=auditor_env, capture_output=True, text=True, timeout=60, check=False)
        assert first.returncode == 0, first.stderr
        assert "kept the first checkpoint" in first.stdout
        grow(logged, 3)
        logged.log.sign_checkpoint()
        second = subprocess.run(command, env=auditor_env, capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 0, second.stderr
        assert f"extends the checkpoint kept at size {signed.column_size}" in second.stdout
        rewrite_leaf(logged.url, 0)
        delete_checkpoints(logged.url)
        logged.log.sign_checkpoint()
        third = subprocess.run(command, env=auditor_env, capture_output=True, text=True, timeout=60, check=False)
        assert third.returncode == 1, third.stdout + third.stderr
        assert "MISBEHAVIOUR" in third.stderr
        assert "Traceback" not in third.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
        output.close()


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_bundle_carries_its_cosignatures_and_fails_without_enough(
    logged: Logged, witnesses: list[tuple[WitnessKey, str, WitnessHome]], tmp_path: Path
) -> None:
    from ledger.log.audit import dumps_bundle, verify_bundle

    endpoints = [WitnessEndpoint(key, url) for key, url, _ in witnesses]
    keys = tuple(key for key, _, _ in witnesses)
    grow(logged, 5)
    log = TransparencyLog(logged.url, origin=ORIGIN, signing_key=TEST_KEY, witnesses=endpoints)
    try:
        pid = approved_project(logged.ledger, code="JY-77")
        bundle = dumps_bundle(log.export_bundle(TEST_KEY.verifier, pid))
    finally:
        log.close()
    both = verify_bundle(bundle, TEST_KEY.verifier, TrustPolicy(TEST_KEY.verifier, keys, 2))
    assert both.ok, both.failures
    assert both.witnesses == sorted(key.name for key in keys)
    path = tmp_path / "bundle.json"
    path.write_text(bundle, encoding="utf-8")
    assert (
        logged.cli(
            "verify",
            "--bundle",
            str(path),
            "--key",
            TEST_KEY.verifier.to_string(),
            *[arg for key in keys for arg in ("--witness", key.to_string())],
        ).returncode
        == 0
    )
    third = WitnessSigningKey.generate("third").verifier  # a witness that never saw this log
    result = logged.cli(
        "verify", "--bundle", str(path), "--key", TEST_KEY.verifier.to_string(), "--witness", third.to_string()
    )
    assert result.returncode == 1
    assert "cosigned by 0 of the pinned witnesses" in result.stderr


def test_the_offline_verifier_stands_alone(logged: Logged, tmp_path: Path) -> None:
    """Bundle, checkpoint, proof and witness verification, and the auditor's client, import nothing beyond the
    standard library and ``cryptography``: run where a database driver, eventsourcing, FastAPI and pydantic are
    refused, they work."""
    from ledger.log.audit import dumps_bundle
    from tests.standalone import standalone

    pid = approved_project(logged.ledger, code="JY-88")
    path = tmp_path / "bundle.json"
    path.write_text(dumps_bundle(logged.log.export_bundle(TEST_KEY.verifier, pid)), encoding="utf-8")
    code = standalone(f"""
from pathlib import Path
from ledger.log.audit import verify_bundle
from ledger.log.checkpoint import VerifierKey
from ledger.log.monitor import CheckpointKeeper, LogClient, audit
from ledger.log.witness import TrustPolicy, WitnessKey

key = VerifierKey.from_string({TEST_KEY.verifier.to_string()!r})
report = verify_bundle(Path({str(path)!r}).read_bytes(), key, TrustPolicy(key))
assert report.ok, report.failures
print("verified", report.events)
""")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("verified ")


def test_an_altered_watch_list_cannot_hide_a_deadline(ledger: Ledger, service_url: str) -> None:
    """The sweeps' bookkeeping is the service role's to write; the full pass each process makes at its first run
    (and daily) finds what the list hides, and says so."""
    from ledger.store.tables import SWEEP_WATCH as WATCH

    pid = approved_project(ledger)
    assert ledger.sweep("deadlines", date(2021, 8, 1)).raised == {}
    with psycopg.connect(service_url) as conn:  # the attacker: nothing is due before the year 9999
        conn.execute(f"UPDATE {WATCH} SET check_on = '9999-12-31'")
    assert ledger.sweep("deadlines", date(2021, 8, 8)).raised == {}  # this process trusts its list today…
    scheduler = Ledger(service_url, create_schema=False, signing_key=TEST_KEY)  # …a fresh one checks every object
    try:
        report = scheduler.sweep("deadlines", date(2021, 8, 8))
        assert report.raised == {"Project.DeadlineApproaching": 1}
        assert report.rechecked >= 1
        assert report.missed == 1
        assert scheduler.sweep("deadlines", date(2021, 8, 8)).rechecked == 0  # a day between full passes
    finally:
        scheduler.close()
    assert ledger.project(pid).version > 0


def test_the_tree_the_database_hashes_is_the_reference_tree(logged: Logged) -> None:
    """``ledger_tree_nodes_extend()`` (the owner's function the service role calls instead of inserting nodes) builds
    exactly the nodes the reference implementation does, extended by steps of every parity."""
    from tests.ledger.log.test_merkle import build_store

    for step in (1, 1, 2, 3, 5, 8, 13, 1, 21, 2):
        grow(logged, step)
        size = logged.log.extend()
        with psycopg.connect(logged.url) as conn:
            leaves = [bytes(row[0]) for row in conn.execute("SELECT leaf_hash FROM ledger_events ORDER BY leaf_index")]
            stored = {
                (int(level), int(idx)): bytes(digest)
                for level, idx, digest in conn.execute("SELECT level, idx, hash FROM ledger_tree_nodes")
            }
        assert size == len(leaves)
        expected = {node: digest for node, digest in build_store(leaves).items() if node[0] >= 1}
        assert stored == expected
