"""bench_integrity's measurements, each beside its baseline: reading the whole log (raw COPY, verify_log's own
reader, the row checks and tree hashing in memory), verification with the snapshots' authenticators, deep
verification beside the bare library's replay, proofs beside an indexed SELECT, and the append cost of the chain
(see :mod:`bench.bench_integrity`)."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.application import Repository
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg_pool import ConnectionPool

from bench.common import (
    Clock,
    RawEvents,
    Series,
    Timing,
    alternating,
    checkpoint,
    datastore_for,
    interleave_alternating,
    time_calls,
    timed,
)
from bench.sample import EventSource, rows_of
from ledger.application.ledger import Ledger
from ledger.application.replay import replay_all
from ledger.log import merkle
from ledger.log.checkpoint import SigningKey, StoredCheckpoint, VerifierKey, verify_checkpoint
from ledger.log.integrity import GENESIS_CHAIN_HASH, leaf_hash, snapshot_message
from ledger.log.rows import EARLIEST, check_rows_native, check_rows_python
from ledger.log.verifier import VerifyPolicy, chunk_size
from ledger.store.copy_reader import copy_out, verifier_connection
from ledger.store.recorder import LedgerRecorder
from ledger.store.snapshots import SnapshotAuthenticator
from ledger.store.tlog import TransparencyLog
from ledger.store.verify_log import verify_log

ORIGIN = "bench.example/jixiao-integrity"
WARMUP_CALLS = 20

# The columns verify_log streams, in its order.
RAW_COLUMNS = "leaf_index, recorded_at, leaf_hash, chain_hash, originator_id, originator_version, topic, state"
RAW_COPY = f"COPY (SELECT {RAW_COLUMNS} FROM ledger_events ORDER BY leaf_index) TO STDOUT (FORMAT BINARY)"
RAW_COPY_TYPES = ["int8", "timestamptz", "bytea", "bytea", "uuid", "int8", "text", "bytea"]
RAW_SELECT = "SELECT leaf_hash FROM ledger_events WHERE leaf_index = %s"


# ---------------------------------------------------------------------------------------------- reading the log


def raw_copy(url: str, *, parse: bool = True) -> int:
    """Read every row of the log with a binary COPY, doing nothing with them; return how many rows (parsed) or
    bytes (``parse=False``: the data blocks as the server streams them, no row parsing)."""
    count = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur, cur.copy(RAW_COPY) as copy:
        if parse:
            copy.set_types(RAW_COPY_TYPES)
            for _ in copy.rows():
                count += 1
        else:
            for block in copy:
                count += len(block)
    return count


_raw_connection: psycopg.Connection[tuple[Any, ...]] | None = None  # a raw reader process's own connection


def raw_connect(url: str) -> None:
    global _raw_connection
    _raw_connection = psycopg.connect(url, autocommit=True)


def raw_copy_range(start: int, end: int) -> int:
    """Read leaves ``[start, end)`` with a binary COPY of verify_log's columns, data blocks only; return the rows."""
    assert _raw_connection is not None
    blocks = 0
    with (
        _raw_connection.cursor() as cur,
        cur.copy(
            f"COPY (SELECT {RAW_COLUMNS} FROM ledger_events WHERE leaf_index >= {int(start)} "
            f"AND leaf_index < {int(end)} ORDER BY leaf_index) TO STDOUT (FORMAT BINARY)"
        ) as copy,
    ):
        for _ in copy:
            blocks += 1
    return blocks - 1  # the trailer is a block of its own; the header comes with the first row


def raw_copy_range_libpq(start: int, end: int) -> int:
    """As :func:`raw_copy_range`, read by verify_log's own reader (libpq directly, in batches); return the rows."""
    assert _raw_connection is not None
    query = (
        f"COPY (SELECT {RAW_COLUMNS} FROM ledger_events WHERE leaf_index >= {int(start)} "
        f"AND leaf_index < {int(end)} ORDER BY leaf_index) TO STDOUT (FORMAT BINARY)"
    )
    return sum(len(batch) for batch in copy_out(_raw_connection, query)) - 1  # less the trailer


