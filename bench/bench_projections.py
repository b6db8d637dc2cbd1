"""Read-side throughput: every read model caught up from a large log, and project_status query latency.

    python -m bench.bench_projections [--events N] [--projects N,N] [--pages P,P,P] [--queries N]
                                      [--budget SECONDS] [--no-profile]

Measures, on one fresh database:

1. a realistic log of ``--events`` events: the demo's 517-event fiscal year (32 projects, 8 departments, two
   agencies) run once, then its Project, Department and Agency histories cloned under fresh ids and appended
   through ``LedgerRecorder.insert_events`` 5,000 events per call (beside raw PostgreSQL INSERTs of the same
   batches, sampled in the same run);
2. catch-up of all read models from position 0 to the head with a fresh ``Runner`` per page size (the default
   page first; the others while ``--budget`` allows), beside a raw read of the same events with the runner's
   own SELECT in pages of the same size (no decoding) and, once, a read with decoding (``Runner.read_events``,
   no writes), so the time splits into reading, decoding and applying (per read model);
3. if catch-up misses its target: a cProfile of the runner catching up the next 100,000 events;
4. latency of filtered ``project_status`` queries at each ``--projects`` size (the log topped up with the first
   events of cloned project histories up to the largest size; smaller sizes take an even sample of those
   projects), beside primary-key lookups on the same table, through one persistent connection, prepared (as
   psycopg does after 5 uses) and never prepared; with the plan of each shape's slowest values at the largest.

Nothing is asserted: the targets are printed beside the measurements. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import random
import statistics
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from typing import Any, cast
from uuid import UUID, uuid4

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import sql
from psycopg.rows import tuple_row

from api.cli.demo import run_demo
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
    interleave,
    print_table,
    server_settings,
)
from ledger.application.ledger import Ledger
from ledger.store.transcodings import ledger_mapper
from projections.base import Conn, LogEvent, ReadModel, log_events
from projections.project_status import ProjectStatus
from projections.registry import read_models
from projections.runner import EVENTS, PAGE, POSITIONS, Runner

DEFAULT_EVENTS = 1_000_000
DEFAULT_PROJECTS = (10_000, 100_000)
DEFAULT_PAGES = (2_000, 5_000, 10_000)
DEFAULT_BUDGET = 600.0  # seconds; optional page sizes are skipped when they would overrun it
APPEND_BATCH = 5_000  # events per insert_events call
RAW_SAMPLE_EVERY = 10  # one batch in ten is also inserted raw, for the baseline
PREFIX_EVENTS = 6  # events per project history when topping up to a project count
PROFILE_EVENTS = 100_000
QUERIES = 1_000
QUERY_ROUNDS = 5
WARMUP_QUERIES = 20
SEED = 20210601
CLONED_KINDS = ("Project", "Department", "Agency")

TARGET_CATCH_UP_RATE = 20_000.0  # events/s
TARGET_STATUS_P95_MS = 20.0
TARGET_FLAT_RATIO = 1.5  # p95 at the largest size ÷ p95 at the smallest: "flat"

STATUS_COLUMNS = "project_id, code, name, stage, approved, executed, execution_rate, grade"
SHAPES: dict[str, tuple[str, ...]] = {  # the filter columns of each query shape
    "A": ("department", "fiscal_year", "stage"),
    "B": ("grade", "latest_deviation"),
}


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def kind_of(topic: str) -> str:
    """``Project.Declared`` from ``ledger.project:Project.Declared``."""
    return topic.rsplit(":", 1)[-1]


# ---------------------------------------------------------------------- phases


@dataclass
class Phases:
    started: float = field(default_factory=time.perf_counter)
    done: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        progress(f"{name} …")
        before = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - before
            self.done.append((name, seconds))
            progress(f"{name}: {seconds:.1f} s (run so far {self.elapsed:.0f} s)")

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


# ------------------------------------------------------------------- the log


@dataclass(frozen=True)
class Template:
    """The demo's Project, Department and Agency histories, in log order."""

    events: list[tuple[UUID, int, str, bytes]]
    prefix: list[tuple[UUID, int, str, bytes]]  # the first PREFIX_EVENTS events of each project history
    projects: list[UUID]  # in declaration order


