"""The witness's core: its decision on one ``add-checkpoint`` request (:class:`Witness`) and the durable state it
keeps per log (:class:`WitnessState`), as c2sp.org/tlog-witness has them (formats: :mod:`ledger.log.witness`).

A witness never cosigns two different trees of one size, nor a tree that does not extend what it has seen; a
refused request whose log signature verified is kept as evidence. The HTTP server around it is
:mod:`api.roles.witness`. Like :mod:`ledger.log.witness`, this imports nothing beyond the standard library and
``cryptography``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ledger.log import merkle
from ledger.log.checkpoint import Checkpoint, CheckpointError, VerifierKey, verify_checkpoint
from ledger.log.witness import (
    DECIMAL,
    MAX_PROOF_LINES,
    MAX_REQUEST_BYTES,
    SIZE_CONTENT_TYPE,
    WitnessError,
    WitnessSigningKey,
    decode_base64,
    split_note,
)


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: str


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an ``add-checkpoint`` request strictly; raises WitnessError (a 400)."""
    if len(body) > MAX_REQUEST_BYTES:
        raise WitnessError("the request is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessError("the request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessError("no empty line between the proof and the checkpoint")
    lines = head.split("\n")
    first, proof_lines = lines[0], lines[1:]
    if not first.startswith("old ") or DECIMAL.fullmatch(first[4:]) is None:
        raise WitnessError("the first line must be 'old <size>' in decimal without leading zeros")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise WitnessError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for number, line in enumerate(proof_lines, 1):
        node = decode_base64(line, f"proof line {number}")
        if len(node) != 32:
            raise WitnessError(f"proof line {number} is not a 32-byte hash")
        proof.append(node)
    return AddCheckpoint(int(first[4:]), proof, note)


@dataclass(frozen=True)
class Answer:
    """A witness's HTTP answer."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class LogEntry:
    """A log a witness watches: its origin and the keys it signs with (any one signature suffices)."""

    origin: str
    keys: tuple[VerifierKey, ...]


@dataclass(frozen=True)
class Seen:
    """The latest checkpoint a witness cosigned for one origin."""

    size: int
    root_hash: bytes


class WitnessState:
    """Durable state in the witness's data folder: one small file per origin, replaced atomically (written to a
    temporary file, flushed to disk, renamed over, the folder flushed). The check of the old size and the write of
    the new one happen under one lock — a thread lock, and ``flock`` on ``lock`` so that a second process on the
    same folder waits rather than racing (two witnesses on one state would be one witness that can be forked)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()

    def _path(self, origin: str) -> Path:
        return self.folder / f"{hashlib.sha256(origin.encode()).hexdigest()[:32]}.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock, open(self.folder / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get(self, origin: str) -> Seen | None:
        try:
            data = json.loads(self._path(origin).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        if data.get("origin") != origin:
            raise WitnessError(f"the state file of {origin!r} names another origin")
        return Seen(int(data["size"]), base64.b64decode(data["root_hash"], validate=True))

    def put(self, origin: str, seen: Seen, note: str) -> None:
        path = self._path(origin)
        record = {
            "origin": origin,
            "size": seen.size,
            "root_hash": base64.b64encode(seen.root_hash).decode(),
            "note": note,
            "updated_at": int(time.time()),
        }
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".state-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(record, stream, ensure_ascii=False)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def evidence(self, origin: str, reason: str, request: bytes) -> None:
        """Keep a refused request from a known log whose signature verified: it may prove the log misbehaved."""
        with open(self.folder / "evidence.jsonl", "a", encoding="utf-8") as stream:
            stream.write(
                json.dumps(
                    {
                        "origin": origin,
                        "reason": reason,
                        "at": int(time.time()),
                        "request": request.decode("utf-8", "replace"),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            stream.flush()
            os.fsync(stream.fileno())


class Witness:
    """The witness's decision on one ``add-checkpoint`` request (the HTTP server is a thin shell around it)."""

    def __init__(
        self,
        key: WitnessSigningKey,
        logs: Sequence[LogEntry],
        state: WitnessState,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.logs: Mapping[str, LogEntry] = {log.origin: log for log in logs}
        self.state = state
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            request = parse_add_checkpoint(body)
            note_body, _ = split_note(request.note)
            checkpoint = Checkpoint.parse_body(note_body)
        except (WitnessError, CheckpointError) as error:
            return Answer(400, f"{error}\n")
        log = self.logs.get(checkpoint.origin)
        if log is None:
            return Answer(404, f"unknown log origin {checkpoint.origin!r}\n")
        if not any(_signed_by(request.note, key, checkpoint.origin) for key in log.keys):
            return Answer(403, "no signature by a key this witness trusts for the log\n")
        if request.old_size > checkpoint.size:
            return Answer(400, "the old size is larger than the checkpoint's\n")
        if request.old_size == 0 and request.proof:
            return Answer(400, "a proof from size 0 must be empty\n")
        with self.state.locked():
            seen = self.state.get(checkpoint.origin)
            latest = 0 if seen is None else seen.size
            if request.old_size != latest:
                return Answer(409, f"{latest}\n", SIZE_CONTENT_TYPE)
            if seen is not None and checkpoint.size == seen.size:
                if not hmac.compare_digest(checkpoint.root_hash, seen.root_hash):
                    self.state.evidence(checkpoint.origin, "a different root at a size already cosigned", body)
                    return Answer(409, "a different tree of a size already cosigned (a fork)\n")
            elif seen is not None and not merkle.verify_consistency(
                seen.size, checkpoint.size, seen.root_hash, checkpoint.root_hash, request.proof
            ):
                self.state.evidence(checkpoint.origin, "consistency proof does not verify", body)
                return Answer(422, "the consistency proof does not verify\n")
            self.state.put(checkpoint.origin, Seen(checkpoint.size, checkpoint.root_hash), request.note)
        line = self.key.cosign(note_body, int(self.clock()))
        return Answer(200, line)


def _signed_by(note: str, key: VerifierKey, origin: str) -> bool:
    try:
        verify_checkpoint(note, key, origin)
    except CheckpointError:
        return False
    return True
