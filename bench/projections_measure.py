"""bench_projections' measurements: the read models caught up with the time of each page, lane, read and apply
recorded; the raw and decoded reads beside them; a profile; and project_status queries beside primary-key
lookups (see :mod:`bench.bench_projections`).

Over 500 lines: the measurements of one benchmark, each a function timed beside its raw-PostgreSQL baseline.
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg import sql
from psycopg.rows import tuple_row

from bench.common import Series, Timing, checkpoint, interleave
from ledger.store.tables import EVENTS
from ledger.store.transcodings import ledger_mapper
from projections.base import Conn, LogEvent, ReadModel, log_events
from projections.positions import POSITIONS
from projections.project_status import ProjectStatus
from projections.registry import read_models
from projections.runner import PAGE, Runner

QUERY_ROUNDS = 5
WARMUP_QUERIES = 20
STATUS_COLUMNS = "project_id, code, name, stage, approved, executed, execution_rate, grade"
SHAPES: dict[str, tuple[str, ...]] = {  # the filter columns of each query shape
    "A": ("department", "fiscal_year", "stage"),
    "B": ("grade", "latest_deviation"),
}


# -------------------------------------------------------------- read models


class TimedModel(ReadModel):
    """A read model, unchanged, with the time its ``apply`` takes added up (a clock read per page)."""

    def __init__(self, inner: ReadModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version  # else the next runner of the real model finds "another version" and rebuilds
        self.reads_events = inner.reads_events  # the runner's lanes follow it
        self.lane = inner.lane
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
        if models is None or any(model.reads_events and model.lane == 0 for model in models):  # the first lane
            # that reads the events (the others read the same pages beside it)
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
        rows = conn.execute(
            sql.SQL(
                "SELECT leaf_index, recorded_at, originator_id, originator_version, topic, state, effective_on FROM {} "
                "WHERE leaf_index >= %s AND originator_id = ANY(%s) ORDER BY leaf_index LIMIT %s"
            ).format(sql.Identifier(EVENTS)),
            (start, self.ids, limit),
            binary=True,
            prepare=False,
        ).fetchall()
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
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE name = ANY(%s)").format(sql.Identifier(POSITIONS)),
                ([model.name for model in models],),
            )


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


READ_SQL = sql.SQL(
    "SELECT leaf_index, recorded_at, originator_id, originator_version, topic, state, effective_on "
    "FROM {} WHERE leaf_index >= %s ORDER BY leaf_index LIMIT %s"
).format(sql.Identifier(EVENTS))


def paged_pass(url: str, page: int, read: Callable[[Conn, int], tuple[int, int]]) -> Pass:
    """Every event in pages of ``page``, one transaction per page: ``read(conn, start)`` reads the page from leaf
    index ``start`` and gives how many events it held and the last one's leaf index."""
    with psycopg.connect(url, row_factory=tuple_row) as conn:
        gc.collect()
        before = time.perf_counter()
        start, total = 0, 0
        while True:
            with conn.transaction():
                count, last = read(conn, start)
            total += count
            if count < page:
                break
            start = last + 1
        return Pass(total, time.perf_counter() - before)


def raw_read(url: str, page: int) -> Pass:
    """Every event in pages, with the runner's SELECT, one transaction per page, rows fetched and dropped."""

    def read(conn: Conn, start: int) -> tuple[int, int]:
        rows = conn.execute(READ_SQL, (start, page)).fetchall()
        return len(rows), int(rows[-1][0]) if rows else -1

    return paged_pass(url, page, read)


def decoded_read(url: str, page: int) -> Pass:
    """Every event in pages through ``Runner.read_events``: read and decoded, nothing applied."""
    runner = Runner(url, [], page=page)

    def read(conn: Conn, start: int) -> tuple[int, int]:
        events = runner.read_events(conn, start, page)
        return len(events), events[-1].leaf_index if events else -1

    return paged_pass(url, page, read)


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
            held = [
                LogEvent(index, recorded, oid, version, topic, to_event(StoredEvent(oid, version, topic, bytes(state))))
                for index, recorded, oid, version, topic, state, _ in rows
            ]  # a page held, as the runner does
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
    return CatchUp(
        page,
        raw,
        decoded,
        mapped,
        Pass(applied, seconds),
        runner.read_seconds,
        {model.name: model.seconds for model in models},
        runner.pages,
        runner.lane_seconds,
    )


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
    top_rows = [
        [label(key), f"{nc:,}", f"{tt:.2f}", f"{100 * tt / total:.1f}%", f"{ct:.2f}"] for key, (_, nc, tt, ct, _) in top
    ]
    wanted = {
        ("runner.py", "read_events"),
        ("runner.py", "apply_page"),
        ("mapper.py", "to_domain_event"),
        ("persistence.py", "to_domain_event"),
        ("keyed.py", "load"),
        ("keyed.py", "store"),
        ("project_status.py", "fold"),
        ("project_status.py", "_store"),
        ("project_status.py", "_load"),
        ("facts.py", "fold_facts"),
        ("cursor.py", "executemany"),
        ("cursor.py", "execute"),
    }
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