def read_template(url: str) -> tuple[Template, list[UUID], dict[str, int]]:
    """The template to clone, the demo's own projects (declaration order) and its events per aggregate type."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT originator_id, originator_version, topic, state FROM ledger_events "
                            "ORDER BY leaf_index").fetchall()
    counts: dict[str, int] = {}
    for _, _, topic, _ in rows:
        kind = kind_of(topic).split(".", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    events = [(oid, int(version), topic, bytes(state)) for oid, version, topic, state in rows
              if kind_of(topic).split(".", 1)[0] in CLONED_KINDS]
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

    def clone(self, events: Sequence[tuple[UUID, int, str, bytes]], *, limit: int | None = None,
              max_projects: int | None = None) -> None:
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
            self.pending.append(StoredEvent(originator_id=new_id, originator_version=version, topic=topic,
                                            state=state))
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
            rows = [(cast(UUID, item.originator_id), item.originator_version, item.topic, item.state) for item in batch]
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


# -------------------------------------------------------------- read models


class TimedModel(ReadModel):
    """A read model, unchanged, with the time its ``apply`` takes added up (a clock read per page)."""

    def __init__(self, inner: ReadModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version  # else the next runner of the real model finds "another version" and rebuilds
        self.reads_events = inner.reads_events  # the runner's lanes follow it
        self.seconds = 0.0

    def create(self, conn: Conn, table: str) -> None:
        self.inner.create(conn, table)

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        before = time.perf_counter()
        self.inner.apply(conn, table, events)
        self.seconds += time.perf_counter() - before

    def apply_range(self, conn: Conn, table: str, first: int, last: int) -> None:
        before = time.perf_counter()
        self.inner.apply_range(conn, table, first, last)
        self.seconds += time.perf_counter() - before

    def tables(self, table: str) -> list[str]:
        return self.inner.tables(table)


@dataclass(frozen=True)
class Lane:
    """A lane of the runner: its read models, and whether it reads the events (else only the pages' bounds)."""

    models: tuple[str, ...]
    reads_events: bool


class PagedRunner(Runner):
    """The library's runner, unchanged, with each page's events and duration (of the lane that reads the events),
    its reading time, and each lane's time, recorded."""

    def __init__(self, database_url: str, models: Sequence[ReadModel], *, page: int = PAGE) -> None:
        super().__init__(database_url, models, page=page)
        self.pages: list[tuple[int, float]] = []
        self.read_seconds = 0.0
        self.lane_seconds: dict[Lane, float] = {}

    def catch_up_models(self, conn: Conn, models: Sequence[ReadModel]) -> int:
        before = time.perf_counter()
        applied = super().catch_up_models(conn, models)
        lane = Lane(tuple(model.name for model in models), any(model.reads_events for model in models))
        self.lane_seconds[lane] = self.lane_seconds.get(lane, 0.0) + time.perf_counter() - before
        return applied

    def read_events(self, conn: Conn, start: int, limit: int) -> list[LogEvent]:
        before = time.perf_counter()
        events = super().read_events(conn, start, limit)
        self.read_seconds += time.perf_counter() - before
        return events

    def apply_page(self, conn: Conn, models: Sequence[ReadModel] | None = None) -> int:
        before = time.perf_counter()
        applied = super().apply_page(conn, models)
        if models is None or any(model.reads_events for model in models):  # the lane that reads the events
            self.pages.append((applied, time.perf_counter() - before))
        return applied


class SubsetStatus(ProjectStatus):
    """``project_status`` for a fixed set of projects, in a table of its own: the same code, fewer rows."""

    def __init__(self, name: str, projects: frozenset[UUID]) -> None:
        self.name = name
        self.projects = projects

    def apply(self, conn: Conn, table: str, events: Sequence[LogEvent]) -> None:
        super().apply(conn, table, [item for item in events if item.originator_id in self.projects])


class SubsetRunner(Runner):
    """Builds a :class:`SubsetStatus` table reading only its projects' events (filtered in SQL, so the rest of
    the log is not decoded): the rows come out as if every event had been read, since the others are ignored."""

    def __init__(self, database_url: str, model: SubsetStatus) -> None:
        super().__init__(database_url, [model])
        self.ids = sorted(model.projects)

    def read_events(self, conn: Conn, start: int, limit: int) -> list[LogEvent]:
        rows = conn.execute(sql.SQL(
            "SELECT leaf_index, recorded_at, originator_id, originator_version, topic, state, effective_on FROM {} "
            "WHERE leaf_index >= %s AND originator_id = ANY(%s) ORDER BY leaf_index LIMIT %s").format(
            sql.Identifier(EVENTS)), (start, self.ids, limit), binary=True, prepare=False).fetchall()
        # prepare=False: a prepared statement soon gets a generic plan, in which the 10,000 ids are a parameter, not
        # a constant — PostgreSQL then tests each row against the array one element at a time instead of hashing it.
        return log_events(rows)


def reset_read_models(url: str, models: Sequence[ReadModel]) -> None:
    """Drop the read models' tables and positions: the next runner starts from zero."""
    with psycopg.connect(url, autocommit=True) as conn:
        for model in models:
            for table in model.tables(model.name):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        exists = conn.execute("SELECT to_regclass(%s)", (POSITIONS,)).fetchone()
        if exists is not None and exists[0] is not None:
            conn.execute(sql.SQL("DELETE FROM {} WHERE name = ANY(%s)").format(sql.Identifier(POSITIONS)),
                         ([model.name for model in models],))


def count_rows(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def vacuum(url: str, table: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


# ---------------------------------------------------------------- catch-up


@dataclass(frozen=True)
class Pass:
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


@dataclass(frozen=True)
class CatchUp:
    page: int
    raw: Pass  # the runner's SELECT, rows fetched, nothing decoded
    decoded: Pass | None  # Runner.read_events: fetched and decoded, nothing written (a separate pass)
    mapped: Pass | None  # the previous decoding (eventsourcing's Mapper), over the first MAPPER_EVENTS events
    catch_up: Pass  # Runner.catch_up() from 0 to the head, every read model
    read_seconds: float  # inside the catch-up: Runner.read_events (read and decode)
    models: dict[str, float]  # inside the catch-up: seconds in each read model's apply
    pages: list[tuple[int, float]]  # events and seconds of each page (of the lane that reads the events)
    lanes: dict[Lane, float]  # inside the catch-up: each lane's seconds (the lanes run side by side)

    def window_rate(self, first: bool, events: int) -> float:
        """Catch-up rate over the first (or last) ``events`` events of the log."""
        pages = self.pages if first else list(reversed(self.pages))
        done, seconds = 0, 0.0
        for applied, duration in pages:
            if applied == 0:
                continue
            done += applied
            seconds += duration
            if done >= events:
                break
        return done / seconds if seconds else 0.0


READ_SQL = sql.SQL("SELECT leaf_index, recorded_at, originator_id, originator_version, topic, state, effective_on "
                   "FROM {} WHERE leaf_index >= %s ORDER BY leaf_index LIMIT %s").format(sql.Identifier(EVENTS))


def raw_read(url: str, page: int) -> Pass:
    """Every event in pages, with the runner's SELECT, one transaction per page, rows fetched and dropped."""
    with psycopg.connect(url, row_factory=tuple_row) as conn:
        gc.collect()
        before = time.perf_counter()
        start, total = 0, 0
        while True:
            with conn.transaction():
                rows = conn.execute(READ_SQL, (start, page)).fetchall()
            total += len(rows)
            if len(rows) < page:
                break
            start = int(rows[-1][0]) + 1
        return Pass(total, time.perf_counter() - before)


def decoded_read(url: str, page: int) -> Pass:
    """Every event in pages through ``Runner.read_events``: read and decoded, nothing applied."""
    runner = Runner(url, [], page=page)
    with psycopg.connect(url, row_factory=tuple_row) as conn:
        gc.collect()
        before = time.perf_counter()
        start, total = 0, 0
        while True:
            with conn.transaction():
                events = runner.read_events(conn, start, page)
            total += len(events)
            if len(events) < page:
                break
            start = events[-1].leaf_index + 1
        return Pass(total, time.perf_counter() - before)


MAPPER_EVENTS = 200_000  # the reference decoding pass reads this many events at most


def mapper_read(url: str, page: int, events: int) -> Pass:
    """The first ``events`` events in pages, decoded as the runner used to: eventsourcing's Mapper building every
    domain event object (the reference for what decoding cost before; nothing applied)."""
    mapper = ledger_mapper()
    with psycopg.connect(url, row_factory=tuple_row) as conn:
        gc.collect()
        before = time.perf_counter()
        start, total = 0, 0
        while total < events:
            with conn.transaction():
                rows = conn.execute(READ_SQL, (start, min(page, events - total))).fetchall()
            to_event = mapper.to_domain_event
            held = [LogEvent(index, recorded, oid, version, topic,
                             to_event(StoredEvent(oid, version, topic, bytes(state))))
                    for index, recorded, oid, version, topic, state, _ in rows]  # a page held, as the runner does
            total += len(held)
            if not rows:
                break
            start = int(rows[-1][0]) + 1
        return Pass(total, time.perf_counter() - before)


def measure_catch_up(url: str, page: int, head: int, *, decode_pass: bool) -> CatchUp:
    checkpoint(url)
    raw = raw_read(url, page)
    decoded = mapped = None
    if decode_pass:
        checkpoint(url)
        decoded = decoded_read(url, page)
        mapped = mapper_read(url, page, MAPPER_EVENTS)
    models = [TimedModel(model) for model in read_models()]
    reset_read_models(url, models)
    runner = PagedRunner(url, models, page=page)
    runner.setup()
    checkpoint(url)
    gc.collect()
    before = time.perf_counter()
    applied = runner.catch_up()
    seconds = time.perf_counter() - before
    for measured in (raw.events, decoded.events if decoded else head, applied):
        if measured != head:
            raise RuntimeError(f"read or applied {measured} events, the log holds {head}")
    return CatchUp(page, raw, decoded, mapped, Pass(applied, seconds), runner.read_seconds,
                   {model.name: model.seconds for model in models}, runner.pages, runner.lane_seconds)


@dataclass(frozen=True)
class Profile:
    events: int
    seconds: float
    top: list[list[str]]  # rows of the own-time table
    cumulative: list[list[str]]  # rows of the per-step table


def short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename if len(filename) < 40 else "…" + filename[-39:]


def profile_catch_up(url: str) -> Profile:
    """cProfile of the runner catching every read model up over the events appended since the last catch-up."""
    runner = Runner(url, read_models())
    profiler = cProfile.Profile()
    gc.collect()
    before = time.perf_counter()
    profiler.enable()
    applied = runner.catch_up()
    profiler.disable()
    seconds = time.perf_counter() - before
    stats = pstats.Stats(profiler, stream=io.StringIO())
    entries: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in entries.values())

    def label(key: tuple[str, int, str]) -> str:
        filename, line, name = key
        return f"{short(filename)}:{line} {name}" if line else name

    top = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:18]
    top_rows = [[label(key), f"{nc:,}", f"{tt:.2f}", f"{100 * tt / total:.1f}%", f"{ct:.2f}"]
                for key, (_, nc, tt, ct, _) in top]
    wanted = {("runner.py", "read_events"), ("runner.py", "apply_page"), ("mapper.py", "to_domain_event"),
              ("persistence.py", "to_domain_event"), ("keyed.py", "load"), ("keyed.py", "store"),
              ("project_status.py", "fold"), ("project_status.py", "_store"), ("project_status.py", "_load"),
              ("facts.py", "fold_facts"), ("cursor.py", "executemany"), ("cursor.py", "execute")}
    cumulative = []
    for key, (_, nc, _, ct, _) in sorted(entries.items(), key=lambda item: item[1][3], reverse=True):
        filename, _, name = key
        base = os.path.basename(filename)
        if (name == "apply" and "projections" in filename) or (base, name) in wanted:
            cumulative.append([label(key), f"{nc:,}", f"{ct:.2f}", f"{100 * ct / seconds:.1f}%"])
    return Profile(applied, seconds, top_rows, cumulative)


# ------------------------------------------------------------------ queries


@dataclass(frozen=True)
class ShapeResult:
    timing: Timing  # prepared by psycopg after 5 uses, as any psycopg connection does by default
    custom: Timing  # the same calls on a connection that never prepares: a custom plan for every query
    combos: list[int]  # matching rows of each distinct combination of filter values in the table
    slowest: tuple[Any, ...]  # the filter values whose queries had the highest median latency
    slowest_ms: float
    slowest_rows: int
    plan_counts: tuple[int, int] | None  # the measured prepared statement's (generic, custom) plans, if prepared
    prepared_plan: list[str]  # EXPLAIN ANALYZE EXECUTE of the measured statement for the slowest values
    custom_plan: list[str]  # EXPLAIN ANALYZE of the query for the same values, unprepared


@dataclass(frozen=True)
class QueryResult:
    projects: int
    table: str
    pk: Timing
    shapes: dict[str, ShapeResult]
    indexes: list[str]  # the table's indexes, as the database has them


def status_query(table: str, columns: Sequence[str], *, numbered: bool = False,
                 literals: Sequence[Any] | None = None) -> sql.Composed:
    """The API's filtered list query: ``%s`` parameters, ``$1``… for PREPARE, or the given values inline."""
    def value(n: int) -> sql.Composable:
        if literals is not None:
            return sql.Literal(literals[n - 1])
        return sql.SQL(f"${n}" if numbered else "%s")

    where = sql.SQL(" AND ").join(sql.SQL("{} = {}").format(sql.Identifier(c), value(n))
                                  for n, c in enumerate(columns, 1))
    return sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY project_id LIMIT 50").format(
        sql.SQL(STATUS_COLUMNS), sql.Identifier(table), where)


