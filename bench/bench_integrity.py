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
from collections.abc import Callable, Sequence
from functools import partial

import psycopg
from psycopg import sql

from bench.common import (
    BenchDatabase,
    Clock,
    RawEvents,
    Timing,
    alternating,
    bench_database,
    checkpoint,
    describe_server,
    require_at_least_one,
    server_settings,
    timed,
)
from bench.integrity_data import (
    MAX_BATCH,
    SNAPSHOT_BATCH,
    BulkTimings,
    bulk_append,
    full_aggregates,
    store_snapshots,
    template_snapshot,
)
from bench.integrity_measure import (
    ORIGIN,
    hashing_ceilings,
    measure_append_cost,
    measure_deep,
    measure_proofs,
    measure_snapshot_verify,
    raw_copy,
    raw_copy_parallel,
    signature_costs,
)
from bench.integrity_report import (
    WORST_SNAPSHOT_EVERY,
    Build,
    Options,
    Results,
    SnapshotAuthentication,
    Verification,
    report,
)
from bench.sample import CLOCK_NOW, EventSource, sample_events
from ledger.application.ledger import Ledger
from ledger.log import speedups
from ledger.log.checkpoint import SigningKey, StoredCheckpoint
from ledger.store.tlog import TransparencyLog
from ledger.store.verify_log import verify_log

KEY_NAME = "bench-integrity"
CEILING_ROWS = 100_000
SIGNATURE_CALLS = 2000  # timed calls of each Ed25519 measurement


# -------------------------------------------------------------------------------------------------- 1. build


def build(url: str, key: SigningKey, options: Options, clock: Clock) -> Build:
    """The sample recorded through Ledger, then the log bulk-appended to N/2 and N, its tree built and a checkpoint
    signed at each."""
    size = options.events
    half = size // 2
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
            extends.append(
                (f"ours: extend() {start:,} → {target:,} (tree nodes)", Timing.of([seconds], target - start))
            )
            with clock.phase(f"sign_checkpoint() at {target:,}"):
                seconds, _ = timed(log.sign_checkpoint)
            signs.append((f"ours: sign_checkpoint() at {target:,} (tree built)", Timing.of([seconds], 1)))
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
    return Build(templates, template, mapper, source, head, bulk, extends, signs, signed)


# ------------------------------------------------------------------------------------------- 2. verification


def verification(
    url: str, key: SigningKey, signed: Sequence[StoredCheckpoint], options: Options, clock: Clock
) -> Verification:
    """verify_log for each worker count and implementation, interleaved with the raw reads of the same rows (the
    order reversed every other round); then the row checks and tree hashing in memory."""
    size = options.events
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
                clock.say(
                    f"  raw COPY, bytes only: {size / seconds:,.0f} rows/s ({copied / seconds / 2**20:,.0f} MiB/s)"
                )

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
                checked = verify_log(url, key.verifier, origin=ORIGIN, workers=workers, accelerator=accelerator)
                if not checked.ok or checked.events != size or checked.checkpoints != len(signed):
                    raise RuntimeError(f"verification with {workers} workers failed: {checked}")
                verify_s[(workers, accelerator)].append(checked.seconds)
                clock.say(f"  verify_log workers={workers}, {checked.implementation}: {checked.rate:,.0f} events/s")

            steps: list[Callable[[], None]] = [
                copy_bytes,
                copy_parallel,
                copy_libpq,
                copy_rows,
                *(partial(verify, *item) for item in series),
            ]
            for step in alternating(steps, r):
                step()
        verifications = [
            (workers, accelerator, Timing.of(seconds, size)) for (workers, accelerator), seconds in verify_s.items()
        ]
        ceilings = hashing_ceilings(url, min(CEILING_ROWS, size), options.accelerators)
    return Verification(
        parallel,
        Timing.of(raw_bytes_s, size),
        Timing.of(raw_copy_s, size),
        Timing.of(raw_parallel_s, size),
        Timing.of(raw_libpq_s, size),
        verifications,
        ceilings,
    )


# ---------------------------------------------------------------------------------- 2b. snapshot authentication


def snapshot_authentication(
    url: str, key: SigningKey, built: Build, options: Options, clock: Clock
) -> SnapshotAuthentication:
    """Snapshots stored at the realistic density, then the worst case; at each, verify_log without and with their
    check; then the Ed25519 work per snapshot on one core."""
    size = options.events
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
            snapshot_batches += store_snapshots(url, key, built.mapper, built.template, aggregates[stored_count:count])
            stored_count = count
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE) ledger_snapshots")
            checkpoint(url)
            without, with_check = measure_snapshot_verify(
                url, key, size, count, verify_workers, verify_accelerator, options.snapshot_rounds, clock
            )
            snapshot_verifies.append((count, without, with_check))
        costs = signature_costs(url, key, SIGNATURE_CALLS)
    full_batches = [seconds for seconds, count in snapshot_batches if count == SNAPSHOT_BATCH]
    store = (
        Timing.of(full_batches, SNAPSHOT_BATCH)
        if full_batches
        else Timing.of([sum(seconds for seconds, _ in snapshot_batches)], worst)
    )
    return SnapshotAuthentication(realistic, worst, verify_workers, verify_accelerator, store, snapshot_verifies, costs)