def raw_copy_parallel(url: str, size: int, processes: int, *, libpq: bool = False) -> int:
    """The whole log read as verify_log reads it — its chunks, ``processes`` at a time, one connection per process,
    process start-up included — doing nothing with the rows; by psycopg's ``Copy`` or (``libpq``) by verify_log's
    own reader."""
    step = chunk_size(size, processes)
    chunks = [(lo, min(lo + step, size)) for lo in range(0, size, step)]
    with ProcessPoolExecutor(
        max_workers=max(1, min(processes, len(chunks))), initializer=raw_connect, initargs=(url,)
    ) as pool:
        return sum(pool.map(raw_copy_range_libpq if libpq else raw_copy_range, *zip(*chunks, strict=True)))


@dataclass(frozen=True)
class Ceiling:
    """One implementation's work on one core over rows held in memory: verify_log's work less reading them."""

    rows: int
    check_seconds: float  # every row checked as verify_log's workers check it: shape, index, leaf, chain, time
    tree_seconds: float  # the perfect levels over every leaf hash (the tree hashing verify_log's workers do)


def hashing_ceilings(url: str, rows: int, accelerators: Sequence[bool]) -> dict[bool, Ceiling]:
    """Each implementation's row checks and tree hashing on one core over the log's first ``rows`` rows (as the
    verification COPY sends them), held in memory."""
    with verifier_connection(url) as conn:
        data = [
            bytes(row)
            for batch in copy_out(
                conn,
                f"COPY (SELECT {RAW_COLUMNS} FROM ledger_events WHERE "
                f"leaf_index < {int(rows)} ORDER BY leaf_index) TO "
                "STDOUT (FORMAT BINARY)",
            )
            for row in batch
        ]
    perf = time.perf_counter
    ceilings: dict[bool, Ceiling] = {}
    for accelerator in accelerators:
        gc.collect()
        before = perf()
        if accelerator:
            failure, checked, packed = check_rows_native([data], 0, GENESIS_CHAIN_HASH, EARLIEST)
        else:
            failure, checked, leaves = check_rows_python(data, 0, GENESIS_CHAIN_HASH, EARLIEST)
        check_seconds = perf() - before
        if failure is not None or checked != rows:
            raise RuntimeError(f"rows held in memory failed their check: {failure}")
        gc.collect()
        before = perf()
        if accelerator:
            merkle.perfect_levels_packed(packed, accelerator=True)
        else:
            merkle.perfect_levels(leaves, accelerator=False)
        ceilings[accelerator] = Ceiling(rows, check_seconds, perf() - before)
    return ceilings


# ---------------------------------------------------------------------------- snapshot authentication


def measure_snapshot_verify(
    url: str, key: SigningKey, size: int, snapshots: int, workers: int, accelerator: bool, rounds: int, clock: Clock
) -> tuple[Timing, Timing]:
    """verify_log without the snapshots' check (today's verify) and with it, alternating, same workers and
    implementation; returns (without, with)."""
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for r in range(rounds):
        for check in alternating((False, True), r):
            gc.collect()
            report = verify_log(
                url,
                key.verifier,
                origin=ORIGIN,
                workers=workers,
                accelerator=accelerator,
                policy=VerifyPolicy(snapshots=check),
            )
            expected = snapshots if check else 0
            if not report.ok or report.events != size or report.snapshots != expected:
                raise RuntimeError(
                    f"verification with snapshots={check} failed or checked {report.snapshots} "
                    f"snapshots, expected {expected}: {report.failures[:3]}"
                )
            seconds[check].append(report.seconds)
            clock.say(f"  verify_log snapshots={check}, {snapshots:,} stored: {report.rate:,.0f} events/s")
    return Timing.of(seconds[False], size), Timing.of(seconds[True], size)


