"""bench_integrity's data: the log of N events built in bulk beside a raw INSERT of the same rows, and snapshots
stored as the ledger stores them (see :mod:`bench.bench_integrity`)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from uuid import UUID

import psycopg
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, StoredEvent

from bench.common import Clock, RawEvents, datastore_for
from bench.sample import EVENTS_PER_ORIGINATOR, EventSource, rows_of
from ledger.application.ledger import Ledger
from ledger.log.checkpoint import SigningKey
from ledger.store.recorder import LedgerRecorder
from ledger.store.snapshot_recorder import SnapshotRecorder
from ledger.store.snapshots import SnapshotAuthenticator

RAW_BULK_EVERY = 10  # the raw bulk baseline inserts the same rows as one bulk batch in this many
PROGRESS_EVERY = 100_000
SNAPSHOT_BATCH = 500  # snapshots stored per transaction while building
MAX_BATCH = 500  # larger bulk batches can hang: see bench_integrity's --batch help


@dataclass
class BulkTimings:
    ours: list[float] = field(default_factory=list)  # seconds per full batch through LedgerRecorder
    raw: list[float] = field(default_factory=list)  # seconds per raw INSERT … unnest of the same rows
    events: int = 0


def bulk_append(
    recorder: LedgerRecorder,
    raw: RawEvents,
    source: EventSource,
    count: int,
    batch: int,
    timings: BulkTimings,
    clock: Clock,
) -> None:
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
        ids: list[UUID] = [
            row[0]
            for row in conn.execute(
                "SELECT originator_id FROM ledger_events WHERE originator_version = %s ORDER BY leaf_index",
                (EVENTS_PER_ORIGINATOR,),
            )
        ]
    random.Random(seed).shuffle(ids)
    return ids


def store_snapshots(
    url: str, key: SigningKey, mapper: Mapper[UUID], template: Snapshot, ids: Sequence[UUID]
) -> list[tuple[float, int]]:
    """Store a snapshot of each aggregate as the ledger stores one: the template's state under the aggregate's id,
    encoded by the ledger's mapper (untimed: the ledger encodes on the committing thread), then ``SnapshotRecorder``
    (timed: the chain hash of each snapshot's leaf looked up, each signed, all inserted in one transaction), in
    batches; returns the seconds and snapshots of each batch."""
    datastore = datastore_for(url)
    recorder = SnapshotRecorder(
        datastore,
        events_table_name="ledger_snapshots",
        log_table_name="ledger_events",
        authenticator=SnapshotAuthenticator(key),
    )
    batches: list[tuple[float, int]] = []
    try:
        for start in range(0, len(ids), SNAPSHOT_BATCH):
            stored = [
                mapper.to_stored_event(
                    replace(template, originator_id=originator_id, timestamp=Snapshot.create_timestamp())
                )
                for originator_id in ids[start : start + SNAPSHOT_BATCH]
            ]
            before = time.perf_counter()
            recorder.insert_events(stored)
            batches.append((time.perf_counter() - before, len(stored)))
    finally:
        datastore.close()
    return batches
