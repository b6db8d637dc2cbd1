"""The transparency log over the events table: its schema, and the one object the service and the command line use.

:class:`TransparencyLog` is the stored tree (:mod:`ledger.store.tree`) with its signed checkpoints and cosignatures
(:mod:`ledger.store.checkpoints`), plus what needs all of them: the tables' creation and the audit bundle of one
object. Checking a live database end to end is :func:`ledger.store.verify_log.verify_log`; the checks themselves,
which import no storage, are in :mod:`ledger.log`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.sql import SQL, Identifier

from ledger.log.audit import BUNDLE_FORMAT
from ledger.log.checkpoint import VerifierKey
from ledger.store.checkpoints import CheckpointStore
from ledger.store.tables import CHECKPOINTS, COSIGNATURES, EVENTS, TREE_NODES
from ledger.store.tree import EXTEND_FUNCTION, TREE_LOCK


class BundleUnavailable(Exception):
    """No bundle can be written for the object asked (no events, or no checkpoint covers them)."""


def _schema() -> sql.Composed:
    """The tree's nodes, the checkpoints and the cosignatures: append-only (triggers refuse UPDATE, DELETE and
    TRUNCATE), and the nodes written only by the owner's ``ledger_tree_nodes_extend()``, which hashes them in the
    database from the leaves the log holds."""
    tables = {"nodes": TREE_NODES, "checkpoints": CHECKPOINTS, "cosignatures": COSIGNATURES}
    names = {key: Identifier(table) for key, table in tables.items()}
    triggers = {
        f"{key}_{suffix}": Identifier(f"{table}_{suffix}")
        for key, table in tables.items()
        for suffix in ("no_change", "no_truncate")
    }
    return SQL("""
