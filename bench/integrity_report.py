"""bench_integrity's options and figures, and the report printed from them (see :mod:`bench.bench_integrity`).

Over 500 lines: the report's tables and the notes that explain each figure, mostly prose that belongs beside the
numbers it explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, StoredEvent

from bench.common import (
    BenchDatabase,
    Clock,
    Row,
    Timing,
    fmt_ms,
    fmt_rate,
    fmt_ratio,
    machine_line,
    para,
    print_checks,
    print_header,
    print_sections,
    print_table,
    server_header,
    verdict,
)
from bench.integrity_data import MAX_BATCH, RAW_BULK_EVERY, SNAPSHOT_BATCH, BulkTimings
from bench.integrity_measure import Ceiling, ProofRun, SignatureCosts, extra_per_snapshot
from bench.sample import EVENTS_PER_ORIGINATOR, EventSource
from ledger.log import speedups
from ledger.log.checkpoint import StoredCheckpoint

IMPLEMENTATION_NAMES = {True: "C", False: "pure Python"}  # verify_log's accelerator=True / False
WORST_SNAPSHOT_EVERY = 50  # the worst case: a snapshot per 50 events (the ledger's interval) for every aggregate

TARGET_VERIFY_RATE = 250_000.0  # events/s, full verification of 1,000,000 events
TARGET_PROOF_P95_MS = 5.0  # inclusion and consistency proofs at 1,000,000 leaves
TARGET_CHAIN_RATIO = 0.9  # append rate with the chain ÷ without it
TARGET_SNAPSHOT_VERIFY_RATIO = 0.8  # verify rate with the snapshots' authenticators checked ÷ without


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


@dataclass(frozen=True)
class Build:
    """1.: the sample, the log built to N events, its tree and checkpoints."""

    templates: list[StoredEvent]  # the sample project's events, reused under fresh ids
    template: Snapshot  # a real snapshot of the sample project
    mapper: Mapper[UUID]
    source: EventSource
    head: int  # events the sample wrote through Ledger
    bulk: BulkTimings
    extends: list[tuple[str, Timing]]
    signs: list[tuple[str, Timing]]
    signed: list[StoredCheckpoint]


@dataclass(frozen=True)
class Verification:
    """2.: the whole log read raw and verified, by each worker count and implementation."""

    parallel: int  # processes of the raw parallel reads: the most workers measured
    raw_bytes: Timing
    raw_copy: Timing
    raw_parallel: Timing
    raw_libpq: Timing
    verifications: list[tuple[int, bool, Timing]]  # (workers, accelerator, timing)
    ceilings: dict[bool, Ceiling]


@dataclass(frozen=True)
class SnapshotAuthentication:
    """2b.: verification without and with the snapshots' check, at two densities; the signatures' cost."""

    realistic: int
    worst: int
    workers: int
    accelerator: bool
    store: Timing  # snapshots stored by SnapshotRecorder
    verifies: list[tuple[int, Timing, Timing]]  # (snapshots stored, without their check, with it)
    costs: SignatureCosts


@dataclass(frozen=True)
class Results:
    settings: dict[str, str]
    build: Build
    verification: Verification
    snapshots: SnapshotAuthentication
    deep: tuple[Timing, Timing, int]  # verify --deep, the bare library's replay, aggregates
    proofs: ProofRun
    single: list[Timing]  # raw, plain, unchained, chain: 1 event per transaction
    batched: list[Timing]  # the same, in batches


def report(db: BenchDatabase, options: Options, clock: Clock, results: Results) -> None:
    settings = results.settings
    size = options.events
    half = size // 2
    head, templates, bulk = results.build.head, results.build.templates, results.build.bulk
    extends, signs = results.build.extends, results.build.signs
    verified = results.verification
    parallel, ceilings, verifications = verified.parallel, verified.ceilings, verified.verifications
    raw_bytes_t, raw_copy_t = verified.raw_bytes, verified.raw_copy
    raw_parallel_t, raw_libpq_t = verified.raw_parallel, verified.raw_libpq
    snapshots = results.snapshots
    realistic, worst, costs = snapshots.realistic, snapshots.worst, snapshots.costs
    verify_workers, verify_accelerator = snapshots.workers, snapshots.accelerator
    snapshot_store_t, snapshot_verifies = snapshots.store, snapshots.verifies
    deep_t, bare_replay_t, aggregate_count = results.deep
    proof_run = results.proofs
    raw_select_t, inclusion_t, consistency_t = proof_run.timings
    raw_single_t, plain_single_t, unchained_single_t, chain_single_t = results.single
    raw_batched_t, plain_batched_t, unchained_batched_t, chain_batched_t = results.batched

    bulk_t = Timing.of(bulk.ours, options.batch)
    raw_bulk_t = Timing.of(bulk.raw, options.batch)
    best_workers, best_accelerator, best_verify_t = max(verifications, key=lambda item: item[2].rate)
    best_by = {
        accelerator: max((item for item in verifications if item[1] == accelerator), key=lambda item: item[2].rate)
        for accelerator in options.accelerators
    }
    payload = sum(len(event.state) for event in templates) / len(templates)
    title = "bench_integrity — verification, proofs and the chain's append cost beside raw PostgreSQL (same run)"
    print_header(
        title,
        [
            *server_header(db, settings),
            ("machine", machine_line("eventsourcing", "psycopg")),
            (
                "parameters",
                f"--events {size} --batch {options.batch} --workers {','.join(map(str, options.workers))} "
                f"--implementations {','.join('c' if a else 'python' for a in options.accelerators)} "
                f"--proofs {options.proofs} --singles {options.singles} --batches {options.batches} "
                f"--batch-size {options.batch_size} --rounds {options.rounds} "
                f"--verify-rounds {options.verify_rounds} --snapshots-per-1000 {options.snapshots_per_1000:g} "
                f"--snapshot-rounds {options.snapshot_rounds} --deep-workers {options.deep_workers} "
                f"--deep-rounds {options.deep_rounds} --seed {options.seed}",
            ),
            (
                "events",
                f"{size:,} leaves: {head} from the sample run through Ledger, then its {len(templates)} stored "
                f"events byte for byte under fresh ids ({payload:,.0f}-byte JSON states on average), "
                "appended through LedgerRecorder.insert_events",
            ),
            ("checkpoints", f"signed (Ed25519) at {half:,} and {size:,}; verification checks both"),
            (
                "snapshots",
                f"added after the first verification: {realistic:,} ({options.snapshots_per_1000:g} per 1,000 "
                f"events), then {worst:,} (one per {WORST_SNAPSHOT_EVERY} events), each a {costs.state_bytes:,}-"
                f"byte snapshot of the sample project at version {EVENTS_PER_ORIGINATOR} under a random "
                "aggregate's id, signed with the log's key",
            ),
            (
                "verifier",
                "; ".join(f"{IMPLEMENTATION_NAMES[a]} = {speedups.describe(a)}" for a in options.accelerators),
            ),
        ],
        width=13,
    )

    sections: list[tuple[str, Sequence[Row]]] = [
        (
            f"Build: {size:,} events, {options.batch} per transaction (latency per transaction)",
            [
                Row(
                    f"raw INSERT … unnest, {options.batch} rows/txn (same rows, 1 batch in {RAW_BULK_EVERY})",
                    raw_bulk_t,
                    "rows",
                    raw_bulk_t,
                ),
                Row("ours: bulk append, LedgerRecorder.insert_events", bulk_t, "events", raw_bulk_t),
                *(Row(name, timing, "leaves") for name, timing in extends),
                *(Row(name, timing, "signs") for name, timing in signs),
                Row(
                    f"ours: snapshots stored by SnapshotRecorder (chain hash looked up, signed), {SNAPSHOT_BATCH}/txn",
                    snapshot_store_t,
                    "snapshots",
                ),
            ],
        ),
        (
            f"Full verification of {size:,} events (one call each: latency = its duration)",
            [
                Row("raw COPY … TO STDOUT (FORMAT BINARY), 8 columns, rows() only", raw_copy_t, "rows", raw_copy_t),
                Row("raw COPY, same, data blocks only (no row parsing)", raw_bytes_t, "rows", raw_copy_t),
                Row(
                    f"raw COPY, same, data blocks only, {parallel} processes over verify_log's chunks",
                    raw_parallel_t,
                    "rows",
                    raw_copy_t,
                ),
                Row(
                    f"raw COPY, same, {parallel} processes, read by verify_log's own reader (libpq, batches)",
                    raw_libpq_t,
                    "rows",
                    raw_copy_t,
                ),
                *(
                    row
                    for accelerator, ceiling in ceilings.items()
                    for row in (
                        Row(
                            f"{IMPLEMENTATION_NAMES[accelerator]}: row checks, {ceiling.rows:,} rows in memory, 1 core",
                            Timing.of([ceiling.check_seconds], ceiling.rows),
                            "events",
                        ),
                        Row(
                            f"{IMPLEMENTATION_NAMES[accelerator]}: Merkle levels over their leaves, 1 core",
                            Timing.of([ceiling.tree_seconds], ceiling.rows),
                            "leaves",
                        ),
                    )
                ),
                *(
                    Row(
                        f"ours: verify_log(workers={workers}), {IMPLEMENTATION_NAMES[accelerator]}",
                        timing,
                        "events",
                        raw_copy_t,
                    )
                    for workers, accelerator, timing in verifications
                ),
            ],
        ),
        (
            f"Verification with snapshot authentication: verify_log(workers={verify_workers}, "
            f"{IMPLEMENTATION_NAMES[verify_accelerator]}), the two alternating",
            [
                row
                for count, without, with_check in snapshot_verifies
                for row in (
                    Row(
                        f"today's verify: VerifyPolicy(snapshots=False), {count:,} snapshots stored",
                        without,
                        "events",
                        raw_copy_t,
                    ),
                    Row(
                        f"ours: VerifyPolicy(snapshots=True), {count:,} authenticators checked",
                        with_check,
                        "events",
                        raw_copy_t,
                    ),
                )
            ],
        ),
        (
            f"Snapshot authentication on one core (a {costs.state_bytes:,}-byte snapshot; latency = one call)",
            [
                Row("SnapshotAuthenticator.sign (what storing a snapshot adds)", costs.sign, "signs"),
                Row("  cryptography's Ed25519PrivateKey.sign alone, key object made once", costs.bare_sign, "signs"),
                Row(
                    "snapshot_message + VerifierKey.verify (what verify_log does per snapshot)", costs.verify, "checks"
                ),
                Row("SnapshotAuthenticator.check (what loading a snapshot adds)", costs.check, "checks"),
                Row("  snapshot_message alone (SHA-256 of the state)", costs.message, "messages"),
                Row(
                    "  cryptography's Ed25519PublicKey.verify alone, key object made once",
                    costs.bare_verify,
                    "verifies",
                ),
            ],
        ),
        (
            f"Deep verification: {size:,} events of {aggregate_count:,} aggregates replayed, "
            f"{options.deep_workers} processes each",
            [
                Row(
                    "bare eventsourcing: Repository(ledger.events).get(id) of each (no snapshots, no cache)",
                    bare_replay_t,
                    "events",
                ),
                Row(
                    f"ours: replay_all (jixiao verify --deep), {worst:,} snapshots compared with the replay",
                    deep_t,
                    "events",
                ),
            ],
        ),
        (
            f"Proofs at {size:,} leaves (fresh TransparencyLog, pooled connections; random positions)",
            [
                Row("raw SELECT leaf_hash WHERE leaf_index = %s (pool)", raw_select_t, "reads", raw_select_t, True),
                Row(f"ours: inclusion_proof(random index, {size:,})", inclusion_t, "proofs", raw_select_t, True),
                Row(f"ours: consistency_proof(random old, {size:,})", consistency_t, "proofs", raw_select_t, True),
            ],
        ),
        (
            "Append cost of the chain: fresh tables, 1 event per transaction",
            [
                Row("raw INSERT, 1 row/txn (autocommit)", raw_single_t, "rows", raw_single_t),
                Row(
                    "plain: PostgresApplicationRecorder.insert_events (the bare library)",
                    plain_single_t,
                    "events",
                    raw_single_t,
                ),
                Row(
                    "unchained: LedgerRecorder without the chain fold (bench)",
                    unchained_single_t,
                    "events",
                    raw_single_t,
                ),
                Row("chain: LedgerRecorder.insert_events", chain_single_t, "events", raw_single_t),
            ],
        ),
        (
            f"Append cost of the chain: fresh tables, {options.batch_size} events per transaction",
            [
                Row(f"raw INSERT … unnest, {options.batch_size} rows/txn", raw_batched_t, "rows", raw_batched_t),
                Row(
                    "plain: PostgresApplicationRecorder.insert_events (the bare library)",
                    plain_batched_t,
                    "events",
                    raw_batched_t,
                ),
                Row(
                    "unchained: LedgerRecorder without the chain fold (bench)",
                    unchained_batched_t,
                    "events",
                    raw_batched_t,
                ),
                Row("chain: LedgerRecorder.insert_events", chain_batched_t, "events", raw_batched_t),
            ],
        ),
    ]
    print_sections(sections)
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
        para(note)
    print()

    single_ratio = chain_single_t.rate / plain_single_t.rate
    batched_ratio = chain_batched_t.rate / plain_batched_t.rate
    single_own = chain_single_t.rate / unchained_single_t.rate
    batched_own = chain_batched_t.rate / unchained_batched_t.rate
    snapshot_ratios = [(count, with_check.rate / without.rate) for count, without, with_check in snapshot_verifies]
    targets: list[list[str]] = [
        *(
            [
                f"verify rate with snapshot authentication ÷ today's verify, {count:,} snapshots "
                f"({'realistic' if count == realistic else 'worst case'})",
                fmt_ratio(ratio),
                f"≥ {TARGET_SNAPSHOT_VERIFY_RATIO:.2f}×",
                verdict(ratio >= TARGET_SNAPSHOT_VERIFY_RATIO),
            ]
            for count, ratio in snapshot_ratios
        ),
        [
            f"full verification of {size:,} events (best: workers={best_workers}, "
            f"{IMPLEMENTATION_NAMES[best_accelerator]})",
            fmt_rate(best_verify_t.rate, "events"),
            f"≥ {TARGET_VERIFY_RATE:,.0f} events/s",
            verdict(best_verify_t.rate >= TARGET_VERIFY_RATE),
        ],
        [
            f"inclusion proof at {size:,} leaves, p95",
            f"{fmt_ms(inclusion_t.p95_ms)} ms",
            f"< {TARGET_PROOF_P95_MS:.0f} ms",
            verdict(inclusion_t.p95_ms < TARGET_PROOF_P95_MS),
        ],
        [
            f"consistency proof at {size:,} leaves, p95",
            f"{fmt_ms(consistency_t.p95_ms)} ms",
            f"< {TARGET_PROOF_P95_MS:.0f} ms",
            verdict(consistency_t.p95_ms < TARGET_PROOF_P95_MS),
        ],
        [
            "append rate with chain ÷ bare library, 1 event/txn",
            fmt_ratio(single_ratio),
            f"≥ {TARGET_CHAIN_RATIO:.2f}×",
            verdict(single_ratio >= TARGET_CHAIN_RATIO),
        ],
        [
            f"append rate with chain ÷ bare library, {options.batch_size} events/txn",
            fmt_ratio(batched_ratio),
            f"≥ {TARGET_CHAIN_RATIO:.2f}×",
            verdict(batched_ratio >= TARGET_CHAIN_RATIO),
        ],
        [
            "append rate with chain ÷ same recorder unchained, 1 event/txn",
            fmt_ratio(single_own),
            f"≥ {TARGET_CHAIN_RATIO:.2f}×",
            verdict(single_own >= TARGET_CHAIN_RATIO),
        ],
        [
            f"append rate with chain ÷ same recorder unchained, {options.batch_size} events/txn",
            fmt_ratio(batched_own),
            f"≥ {TARGET_CHAIN_RATIO:.2f}×",
            verdict(batched_own >= TARGET_CHAIN_RATIO),
        ],
        [
            "proofs verified against the signed root",
            f"{proof_run.checked - proof_run.failed:,}/{proof_run.checked:,}",
            "all",
            verdict(proof_run.failed == 0),
        ],
    ]
    info: list[list[str]] = [
        [
            "best verification rate ÷ raw COPY rate (rows(), 1 process)",
            fmt_ratio(best_verify_t.rate / raw_copy_t.rate),
            "",
            "",
        ],
        [
            f"best verification rate ÷ raw COPY data blocks in {parallel} processes",
            fmt_ratio(best_verify_t.rate / raw_parallel_t.rate),
            "",
            "",
        ],
        [
            f"best verification rate ÷ raw COPY by verify_log's reader in {parallel} processes",
            fmt_ratio(best_verify_t.rate / raw_libpq_t.rate),
            "",
            "",
        ],
        *(
            [
                f"best verification rate, {IMPLEMENTATION_NAMES[accelerator]} (workers={workers})",
                fmt_rate(timing.rate, "events"),
                f"≥ {TARGET_VERIFY_RATE:,.0f} events/s",
                verdict(timing.rate >= TARGET_VERIFY_RATE),
            ]
            for accelerator, (workers, _, timing) in best_by.items()
        ),
        *(
            [
                [
                    f"best verification rate, {IMPLEMENTATION_NAMES[True]} ÷ {IMPLEMENTATION_NAMES[False]}",
                    fmt_ratio(best_by[True][2].rate / best_by[False][2].rate),
                    "",
                    "",
                ]
            ]
            if len(best_by) == 2
            else []
        ),
        *(
            [
                f"best verification rate ÷ {IMPLEMENTATION_NAMES[accelerator]} row checks in memory (1 core)",
                fmt_ratio(best_verify_t.rate * ceiling.check_seconds / ceiling.rows),
                "",
                "",
            ]
            for accelerator, ceiling in ceilings.items()
        ),
        ["bulk append rate ÷ raw INSERT … unnest rate", fmt_ratio(bulk_t.rate / raw_bulk_t.rate), "", ""],
        *(
            [
                f"  verify_log's extra wall time per snapshot × {verify_workers} workers ({count:,} snapshots)",
                f"{extra_per_snapshot(without, with_check, count, verify_workers) * 1e6:,.0f} µs",
                "",
                "",
            ]
            for count, without, with_check in snapshot_verifies
        ),
        [
            "  Ed25519 sign, verify per snapshot as the ledger does them (medians, 1 core)",
            f"{costs.sign.median_ms * 1000:,.0f} µs, {costs.verify.median_ms * 1000:,.0f} µs",
            "",
            "",
        ],
        ["verify --deep rate (events/s)", fmt_rate(deep_t.rate, "events"), "", ""],
        [
            "verify --deep rate ÷ the bare library's replay of the same aggregates",
            fmt_ratio(deep_t.rate / bare_replay_t.rate),
            "",
            "",
        ],
        [
            "median latency, bare library ÷ chain, 1 event/txn",
            fmt_ratio(plain_single_t.median_ms / chain_single_t.median_ms),
            "",
            "",
        ],
        [
            f"median latency, bare library ÷ chain, {options.batch_size} events/txn",
            fmt_ratio(plain_batched_t.median_ms / chain_batched_t.median_ms),
            "",
            "",
        ],
    ]
    print_checks([*targets, *info])
    total = clock.elapsed
    print_table(
        ["phase", "seconds"],
        [[name, f"{seconds:,.1f}"] for name, seconds in clock.phases]
        + [["total (server start to report, drop not included)", f"{total:,.1f}"]],
        right=(1,),
    )
    print()
