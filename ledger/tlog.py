"""The transparency log over the events table: Merkle tree, signed checkpoints, proofs, verification.

- ``ledger_tree_nodes`` stores every complete (perfect, aligned) subtree of level >= 1 as it fills; level 0 is
  the events' own ``leaf_hash``. A root or a proof for any tree size then needs O(log n) nodes, fetched in one
  query (see :mod:`ledger.merkle`). The nodes are derived data: verification recomputes them from the leaves.
- ``ledger_checkpoints`` holds signed checkpoints (C2SP tlog-checkpoint notes, Ed25519), append-only.
- :func:`verify_log` checks the live database end to end without trusting it: every leaf hash from the row's
  bytes, the hash chain, the Merkle root of every stored checkpoint, every signature, and consistency between
  consecutive checkpoints; it names the first leaf or checkpoint that fails.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import itertools
import logging
import os
import selectors
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import pq
from psycopg.abc import Buffer
from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool

from ledger import merkle, speedups
from ledger.audit import BUNDLE_FORMAT
from ledger.checkpoint import (
    TIME_EXTENSION,
    Checkpoint,
    CheckpointError,
    SigningKey,
    VerifierKey,
    sign_checkpoint,
    signed_time,
    verify_checkpoint,
)
from ledger.integrity import GENESIS_CHAIN_HASH, LEAF_HASH_PREFIX, snapshot_message
from ledger.witness import (
    Conflict,
    WitnessEndpoint,
    WitnessError,
    WitnessKey,
    add_signatures,
    cosignatures,
    submit,
)

logger = logging.getLogger(__name__)

EVENTS = "ledger_events"
NODES = "ledger_tree_nodes"
CHECKPOINTS = "ledger_checkpoints"
COSIGNATURES = "ledger_cosignatures"
TREE_LOCK = 0x6A78_7472  # pg advisory lock id: one tree builder at a time ("jxtr")
CHECKPOINT_LOCK = 0x6A78_6370  # one checkpoint signer at a time ("jxcp")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {NODES} (
    level smallint NOT NULL CHECK (level >= 1),
    idx bigint NOT NULL CHECK (idx >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (
    tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
    root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
    origin text NOT NULL,
    key_name text NOT NULL,
    note text NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE OR REPLACE FUNCTION {CHECKPOINTS}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
USING ERRCODE = 'insufficient_privilege'; END $$;
CREATE OR REPLACE TRIGGER {CHECKPOINTS}_no_change BEFORE UPDATE OR DELETE ON {CHECKPOINTS}
FOR EACH ROW EXECUTE FUNCTION {CHECKPOINTS}_refuse_change();
CREATE OR REPLACE TRIGGER {CHECKPOINTS}_no_truncate BEFORE TRUNCATE ON {CHECKPOINTS}
FOR EACH STATEMENT EXECUTE FUNCTION {CHECKPOINTS}_refuse_change();
CREATE TABLE IF NOT EXISTS {COSIGNATURES} (
    tree_size bigint NOT NULL CHECK (tree_size >= 0),
    witness text NOT NULL,
    key_id bytea NOT NULL CHECK (length(key_id) = 4),
    line text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tree_size, witness, key_id)
);
CREATE OR REPLACE TRIGGER {COSIGNATURES}_no_change BEFORE UPDATE OR DELETE ON {COSIGNATURES}
FOR EACH ROW EXECUTE FUNCTION {CHECKPOINTS}_refuse_change();
CREATE OR REPLACE TRIGGER {COSIGNATURES}_no_truncate BEFORE TRUNCATE ON {COSIGNATURES}
FOR EACH STATEMENT EXECUTE FUNCTION {CHECKPOINTS}_refuse_change();
CREATE OR REPLACE FUNCTION {NODES}_extend() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE built bigint; target bigint; lvl integer := 1;
BEGIN
    PERFORM pg_advisory_xact_lock({TREE_LOCK});
    SELECT coalesce(max(idx) + 1, 0) * 2 INTO built FROM {NODES} WHERE level = 1;
    SELECT coalesce(max(leaf_index) + 1, 0) INTO target FROM {EVENTS};
    IF target <= built + 1 THEN RETURN target; END IF;
    INSERT INTO {NODES} (level, idx, hash)
        SELECT 1, l.leaf_index / 2, sha256('\x01'::bytea || l.leaf_hash || r.leaf_hash)
        FROM {EVENTS} l JOIN {EVENTS} r ON r.leaf_index = l.leaf_index + 1
        WHERE l.leaf_index >= built AND r.leaf_index < target AND l.leaf_index % 2 = 0;
    LOOP
        lvl := lvl + 1;
        EXIT WHEN (target >> lvl) = 0;
        INSERT INTO {NODES} (level, idx, hash)
            SELECT lvl, a.idx / 2, sha256('\x01'::bytea || a.hash || b.hash)
            FROM {NODES} a JOIN {NODES} b ON b.level = a.level AND b.idx = a.idx + 1
            WHERE a.level = lvl - 1 AND a.idx % 2 = 0 AND a.idx >= 2 * (built >> lvl) AND a.idx < 2 * (target >> lvl);
    END LOOP;
    RETURN target;
END $$;
REVOKE ALL ON FUNCTION {NODES}_extend() FROM PUBLIC;
CREATE OR REPLACE TRIGGER {NODES}_no_change BEFORE UPDATE OR DELETE ON {NODES}
FOR EACH ROW EXECUTE FUNCTION {CHECKPOINTS}_refuse_change();
CREATE OR REPLACE TRIGGER {NODES}_no_truncate BEFORE TRUNCATE ON {NODES}
FOR EACH STATEMENT EXECUTE FUNCTION {CHECKPOINTS}_refuse_change();
"""  # noqa: S608 - our own constant names


class BundleUnavailable(Exception):
    """No bundle can be written for the object asked (no events, or no checkpoint covers them)."""


class ProofUnavailable(Exception):
    """A proof was asked for a leaf or tree size the log does not have."""


@dataclass(frozen=True)
class StoredCheckpoint:
    """A row of the checkpoints table: the signed note and the columns stored beside it (which must agree)."""

    checkpoint: Checkpoint  # parsed from the note's body (not yet verified)
    key_name: str
    note: str
    signed_at: datetime
    column_size: int
    column_root: bytes


