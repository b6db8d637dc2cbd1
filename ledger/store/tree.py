"""The Merkle tree over the events table, stored: its leaves, its nodes, roots and proofs at any size.

``ledger_tree_nodes`` stores every complete (perfect, aligned) subtree of level >= 1 as it fills; level 0 is the
events' own ``leaf_hash``. A root or a proof for any tree size then needs O(log n) nodes, fetched in one query per
table (see :mod:`ledger.log.merkle`, which does the hashing). The nodes are derived data: verification
(:mod:`ledger.store.verify_log`) recomputes them from the leaves.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeAlias

import psycopg
from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool

from ledger.log import merkle
from ledger.store.tables import EVENTS, TREE_NODES

TREE_LOCK = 0x6A78_7472  # pg advisory lock id: one tree builder at a time ("jxtr")
EXTEND_FUNCTION = f"{TREE_NODES}_extend"
"""The schema owner's function that hashes the nodes of the leaves appended since it last ran (:mod:`.tlog`)."""

Connection: TypeAlias = psycopg.Connection[tuple[Any, ...]]


class ProofUnavailable(Exception):
    """A proof was asked for a leaf or tree size the log does not have."""


class TreeStore:
    """The leaves and stored nodes of one ledger database's Merkle tree, through a small pool of its own."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            database_url, min_size=1, max_size=4, open=False, name="jixiao-tlog"
        )
        events, nodes = Identifier(EVENTS), Identifier(TREE_NODES)
        self._lock_tree = SQL("SELECT pg_advisory_xact_lock(%s)")
        self._log_size = SQL("SELECT coalesce(max(leaf_index) + 1, 0) FROM {}").format(events)
        self._has_extend = SQL("SELECT to_regprocedure(%s) IS NOT NULL")
        self._extend = SQL("SELECT {}()").format(Identifier(EXTEND_FUNCTION))
        self._leaf_hashes = SQL(
            "SELECT leaf_hash FROM {} WHERE leaf_index >= %s AND leaf_index < %s ORDER BY leaf_index"
        ).format(events)
        self._copy_nodes = SQL("COPY {} (level, idx, hash) FROM STDIN").format(nodes)
        self._last_pair = SQL("SELECT max(idx) FROM {} WHERE level = 1").format(nodes)
        self._leaves_at = SQL("SELECT leaf_index, leaf_hash FROM {} WHERE leaf_index = ANY(%s)").format(events)
        self._nodes_at = SQL(
            "SELECT n.level, n.idx, n.hash FROM {} n JOIN unnest(%s::smallint[], %s::bigint[]) "
            "AS w(level, idx) USING (level, idx)"
        ).format(nodes)
        self._leaf_hash = SQL("SELECT leaf_hash FROM {} WHERE leaf_index = %s").format(events)
        self._leaf = SQL(
            "SELECT originator_id, originator_version, topic, state, leaf_hash, chain_hash, recorded_at "
            "FROM {} WHERE leaf_index = %s"
        ).format(events)

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        if self._pool.closed:  # opened on first use; open(wait=True) again would wait for idle connections
            self._pool.open(wait=True)
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self._pool.close()

    def log_size(self, conn: Connection | None = None) -> int:
        """Leaves in the events table (its head)."""

        def size(c: Connection) -> int:
            row = c.execute(self._log_size).fetchone()
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
            row = conn.execute(self._has_extend, (f"{EXTEND_FUNCTION}()",)).fetchone()
            if row and row[0]:
                built = conn.execute(self._extend).fetchone()
                conn.commit()
                assert built is not None
                return int(built[0])
        with self._connect() as conn, conn.transaction():
            conn.execute(self._lock_tree, (TREE_LOCK,))
            size = self._built_size(conn)
            target = self.log_size(conn)
            if target == size:
                return size
            builder = merkle.TreeBuilder(size, self._fetch_nodes(conn, merkle.TreeBuilder.frontier_nodes(size)))
            new_nodes: list[tuple[int, int, bytes]] = []
            with conn.cursor() as cur:
                cur.execute(self._leaf_hashes, (size, target))
                for (leaf,) in cur:
                    for (level, index), digest in builder.append(bytes(leaf)):
                        if level >= 1:
                            new_nodes.append((level, index, digest))
            if new_nodes:
                with conn.cursor().copy(self._copy_nodes) as copy:
                    for node in new_nodes:
                        copy.write_row(node)
            return builder.size

    def _built_size(self, conn: Connection) -> int:
        """The tree size the stored nodes are complete for.

        Level-1 nodes cover leaf pairs, and every higher node implies the level-1 nodes beneath it, so the last
        level-1 node (an index lookup) gives the covered prefix. A leaf at the next (even) index completes no
        node by itself, so it counts as built as soon as it exists.
        """
        row = conn.execute(self._last_pair).fetchone()
        covered = 0 if row is None or row[0] is None else (int(row[0]) + 1) * 2
        return covered + 1 if self.log_size(conn) > covered else covered

    def _fetch_nodes(self, conn: Connection, wanted: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
        """Fetch perfect nodes in one round trip per table: level 0 from the events, the rest from the nodes."""
        leaves = sorted({index for level, index in wanted if level == 0})
        inner = sorted({(level, index) for level, index in wanted if level >= 1})
        found: dict[merkle.Node, bytes] = {}
        if leaves:
            for index, digest in conn.execute(self._leaves_at, (leaves,)):
                found[(0, int(index))] = bytes(digest)
        if inner:
            for level, index, digest in conn.execute(
                self._nodes_at, ([level for level, _ in inner], [index for _, index in inner])
            ):
                found[(int(level), int(index))] = bytes(digest)
        return found

    def _nodes_for(self, conn: Connection, size: int, wanted: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
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

    def inclusion_proofs(self, indexes: Sequence[int], size: int) -> list[list[bytes]]:
        """The inclusion proofs of many leaves in one tree, in the order asked: one connection and one fetch of every
        node they need, where a proof at a time costs three round trips each (an audit bundle holds a thousand)."""
        with self._connect() as conn:
            self._check_size(conn, size)
            for index in indexes:
                if not 0 <= index < size:
                    raise ProofUnavailable(f"leaf {index} is not in a tree of size {size}")
            wanted = sorted({node for index in indexes for node in merkle.inclusion_proof_nodes(index, size)})
            nodes = self._nodes_for(conn, size, wanted)
            return [merkle.inclusion_proof(index, size, nodes) for index in indexes]

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self._connect() as conn:
            self._check_size(conn, new_size)
            if not 0 <= old_size <= new_size:
                raise ProofUnavailable(f"no consistency proof from size {old_size} to {new_size}")
            nodes = self._nodes_for(conn, new_size, merkle.consistency_proof_nodes(old_size, new_size))
            return merkle.consistency_proof(old_size, new_size, nodes)

    def _check_size(self, conn: Connection, size: int) -> None:
        log_size = self.log_size(conn)
        if not 0 <= size <= log_size:
            raise ProofUnavailable(f"the log has {log_size} leaves; no tree of size {size}")

    def leaf_hash(self, index: int) -> bytes:
        with self._connect() as conn:
            row = conn.execute(self._leaf_hash, (index,)).fetchone()
        if row is None:
            raise ProofUnavailable(f"the log has no leaf {index}")
        return bytes(row[0])

    def leaf(self, index: int) -> dict[str, Any] | None:
        """One leaf exactly as hashed (what ``ledger.log.integrity.leaf_hash`` takes), with its stored hashes."""
        with self._connect() as conn:
            row = conn.execute(self._leaf, (index,)).fetchone()
        if row is None:
            return None
        originator_id, version, topic, state, leaf, chain, recorded_at = row
        return {
            "leaf_index": index,
            "originator_id": str(originator_id),
            "originator_version": version,
            "topic": topic,
            "state": base64.b64encode(bytes(state)).decode("ascii"),
            "leaf_hash": bytes(leaf).hex(),
            "chain_hash": bytes(chain).hex(),
            "recorded_at": recorded_at.isoformat(),
        }
