"""The verdict on a whole log: what ``verify_log`` requires (:class:`VerifyPolicy`), what it found
(:class:`VerificationReport`), and the checks that need no storage — the Merkle roots from the chunks' nodes, every
stored checkpoint against them, checkpoints kept outside the database, the anchoring checkpoint and the tail it
leaves, each snapshot's authenticator, and an auditor's consistency check between two checkpoints.

As in Tessera's client, verification reads the log only through what it is handed: rows and nodes
(:mod:`ledger.log.rows`), stored checkpoints, cosignature lines, and one small callable or interface where it must
ask for more (:class:`CheckpointSource`, ``recorded_at``). :mod:`ledger.store.verify_log` feeds it from a live
database; nothing here imports a database driver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from ledger.log import merkle
from ledger.log.checkpoint import (
    Checkpoint,
    CheckpointError,
    StoredCheckpoint,
    VerifierKey,
    signed_time,
    verify_checkpoint,
)
from ledger.log.integrity import snapshot_message
from ledger.log.rotation import KeySchedule
from ledger.log.rows import ChunkResult
from ledger.log.witness import WitnessError, WitnessKey, add_signatures, cosignatures


class CheckOutcome:
    """What every check of the stored log reports alike: how many events it read, in how many seconds, and what
    failed. (A plain class, not a dataclass, so that each report keeps its own fields in its own order.)"""

    events: int
    seconds: float
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass
class VerificationReport(CheckOutcome):
    events: int = 0
    checkpoints: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    implementation: str = ""  # which one checked the rows and hashed the tree (ledger.speedups.describe)
    anchored: int = 0  # the size of the newest checkpoint that meets the policy (signed, witnessed as required)
    anchored_by: list[str] = field(default_factory=list)  # the witnesses that cosigned it
    unanchored_since: datetime | None = None  # when the first leaf after it was recorded
    snapshots: int = 0  # snapshots whose authenticator was checked
    kept: int = 0  # checkpoints kept outside the database that the log was checked against
    rotations: int = 0  # key rotations followed from the pinned key

    @property
    def unanchored(self) -> int:
        """Leaves at the head that no checkpoint meeting the policy covers yet."""
        return self.events - self.anchored


@dataclass(frozen=True)
class VerifyPolicy:
    """What ``verify_log`` requires beyond the log's own consistency.

    - ``kept``: checkpoints held outside the operator's reach (an auditor's, ``jixiao audit``), as (name, note):
      the live log must still have, at each one's size, exactly the tree it signed.
    - ``witnesses`` / ``min_witnesses``: a checkpoint anchors the log only with that many pinned cosignatures.
    - ``max_unanchored_leaves`` / ``max_unanchored_age``: how large, or how old, the tail no anchoring checkpoint
      covers may be before verification fails (checkpoints are signed every minute; a tail older than that means
      the signer stopped, or checkpoints were removed).
    - ``snapshots``: check every snapshot's authenticator (signed by one of the log's keys, bound to its version's
      leaf).

    Which key signs each checkpoint is not a policy: it is the log's own chain of keys, recorded in it as key
    rotations and followed from the pinned key (:func:`ledger.log.rotation.follow_chain`).
    """

    kept: tuple[tuple[str, str], ...] = ()
    witnesses: tuple[WitnessKey, ...] = ()
    min_witnesses: int = 0
    max_unanchored_leaves: int | None = None
    max_unanchored_age: timedelta | None = None
    snapshots: bool = True


# Verification reads the log in chunks of a power of two leaves starting at multiples of it, so each complete chunk
# is a perfect subtree of the Merkle tree: the process that checks a chunk's rows also hashes its part of the tree,
# and the driver only combines one root per chunk (and, for a checkpoint inside a chunk, that chunk's few nodes).
# CHUNK at most (longer COPY streams measured faster), smaller when that leaves each worker fewer than four chunks.
CHUNK = 1 << 16
MIN_CHUNK = 1 << 12


def chunk_size(size: int, workers: int) -> int:
    """The chunk verify_log reads a log of ``size`` leaves in, with ``workers`` processes."""
    share = size // (4 * max(workers, 1))
    return min(CHUNK, max(MIN_CHUNK, 1 << max(share.bit_length() - 1, 0)))


def combine_roots(
    sizes: Sequence[int], chunk: int, results: Iterable[ChunkResult], native: bool = False
) -> dict[int, bytes]:
    """The Merkle root at each of ``sizes`` from the chunks' nodes; a size whose leaves include a failed chunk is
    left out (its failure is reported)."""
    nodes: dict[merkle.Node, bytes] = {}
    for result in results:
        nodes.update(result.nodes)
    level = chunk.bit_length() - 1
    complete: list[bytes] = []  # the roots of the complete chunks that passed, from the first one on
    while (level, len(complete)) in nodes:
        complete.append(nodes[(level, len(complete))])
    for above, hashes in enumerate(merkle.perfect_levels(complete, accelerator=native)[1:], 1):
        for index, digest in enumerate(hashes):
            nodes[(level + above, index)] = digest
    found: dict[int, bytes] = {}
    for size in sizes:
        try:
            found[size] = merkle.root_hash(size, nodes)
        except KeyError:
            continue
    return found


def check_checkpoints(
    stored: list[StoredCheckpoint],
    roots: dict[int, bytes],
    recorded_by: dict[int, datetime],
    keys: KeySchedule,
    origin: str | None,
    report: VerificationReport,
) -> dict[int, StoredCheckpoint]:
    """Check every stored checkpoint (signature by the key in force at its size, columns, root, signing time);
    return those that hold, by size."""
    previous_time: datetime | None = None
    verified: dict[int, StoredCheckpoint] = {}
    for item in stored:
        size = item.column_size
        try:
            signed = keys.open_checkpoint(item.note, origin)
        except CheckpointError as error:
            report.failures.append(f"checkpoint {size}: {error}")
            return verified
        if (signed.size, signed.root_hash) != (size, item.column_root):
            report.failures.append(f"checkpoint {size}: the stored columns disagree with the signed note")
            return verified
        if size not in roots:
            if not report.failures:
                report.failures.append(f"checkpoint {size}: signs a tree larger than the log (leaves were removed)")
            return verified
        if roots[size] != signed.root_hash:
            report.failures.append(
                f"checkpoint {size}: its signed root does not match the leaves (the log was rewritten before "
                f"leaf {size})"
            )
            return verified
        when = signed_time(signed)
        if when is not None and size in recorded_by and recorded_by[size] > when:
            report.failures.append(
                f"checkpoint {size}: signed at {when.isoformat()}, before leaf {size - 1} was "
                "recorded (recorded_at was altered)"
            )
            return verified
        if when is not None and previous_time is not None and when < previous_time:
            report.failures.append(f"checkpoint {size}: signed before the checkpoint preceding it")
            return verified
        previous_time = when or previous_time
        verified[size] = item
        report.checkpoints += 1
    return verified


def parse_kept(
    kept: Sequence[tuple[str, str]], keys: KeySchedule, origin: str | None, report: VerificationReport
) -> list[tuple[str, Checkpoint]]:
    """The checkpoints kept outside the database that verify, each against the key in force at its size (each one
    that does not is a failure)."""
    parsed = []
    for name, note in kept:
        try:
            parsed.append((name, keys.open_checkpoint(note, origin)))
        except CheckpointError as error:
            report.failures.append(f"kept checkpoint {name}: {error}")
    return parsed


def check_kept(
    kept: Sequence[tuple[str, Checkpoint]],
    verified: dict[int, StoredCheckpoint],
    roots: dict[int, bytes],
    size: int,
    report: VerificationReport,
) -> None:
    """Checkpoints kept outside the database must still describe the live log: a rewrite, a removal or a rolled
    back checkpoint table shows against them even when every stored checkpoint was re-signed or deleted."""
    largest = max(verified, default=0)
    for name, checkpoint in kept:
        where = f"kept checkpoint {name} (size {checkpoint.size})"
        if checkpoint.size > size:
            report.failures.append(
                f"{where}: the log now has {size} leaves: leaves were removed or the log was replaced"
            )
            continue
        root = roots.get(checkpoint.size, merkle.EMPTY_ROOT if checkpoint.size == 0 else None)
        if root is None:
            continue  # its leaves failed their own check, reported above
        if root != checkpoint.root_hash:
            report.failures.append(f"{where}: the log's tree at that size is not the one signed: history was rewritten")
            continue
        if checkpoint.size > largest:
            report.failures.append(
                f"{where}: the checkpoint table holds none this large (largest {largest}): "
                "checkpoints were removed or the table rolled back"
            )
            continue
        report.kept += 1


def check_anchor(
    verified: dict[int, StoredCheckpoint],
    cosigned: dict[int, list[str]],
    policy: VerifyPolicy,
    size: int,
    now: datetime,
    report: VerificationReport,
    recorded_at: Callable[[int], datetime | None],
) -> None:
    """Find the newest checkpoint that meets the policy; the leaves after it must be few and recent enough.
    ``recorded_at(index)`` is when leaf ``index`` was recorded (asked only for the first leaf after the anchor)."""
    anchor: StoredCheckpoint | None = None
    for tree_size in sorted(verified, reverse=True):
        item = verified[tree_size]
        if policy.min_witnesses == 0:
            anchor = item
            break
        lines = cosigned.get(tree_size, [])
        try:
            found = cosignatures(add_signatures(item.note, lines), policy.witnesses) if lines else []
        except WitnessError as error:
            report.failures.append(f"checkpoint {tree_size}: {error}")
            return
        if len(found) >= policy.min_witnesses:
            anchor = item
            report.anchored_by = sorted(c.witness.name for c in found)
            break
    if size == 0:
        return
    if anchor is None:
        if policy.min_witnesses and verified:
            report.failures.append(
                f"no checkpoint is cosigned by {policy.min_witnesses} of the pinned witnesses: "
                f"none of the log's {size:,} leaves is witnessed"
            )
        elif not report.failures:
            report.failures.append(
                f"no checkpoint signed by the key exists: none of the log's {size:,} leaves is "
                "covered by a signature (sign one with `jixiao checkpoint`)"
            )
        return
    report.anchored = anchor.column_size
    tail = size - anchor.column_size
    if tail <= 0:
        return
    report.unanchored_since = recorded_at(anchor.column_size)
    what = "witnessed" if policy.min_witnesses else "signed"
    if policy.max_unanchored_leaves is not None and tail > policy.max_unanchored_leaves:
        report.failures.append(
            f"{tail:,} leaves at the head are not covered by a {what} checkpoint (the policy "
            f"allows {policy.max_unanchored_leaves:,})"
        )
    elif (
        policy.max_unanchored_age is not None
        and report.unanchored_since is not None
        and now - report.unanchored_since > policy.max_unanchored_age
    ):
        report.failures.append(
            f"{tail:,} leaves at the head are not covered by a {what} checkpoint, the first "
            f"recorded {report.unanchored_since.isoformat(timespec='seconds')} (the policy "
            f"allows {_duration(policy.max_unanchored_age)}): checkpoints stopped or were removed"
        )


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 and seconds >= 60 else f"{seconds} s"


def check_snapshot(
    originator_id: UUID,
    version: int,
    topic: str,
    state: bytes,
    authenticator: bytes | None,
    chain: bytes | None,
    trusted: Mapping[bytes, VerifierKey],
) -> str | None:
    """Why a stored snapshot cannot be trusted, or None if it can: its authenticator must be the signature of a
    ``trusted`` key (by key id) over the snapshot and ``chain``, the chain hash of the leaf its version was
    recorded at (None: the log holds no such leaf)."""
    where = f"snapshot of {originator_id} at version {version}"
    if authenticator is None:
        return f"{where}: it carries no authenticator (not written by the ledger; ignored when loading)"
    if chain is None:
        return f"{where}: the log holds no event at that version (forged)"
    key = trusted.get(authenticator[:4])
    if key is None:
        return f"{where}: signed by key {authenticator[:4].hex()}, which is not pinned"
    message = snapshot_message(originator_id, version, topic, state, chain)
    if len(authenticator) != 68 or not key.verify(message, authenticator[4:]):
        return f"{where}: its authenticator does not verify (the snapshot was forged or altered; ignored when loading)"
    return None


class CheckpointSource(Protocol):
    """What an auditor's consistency check reads from a log (:class:`ledger.store.tlog.TransparencyLog` is one)."""

    @property
    def origin(self) -> str: ...

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]: ...


def check_consistency(log: CheckpointSource, old_note: str, key: VerifierKey) -> tuple[Checkpoint, Checkpoint]:
    """An auditor holding an old checkpoint asks: is today's log an extension of the one I was shown?

    Verifies the old note's signature, the latest checkpoint's signature, and the consistency proof between them
    (RFC 9162 §2.1.4.2). Returns both checkpoints; raises CheckpointError naming what does not hold.
    """
    old = verify_checkpoint(old_note, key, log.origin)
    latest = log.latest_checkpoint()
    if latest is None:
        raise CheckpointError("the log has no checkpoint")
    new = verify_checkpoint(latest.note, key, log.origin)
    if new.size < old.size:
        raise CheckpointError(f"the latest checkpoint ({new.size}) is older than the one held ({old.size})")
    proof = log.consistency_proof(old.size, new.size)
    if not merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof):
        raise CheckpointError(
            f"the log at size {new.size} is not an extension of the checkpoint held at size {old.size}: "
            "the consistency proof does not hold (history was rewritten)"
        )
    return old, new