# ---------------------------------------------------------------------------------------------------- the run


def run(db: BenchDatabase, options: Options, clock: Clock) -> None:
    url = db.url
    settings = server_settings(url)
    size = options.events
    key = SigningKey.generate(KEY_NAME)
    built = build(url, key, options, clock)
    verified = verification(url, key, built.signed, options, clock)
    snapshots = snapshot_authentication(url, key, built, options, clock)
    with clock.phase("verify --deep"):
        deep = measure_deep(url, size, snapshots.worst, options.deep_workers, options.deep_rounds, clock)
    with clock.phase("proofs"):
        proofs = measure_proofs(url, size, options.proofs, options.rounds, built.signed, key.verifier, options.seed)
    with clock.phase("append cost of the chain"):
        single, batched = measure_append_cost(
            url, built.source, options.singles, options.batches, options.batch_size, options.rounds
        )
    report(db, options, clock, Results(settings, built, verified, snapshots, deep, proofs, single, batched))


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
    parser.add_argument(
        "--batch",
        type=int,
        default=400,
        help=f"events per bulk-append transaction, at most {MAX_BATCH}: a larger one (over about "
        "1 MB of parameters) hangs for ever in psycopg's pipeline mode, which "
        "eventsourcing's insert_events uses (psycopg issue #685)",
    )
    parser.add_argument(
        "--workers", type=parse_workers, default=[0, 1, 2], help="verify_log worker counts to measure, comma-separated"
    )
    parser.add_argument(
        "--implementations",
        type=parse_implementations,
        default=[True, False] if speedups.AVAILABLE else [False],
        help="verify_log implementations to measure, comma-separated: c (the C accelerator), "
        "python (the pure-Python reference); default both (python alone where C is not built)",
    )
    parser.add_argument("--proofs", type=int, default=1000, help="timed proofs of each kind")
    parser.add_argument("--singles", type=int, default=2000, help="one-event transactions per append series")
    parser.add_argument("--batches", type=int, default=100, help="batched transactions per append series")
    parser.add_argument("--batch-size", type=int, default=100, help="events per batched append transaction")
    parser.add_argument("--rounds", type=int, default=8, help="rounds the interleaved series are split into")
    parser.add_argument(
        "--verify-rounds",
        type=int,
        default=2,
        help="rounds of the verification measurements (each reads the whole log once per series)",
    )
    parser.add_argument(
        "--snapshots-per-1000",
        type=float,
        default=2.0,
        help="the realistic density of snapshots, per 1,000 events (the worst case measured after it "
        f"is one per {WORST_SNAPSHOT_EVERY} events)",
    )
    parser.add_argument(
        "--snapshot-rounds",
        type=int,
        default=2,
        help="rounds of verification without and with the snapshots' check, at each density",
    )
    parser.add_argument(
        "--deep-workers",
        type=int,
        default=2,
        help="processes of verify --deep and of the bare replay beside it (0 = in this process)",
    )
    parser.add_argument(
        "--deep-rounds",
        type=int,
        default=1,
        help="replays of the whole log by verify --deep and by the bare library, alternating",
    )
    parser.add_argument("--seed", type=int, default=20210601, help="seed of originator ids and proof positions")
    args = parser.parse_args(argv)
    require_at_least_one(
        parser,
        args,
        (
            "events",
            "batch",
            "proofs",
            "singles",
            "batches",
            "batch_size",
            "rounds",
            "verify_rounds",
            "snapshot_rounds",
            "deep_rounds",
        ),
    )
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
    options = Options(
        events=args.events,
        batch=args.batch,
        workers=args.workers,
        accelerators=args.implementations,
        proofs=args.proofs,
        singles=args.singles,
        batches=args.batches,
        batch_size=args.batch_size,
        rounds=args.rounds,
        verify_rounds=args.verify_rounds,
        snapshots_per_1000=args.snapshots_per_1000,
        snapshot_rounds=args.snapshot_rounds,
        deep_workers=args.deep_workers,
        deep_rounds=args.deep_rounds,
        seed=args.seed,
    )
    clock = Clock()
    with bench_database() as db:
        clock.say(f"database ready on {describe_server(db)}")
        run(db, options, clock)


if __name__ == "__main__":
    main()