def combos(conn: Conn, table: str, columns: Sequence[str]) -> dict[tuple[Any, ...], int]:
    """Every combination of non-null values of ``columns`` in the table, with its number of rows."""
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    where = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in columns)
    rows = conn.execute(sql.SQL("SELECT {}, count(*) FROM {} WHERE {} GROUP BY {} ORDER BY {}").format(
        names, sql.Identifier(table), where, names, names)).fetchall()
    return {tuple(row[:-1]): int(row[-1]) for row in rows}


def measure_queries(url: str, table: str, projects: int, queries: int, rng: random.Random) -> QueryResult:
    calls = queries + WARMUP_QUERIES
    with (psycopg.connect(url, autocommit=True, row_factory=tuple_row) as conn,  # one persistent connection
          psycopg.connect(url, autocommit=True, row_factory=tuple_row) as unprepared):
        unprepared.prepare_threshold = None
        present = {name: combos(conn, table, columns) for name, columns in SHAPES.items()}
        shapes = [name for name in SHAPES if present[name]]
        ids = [row[0] for row in conn.execute(sql.SQL("SELECT project_id FROM {}").format(
            sql.Identifier(table))).fetchall()]
        draws = {name: [rng.choice(list(present[name])) for _ in range(calls)] for name in shapes}
        draws_pk = [(rng.choice(ids),) for _ in range(calls)]
        query_pk = sql.SQL("SELECT {} FROM {} WHERE project_id = %s").format(sql.SQL(STATUS_COLUMNS),
                                                                            sql.Identifier(table))

        def caller(query: sql.Composed, values: list[tuple[Any, ...]], on: Conn = conn) -> Callable[[int], None]:
            def call(i: int) -> None:
                on.execute(query, values[i]).fetchall()
            return call

        series = [Series(caller(query_pk, draws_pk))]
        for name in shapes:
            series.append(Series(caller(status_query(table, SHAPES[name]), draws[name])))
            series.append(Series(caller(status_query(table, SHAPES[name]), draws[name], unprepared)))
        for item in series:
            item.warm(WARMUP_QUERIES)
        timings = interleave(series, queries, rounds=QUERY_ROUNDS)
        results: dict[str, ShapeResult] = {}
        statements = conn.execute("SELECT name, statement, generic_plans, custom_plans "
                                  "FROM pg_prepared_statements").fetchall()
        for name, timing, custom in zip(shapes, timings[1::2], timings[2::2], strict=True):
            by_values: dict[tuple[Any, ...], list[float]] = {}
            for j, seconds in enumerate(timing.durations):  # call j of the timed run drew draws[WARMUP + j]
                by_values.setdefault(draws[name][WARMUP_QUERIES + j], []).append(seconds)
            slowest, durations = max(by_values.items(), key=lambda item: statistics.median(item[1]))
            explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ")
            custom_plan = unprepared.execute(explain + status_query(table, SHAPES[name], literals=slowest)).fetchall()
            prepared = [row for row in statements
                        if f"FROM {table} " in str(row[1]).replace('"', "") + " "
                        and all(f'"{c}" = $' in str(row[1]) for c in SHAPES[name])]
            counts, prepared_plan = None, []
            if prepared:  # the plan the server now picks for the measured statement (generic or custom)
                statement, _, generic_plans, custom_plans = prepared[0]
                counts = (int(generic_plans), int(custom_plans))
                prepared_plan = conn.execute(explain + sql.SQL("EXECUTE {}({})").format(
                    sql.Identifier(statement), sql.SQL(", ").join(map(sql.Literal, slowest)))).fetchall()
            results[name] = ShapeResult(timing, custom, sorted(present[name].values()), slowest,
                                        statistics.median(durations) * 1000, present[name][slowest], counts,
                                        [str(row[0]) for row in prepared_plan], [str(row[0]) for row in custom_plan])
        indexes = [str(row[0]) for row in conn.execute(
            "SELECT regexp_replace(indexdef, '^.* USING \\w+ ', '') FROM pg_indexes WHERE tablename = %s "
            "ORDER BY indexname", (table,)).fetchall()]
    return QueryResult(projects, table, timings[0], results, indexes)


