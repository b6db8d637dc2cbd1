"""Signed checkpoints of the tree, stored, and the witnesses' cosignatures of them.

``ledger_checkpoints`` holds signed checkpoints (C2SP tlog-checkpoint notes, Ed25519; :mod:`ledger.log.checkpoint`),
append-only; ``ledger_cosignatures`` the cosignature lines the configured witnesses answered with
(:mod:`ledger.log.witness`), as received: a verifier checks those of the witnesses it pins.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from psycopg.sql import SQL, Identifier, Literal

from ledger.log import merkle
from ledger.log.checkpoint import (
    TIME_EXTENSION,
    Checkpoint,
    CheckpointError,
    SigningKey,
    StoredCheckpoint,
    open_note,
    sign_checkpoint,
)
from ledger.log.rotation import RecordedRotation, RotationError, open_rotation
from ledger.log.witness import Conflict, WitnessEndpoint, WitnessError, add_signatures, submit
from ledger.store.key_rotations import read_rotations
from ledger.store.tables import CHECKPOINTS, COSIGNATURES
from ledger.store.tree import Connection, TreeStore

logger = logging.getLogger(__name__)

CHECKPOINT_LOCK = 0x6A78_6370  # pg advisory lock id: one checkpoint signer at a time ("jxcp")


class KeyNotInForce(CheckpointError):
    """The signing key is not the one in force for the log at the size to sign: the log's checkpoints are signed by
    another key, or a rotation handed the log to another key. Nothing is signed."""


CHECKPOINT_COLUMNS = SQL("note, key_name, signed_at, tree_size, root_hash, origin")
"""The columns :func:`stored_checkpoint` reads, in its order."""


def stored_checkpoint(row: tuple[Any, ...]) -> StoredCheckpoint:
    """A row of :data:`CHECKPOINT_COLUMNS`."""
    note, key_name, signed_at, size, root, origin = row
    return StoredCheckpoint.from_columns(note, key_name, signed_at, size, root, origin)


class CheckpointStore(TreeStore):
    """The tree of one ledger database with its signed checkpoints and their cosignatures."""

    def __init__(
        self,
        database_url: str,
        *,
        origin: str,
        signing_key: SigningKey | None = None,
        witnesses: Sequence[WitnessEndpoint] = (),
        witness_timeout: float = 5.0,
    ) -> None:
        super().__init__(database_url)
        self.origin = origin
        self.signing_key = signing_key
        self.witnesses = tuple(witnesses)
        self.witness_timeout = witness_timeout
        self.witness_failures: dict[str, int] = {}  # per witness name, since start (for /metrics)
        checkpoints, cosigned = Identifier(CHECKPOINTS), Identifier(COSIGNATURES)
        self._lock_signer = SQL("SELECT pg_advisory_xact_lock(%s)")
        self._largest = SQL("SELECT max(tree_size) FROM {}").format(checkpoints)
        self._clock = SQL("SELECT clock_timestamp()")
        self._insert_checkpoint = SQL(
            "INSERT INTO {} (tree_size, root_hash, origin, key_name, note, signed_at) VALUES (%s, %s, %s, %s, %s, %s)"
        ).format(checkpoints)
        self._all = SQL("SELECT {} FROM {} ORDER BY tree_size").format(CHECKPOINT_COLUMNS, checkpoints)
        self._latest = SQL("SELECT {} FROM {} ORDER BY tree_size DESC LIMIT 1").format(CHECKPOINT_COLUMNS, checkpoints)
        self._at = SQL("SELECT {} FROM {} WHERE tree_size = %s").format(CHECKPOINT_COLUMNS, checkpoints)
        self._latest_note = SQL("SELECT note FROM {} ORDER BY tree_size DESC LIMIT 1").format(checkpoints)
        self._first_origin = SQL("SELECT origin FROM {} ORDER BY tree_size LIMIT 1").format(checkpoints)
        self._checkpoints_exist = SQL("SELECT to_regclass({}) IS NOT NULL").format(Literal(CHECKPOINTS))
        self._last_cosigned = SQL(
            "SELECT witness, max(tree_size) FROM {} WHERE tree_size <= %s GROUP BY witness"
        ).format(cosigned)
        self._insert_cosignature = SQL(
            "INSERT INTO {} (tree_size, witness, key_id, line) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
        ).format(cosigned)
        self._cosigners = SQL("SELECT witness, line FROM {} WHERE tree_size = %s ORDER BY received_at").format(cosigned)
        self._latest_witnessed = SQL(
            "SELECT c.note, c.key_name, c.signed_at, c.tree_size, c.root_hash, c.origin FROM {checkpoints} c "
            "WHERE (SELECT count(DISTINCT w.witness) FROM {cosignatures} w WHERE w.tree_size = c.tree_size) >= %s "
            "ORDER BY c.tree_size DESC LIMIT 1"
        ).format(checkpoints=checkpoints, cosignatures=cosigned)

    def sign_checkpoint(self, *, also: Sequence[SigningKey] = ()) -> StoredCheckpoint | None:
        """Sign a checkpoint of the whole log if it has grown since the last one; return it (or None).

        Signers are serialised (advisory lock), so checkpoints grow in size and in time together, even with
        several service replicas signing. Only the key in force signs (:meth:`check_key_in_force`): a service still
        running with a key a rotation retired raises :class:`KeyNotInForce` and signs nothing. ``also``: keys
        that sign the note too (a rotation's old key, on its successor's first checkpoint).
        """
        if self.signing_key is None:
            raise CheckpointError("no signing key configured")
        self.extend()
        with self._connect() as conn, conn.transaction():
            conn.execute(self._lock_signer, (CHECKPOINT_LOCK,))
            latest = conn.execute(self._largest).fetchone()
            size = self._built_size(conn)
            if latest is not None and latest[0] is not None and latest[0] >= size:
                return None
            self._check_key_in_force(conn, self.signing_key, size)  # the size first: a rotation after it is later
            root = merkle.root_hash(size, self._fetch_nodes(conn, merkle.root_nodes(size)))
            # The database's clock, as for recorded_at: every leaf below `size` was recorded before this time,
            # so the signed time bounds each event's recorded_at (which the leaf hash itself does not cover).
            now = conn.execute(self._clock).fetchone()
            assert now is not None
            signed_at: datetime = now[0]
            checkpoint = Checkpoint(self.origin, size, root, (f"{TIME_EXTENSION}{signed_at.isoformat()}",))
            note = sign_checkpoint(checkpoint, self.signing_key, *also)
            conn.execute(self._insert_checkpoint, (size, root, self.origin, self.signing_key.name, note, signed_at))
        return StoredCheckpoint(checkpoint, self.signing_key.name, note, signed_at, size, root)

    def check_key_in_force(self, key: SigningKey) -> None:
        """Raise :class:`KeyNotInForce` unless ``key`` may sign the log's next checkpoint: the key the last recorded
        rotation handed the log to, or — before any rotation — the key of the checkpoints signed so far (any key,
        before the first). A key is changed by a rotation (``jixiao key rotate``), never by configuring another."""
        with self._connect() as conn:
            self._check_key_in_force(conn, key, self.log_size(conn))

    def _check_key_in_force(self, conn: Connection, key: SigningKey, size: int) -> None:
        rotations = [rotation for rotation in read_rotations(conn) if rotation.leaf_index < size]
        mine = key.verifier
        if rotations:
            last = rotations[-1]
            try:
                expected = open_rotation(last.note).new
            except RotationError as error:
                raise KeyNotInForce(
                    f"the log's last key rotation (leaf {last.leaf_index}) does not verify: {error}"
                ) from None
            if expected != mine:
                raise KeyNotInForce(
                    f"密钥 {mine.to_string()} 已由第 {len(rotations)} 次密钥轮换（叶 {last.leaf_index}）停用，"
                    f"现行密钥为 {expected.to_string()}：请以现行密钥重启。\n"
                    f"the key {mine.to_string()} was retired by key rotation {len(rotations)} (leaf "
                    f"{last.leaf_index}); the key in force is {expected.to_string()}: restart with it "
                    "(JIXIAO_SIGNING_KEY or its file)"
                )
            return
        row = conn.execute(self._latest_note).fetchone()
        if row is None:
            return
        try:
            open_note(str(row[0]), mine)
        except CheckpointError:
            raise KeyNotInForce(
                f"本日志的检查点由另一密钥签署，而非 {mine.to_string()}：更换密钥须经密钥轮换（jixiao key rotate）。\n"
                f"the log's checkpoints are signed by another key than {mine.to_string()}: restart with the log's "
                "key; to change it, rotate it (`jixiao key rotate`), which records the change for auditors"
            ) from None

    def key_rotations(self) -> list[RecordedRotation]:
        """Every key rotation the log records, in log order (as stored: verifiers check them)."""
        with self._connect() as conn:
            return read_rotations(conn)

    def recorded_origin(self) -> str | None:
        """The origin of the log's first checkpoint: its name since it first signed one (None before that)."""
        with self._connect() as conn:
            if conn.execute(self._checkpoints_exist).fetchone() != (True,):
                return None
            row = conn.execute(self._first_origin).fetchone()
        return None if row is None else str(row[0])

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self._connect() as conn:
            rows = conn.execute(self._all).fetchall()
        return [stored_checkpoint(row) for row in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self._connect() as conn:
            row = conn.execute(self._latest).fetchone()
        return None if row is None else stored_checkpoint(row)

    def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        with self._connect() as conn:
            row = conn.execute(self._at, (size,)).fetchone()
        return None if row is None else stored_checkpoint(row)

    # ------------------------------------------------------------------------------------------ witnesses

    def cosign(self, latest: StoredCheckpoint | None = None) -> dict[str, str]:
        """Ask every configured witness that has not cosigned the latest checkpoint (``latest``, if the caller just
        signed it) to cosign it; store what they answer. Witnesses are asked in parallel, each bounded by
        ``witness_timeout``: one that is down or slow delays only its own cosignature (it is asked again on the next
        run, with a proof from the size it last cosigned). Returns each witness's outcome."""
        if not self.witnesses:
            return {}
        latest = latest or self.latest_checkpoint()
        if latest is None:
            return {}
        size = latest.column_size
        with self._connect() as conn:  # each witness's latest cosigned size, in one read
            last = {str(name): int(top) for name, top in conn.execute(self._last_cosigned, (size,))}
        outcomes = {e.key.name: "cosigned already" for e in self.witnesses if last.get(e.key.name) == size}
        wanted = [endpoint for endpoint in self.witnesses if endpoint.key.name not in outcomes]
        if not wanted:
            return outcomes
        proofs: dict[int, list[bytes]] = {}
        proofs_lock = threading.Lock()

        def proof(old: int) -> list[bytes]:
            with proofs_lock:  # witnesses at the same size share one proof
                if old not in proofs:
                    proofs[old] = self.consistency_proof(old, size) if old else []
                return proofs[old]

        with ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="jixiao-witness") as pool:
            futures = {
                pool.submit(self._ask, endpoint, latest, last.get(endpoint.key.name, 0), proof): endpoint
                for endpoint in wanted
            }
            for future, endpoint in futures.items():
                try:
                    outcomes[endpoint.key.name] = future.result()
                except Exception as error:  # the witness's failure is its own: logged, counted, asked again later
                    self.witness_failures[endpoint.key.name] = self.witness_failures.get(endpoint.key.name, 0) + 1
                    logger.warning("witness %s did not cosign checkpoint %d: %s", endpoint.key.name, size, error)
                    outcomes[endpoint.key.name] = f"failed: {error}"
        return outcomes

    def _ask(
        self, endpoint: WitnessEndpoint, latest: StoredCheckpoint, old: int, proof: Callable[[int], list[bytes]]
    ) -> str:
        size = latest.column_size
        for _ in range(2):  # a first try from what we last saw it cosign; after a 409, from the size it names
            try:
                cosignature = submit(endpoint, old, proof(old), latest.note, timeout=self.witness_timeout)
            except Conflict as conflict:
                if conflict.size is None or conflict.size == old:
                    raise
                if conflict.size > size:
                    raise WitnessError(
                        f"witness {endpoint.key.name} has cosigned size {conflict.size}, larger than "
                        f"this log's latest checkpoint ({size}): was the log rolled back?"
                    ) from None
                old = conflict.size
                continue
            with self._connect() as conn:
                conn.execute(
                    self._insert_cosignature,
                    (size, cosignature.witness.name, cosignature.witness.key_id, cosignature.line),
                )
            return "cosigned"
        raise WitnessError(f"witness {endpoint.key.name} keeps answering 409")

    def cosigners(self, size: int) -> list[tuple[str, str]]:
        """(witness name, cosignature line) stored for the checkpoint of ``size``, oldest first: as received, not
        verified — a verifier checks the lines of the witnesses it pins."""
        with self._connect() as conn:
            rows = conn.execute(self._cosigners, (size,)).fetchall()
        return [(str(name), str(line)) for name, line in rows]

    def cosigned_note(self, stored: StoredCheckpoint) -> str:
        """The checkpoint's signed note with every cosignature stored for it (as C2SP clients read it). Lines are
        appended as stored: a verifier checks those of the witnesses it pins and ignores the rest."""
        lines = [line for _, line in self.cosigners(stored.column_size)]
        if not lines:
            return stored.note
        try:
            return add_signatures(stored.note, lines)
        except WitnessError:  # a damaged row: serve the log's own note; verifiers will say what is missing
            logger.warning("cosignatures of checkpoint %d could not be added to its note", stored.column_size)
            return stored.note

    def latest_witnessed(self, witnesses: int) -> StoredCheckpoint | None:
        """The newest checkpoint with cosignatures of at least ``witnesses`` distinct witnesses (stored rows: a
        verifier still checks each)."""
        if witnesses <= 0:
            return self.latest_checkpoint()
        with self._connect() as conn:
            row = conn.execute(self._latest_witnessed, (witnesses,)).fetchone()
        return None if row is None else stored_checkpoint(row)
