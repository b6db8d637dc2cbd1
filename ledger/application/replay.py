"""``jixiao verify --deep``: replay every aggregate from its events and hold every snapshot to the replay.

A snapshot's authenticator proves the ledger's key signed it; it cannot prove the ledger was right to. The deep
check needs no key at all: it folds each aggregate's events, one after another, through the same domain code the
service runs, and at every version where a snapshot is stored compares the snapshot's recorded state with the
replayed one. An event that cannot be applied, or a snapshot that says something the events do not, is named.

The aggregates are split by id into ranges, each replayed in a process of its own, reading its events and
snapshots in (id, version) order through server-side cursors: one pass, memory bounded by one aggregate.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, StoredEvent

from ledger.log.verifier import CheckOutcome
from ledger.store.reads import in_id_order, snapshots_exist
from ledger.store.tables import EVENTS, SNAPSHOTS
from ledger.store.transcodings import ledger_mapper

FETCH = 2000  # rows a server-side cursor brings at a time


@dataclass
class DeepReport(CheckOutcome):
    aggregates: int = 0
    events: int = 0
    snapshots: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def _state(stored_state: bytes) -> Any:
    """A stored snapshot's recorded aggregate state and topic, as JSON (the snapshot's own time left out)."""
    document = json.loads(stored_state)
    return document.get("topic"), document.get("state")


def _first_difference(recorded: Any, replayed: Any) -> str:
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        for key in sorted(set(recorded) | set(replayed)):
            if recorded.get(key) != replayed.get(key):
                return str(key)
    return "the state"


def replay_range(database_url: str, lo: int, hi: int) -> DeepReport:
    """Replay the aggregates whose ids fall in [lo, hi) and compare each of their snapshots."""
    mapper: Mapper[Any] = ledger_mapper()
    report = DeepReport()
    with psycopg.connect(database_url, client_encoding="UTF8") as conn, conn.transaction():
        snapshots = (
            in_id_order(conn, SNAPSHOTS, lo, hi, "jixiao-deep-snapshots", FETCH) if snapshots_exist(conn) else iter(())
        )
        pending = next(snapshots, None)
        aggregate: Any = None
        current: UUID | None = None
        failed: UUID | None = None  # an aggregate whose replay failed: its later events are skipped
        for originator_id, version, topic, state in in_id_order(conn, EVENTS, lo, hi, "jixiao-deep-events", FETCH):
            report.events += 1
            if originator_id != current:
                current, aggregate = originator_id, None
                report.aggregates += 1
            if failed == originator_id:
                while pending is not None and (pending[0], pending[1]) <= (originator_id, version):
                    pending = next(snapshots, None)  # not comparable with a replay that failed (reported)
                continue
            try:
                event = mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
                aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
            except Exception as error:  # the event itself is what is wrong: say which, and go on with the others
                report.failures.append(
                    f"{originator_id} version {version}: the event cannot be replayed ({type(error).__name__}: {error})"
                )
                failed = originator_id
                continue
            while pending is not None and (pending[0], pending[1]) < (originator_id, version):
                if pending[0] == failed:  # not comparable with a replay that failed (reported)
                    pending = next(snapshots, None)
                    continue
                report.failures.append(
                    f"snapshot of {pending[0]} at version {pending[1]}: the log holds no event at that version"
                )
                pending = next(snapshots, None)
            if pending is not None and (pending[0], pending[1]) == (originator_id, version):
                report.snapshots += 1
                replayed = _state(mapper.to_stored_event(Snapshot.take(aggregate)).state)
                recorded = _state(pending[3])
                if recorded != replayed:
                    report.failures.append(
                        f"snapshot of {originator_id} at version {version}: it differs from the replayed events "
                        f"(first in {_first_difference(recorded[1], replayed[1])!r}): forged or altered"
                    )
                pending = next(snapshots, None)
        while pending is not None:
            report.failures.append(
                f"snapshot of {pending[0]} at version {pending[1]}: the log holds no event at that version"
            )
            pending = next(snapshots, None)
    return report


def replay_all(
    database_url: str, *, workers: int | None = None, progress: Callable[[DeepReport], None] | None = None
) -> DeepReport:
    """Replay every aggregate in ``workers`` processes (default: one per core; 0: in this one)."""
    started = time.perf_counter()
    count = workers if workers is not None else (os.cpu_count() or 1)
    parts = max(1, 4 * count)
    step = (1 << 128) // parts
    ranges = [(i * step, (i + 1) * step if i < parts - 1 else 1 << 128) for i in range(parts)]
    total = DeepReport()

    def add(part: DeepReport) -> None:
        total.aggregates += part.aggregates
        total.events += part.events
        total.snapshots += part.snapshots
        total.failures.extend(part.failures)
        if progress is not None:
            progress(total)

    if count > 0:
        with ProcessPoolExecutor(max_workers=count) as pool:
            for future in as_completed([pool.submit(replay_range, database_url, lo, hi) for lo, hi in ranges]):
                add(future.result())
    else:
        for lo, hi in ranges:
            add(replay_range(database_url, lo, hi))
    total.failures.sort()
    total.seconds = time.perf_counter() - started
    return total