class TransparencyLog:
    """The Merkle tree and checkpoints of one ledger database."""

    def __init__(self, database_url: str, *, origin: str, signing_key: SigningKey | None = None,
                 witnesses: Sequence[WitnessEndpoint] = (), witness_timeout: float = 5.0) -> None:
        self.database_url = database_url
        self.origin = origin
        self.signing_key = signing_key
        self.witnesses = tuple(witnesses)
        self.witness_timeout = witness_timeout
        self.witness_failures: dict[str, int] = {}  # per witness name, since start (for /metrics)
        self._pool: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
            database_url, min_size=1, max_size=4, open=False, name="jixiao-tlog")

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        if self._pool.closed:  # opened on first use; open(wait=True) again would wait for idle connections
            self._pool.open(wait=True)
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self._pool.close()

    def create_tables(self) -> None:
        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (TREE_LOCK,))  # concurrent starts create once
            conn.execute(SCHEMA)  # our own constant DDL

    # ------------------------------------------------------------ tree

    def log_size(self, conn: psycopg.Connection[tuple[Any, ...]] | None = None) -> int:
        """Leaves in the events table (its head)."""
        def size(c: psycopg.Connection[tuple[Any, ...]]) -> int:
            row = c.execute(f"SELECT coalesce(max(leaf_index) + 1, 0) FROM {EVENTS}").fetchone()  # noqa: S608
            return int(row[0]) if row else 0

        if conn is not None:
            return size(conn)
        with self._connect() as own:
            return size(own)

    def extend(self) -> int:
        """Store the perfect nodes of every leaf appended since the last run; return the tree size.

        PostgreSQL hashes them, in ``ledger_tree_nodes_extend()``, a function of the schema's owner that reads only
        the leaf hashes the log holds: the service role calls it and cannot insert a node of its own making (a
        forged node ahead of the builder would otherwise be signed into the next checkpoint's root). Without the
        function (a database whose owner has not migrated yet), the nodes are built here."""
        with self._connect() as conn:
            row = conn.execute("SELECT to_regprocedure(%s) IS NOT NULL", (f"{NODES}_extend()",)).fetchone()
            if row and row[0]:
                built = conn.execute(SQL("SELECT {}()").format(Identifier(f"{NODES}_extend"))).fetchone()
                conn.commit()
                assert built is not None
                return int(built[0])
        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (TREE_LOCK,))
            size = self._built_size(conn)
            target = self.log_size(conn)
            if target == size:
                return size
            builder = merkle.TreeBuilder(size, self._fetch_nodes(conn, merkle.TreeBuilder.frontier_nodes(size)))
            new_nodes: list[tuple[int, int, bytes]] = []
            with conn.cursor() as cur:
                cur.execute(
                    f"SELECT leaf_hash FROM {EVENTS} WHERE leaf_index >= %s AND leaf_index < %s "  # noqa: S608
                    "ORDER BY leaf_index", (size, target))
                for (leaf,) in cur:
                    for (level, index), digest in builder.append(bytes(leaf)):
                        if level >= 1:
                            new_nodes.append((level, index, digest))
            if new_nodes:
                with conn.cursor().copy(f"COPY {NODES} (level, idx, hash) FROM STDIN") as copy:
                    for node in new_nodes:
                        copy.write_row(node)
            return builder.size

    def _built_size(self, conn: psycopg.Connection[tuple[Any, ...]]) -> int:
        """The tree size the stored nodes are complete for.

        Level-1 nodes cover leaf pairs, and every higher node implies the level-1 nodes beneath it, so the last
        level-1 node (an index lookup) gives the covered prefix. A leaf at the next (even) index completes no
        node by itself, so it counts as built as soon as it exists.
        """
        row = conn.execute(f"SELECT max(idx) FROM {NODES} WHERE level = 1").fetchone()  # noqa: S608
        covered = 0 if row is None or row[0] is None else (int(row[0]) + 1) * 2
        return covered + 1 if self.log_size(conn) > covered else covered

    def _fetch_nodes(self, conn: psycopg.Connection[tuple[Any, ...]],
                     wanted: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
        """Fetch perfect nodes in one round trip per table: level 0 from the events, the rest from the nodes."""
        leaves = sorted({index for level, index in wanted if level == 0})
        inner = sorted({(level, index) for level, index in wanted if level >= 1})
        found: dict[merkle.Node, bytes] = {}
        if leaves:
            for index, digest in conn.execute(
                f"SELECT leaf_index, leaf_hash FROM {EVENTS} WHERE leaf_index = ANY(%s)", (leaves,)  # noqa: S608
            ):
                found[(0, int(index))] = bytes(digest)
        if inner:
            for level, index, digest in conn.execute(
                f"SELECT n.level, n.idx, n.hash FROM {NODES} n JOIN unnest(%s::smallint[], %s::bigint[]) "  # noqa: S608
                "AS w(level, idx) USING (level, idx)",
                ([level for level, _ in inner], [index for _, index in inner]),
            ):
                found[(int(level), int(index))] = bytes(digest)
        return found

    def _nodes_for(self, conn: psycopg.Connection[tuple[Any, ...]], size: int,
                   wanted: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
        if size > self._built_size(conn):
            conn.commit()
            self.extend()
        return self._fetch_nodes(conn, wanted)

    def root(self, size: int) -> bytes:
        with self._connect() as conn:
            self._check_size(conn, size)
            return merkle.root_hash(size, self._nodes_for(conn, size, merkle.root_nodes(size)))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        with self._connect() as conn:
            self._check_size(conn, size)
            if not 0 <= index < size:
                raise ProofUnavailable(f"leaf {index} is not in a tree of size {size}")
            nodes = self._nodes_for(conn, size, merkle.inclusion_proof_nodes(index, size))
            return merkle.inclusion_proof(index, size, nodes)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self._connect() as conn:
            self._check_size(conn, new_size)
            if not 0 <= old_size <= new_size:
                raise ProofUnavailable(f"no consistency proof from size {old_size} to {new_size}")
            nodes = self._nodes_for(conn, new_size, merkle.consistency_proof_nodes(old_size, new_size))
            return merkle.consistency_proof(old_size, new_size, nodes)

    def _check_size(self, conn: psycopg.Connection[tuple[Any, ...]], size: int) -> None:
        log_size = self.log_size(conn)
        if not 0 <= size <= log_size:
            raise ProofUnavailable(f"the log has {log_size} leaves; no tree of size {size}")

    # ----------------------------------------------------- checkpoints

    def sign_checkpoint(self) -> StoredCheckpoint | None:
        """Sign a checkpoint of the whole log if it has grown since the last one; return it (or None).

        Signers are serialised (advisory lock), so checkpoints grow in size and in time together, even with
        several service replicas signing.
        """
        if self.signing_key is None:
            raise CheckpointError("no signing key configured")
        self.extend()
        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHECKPOINT_LOCK,))
            latest = conn.execute(f"SELECT max(tree_size) FROM {CHECKPOINTS}").fetchone()  # noqa: S608
            size = self._built_size(conn)
            if latest is not None and latest[0] is not None and latest[0] >= size:
                return None
            root = merkle.root_hash(size, self._fetch_nodes(conn, merkle.root_nodes(size)))
            # The database's clock, as for recorded_at: every leaf below `size` was recorded before this time,
            # so the signed time bounds each event's recorded_at (which the leaf hash itself does not cover).
            now = conn.execute("SELECT clock_timestamp()").fetchone()
            assert now is not None
            signed_at: datetime = now[0]
            checkpoint = Checkpoint(self.origin, size, root, (f"{TIME_EXTENSION}{signed_at.isoformat()}",))
            note = sign_checkpoint(checkpoint, self.signing_key)
            conn.execute(
                f"INSERT INTO {CHECKPOINTS} (tree_size, root_hash, origin, key_name, note, signed_at) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (size, root, self.origin, self.signing_key.name, note, signed_at),
            )
        return StoredCheckpoint(checkpoint, self.signing_key.name, note, signed_at, size, root)

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT note, key_name, signed_at, tree_size, root_hash, origin FROM {CHECKPOINTS} "  # noqa: S608
                "ORDER BY tree_size").fetchall()
        return [_stored(row) for row in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT note, key_name, signed_at, tree_size, root_hash, origin FROM {CHECKPOINTS} "  # noqa: S608
                "ORDER BY tree_size DESC LIMIT 1").fetchone()
        return None if row is None else _stored(row)

    def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT note, key_name, signed_at, tree_size, root_hash, origin FROM {CHECKPOINTS} "  # noqa: S608
                "WHERE tree_size = %s", (size,)).fetchone()
        return None if row is None else _stored(row)

    def leaf_hash(self, index: int) -> bytes:
        with self._connect() as conn:
            row = conn.execute(f"SELECT leaf_hash FROM {EVENTS} WHERE leaf_index = %s", (index,)).fetchone()  # noqa: S608
        if row is None:
            raise ProofUnavailable(f"the log has no leaf {index}")
        return bytes(row[0])

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
            last = {str(name): int(top) for name, top in conn.execute(SQL(
                "SELECT witness, max(tree_size) FROM {} WHERE tree_size <= %s GROUP BY witness").format(
                Identifier(COSIGNATURES)), (size,))}
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
            futures = {pool.submit(self._ask, endpoint, latest, last.get(endpoint.key.name, 0), proof): endpoint
                       for endpoint in wanted}
            for future, endpoint in futures.items():
                try:
                    outcomes[endpoint.key.name] = future.result()
                except Exception as error:  # the witness's failure is its own: logged, counted, asked again later
                    self.witness_failures[endpoint.key.name] = self.witness_failures.get(endpoint.key.name, 0) + 1
                    logger.warning("witness %s did not cosign checkpoint %d: %s", endpoint.key.name, size, error)
                    outcomes[endpoint.key.name] = f"failed: {error}"
        return outcomes

    def _ask(self, endpoint: WitnessEndpoint, latest: StoredCheckpoint, old: int,
             proof: Callable[[int], list[bytes]]) -> str:
        size = latest.column_size
        for _ in range(2):  # a first try from what we last saw it cosign; after a 409, from the size it names
            try:
                cosignature = submit(endpoint, old, proof(old), latest.note, timeout=self.witness_timeout)
            except Conflict as conflict:
                if conflict.size is None or conflict.size == old:
                    raise
                if conflict.size > size:
                    raise WitnessError(f"witness {endpoint.key.name} has cosigned size {conflict.size}, larger than "
                                       f"this log's latest checkpoint ({size}): was the log rolled back?") from None
                old = conflict.size
                continue
            with self._connect() as conn:
                conn.execute(self._insert_cosignature, (size, cosignature.witness.name, cosignature.witness.key_id,
                                                        cosignature.line))
            return "cosigned"
        raise WitnessError(f"witness {endpoint.key.name} keeps answering 409")

    _insert_cosignature = SQL("INSERT INTO {} (tree_size, witness, key_id, line) VALUES (%s, %s, %s, %s) "
                              "ON CONFLICT DO NOTHING").format(Identifier(COSIGNATURES))

    def cosigners(self, size: int) -> list[tuple[str, str]]:
        """(witness name, cosignature line) stored for the checkpoint of ``size``, oldest first: as received, not
        verified — a verifier checks the lines of the witnesses it pins."""
        with self._connect() as conn:
            rows = conn.execute(SQL("SELECT witness, line FROM {} WHERE tree_size = %s ORDER BY received_at").format(
                Identifier(COSIGNATURES)), (size,)).fetchall()
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
            row = conn.execute(SQL(
                "SELECT c.note, c.key_name, c.signed_at, c.tree_size, c.root_hash, c.origin FROM {checkpoints} c "
                "WHERE (SELECT count(DISTINCT w.witness) FROM {cosignatures} w WHERE w.tree_size = c.tree_size) >= %s "
                "ORDER BY c.tree_size DESC LIMIT 1").format(checkpoints=Identifier(CHECKPOINTS),
                                                             cosignatures=Identifier(COSIGNATURES)),
                (witnesses,)).fetchone()
        return None if row is None else _stored(row)

    def export_bundle(self, verifier: VerifierKey, object_id: UUID) -> dict[str, Any]:
        """The audit bundle of one aggregate (a project, an agency, …) for :func:`ledger.audit.verify_bundle`: its
        events, each with an inclusion proof against a checkpoint covering them all — signed now if none does yet,
        and cosigned by the configured witnesses that answer (their cosignatures travel in the note)."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT leaf_index, originator_version, topic, state, leaf_hash, recorded_at, effective_on, "  # noqa: S608
                f"principal_id, principal_role, principal_org FROM {EVENTS} WHERE originator_id = %s "
                "ORDER BY originator_version", (object_id,)).fetchall()
        if not rows:
            raise BundleUnavailable(f"no events for {object_id}")
        last_leaf = max(int(row[0]) for row in rows)
        latest = self.latest_checkpoint()
        if latest is None or latest.checkpoint.size <= last_leaf:
            latest = self.sign_checkpoint() or self.latest_checkpoint()
        if latest is None or latest.checkpoint.size <= last_leaf:
            raise BundleUnavailable("no signed checkpoint covers this object's events yet")
        if self.witnesses:
            self.cosign()
            witnessed = self.latest_witnessed(len(self.witnesses))
            if witnessed is not None and witnessed.column_size > last_leaf:
                latest = witnessed
        size = latest.column_size
        events = []
        for index, version, topic, state, digest, recorded_at, effective_on, pid, role, org in rows:
            events.append({
                "leaf_index": index,
                "originator_version": version,
                "topic": topic,
                "state": base64.b64encode(bytes(state)).decode("ascii"),
                "leaf_hash": bytes(digest).hex(),
                "recorded_at": recorded_at.isoformat(),
                "effective_on": None if effective_on is None else effective_on.isoformat(),
                "principal": {"id": pid, "role": role, "organisation": org},
                "inclusion_proof": [node.hex() for node in self.inclusion_proof(int(index), size)],
            })
        return {
            "format": BUNDLE_FORMAT,
            "origin": self.origin,
            "object_id": str(object_id),
            "verifier_key": verifier.to_string(),
            "checkpoint": self.cosigned_note(latest),
            "events": events,
        }

    def leaf(self, index: int) -> dict[str, Any] | None:
        """One leaf exactly as hashed (what ``ledger.integrity.leaf_hash`` takes), with its stored hashes."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT originator_id, originator_version, topic, state, leaf_hash, chain_hash, recorded_at "  # noqa: S608
                f"FROM {EVENTS} WHERE leaf_index = %s", (index,)).fetchone()
        if row is None:
            return None
        originator_id, version, topic, state, leaf, chain, recorded_at = row
        return {"leaf_index": index, "originator_id": str(originator_id), "originator_version": version,
                "topic": topic, "state": base64.b64encode(bytes(state)).decode("ascii"), "leaf_hash": bytes(leaf).hex(),
                "chain_hash": bytes(chain).hex(), "recorded_at": recorded_at.isoformat()}