def status_query(
    table: str, columns: Sequence[str], *, numbered: bool = False, literals: Sequence[Any] | None = None
) -> sql.Composed:
    """The API's filtered list query: ``%s`` parameters, ``$1``… for PREPARE, or the given values inline."""

    def value(n: int) -> sql.Composable:
        if literals is not None:
            return sql.Literal(literals[n - 1])
        return sql.SQL(f"${n}" if numbered else "%s")

    where = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier(c), value(n)) for n, c in enumerate(columns, 1)
    )
    return sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY project_id LIMIT 50").format(
        sql.SQL(STATUS_COLUMNS), sql.Identifier(table), where
    )


def combos(conn: Conn, table: str, columns: Sequence[str]) -> dict[tuple[Any, ...], int]:
    """Every combination of non-null values of ``columns`` in the table, with its number of rows."""
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    where = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in columns)
    rows = conn.execute(
        sql.SQL("SELECT {}, count(*) FROM {} WHERE {} GROUP BY {} ORDER BY {}").format(
            names, sql.Identifier(table), where, names, names
        )
    ).fetchall()
    return {tuple(row[:-1]): int(row[-1]) for row in rows}


def measure_queries(url: str, table: str, projects: int, queries: int, rng: random.Random) -> QueryResult:
    calls = queries + WARMUP_QUERIES
    with (
        psycopg.connect(url, autocommit=True, row_factory=tuple_row) as conn,  # one persistent connection
        psycopg.connect(url, autocommit=True, row_factory=tuple_row) as unprepared,
    ):
        unprepared.prepare_threshold = None
        present = {name: combos(conn, table, columns) for name, columns in SHAPES.items()}
        shapes = [name for name in SHAPES if present[name]]
        ids = [
            row[0]
            for row in conn.execute(sql.SQL("SELECT project_id FROM {}").format(sql.Identifier(table))).fetchall()
        ]
        draws = {name: [rng.choice(list(present[name])) for _ in range(calls)] for name in shapes}
        draws_pk = [(rng.choice(ids),) for _ in range(calls)]
        query_pk = sql.SQL("SELECT {} FROM {} WHERE project_id = %s").format(
            sql.SQL(STATUS_COLUMNS), sql.Identifier(table)
        )

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
        statements = conn.execute(
            "SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements"
        ).fetchall()
        for name, timing, custom in zip(shapes, timings[1::2], timings[2::2], strict=True):
            by_values: dict[tuple[Any, ...], list[float]] = {}
            for j, seconds in enumerate(timing.durations):  # call j of the timed run drew draws[WARMUP + j]
                by_values.setdefault(draws[name][WARMUP_QUERIES + j], []).append(seconds)
            slowest, durations = max(by_values.items(), key=lambda item: statistics.median(item[1]))
            explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ")
            custom_plan = unprepared.execute(explain + status_query(table, SHAPES[name], literals=slowest)).fetchall()
            prepared = [
                row
                for row in statements
                if f"FROM {table} " in str(row[1]).replace('"', "") + " "
                and all(f'"{c}" = $' in str(row[1]) for c in SHAPES[name])
            ]
            counts, prepared_plan = None, []
            if prepared:  # the plan the server now picks for the measured statement (generic or custom)
                statement, _, generic_plans, custom_plans = prepared[0]
                counts = (int(generic_plans), int(custom_plans))
                prepared_plan = conn.execute(
                    explain
                    + sql.SQL("EXECUTE {}({})").format(
                        sql.Identifier(statement), sql.SQL(", ").join(map(sql.Literal, slowest))
                    )
                ).fetchall()
            results[name] = ShapeResult(
                timing,
                custom,
                sorted(present[name].values()),
                slowest,
                statistics.median(durations) * 1000,
                present[name][slowest],
                counts,
                [str(row[0]) for row in prepared_plan],
                [str(row[0]) for row in custom_plan],
            )
        indexes = [
            str(row[0])
            for row in conn.execute(
                "SELECT regexp_replace(indexdef, '^.* USING \\w+ ', '') FROM pg_indexes WHERE tablename = %s "
                "ORDER BY indexname",
                (table,),
            ).fetchall()
        ]
    return QueryResult(projects, table, timings[0], results, indexes)
