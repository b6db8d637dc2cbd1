"""Write and replay throughput of the ledger, beside raw PostgreSQL and bare eventsourcing measured in the same run.

    python -m bench.bench_write [--commands N] [--batch N] [--replays N] [--rounds N]

Measures, on one fresh database:

1. one command per transaction: raw single-row INSERTs (autocommit), bare eventsourcing get-and-save of a
   one-field aggregate, and the ledger's ``note_key_evaluation_supervision`` (get, decide, save) on one
   project and round-robin over several;
2. snapshot authentication: the same command round-robin over 10 projects (a snapshot every 50 events), through
   ``Ledger(url, signing_key=KEY)`` and through the same ledger with authentication stubbed out, interleaved;
3. batched: raw INSERTs of B rows per statement, and B events triggered on one project saved at once;
4. replay of a 1,000-event project: with snapshots, without, from the cache, and a raw read of 1,000 rows.

The ledger is given a signing key, as the service runs it: without one it takes no snapshot at all.

"Without authentication" (2.) is ``UnauthenticatedLedger``: the same ``Ledger`` with the same key, taking and
encoding the same snapshots on the committing thread and storing them on the same background thread through the
same binary INSERT, rows of the same size (an authenticator of 68 zero bytes) — but its recorder neither looks up
the chain hash of the snapshot's leaf (one SELECT per group of snapshots) nor signs (one Ed25519 signature per
snapshot), and its loads take the newest snapshot unchecked. That is exactly what authentication adds to a
command's work. Snapshots are stored on a thread of their own, so their cost shows as CPU contention with the
commands: each timed chunk of the pair ends with ``wait_for_snapshots()``, inside its elapsed time.

The write series are interleaved in rounds so drift hits them alike. Nothing is asserted: the targets are
printed beside the measurements.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import psycopg
from eventsourcing.application import Repository
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder

from bench.common import (
    BenchDatabase,
    RawEvents,
    Row,
    Series,
    bench_database,
    checkpoint,
    fmt_ms,
    fmt_ratio,
    interleave,
    interleave_alternating,
    machine_line,
    para,
    print_checks,
    print_header,
    print_sections,
    require_at_least_one,
    server_header,
    server_settings,
    time_calls,
    verdict,
)
from bench.sample import (
    CLOCK_NOW,
    EFFECTIVE_ON,
    FINANCE,
    SETUP_EVENTS,
    BenchProject,
    Counter,
    add_batch,
    bare_application,
    build_project,
    build_projects,
    fill_to,
    notes,
    prepare_ledger,
)
from ledger.application.ledger import Act, Ledger
from ledger.domain.project import Project
from ledger.log.checkpoint import SigningKey
from ledger.store.snapshot_recorder import SnapshotRecorder

REPLAY_EVENTS = 1000
MAX_PROJECT_EVENTS = 1000  # write series move on to a fresh project here, so aggregate size stays realistic
ROUND_ROBIN_PROJECTS = 10
SNAPSHOT_EVERY = 50  # ledger.application.SNAPSHOT_INTERVAL
WARMUP_CALLS = 20
TARGET_COMMAND_RATIO = 0.8  # ours ÷ bare eventsourcing get-and-save
TARGET_AUTH_RATIO = 0.95  # command rate with snapshot authentication ÷ without it
PLACEHOLDER_AUTHENTICATOR = bytes(68)  # a real one's size: key ID (4) and Ed25519 signature (64)
SIGN_CALLS = 500
TARGET_REPLAY_P95_MS = 20.0  # 1,000-event project, with snapshots


class UnsignedSnapshotRecorder(SnapshotRecorder):
    """``SnapshotRecorder`` less authentication: the same binary INSERT of rows of the same size, but no chain-hash
    lookup and no signature (the authenticator is a placeholder); loads take the newest snapshot unchecked."""

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **_: Any) -> None:
        curs.execute(
            self.insert_snapshots_statement,
            (
                [stored.originator_id for stored in stored_events],
                [stored.originator_version for stored in stored_events],
                [stored.topic for stored in stored_events],
                [stored.state for stored in stored_events],
                [PLACEHOLDER_AUTHENTICATOR] * len(stored_events),
            ),
        )

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        stored: Sequence[StoredEvent] = PostgresAggregateRecorder.select_events(
            self, originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        return stored


class UnauthenticatedLedger(Ledger):
    """``Ledger`` whose snapshots are taken, encoded and stored as with a key, less their authentication (see
    ``UnsignedSnapshotRecorder``); give it a key all the same, or it takes none."""

    snapshot_recorder_class = UnsignedSnapshotRecorder


def count_snapshots(url: str, ledger: Ledger, projects: Sequence[BenchProject]) -> tuple[int, int]:
    """Snapshots stored for these projects, and how many they should have (one per 50 events of each)."""
    ids = [project.id for project in projects]
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_snapshots WHERE originator_id = ANY(%s)", (ids,)).fetchone()
    stored = int(row[0]) if row else 0
    expected = sum(ledger.project(pid).version // SNAPSHOT_EVERY for pid in ids)
    return stored, expected


def run(db: BenchDatabase, commands: int, batch: int, replays: int, rounds: int) -> None:
    url = db.url
    settings = server_settings(url)
    signing_key = SigningKey.generate("bench-write")
    ledger = Ledger(url, clock=lambda: CLOCK_NOW, signing_key=signing_key)
    # The pair of 2.: two fresh ledgers alike but for authentication, each with a cache of its own projects only.
    authenticated = Ledger(url, clock=lambda: CLOCK_NOW, signing_key=signing_key)
    unauthenticated = UnauthenticatedLedger(url, clock=lambda: CLOCK_NOW, signing_key=signing_key)
    bare = bare_application(url)
    raw = RawEvents(url)
    try:
        prepare_ledger(ledger)
        per_project = MAX_PROJECT_EVENTS - SETUP_EVENTS  # commands before moving on to the next project
        singles = build_projects(ledger, "BENCH-SINGLE", -(-(WARMUP_CALLS + commands) // per_project))
        batches = max(20, commands // batch)
        batches_per_project = max(1, per_project // batch)
        batched = build_projects(ledger, "BENCH-BATCH", -(-(2 + batches) // batches_per_project))
        spread = build_projects(ledger, "BENCH-RR", ROUND_ROBIN_PROJECTS)
        authenticated_projects = build_projects(authenticated, "BENCH-AUTH", ROUND_ROBIN_PROJECTS)
        unauthenticated_projects = build_projects(unauthenticated, "BENCH-NOAUTH", ROUND_ROBIN_PROJECTS)
        replayed = build_project(ledger, "BENCH-REPLAY")
        finance = Act(FINANCE, EFFECTIVE_ON, reason="督导")

        # ----------------------------------------------------- one command per transaction
        def ours_single(i: int) -> None:
            project = singles[i // per_project]
            ledger.note_key_evaluation_supervision(finance, project.id, project.evaluation_id, notes(i))

        def ours_spread(i: int) -> None:
            project = spread[i % len(spread)]
            ledger.note_key_evaluation_supervision(finance, project.id, project.evaluation_id, notes(i))

        ours_series = Series(ours_single, settle=ledger.wait_for_snapshots)
        ours_series.warm(WARMUP_CALLS)
        # The raw rows carry a real stored event: the last supervision note, byte for byte.
        (stored,) = ledger.recorder.select_events(singles[0].id, desc=True, limit=1)
        topic, payload = stored.topic, stored.state

        raw_id = uuid4()
        counter = Counter()
        bare.save(counter)

        def raw_single(i: int) -> None:
            raw.insert_one(raw_id, i + 1, topic, payload)

        def bare_get_and_save(_: int) -> None:
            aggregate: Counter = bare.repository.get(counter.id)
            aggregate.increment()
            bare.save(aggregate)

        raw_series, bare_series = Series(raw_single), Series(bare_get_and_save)
        spread_series = Series(ours_spread, settle=ledger.wait_for_snapshots)
        for series in (raw_series, bare_series, spread_series):
            series.warm(WARMUP_CALLS)  # ours_series is warm already
        raw_t, bare_t, ours_t, spread_t = interleave(
            [raw_series, bare_series, ours_series, spread_series],
            commands,
            rounds=rounds,
            before_round=lambda: checkpoint(url),
        )

        # ---------------------------------------------------------- snapshot authentication
        def round_robin(on: Ledger, projects: Sequence[BenchProject]) -> Series:
            def command(i: int) -> None:
                project = projects[i % len(projects)]
                on.note_key_evaluation_supervision(finance, project.id, project.evaluation_id, notes(i))

            return Series(command, settle=on.wait_for_snapshots)

        auth_pair = [
            round_robin(authenticated, authenticated_projects),
            round_robin(unauthenticated, unauthenticated_projects),
        ]
        for series in auth_pair:
            series.warm(WARMUP_CALLS)
        authenticated_t, unauthenticated_t = interleave_alternating(
            auth_pair, commands, rounds=rounds, before_round=lambda: checkpoint(url)
        )
        authenticated_counts = count_snapshots(url, authenticated, authenticated_projects)
        unauthenticated_counts = count_snapshots(url, unauthenticated, unauthenticated_projects)
        # What one signature costs on this machine, as the snapshot thread signs: the newest snapshot stored.
        assert authenticated.snapshots is not None
        (latest_snapshot,) = authenticated.snapshots.recorder.select_events(
            authenticated_projects[0].id, desc=True, limit=1
        )
        sign_t = time_calls(
            lambda _: authenticated.snapshot_authenticator.sign(latest_snapshot, bytes(32)),
            SIGN_CALLS,
            warmup=WARMUP_CALLS,
        )

        # ----------------------------------------------------------------------- batched
        raw_batch_id = uuid4()

        def raw_batched(i: int) -> None:
            raw.insert_many(raw_batch_id, i * batch + 1, batch, topic, payload)

        def ours_batched(i: int) -> None:
            add_batch(ledger, batched[i // batches_per_project], batch, i * batch)

        batch_series = [Series(raw_batched, units_per_call=batch), Series(ours_batched, units_per_call=batch)]
        for series in batch_series:
            series.warm(2)
        raw_batch_t, ours_batch_t = interleave(
            batch_series, batches, rounds=rounds, before_round=lambda: checkpoint(url)
        )

        # ------------------------------------------------------------------------ replay
        fill_to(ledger, replayed, REPLAY_EVENTS, 50)
        ledger.wait_for_snapshots()  # stored in the background
        raw_replay_id = uuid4()
        raw.insert_many(raw_replay_id, 1, REPLAY_EVENTS, topic, payload)
        assert ledger.snapshots is not None
        with_snapshots: Repository[UUID] = Repository(ledger.events, snapshot_store=ledger.snapshots)  # no cache
        without_snapshots: Repository[UUID] = Repository(ledger.events)  # no cache, no snapshots
        (snapshot,) = ledger.snapshots.recorder.select_events(replayed.id, desc=True, limit=1)
        snapshot_bytes = len(snapshot.state)
        for repository in (with_snapshots, without_snapshots, ledger.repository):
            project: Project = repository.get(replayed.id)
            if project.version != REPLAY_EVENTS:
                raise RuntimeError(f"replayed version {project.version}, expected {REPLAY_EVENTS}")
        if len(raw.read(raw_replay_id)) != REPLAY_EVENTS:
            raise RuntimeError("the raw replay rows are missing")

        checkpoint(url)
        warm = 5
        raw_read_t = time_calls(lambda _: raw.read(raw_replay_id), replays, warmup=warm)
        snap_t = time_calls(lambda _: with_snapshots.get(replayed.id), replays, warmup=warm)
        snap_worst_t = time_calls(
            lambda _: with_snapshots.get(replayed.id, version=REPLAY_EVENTS - 1), replays, warmup=warm
        )
        full_t = time_calls(lambda _: without_snapshots.get(replayed.id), replays, warmup=warm)
        cached_t = time_calls(lambda _: ledger.project(replayed.id), replays, warmup=warm)
    finally:
        raw.close()
        bare.close()
        unauthenticated.close()
        authenticated.close()
        ledger.close()

    # -------------------------------------------------------------------------- report
    print_header(
        "bench_write — ledger writes and replay beside raw PostgreSQL and bare eventsourcing (same run)",
        [
            *server_header(db, settings),
            ("machine", machine_line("eventsourcing", "psycopg")),
            (
                "parameters",
                f"--commands {commands} --batch {batch} --replays {replays} --rounds {rounds} "
                f"({batches} batches; write series interleaved in {rounds} rounds)",
            ),
            (
                "payload",
                f"{len(payload)} bytes per raw row: the stored {topic.rsplit('.', 1)[-1]} event, byte for byte",
            ),
            (
                "snapshot",
                f"every 50 events, signed with the ledger's key; the replay project's latest is "
                f"{snapshot_bytes:,} bytes",
            ),
        ],
    )

    print_sections(
        [
            (
                "One command per transaction",
                [
                    Row("raw INSERT, 1 row/txn (autocommit)", raw_t, "rows", raw_t),
                    Row("bare eventsourcing get+save (1-field Counter)", bare_t, "cmd", raw_t),
                    Row("ours: note_key_evaluation_supervision, 1 project", ours_t, "cmd", raw_t),
                    Row(f"ours: same, round-robin over {ROUND_ROBIN_PROJECTS} projects", spread_t, "cmd", raw_t),
                ],
            ),
            (
                f"Snapshot authentication: round-robin over {ROUND_ROBIN_PROJECTS} projects, a snapshot every "
                f"{SNAPSHOT_EVERY} events (interleaved pair)",
                [
                    Row("ours: Ledger(signing_key=…), snapshots signed", authenticated_t, "cmd", raw_t),
                    Row(
                        "ours: same, authentication stubbed out (UnauthenticatedLedger)",
                        unauthenticated_t,
                        "cmd",
                        raw_t,
                    ),
                    Row("SnapshotAuthenticator.sign of the newest snapshot, 1 thread", sign_t, "signs"),
                ],
            ),
            (
                f"Batched ({batch} events per transaction; latency per transaction)",
                [
                    Row(f"raw INSERT … unnest, {batch} rows/txn", raw_batch_t, "rows", raw_batch_t),
                    Row(f"ours: get + {batch} events + save", ours_batch_t, "events", raw_batch_t),
                ],
            ),
            (
                f"Replay of a {REPLAY_EVENTS:,}-event project (no aggregate cache unless stated)",
                [
                    Row(f"raw SELECT {REPLAY_EVENTS:,} rows of one originator", raw_read_t, "reads", raw_read_t, True),
                    Row(f"ours: snapshot v{REPLAY_EVENTS} + 0 events", snap_t, "replays", raw_read_t, True),
                    Row(
                        f"ours: snapshot v{REPLAY_EVENTS - 50} + 49 events (v{REPLAY_EVENTS - 1})",
                        snap_worst_t,
                        "replays",
                        raw_read_t,
                        True,
                    ),
                    Row(f"ours: no snapshots, {REPLAY_EVENTS:,} events", full_t, "replays", raw_read_t, True),
                    Row(
                        "ours: Ledger.project — the log's tail read, a cache hit, a deepcopy",
                        cached_t,
                        "gets",
                        raw_read_t,
                        True,
                    ),
                ],
            ),
        ]
    )
    for note in (
        "vs raw PG: for writes our rate ÷ the raw rate; for reads our median ÷ the raw median.",
        "latency columns are per call: one command, one batch transaction, or one replay.",
        f"1 project: one project at a time, moving to a fresh one after {per_project} commands "
        f"(each grows from {SETUP_EVENTS} to {MAX_PROJECT_EVENTS:,} events); batched likewise.",
        "bare and ours share the pool and an aggregate cache of 2000. bare is the library as it comes: a get is a "
        "cache hit, its fast-forward query and a deepcopy; ours reads the log's tail once per command instead of "
        "fast-forwarding, and also takes a snapshot every 50 events (encoded inside the timed command, stored and "
        "signed by a thread of its own; each timed chunk of ours ends when that thread has stored them).",
        f"snapshot authentication: the pair runs {commands} commands each, interleaved in {rounds} rounds (the order "
        "reversed every other round), each on its own 10 projects and its own Ledger; 'stubbed out' takes, encodes "
        "and stores the same snapshots, rows of the same size, without the chain-hash lookup and the signature (see "
        f"the module docstring). Snapshots stored: {authenticated_counts[0]} signed (expected "
        f"{authenticated_counts[1]}), {unauthenticated_counts[0]} stubbed (expected {unauthenticated_counts[1]}).",
    ):
        para(note)
    print()

    command_ratio = ours_t.rate / bare_t.rate
    auth_ratio = authenticated_t.rate / unauthenticated_t.rate
    # The signatures' share of the signed run's wall time, were they done on the commands' own core.
    signing_share = authenticated_counts[0] * statistics.median(sign_t.durations) / authenticated_t.elapsed
    targets: list[list[str]] = [
        [
            "ours 1-cmd rate ÷ bare eventsourcing get+save rate",
            fmt_ratio(command_ratio),
            f"≥ {TARGET_COMMAND_RATIO:.2f}×",
            verdict(command_ratio >= TARGET_COMMAND_RATIO),
        ],
        [
            f"replay {REPLAY_EVENTS:,}-event project with snapshots, p95",
            f"{fmt_ms(snap_t.p95_ms)} ms",
            f"< {TARGET_REPLAY_P95_MS:.0f} ms",
            verdict(snap_t.p95_ms < TARGET_REPLAY_P95_MS),
        ],
        [
            "  same, worst case (49 events after the snapshot), p95",
            f"{fmt_ms(snap_worst_t.p95_ms)} ms",
            f"< {TARGET_REPLAY_P95_MS:.0f} ms",
            verdict(snap_worst_t.p95_ms < TARGET_REPLAY_P95_MS),
        ],
        [
            "command rate with snapshot authentication ÷ without it",
            fmt_ratio(auth_ratio),
            f"≥ {TARGET_AUTH_RATIO:.2f}×",
            verdict(auth_ratio >= TARGET_AUTH_RATIO),
        ],
    ]
    info: list[list[str]] = [
        ["ours round-robin rate ÷ bare get+save rate", fmt_ratio(spread_t.rate / bare_t.rate), "", ""],
        ["bare get+save rate ÷ raw INSERT rate", fmt_ratio(bare_t.rate / raw_t.rate), "", ""],
        ["ours batched events/s ÷ ours 1-cmd events/s", fmt_ratio(ours_batch_t.rate / ours_t.rate), "", ""],
        [
            "snapshots stored with authentication / expected (one per 50 events)",
            f"{authenticated_counts[0]}/{authenticated_counts[1]}",
            "all",
            verdict(authenticated_counts[0] == authenticated_counts[1] > 0),
        ],
        ["  the signatures' time ÷ the signed series' wall time", f"{signing_share:.2%}", "", ""],
    ]
    print_checks([*targets, *info])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_write", description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=4000, help="commands per one-command-per-transaction series")
    parser.add_argument("--batch", type=int, default=50, help="events per batched transaction")
    parser.add_argument("--replays", type=int, default=300, help="timed replays per replay measurement")
    parser.add_argument("--rounds", type=int, default=4, help="rounds the write series are interleaved in")
    args = parser.parse_args(argv)
    require_at_least_one(parser, args, ("commands", "batch", "replays", "rounds"))
    with bench_database() as db:
        run(db, args.commands, args.batch, args.replays, args.rounds)


if __name__ == "__main__":
    main()