def _stored(row: tuple[Any, ...]) -> StoredCheckpoint:
    note, key_name, signed_at, size, root, _origin = row
    try:
        checkpoint = Checkpoint.parse_body(str(note).split("\n\n", 1)[0] + "\n")
    except CheckpointError:  # a damaged note still gets a row to report on
        checkpoint = Checkpoint(str(_origin), int(size), bytes(root))
    return StoredCheckpoint(checkpoint, str(key_name), str(note), signed_at,
                            int(size), bytes(root))


def check_consistency(log: TransparencyLog, old_note: str, key: VerifierKey) -> tuple[Checkpoint, Checkpoint]:
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
            "the consistency proof does not hold (history was rewritten)")
    return old, new


# ---------------------------------------------------------------------------------------------- verification


@dataclass
class VerificationReport:
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

    @property
    def unanchored(self) -> int:
        """Leaves at the head that no checkpoint meeting the policy covers yet."""
        return self.events - self.anchored

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class VerifyPolicy:
    """What ``verify_log`` requires beyond the log's own consistency.

    - ``kept``: checkpoints held outside the operator's reach (an auditor's, ``jixiao audit``), as (name, note):
      the live log must still have, at each one's size, exactly the tree it signed.
    - ``witnesses`` / ``min_witnesses``: a checkpoint anchors the log only with that many pinned cosignatures.
    - ``max_unanchored_leaves`` / ``max_unanchored_age``: how large, or how old, the tail no anchoring checkpoint
      covers may be before verification fails (checkpoints are signed every minute; a tail older than that means
      the signer stopped, or checkpoints were removed).
    - ``snapshots``: check every snapshot's authenticator (signed by the log's key, bound to its version's leaf).
    - ``trusted_keys``: keys the log signed with before ``key`` (after a rotation).
    """

    kept: tuple[tuple[str, str], ...] = ()
    witnesses: tuple[WitnessKey, ...] = ()
    min_witnesses: int = 0
    max_unanchored_leaves: int | None = None
    max_unanchored_age: timedelta | None = None
    snapshots: bool = True
    trusted_keys: tuple[VerifierKey, ...] = ()


