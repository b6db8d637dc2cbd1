"""Key rotation on a live log: recorded as an event, followed by ``verify_log``, by audit bundles, and enforced on the
signer.

The log signs with key A (the tests' key), then hands over to B, then to C. Old checkpoints stay verifiable with the
key of their era; whoever verifies may pin any key of the chain; a checkpoint the retired key signs after its
rotation, a rotation not signed by the key in force, and a rotation smuggled into the table are all caught.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import psycopg
import pytest

from ledger.application import Ledger
from ledger.domain.errors import DomainError, Forbidden
from ledger.domain.log_keys import KeyRotation as KeyRotationAggregate
from ledger.domain.log_keys import rotation_id
from ledger.domain.values import Principal
from ledger.log.audit import dumps_bundle, verify_bundle
from ledger.log.checkpoint import Checkpoint, SigningKey, sign_checkpoint, sign_note
from ledger.log.rotation import ROTATION_TOPIC, KeyRotation, RotationError, follow_chain, sign_rotation
from ledger.store.checkpoints import KeyNotInForce
from ledger.store.tlog import TransparencyLog
from ledger.store.verify_log import verify_log
from tests.conftest import FINANCE, TEST_KEY, act

pytestmark = pytest.mark.db

ORIGIN = "czj.example.gov.cn/jixiao-test"
ADMIN = Principal("it-admin", "admin", "")
A = TEST_KEY  # also the ledger fixture's snapshot key
B = SigningKey.generate(TEST_KEY.name)
C = SigningKey.generate(TEST_KEY.name)
D = SigningKey.generate(TEST_KEY.name)


@dataclass
class Rotating:
    url: str
    ledger: Ledger

    def log(self, key: SigningKey) -> TransparencyLog:
        log = TransparencyLog(self.url, origin=ORIGIN, signing_key=key)
        log.create_tables()
        return log

    def grow(self, count: int) -> None:
        start = self.ledger.head()
        for i in range(count):
            self.ledger.register_department(act(FINANCE, date(2020, 8, 1)), f"部门{start + i:04}")

    def sign(self, key: SigningKey, *also: SigningKey) -> int:
        log = self.log(key)
        try:
            signed = log.sign_checkpoint(also=also)
        finally:
            log.close()
        assert signed is not None
        return signed.column_size

    def rotate(self, old: SigningKey, new: SigningKey, number: int) -> int:
        """As ``jixiao key rotate`` does: the statement both keys sign, recorded; the new key's first checkpoint
        signed by both. Returns the rotation's leaf."""
        statement = sign_rotation(KeyRotation(ORIGIN, number, old.verifier, new.verifier), old, new)
        written = self.ledger.record_key_rotation(act(ADMIN, date(2022, 12, 1), "年度轮换"), statement, old.verifier)
        self.sign(new, old)
        return written.position

    def verify(self, key: SigningKey) -> list[str]:
        return verify_log(self.url, key.verifier, origin=ORIGIN, workers=0).failures


def two_eras(ledger: Ledger, database_url: str) -> Rotating:
    """A signs at 7 and 12 (the ledger opens with three events: the ruleset, the indicator library and the working
    calendar), then hands over to B at leaf 12; B signs the handover at 13, then at 18."""
    log = Rotating(database_url, ledger)
    log.grow(4)
    log.sign(A)
    log.grow(5)
    log.sign(A)
    log.rotate(A, B, 1)
    log.grow(5)
    log.sign(B)
    return log


@pytest.fixture
def rotating(ledger: Ledger, database_url: str) -> Rotating:
    return two_eras(ledger, database_url)


def first_department(ledger: Ledger) -> UUID:
    originator = ledger.reads.events_at([3])[0][1].originator_id
    assert isinstance(originator, UUID)
    return originator