@dataclass(frozen=True)
class SignatureCosts:
    """The Ed25519 work on one snapshot, on one core: as the ledger does it, and the bare primitives beside."""

    state_bytes: int
    sign: Timing  # SnapshotAuthenticator.sign: what the snapshot thread does per snapshot
    check: Timing  # SnapshotAuthenticator.check: what a load does per snapshot
    verify: Timing  # snapshot_message + VerifierKey.verify: what verify_log's workers do per snapshot
    message: Timing  # snapshot_message alone (the SHA-256 of the state)
    bare_sign: Timing  # cryptography's Ed25519PrivateKey.sign, the key object made once
    bare_verify: Timing  # cryptography's Ed25519PublicKey.verify, the key object made once


def signature_costs(url: str, key: SigningKey, calls: int) -> SignatureCosts:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT s.originator_id, s.originator_version, s.topic, s.state, s.authenticator, "
            "e.chain_hash FROM ledger_snapshots s JOIN ledger_events e ON e.originator_id = "
            "s.originator_id AND e.originator_version = s.originator_version LIMIT 1"
        ).fetchone()
    assert row is not None
    stored = StoredEvent(row[0], int(row[1]), row[2], bytes(row[3]))
    authenticator, chain = bytes(row[4]), bytes(row[5])
    signer = SnapshotAuthenticator(key)
    checker = SnapshotAuthenticator(None, [key.verifier])
    verifier = key.verifier
    message = snapshot_message(row[0], int(row[1]), row[2], stored.state, chain)
    private, public = (
        Ed25519PrivateKey.from_private_bytes(key.seed),
        Ed25519PublicKey.from_public_bytes(verifier.public_key),
    )
    signature = authenticator[4:]
    if checker.check(stored, chain, authenticator) is not None or not verifier.verify(message, signature):
        raise RuntimeError("the stored snapshot's authenticator does not verify")

    def as_verify_log(_: int) -> bool:
        return verifier.verify(snapshot_message(row[0], int(row[1]), row[2], stored.state, chain), signature)

    def bare_verify(_: int) -> None:
        public.verify(signature, message)

    warmup = WARMUP_CALLS
    return SignatureCosts(
        state_bytes=len(stored.state),
        sign=time_calls(lambda _: signer.sign(stored, chain), calls, warmup=warmup),
        check=time_calls(lambda _: checker.check(stored, chain, authenticator), calls, warmup=warmup),
        verify=time_calls(as_verify_log, calls, warmup=warmup),
        message=time_calls(
            lambda _: snapshot_message(row[0], int(row[1]), row[2], stored.state, chain), calls, warmup=warmup
        ),
        bare_sign=time_calls(lambda _: private.sign(message), calls, warmup=warmup),
        bare_verify=time_calls(bare_verify, calls, warmup=warmup),
    )


def extra_per_snapshot(without: Timing, with_check: Timing, snapshots: int, workers: int) -> float:
    """Seconds the snapshots' check added per snapshot, times the processes that shared it (≈ CPU per snapshot)."""
    extra = with_check.elapsed / with_check.calls - without.elapsed / without.calls
    return extra * max(workers, 1) / snapshots


# --------------------------------------------------------------------------------------- 2c. verify --deep

# A bare-replay process's repository: eventsourcing's own, over the ledger's event store (its mapper and recorder),
# with no snapshot store and no cache.
_bare_ledger: Ledger | None = None
_bare_repository: Repository[UUID] | None = None


def bare_connect(url: str) -> None:
    global _bare_ledger, _bare_repository
    _bare_ledger = Ledger(url, create_schema=False)  # without a key: it trusts no snapshot
    _bare_repository = Repository(_bare_ledger.events)


def bare_replay(ids: Sequence[UUID]) -> int:
    """Replay each aggregate from its events with the library's ``Repository.get``; return the events replayed."""
    assert _bare_repository is not None
    return sum(_bare_repository.get(originator_id).version for originator_id in ids)


