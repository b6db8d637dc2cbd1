"""The integrity log at scale: full verification (with and without the snapshots' authenticators, and deep), Merkle
proofs and the append cost of the hash chain, beside raw PostgreSQL and the bare library measured in the same run.

    python -m bench.bench_integrity [--events N] [--batch N] [--workers 0,1,2] [--implementations c,python]
                                    [--verify-rounds N] [--snapshots-per-1000 X] [--snapshot-rounds N]
                                    [--deep-workers N] [--deep-rounds N] [--proofs N] [--singles N] [--batches N]
                                    [--batch-size N] [--rounds N] [--seed N]

Measures, on one fresh database:

1. build: an N-event log (default 1,000,000) appended through ``LedgerRecorder.insert_events`` in batches ("bulk
   append": leaf hashes in Python, the chain in SQL), with a raw INSERT … unnest of the same rows beside one batch
   in ten; the tree nodes built by ``TransparencyLog.extend()`` and checkpoints signed at N/2 and N;
2. full verification: ``verify_log`` for each worker count and each implementation (the C accelerator and the
   pure-Python reference, see ``ledger.speedups``), beside a raw binary COPY of the same rows doing nothing else
   (parsed by psycopg's ``rows()``; data blocks only, in one process; data blocks only, in as many processes as the
   most workers measured, over the same chunks, read by psycopg's ``Copy`` and by verify_log's own libpq reader),
   and both implementations' row checks and tree hashing over rows held in memory, on one core;
2b. verification with snapshot authentication: snapshots stored as the ledger stores them (a real snapshot of the
   sample project encoded by the ledger's mapper under a random aggregate's id; ``SnapshotRecorder`` signs it with
   the log's key over the chain hash of its leaf), at a realistic density (``--snapshots-per-1000``) and then the
   worst case (one per 50 events: every aggregate past its 50th event); at each, ``verify_log`` with
   ``VerifyPolicy(snapshots=False)`` (today's verify) and ``snapshots=True``, alternating, with the most workers
   measured and the first implementation; and the Ed25519 work per snapshot on one core;
2c. ``jixiao verify --deep``: ``replay_all`` over the whole log (every aggregate replayed, every snapshot compared),
   beside the bare library's ``Repository.get`` of the same aggregates (no snapshots, no cache), each in
   ``--deep-workers`` processes;
3. proofs at N leaves: inclusion and consistency proofs from random positions (every one verified against the
   signed root), beside one indexed SELECT by primary key through a pooled connection;
4. append cost of the chain: the same events appended through ``LedgerRecorder`` (chain), the same recorder with
   only the chain left out (same table, columns, indexes and statement, chain_hash not folded), and eventsourcing's
   ``PostgresApplicationRecorder`` (the bare library: no integrity columns at all) into fresh tables, one event per
   transaction and in batches, interleaved in rounds with raw INSERTs.

The stored events are real: one project's first 20 events recorded through ``Ledger`` (declared … supervision
notes), reused byte for byte under fresh originator ids, 20 events per originator. Nothing is asserted: the
targets are printed beside the measurements.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from importlib.metadata import version as package_version
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.application import Repository
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import sql
from psycopg_pool import ConnectionPool

from bench.bench_write import (
    CLOCK_NOW,
    DEPARTMENT,
    EFFECTIVE_ON,
    FINANCE,
    SETUP_EVENTS,
    Row,
    add_batch,
    build_project,
    verdict,
)
from bench.common import (
    BenchDatabase,
    RawEvents,
    Series,
    Timing,
    bench_database,
    checkpoint,
    describe_server,
    fmt_ms,
    fmt_rate,
    fmt_ratio,
    interleave_alternating,
    print_table,
    server_settings,
    time_calls,
)
from ledger.application.ledger import Act, Ledger, environment_for
from ledger.application.replay import replay_all
from ledger.log import merkle, speedups
from ledger.log.checkpoint import SigningKey, StoredCheckpoint, VerifierKey, verify_checkpoint
from ledger.log.integrity import GENESIS_CHAIN_HASH, leaf_hash, snapshot_message
from ledger.log.rows import EARLIEST, check_rows_native, check_rows_python
from ledger.log.verifier import VerifyPolicy, chunk_size
from ledger.store.copy_reader import copy_out, verifier_connection
from ledger.store.recorder import LedgerRecorder
from ledger.store.snapshot_recorder import SnapshotRecorder
from ledger.store.snapshots import SnapshotAuthenticator
from ledger.store.tlog import TransparencyLog
from ledger.store.verify_log import verify_log

T = TypeVar("T")

ORIGIN = "bench.example/jixiao-integrity"
KEY_NAME = "bench-integrity"
EVENTS_PER_ORIGINATOR = 20  # the sample project's events: 6 to commission an evaluation, then 14 supervision notes
RAW_BULK_EVERY = 10  # the raw bulk baseline inserts the same rows as one bulk batch in this many
MAX_BATCH = 500  # larger bulk batches can hang: see the --batch help
CEILING_ROWS = 100_000
WARMUP_CALLS = 20
PROGRESS_EVERY = 100_000

IMPLEMENTATION_NAMES = {True: "C", False: "pure Python"}  # verify_log's accelerator=True / False

TARGET_VERIFY_RATE = 250_000.0  # events/s, full verification of 1,000,000 events
TARGET_PROOF_P95_MS = 5.0  # inclusion and consistency proofs at 1,000,000 leaves
TARGET_CHAIN_RATIO = 0.9  # append rate with the chain ÷ without it
TARGET_SNAPSHOT_VERIFY_RATIO = 0.8  # verify rate with the snapshots' authenticators checked ÷ without
WORST_SNAPSHOT_EVERY = 50  # the worst case: a snapshot per 50 events (the ledger's interval) for every aggregate
SNAPSHOT_BATCH = 500  # snapshots stored per transaction while building
SIGNATURE_CALLS = 2000  # timed calls of each Ed25519 measurement

# The columns verify_log streams, in its order.
RAW_COLUMNS = "leaf_index, recorded_at, leaf_hash, chain_hash, originator_id, originator_version, topic, state"
RAW_COPY = f"COPY (SELECT {RAW_COLUMNS} FROM ledger_events ORDER BY leaf_index) TO STDOUT (FORMAT BINARY)"
RAW_COPY_TYPES = ["int8", "timestamptz", "bytea", "bytea", "uuid", "int8", "text", "bytea"]
RAW_SELECT = "SELECT leaf_hash FROM ledger_events WHERE leaf_index = %s"


# ------------------------------------------------------------------------------------------------ plumbing


@dataclass
class Clock:
    """Wall time of the run's phases, and progress lines on stderr (the report goes to stdout)."""

    started: float = field(default_factory=time.perf_counter)
    phases: list[tuple[str, float]] = field(default_factory=list)

    def say(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f}s] {message}", file=sys.stderr, flush=True)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.say(f"{name} …")
        before = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - before
            self.phases.append((name, seconds))
            self.say(f"{name}: {seconds:.1f} s")