# Verification reads the log in chunks of a power of two leaves starting at multiples of it, so each complete chunk
# is a perfect subtree of the Merkle tree: the process that checks a chunk's rows also hashes its part of the tree,
# and this process only combines one root per chunk (and, for a checkpoint inside a chunk, that chunk's few nodes).
# CHUNK at most (longer COPY streams measured faster), smaller when that leaves each worker fewer than four chunks.
CHUNK = 1 << 16
MIN_CHUNK = 1 << 12

# A row of the verification COPY, in PostgreSQL's binary format: a 16-bit field count, then each field as a 32-bit
# length and its bytes. The fixed-size fields come first, so one struct reads them and their lengths (checked: a
# row of any other shape is reported, never misread). The leaf's canonical bytes are then two slices of the row —
# the id, and everything from the version on: int64 version, 32-bit topic length, topic, 32-bit state length,
# state, which is exactly the encoding of ledger.integrity, length words included.
_VERIFY_COLUMNS = "leaf_index, recorded_at, leaf_hash, chain_hash, originator_id, originator_version, topic, state"
_ROW = struct.Struct(">hiqiqi32xi32xi16xi8xi")  # the count, lengths and values up to the topic's length
_ROW_SHAPE = (8, 8, 8, 32, 32, 16, 8)  # the field count and the lengths of the fixed-size fields
_LENGTH = struct.Struct(">i")
_LEAF_HASH, _CHAIN_HASH, _ORIGINATOR_ID = slice(30, 62), slice(66, 98), slice(102, 118)
_FROM_VERSION = 122
_TOPIC = 134
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_TRAILER = b"\xff\xff"
_COPY_BATCH = 1024  # rows read before they are checked (fewer when no more have arrived yet)
_EARLIEST = -(1 << 63)  # below every timestamptz in the binary format (microseconds since 2000, -infinity's value)
_MALFORMED = "its row does not have the shape of the events table (a column was altered)"


@dataclass(frozen=True)
class _ChunkResult:
    failure: tuple[int, str] | None  # the first leaf that fails, and why
    nodes: dict[merkle.Node, bytes]  # the chunk's own nodes and those of every checkpoint inside it (if it passed)


def _verifier_connection(database_url: str) -> psycopg.Connection[tuple[Any, ...]]:
    # The topic's UTF-8 bytes are hashed as the server sends them: ask for UTF-8 whatever the server's default.
    return psycopg.connect(database_url, autocommit=True, client_encoding="UTF8")


