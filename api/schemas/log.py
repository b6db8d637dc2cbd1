"""The transparency log and the history of objects: checkpoints, the verifier key, proofs, each event of an object's
history, and an object as recorded at a version or instant."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field

from api.labels import Coded, Labelled
from api.schemas.common import FromRecord, PrincipalOut


class HistoryEntryOut(FromRecord):
    leaf_index: int
    version: int
    event_type: Annotated[str, Coded("event_type")]
    leaf_hash: str
    chain_hash: str
    recorded_at: datetime
    effective_on: date | None
    principal: PrincipalOut
    reason: str
    evidence: list[str]
    payload: dict[str, Any]


class StateOut(Labelled):
    """An object as recorded at a version or instant (transaction time)."""

    id: UUID
    type: Annotated[str, Coded("object_type")]
    version: int
    as_of: datetime | None
    state: dict[str, Any]


class CheckpointOut(BaseModel):
    origin: str
    tree_size: int
    root_hash: str = Field(description="base64")
    signed_at: datetime
    note: str = Field(
        description="The C2SP signed note, verifiable with the verifier key, with every witness's "
        "cosignature (c2sp.org/tlog-cosignature) appended"
    )
    witnesses: list[str] = Field(
        default_factory=list,
        description="Witnesses whose cosignature is stored for it "
        "(check them with their verifier keys; a stored line proves nothing until then)",
    )


class KeyOut(BaseModel):
    verifier_key: str = Field(description="golang.org/x/mod/sumdb/note verifier key: name+id+base64(0x01‖key)")
    origin: str


class KeyRotationOut(BaseModel):
    """One change of the log's signing key, as the log records it (``KeyRotation.Recorded``)."""

    number: int = Field(description="1 for the first rotation, and so on")
    leaf_index: int = Field(description="Where it is in the log: checkpoints of larger trees are the new key's")
    statement: str = Field(
        description="The C2SP signed note naming the origin, the number, the old and the new key, signed by both"
    )
    old_key: str | None = Field(description="None: the statement recorded does not parse (verifiers refuse it)")
    new_key: str | None
    originator_id: UUID
    originator_version: int
    topic: str
    state: str = Field(description="The event's stored bytes, base64: hash them to its leaf hash (ledger/integrity.py)")


class KeysOut(BaseModel):
    """The log's chain of keys: follow it from the key you pinned (each rotation is signed by the key it retires and
    by its successor), and prove each rotation's leaf in a checkpoint's tree."""

    origin: str
    verifier_key: str = Field(description="The key in force: it signs the log's next checkpoints")
    rotations: list[KeyRotationOut]


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str = Field(description="hex")
    proof: list[str] = Field(description="hex, RFC 9162 §2.1.3.1 order")
    root_hash: str = Field(description="hex, the root at tree_size")


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    proof: list[str]
    first_root: str
    second_root: str