def one_call(seconds: float, units: int) -> Timing:
    """A measurement made of a single call doing ``units`` units of work."""
    return Timing(durations=[seconds], elapsed=seconds, units_per_call=units)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds one call of ``fn`` takes (after a garbage collection), and what it returns."""
    gc.collect()
    before = time.perf_counter()
    result = fn()
    return time.perf_counter() - before, result


class EventSource:
    """Stored events shaped like the ledger's: the sample project's events byte for byte, under fresh ids.

    Originator ids come from a seeded generator, so two runs with the same seed append the same events.
    """

    def __init__(self, templates: Sequence[StoredEvent], seed: int) -> None:
        self.templates = list(templates)
        self.random = random.Random(seed)
        self._id = self._new_id()
        self._next = 0  # index into templates of the current originator's next event

    def _new_id(self) -> UUID:
        return UUID(int=self.random.getrandbits(128), version=4)

    def take(self, count: int) -> list[StoredEvent]:
        events = []
        for _ in range(count):
            if self._next == len(self.templates):
                self._id, self._next = self._new_id(), 0
            template = self.templates[self._next]
            self._next += 1
            events.append(StoredEvent(originator_id=self._id, originator_version=template.originator_version,
                                      topic=template.topic, state=template.state))
        return events


def rows_of(events: Sequence[StoredEvent]) -> list[tuple[UUID, int, str, bytes]]:
    rows = []
    for event in events:
        assert isinstance(event.originator_id, UUID)
        rows.append((event.originator_id, event.originator_version, event.topic, event.state))
    return rows


def datastore_for(url: str) -> PostgresDatastore:
    """A datastore configured as the ledger's (see ``environment_for``): same pool, lock and idle timeouts."""
    env = environment_for(url)
    return PostgresDatastore(
        env["POSTGRES_DBNAME"], env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_USER"],
        env["POSTGRES_PASSWORD"], pool_size=int(env["POSTGRES_POOL_SIZE"]),
        max_overflow=int(env["POSTGRES_MAX_OVERFLOW"]), lock_timeout=int(env["POSTGRES_LOCK_TIMEOUT"]),
        idle_in_transaction_session_timeout=float(env["POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"]),
    )


# ------------------------------------------------------------------------------------------------- 1. build


def sample_events(ledger: Ledger) -> list[StoredEvent]:
    """One project's first events, recorded through the ledger's commands: the shapes every row will take."""
    ledger.bootstrap()
    ledger.register_department(Act(FINANCE, EFFECTIVE_ON, reason="基准测试"), DEPARTMENT)
    project = build_project(ledger, "BENCH-INTEGRITY")
    add_batch(ledger, project, EVENTS_PER_ORIGINATOR - SETUP_EVENTS, 0)
    events = list(ledger.recorder.select_events(project.id))
    if len(events) != EVENTS_PER_ORIGINATOR:
        raise RuntimeError(f"the sample project has {len(events)} events, expected {EVENTS_PER_ORIGINATOR}")
    return events


@dataclass
class BulkTimings:
    ours: list[float] = field(default_factory=list)  # seconds per full batch through LedgerRecorder
    raw: list[float] = field(default_factory=list)  # seconds per raw INSERT … unnest of the same rows
    events: int = 0


def bulk_append(recorder: LedgerRecorder, raw: RawEvents, source: EventSource, count: int, batch: int,
                timings: BulkTimings, clock: Clock) -> None:
    """Append ``count`` events in batches of ``batch``; every ``RAW_BULK_EVERY``-th batch also goes to ``raw``."""
    perf = time.perf_counter
    done = 0
    while done < count:
        events = source.take(min(batch, count - done))
        before = perf()
        recorder.insert_events(events)
        elapsed = perf() - before
        if len(events) == batch:  # a partial last batch is appended but not timed
            timings.ours.append(elapsed)
            if len(timings.ours) % RAW_BULK_EVERY == 1:
                rows = rows_of(events)
                before = perf()
                raw.insert_rows(rows)
                timings.raw.append(perf() - before)
        previous, done = timings.events, done + len(events)
        timings.events += len(events)
        if timings.events // PROGRESS_EVERY > previous // PROGRESS_EVERY:
            rate = len(timings.ours) * batch / sum(timings.ours)
            clock.say(f"  bulk append: {timings.events:,} events ({rate:,.0f} events/s)")


# ------------------------------------------------------------------------------------------ 2. verification


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
    with _raw_connection.cursor() as cur, cur.copy(
        f"COPY (SELECT {RAW_COLUMNS} FROM ledger_events WHERE leaf_index >= {int(start)} "
        f"AND leaf_index < {int(end)} ORDER BY leaf_index) TO STDOUT (FORMAT BINARY)"
    ) as copy:
        for _ in copy:
            blocks += 1
    return blocks - 1  # the trailer is a block of its own; the header comes with the first row


def raw_copy_range_libpq(start: int, end: int) -> int:
    """As :func:`raw_copy_range`, read by verify_log's own reader (libpq directly, in batches); return the rows."""
    assert _raw_connection is not None
    query = (f"COPY (SELECT {RAW_COLUMNS} FROM ledger_events WHERE leaf_index >= {int(start)} "
             f"AND leaf_index < {int(end)} ORDER BY leaf_index) TO STDOUT (FORMAT BINARY)")
    return sum(len(batch) for batch in copy_out(_raw_connection, query)) - 1  # less the trailer


def raw_copy_parallel(url: str, size: int, processes: int, *, libpq: bool = False) -> int:
    """The whole log read as verify_log reads it — its chunks, ``processes`` at a time, one connection per process,
    process start-up included — doing nothing with the rows; by psycopg's ``Copy`` or (``libpq``) by verify_log's
    own reader."""
    step = chunk_size(size, processes)
    chunks = [(lo, min(lo + step, size)) for lo in range(0, size, step)]
    with ProcessPoolExecutor(max_workers=max(1, min(processes, len(chunks))), initializer=raw_connect,
                             initargs=(url,)) as pool:
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
        data = [bytes(row) for batch in copy_out(conn, f"COPY (SELECT {RAW_COLUMNS} FROM ledger_events WHERE "
                                                         f"leaf_index < {int(rows)} ORDER BY leaf_index) TO "
                                                         "STDOUT (FORMAT BINARY)") for row in batch]
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


