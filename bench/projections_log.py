"""bench_projections' data: the demo's fiscal year cloned under fresh ids into a log of N events, appended through
the ledger's recorder in large batches beside raw INSERTs of the same rows (see :mod:`bench.bench_projections`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID, uuid4

import psycopg
from eventsourcing.persistence import StoredEvent

from bench.common import RawEvents
from bench.sample import rows_of
from ledger.application.ledger import Ledger

APPEND_BATCH = 5_000  # events per insert_events call
RAW_SAMPLE_EVERY = 10  # one batch in ten is also inserted raw, for the baseline
PREFIX_EVENTS = 6  # events per project history when topping up to a project count
# Every aggregate a read model follows, issue 16's included (bench.projections_scenario records their events)
CLONED_KINDS = (
    "Project",
    "Department",
    "Unit",
    "Agency",
    "OverallGoals",
    "Decision",
    "DisclosureDuty",
    "CongressSubmission",
)


def kind_of(topic: str) -> str:
    """``Project.Declared`` from ``ledger.project:Project.Declared``."""
    return topic.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Template:
    """The histories of the demo and issue 16's loop after it (:data:`CLONED_KINDS`), in log order."""

    events: list[tuple[UUID, int, str, bytes]]
    prefix: list[tuple[UUID, int, str, bytes]]  # the first PREFIX_EVENTS events of each project history
    projects: list[UUID]  # in declaration order


def read_template(url: str) -> tuple[Template, list[UUID], dict[str, int]]:
    """The template to clone, the demo's own projects (declaration order) and its events per aggregate type."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM ledger_events ORDER BY leaf_index"
        ).fetchall()
    counts: dict[str, int] = {}
    for _, _, topic, _ in rows:
        kind = kind_of(topic).split(".", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    events = [
        (oid, int(version), topic, bytes(state))
        for oid, version, topic, state in rows
        if kind_of(topic).split(".", 1)[0] in CLONED_KINDS
    ]
    projects = [oid for oid, _, topic, _ in events if kind_of(topic) == "Project.Declared"]
    prefix = [item for item in events if kind_of(item[2]).startswith("Project.") and item[1] <= PREFIX_EVENTS]
    return Template(events, prefix, projects), list(projects), counts


class LogBuilder:
    """Appends clones of the template under fresh ids through the ledger's recorder, in large batches."""

    def __init__(self, ledger: Ledger, raw: RawEvents, head: int, projects: list[UUID]) -> None:
        self.recorder = ledger.log_recorder
        self.raw = raw
        self.head = head  # events in the log
        self.projects = projects  # every project in the log, in declaration order
        self.pending: list[StoredEvent] = []
        self.appended = 0
        self.calls: list[float] = []  # seconds per insert_events call
        self.raw_calls: list[float] = []  # seconds per raw INSERT of the same batch
        self.excluded = 0.0  # seconds spent on the raw baseline while building

    def clone(
        self,
        events: Sequence[tuple[UUID, int, str, bytes]],
        *,
        limit: int | None = None,
        max_projects: int | None = None,
    ) -> None:
        """Append one clone of ``events`` (at most ``limit`` events, at most ``max_projects`` projects)."""
        fresh: dict[UUID, UUID] = {}
        skipped: set[UUID] = set()
        cloned_projects = 0
        for count, (oid, version, topic, state) in enumerate(events):
            if limit is not None and count >= limit:
                break
            if oid in skipped:
                continue
            new_id = fresh.get(oid)
            if new_id is None:
                declared = kind_of(topic) == "Project.Declared"
                if declared and max_projects is not None and cloned_projects >= max_projects:
                    skipped.add(oid)
                    continue
                new_id = fresh[oid] = uuid4()
                if declared:
                    cloned_projects += 1
                    self.projects.append(new_id)
            self.pending.append(StoredEvent(originator_id=new_id, originator_version=version, topic=topic, state=state))
            if len(self.pending) >= APPEND_BATCH:
                self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        before = time.perf_counter()
        self.recorder.insert_events(batch)
        self.calls.append(time.perf_counter() - before)
        self.appended += len(batch)
        self.head += len(batch)
        if len(self.calls) % RAW_SAMPLE_EVERY == 1 and len(batch) == APPEND_BATCH:
            started = time.perf_counter()
            rows = rows_of(batch)
            before = time.perf_counter()
            self.raw.insert_rows(rows)
            self.raw_calls.append(time.perf_counter() - before)
            self.excluded += time.perf_counter() - started

    def grow(self, template: Template, target: int) -> None:
        """Clone whole histories until the log holds ``target`` events (the last clone cut to fit)."""
        while self.head + len(self.pending) < target:
            self.clone(template.events, limit=target - self.head - len(self.pending))
        self.flush()

    def top_up(self, template: Template, projects: int) -> None:
        """Clone the first events of project histories until the log holds ``projects`` projects."""
        while len(self.projects) < projects:
            self.clone(template.prefix, max_projects=projects - len(self.projects))
        self.flush()