def _copy_out(conn: psycopg.Connection[tuple[Any, ...]], query: str) -> Iterator[list[Buffer]]:
    """The rows of a binary ``COPY … TO STDOUT`` in batches as they arrive: PostgreSQL sends each row as one
    CopyData message, the file header with the first one (cut off here); the trailer stays in (a row of two bytes).

    Read straight from libpq through psycopg's low-level interface (``Connection.pgconn``, :mod:`psycopg.pq`):
    psycopg's ``Copy.read()`` runs a generator and a wait per row, about a microsecond of Python each — as much as
    the C accelerator's whole check of a row. A batch is handed over when it is full or when no more rows have
    arrived yet (checked while the server sends more). ``conn`` must be an idle autocommit connection; if the
    reader is left before the end, it closes ``conn`` (a COPY left half-read cannot be closed cleanly).
    """
    if not conn.autocommit or conn.info.transaction_status != pq.TransactionStatus.IDLE:
        raise psycopg.ProgrammingError("the verifier's COPY needs an idle autocommit connection")
    pgconn = conn.pgconn
    selector = selectors.DefaultSelector()
    done = False
    try:
        selector.register(pgconn.socket, selectors.EVENT_READ | selectors.EVENT_WRITE)
        pgconn.send_query(query.encode())
        while pgconn.flush():  # not all sent yet: wait until the socket takes more (or answers)
            selector.select()
            pgconn.consume_input()
        selector.modify(pgconn.socket, selectors.EVENT_READ)
        result = _next_result(pgconn, selector)
        if result is None or result.status != pq.ExecStatus.COPY_OUT:
            raise _copy_error(pgconn, result)
        get = pgconn.get_copy_data
        batch: list[Buffer] = []
        head = True
        while True:
            size, data = get(1)  # a row already received, without waiting
            if size > 0:
                if head:  # the file header: signature, flags, header extension
                    if bytes(data[:len(_COPY_SIGNATURE)]) != _COPY_SIGNATURE:
                        raise psycopg.DataError("the server's COPY output is not in PostgreSQL's binary format")
                    data = data[19 + _LENGTH.unpack_from(data, 15)[0]:]
                    head = False
                    if not len(data):
                        continue
                batch.append(data)
                if len(batch) == _COPY_BATCH:
                    yield batch
                    batch = []
            elif size == 0:  # none received yet
                if batch:
                    yield batch
                    batch = []
                selector.select()
                pgconn.consume_input()
            else:  # -1: the end of the data (psycopg raises on -2, an error)
                break
        if batch:
            yield batch
        result = _next_result(pgconn, selector)
        if result is None or result.status != pq.ExecStatus.COMMAND_OK:
            raise _copy_error(pgconn, result)
        if _next_result(pgconn, selector) is not None:
            raise psycopg.ProgrammingError("the verifier's COPY returned more than one result")
        done = True
    finally:
        selector.close()
        if not done:
            conn.close()


def _next_result(pgconn: pq.abc.PGconn, selector: selectors.BaseSelector) -> pq.abc.PGresult | None:
    """libpq's next result, waiting for it without blocking in libpq."""
    while pgconn.is_busy():
        selector.select()
        pgconn.consume_input()
    return pgconn.get_result()


def _copy_error(pgconn: pq.abc.PGconn, result: pq.abc.PGresult | None) -> psycopg.Error:
    if result is None:
        return psycopg.OperationalError(pgconn.error_message.decode(errors="replace"))
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    try:
        error = psycopg.errors.lookup(sqlstate.decode()) if sqlstate else psycopg.DatabaseError
    except KeyError:
        error = psycopg.DatabaseError
    return error(result.error_message.decode(errors="replace") or f"unexpected result {result.status!r}")


def _fixed_fields(row: Buffer) -> tuple[int, int, bytes] | None:
    """Leaf index, recorded_at (binary) and chain hash of a well-shaped row; None for any other row."""
    try:
        count, l1, index, l2, recorded, l3, l4, l5, l6, _ = _ROW.unpack_from(row)
    except struct.error:
        return None
    if (count, l1, l2, l3, l4, l5, l6) != _ROW_SHAPE:
        return None
    return index, recorded, bytes(row[_CHAIN_HASH])


_ALTERED = "its stored leaf_hash does not match its contents (the event was altered)"
_BROKEN_CHAIN = "chain_hash does not follow from the leaves before it"
_OUT_OF_ORDER = "duplicated or out of order"
_BACKWARDS = "recorded_at runs backwards (its time was altered)"


def _missing(stored: int) -> str:
    return f"missing — the next stored leaf is {stored} (a row was deleted)"


def _check_chunk(conn: psycopg.Connection[tuple[Any, ...]], start: int, end: int,
                 sizes: Sequence[int], native: bool = False) -> _ChunkResult:
    """Fully check leaves [start, end): dense positions, every leaf hash recomputed from the row's own bytes,
    every chain link (from the stored chain hash of leaf ``start - 1``, which the chunk before checks), and
    recorded_at never running backwards. If all hold, also return the perfect nodes above these leaves that the
    roots at ``sizes`` (each in ``(start, end]``) need, and the chunk's own nodes.

    The rows stream by binary COPY and are read in place (see :func:`_check_rows_python`), by the pure-Python
    reference or, with ``native``, by the C accelerator (:mod:`ledger.speedups`), which gives the same results.
    Nothing the database computed is used; only the stored bytes.
    """
    failure: tuple[int, str] | None = None
    query = (f"COPY (SELECT {_VERIFY_COLUMNS} FROM {EVENTS} WHERE leaf_index >= {int(max(start - 1, 0))} "  # noqa: S608
             f"AND leaf_index < {int(end)} ORDER BY leaf_index) TO STDOUT (FORMAT BINARY)")
    batches = _copy_out(conn, query)
    first = next(batches, [])
    previous, last_time = GENESIS_CHAIN_HASH, _EARLIEST
    if start > 0:
        anchor = _fixed_fields(first[0]) if first else None
        if anchor is None or anchor[0] != start - 1:
            for _ in batches:  # drain: a COPY left half-read cannot be closed cleanly
                pass
            return _ChunkResult(None, {})  # the chunk before reports leaf start - 1
        _, last_time, previous = anchor
        first = first[1:]
    if native:
        failure, expected, packed = _check_rows_native(itertools.chain((first,), batches), start, previous,
                                                       last_time)
    else:
        rows = itertools.chain(first, itertools.chain.from_iterable(batches))
        failure, expected, leaves = _check_rows_python(rows, start, previous, last_time)
    for _ in batches:  # drain after a failure (a COPY left half-read cannot be closed cleanly)
        pass
    if failure is None and expected < end:
        failure = (expected, "missing — the log has no such row (rows were deleted)")
    if failure is not None:
        return _ChunkResult(failure, {})
    nodes: dict[merkle.Node, bytes] = {}
    wanted = [node for size in (*sizes, end) for node in merkle.perfect_nodes(start, size)]
    if native:
        packed_levels = merkle.perfect_levels_packed(packed, accelerator=True)
        for level, index in wanted:
            at = (index - (start >> level)) * 32
            nodes[(level, index)] = packed_levels[level][at:at + 32]
    else:
        levels = merkle.perfect_levels(leaves, accelerator=False)
        for level, index in wanted:
            nodes[(level, index)] = levels[level][index - (start >> level)]
    return _ChunkResult(None, nodes)