# ---------------------------------------------------------------------------- 2b. snapshot authentication


def template_snapshot(ledger: Ledger, templates: Sequence[StoredEvent]) -> Snapshot:
    """A real snapshot of the sample project at its last template event, as the ledger takes one."""
    assert isinstance(templates[0].originator_id, UUID)
    aggregate = ledger.project(templates[0].originator_id)
    if aggregate.version != len(templates):
        raise RuntimeError(f"the sample project is at version {aggregate.version}, expected {len(templates)}")
    return Snapshot.take(aggregate)


def full_aggregates(url: str, seed: int) -> list[UUID]:
    """Every aggregate of the log with all the sample's events, in a seeded random order: the first n of the
    list get snapshots, so each density's aggregates include the smaller one's."""
    with psycopg.connect(url) as conn:
        ids: list[UUID] = [row[0] for row in conn.execute(
            "SELECT originator_id FROM ledger_events WHERE originator_version = %s ORDER BY leaf_index",
            (EVENTS_PER_ORIGINATOR,))]
    random.Random(seed).shuffle(ids)
    return ids


def store_snapshots(url: str, key: SigningKey, mapper: Mapper[UUID], template: Snapshot,
                    ids: Sequence[UUID]) -> list[tuple[float, int]]:
    """Store a snapshot of each aggregate as the ledger stores one: the template's state under the aggregate's id,
    encoded by the ledger's mapper (untimed: the ledger encodes on the committing thread), then ``SnapshotRecorder``
    (timed: the chain hash of each snapshot's leaf looked up, each signed, all inserted in one transaction), in
    batches; returns the seconds and snapshots of each batch."""
    datastore = datastore_for(url)
    recorder = SnapshotRecorder(datastore, events_table_name="ledger_snapshots", log_table_name="ledger_events",
                                authenticator=SnapshotAuthenticator(key))
    batches: list[tuple[float, int]] = []
    try:
        for start in range(0, len(ids), SNAPSHOT_BATCH):
            stored = [mapper.to_stored_event(replace(template, originator_id=originator_id,
                                                     timestamp=Snapshot.create_timestamp()))
                      for originator_id in ids[start:start + SNAPSHOT_BATCH]]
            before = time.perf_counter()
            recorder.insert_events(stored)
            batches.append((time.perf_counter() - before, len(stored)))
    finally:
        datastore.close()
    return batches


def measure_snapshot_verify(url: str, key: SigningKey, size: int, snapshots: int, workers: int, accelerator: bool,
                            rounds: int, clock: Clock) -> tuple[Timing, Timing]:
    """verify_log without the snapshots' check (today's verify) and with it, alternating, same workers and
    implementation; returns (without, with)."""
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for r in range(rounds):
        for check in ((False, True) if r % 2 == 0 else (True, False)):
            gc.collect()
            report = verify_log(url, key.verifier, origin=ORIGIN, workers=workers, accelerator=accelerator,
                                policy=VerifyPolicy(snapshots=check))
            expected = snapshots if check else 0
            if not report.ok or report.events != size or report.snapshots != expected:
                raise RuntimeError(f"verification with snapshots={check} failed or checked {report.snapshots} "
                                   f"snapshots, expected {expected}: {report.failures[:3]}")
            seconds[check].append(report.seconds)
            clock.say(f"  verify_log snapshots={check}, {snapshots:,} stored: {report.rate:,.0f} events/s")
    without, with_check = (Timing(durations=seconds[check], elapsed=sum(seconds[check]), units_per_call=size)
                           for check in (False, True))
    return without, with_check


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
        row = conn.execute("SELECT s.originator_id, s.originator_version, s.topic, s.state, s.authenticator, "
                           "e.chain_hash FROM ledger_snapshots s JOIN ledger_events e ON e.originator_id = "
                           "s.originator_id AND e.originator_version = s.originator_version LIMIT 1").fetchone()
    assert row is not None
    stored = StoredEvent(row[0], int(row[1]), row[2], bytes(row[3]))
    authenticator, chain = bytes(row[4]), bytes(row[5])
    signer = SnapshotAuthenticator(key)
    checker = SnapshotAuthenticator(None, [key.verifier])
    verifier = key.verifier
    message = snapshot_message(row[0], int(row[1]), row[2], stored.state, chain)
    private, public = Ed25519PrivateKey.from_private_bytes(key.seed), Ed25519PublicKey.from_public_bytes(
        verifier.public_key)
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
        message=time_calls(lambda _: snapshot_message(row[0], int(row[1]), row[2], stored.state, chain), calls,
                           warmup=warmup),
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


def measure_deep(url: str, size: int, snapshots: int, workers: int, rounds: int,
                 clock: Clock) -> tuple[Timing, Timing, int]:
    """``replay_all`` and the bare library's replay of the same aggregates, alternating; returns (deep, bare,
    aggregates)."""
    with psycopg.connect(url) as conn:
        ids: list[UUID] = [row[0] for row in conn.execute("SELECT DISTINCT originator_id FROM ledger_events")]
    seconds: dict[str, list[float]] = {"deep": [], "bare": []}
    for r in range(rounds):
        for name in (("deep", "bare") if r % 2 == 0 else ("bare", "deep")):
            if name == "deep":
                elapsed, report = timed(lambda: replay_all(url, workers=workers))
                if not report.ok or report.events != size or report.snapshots != snapshots:
                    raise RuntimeError(f"verify --deep: {report.events} events, {report.snapshots} snapshots "
                                       f"compared (expected {size}, {snapshots}): {report.failures[:3]}")
                if report.aggregates != len(ids):
                    raise RuntimeError(f"verify --deep replayed {report.aggregates} aggregates, expected {len(ids)}")
            else:
                elapsed, events = timed(lambda: bare_replay_all(url, ids, workers))
                if events != size:
                    raise RuntimeError(f"the bare replay read {events} events, expected {size}")
            seconds[name].append(elapsed)
            clock.say(f"  {name} replay, {workers} processes: {size / elapsed:,.0f} events/s")
    deep_t, bare_t = (Timing(durations=seconds[name], elapsed=sum(seconds[name]), units_per_call=size)
                      for name in ("deep", "bare"))
    return deep_t, bare_t, len(ids)


# ------------------------------------------------------------------------------------------------- 3. proofs


