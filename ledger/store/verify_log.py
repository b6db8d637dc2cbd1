"""``verify_log``: the live log checked end to end without trusting the database — every leaf hash from the row's
bytes, the hash chain, the Merkle root of every stored checkpoint, every signature, consistency between consecutive
checkpoints and with checkpoints kept outside, the anchoring checkpoint's witnesses and every snapshot's
authenticator; it names the first leaf or checkpoint that fails.

This module only reads: it streams the rows to worker processes (:mod:`ledger.store.copy_reader`) and hands them,
with the stored checkpoints and cosignatures, to the checks of :mod:`ledger.log.rows` and
:mod:`ledger.log.verifier`, which import no storage.
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime
from typing import Any, TypeAlias
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.sql import SQL, Identifier

from ledger.log import merkle, speedups
from ledger.log.checkpoint import VerifierKey
from ledger.log.rotation import KeySchedule, RotationError, follow_chain
from ledger.log.rows import COLUMNS, ChunkResult, check_chunk
from ledger.log.verifier import (
    VerificationReport,
    VerifyPolicy,
    check_anchor,
    check_checkpoints,
    check_kept,
    check_snapshot,
    chunk_size,
    combine_roots,
    parse_kept,
)
from ledger.store.checkpoints import CHECKPOINT_COLUMNS, stored_checkpoint
from ledger.store.copy_reader import copy_out, verifier_connection
from ledger.store.key_rotations import read_rotations
from ledger.store.tables import CHECKPOINTS, COSIGNATURES, EVENTS, SNAPSHOTS

Connection: TypeAlias = psycopg.Connection[tuple[Any, ...]]

_events, _snapshots = Identifier(EVENTS), Identifier(SNAPSHOTS)
_EXISTS = SQL("SELECT to_regclass(%s) IS NOT NULL")
_CHECKPOINTS = SQL("SELECT {} FROM {} ORDER BY tree_size").format(CHECKPOINT_COLUMNS, Identifier(CHECKPOINTS))
_COSIGNATURES = SQL("SELECT tree_size, line FROM {} ORDER BY received_at").format(Identifier(COSIGNATURES))
_HEAD = SQL("SELECT coalesce(max(leaf_index) + 1, 0), clock_timestamp() FROM {}").format(_events)
_RECORDED_AT = SQL("SELECT leaf_index, recorded_at FROM {} WHERE leaf_index = ANY(%s)").format(_events)
_RECORDED_AT_ONE = SQL("SELECT recorded_at FROM {} WHERE leaf_index = %s").format(_events)
_SNAPSHOT_COUNT = SQL("SELECT count(*) FROM {}").format(_snapshots)
# The leaves [lo, hi) as verification reads them: a binary COPY (bound parameters have no place in one), so the two
# positions are composed in as literals, always integers.
_CHUNK = SQL(
    "COPY (SELECT {columns} FROM {events} WHERE leaf_index >= {lo} AND leaf_index < {hi} "
    "ORDER BY leaf_index) TO STDOUT (FORMAT BINARY)"
)
_COLUMNS = SQL(", ").join(map(Identifier, COLUMNS))
# The leaf's chain hash by a subquery per snapshot, which PostgreSQL always answers from the log's primary key: as a
# join it may plan a hash join that reads all of the log once per range — a second scan of the whole log, several
# times over, to find a few thousand rows (bench_integrity: 0.68x of verify without snapshots at 2 per 1,000 events
# as a join, 0.89x as a subquery).
_SNAPSHOTS = SQL(
    "SELECT s.originator_id, s.originator_version, s.topic, s.state, s.authenticator, "
    "(SELECT e.chain_hash FROM {events} e WHERE e.originator_id = s.originator_id "
    "AND e.originator_version = s.originator_version) "
    "FROM {snapshots} s WHERE s.originator_id >= %s"
).format(snapshots=_snapshots, events=_events)
_SNAPSHOTS_BELOW = SQL("{} AND s.originator_id < %s").format(_SNAPSHOTS)


def _key_schedule(conn: Connection, key: VerifierKey, origin: str | None, report: VerificationReport) -> KeySchedule:
    """The log's keys from ``key`` on, as its recorded rotations hand it over (a rotation that does not follow is a
    failure, and the keys after it are not trusted)."""
    try:
        return follow_chain(key, read_rotations(conn), origin)
    except RotationError as error:
        report.failures.append(str(error))
        return error.valid or KeySchedule((key,))


def chunk_query(start: int, end: int) -> sql.Composed:
    """The binary COPY of leaves [start, end) with the row before them (whose chain hash the first one follows)."""
    return _CHUNK.format(
        columns=_COLUMNS, events=_events, lo=sql.Literal(int(max(start - 1, 0))), hi=sql.Literal(int(end))
    )


def verify_log(
    database_url: str,
    key: VerifierKey,
    *,
    origin: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], object] | None = None,
    chunk: int | None = None,
    accelerator: bool | None = None,
    policy: VerifyPolicy | None = None,
) -> VerificationReport:
    """Check the live log end to end. Trusts nothing in the database but reads its rows.

    ``workers`` processes (default: one per core; 0 = all in this process) each fully check chunks of ``chunk``
    leaves (a power of two; by default chosen from the log's size) and hash the Merkle tree above them, and check
    the authenticators of a share of the snapshots (``progress(done, total)`` is told of each chunk of leaves as it
    is checked); this process combines the chunks' roots into the root at every
    stored (and kept) checkpoint and checks the checkpoints against ``policy``. ``accelerator`` chooses the
    implementation of the rows' checks and the tree's hashing, as in :mod:`ledger.log.speedups` (None: the C
    accelerator when built, unless ``JIXIAO_PURE_PYTHON=1``); the report names the one that ran.
    """
    if chunk is not None and (chunk < 1 or chunk & (chunk - 1)):
        raise ValueError(f"chunk must be a power of two, not {chunk}")
    policy = policy or VerifyPolicy()
    native = speedups.use_native(accelerator)
    report = VerificationReport(implementation=speedups.describe(native))
    started = time.perf_counter()
    with psycopg.connect(database_url) as conn:
        schedule = _key_schedule(conn, key, origin, report)
        report.rotations = len(schedule.leaves)
        keys = schedule.keys
        kept = parse_kept(policy.kept, schedule, origin, report)
        stored = (
            [stored_checkpoint(row) for row in conn.execute(_CHECKPOINTS).fetchall()]
            if _exists(conn, CHECKPOINTS)
            else []
        )
        cosigned = _stored_cosignatures(conn) if _exists(conn, COSIGNATURES) else {}
        head = conn.execute(_HEAD).fetchone()
        assert head is not None
        size, now = int(head[0]), head[1]
        sizes = sorted(
            {item.column_size for item in stored if 0 < item.column_size <= size}
            | {checkpoint.size for _, checkpoint in kept if 0 < checkpoint.size <= size}
        )
        recorded_by = {int(index) + 1: when for index, when in conn.execute(_RECORDED_AT, ([s - 1 for s in sizes],))}
        snapshot_ranges = _snapshot_ranges(conn, workers) if policy.snapshots and _exists(conn, SNAPSHOTS) else []
    count = workers if workers is not None else (os.cpu_count() or 1)
    if chunk is None:
        chunk = chunk_size(size, count)
    chunks = [(lo, min(lo + chunk, size)) for lo in range(0, size, chunk)]
    inside = {lo: sizes[bisect.bisect_right(sizes, lo) : bisect.bisect_right(sizes, hi)] for lo, hi in chunks}
    results: dict[int, ChunkResult] = {}
    snapshot_results: list[tuple[int, list[str]]] = []
    done = 0
    if progress is not None:
        progress(0, size)

    def finished(lo: int, hi: int, result: ChunkResult) -> None:
        nonlocal done
        results[lo] = result
        done += hi - lo
        if progress is not None:
            progress(done, size)

    if count > 0 and (chunks or snapshot_ranges):
        pool = ProcessPoolExecutor(
            max_workers=max(1, min(count, len(chunks) + len(snapshot_ranges))),
            initializer=_connect_worker,
            initargs=(database_url,),
        )
        try:
            futures: dict[Any, tuple[int, int] | None] = {
                pool.submit(_check_chunk_in_worker, lo, hi, inside[lo], native): (lo, hi) for lo, hi in chunks
            }
            futures.update({pool.submit(_check_snapshots_in_worker, lo, hi, keys): None for lo, hi in snapshot_ranges})
            for future in as_completed(futures):
                where = futures[future]
                if where is None:
                    snapshot_results.append(future.result())
                else:
                    finished(*where, future.result())
        finally:
            pool.shutdown(cancel_futures=True)
    elif chunks or snapshot_ranges:
        with verifier_connection(database_url) as conn:
            for lo, hi in chunks:
                finished(lo, hi, check_chunk(copy_out(conn, chunk_query(lo, hi)), lo, hi, inside[lo], native))
            snapshot_results = [_check_snapshots(conn, lo, hi, keys) for lo, hi in snapshot_ranges]
    failures = sorted(result.failure for result in results.values() if result.failure is not None)
    if failures:
        index, message = failures[0]
        report.failures.append(f"leaf {index}: {message}")
    found = combine_roots(sizes, chunk, results.values(), native)
    if 0 in {item.column_size for item in stored}:
        found[0] = merkle.EMPTY_ROOT
    verified = check_checkpoints(stored, found, recorded_by, schedule, origin, report)
    check_kept(kept, verified, found, size, report)
    check_anchor(verified, cosigned, policy, size, now, report, lambda index: _recorded_at(database_url, index))
    for checked, snapshot_failures in snapshot_results:
        report.snapshots += checked
        report.failures.extend(snapshot_failures[:10])
    report.events = size
    report.seconds = time.perf_counter() - started
    return report


def _exists(conn: Connection, table: str) -> bool:
    row = conn.execute(_EXISTS, (table,)).fetchone()
    return bool(row and row[0])


def _stored_cosignatures(conn: Connection) -> dict[int, list[str]]:
    lines: dict[int, list[str]] = {}
    for size, line in conn.execute(_COSIGNATURES):
        lines.setdefault(int(size), []).append(str(line))
    return lines


def _recorded_at(database_url: str, index: int) -> datetime | None:
    """When leaf ``index`` was recorded (the first one after the anchoring checkpoint)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(_RECORDED_AT_ONE, (index,)).fetchone()
    return row[0] if row else None


# A verification worker process's connection, opened once by the pool's initializer and used for every chunk the
# process checks; it closes with the process.
_worker_connection: Connection | None = None


def _connect_worker(database_url: str) -> None:
    global _worker_connection  # one per worker process, by design
    _worker_connection = verifier_connection(database_url)


def _check_chunk_in_worker(start: int, end: int, sizes: Sequence[int], native: bool) -> ChunkResult:
    assert _worker_connection is not None, "the pool's initializer opens it"
    return check_chunk(copy_out(_worker_connection, chunk_query(start, end)), start, end, sizes, native)


# ------------------------------------------------------------------------------------------------- snapshots


def _snapshot_ranges(conn: Connection, workers: int | None) -> list[tuple[int, int]]:
    """The snapshots split by aggregate id into ranges of about equal count (as 128-bit integers, [lo, hi))."""
    row = conn.execute(_SNAPSHOT_COUNT).fetchone()
    total = int(row[0]) if row else 0
    if total == 0:
        return []
    parts = max(1, min(4 * max(workers or os.cpu_count() or 1, 1), total // 256 or 1))
    step = (1 << 128) // parts
    return [(i * step, (i + 1) * step if i < parts - 1 else 1 << 128) for i in range(parts)]


def _check_snapshots(conn: Connection, lo: int, hi: int, keys: Sequence[VerifierKey]) -> tuple[int, list[str]]:
    """Check the authenticator of every snapshot whose aggregate id falls in [lo, hi) (see
    :func:`ledger.log.verifier.check_snapshot`). Returns (checked, failures)."""
    trusted = {key.key_id: key for key in keys}
    bounds: list[Any] = [UUID(int=lo)]
    query = _SNAPSHOTS
    if hi < 1 << 128:
        query = _SNAPSHOTS_BELOW
        bounds.append(UUID(int=hi))
    failures: list[str] = []
    checked = 0
    # A server-side cursor: snapshots hold whole aggregates, and a range of them must not be held in memory at once.
    with conn.transaction(), conn.cursor("jixiao-verify-snapshots", binary=True) as cur:
        cur.execute(query, bounds)
        while rows := cur.fetchmany(64):
            for originator_id, version, topic, state, authenticator, chain in rows:
                checked += 1
                failure = check_snapshot(
                    originator_id,
                    int(version),
                    topic,
                    bytes(state),
                    None if authenticator is None else bytes(authenticator),
                    None if chain is None else bytes(chain),
                    trusted,
                )
                if failure is not None:
                    failures.append(failure)
    return checked, failures


def _check_snapshots_in_worker(lo: int, hi: int, keys: Sequence[VerifierKey]) -> tuple[int, list[str]]:
    assert _worker_connection is not None, "the pool's initializer opens it"
    return _check_snapshots(_worker_connection, lo, hi, keys)
