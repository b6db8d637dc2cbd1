"""The log's signing keys over time: key rotation statements and the chain of keys an auditor follows.

A log changes its signing key by a **rotation statement**, a C2SP signed note whose text is::

    jixiao-key-rotation/v1
    origin <origin>
    rotation <n>
    old <verifier key in force until now>
    new <verifier key in force from now on>

signed by **both** keys: the old key's signature authorises the change (only the holder of the key in force can
hand the log to another), the new key's shows its holder took it over (nobody can name a key they do not hold).
The statement is recorded in the log itself, as an event (``KeyRotation.Recorded``): its leaf index ``L`` fixes
where the new key takes over, and the Merkle tree commits to it, so a log cannot show one chain of keys to one
auditor and another to the next without showing two histories. A checkpoint of tree size ``S`` is signed by the
key in force after every rotation its tree contains (those at leaves below ``S``): the old key's checkpoints stay
verifiable with it, and after the rotation the old key signs nothing that counts — a stolen retired key can forge
no later checkpoint.

An auditor holding only the key it first pinned follows the chain (:func:`follow_chain`): every statement must be
signed by its two keys, name this log's origin and the rotations in order, its old key must be the key then in
force, and its new key one the log never used before. Any key of the chain may be pinned (each link is signed both
ways); whichever is, the same chain results. A statement that breaks any of this is refused, naming the rotation.

The text can be neither a checkpoint (its second line is not a tree size) nor a cosignature or a snapshot's
authenticator (which sign other, labelled texts): one key signs all of them, and none can pass for another.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.log.checkpoint import (
    Checkpoint,
    CheckpointError,
    SigningKey,
    VerifierKey,
    decode_base64,
    open_note,
    sign_note,
    verify_checkpoint,
)
from ledger.log.integrity import leaf_hash

ROTATION_HEADER = "jixiao-key-rotation/v1"
ROTATION_TOPIC = "ledger.log_keys:KeyRotation.Recorded"
"""The stored topic of the event that records a rotation (``ledger.domain.log_keys.KeyRotation.Recorded``)."""

_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


class RotationError(CheckpointError):
    """A rotation statement is malformed, not signed as it must be, or does not follow the chain of keys.

    ``valid`` is the schedule of keys that still holds: up to the rotation before the one refused, if the pinned key
    is among them, else the pinned key alone (what can still be checked)."""

    def __init__(self, message: str, valid: KeySchedule | None = None) -> None:
        super().__init__(message)
        self.valid = valid


@dataclass(frozen=True)
class KeyRotation:
    """The text of one rotation statement: log ``origin``'s ``number``-th change of key, from ``old`` to ``new``."""

    origin: str
    number: int
    old: VerifierKey
    new: VerifierKey

    def __post_init__(self) -> None:
        Checkpoint(self.origin, 0, bytes(32))  # the origin is checked as a checkpoint's is: one line, no controls
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise RotationError(f"a rotation's number counts from 1, not {self.number!r}")
        if self.old.public_key == self.new.public_key:
            raise RotationError("a rotation must name a new key, not the old one again")

    def body(self) -> str:
        """The note text both keys sign."""
        lines = (
            ROTATION_HEADER,
            f"origin {self.origin}",
            f"rotation {self.number}",
            f"old {self.old.to_string()}",
            f"new {self.new.to_string()}",
        )
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse_body(cls, text: str) -> KeyRotation:
        """Parse a statement's text strictly (one spelling per statement); raise RotationError naming the fault."""
        lines = text.split("\n")
        if len(lines) != 6:  # five, each ending in a newline: the round trip below checks the first and the last
            raise RotationError(f"not a key rotation statement (five lines, the first {ROTATION_HEADER!r})")
        fields = {}
        for index, label in enumerate(("origin", "rotation", "old", "new"), start=1):
            line, prefix = lines[index], f"{label} "
            if not line.startswith(prefix):
                raise RotationError(f"a key rotation statement's line {line!r} must start with {prefix!r}")
            fields[label] = line.removeprefix(prefix)
        if _NUMBER.fullmatch(fields["rotation"]) is None:
            raise RotationError(f"rotation number {fields['rotation']!r} is not a decimal number from 1")
        rotation = cls(
            fields["origin"],
            int(fields["rotation"]),
            VerifierKey.from_string(fields["old"]),
            VerifierKey.from_string(fields["new"]),
        )
        if rotation.body() != text:  # the header, the final newline, one spelling of each key and number
            raise RotationError(f"not a key rotation statement written as {ROTATION_HEADER} writes one")
        return rotation