@dataclass
class ProofRun:
    timings: list[Timing]  # raw SELECT, inclusion, consistency
    checked: int  # proofs verified against signed or recomputed roots
    failed: int


def measure_proofs(url: str, size: int, proofs: int, rounds: int, signed: Sequence[StoredCheckpoint],
                   verifier: VerifierKey, seed: int) -> ProofRun:
    rng = random.Random(seed)
    calls = WARMUP_CALLS + proofs
    indexes = [rng.randrange(size) for _ in range(calls)]
    olds = [rng.randrange(1, size) for _ in range(calls)]
    log = TransparencyLog(url, origin=ORIGIN)
    pool: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
        url, min_size=1, max_size=4, open=True, name="bench-raw")
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
                    "WHERE leaf_index = ANY(%s)", (sorted(set(indexes)),))
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


def measure_append_cost(url: str, source: EventSource, singles: int, batches: int, batch_size: int,
                        rounds: int) -> tuple[list[Timing], list[Timing]]:
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
        batched = interleave_alternating(batch_series, batches, rounds=rounds,
                                         before_round=lambda: checkpoint(url))
    finally:
        raw_single.close()
        raw_batched.close()
        datastore.close()
    return single, batched


# -------------------------------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Options:
    events: int
    batch: int
    workers: list[int]
    accelerators: list[bool]  # the implementations of verify_log to measure: True = the C accelerator
    proofs: int
    singles: int
    batches: int
    batch_size: int
    rounds: int
    verify_rounds: int
    snapshots_per_1000: float  # the realistic density of snapshots (the worst case is one per 50 events)
    snapshot_rounds: int
    deep_workers: int
    deep_rounds: int
    seed: int