def superuser(url: str, *statements: tuple[str, tuple[object, ...]]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # a superuser: the triggers bypassed
        for statement, params in statements:
            conn.execute(statement, params)


def test_the_rotation_is_an_event_in_the_log_at_the_handover(rotating: Rotating) -> None:
    (recorded,) = rotating.ledger.key_rotations()
    assert recorded.leaf_index == 12
    assert recorded.topic == ROTATION_TOPIC
    assert recorded.originator_id == rotation_id(1)
    history = rotating.ledger.history(rotation_id(1))
    assert history[0].event_type == "KeyRotation.Recorded"
    assert history[0].principal == ADMIN
    assert history[0].reason == "年度轮换"
    assert history[0].payload["statement"] == recorded.note
    log = rotating.log(B)
    try:
        assert log.key_rotations() == [recorded]
        checkpoints = {item.column_size: item for item in log.checkpoints()}
    finally:
        log.close()
    assert sorted(checkpoints) == [7, 12, 13, 18]
    handover = checkpoints[13].note  # the new key's first, signed by the old one too
    assert follow_chain(A.verifier, [recorded]).open_checkpoint(handover).size == 13
    assert f"\u2014 {A.name} " in handover.partition("\n\n")[2]
    assert len(handover.partition("\n\n")[2].splitlines()) == 2
    assert len(checkpoints[18].note.partition("\n\n")[2].splitlines()) == 1


@pytest.mark.parametrize("pinned", [A, B], ids=["first-key", "new-key"])
def test_the_log_verifies_after_a_rotation_whichever_key_of_the_chain_is_pinned(
    rotating: Rotating, pinned: SigningKey
) -> None:
    assert rotating.verify(pinned) == []
    report = verify_log(rotating.url, pinned.verifier, origin=ORIGIN, workers=0)
    assert (report.checkpoints, report.anchored, report.events) == (4, 18, 18)


def test_a_key_outside_the_chain_verifies_nothing(rotating: Rotating) -> None:
    failures = rotating.verify(D)
    assert failures
    assert "none of the log's keys" in failures[0]


def test_a_chain_of_two_rotations_is_followed_from_the_first_key(rotating: Rotating) -> None:
    assert rotating.rotate(B, C, 2) == 18
    rotating.grow(3)
    rotating.sign(C)
    assert rotating.verify(A) == []
    assert rotating.verify(C) == []
    keys = follow_chain(A.verifier, rotating.ledger.key_rotations(), ORIGIN)
    assert keys.keys == (A.verifier, B.verifier, C.verifier)
    assert keys.leaves == (12, 18)


def test_the_retired_key_signs_nothing_more(rotating: Rotating) -> None:
    """A service still running with the old key after the rotation refuses to sign (and says which key is in force);
    a service started with a key no rotation named refuses too."""
    rotating.grow(2)
    for key in (A, D):
        log = rotating.log(key)
        try:
            with pytest.raises(KeyNotInForce, match="key in force is"):
                log.sign_checkpoint()
            with pytest.raises(KeyNotInForce):
                log.check_key_in_force(key)
        finally:
            log.close()
    assert rotating.sign(B) == 20


def test_another_key_is_refused_without_a_rotation(ledger: Ledger, database_url: str) -> None:
    log = Rotating(database_url, ledger)
    log.grow(3)
    log.sign(A)
    log.grow(1)
    other = log.log(D)
    try:
        with pytest.raises(KeyNotInForce, match="jixiao key rotate"):
            other.sign_checkpoint()
    finally:
        other.close()
    first = log.log(A)
    try:
        first.check_key_in_force(A)  # the key of the checkpoints so far
    finally:
        first.close()


def test_any_key_may_sign_the_first_checkpoint(ledger: Ledger, database_url: str) -> None:
    log = Rotating(database_url, ledger)
    log.grow(2)
    assert log.sign(D) == 5  # the ledger's three opening events, and two departments


def test_a_checkpoint_the_retired_key_signs_after_its_rotation_fails_verification(rotating: Rotating) -> None:
    """An attacker holding the stolen old key and the database writes a checkpoint of a tree past the rotation."""
    rotating.grow(4)
    log = rotating.log(B)
    try:
        root = log.root(22)
    finally:
        log.close()
    forged = sign_checkpoint(Checkpoint(ORIGIN, 22, root), A)
    superuser(
        rotating.url,
        (
            "INSERT INTO ledger_checkpoints (tree_size, root_hash, origin, key_name, note) VALUES (%s, %s, %s, %s, %s)",
            (22, root, ORIGIN, A.name, forged),
        ),
    )
    failures = rotating.verify(A)
    assert failures
    assert failures[0].startswith("checkpoint 22:")
    assert "key in force" in failures[0]


def test_a_rotation_smuggled_into_the_log_is_caught(rotating: Rotating) -> None:
    """Whoever can append to the log but holds no key of the chain records rotation 2 to a key of its own (signed by
    it and another of its own), past the application's checks: verification names it, and the signer, which takes
    the last rotation's word for the key in force, stops signing rather than go on with a key the log disowned."""
    statement = sign_rotation(KeyRotation(ORIGIN, 2, C.verifier, D.verifier), C, D)
    rotating.ledger.save(KeyRotationAggregate.rotate(2, statement, act(ADMIN, date(2022, 12, 1), "x").by))
    failures = rotating.verify(A)
    assert failures
    assert "key rotation 2 (leaf 18)" in failures[0]
    assert "not signed by the key in force" in failures[0]
    log = rotating.log(B)
    try:
        with pytest.raises(KeyNotInForce):
            log.sign_checkpoint()
    finally:
        log.close()


def test_the_application_refuses_a_rotation_that_does_not_follow(rotating: Rotating) -> None:
    def refused(statement: str, in_force: SigningKey = B) -> DomainError:
        with pytest.raises(DomainError) as caught:
            rotating.ledger.record_key_rotation(act(ADMIN, date(2022, 12, 1), "x"), statement, in_force.verifier)
        return caught.value

    assert refused(sign_rotation(KeyRotation(ORIGIN, 2, C.verifier, D.verifier), C, D)).code == "key-rotation-refused"
    assert refused(sign_rotation(KeyRotation(ORIGIN, 1, B.verifier, C.verifier), B, C)).code == "key-rotation-refused"
    assert refused(sign_rotation(KeyRotation(ORIGIN, 2, B.verifier, A.verifier), B, A)).code == "key-rotation-refused"
    assert refused("not a statement").code == "key-rotation-refused"
    unsigned_by_new = statement_signed_by(KeyRotation(ORIGIN, 2, B.verifier, C.verifier), B)
    assert refused(unsigned_by_new).code == "key-rotation-refused"
    other_log = sign_rotation(KeyRotation("another.example/log", 2, B.verifier, C.verifier), B, C)
    assert refused(other_log).code == "key-rotation-refused"
    good = sign_rotation(KeyRotation(ORIGIN, 2, B.verifier, C.verifier), B, C)
    assert refused(good, in_force=A).code == "key-rotation-refused"  # the caller's key is not the one in force
    with pytest.raises(Forbidden):
        rotating.ledger.record_key_rotation(act(FINANCE, date(2022, 12, 1), "x"), good, B.verifier)
    assert len(rotating.ledger.key_rotations()) == 1
    rotating.ledger.record_key_rotation(act(ADMIN, date(2022, 12, 1), "x"), good, B.verifier)
    assert len(rotating.ledger.key_rotations()) == 2


def statement_signed_by(rotation: KeyRotation, *keys: SigningKey) -> str:
    return sign_note(rotation.body(), *keys)


def test_two_rotations_racing_for_the_same_number_record_one(rotating: Rotating) -> None:
    to_c = sign_rotation(KeyRotation(ORIGIN, 2, B.verifier, C.verifier), B, C)
    to_d = sign_rotation(KeyRotation(ORIGIN, 2, B.verifier, D.verifier), B, D)
    rotating.ledger.record_key_rotation(act(ADMIN, date(2022, 12, 1), "x"), to_c, B.verifier)
    # The other was checked against the chain as it stood before (as a racing process would): its number is taken.
    aggregate = KeyRotationAggregate.rotate(2, to_d, act(ADMIN, date(2022, 12, 1), "x").by)
    with pytest.raises(DomainError, match="already exists"):
        rotating.ledger._commit_new(aggregate)
    assert [r.note for r in rotating.ledger.key_rotations()][1] == to_c


def test_a_bundle_after_a_rotation_verifies_against_the_first_key(rotating: Rotating) -> None:
    department = first_department(rotating.ledger)  # registered before the rotation
    log = rotating.log(B)
    try:
        bundle = log.export_bundle(B.verifier, department)
    finally:
        log.close()
    assert [item["leaf_index"] for item in bundle["key_rotations"]] == [12]
    text = dumps_bundle(bundle)
    for pinned in (A, B, None):
        report = verify_bundle(text, None if pinned is None else pinned.verifier)
        assert report.ok, report.failures
    assert not verify_bundle(text, D.verifier).ok

    moved = json.loads(text)
    moved["key_rotations"][0]["inclusion_proof"] = moved["key_rotations"][0]["inclusion_proof"][1:]
    report = verify_bundle(dumps_bundle(moved), A.verifier)
    assert report.failures == ["key rotation 1: not in the signed tree at leaf 12"]

    dropped = json.loads(text)
    del dropped["key_rotations"]
    report = verify_bundle(dumps_bundle(dropped), A.verifier)
    assert not report.ok
    assert "different verifier key than the one pinned" in report.failures[0]


def test_a_bundle_before_any_rotation_carries_no_rotations(ledger: Ledger, database_url: str) -> None:
    log = Rotating(database_url, ledger)
    log.grow(3)
    store = log.log(A)
    try:
        department = first_department(ledger)
        bundle = store.export_bundle(A.verifier, department)
    finally:
        store.close()
    assert "key_rotations" not in bundle
    assert verify_bundle(dumps_bundle(bundle), A.verifier).ok


def test_a_rotation_statement_that_does_not_verify_is_never_trusted_by_the_signer(rotating: Rotating) -> None:
    """A rotation row whose statement was altered in place: the signer refuses rather than trust it."""
    (recorded,) = rotating.ledger.key_rotations()
    state = json.loads(recorded.state)
    state["statement"] = state["statement"].replace("rotation 1", "rotation 1 ")
    superuser(
        rotating.url,
        ("UPDATE ledger_events SET state = %s WHERE leaf_index = 12", (json.dumps(state).encode(),)),
    )
    rotating.grow(1)
    log = rotating.log(B)
    try:
        with pytest.raises(KeyNotInForce, match="does not verify"):
            log.sign_checkpoint()
    finally:
        log.close()
    with pytest.raises(RotationError):
        follow_chain(A.verifier, rotating.ledger.key_rotations())