def sign_rotation(rotation: KeyRotation, old: SigningKey, new: SigningKey) -> str:
    """The statement, signed by the key in force (``old``) and by the one taking over (``new``)."""
    if old.verifier != rotation.old or new.verifier != rotation.new:
        raise RotationError("a rotation statement is signed by the two keys it names, old and new")
    return sign_note(rotation.body(), old, new)


def open_rotation(note: str) -> KeyRotation:
    """The statement of a signed note, once both keys it names have signed it; else RotationError naming the one
    whose signature is missing or does not verify."""
    rotation = KeyRotation.parse_body(note_text(note))
    for key in (rotation.old, rotation.new):
        try:
            open_note(note, key)
        except CheckpointError as error:
            raise RotationError(
                f"key rotation {rotation.number} is not signed by both the keys it names: {error}",
            ) from None
    return rotation


def note_text(note: str) -> str:
    """The text of a signed note, before any signature is checked (to know which key must have signed it)."""
    return note[: note.rfind("\n\n") + 1]


@dataclass(frozen=True)
class RecordedRotation:
    """A rotation statement as the log records it: the event (``KeyRotation.Recorded``) at ``leaf_index``, whose
    stored ``state`` holds the signed note. Its leaf hash is the event's, so an inclusion proof places it in a
    signed tree."""

    leaf_index: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    @property
    def note(self) -> str:
        """The signed statement the event holds (as stored; verified by :func:`open_rotation`)."""
        try:
            fields = json.loads(self.state)
        except (ValueError, UnicodeDecodeError) as error:
            raise RotationError(f"the event at leaf {self.leaf_index} is not JSON: {error}") from None
        statement = fields.get("statement") if isinstance(fields, dict) else None
        if self.topic != ROTATION_TOPIC or not isinstance(statement, str):
            raise RotationError(f"the event at leaf {self.leaf_index} records no key rotation")
        return statement

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.originator_id, self.originator_version, self.topic, self.state)

    def to_json(self) -> dict[str, Any]:
        """As an HTTP answer or an audit bundle carries it: the event's exact stored bytes, in base64."""
        return {
            "leaf_index": self.leaf_index,
            "originator_id": str(self.originator_id),
            "originator_version": self.originator_version,
            "topic": self.topic,
            "state": base64.b64encode(self.state).decode(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordedRotation:
        """Read :meth:`to_json`'s form back strictly (RotationError for anything else)."""
        try:
            leaf, version, topic = data["leaf_index"], data["originator_version"], data["topic"]
            if type(leaf) is not int or type(version) is not int or not isinstance(topic, str) or leaf < 0:
                raise ValueError("leaf_index and originator_version are integers, topic text")
            state = decode_base64(
                data["state"],
                "the rotation event's state",
            )
            return cls(leaf, UUID(data["originator_id"]), version, topic, state)
        except (KeyError, TypeError, ValueError, binascii.Error, CheckpointError) as error:
            raise RotationError(f"a recorded key rotation is malformed: {error}") from None


@dataclass(frozen=True)
class KeySchedule:
    """Which key signs the log's checkpoints at each tree size: ``keys[0]`` until the first rotation's leaf,
    ``keys[i]`` from the ``i``-th rotation's leaf (``leaves[i - 1]``) on."""

    keys: tuple[VerifierKey, ...]
    leaves: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.leaves) + 1:
            raise RotationError("a key schedule has one key more than it has rotations")
        if any(later <= earlier for earlier, later in itertools.pairwise(self.leaves)):
            raise RotationError("the rotations of a key schedule are in log order")

    @property
    def current(self) -> VerifierKey:
        """The key in force at the head: the one that signs the log's next checkpoints."""
        return self.keys[-1]

    def era(self, size: int) -> int:
        """How many of the log's rotations a tree of ``size`` holds (those at a leaf below ``size``): the index of
        the key that signs its checkpoint."""
        return bisect.bisect_left(self.leaves, size)

    def key_at(self, size: int) -> VerifierKey:
        """The key that signs a checkpoint of ``size``: in force after every rotation at a leaf below ``size``."""
        return self.keys[self.era(size)]

    def open_checkpoint(self, note: str, origin: str | None = None) -> Checkpoint:
        """Verify a checkpoint against the key in force at its tree size (and its origin, if given)."""
        size = Checkpoint.parse_body(note_text(note)).size
        try:
            return verify_checkpoint(note, self.key_at(size), origin)
        except CheckpointError as error:
            if not self.leaves:
                raise
            raise CheckpointError(
                f"{error} (the key in force at tree size {size}, after {self.era(size)} of the log's key rotations)",
            ) from None


def follow_chain(
    pinned: VerifierKey, rotations: Sequence[RecordedRotation | tuple[int, str]], origin: str | None = None
) -> KeySchedule:
    """The schedule of keys from the recorded ``rotations`` — events, or (leaf index, signed statement), in log
    order — for an auditor who pinned ``pinned`` (any key of the chain). Raises RotationError naming the first
    rotation that is not signed by both its keys, names another log (``origin``) or number, does not take over from
    the key in force, or hands the log to a key it used before; or when ``pinned`` is none of the log's keys."""
    keys: list[VerifierKey] = []
    leaves: list[int] = []
    for number, item in enumerate(rotations, start=1):
        valid = KeySchedule(tuple(keys), tuple(leaves)) if pinned in keys else KeySchedule((pinned,))
        leaf = item.leaf_index if isinstance(item, RecordedRotation) else item[0]
        where = f"key rotation {number} (leaf {leaf})"
        try:
            rotation = open_rotation(item.note if isinstance(item, RecordedRotation) else item[1])
        except CheckpointError as error:
            raise RotationError(
                f"{where}: {error}",
                valid,
            ) from None
        if origin is not None and rotation.origin != origin:
            raise RotationError(
                f"{where} is for the log {rotation.origin!r}, not {origin!r}",
                valid,
            )
        if rotation.number != number:
            raise RotationError(
                f"{where} says it is rotation {rotation.number}: rotations run 1, 2, … in order",
                valid,
            )
        if leaves and leaf <= leaves[-1]:
            raise RotationError(
                f"{where} is not after rotation {number - 1} in the log",
                valid,
            )
        if keys and rotation.old != keys[-1]:
            raise RotationError(
                f"{where} is not signed by the key in force ({keys[-1].to_string()}) but by "
                f"{rotation.old.to_string()}: refused",
                valid,
            )
        if any(rotation.new.public_key == used.public_key for used in (*keys, rotation.old)):
            raise RotationError(
                f"{where} hands the log back to a key it used before: refused",
                valid,
            )
        if not keys:
            keys.append(rotation.old)
        keys.append(rotation.new)
        leaves.append(leaf)
    if not keys:
        return KeySchedule((pinned,))
    schedule = KeySchedule(tuple(keys), tuple(leaves))
    if pinned not in keys:
        raise RotationError(
            f"the pinned key {pinned.to_string()} is none of the log's keys "
            f"({', '.join(key.to_string() for key in keys)})",
            KeySchedule((pinned,)),
        )
    return schedule
