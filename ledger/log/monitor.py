"""``jixiao audit``: an auditor keeps the log's checkpoints on a machine of its own and holds the log to them.

Each run fetches the service's current checkpoint (``GET /log/checkpoint/note``), checks it is signed by the log's
pinned key (and cosigned by enough pinned witnesses), and proves with an RFC 9162 consistency proof
(``GET /log/proofs/consistency``) that it extends the newest checkpoint kept from the runs before. Then it keeps the
new one. A checkpoint smaller than one kept (a rollback), a different tree at a size kept (a split view: the log
showed two histories), or a proof that does not hold (history rewritten) is misbehaviour: the run says what,
stores the evidence (both signed notes, which together prove it to anyone holding the key) and exits non-zero.

After a key rotation the auditor still needs only the key it first pinned: it follows the log's chain of keys
(``GET /log/keys``: each rotation statement signed by the key then in force and by its successor,
:func:`ledger.log.rotation.follow_chain`), checks each checkpoint — the new one and every one kept — against the key
in force at its tree size, and proves each rotation is in the log where it says (an inclusion proof in the tree it
accepts). A chain that does not follow, or a rotation not in the tree, fails the run; a kept checkpoint the chain
disowns (signed by a key a rotation had retired by its size) is misbehaviour.

What is kept — ``<folder>/<origin digest>/checkpoints/<size>.note`` — is never overwritten, so an operator who can
write the log's database cannot make an auditor forget what it was shown. The first run trusts what it is shown
(and says so); from then on every run is checked against that.

Like :mod:`ledger.audit`, this needs only the standard library and ``cryptography``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ledger.log import merkle
from ledger.log.checkpoint import Checkpoint, CheckpointError
from ledger.log.rotation import KeySchedule, RecordedRotation, RotationError, follow_chain
from ledger.log.witness import TrustPolicy


class AuditError(Exception):
    """The service could not be asked (network, HTTP, a malformed answer): nothing was decided."""


class Misbehaviour(Exception):
    """The log showed something no honest log can: a rollback, a split view, a rewritten history."""

    def __init__(self, message: str, evidence: Path | None = None) -> None:
        super().__init__(message)
        self.evidence = evidence


@dataclass
class AuditReport:
    checkpoint: Checkpoint
    previous: Checkpoint | None
    witnesses: list[str] = field(default_factory=list)
    first: bool = False  # nothing was kept before: trusted on first use
    keys: KeySchedule | None = None  # the log's keys, followed from the pinned one


class CheckpointKeeper:
    """The auditor's folder of kept checkpoints, one subfolder per log (by origin)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _log(self, origin: str) -> Path:
        path = self.folder / hashlib.sha256(origin.encode("utf-8")).hexdigest()[:16]
        (path / "checkpoints").mkdir(parents=True, exist_ok=True, mode=0o700)
        origin_file = path / "origin"
        if not origin_file.exists():
            origin_file.write_text(origin + "\n", encoding="utf-8")
        return path

    @contextlib.contextmanager
    def locked(self, origin: str) -> Iterator[None]:
        """One run at a time per log (two overlapping runs could each keep a checkpoint the other did not check)."""
        with open(self._log(origin) / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def kept(self, origin: str) -> list[tuple[int, str]]:
        """Every kept (size, note) of the log, by size."""
        found = []
        for path in (self._log(origin) / "checkpoints").glob("*.note"):
            if path.stem.isdigit():
                found.append((int(path.stem), path.read_text(encoding="utf-8")))
        return sorted(found)

    def latest(self, origin: str) -> tuple[int, str] | None:
        kept = self.kept(origin)
        return kept[-1] if kept else None

    def keep(self, origin: str, size: int, note: str) -> Path:
        """Keep a checkpoint durably; an existing file of that size is never replaced."""
        path = self._log(origin) / "checkpoints" / f"{size}.note"
        self._write_new(path, note)
        return path

    def evidence(self, origin: str, reason: str, notes: dict[str, str]) -> Path:
        folder = self._log(origin) / "evidence"
        folder.mkdir(exist_ok=True, mode=0o700)
        path = folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{reason}.json"
        self._write_new(path, json.dumps({"reason": reason, **notes}, ensure_ascii=False, indent=1) + "\n")
        return path

    @staticmethod
    def _write_new(path: Path, text: str) -> None:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".keep-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.link(temporary, path)  # never overwrites: a file of that name stays as it was
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class LogClient:
    """The service's public log endpoints, over HTTP (no token needed: checkpoints and proofs are public)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise AuditError(f"the service URL must start with http:// or https://: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict[str, int]) -> str:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(params)}" if params else f"{self.base_url}{path}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310 - scheme checked above
                return str(response.read(16 * 1024 * 1024).decode("utf-8"))
        except urllib.error.HTTPError as error:
            detail = error.read(2000).decode("utf-8", "replace")
            raise AuditError(f"GET {path}: HTTP {error.code} {detail}") from None
        except (urllib.error.URLError, OSError, UnicodeDecodeError) as error:
            raise AuditError(f"GET {path}: {error}") from None

    def checkpoint_note(self, witnesses: int = 0) -> str:
        return self._get("/log/checkpoint/note", {"witnesses": witnesses} if witnesses else {})

    def key_rotations(self) -> list[RecordedRotation]:
        """The log's key rotations as it shows them (``GET /log/keys``), each with its event's stored bytes."""
        try:
            answer = json.loads(self._get("/log/keys", {}))
            return [RecordedRotation.from_json(item) for item in answer["rotations"]]
        except (ValueError, KeyError, TypeError) as error:
            raise AuditError(f"the key rotations are malformed: {error}") from None

    def inclusion_proof(self, leaf_index: int, tree_size: int) -> list[bytes]:
        text = self._get("/log/proofs/inclusion", {"leaf_index": leaf_index, "tree_size": tree_size})
        try:
            answer = json.loads(text)
            proof = [bytes.fromhex(node) for node in answer["proof"]]
        except (ValueError, KeyError, TypeError) as error:
            raise AuditError(f"the inclusion proof is malformed: {error}") from None
        if answer.get("leaf_index") != leaf_index or answer.get("tree_size") != tree_size:
            raise AuditError("the service answered a proof for another leaf or tree than asked")
        return proof

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        text = self._get("/log/proofs/consistency", {"first": first, "second": second})
        try:
            answer = json.loads(text)
            proof = [bytes.fromhex(node) for node in answer["proof"]]
        except (ValueError, KeyError, TypeError) as error:
            raise AuditError(f"the consistency proof is malformed: {error}") from None
        if int(answer.get("first", -1)) != first or int(answer.get("second", -1)) != second:
            raise AuditError("the service answered a proof between other sizes than asked")
        return proof


def audit(client: LogClient, keeper: CheckpointKeeper, policy: TrustPolicy) -> AuditReport:
    """One run (see the module's docstring). Raises Misbehaviour, or AuditError / CheckpointError /
    WitnessError when the current checkpoint cannot be fetched or does not meet ``policy``."""
    note = client.checkpoint_note(policy.min_witnesses)
    shown = Checkpoint.parse_body(note.partition("\n\n")[0] + "\n")  # its size says which key must have signed it
    rotations = client.key_rotations()
    keys = follow_chain(policy.log_key, rotations, policy.origin)
    in_force = TrustPolicy(keys.key_at(shown.size), policy.witnesses, policy.min_witnesses, origin=policy.origin)
    new, cosigned = in_force.check(note)
    _rotations_in_tree(client, rotations, new)
    report = AuditReport(new, None, sorted(c.witness.name for c in cosigned), keys=keys)
    with keeper.locked(new.origin):
        latest = keeper.latest(new.origin)
        if latest is None:
            keeper.keep(new.origin, new.size, note)
            report.first = True
            return report
        _, old_note = latest
        old = _kept(keys, old_note, note, keeper, policy.origin)  # kept after every check: its signature suffices
        report.previous = old
        for size, kept_note in keeper.kept(new.origin):
            if size == new.size and _kept(keys, kept_note, note, keeper, policy.origin).root_hash != new.root_hash:
                _different_tree(new, kept_note, note, keeper)
        if new.size < old.size:
            path = keeper.evidence(new.origin, "rollback", {"kept": old_note, "shown": note})
            raise Misbehaviour(
                f"the log shows size {new.size}, smaller than the {old.size} it showed before: it was "
                f"rolled back (evidence: {path})",
                path,
            )
        if new.size == old.size:
            if new.root_hash != old.root_hash:
                _different_tree(new, old_note, note, keeper)
            return report
        proof = client.consistency_proof(old.size, new.size)
        if not merkle.verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof):
            path = keeper.evidence(
                new.origin,
                "rewritten",
                {"kept": old_note, "shown": note, "proof": json.dumps([p.hex() for p in proof])},
            )
            raise Misbehaviour(
                f"the log at size {new.size} does not extend the checkpoint kept at size {old.size}: "
                f"the consistency proof fails, history was rewritten (evidence: {path})",
                path,
            )
        keeper.keep(new.origin, new.size, note)
    return report


def _kept(keys: KeySchedule, kept_note: str, note: str, keeper: CheckpointKeeper, origin: str | None) -> Checkpoint:
    """A kept checkpoint, checked against the key in force at its size: it met every check when it was kept, so
    one the log's chain of keys now disowns shows the log signed with a key it had retired, or showed another
    chain of keys before."""
    checkpoint = Checkpoint.parse_body(kept_note.partition("\n\n")[0] + "\n")
    try:
        return keys.open_checkpoint(kept_note, origin)
    except CheckpointError as error:
        path = keeper.evidence(checkpoint.origin, "retired-key", {"kept": kept_note, "shown": note})
        raise Misbehaviour(
            f"the checkpoint kept at size {checkpoint.size} is not signed by the key in force at that size by the "
            f"log's own key rotations ({error}): the log signed it with a key it had retired, or showed another "
            f"chain of keys before (evidence: {path})",
            path,
        ) from None


def _rotations_in_tree(client: LogClient, rotations: list[RecordedRotation], checkpoint: Checkpoint) -> None:
    """Each rotation the checkpoint's tree holds must be in it at the leaf shown (so the chain of keys the log shows
    is the one its history commits to, and the same for every auditor)."""
    for number, rotation in enumerate(rotations, start=1):
        if rotation.leaf_index >= checkpoint.size:
            continue  # recorded after this checkpoint: no key of it is in force yet
        proof = client.inclusion_proof(rotation.leaf_index, checkpoint.size)
        if not merkle.verify_inclusion(
            rotation.leaf_hash(), rotation.leaf_index, checkpoint.size, proof, checkpoint.root_hash
        ):
            raise RotationError(
                f"key rotation {number} is not in the log at leaf {rotation.leaf_index}: its inclusion proof in the "
                f"tree of size {checkpoint.size} does not hold"
            )


def _different_tree(new: Checkpoint, kept_note: str, note: str, keeper: CheckpointKeeper) -> None:
    path = keeper.evidence(new.origin, "split-view", {"kept": kept_note, "shown": note})
    raise Misbehaviour(
        f"two different trees of size {new.size}, both signed by the log: a split view (evidence: {path})", path
    )


__all__ = ["AuditError", "AuditReport", "CheckpointError", "CheckpointKeeper", "LogClient", "Misbehaviour", "audit"]