def _check_rows_python(rows: Iterable[Buffer], expected: int, previous: bytes,
                       last_time: int) -> tuple[tuple[int, str] | None, int, list[bytes]]:
    """Check verification COPY rows in order, the first being leaf ``expected``, after chain hash ``previous``
    and recorded_at ``last_time``: the reference implementation (the C accelerator must agree with it).

    Returns the first failure (leaf index, why) or None, the leaf index after the last row that passed, and the
    leaf hashes of the rows that passed. Stops at the first failure, leaving the rest of ``rows`` unread. Each row
    is read in place: one struct for the fixed fields, two memoryview slices hashed, two compared; the COPY's
    trailer is skipped.
    """
    sha256 = hashlib.sha256
    read_row = _ROW.unpack_from
    read_length = _LENGTH.unpack_from
    prefix = sha256(LEAF_HASH_PREFIX)
    shape = _ROW_SHAPE
    leaves: list[bytes] = []
    keep = leaves.append
    failure: tuple[int, str] | None = None
    for row in rows:
        try:
            count, l1, index, l2, recorded, l3, l4, l5, l6, topic_length = read_row(row)
            state_length = read_length(row, _TOPIC + topic_length)[0]
        except struct.error:
            if row == _COPY_TRAILER:
                continue
            failure = (expected, _MALFORMED)
            break
        if ((count, l1, l2, l3, l4, l5, l6) != shape or topic_length < 0
                or state_length != len(row) - _TOPIC - 4 - topic_length):
            failure = (expected, _MALFORMED)
            break
        if index != expected:
            failure = (expected, _missing(index) if index > expected else _OUT_OF_ORDER)
            break
        hasher = prefix.copy()
        hasher.update(row[_ORIGINATOR_ID])
        hasher.update(row[_FROM_VERSION:])
        leaf = hasher.digest()
        if leaf != row[_LEAF_HASH]:
            failure = (index, _ALTERED)
            break
        previous = sha256(previous + leaf).digest()
        if previous != row[_CHAIN_HASH]:
            failure = (index, _BROKEN_CHAIN)
            break
        if recorded < last_time:
            failure = (index, _BACKWARDS)
            break
        last_time = recorded
        keep(leaf)
        expected += 1
    return failure, expected, leaves


def _check_rows_native(batches: Iterable[Sequence[Buffer]], expected: int, previous: bytes,
                       last_time: int) -> tuple[tuple[int, str] | None, int, bytes]:
    """:func:`_check_rows_python` in C (``ledger._speedups.check_rows``), over the rows in batches as they stream
    in; the leaf hashes come back concatenated (32 bytes each). Stops after the batch with the first failure."""
    from ledger import _speedups  # built: the caller checked with ledger.speedups.use_native

    messages = {_speedups.FAILURE_MALFORMED: _MALFORMED, _speedups.FAILURE_LEAF: _ALTERED,
                _speedups.FAILURE_CHAIN: _BROKEN_CHAIN, _speedups.FAILURE_TIME: _BACKWARDS}
    check = _speedups.check_rows
    parts: list[bytes] = []
    for batch in batches:
        expected, previous, last_time, leaves, failed = check(batch, expected, previous, last_time)
        parts.append(leaves)
        if failed is not None:
            index, kind, stored = failed
            if kind == _speedups.FAILURE_INDEX:
                return (index, _missing(stored) if stored > index else _OUT_OF_ORDER), expected, b"".join(parts)
            return (index, messages[kind]), expected, b"".join(parts)
    return None, expected, b"".join(parts)


# A verification worker process's connection, opened once by the pool's initializer and used for every chunk the
# process checks; it closes with the process.
_worker_connection: psycopg.Connection[tuple[Any, ...]] | None = None


def _connect_worker(database_url: str) -> None:
    global _worker_connection  # one per worker process, by design
    _worker_connection = _verifier_connection(database_url)


def _check_chunk_in_worker(start: int, end: int, sizes: Sequence[int], native: bool) -> _ChunkResult:
    assert _worker_connection is not None, "the pool's initializer opens it"
    return _check_chunk(_worker_connection, start, end, sizes, native)