CREATE TABLE IF NOT EXISTS {nodes} (
    level smallint NOT NULL CHECK (level >= 1),
    idx bigint NOT NULL CHECK (idx >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS {checkpoints} (
    tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
    root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
    origin text NOT NULL,
    key_name text NOT NULL,
    note text NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE OR REPLACE FUNCTION {refuse}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
USING ERRCODE = 'insufficient_privilege'; END $$;
CREATE OR REPLACE TRIGGER {checkpoints_no_change} BEFORE UPDATE OR DELETE ON {checkpoints}
FOR EACH ROW EXECUTE FUNCTION {refuse}();
CREATE OR REPLACE TRIGGER {checkpoints_no_truncate} BEFORE TRUNCATE ON {checkpoints}
FOR EACH STATEMENT EXECUTE FUNCTION {refuse}();
CREATE TABLE IF NOT EXISTS {cosignatures} (
    tree_size bigint NOT NULL CHECK (tree_size >= 0),
    witness text NOT NULL,
    key_id bytea NOT NULL CHECK (length(key_id) = 4),
    line text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tree_size, witness, key_id)
);
CREATE OR REPLACE TRIGGER {cosignatures_no_change} BEFORE UPDATE OR DELETE ON {cosignatures}
FOR EACH ROW EXECUTE FUNCTION {refuse}();
CREATE OR REPLACE TRIGGER {cosignatures_no_truncate} BEFORE TRUNCATE ON {cosignatures}
FOR EACH STATEMENT EXECUTE FUNCTION {refuse}();
CREATE OR REPLACE FUNCTION {extend}() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE built bigint; target bigint; lvl integer := 1;
BEGIN
    PERFORM pg_advisory_xact_lock({tree_lock});
    SELECT coalesce(max(idx) + 1, 0) * 2 INTO built FROM {nodes} WHERE level = 1;
    SELECT coalesce(max(leaf_index) + 1, 0) INTO target FROM {events};
    IF target <= built + 1 THEN RETURN target; END IF;
    INSERT INTO {nodes} (level, idx, hash)
        SELECT 1, l.leaf_index / 2, sha256('\x01'::bytea || l.leaf_hash || r.leaf_hash)
        FROM {events} l JOIN {events} r ON r.leaf_index = l.leaf_index + 1
        WHERE l.leaf_index >= built AND r.leaf_index < target AND l.leaf_index % 2 = 0;
    LOOP
        lvl := lvl + 1;
        EXIT WHEN (target >> lvl) = 0;
        INSERT INTO {nodes} (level, idx, hash)
            SELECT lvl, a.idx / 2, sha256('\x01'::bytea || a.hash || b.hash)
            FROM {nodes} a JOIN {nodes} b ON b.level = a.level AND b.idx = a.idx + 1
            WHERE a.level = lvl - 1 AND a.idx % 2 = 0 AND a.idx >= 2 * (built >> lvl) AND a.idx < 2 * (target >> lvl);
    END LOOP;
    RETURN target;
END $$;
REVOKE ALL ON FUNCTION {extend}() FROM PUBLIC;
CREATE OR REPLACE TRIGGER {nodes_no_change} BEFORE UPDATE OR DELETE ON {nodes}
FOR EACH ROW EXECUTE FUNCTION {refuse}();
CREATE OR REPLACE TRIGGER {nodes_no_truncate} BEFORE TRUNCATE ON {nodes}
FOR EACH STATEMENT EXECUTE FUNCTION {refuse}();
""").format(
        **names,
        **triggers,
        events=Identifier(EVENTS),
        refuse=Identifier(f"{CHECKPOINTS}_refuse_change"),
        extend=Identifier(EXTEND_FUNCTION),
        tree_lock=sql.Literal(TREE_LOCK),
    )


SCHEMA = _schema()
_OBJECT_EVENTS = SQL(
    "SELECT leaf_index, originator_version, topic, state, leaf_hash, recorded_at, effective_on, "
    "principal_id, principal_role, principal_org FROM {} WHERE originator_id = %s ORDER BY originator_version"
).format(Identifier(EVENTS))


class TransparencyLog(CheckpointStore):
    """The Merkle tree and checkpoints of one ledger database."""

    def create_tables(self) -> None:
        with self._connect() as conn, conn.transaction():
            conn.execute(self._lock_tree, (TREE_LOCK,))  # concurrent starts create once
            conn.execute(SCHEMA)

    def export_bundle(
        self, verifier: VerifierKey, object_id: UUID, *, progress: Callable[[int, int], object] | None = None
    ) -> dict[str, Any]:
        """The audit bundle of one aggregate (a project, an agency, …) for :func:`ledger.log.audit.verify_bundle`:
        its events, each with an inclusion proof against a checkpoint covering them all — signed now if none does
        yet, and cosigned by the configured witnesses that answer (their cosignatures travel in the note).
        ``progress(done, total)`` is told of each event's proof as it is made."""
        with self._connect() as conn:
            rows = conn.execute(_OBJECT_EVENTS, (object_id,)).fetchall()
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
        events: list[dict[str, Any]] = []
        proofs: list[list[bytes]] = []
        for row in rows:
            if len(proofs) == len(events):  # the proofs of the next thousand events, fetched together
                proofs += self.inclusion_proofs(
                    [int(later[0]) for later in rows[len(events) : len(events) + 1000]], size
                )
            index, version, topic, state, digest, recorded_at, effective_on, pid, role, org = row
            proof = proofs[len(events)]
            events.append(
                {
                    "leaf_index": index,
                    "originator_version": version,
                    "topic": topic,
                    "state": base64.b64encode(bytes(state)).decode("ascii"),
                    "leaf_hash": bytes(digest).hex(),
                    "recorded_at": recorded_at.isoformat(),
                    "effective_on": None if effective_on is None else effective_on.isoformat(),
                    "principal": {"id": pid, "role": role, "organisation": org},
                    "inclusion_proof": [node.hex() for node in proof],
                }
            )
            if progress is not None:
                progress(len(events), len(rows))
        bundle = {
            "format": BUNDLE_FORMAT,
            "origin": self.origin,
            "object_id": str(object_id),
            "verifier_key": verifier.to_string(),
            "checkpoint": self.cosigned_note(latest),
            "events": events,
        }
        recorded = [rotation for rotation in self.key_rotations() if rotation.leaf_index < size]
        rotation_proofs = (
            self.inclusion_proofs([rotation.leaf_index for rotation in recorded], size) if recorded else []
        )
        rotations = [  # the chain of keys up to the checkpoint's, for an auditor who pinned an earlier one
            {**rotation.to_json(), "inclusion_proof": [node.hex() for node in proof]}
            for rotation, proof in zip(recorded, rotation_proofs, strict=True)
        ]
        if rotations:
            bundle["key_rotations"] = rotations
        return bundle