def run(db: BenchDatabase, options: Options, clock: Clock) -> None:
    url = db.url
    settings = server_settings(url)
    size = options.events
    half = size // 2
    key = SigningKey.generate(KEY_NAME)

    # ------------------------------------------------------------------------------------ 1. build
    with clock.phase("sample events through Ledger"):
        ledger = Ledger(url, clock=lambda: CLOCK_NOW)
        templates = sample_events(ledger)
        template = template_snapshot(ledger, templates)
        mapper = ledger.mapper
        source = EventSource(templates, options.seed)
        head = ledger.head()
        log = TransparencyLog(url, origin=ORIGIN, signing_key=key)
        log.create_tables()
        raw_bulk = RawEvents(url, "bench_raw_bulk")
    if head > half:
        raise RuntimeError(f"--events {size} is too few: the sample alone wrote {head} events")

    bulk = BulkTimings(events=head)
    extends: list[tuple[str, Timing]] = []
    signs: list[tuple[str, Timing]] = []
    try:
        for target in (half, size):
            start = bulk.events
            with clock.phase(f"bulk append to {target:,} events"):
                bulk_append(ledger.log_recorder, raw_bulk, source, target - bulk.events, options.batch, bulk, clock)
            with clock.phase(f"extend() {start:,} → {target:,}"):
                seconds, built = timed(log.extend)
            if built != target:
                raise RuntimeError(f"extend() built a tree of {built} leaves, expected {target}")
            extends.append((f"ours: extend() {start:,} → {target:,} (tree nodes)", one_call(seconds, target - start)))
            with clock.phase(f"sign_checkpoint() at {target:,}"):
                seconds, _ = timed(log.sign_checkpoint)
            signs.append((f"ours: sign_checkpoint() at {target:,} (tree built)", one_call(seconds, 1)))
        signed = log.checkpoints()
    finally:
        raw_bulk.close()
        log.close()
        ledger.close()
    if [item.column_size for item in signed] != [half, size]:
        raise RuntimeError(f"checkpoints at {[item.column_size for item in signed]}, expected {[half, size]}")
    with clock.phase("VACUUM ANALYZE + CHECKPOINT"):  # hint bits and statistics set before anything reads
        with psycopg.connect(url, autocommit=True) as conn:
            for name in ("ledger_events", "ledger_tree_nodes"):
                conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(name)))
        checkpoint(url)

    # ------------------------------------------------------------------------------ 2. verification
    with clock.phase("full verification"):
        raw_bytes_s: list[float] = []
        raw_copy_s: list[float] = []
        raw_parallel_s: list[float] = []
        raw_libpq_s: list[float] = []
        parallel = max(max(options.workers), 1)
        series = [(workers, accelerator) for accelerator in options.accelerators for workers in options.workers]
        verify_s: dict[tuple[int, bool], list[float]] = {item: [] for item in series}
        raw_copy(url, parse=False)  # untimed: the first read after the build pays for whatever the cache lost
        for r in range(options.verify_rounds):  # interleaved, the order reversed every other round
            def copy_bytes() -> None:
                seconds, copied = timed(lambda: raw_copy(url, parse=False))
                raw_bytes_s.append(seconds)
                clock.say(f"  raw COPY, bytes only: {size / seconds:,.0f} rows/s ({copied / seconds / 2**20:,.0f} "
                          "MiB/s)")

            def copy_parallel() -> None:
                seconds, rows = timed(lambda: raw_copy_parallel(url, size, parallel))
                if rows != size:
                    raise RuntimeError(f"raw parallel COPY read {rows} rows, expected {size}")
                raw_parallel_s.append(seconds)
                clock.say(f"  raw COPY, bytes only, {parallel} processes: {size / seconds:,.0f} rows/s")

            def copy_libpq() -> None:
                seconds, rows = timed(lambda: raw_copy_parallel(url, size, parallel, libpq=True))
                if rows != size:
                    raise RuntimeError(f"raw parallel COPY (libpq) read {rows} rows, expected {size}")
                raw_libpq_s.append(seconds)
                clock.say(f"  raw COPY, verify_log's reader, {parallel} processes: {size / seconds:,.0f} rows/s")

            def copy_rows() -> None:
                seconds, rows = timed(lambda: raw_copy(url))
                if rows != size:
                    raise RuntimeError(f"raw COPY read {rows} rows, expected {size}")
                raw_copy_s.append(seconds)
                clock.say(f"  raw COPY, rows(): {size / seconds:,.0f} rows/s")

            def verify(workers: int, accelerator: bool) -> None:
                gc.collect()
                report = verify_log(url, key.verifier, origin=ORIGIN, workers=workers, accelerator=accelerator)
                if not report.ok or report.events != size or report.checkpoints != len(signed):
                    raise RuntimeError(f"verification with {workers} workers failed: {report}")
                verify_s[(workers, accelerator)].append(report.seconds)
                clock.say(f"  verify_log workers={workers}, {report.implementation}: {report.rate:,.0f} events/s")

            steps: list[Callable[[], None]] = [copy_bytes, copy_parallel, copy_libpq, copy_rows,
                                               *(partial(verify, *item) for item in series)]
            for step in (steps if r % 2 == 0 else reversed(steps)):
                step()
        raw_bytes_t = Timing(durations=raw_bytes_s, elapsed=sum(raw_bytes_s), units_per_call=size)
        raw_copy_t = Timing(durations=raw_copy_s, elapsed=sum(raw_copy_s), units_per_call=size)
        raw_parallel_t = Timing(durations=raw_parallel_s, elapsed=sum(raw_parallel_s), units_per_call=size)
        raw_libpq_t = Timing(durations=raw_libpq_s, elapsed=sum(raw_libpq_s), units_per_call=size)
        verifications = [(workers, accelerator, Timing(durations=seconds, elapsed=sum(seconds), units_per_call=size))
                         for (workers, accelerator), seconds in verify_s.items()]
        ceilings = hashing_ceilings(url, min(CEILING_ROWS, size), options.accelerators)

    # --------------------------------------------------------------------- 2b. snapshot authentication
    verify_workers = max(options.workers)
    verify_accelerator = options.accelerators[0]
    realistic = max(1, round(size * options.snapshots_per_1000 / 1000))
    worst = size // WORST_SNAPSHOT_EVERY
    snapshot_batches: list[tuple[float, int]] = []
    snapshot_verifies: list[tuple[int, Timing, Timing]] = []  # (snapshots stored, without their check, with it)
    with clock.phase("verification with snapshot authentication"):
        aggregates = full_aggregates(url, options.seed)
        if len(aggregates) < worst:
            raise RuntimeError(f"{len(aggregates)} aggregates cannot hold {worst} snapshots")
        stored_count = 0
        for count in (realistic, worst):
            clock.say(f"  storing snapshots {stored_count:,} → {count:,}")
            snapshot_batches += store_snapshots(url, key, mapper, template, aggregates[stored_count:count])
            stored_count = count
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE) ledger_snapshots")
            checkpoint(url)
            without, with_check = measure_snapshot_verify(url, key, size, count, verify_workers, verify_accelerator,
                                                          options.snapshot_rounds, clock)
            snapshot_verifies.append((count, without, with_check))
        costs = signature_costs(url, key, SIGNATURE_CALLS)
    full_batches = [seconds for seconds, count in snapshot_batches if count == SNAPSHOT_BATCH]
    snapshot_store_t = (Timing(durations=full_batches, elapsed=sum(full_batches), units_per_call=SNAPSHOT_BATCH)
                        if full_batches else one_call(sum(seconds for seconds, _ in snapshot_batches), worst))

    # ---------------------------------------------------------------------------- 2c. verify --deep
    with clock.phase("verify --deep"):
        deep_t, bare_replay_t, aggregate_count = measure_deep(url, size, worst, options.deep_workers,
                                                              options.deep_rounds, clock)

    # ------------------------------------------------------------------------------------ 3. proofs
    with clock.phase("proofs"):
        proof_run = measure_proofs(url, size, options.proofs, options.rounds, signed, key.verifier, options.seed)
    raw_select_t, inclusion_t, consistency_t = proof_run.timings

    # ------------------------------------------------------------------------------- 4. append cost
    with clock.phase("append cost of the chain"):
        single, batched = measure_append_cost(url, source, options.singles, options.batches, options.batch_size,
                                              options.rounds)
    raw_single_t, plain_single_t, unchained_single_t, chain_single_t = single
    raw_batched_t, plain_batched_t, unchained_batched_t, chain_batched_t = batched

    # ------------------------------------------------------------------------------------ report
    bulk_t = Timing(durations=bulk.ours, elapsed=sum(bulk.ours), units_per_call=options.batch)
    raw_bulk_t = Timing(durations=bulk.raw, elapsed=sum(bulk.raw), units_per_call=options.batch)
    best_workers, best_accelerator, best_verify_t = max(verifications, key=lambda item: item[2].rate)
    best_by = {accelerator: max((item for item in verifications if item[1] == accelerator),
                                key=lambda item: item[2].rate) for accelerator in options.accelerators}
    payload = sum(len(event.state) for event in templates) / len(templates)
    header = [
        ("server", describe_server(db)),
        ("PostgreSQL", f"{settings['server_version']} (fsync={settings['fsync']}, "
                       f"synchronous_commit={settings['synchronous_commit']}, "
                       f"wal_sync_method={settings['wal_sync_method']}, shared_buffers={settings['shared_buffers']})"),
        ("machine", f"{os.cpu_count()} cores, Python {platform.python_version()}, "
                    f"eventsourcing {package_version('eventsourcing')}, psycopg {package_version('psycopg')}"),
        ("parameters", f"--events {size} --batch {options.batch} --workers {','.join(map(str, options.workers))} "
                       f"--implementations {','.join('c' if a else 'python' for a in options.accelerators)} "
                       f"--proofs {options.proofs} --singles {options.singles} --batches {options.batches} "
                       f"--batch-size {options.batch_size} --rounds {options.rounds} "
                       f"--verify-rounds {options.verify_rounds} --snapshots-per-1000 {options.snapshots_per_1000:g} "
                       f"--snapshot-rounds {options.snapshot_rounds} --deep-workers {options.deep_workers} "
                       f"--deep-rounds {options.deep_rounds} --seed {options.seed}"),
        ("events", f"{size:,} leaves: {head} from the sample run through Ledger, then its {len(templates)} stored "
                   f"events byte for byte under fresh ids ({payload:,.0f}-byte JSON states on average), "
                   "appended through LedgerRecorder.insert_events"),
        ("checkpoints", f"signed (Ed25519) at {half:,} and {size:,}; verification checks both"),
        ("snapshots", f"added after the first verification: {realistic:,} ({options.snapshots_per_1000:g} per 1,000 "
                      f"events), then {worst:,} (one per {WORST_SNAPSHOT_EVERY} events), each a {costs.state_bytes:,}-"
                      f"byte snapshot of the sample project at version {EVENTS_PER_ORIGINATOR} under a random "
                      "aggregate's id, signed with the log's key"),
        ("verifier", "; ".join(f"{IMPLEMENTATION_NAMES[a]} = {speedups.describe(a)}" for a in options.accelerators)),
    ]
    print()
    print("bench_integrity — verification, proofs and the chain's append cost beside raw PostgreSQL (same run)")
    for name, value in header:
        print(f"  {name + ':':<13}{value}")
    print()

    rows_by_section: list[tuple[str, Sequence[Row]]] = [
        (f"Build: {size:,} events, {options.batch} per transaction (latency per transaction)", [
            Row(f"raw INSERT … unnest, {options.batch} rows/txn (same rows, 1 batch in {RAW_BULK_EVERY})",
                raw_bulk_t, "rows", raw_bulk_t),
            Row("ours: bulk append, LedgerRecorder.insert_events", bulk_t, "events", raw_bulk_t),
            *(Row(name, timing, "leaves") for name, timing in extends),
            *(Row(name, timing, "signs") for name, timing in signs),
            Row(f"ours: snapshots stored by SnapshotRecorder (chain hash looked up, signed), {SNAPSHOT_BATCH}/txn",
                snapshot_store_t, "snapshots"),
        ]),
        (f"Full verification of {size:,} events (one call each: latency = its duration)", [
            Row("raw COPY … TO STDOUT (FORMAT BINARY), 8 columns, rows() only", raw_copy_t, "rows", raw_copy_t),
            Row("raw COPY, same, data blocks only (no row parsing)", raw_bytes_t, "rows", raw_copy_t),
            Row(f"raw COPY, same, data blocks only, {parallel} processes over verify_log's chunks", raw_parallel_t,
                "rows", raw_copy_t),
            Row(f"raw COPY, same, {parallel} processes, read by verify_log's own reader (libpq, batches)",
                raw_libpq_t, "rows", raw_copy_t),
            *(row for accelerator, ceiling in ceilings.items() for row in (
                Row(f"{IMPLEMENTATION_NAMES[accelerator]}: row checks, {ceiling.rows:,} rows in memory, 1 core",
                    one_call(ceiling.check_seconds, ceiling.rows), "events"),
                Row(f"{IMPLEMENTATION_NAMES[accelerator]}: Merkle levels over their leaves, 1 core",
                    one_call(ceiling.tree_seconds, ceiling.rows), "leaves"))),
            *(Row(f"ours: verify_log(workers={workers}), {IMPLEMENTATION_NAMES[accelerator]}", timing, "events",
                  raw_copy_t) for workers, accelerator, timing in verifications),
        ]),
        (f"Verification with snapshot authentication: verify_log(workers={verify_workers}, "
         f"{IMPLEMENTATION_NAMES[verify_accelerator]}), the two alternating", [
            row for count, without, with_check in snapshot_verifies for row in (
                Row(f"today's verify: VerifyPolicy(snapshots=False), {count:,} snapshots stored", without, "events",
                    raw_copy_t),
                Row(f"ours: VerifyPolicy(snapshots=True), {count:,} authenticators checked", with_check, "events",
                    raw_copy_t))
        ]),
        (f"Snapshot authentication on one core (a {costs.state_bytes:,}-byte snapshot; latency = one call)", [
            Row("SnapshotAuthenticator.sign (what storing a snapshot adds)", costs.sign, "signs"),
            Row("  cryptography's Ed25519PrivateKey.sign alone, key object made once", costs.bare_sign, "signs"),
            Row("snapshot_message + VerifierKey.verify (what verify_log does per snapshot)", costs.verify,
                "checks"),
            Row("SnapshotAuthenticator.check (what loading a snapshot adds)", costs.check, "checks"),
            Row("  snapshot_message alone (SHA-256 of the state)", costs.message, "messages"),
            Row("  cryptography's Ed25519PublicKey.verify alone, key object made once", costs.bare_verify,
                "verifies"),
        ]),
        (f"Deep verification: {size:,} events of {aggregate_count:,} aggregates replayed, "
         f"{options.deep_workers} processes each", [
            Row("bare eventsourcing: Repository(ledger.events).get(id) of each (no snapshots, no cache)",
                bare_replay_t, "events"),
            Row(f"ours: replay_all (jixiao verify --deep), {worst:,} snapshots compared with the replay", deep_t,
                "events"),
        ]),
        (f"Proofs at {size:,} leaves (fresh TransparencyLog, pooled connections; random positions)", [
            Row("raw SELECT leaf_hash WHERE leaf_index = %s (pool)", raw_select_t, "reads", raw_select_t, True),
            Row(f"ours: inclusion_proof(random index, {size:,})", inclusion_t, "proofs", raw_select_t, True),
            Row(f"ours: consistency_proof(random old, {size:,})", consistency_t, "proofs", raw_select_t, True),
        ]),
        ("Append cost of the chain: fresh tables, 1 event per transaction", [
            Row("raw INSERT, 1 row/txn (autocommit)", raw_single_t, "rows", raw_single_t),
            Row("plain: PostgresApplicationRecorder.insert_events (the bare library)", plain_single_t, "events",
                raw_single_t),
            Row("unchained: LedgerRecorder without the chain fold (bench)", unchained_single_t, "events",
                raw_single_t),
            Row("chain: LedgerRecorder.insert_events", chain_single_t, "events", raw_single_t),
        ]),
        (f"Append cost of the chain: fresh tables, {options.batch_size} events per transaction", [
            Row(f"raw INSERT … unnest, {options.batch_size} rows/txn", raw_batched_t, "rows", raw_batched_t),
            Row("plain: PostgresApplicationRecorder.insert_events (the bare library)", plain_batched_t, "events",
                raw_batched_t),
            Row("unchained: LedgerRecorder without the chain fold (bench)", unchained_batched_t, "events",
                raw_batched_t),
            Row("chain: LedgerRecorder.insert_events", chain_batched_t, "events", raw_batched_t),
        ]),
    ]
    headers = ["measurement", "rate", "median ms", "p95 ms", "n", "vs raw PG"]
    table: list[list[str]] = []
    for title, section in rows_by_section:
        table.append([f"[{title}]", "", "", "", "", ""])
        table.extend(row.cells() for row in section)
    print_table(headers, table, right=(1, 2, 3, 4))
    print()
    for note in (
        "vs raw PG: for writes and reads of the whole log our rate ÷ the raw rate; for proofs our median ÷ the "
        "raw median.",
        f"bulk append: leaf hashes in Python, the chain folded in SQL; batches stay at {MAX_BATCH} events or fewer "
        "because larger ones hang in psycopg's pipeline mode (see --batch).",
        "verify_log recomputes every leaf hash (in `workers` processes; 0 = in process), the chain, the Merkle "
        "root at each checkpoint, both signatures and the consistency between them; 'C' is the C accelerator "
        "(ledger._speedups: rows and tree hashed with OpenSSL's SHA-256), 'pure Python' the reference "
        "implementation (hashlib); both read the rows with the same libpq reader. Row checks in memory: the same "
        "rows, already read, checked by each implementation on one core — the most one worker could do.",
        f"proofs: every one of the {proof_run.checked:,} proofs checked (inclusion of the leaf hash recomputed from "
        f"the row, against the signed root of size {size:,}; consistency to that root): {proof_run.failed} failed.",
        f"append cost: raw, plain, unchained and chain take the same events, interleaved in {options.rounds} rounds "
        "(the order reversed every other round) with a CHECKPOINT before each; plain, unchained and chain share one "
        "datastore configured as the ledger's. 'without the chain' is measured two ways: the bare library (plain: no "
        "leaf index, hashes, recorded_at, principal columns or their two indexes — the whole integrity log's cost) and "
        "the same recorder with only the chain fold left out (unchained — the chain's own cost). Both pipeline one "
        "round trip per transaction; the library sends its rows as a text-format composite array, ours as binary "
        "arrays, which is why a batch can be cheaper through ours. One event per transaction is dominated by the "
        "commit's fsync, so its rate ratio moves with the disk; the median ratio is shown beside it.",
        f"snapshot authentication: snapshots are stored after the first verification, as the ledger stores them "
        f"(SnapshotRecorder.insert_events: the chain hash of each snapshot's leaf read from the log, an Ed25519 "
        f"signature by the log's key), first {realistic:,}, then up to {worst:,} — the worst case, one per "
        f"{WORST_SNAPSHOT_EVERY} events, as if every aggregate had grown past its {WORST_SNAPSHOT_EVERY}th. At each "
        f"density verify_log runs {options.snapshot_rounds} times without the snapshots' check (today's verify) and "
        "with it, alternating, same workers and implementation; the check reads each snapshot joined to its leaf "
        "and verifies its authenticator, in the same worker processes, after the chunks. A real snapshot at "
        f"version 50 or beyond is larger than these (version {EVENTS_PER_ORIGINATOR}): the SHA-256 of its state "
        "costs more, the signature the same.",
        f"verify --deep: replay_all and the bare library, {options.deep_rounds} time(s) each (alternating), each in "
        f"{options.deep_workers} processes (start-up included) over the same {aggregate_count:,} aggregates; "
        "replay_all reads every aggregate's events and snapshots in two ordered passes and compares each snapshot "
        "with the replay; the bare library reads each aggregate with one SELECT (Repository.get of the Ledger "
        "application built without a key: the ledger's mapper and recorder, no snapshot store, no cache). The ids "
        "are listed before the bare replay's clock starts.",
    ):
        print(textwrap.fill(note, width=118, initial_indent="  ", subsequent_indent="    "))
    print()

    single_ratio = chain_single_t.rate / plain_single_t.rate
    batched_ratio = chain_batched_t.rate / plain_batched_t.rate
    single_own = chain_single_t.rate / unchained_single_t.rate
    batched_own = chain_batched_t.rate / unchained_batched_t.rate
    snapshot_ratios = [(count, with_check.rate / without.rate) for count, without, with_check in snapshot_verifies]
    targets: list[list[str]] = [
        *([f"verify rate with snapshot authentication ÷ today's verify, {count:,} snapshots "
           f"({'realistic' if count == realistic else 'worst case'})", fmt_ratio(ratio),
           f"≥ {TARGET_SNAPSHOT_VERIFY_RATIO:.2f}×", verdict(ratio >= TARGET_SNAPSHOT_VERIFY_RATIO)]
          for count, ratio in snapshot_ratios),
        [f"full verification of {size:,} events (best: workers={best_workers}, "
         f"{IMPLEMENTATION_NAMES[best_accelerator]})",
         fmt_rate(best_verify_t.rate, "events"), f"≥ {TARGET_VERIFY_RATE:,.0f} events/s",
         verdict(best_verify_t.rate >= TARGET_VERIFY_RATE)],
        [f"inclusion proof at {size:,} leaves, p95", f"{fmt_ms(inclusion_t.p95_ms)} ms",
         f"< {TARGET_PROOF_P95_MS:.0f} ms", verdict(inclusion_t.p95_ms < TARGET_PROOF_P95_MS)],
        [f"consistency proof at {size:,} leaves, p95", f"{fmt_ms(consistency_t.p95_ms)} ms",
         f"< {TARGET_PROOF_P95_MS:.0f} ms", verdict(consistency_t.p95_ms < TARGET_PROOF_P95_MS)],
        ["append rate with chain ÷ bare library, 1 event/txn", fmt_ratio(single_ratio),
         f"≥ {TARGET_CHAIN_RATIO:.2f}×", verdict(single_ratio >= TARGET_CHAIN_RATIO)],
        [f"append rate with chain ÷ bare library, {options.batch_size} events/txn", fmt_ratio(batched_ratio),
         f"≥ {TARGET_CHAIN_RATIO:.2f}×", verdict(batched_ratio >= TARGET_CHAIN_RATIO)],
        ["append rate with chain ÷ same recorder unchained, 1 event/txn", fmt_ratio(single_own),
         f"≥ {TARGET_CHAIN_RATIO:.2f}×", verdict(single_own >= TARGET_CHAIN_RATIO)],
        [f"append rate with chain ÷ same recorder unchained, {options.batch_size} events/txn",
         fmt_ratio(batched_own), f"≥ {TARGET_CHAIN_RATIO:.2f}×", verdict(batched_own >= TARGET_CHAIN_RATIO)],
        ["proofs verified against the signed root", f"{proof_run.checked - proof_run.failed:,}/{proof_run.checked:,}",
         "all", verdict(proof_run.failed == 0)],
    ]
    info: list[list[str]] = [
        ["best verification rate ÷ raw COPY rate (rows(), 1 process)", fmt_ratio(best_verify_t.rate / raw_copy_t.rate),
         "", ""],
        [f"best verification rate ÷ raw COPY data blocks in {parallel} processes",
         fmt_ratio(best_verify_t.rate / raw_parallel_t.rate), "", ""],
        [f"best verification rate ÷ raw COPY by verify_log's reader in {parallel} processes",
         fmt_ratio(best_verify_t.rate / raw_libpq_t.rate), "", ""],
        *([f"best verification rate, {IMPLEMENTATION_NAMES[accelerator]} (workers={workers})",
           fmt_rate(timing.rate, "events"), f"≥ {TARGET_VERIFY_RATE:,.0f} events/s",
           verdict(timing.rate >= TARGET_VERIFY_RATE)] for accelerator, (workers, _, timing) in best_by.items()),
        *([[f"best verification rate, {IMPLEMENTATION_NAMES[True]} ÷ {IMPLEMENTATION_NAMES[False]}",
            fmt_ratio(best_by[True][2].rate / best_by[False][2].rate), "", ""]] if len(best_by) == 2 else []),
        *([f"best verification rate ÷ {IMPLEMENTATION_NAMES[accelerator]} row checks in memory (1 core)",
           fmt_ratio(best_verify_t.rate * ceiling.check_seconds / ceiling.rows), "", ""]
          for accelerator, ceiling in ceilings.items()),
        ["bulk append rate ÷ raw INSERT … unnest rate", fmt_ratio(bulk_t.rate / raw_bulk_t.rate), "", ""],
        *([f"  verify_log's extra wall time per snapshot × {verify_workers} workers ({count:,} snapshots)",
           f"{extra_per_snapshot(without, with_check, count, verify_workers) * 1e6:,.0f} µs", "", ""]
          for count, without, with_check in snapshot_verifies),
        ["  Ed25519 sign, verify per snapshot as the ledger does them (medians, 1 core)",
         f"{costs.sign.median_ms * 1000:,.0f} µs, {costs.verify.median_ms * 1000:,.0f} µs", "", ""],
        ["verify --deep rate (events/s)", fmt_rate(deep_t.rate, "events"), "", ""],
        ["verify --deep rate ÷ the bare library's replay of the same aggregates",
         fmt_ratio(deep_t.rate / bare_replay_t.rate), "", ""],
        ["median latency, bare library ÷ chain, 1 event/txn",
         fmt_ratio(plain_single_t.median_ms / chain_single_t.median_ms), "", ""],
        [f"median latency, bare library ÷ chain, {options.batch_size} events/txn",
         fmt_ratio(plain_batched_t.median_ms / chain_batched_t.median_ms), "", ""],
    ]
    print_table(["check", "measured", "target", "verdict"], [*targets, *info], right=(1,))
    print()
    total = time.perf_counter() - clock.started
    print_table(["phase", "seconds"], [[name, f"{seconds:,.1f}"] for name, seconds in clock.phases]
                + [["total (server start to report, drop not included)", f"{total:,.1f}"]], right=(1,))
    print()