def verify_log(database_url: str, key: VerifierKey, *, origin: str | None = None, workers: int | None = None,
               progress: Callable[[int], None] | None = None, chunk: int | None = None,
               accelerator: bool | None = None, policy: VerifyPolicy | None = None) -> VerificationReport:
    """Check the live log end to end. Trusts nothing in the database but reads its rows.

    ``workers`` processes (default: one per core; 0 = all in this process) each fully check chunks of ``chunk``
    leaves (a power of two; by default chosen from the log's size) and hash the Merkle tree above them, and check
    the authenticators of a share of the snapshots; this process combines the chunks' roots into the root at every
    stored (and kept) checkpoint and checks the checkpoints against ``policy``. ``accelerator`` chooses the
    implementation of the rows' checks and the tree's hashing, as in :mod:`ledger.speedups` (None: the C
    accelerator when built, unless ``JIXIAO_PURE_PYTHON=1``); the report names the one that ran.
    """
    if chunk is not None and (chunk < 1 or chunk & (chunk - 1)):
        raise ValueError(f"chunk must be a power of two, not {chunk}")
    policy = policy or VerifyPolicy()
    keys = (key, *policy.trusted_keys)
    native = speedups.use_native(accelerator)
    report = VerificationReport(implementation=speedups.describe(native))
    started = time.perf_counter()
    kept = _parse_kept(policy.kept, keys, origin, report)
    with psycopg.connect(database_url) as conn:
        stored = [_stored(row) for row in conn.execute(
            f"SELECT note, key_name, signed_at, tree_size, root_hash, origin FROM {CHECKPOINTS} "  # noqa: S608
            "ORDER BY tree_size").fetchall()] if _exists(conn, CHECKPOINTS) else []
        cosigned = _stored_cosignatures(conn) if _exists(conn, COSIGNATURES) else {}
        head = conn.execute(f"SELECT coalesce(max(leaf_index) + 1, 0), clock_timestamp() FROM {EVENTS}").fetchone()  # noqa: S608
        assert head is not None
        size, now = int(head[0]), head[1]
        sizes = sorted({item.column_size for item in stored if 0 < item.column_size <= size}
                       | {checkpoint.size for _, checkpoint in kept if 0 < checkpoint.size <= size})
        recorded_by = {int(index) + 1: when for index, when in conn.execute(
            f"SELECT leaf_index, recorded_at FROM {EVENTS} WHERE leaf_index = ANY(%s)",  # noqa: S608
            ([s - 1 for s in sizes],))}
        snapshot_ranges = _snapshot_ranges(conn, workers) if policy.snapshots and _exists(conn, SNAPSHOTS) else []
    count = workers if workers is not None else (os.cpu_count() or 1)
    if chunk is None:
        chunk = chunk_size(size, count)
    chunks = [(lo, min(lo + chunk, size)) for lo in range(0, size, chunk)]
    inside = {lo: sizes[bisect.bisect_right(sizes, lo):bisect.bisect_right(sizes, hi)] for lo, hi in chunks}
    results: dict[int, _ChunkResult] = {}
    snapshot_results: list[tuple[int, list[str]]] = []
    done = 0

    def finished(lo: int, hi: int, result: _ChunkResult) -> None:
        nonlocal done
        results[lo] = result
        before, done = done, done + hi - lo
        if progress is not None and done // 250_000 > before // 250_000:
            progress(done)

    if count > 0 and (chunks or snapshot_ranges):
        pool = ProcessPoolExecutor(max_workers=max(1, min(count, len(chunks) + len(snapshot_ranges))),
                                   initializer=_connect_worker, initargs=(database_url,))
        try:
            futures: dict[Any, tuple[int, int] | None] = {
                pool.submit(_check_chunk_in_worker, lo, hi, inside[lo], native): (lo, hi) for lo, hi in chunks}
            futures.update({pool.submit(_check_snapshots_in_worker, lo, hi, keys): None
                            for lo, hi in snapshot_ranges})
            for future in as_completed(futures):
                where = futures[future]
                if where is None:
                    snapshot_results.append(future.result())
                else:
                    finished(*where, future.result())
        finally:
            pool.shutdown(cancel_futures=True)
    elif chunks or snapshot_ranges:
        with _verifier_connection(database_url) as conn:
            for lo, hi in chunks:
                finished(lo, hi, _check_chunk(conn, lo, hi, inside[lo], native))
            snapshot_results = [_check_snapshots(conn, lo, hi, keys) for lo, hi in snapshot_ranges]
    failures = sorted(result.failure for result in results.values() if result.failure is not None)
    if failures:
        index, message = failures[0]
        report.failures.append(f"leaf {index}: {message}")
    roots = _roots(sizes, chunk, results.values(), native)
    if 0 in {item.column_size for item in stored}:
        roots[0] = merkle.EMPTY_ROOT
    verified = _check_checkpoints(stored, roots, recorded_by, keys, origin, report)
    _check_kept(kept, verified, roots, size, report)
    _check_anchor(verified, cosigned, policy, size, now, report, database_url)
    for checked, snapshot_failures in snapshot_results:
        report.snapshots += checked
        report.failures.extend(snapshot_failures[:10])
    report.events = size
    report.seconds = time.perf_counter() - started
    return report


def chunk_size(size: int, workers: int) -> int:
    """The chunk verify_log reads a log of ``size`` leaves in, with ``workers`` processes."""
    share = size // (4 * max(workers, 1))
    return min(CHUNK, max(MIN_CHUNK, 1 << max(share.bit_length() - 1, 0)))


def _roots(sizes: Sequence[int], chunk: int, results: Iterable[_ChunkResult], native: bool = False) -> dict[int, bytes]:
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
    roots: dict[int, bytes] = {}
    for size in sizes:
        try:
            roots[size] = merkle.root_hash(size, nodes)
        except KeyError:
            continue
    return roots


def _check_checkpoints(stored: list[StoredCheckpoint], roots: dict[int, bytes], recorded_by: dict[int, datetime],
                       keys: Sequence[VerifierKey], origin: str | None,
                       report: VerificationReport) -> dict[int, StoredCheckpoint]:
    """Check every stored checkpoint (signature, columns, root, signing time); return those that hold, by size."""
    previous_time: datetime | None = None
    verified: dict[int, StoredCheckpoint] = {}
    for item in stored:
        size = item.column_size
        try:
            signed = _verify_with_any(item.note, keys, origin)
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
                f"leaf {size})")
            return verified
        when = signed_time(signed)
        if when is not None and size in recorded_by and recorded_by[size] > when:
            report.failures.append(f"checkpoint {size}: signed at {when.isoformat()}, before leaf {size - 1} was "
                                   "recorded (recorded_at was altered)")
            return verified
        if when is not None and previous_time is not None and when < previous_time:
            report.failures.append(f"checkpoint {size}: signed before the checkpoint preceding it")
            return verified
        previous_time = when or previous_time
        verified[size] = item
        report.checkpoints += 1
    return verified


def _verify_with_any(note: str, keys: Sequence[VerifierKey], origin: str | None) -> Checkpoint:
    """The checkpoint, if any of ``keys`` signed it (the first key's error otherwise)."""
    first: CheckpointError | None = None
    for key in keys:
        try:
            return verify_checkpoint(note, key, origin)
        except CheckpointError as error:
            first = first or error
    assert first is not None
    raise first


def _parse_kept(kept: Sequence[tuple[str, str]], keys: Sequence[VerifierKey], origin: str | None,
                report: VerificationReport) -> list[tuple[str, Checkpoint]]:
    parsed = []
    for name, note in kept:
        try:
            parsed.append((name, _verify_with_any(note, keys, origin)))
        except CheckpointError as error:
            report.failures.append(f"kept checkpoint {name}: {error}")
    return parsed