# ----------------------------------------------------------------- the run


@dataclass
class Results:
    head: int = 0
    projects: int = 0  # after the build
    full_projects: int = 0  # with full histories, before any top-up
    template_counts: dict[str, int] = field(default_factory=dict)
    template_events: int = 0
    build_wall: float = 0.0
    appended: int = 0
    append_calls: list[float] = field(default_factory=list)
    raw_calls: list[float] = field(default_factory=list)
    payload_bytes: float = 0.0
    catch_ups: list[CatchUp] = field(default_factory=list)
    skipped_pages: list[int] = field(default_factory=list)
    profile: Profile | None = None
    topped_up: int = 0  # prefix events appended to reach the largest project count
    queries: list[QueryResult] = field(default_factory=list)


def page_order(pages: Sequence[int]) -> list[int]:
    """The runner's default page first (the check is on it), then the larger ones, then the smaller ones."""
    first = PAGE if PAGE in pages else max(pages)
    return [first, *sorted(p for p in pages if p > first), *sorted((p for p in pages if p < first), reverse=True)]


def run(db: BenchDatabase, events: int, sizes: list[int], pages: list[int], queries: int, budget: float,
        profile: bool, phases: Phases) -> Results:
    url = db.url
    results = Results()
    rng = random.Random(SEED)
    ledger = Ledger(url)
    raw = RawEvents(url, "bench_raw_append")
    try:
        with phases("demo: bootstrap + run_demo"):
            ledger.bootstrap()
            run_demo(ledger)
            template, projects, counts = read_template(url)
            results.template_counts = counts
            results.template_events = len(template.events)
            results.payload_bytes = statistics.fmean(len(item[3]) for item in template.events)
            head = Runner(url, []).head()

        builder = LogBuilder(ledger, raw, head, projects)
        before = time.perf_counter()
        with phases(f"build the log to {events:,} events (clones, insert_events of {APPEND_BATCH:,})"):
            builder.grow(template, events)
        results.build_wall = time.perf_counter() - before - builder.excluded
        results.head, results.projects = builder.head, len(builder.projects)
        results.appended = builder.appended
        results.append_calls, results.raw_calls = list(builder.calls), list(builder.raw_calls)

        with phases("VACUUM (ANALYZE) ledger_events"):
            vacuum(url, EVENTS)

        # ------------------------------------------------------------------ catch-up
        append_rate = results.appended / results.build_wall
        missing_projects = max(0, max(sizes) - results.projects)
        profile_events = min(PROFILE_EVENTS, events)
        for page in page_order(pages):
            if results.catch_ups:
                first = results.catch_ups[0]
                estimate = (first.raw.seconds + first.catch_up.seconds) * (1.8 if page < first.page else 1.05)
                # what must still fit after this page size: profile, top-up, status tables, queries
                reserve = 20.0 + 0.015 * queries * len(sizes)
                final_head = builder.head
                if profile and first.catch_up.rate < TARGET_CATCH_UP_RATE:
                    reserve += profile_events / append_rate + 2.5 * profile_events / first.catch_up.rate
                    final_head += profile_events
                topping = missing_projects * PREFIX_EVENTS
                final_head += topping
                per_event_read = first.read_seconds / first.catch_up.events
                reserve += topping / append_rate + 2 * topping * per_event_read + 10  # the live table caught up
                for size in sizes[:-1]:  # each subset table scans the log and decodes its share of it
                    reserve += 5 + final_head * (first.raw.seconds / first.raw.events
                                                 + 1.5 * per_event_read * size / max(sizes))
                if phases.elapsed + estimate + reserve > budget:
                    progress(f"page {page}: skipped, about {estimate:.0f} s more would overrun --budget "
                             f"{budget:.0f} s")
                    results.skipped_pages.append(page)
                    continue
            decode_pass = not results.catch_ups
            with phases(f"catch-up from 0, page {page:,}: raw read, " + ("read + decode, " if decode_pass else "")
                        + "catch_up()"):
                results.catch_ups.append(measure_catch_up(url, page, builder.head, decode_pass=decode_pass))
        status_rows = count_rows(url, "project_status")
        if status_rows != len(builder.projects):
            raise RuntimeError(f"project_status holds {status_rows} rows, the log {len(builder.projects)} projects")

        default = results.catch_ups[0]
        if profile and default.catch_up.rate < TARGET_CATCH_UP_RATE:
            with phases(f"profile: append {profile_events:,} more events (clones)"):
                builder.grow(template, builder.head + profile_events)
            with phases(f"profile: cProfile of catch_up() over those {profile_events:,} events"):
                results.profile = profile_catch_up(url)

        # ------------------------------------------------------------ status tables
        largest = max(sizes)
        results.full_projects = len(builder.projects)
        if largest > len(builder.projects):
            before_top_up = builder.head
            with phases(f"top up to {largest:,} projects (first {PREFIX_EVENTS} events of cloned projects)"):
                builder.top_up(template, largest)
            results.topped_up = builder.head - before_top_up
        pool = builder.projects[:largest]
        status_tables: dict[int, str] = {}
        subsets: list[SubsetStatus] = []
        for size in sizes:
            if size == largest and largest == len(builder.projects):
                status_tables[size] = "project_status"  # the live read model, behind by the events appended since
            else:  # every (largest/size)-th project: the same mix of stages, fewer rows
                subsets.append(SubsetStatus(f"project_status_{size}",
                                            frozenset(pool[i * largest // size] for i in range(size))))
                status_tables[size] = subsets[-1].name
        if "project_status" in status_tables.values():
            with phases(f"project_status of {largest:,} projects: the live read model caught up, vacuumed"):
                runner = Runner(url, [ProjectStatus()])
                runner.setup()
                runner.catch_up()
                vacuum(url, "project_status")
        for subset in subsets:
            with phases(f"{subset.name}: project_status of {len(subset.projects):,} of those projects, "
                        "caught up, vacuumed"):
                reset_read_models(url, [subset])
                subset_runner = SubsetRunner(url, subset)
                subset_runner.setup()
                subset_runner.catch_up()
                vacuum(url, subset.name)
        for size, table in status_tables.items():
            if count_rows(url, table) != size:
                raise RuntimeError(f"{table} does not hold {size} projects")

        for size in sorted(sizes):
            with phases(f"queries at {size:,} projects ({queries:,} per shape, interleaved)"):
                results.queries.append(measure_queries(url, status_tables[size], size, queries, rng))
        results.head = builder.head
    finally:
        raw.close()
        ledger.close()
    return results


# ---------------------------------------------------------------- the report


def para(text: str) -> None:
    print(textwrap.fill(text, width=118, initial_indent="  ", subsequent_indent="    "))


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def fmt_s(seconds: float) -> str:
    return f"{seconds:,.1f}"


def report(db: BenchDatabase, settings: dict[str, str], args: argparse.Namespace, results: Results,
           phases: Phases) -> None:
    counts = results.template_counts
    header = [
        ("server", describe_server(db)),
        ("PostgreSQL", f"{settings['server_version']} (fsync={settings['fsync']}, "
                       f"synchronous_commit={settings['synchronous_commit']}, "
                       f"wal_sync_method={settings['wal_sync_method']}, shared_buffers={settings['shared_buffers']})"),
        ("machine", f"{os.cpu_count()} cores, Python {platform.python_version()}, "
                    f"eventsourcing {package_version('eventsourcing')}, psycopg {package_version('psycopg')}"),
        ("parameters", f"--events {args.events} --projects {','.join(map(str, args.projects))} "
                       f"--pages {','.join(map(str, args.pages))} --queries {args.queries} "
                       f"--budget {args.budget:.0f}" + ("" if args.profile else " --no-profile")),
        ("template", f"the demo's {sum(counts.values())} events ("
                     + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
                     + f"); {results.template_events} cloned per copy (Project, Department, Agency), "
                     f"{results.payload_bytes:.0f} bytes of state on average"),
    ]
    print()
    print("bench_projections — read models caught up from the log, and project_status queries (same run)")
    for key, value in header:
        print(f"  {key + ':':<12}{value}")
    print()

    # ------------------------------------------------------------------ phases
    print_table(["phase", "seconds"], [[name, fmt_s(seconds)] for name, seconds in phases.done]
                + [["total", fmt_s(phases.elapsed)]], right=(1,))
    print()

    # ----------------------------------------------------------------- results
    table: list[list[str]] = []
    blank = ["", "", "", "", "", ""]
    insert_seconds = sum(results.append_calls)
    raw_rate = APPEND_BATCH * len(results.raw_calls) / sum(results.raw_calls) if results.raw_calls else 0.0
    insert_rate = results.appended / insert_seconds if insert_seconds else 0.0
    table.append(["[Building the log: clones appended in batches of "
                  f"{APPEND_BATCH:,} events, one transaction each]", *blank[1:]])
    if results.raw_calls:
        table.append([f"raw INSERT … unnest, {APPEND_BATCH:,} rows/txn (1 batch in {RAW_SAMPLE_EVERY} sampled)",
                      fmt_rate(raw_rate, "rows"), fmt_s(sum(results.raw_calls)),
                      fmt_ms(statistics.median(results.raw_calls) * 1000), str(len(results.raw_calls)),
                      fmt_ratio(1.0)])
    table.append(["ours: LedgerRecorder.insert_events (leaf + chain hashes)", fmt_rate(insert_rate, "events"),
                  fmt_s(insert_seconds), fmt_ms(statistics.median(results.append_calls) * 1000),
                  str(len(results.append_calls)), fmt_ratio(insert_rate / raw_rate) if raw_rate else "—"])
    table.append(["ours: same, wall time with the cloning in Python",
                  fmt_rate(results.appended / results.build_wall, "events"), fmt_s(results.build_wall), "",
                  "", fmt_ratio(results.appended / results.build_wall / raw_rate) if raw_rate else "—"])
    for c in results.catch_ups:
        table.append([f"[Catch-up of all {len(c.models)} read models from 0: {c.catch_up.events:,} events, "
                      f"page {c.page:,}]", *blank[1:]])
        pages_n = sum(1 for applied, _ in c.pages if applied)
        table.append([f"raw read: the runner's SELECT, {c.page:,}/page, not decoded", fmt_rate(c.raw.rate, "events"),
                      fmt_s(c.raw.seconds), "", "", fmt_ratio(1.0)])
        if c.decoded is not None:
            table.append(["read + decode: Runner.read_events (msgspec into EventFields), no writes",
                          fmt_rate(c.decoded.rate, "events"), fmt_s(c.decoded.seconds), "", "",
                          fmt_ratio(c.decoded.rate / c.raw.rate)])
        if c.mapped is not None:
            table.append([f"read + decode as before: eventsourcing's Mapper (first {c.mapped.events:,} events)",
                          fmt_rate(c.mapped.rate, "events"), fmt_s(c.mapped.seconds), "", "",
                          fmt_ratio(c.mapped.rate / c.raw.rate)])
        table.append(["ours: Runner.catch_up(), a transaction per page and lane", fmt_rate(c.catch_up.rate, "events"),
                      fmt_s(c.catch_up.seconds), fmt_ms(statistics.median(d for a, d in c.pages if a) * 1000),
                      str(pages_n), fmt_ratio(c.catch_up.rate / c.raw.rate)])
    print_table(["measurement", "rate", "seconds", "median ms", "n", "vs raw PG"], table, right=(1, 2, 3, 4, 5))
    print()
    for note in (
        "vs raw PG: our rate ÷ the raw rate of the same section (raw INSERT of the same batches; the raw read of "
        "the same events with the same page size). median ms and n: per insert call, or per catch-up page.",
        "the catch-up runs the library's Runner and read models unchanged; a clock read around each page, each "
        "read_events and each read model's apply records where the time goes (below); median ms and n: the pages "
        "of the lane that reads the events. Each page size starts from empty read models; the separate read + "
        "decode pass runs for the first page size only.",
    ):
        para(note)
    print()

    # ------------------------------------------------------- where the time goes
    if results.catch_ups:
        rows: list[list[str]] = []
        for c in results.catch_ups:
            total = c.catch_up.seconds
            rows.append([f"[page {c.page:,}: {c.catch_up.events:,} events in {total:,.1f} s, "
                         f"{len(c.lanes)} lanes side by side]", "", "", ""])
            for lane, lane_seconds in sorted(c.lanes.items(), key=lambda kv: -kv[1]):
                names = lane.models
                rows.append([f"lane: {', '.join(names)}", fmt_s(lane_seconds), f"{100 * lane_seconds / total:.1f}%",
                             f"{c.catch_up.events / lane_seconds:,.0f}" if lane_seconds > 0 else "—"])
                parts = []
                read = 0.0
                if lane.reads_events:
                    read = c.read_seconds
                    parts = [("  Runner.read_events: read + decode", c.read_seconds),
                             ("    of which the raw SELECT (separate pass)", c.raw.seconds),
                             ("    of which decoding (the difference)", max(0.0, c.read_seconds - c.raw.seconds))]
                applying = [(name, c.models[name]) for name in names if name in c.models]
                parts += [(f"  apply: {name}", seconds) for name, seconds in sorted(applying, key=lambda kv: -kv[1])]
                parts.append(("  positions, commits, the rest", lane_seconds - read - sum(s for _, s in applying)))
                for name, seconds in parts:
                    rows.append([name, fmt_s(seconds), f"{100 * seconds / total:.1f}%",
                                 f"{c.catch_up.events / seconds:,.0f}" if seconds > 0 else "—"])
            window = min(100_000, c.catch_up.events // 10)
            rows.append([f"catch-up rate over the first {window:,} events", "", "",
                         f"{c.window_rate(True, window):,.0f}"])
            rows.append([f"catch-up rate over the last {window:,} events", "", "",
                         f"{c.window_rate(False, window):,.0f}"])
        print_table(["where catch-up time goes", "seconds", "share", "events/s alone"], rows, right=(1, 2, 3))
        print()
        para("timed inside the catch-up, except the raw SELECT (the separate pass above). Each lane applies its read "
             "models on a connection and in a transaction per page of its own, in a thread of its own: the lanes run "
             "side by side, so their times add up to more than the catch-up's; share: of the catch-up's wall time. "
             "events/s alone: the rate if this step were the only cost.")
        print()
    if results.skipped_pages:
        para(f"page sizes skipped to stay within --budget {args.budget:.0f} s: "
             + ", ".join(f"{p:,}" for p in results.skipped_pages))
        print()

    # -------------------------------------------------------------- the profile
    if results.profile is not None:
        p = results.profile
        print(f"Profile: cProfile of Runner(read_models()).catch_up() over {p.events:,} events appended after the "
              f"measured head ({p.events / p.seconds:,.0f} events/s under the profiler, {p.seconds:.1f} s; the "
              "profiler sees the thread of the lane that reads the events, not the trail's)")
        print()
        print_table(["own time: function", "calls", "own s", "share", "cum s"], p.top, right=(1, 2, 3, 4))
        print()
        print_table(["cumulative: step", "calls", "cum s", "of total"], p.cumulative, right=(1, 2, 3))
        print()

    # ------------------------------------------------------------------ queries
    qrows: list[list[str]] = []
    for q in results.queries:
        qrows.append([f"[{q.projects:,} projects: table {q.table}]", "", "", "", "", "", "", ""])
        qrows.append(["raw: primary-key lookup (project_id = %s)", fmt_ms(q.pk.median_ms), fmt_ms(q.pk.p95_ms),
                      str(q.pk.calls), "1", "", "", fmt_ratio(1.0)])
        for name, shape in q.shapes.items():
            plans = f"{shape.plan_counts[0]:,} / {shape.plan_counts[1]:,}" if shape.plan_counts else "?"
            for label, t, plan_cell in (
                    (f"{name}: {', '.join(SHAPES[name])}; ORDER BY project_id LIMIT 50", shape.timing, plans),
                    (f"{name}, same calls, never prepared (a custom plan each)", shape.custom, "")):
                qrows.append([label, fmt_ms(t.median_ms), fmt_ms(t.p95_ms), str(t.calls),
                              f"{statistics.median(shape.combos):,.0f} ({min(shape.combos):,}–{max(shape.combos):,})",
                              str(len(shape.combos)), plan_cell, fmt_ratio(t.median_ms / q.pk.median_ms)])
    print_table(["project_status query", "median ms", "p95 ms", "n", "rows matching", "combos", "generic/custom",
                 "vs raw PG"], qrows, right=(1, 2, 3, 4, 5, 6))
    print()
    largest = max(args.projects)
    for note in (
        "one persistent connection (autocommit; psycopg prepares a statement after 5 uses, and PostgreSQL may then "
        "switch it to a generic plan), and a second one that never prepares; the series interleaved "
        f"in {QUERY_ROUNDS} rounds after {WARMUP_QUERIES} warm-up calls each; filter values drawn uniformly from "
        f"the combinations present in the table (seed {SEED}); latency measured at the client, rows fetched. "
        "rows matching: median (min–max) over the combinations. generic/custom: plans the server made for the "
        "measured prepared statement (pg_prepared_statements). vs raw PG: median ÷ the primary-key lookup's.",
        "indexes of each table (projections/project_status.py): "
        + (", ".join(results.queries[-1].indexes) if results.queries else "?")
        + ". Tables vacuumed and analysed after building.",
        f"the {largest:,}-project table: {results.full_projects:,} projects with full histories"
        + (f" and {largest - results.full_projects:,} with the first {PREFIX_EVENTS} events of one "
           f"({results.topped_up:,} events appended)" if results.topped_up else "")
        + f"; smaller tables: project_status (same code) for every ({largest:,}/size)-th of those projects, "
        "so the mix of stages is the same at every size.",
    ):
        para(note)
    print()
    for name, shape in (results.queries[-1].shapes.items() if results.queries else []):
        shown = ", ".join(str(v) for v in shape.slowest)
        print(f"EXPLAIN (ANALYZE) of shape {name} at {largest:,} projects for its slowest values ({shown}: "
              f"{shape.slowest_rows:,} rows match, median {fmt_ms(shape.slowest_ms)} ms prepared)")
        for title, plan in (("the measured prepared statement, after the run (EXPLAIN EXECUTE)", shape.prepared_plan),
                            ("never prepared", shape.custom_plan)):
            print(f"  {title}:")
            for line in plan:
                print(f"    {line}")
        print()

    # -------------------------------------------------------------------- check
    checks: list[list[str]] = []
    info: list[list[str]] = []
    if results.catch_ups:
        default = results.catch_ups[0]
        best = max(results.catch_ups, key=lambda c: c.catch_up.rate)
        checks.append([f"catch-up rate, all read models, page {default.page:,}",
                       fmt_rate(default.catch_up.rate, "events"), f"≥ {fmt_rate(TARGET_CATCH_UP_RATE, 'events')}",
                       verdict(default.catch_up.rate >= TARGET_CATCH_UP_RATE)])
        if best is not default:
            checks.append([f"  same, best page size ({best.page:,})", fmt_rate(best.catch_up.rate, "events"),
                           f"≥ {fmt_rate(TARGET_CATCH_UP_RATE, 'events')}",
                           verdict(best.catch_up.rate >= TARGET_CATCH_UP_RATE)])
        info.append([f"catch-up rate ÷ raw read rate, page {default.page:,}",
                     fmt_ratio(default.catch_up.rate / default.raw.rate), "", ""])
        if default.decoded is not None:
            info.append([f"catch-up rate ÷ read + decode rate, page {default.page:,}",
                         fmt_ratio(default.catch_up.rate / default.decoded.rate), "", ""])
    for label, variant in ((name, kind) for name in SHAPES for kind in ("prepared", "never prepared")):
        present = [(q.projects, q.shapes[label].timing if variant == "prepared" else q.shapes[label].custom)
                   for q in results.queries if label in q.shapes]
        for n, t in present:
            checks.append([f"status query {label} ({variant}) p95 at {n:,} projects", f"{fmt_ms(t.p95_ms)} ms",
                           f"< {TARGET_STATUS_P95_MS:.0f} ms", verdict(t.p95_ms < TARGET_STATUS_P95_MS)])
        if len(present) >= 2:
            (n0, t0), (n1, t1) = present[0], present[-1]
            ratio = t1.p95_ms / t0.p95_ms
            checks.append([f"  flat: p95 at {n1:,} ÷ p95 at {n0:,}", fmt_ratio(ratio),
                           f"≤ {TARGET_FLAT_RATIO:.2f}×", verdict(ratio <= TARGET_FLAT_RATIO)])
    print_table(["check", "measured", "target", "verdict"], [*checks, *info], right=(1,))
    print()


def sizes_arg(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("every value must be at least 1")
    return sorted(set(values))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_projections", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="events in the log to catch up from")
    parser.add_argument("--projects", type=sizes_arg, default=list(DEFAULT_PROJECTS),
                        help="project_status sizes to query, comma-separated")
    parser.add_argument("--pages", type=sizes_arg, default=list(DEFAULT_PAGES),
                        help=f"runner page sizes to catch up with, comma-separated (the default {PAGE} first)")
    parser.add_argument("--queries", type=int, default=QUERIES, help="timed queries per shape and size")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help="seconds: page sizes after the first are skipped if they would overrun it")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip the cProfile of a catch-up when the rate target is missed")
    args = parser.parse_args(argv)
    if args.events < 1000:
        parser.error("--events must be at least 1000")
    if args.queries < 20:
        parser.error("--queries must be at least 20")
    with bench_database("jixiao_bench_proj") as db:
        settings = server_settings(db.url)
        phases = Phases()
        results = run(db, args.events, args.projects, args.pages, args.queries, args.budget, args.profile, phases)
        report(db, settings, args, results, phases)


if __name__ == "__main__":
    main()
