"""Unit tests for ledger.log.rotation: the key rotation statement, and the chain of keys an auditor follows.

An auditor holding only the key it first pinned must follow the log from key to key; a rotation not signed by the
key in force (or not by its successor), out of order, for another log, or back to a key used before, is refused;
and every checkpoint is checked against the key in force at its tree size, so old checkpoints stay verifiable and
a retired key signs nothing that counts.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from ledger.log.checkpoint import Checkpoint, CheckpointError, SigningKey, sign_checkpoint, sign_note
from ledger.log.integrity import leaf_hash
from ledger.log.rotation import (
    ROTATION_HEADER,
    ROTATION_TOPIC,
    KeyRotation,
    KeySchedule,
    RecordedRotation,
    RotationError,
    follow_chain,
    note_text,
    open_rotation,
    sign_rotation,
)

ORIGIN = "czj.example.gov.cn/jixiao"
NAME = "czj.example.gov.cn-jixiao"
A, B, C, D = (SigningKey(NAME, bytes([seed]) * 32) for seed in (1, 2, 3, 4))
ROOT = bytes(range(32))


def statement(old: SigningKey, new: SigningKey, number: int = 1, origin: str = ORIGIN) -> str:
    return sign_rotation(KeyRotation(origin, number, old.verifier, new.verifier), old, new)


def checkpoint(size: int, *keys: SigningKey) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, ROOT), *keys)


# A → B at leaf 10, B → C at leaf 20: checkpoints up to size 10 are A's, 11–20 B's, from 21 C's.
CHAIN = [(10, statement(A, B, 1)), (20, statement(B, C, 2))]


# ---------------------------------------------------------------------------
# The statement
# ---------------------------------------------------------------------------


def test_a_statement_reads_as_documented_and_parses_back() -> None:
    rotation = KeyRotation(ORIGIN, 1, A.verifier, B.verifier)
    assert rotation.body() == (
        f"{ROTATION_HEADER}\norigin {ORIGIN}\nrotation 1\nold {A.verifier.to_string()}\nnew {B.verifier.to_string()}\n"
    )
    assert KeyRotation.parse_body(rotation.body()) == rotation


def test_a_signed_statement_carries_both_signatures_and_opens() -> None:
    note = statement(A, B)
    signatures = note.partition("\n\n")[2]
    assert len(signatures.splitlines()) == 2
    assert open_rotation(note) == KeyRotation(ORIGIN, 1, A.verifier, B.verifier)


@pytest.mark.parametrize(
    "signers",
    [pytest.param((A,), id="old-only"), pytest.param((B,), id="new-only"), pytest.param((C, B), id="another-old")],
)
def test_a_statement_not_signed_by_both_its_keys_is_refused(signers: tuple[SigningKey, ...]) -> None:
    note = sign_note(KeyRotation(ORIGIN, 1, A.verifier, B.verifier).body(), *signers)
    with pytest.raises(RotationError):
        open_rotation(note)


def test_a_forged_signature_on_a_statement_is_refused() -> None:
    note = statement(A, B)
    text, _, lines = note.partition("\n\n")
    first, second = lines.splitlines()
    prefix, encoded = first.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 1
    forged = f"{text}\n\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n{second}\n"
    with pytest.raises(RotationError):
        open_rotation(forged)


def test_a_notes_text_is_read_before_its_signatures_are_checked() -> None:
    assert note_text(statement(A, B)) == KeyRotation(ORIGIN, 1, A.verifier, B.verifier).body()
    assert note_text(checkpoint(7, A, B)) == Checkpoint(ORIGIN, 7, ROOT).body()
    assert note_text("no blank line\n") == ""
    # As open_note reads a note: the text ends at its last blank line (a malformed note is then refused by both).
    assert note_text("text\n\n\u2014 x AAAA\n\n\u2014 y AAAA\n") == "text\n\n\u2014 x AAAA\n"


def test_a_statement_is_signed_only_by_the_keys_it_names() -> None:
    with pytest.raises(RotationError):
        sign_rotation(KeyRotation(ORIGIN, 1, A.verifier, B.verifier), C, B)
    with pytest.raises(RotationError):
        sign_rotation(KeyRotation(ORIGIN, 1, A.verifier, B.verifier), A, C)


@pytest.mark.parametrize("number", [0, -1, True, "1"])
def test_a_rotation_number_counts_from_one(number: object) -> None:
    with pytest.raises(RotationError):
        KeyRotation(ORIGIN, number, A.verifier, B.verifier)  # type: ignore[arg-type]


def test_a_rotation_to_the_same_key_is_refused() -> None:
    with pytest.raises(RotationError):
        KeyRotation(ORIGIN, 1, A.verifier, A.verifier)
    renamed = SigningKey("another-name", A.seed)  # the same key under another name is the same key
    with pytest.raises(RotationError):
        KeyRotation(ORIGIN, 1, A.verifier, renamed.verifier)


@pytest.mark.parametrize("origin", ["", "two\nlines", "tab\there"])
def test_a_statement_names_an_origin_of_one_line(origin: str) -> None:
    with pytest.raises(CheckpointError):
        KeyRotation(origin, 1, A.verifier, B.verifier)


GOOD = KeyRotation(ORIGIN, 12, A.verifier, B.verifier).body()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(GOOD.replace(ROTATION_HEADER, "jixiao-key-rotation/v2"), id="other-header"),
        pytest.param(GOOD[:-1], id="no-final-newline"),
        pytest.param(GOOD + "extra\n", id="extra-line"),
        pytest.param(GOOD.replace("\nrotation 12\n", "\n"), id="missing-line"),
        pytest.param(GOOD.replace("origin ", "origin: "), id="wrong-label"),
        pytest.param(GOOD.replace("rotation 12", "rotation 012"), id="leading-zero"),
        pytest.param(GOOD.replace("rotation 12", "rotation 0"), id="zero"),
        pytest.param(GOOD.replace("rotation 12", "rotation twelve"), id="not-decimal"),
        pytest.param(GOOD.replace("rotation 12", "rotation 1234567890"), id="ten-digits"),
        pytest.param(GOOD.replace("rotation 12", "rotation  12"), id="two-spaces"),
        pytest.param(GOOD.replace(f"old {A.verifier.to_string()}", "old not-a-key"), id="bad-old-key"),
        pytest.param(GOOD.replace(f"new {B.verifier.to_string()}", f"new {A.verifier.to_string()}"), id="same-keys"),
        pytest.param(GOOD.replace(f"new {B.verifier.to_string()}", f"new {B.verifier.to_string()} "), id="trailing"),
        pytest.param(GOOD.replace(f"origin {ORIGIN}", "origin "), id="empty-origin"),
    ],
)
def test_a_malformed_statement_is_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        KeyRotation.parse_body(text)


def test_the_largest_number_a_statement_can_carry_has_nine_digits() -> None:
    assert KeyRotation.parse_body(GOOD.replace("rotation 12", "rotation 999999999")).number == 999_999_999


def test_a_statement_and_a_checkpoint_cannot_pass_for_each_other() -> None:
    """One key signs both: neither text parses as the other, so no signature over one is a signature over the
    other."""
    with pytest.raises(CheckpointError):
        Checkpoint.parse_body(GOOD)
    for origin in (ROTATION_HEADER, "7"):  # even a log named like the header, or like a number
        with pytest.raises(CheckpointError):
            KeyRotation.parse_body(Checkpoint(origin, 12, ROOT).body())


# ---------------------------------------------------------------------------
# The chain
# ---------------------------------------------------------------------------


def test_without_rotations_the_pinned_key_signs_every_size() -> None:
    schedule = follow_chain(A.verifier, [])
    assert schedule == KeySchedule((A.verifier,))
    assert schedule.key_at(0) == schedule.key_at(10**9) == schedule.current == A.verifier


def test_the_chain_gives_the_key_in_force_at_every_tree_size() -> None:
    schedule = follow_chain(A.verifier, CHAIN, ORIGIN)
    assert schedule.keys == (A.verifier, B.verifier, C.verifier)
    assert schedule.leaves == (10, 20)
    # A tree of size 10 holds leaves 0–9: not yet the rotation at leaf 10.
    assert [schedule.key_at(size) for size in (0, 1, 10, 11, 20, 21, 1000)] == [
        A.verifier,
        A.verifier,
        A.verifier,
        B.verifier,
        B.verifier,
        C.verifier,
        C.verifier,
    ]
    assert schedule.current == C.verifier


def test_a_longer_chain_takes_each_key_over_from_the_one_before() -> None:
    chain = [*CHAIN, (30, statement(C, D, 3))]
    schedule = follow_chain(B.verifier, chain, ORIGIN)
    assert schedule.keys == (A.verifier, B.verifier, C.verifier, D.verifier)
    assert [schedule.era(size) for size in (10, 11, 20, 21, 30, 31)] == [0, 1, 1, 2, 2, 3]
    with pytest.raises(RotationError, match="rotation 3"):  # from B, no longer in force, to D
        follow_chain(A.verifier, [*CHAIN, (30, statement(B, D, 3))], ORIGIN)


@pytest.mark.parametrize("pinned", [A, B, C], ids=["first", "middle", "last"])
def test_any_key_of_the_chain_may_be_pinned_and_gives_the_same_chain(pinned: SigningKey) -> None:
    assert follow_chain(pinned.verifier, CHAIN, ORIGIN) == follow_chain(A.verifier, CHAIN, ORIGIN)


def test_recorded_events_are_followed_as_their_statements() -> None:
    recorded = [recorded_rotation(leaf, note) for leaf, note in CHAIN]
    assert follow_chain(A.verifier, recorded, ORIGIN) == follow_chain(A.verifier, CHAIN, ORIGIN)


def test_a_key_outside_the_chain_is_refused_and_trusted_alone() -> None:
    with pytest.raises(RotationError, match="none of the log's keys") as caught:
        follow_chain(D.verifier, CHAIN)
    assert caught.value.valid == KeySchedule((D.verifier,))


def test_a_rotation_not_signed_by_the_key_in_force_is_refused() -> None:
    """Whoever holds C (not the key in force, B) cannot take the log: its statement C → D is refused, and the keys
    before it still hold."""
    chain = [CHAIN[0], (20, statement(C, D, 2))]
    with pytest.raises(RotationError, match="not signed by the key in force") as caught:
        follow_chain(A.verifier, chain)
    assert caught.value.valid == KeySchedule((A.verifier, B.verifier), (10,))


def test_a_rotation_signed_only_by_its_new_key_is_refused() -> None:
    chain = [CHAIN[0], (20, sign_note(KeyRotation(ORIGIN, 2, B.verifier, C.verifier).body(), C))]
    with pytest.raises(RotationError, match="rotation 2") as caught:
        follow_chain(A.verifier, chain)
    assert caught.value.valid == KeySchedule((A.verifier, B.verifier), (10,))


def test_a_broken_link_before_the_pinned_key_leaves_the_pinned_key_alone() -> None:
    """Trust flows from the pinned key: a chain broken before it cannot vouch for the keys after the break."""
    chain = [CHAIN[0], (20, statement(C, D, 2))]
    with pytest.raises(RotationError) as caught:
        follow_chain(D.verifier, chain)
    assert caught.value.valid == KeySchedule((D.verifier,))


def test_the_first_rotation_that_fails_leaves_the_pinned_key_alone() -> None:
    with pytest.raises(RotationError) as caught:
        follow_chain(A.verifier, [(10, sign_note(KeyRotation(ORIGIN, 1, A.verifier, B.verifier).body(), A))])
    assert caught.value.valid == KeySchedule((A.verifier,))


@pytest.mark.parametrize(
    "chain",
    [
        pytest.param([(10, statement(A, B, 2))], id="first-numbered-2"),
        pytest.param([CHAIN[0], (20, statement(B, C, 1))], id="number-repeated"),
        pytest.param([CHAIN[0], (20, statement(B, C, 3))], id="number-skipped"),
        pytest.param([CHAIN[0], (10, statement(B, C, 2))], id="same-leaf"),
        pytest.param([CHAIN[0], (9, statement(B, C, 2))], id="earlier-leaf"),
        pytest.param([(10, statement(A, B, 1, "another.example/log"))], id="another-log"),
        pytest.param([CHAIN[0], (20, statement(B, A, 2))], id="back-to-the-first-key"),
        pytest.param([*CHAIN, (30, statement(C, B, 3))], id="back-to-an-earlier-key"),
        pytest.param([CHAIN[0], (20, "not a note")], id="not-a-note"),
    ],
)
def test_a_chain_out_of_order_for_another_log_or_reusing_a_key_is_refused(chain: list[tuple[int, str]]) -> None:
    with pytest.raises(RotationError):
        follow_chain(A.verifier, chain, ORIGIN)


def test_a_rotation_at_the_leaf_of_the_one_before_is_refused_by_name() -> None:
    with pytest.raises(RotationError, match="not after rotation 1") as caught:
        follow_chain(A.verifier, [CHAIN[0], (10, statement(B, C, 2))])
    assert caught.value.valid == KeySchedule((A.verifier, B.verifier), (10,))


@pytest.mark.parametrize(
    "refused",
    [
        pytest.param((20, statement(B, C, 2, "another.example/log")), id="another-log"),
        pytest.param((20, statement(B, C, 3)), id="number-skipped"),
        pytest.param((20, statement(B, A, 2)), id="back-to-the-first-key"),
        pytest.param((20, statement(C, D, 2)), id="not-from-the-key-in-force"),
        pytest.param((9, statement(B, C, 2)), id="earlier-leaf"),
        pytest.param((20, "not a note"), id="not-a-note"),
    ],
)
def test_every_refusal_leaves_the_keys_before_it_to_be_checked(refused: tuple[int, str]) -> None:
    """What verify_log goes on with: the first rotation held, so A and B still verify their eras."""
    with pytest.raises(RotationError) as caught:
        follow_chain(A.verifier, [CHAIN[0], refused], ORIGIN)
    assert caught.value.valid == KeySchedule((A.verifier, B.verifier), (10,))


def test_the_origin_is_checked_only_when_given() -> None:
    chain = [(10, statement(A, B, 1, "another.example/log"))]
    assert follow_chain(A.verifier, chain).current == B.verifier


def test_a_schedule_has_one_key_per_era_in_log_order() -> None:
    with pytest.raises(RotationError):
        KeySchedule((A.verifier,), (10,))
    with pytest.raises(RotationError):
        KeySchedule((A.verifier, B.verifier, C.verifier), (20, 10))
    with pytest.raises(RotationError):
        KeySchedule((A.verifier, B.verifier, C.verifier), (10, 10))


# ---------------------------------------------------------------------------
# Checkpoints against the chain
# ---------------------------------------------------------------------------


def test_old_checkpoints_stay_verifiable_and_new_ones_need_the_new_key() -> None:
    schedule = follow_chain(A.verifier, CHAIN, ORIGIN)
    assert schedule.open_checkpoint(checkpoint(10, A), ORIGIN).size == 10
    assert schedule.open_checkpoint(checkpoint(11, B), ORIGIN).size == 11
    assert schedule.open_checkpoint(checkpoint(21, C)).size == 21


def test_the_handover_checkpoint_signed_by_both_keys_verifies_under_each() -> None:
    note = checkpoint(11, B, A)
    assert follow_chain(A.verifier, CHAIN).open_checkpoint(note).size == 11
    assert KeySchedule((A.verifier,)).open_checkpoint(note).size == 11  # a client that knows only A


@pytest.mark.parametrize(
    ("size", "signer"),
    [
        pytest.param(11, A, id="retired-key-after-its-rotation"),
        pytest.param(21, B, id="second-key-after-its-rotation"),
        pytest.param(10, B, id="new-key-before-its-rotation"),
        pytest.param(5, D, id="a-key-never-in-the-chain"),
    ],
)
def test_a_checkpoint_by_any_other_key_than_the_one_in_force_is_refused(size: int, signer: SigningKey) -> None:
    with pytest.raises(CheckpointError, match="key in force"):
        follow_chain(A.verifier, CHAIN).open_checkpoint(checkpoint(size, signer))


def test_without_rotations_a_refusal_is_the_checkpoints_own() -> None:
    with pytest.raises(CheckpointError, match="no signature by key") as caught:
        KeySchedule((A.verifier,)).open_checkpoint(checkpoint(3, B))
    assert "key in force" not in str(caught.value)


def test_a_checkpoint_of_another_origin_is_refused() -> None:
    with pytest.raises(CheckpointError):
        follow_chain(A.verifier, CHAIN).open_checkpoint(checkpoint(3, A), "another.example/log")


# ---------------------------------------------------------------------------
# Rotations as the log records them
# ---------------------------------------------------------------------------

ROTATION_ID = uuid.UUID("322496ee-be1f-54ca-94d2-bb0ee4f1cd34")


def recorded_rotation(leaf: int, note: str, topic: str = ROTATION_TOPIC, **fields: object) -> RecordedRotation:
    state = json.dumps({"number": 1, "statement": note, **fields}, ensure_ascii=False).encode()
    return RecordedRotation(leaf, ROTATION_ID, 1, topic, state)


def test_a_recorded_rotation_gives_its_statement_and_its_events_leaf_hash() -> None:
    recorded = recorded_rotation(10, CHAIN[0][1])
    assert recorded.note == CHAIN[0][1]
    assert recorded.leaf_hash() == leaf_hash(ROTATION_ID, 1, ROTATION_TOPIC, recorded.state)


@pytest.mark.parametrize(
    "recorded",
    [
        pytest.param(recorded_rotation(10, "x", topic="ledger.project:Project.Declared"), id="another-topic"),
        pytest.param(RecordedRotation(10, ROTATION_ID, 1, ROTATION_TOPIC, b"{not json"), id="not-json"),
        pytest.param(RecordedRotation(10, ROTATION_ID, 1, ROTATION_TOPIC, b"[1]"), id="not-an-object"),
        pytest.param(RecordedRotation(10, ROTATION_ID, 1, ROTATION_TOPIC, b'{"statement": 1}'), id="not-text"),
        pytest.param(RecordedRotation(10, ROTATION_ID, 1, ROTATION_TOPIC, b"\xff"), id="not-utf8"),
    ],
)
def test_an_event_that_records_no_rotation_gives_none(recorded: RecordedRotation) -> None:
    with pytest.raises(RotationError):
        _ = recorded.note
    with pytest.raises(RotationError, match="rotation 1"):
        follow_chain(A.verifier, [recorded])


@pytest.mark.parametrize("leaf", [0, 10])
def test_a_recorded_rotation_travels_as_json_and_back(leaf: int) -> None:
    recorded = recorded_rotation(leaf, CHAIN[0][1])
    data = json.loads(json.dumps(recorded.to_json()))
    assert data == {
        "leaf_index": leaf,
        "originator_id": str(ROTATION_ID),
        "originator_version": 1,
        "topic": ROTATION_TOPIC,
        "state": base64.b64encode(recorded.state).decode(),
    }
    assert RecordedRotation.from_json(data) == recorded


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"leaf_index": "10"}, id="leaf-as-text"),
        pytest.param({"leaf_index": True}, id="leaf-as-bool"),
        pytest.param({"leaf_index": -1}, id="negative-leaf"),
        pytest.param({"originator_version": 1.0}, id="version-as-float"),
        pytest.param({"topic": None}, id="no-topic"),
        pytest.param({"originator_id": "not-a-uuid"}, id="bad-id"),
        pytest.param({"state": "e30"}, id="unpadded-base64"),
        pytest.param({"state": "e30=\n"}, id="base64-with-a-newline"),
        pytest.param({"state": None}, id="no-state"),
    ],
)
def test_a_malformed_recorded_rotation_is_refused(change: dict[str, object]) -> None:
    data = {**recorded_rotation(10, CHAIN[0][1]).to_json(), **change}
    with pytest.raises(RotationError):
        RecordedRotation.from_json(data)
    with pytest.raises(RotationError):
        RecordedRotation.from_json({key: value for key, value in data.items() if key != "leaf_index"})
