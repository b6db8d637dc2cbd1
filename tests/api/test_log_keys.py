"""``GET /log/keys`` and the auditor's client after a key rotation.

The service shows its chain of keys with each rotation's event bytes; an auditor holding only the first key follows
it, and a service that hides a rotation, moves one, or shows a checkpoint its own chain disowns does not get past it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config.settings import Settings
from api.roles.witness import WitnessHome, WitnessServer
from ledger.application import Ledger
from ledger.log.checkpoint import Checkpoint, CheckpointError, SigningKey, sign_checkpoint
from ledger.log.monitor import CheckpointKeeper, LogClient, Misbehaviour, audit
from ledger.log.rotation import KeyRotation, RecordedRotation, RotationError, sign_rotation
from ledger.log.verifier import VerifyPolicy
from ledger.log.witness import TrustPolicy, WitnessEndpoint
from ledger.store.tlog import TransparencyLog
from ledger.store.verify_log import verify_log
from tests.conftest import act
from tests.ledger.store.test_key_rotation import ADMIN, ORIGIN, A, B, Rotating, two_eras

pytestmark = pytest.mark.db


@pytest.fixture
def served(ledger: Ledger, database_url: str, tmp_path: Path) -> Iterator[tuple[Rotating, TestClient]]:
    """The log of tests.ledger.store.test_key_rotation (A until leaf 12, B since), served with B."""
    log = two_eras(ledger, database_url)
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        run_projections=False,
        run_dispatcher=False,
        run_scheduler=False,
        checkpoint_interval=0,
        log_origin=ORIGIN,
        signing_key=B.to_string(),
    )
    with TestClient(create_app(settings)) as http:
        yield log, http


def client_of(http: TestClient) -> LogClient:
    client = LogClient("http://testserver")
    client._get = lambda path, params: http.get(path, params=params).text  # type: ignore[method-assign]
    return client


def test_the_service_shows_its_chain_of_keys(served: tuple[Rotating, TestClient]) -> None:
    log, http = served
    answer = http.get("/log/keys")
    assert answer.status_code == 200
    keys = answer.json()
    assert keys["origin"] == ORIGIN
    assert keys["verifier_key"] == B.verifier.to_string()
    (rotation,) = keys["rotations"]
    (recorded,) = log.ledger.key_rotations()
    assert (rotation["number"], rotation["leaf_index"]) == (1, 12)
    assert (rotation["old_key"], rotation["new_key"]) == (A.verifier.to_string(), B.verifier.to_string())
    assert rotation["statement"] == recorded.note
    assert RecordedRotation.from_json(rotation) == recorded
    assert http.get("/log/key").json()["verifier_key"] == B.verifier.to_string()


def test_an_auditor_with_the_first_key_follows_the_rotation(
    served: tuple[Rotating, TestClient], tmp_path: Path
) -> None:
    log, http = served
    keeper = CheckpointKeeper(tmp_path / "kept")
    store = log.log(B)
    try:
        before = next(item.note for item in store.checkpoints() if item.column_size == 12)
    finally:
        store.close()
    keeper.keep(ORIGIN, 12, before)  # what an earlier run kept, signed by A
    report = audit(client_of(http), keeper, TrustPolicy(A.verifier, origin=ORIGIN))
    assert report.checkpoint.size == 18
    assert report.previous is not None
    assert report.previous.size == 12
    assert report.keys is not None
    assert report.keys.keys == (A.verifier, B.verifier)
    assert sorted(size for size, _ in keeper.kept(ORIGIN)) == [12, 18]


def test_a_service_that_hides_its_rotation_does_not_pass(served: tuple[Rotating, TestClient], tmp_path: Path) -> None:
    _, http = served
    client = client_of(http)
    client.key_rotations = list  # type: ignore[method-assign]
    with pytest.raises(CheckpointError, match="no signature by key"):
        audit(client, CheckpointKeeper(tmp_path / "kept"), TrustPolicy(A.verifier, origin=ORIGIN))
    assert not (tmp_path / "kept").exists() or not list((tmp_path / "kept").rglob("*.note"))


def test_a_rotation_shown_elsewhere_than_the_log_holds_it_does_not_pass(
    served: tuple[Rotating, TestClient], tmp_path: Path
) -> None:
    _, http = served
    client = client_of(http)
    shown = client.key_rotations()
    moved = [RecordedRotation(11, r.originator_id, r.originator_version, r.topic, r.state) for r in shown]
    client.key_rotations = lambda: moved  # type: ignore[method-assign]
    with pytest.raises(RotationError, match="not in the log at leaf 11"):
        audit(client, CheckpointKeeper(tmp_path / "kept"), TrustPolicy(A.verifier, origin=ORIGIN))


def test_a_kept_checkpoint_of_the_retired_key_past_its_rotation_is_misbehaviour(
    served: tuple[Rotating, TestClient], tmp_path: Path
) -> None:
    """The log once showed this auditor a checkpoint of size 14 signed by A (hiding the rotation at leaf 12); now
    it shows the rotation. Both notes together are the evidence."""
    log, http = served
    store = log.log(B)
    try:
        root = store.root(14)
    finally:
        store.close()
    keeper = CheckpointKeeper(tmp_path / "kept")
    keeper.keep(ORIGIN, 14, sign_checkpoint(Checkpoint(ORIGIN, 14, root), A))
    with pytest.raises(Misbehaviour, match="not signed by the key in force") as caught:
        audit(client_of(http), keeper, TrustPolicy(A.verifier, origin=ORIGIN))
    assert caught.value.evidence is not None
    assert caught.value.evidence.exists()


def test_a_witness_that_knows_only_the_old_key_cosigns_the_handover_then_waits_for_the_new(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    """The old key signs the new key's first checkpoint too, so witnesses keep cosigning across the rotation: the
    handover (which commits to the rotation) under the key they know, the rest once their operator adds the new key."""
    home = WitnessHome(tmp_path / "witness")
    witness_key = home.init("sjj.example.gov.cn/witness").verifier
    home.add_log(ORIGIN, A.verifier)

    def cosigned(key: SigningKey, *also: SigningKey) -> str:
        server = WitnessServer(("127.0.0.1", 0), home.witness())  # the witness as its folder says now
        server.start()
        endpoint = WitnessEndpoint(witness_key, f"http://127.0.0.1:{server.server_address[1]}")
        log = TransparencyLog(database_url, origin=ORIGIN, signing_key=key, witnesses=[endpoint])
        log.create_tables()
        try:
            return log.cosign(log.sign_checkpoint(also=also))[witness_key.name]
        finally:
            log.close()
            server.shutdown()
            server.server_close()

    rotating = Rotating(database_url, ledger)
    rotating.grow(4)
    assert cosigned(A) == "cosigned"
    statement = sign_rotation(KeyRotation(ORIGIN, 1, A.verifier, B.verifier), A, B)
    ledger.record_key_rotation(act(ADMIN, date(2022, 12, 1), "年度轮换"), statement, A.verifier)
    assert cosigned(B, A) == "cosigned"  # the handover: the witness checks A's signature on it
    rotating.grow(2)
    assert cosigned(B).startswith("failed")  # B alone: not a key it knows for this log
    home.add_log(ORIGIN, B.verifier)  # its operator checked the rotation (jixiao audit follows it) and adds B
    assert cosigned(B) == "cosigned"
    report = verify_log(
        database_url,
        A.verifier,
        origin=ORIGIN,
        workers=0,
        policy=VerifyPolicy(witnesses=(witness_key,), min_witnesses=1),
    )
    assert report.ok, report.failures
    assert report.anchored == report.events