def parse_workers(text: str) -> list[int]:
    try:
        workers = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of worker counts: {text!r}") from None
    if not workers or any(w < 0 for w in workers):
        raise argparse.ArgumentTypeError("worker counts must be 0 or more")
    return workers


def parse_implementations(text: str) -> list[bool]:
    names = {"c": True, "python": False}
    chosen = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not chosen or any(name not in names for name in chosen):
        raise argparse.ArgumentTypeError(f"not a comma-separated list of c and python: {text!r}")
    return list(dict.fromkeys(names[name] for name in chosen))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_integrity", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log (leaves)")
    parser.add_argument("--batch", type=int, default=400,
                        help=f"events per bulk-append transaction, at most {MAX_BATCH}: a larger one (over about "
                             "1 MB of parameters) hangs for ever in psycopg's pipeline mode, which "
                             "eventsourcing's insert_events uses (psycopg issue #685)")
    parser.add_argument("--workers", type=parse_workers, default=[0, 1, 2],
                        help="verify_log worker counts to measure, comma-separated")
    parser.add_argument("--implementations", type=parse_implementations,
                        default=[True, False] if speedups.AVAILABLE else [False],
                        help="verify_log implementations to measure, comma-separated: c (the C accelerator), "
                             "python (the pure-Python reference); default both (python alone where C is not built)")
    parser.add_argument("--proofs", type=int, default=1000, help="timed proofs of each kind")
    parser.add_argument("--singles", type=int, default=2000, help="one-event transactions per append series")
    parser.add_argument("--batches", type=int, default=100, help="batched transactions per append series")
    parser.add_argument("--batch-size", type=int, default=100, help="events per batched append transaction")
    parser.add_argument("--rounds", type=int, default=8, help="rounds the interleaved series are split into")
    parser.add_argument("--verify-rounds", type=int, default=2,
                        help="rounds of the verification measurements (each reads the whole log once per series)")
    parser.add_argument("--snapshots-per-1000", type=float, default=2.0,
                        help="the realistic density of snapshots, per 1,000 events (the worst case measured after it "
                             f"is one per {WORST_SNAPSHOT_EVERY} events)")
    parser.add_argument("--snapshot-rounds", type=int, default=2,
                        help="rounds of verification without and with the snapshots' check, at each density")
    parser.add_argument("--deep-workers", type=int, default=2,
                        help="processes of verify --deep and of the bare replay beside it (0 = in this process)")
    parser.add_argument("--deep-rounds", type=int, default=1,
                        help="replays of the whole log by verify --deep and by the bare library, alternating")
    parser.add_argument("--seed", type=int, default=20210601, help="seed of originator ids and proof positions")
    args = parser.parse_args(argv)
    for name in ("events", "batch", "proofs", "singles", "batches", "batch_size", "rounds", "verify_rounds",
                 "snapshot_rounds", "deep_rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("batch", "batch_size"):
        if getattr(args, name) > MAX_BATCH:
            parser.error(f"--{name.replace('_', '-')} must be at most {MAX_BATCH} (see --batch in --help)")
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    if not 0 < args.snapshots_per_1000 < 1000 / WORST_SNAPSHOT_EVERY:
        parser.error(f"--snapshots-per-1000 must be above 0 and below the worst case's {1000 / WORST_SNAPSHOT_EVERY:g}")
    if args.deep_workers < 0:
        parser.error("--deep-workers must be 0 or more")
    if True in args.implementations and not speedups.AVAILABLE:
        parser.error("--implementations c: the C accelerator ledger._speedups is not built in this installation")
    options = Options(events=args.events, batch=args.batch, workers=args.workers,
                      accelerators=args.implementations, proofs=args.proofs,
                      singles=args.singles, batches=args.batches, batch_size=args.batch_size, rounds=args.rounds,
                      verify_rounds=args.verify_rounds, snapshots_per_1000=args.snapshots_per_1000,
                      snapshot_rounds=args.snapshot_rounds, deep_workers=args.deep_workers,
                      deep_rounds=args.deep_rounds, seed=args.seed)
    clock = Clock()
    with bench_database() as db:
        clock.say(f"database ready on {describe_server(db)}")
        run(db, options, clock)


if __name__ == "__main__":
    main()