def _check_kept(kept: Sequence[tuple[str, Checkpoint]], verified: dict[int, StoredCheckpoint],
                roots: dict[int, bytes], size: int, report: VerificationReport) -> None:
    """Checkpoints kept outside the database must still describe the live log: a rewrite, a removal or a rolled
    back checkpoint table shows against them even when every stored checkpoint was re-signed or deleted."""
    largest = max(verified, default=0)
    for name, checkpoint in kept:
        where = f"kept checkpoint {name} (size {checkpoint.size})"
        if checkpoint.size > size:
            report.failures.append(f"{where}: the log now has {size} leaves: leaves were removed or the log was "
                                   "replaced")
            continue
        root = roots.get(checkpoint.size, merkle.EMPTY_ROOT if checkpoint.size == 0 else None)
        if root is None:
            continue  # its leaves failed their own check, reported above
        if root != checkpoint.root_hash:
            report.failures.append(f"{where}: the log's tree at that size is not the one signed: history was "
                                   "rewritten")
            continue
        if checkpoint.size > largest:
            report.failures.append(f"{where}: the checkpoint table holds none this large (largest {largest}): "
                                   "checkpoints were removed or the table rolled back")
            continue
        report.kept += 1


def _check_anchor(verified: dict[int, StoredCheckpoint], cosigned: dict[int, list[str]], policy: VerifyPolicy,
                  size: int, now: datetime, report: VerificationReport, database_url: str) -> None:
    """Find the newest checkpoint that meets the policy; the leaves after it must be few and recent enough."""
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
            report.failures.append(f"no checkpoint is cosigned by {policy.min_witnesses} of the pinned witnesses: "
                                   f"none of the log's {size:,} leaves is witnessed")
        elif not report.failures:
            report.failures.append(f"no checkpoint signed by the key exists: none of the log's {size:,} leaves is "
                                   "covered by a signature (sign one with `jixiao checkpoint`)")
        return
    report.anchored = anchor.column_size
    tail = size - anchor.column_size
    if tail <= 0:
        return
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT recorded_at FROM {EVENTS} WHERE leaf_index = %s",  # noqa: S608
                           (anchor.column_size,)).fetchone()
    report.unanchored_since = row[0] if row else None
    what = "witnessed" if policy.min_witnesses else "signed"
    if policy.max_unanchored_leaves is not None and tail > policy.max_unanchored_leaves:
        report.failures.append(f"{tail:,} leaves at the head are not covered by a {what} checkpoint (the policy "
                               f"allows {policy.max_unanchored_leaves:,})")
    elif (policy.max_unanchored_age is not None and report.unanchored_since is not None
          and now - report.unanchored_since > policy.max_unanchored_age):
        report.failures.append(f"{tail:,} leaves at the head are not covered by a {what} checkpoint, the first "
                               f"recorded {report.unanchored_since.isoformat(timespec='seconds')} (the policy "
                               f"allows {_duration(policy.max_unanchored_age)}): checkpoints stopped or were removed")


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 and seconds >= 60 else f"{seconds} s"


def _exists(conn: psycopg.Connection[tuple[Any, ...]], table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


def _stored_cosignatures(conn: psycopg.Connection[tuple[Any, ...]]) -> dict[int, list[str]]:
    lines: dict[int, list[str]] = {}
    for size, line in conn.execute(f"SELECT tree_size, line FROM {COSIGNATURES} ORDER BY received_at"):  # noqa: S608
        lines.setdefault(int(size), []).append(str(line))
    return lines


# ------------------------------------------------------------------------------------------------- snapshots

SNAPSHOTS = "ledger_snapshots"


def _snapshot_ranges(conn: psycopg.Connection[tuple[Any, ...]], workers: int | None) -> list[tuple[int, int]]:
    """The snapshots split by aggregate id into ranges of about equal count (as 128-bit integers, [lo, hi))."""
    row = conn.execute(f"SELECT count(*) FROM {SNAPSHOTS}").fetchone()  # noqa: S608
    total = int(row[0]) if row else 0
    if total == 0:
        return []
    parts = max(1, min(4 * max(workers or os.cpu_count() or 1, 1), total // 256 or 1))
    step = (1 << 128) // parts
    return [(i * step, (i + 1) * step if i < parts - 1 else 1 << 128) for i in range(parts)]


def _check_snapshots(conn: psycopg.Connection[tuple[Any, ...]], lo: int, hi: int,
                     keys: Sequence[VerifierKey]) -> tuple[int, list[str]]:
    """Check the authenticator of every snapshot whose aggregate id falls in [lo, hi): the log key's signature over
    the snapshot and the chain hash of the leaf its version was recorded at. Returns (checked, failures)."""
    trusted = {key.key_id: key for key in keys}
    bounds: list[Any] = [UUID(int=lo)]
    condition = "s.originator_id >= %s"
    if hi < 1 << 128:
        condition += " AND s.originator_id < %s"
        bounds.append(UUID(int=hi))
    failures: list[str] = []
    checked = 0
    # A server-side cursor: snapshots hold whole aggregates, and a range of them must not be held in memory at once.
    with conn.transaction(), conn.cursor("jixiao-verify-snapshots", binary=True) as cur:
        # The leaf's chain hash by a subquery per snapshot, which PostgreSQL always answers from the log's primary
        # key: as a join it may plan a hash join that reads all of the log once per range — a second scan of the
        # whole log, several times over, to find a few thousand rows.
        cur.execute(
            f"SELECT s.originator_id, s.originator_version, s.topic, s.state, s.authenticator, "  # noqa: S608
            f"(SELECT e.chain_hash FROM {EVENTS} e WHERE e.originator_id = s.originator_id "
            f"AND e.originator_version = s.originator_version) FROM {SNAPSHOTS} s WHERE {condition}", bounds)
        while rows := cur.fetchmany(64):
            for originator_id, version, topic, state, authenticator, chain in rows:
                checked += 1
                where = f"snapshot of {originator_id} at version {version}"
                if authenticator is None:
                    failures.append(f"{where}: it carries no authenticator (not written by the ledger; ignored "
                                    "when loading)")
                    continue
                if chain is None:
                    failures.append(f"{where}: the log holds no event at that version (forged)")
                    continue
                auth = bytes(authenticator)
                key = trusted.get(auth[:4])
                if key is None:
                    failures.append(f"{where}: signed by key {auth[:4].hex()}, which is not pinned")
                    continue
                message = snapshot_message(originator_id, int(version), topic, bytes(state), bytes(chain))
                if len(auth) != 68 or not key.verify(message, auth[4:]):
                    failures.append(f"{where}: its authenticator does not verify (the snapshot was forged or "
                                    "altered; ignored when loading)")
    return checked, failures


def _check_snapshots_in_worker(lo: int, hi: int, keys: Sequence[VerifierKey]) -> tuple[int, list[str]]:
    assert _worker_connection is not None, "the pool's initializer opens it"
    return _check_snapshots(_worker_connection, lo, hi, keys)