def bare_replay_all(url: str, ids: Sequence[UUID], processes: int) -> int:
    """Every aggregate in ``ids`` replayed by the bare library in ``processes`` processes (process start-up
    included, as in replay_all), over as many parts as replay_all splits the log into."""
    parts = max(1, 4 * processes)
    chunks = [list(ids[i::parts]) for i in range(parts)]
    if processes == 0:
        bare_connect(url)
        return sum(bare_replay(chunk) for chunk in chunks)
    with ProcessPoolExecutor(max_workers=processes, initializer=bare_connect, initargs=(url,)) as pool:
        return sum(pool.map(bare_replay, chunks))


def measure_deep(
    url: str, size: int, snapshots: int, workers: int, rounds: int, clock: Clock
) -> tuple[Timing, Timing, int]:
    """``replay_all`` and the bare library's replay of the same aggregates, alternating; returns (deep, bare,
    aggregates)."""
    with psycopg.connect(url) as conn:
        ids: list[UUID] = [row[0] for row in conn.execute("SELECT DISTINCT originator_id FROM ledger_events")]
    seconds: dict[str, list[float]] = {"deep": [], "bare": []}
    for r in range(rounds):
        for name in alternating(("deep", "bare"), r):
            if name == "deep":
                elapsed, report = timed(lambda: replay_all(url, workers=workers))
                if not report.ok or report.events != size or report.snapshots != snapshots:
                    raise RuntimeError(
                        f"verify --deep: {report.events} events, {report.snapshots} snapshots "
                        f"compared (expected {size}, {snapshots}): {report.failures[:3]}"
                    )
                if report.aggregates != len(ids):
                    raise RuntimeError(f"verify --deep replayed {report.aggregates} aggregates, expected {len(ids)}")
            else:
                elapsed, events = timed(lambda: bare_replay_all(url, ids, workers))
                if events != size:
                    raise RuntimeError(f"the bare replay read {events} events, expected {size}")
            seconds[name].append(elapsed)
            clock.say(f"  {name} replay, {workers} processes: {size / elapsed:,.0f} events/s")
    return Timing.of(seconds["deep"], size), Timing.of(seconds["bare"], size), len(ids)


# ------------------------------------------------------------------------------------------------- 3. proofs


@dataclass
class ProofRun:
    timings: list[Timing]  # raw SELECT, inclusion, consistency
    checked: int  # proofs verified against signed or recomputed roots
    failed: int


def measure_proofs(
    url: str, size: int, proofs: int, rounds: int, signed: Sequence[StoredCheckpoint], verifier: VerifierKey, seed: int
) -> ProofRun:
    rng = random.Random(seed)
    calls = WARMUP_CALLS + proofs
    indexes = [rng.randrange(size) for _ in range(calls)]
    olds = [rng.randrange(1, size) for _ in range(calls)]
    log = TransparencyLog(url, origin=ORIGIN)
    pool: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
        url, min_size=1, max_size=4, open=True, name="bench-raw"
    )
    inclusions: dict[int, list[bytes]] = {}
    consistencies: dict[int, list[bytes]] = {}
    try:

        def raw_select(i: int) -> None:
            with pool.connection() as conn:
                conn.execute(RAW_SELECT, (indexes[i],), prepare=True).fetchone()

        def inclusion(i: int) -> None:
            inclusions[i] = log.inclusion_proof(indexes[i], size)

        def consistency(i: int) -> None:
            consistencies[i] = log.consistency_proof(olds[i], size)

        series = [Series(raw_select), Series(inclusion), Series(consistency)]
        for item in series:
            item.warm(WARMUP_CALLS)
        timings = interleave_alternating(series, proofs, rounds=rounds)

        # Every proof checked: inclusion of the leaf hash recomputed from the row's own bytes under the signed root
        # of size N; consistency from the tree at the old size (its root from the stored nodes) to the signed root.
        roots = {item.column_size: verify_checkpoint(item.note, verifier, ORIGIN).root_hash for item in signed}
        root = roots[size]
        with psycopg.connect(url) as conn:
            contents = {
                int(index): leaf_hash(originator_id, version, topic, bytes(state))
                for index, originator_id, version, topic, state in conn.execute(
                    "SELECT leaf_index, originator_id, originator_version, topic, state FROM ledger_events "
                    "WHERE leaf_index = ANY(%s)",
                    (sorted(set(indexes)),),
                )
            }
        checked = failed = 0
        for i, proof in inclusions.items():
            checked += 1
            failed += not merkle.verify_inclusion(contents[indexes[i]], indexes[i], size, proof, root)
        for i, proof in consistencies.items():
            old = olds[i]
            old_root = roots[old] if old in roots else log.root(old)
            checked += 1
            failed += not merkle.verify_consistency(old, size, old_root, root, proof)
        for old, old_root in roots.items():  # between the signed checkpoints themselves
            if old < size:
                checked += 1
                failed += not merkle.verify_consistency(old, size, old_root, root, log.consistency_proof(old, size))
    finally:
        pool.close()
        log.close()
    return ProofRun(timings, checked, failed)


# -------------------------------------------------------------------------------------------- 4. append cost


class UnchainedRecorder(LedgerRecorder):
    """``LedgerRecorder`` with only the chain left out: the same table, columns, indexes, Python work (leaf hashes,
    readable columns) and append function, except that it does not fold the chain (the leaf hash is stored in its
    place, so rows keep their size). What it costs beside ``LedgerRecorder`` is the chain's own cost; what the bare
    library's recorder saves beside it is the rest of the integrity log."""

    chain_step = "leaf_hashes[i]"


def measure_append_cost(
    url: str, source: EventSource, singles: int, batches: int, batch_size: int, rounds: int
) -> tuple[list[Timing], list[Timing]]:
    """Raw, plain, unchained and chain appends of the same events into fresh tables: one per transaction, then in
    batches."""
    datastore = datastore_for(url)
    chain = LedgerRecorder(datastore, events_table_name="bench_chain_events")
    unchained = UnchainedRecorder(datastore, events_table_name="bench_unchained_events")
    plain = PostgresApplicationRecorder(datastore, events_table_name="bench_plain_events")
    raw_single = RawEvents(url, "bench_raw_single")
    raw_batched = RawEvents(url, "bench_raw_batched")
    try:
        chain.create_table()
        unchained.create_table()
        plain.create_table()
        one = source.take(WARMUP_CALLS + singles)
        one_rows = rows_of(one)
        many = [source.take(batch_size) for _ in range(2 + batches)]
        many_rows = [rows_of(events) for events in many]

        single_series = [
            Series(lambda i: raw_single.insert_one(*one_rows[i])),
            Series(lambda i: plain.insert_events([one[i]])),
            Series(lambda i: unchained.insert_events([one[i]])),
            Series(lambda i: chain.insert_events([one[i]])),
        ]
        for item in single_series:
            item.warm(WARMUP_CALLS)
        single = interleave_alternating(single_series, singles, rounds=rounds, before_round=lambda: checkpoint(url))

        batch_series = [
            Series(lambda i: raw_batched.insert_rows(many_rows[i]), units_per_call=batch_size),
            Series(lambda i: plain.insert_events(many[i]), units_per_call=batch_size),
            Series(lambda i: unchained.insert_events(many[i]), units_per_call=batch_size),
            Series(lambda i: chain.insert_events(many[i]), units_per_call=batch_size),
        ]
        for item in batch_series:
            item.warm(2)
        batched = interleave_alternating(batch_series, batches, rounds=rounds, before_round=lambda: checkpoint(url))
    finally:
        raw_single.close()
        raw_batched.close()
        datastore.close()
    return single, batched
