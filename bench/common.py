"""Shared benchmark helpers: a fresh database, the raw-PostgreSQL and bare-eventsourcing baselines, timing, tables.

A benchmark measures and prints. It compares what it measures with baselines
taken in the same run on the same server, and never asserts a wall time.
"""

from __future__ import annotations

import gc
import os
import shutil
import statistics
import tempfile
import time
import unicodedata
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from api.config.database import display_url, drop_database, embedded_server_url, ensure_database, stop_embedded_server
from ledger.application.ledger import environment_for

# platformdirs warns that XDG_RUNTIME_DIR is unset when the embedded server starts; it is noise here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

# ---------------------------------------------------------------- database


@dataclass(frozen=True)
class BenchDatabase:
    url: str  # the fresh database of this run
    admin_url: str  # the server's admin database
    source: str  # "DATABASE_URL" or "embedded"


@contextmanager
def bench_database(prefix: str = "jixiao_bench") -> Iterator[BenchDatabase]:
    """A fresh database for one run: on ``DATABASE_URL``'s server, else on an embedded server in a temporary folder.

    The database is dropped afterwards and the embedded server (if any) stopped and deleted.
    """
    configured = os.environ.get("DATABASE_URL")
    folder: Path | None = None
    try:
        if configured:
            admin_url, source = configured, "DATABASE_URL"
        else:
            folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-pg-"))
            admin_url, source = embedded_server_url(folder, cleanup_mode="stop"), "embedded"
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        url = ensure_database(admin_url, name)
        try:
            yield BenchDatabase(url=url, admin_url=admin_url, source=source)
        finally:
            drop_database(admin_url, name)
    finally:
        if folder is not None:
            stop_embedded_server(folder)
            shutil.rmtree(folder, ignore_errors=True)


def server_settings(url: str) -> dict[str, str]:
    """The server settings that decide commit cost, for the report's header."""
    with psycopg.connect(url, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        settings = {"server_version": str(version[0]) if version else "?"}
        for name in ("fsync", "synchronous_commit", "wal_sync_method", "shared_buffers"):
            row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            settings[name] = str(row[0]) if row else "?"
    return settings


def checkpoint(url: str) -> None:
    """Flush dirty pages before a measurement so an automatic checkpoint is less likely to land inside it."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error:
        pass  # needs superuser or pg_checkpoint; without it the measurement is merely noisier


def describe_server(db: BenchDatabase) -> str:
    return f"{db.source} ({display_url(db.admin_url)})"


# ------------------------------------------------------------------ timing


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated linearly between closest ranks (as numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Timing:
    """Durations of ``calls`` timed calls, each doing ``units_per_call`` units of work (events, rows, commands)."""

    durations: list[float]  # seconds, one per call
    elapsed: float  # wall seconds over all calls, loop included
    units_per_call: int

    @property
    def calls(self) -> int:
        return len(self.durations)

    @property
    def units(self) -> int:
        return self.calls * self.units_per_call

    @property
    def rate(self) -> float:
        """Units per second over the whole run."""
        return self.units / self.elapsed

    @property
    def median_ms(self) -> float:
        return statistics.median(self.durations) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.durations, 95) * 1000


class Series:
    """One measurement, run in chunks so several can be interleaved: ``fn(i)`` with ``i`` counting on across chunks.

    ``settle``, if given, is called at the end of every timed chunk, inside its elapsed time (not in any call's
    duration): it waits for work the calls left to background threads, which would otherwise be done — and
    counted — in the next series' chunk.
    """

    def __init__(self, fn: Callable[[int], object], *, units_per_call: int = 1,
                 settle: Callable[[], object] | None = None) -> None:
        self.fn = fn
        self.units_per_call = units_per_call
        self.settle = settle
        self.next_index = 0
        self.durations: list[float] = []
        self.elapsed = 0.0

    def warm(self, calls: int) -> None:
        """Untimed calls: connections opened, statements prepared, caches filled."""
        for _ in range(calls):
            self.fn(self.next_index)
            self.next_index += 1
        if self.settle is not None:
            self.settle()

    def run(self, calls: int) -> None:
        gc.collect()
        clock = time.perf_counter
        fn = self.fn
        started = clock()
        for i in range(self.next_index, self.next_index + calls):
            before = clock()
            fn(i)
            self.durations.append(clock() - before)
        if self.settle is not None:
            self.settle()
        self.elapsed += clock() - started
        self.next_index += calls

    def timing(self) -> Timing:
        return Timing(durations=list(self.durations), elapsed=self.elapsed, units_per_call=self.units_per_call)


def interleave(series: Sequence[Series], calls: int, *, rounds: int,
               before_round: Callable[[], None] | None = None) -> list[Timing]:
    """Run each series for ``calls`` timed calls, split into ``rounds`` chunks taken in turn.

    Interleaving spreads any drift of the machine or the server (checkpoints, autovacuum, a growing table)
    over every series alike, so their ratios stay fair. Warm each series first (:meth:`Series.warm`).
    """
    for r in range(rounds):
        chunk = calls // rounds + (1 if r < calls % rounds else 0)
        if before_round is not None:
            before_round()
        for item in series:
            item.run(chunk)
    return [item.timing() for item in series]


def interleave_alternating(series: Sequence[Series], calls: int, *, rounds: int,
                           before_round: Callable[[], None] | None = None) -> list[Timing]:
    """As :func:`interleave`, the order of the series reversed every other round, so none always runs right after
    the same other one."""
    for r in range(rounds):
        chunk = calls // rounds + (1 if r < calls % rounds else 0)
        if before_round is not None:
            before_round()
        for item in (series if r % 2 == 0 else list(reversed(series))):
            item.run(chunk)
    return [item.timing() for item in series]


def time_calls(fn: Callable[[int], object], calls: int, *, units_per_call: int = 1, warmup: int = 0) -> Timing:
    """Call ``fn(i)`` ``warmup`` times untimed, then ``calls`` times timed."""
    series = Series(fn, units_per_call=units_per_call)
    series.warm(warmup)
    series.run(calls)
    return series.timing()


# ------------------------------------------------------------- formatting


def fmt_rate(rate: float, unit: str) -> str:
    return f"{rate:,.0f} {unit}/s"


def fmt_ms(ms: float) -> str:
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}"


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:.2f}×"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = ()) -> None:
    """Print a plain-text table; columns whose index is in ``right`` are right-aligned."""
    widths = [max(_width(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            pad = " " * (width - _width(cell))
            parts.append(pad + cell if i in right else cell + pad)
        return "  ".join(parts).rstrip()

    print(line(headers))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


# ------------------------------------------------------- raw PostgreSQL baseline


class RawEvents:
    """A table shaped like an eventsourcing events table, written and read with plain psycopg (autocommit).

    Each INSERT statement is its own transaction: the least a database write can cost on this server.
    """

    def __init__(self, url: str, table: str = "bench_raw_events") -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.table = sql.Identifier(table)
        self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self.table))
        self.conn.execute(sql.SQL(
            "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text NOT NULL, "
            "state bytea NOT NULL, PRIMARY KEY (originator_id, originator_version))"
        ).format(self.table))
        self._insert_one = sql.SQL(
            "INSERT INTO {} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)"
        ).format(self.table)
        self._insert_many = sql.SQL(
            "INSERT INTO {} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[])"
        ).format(self.table)
        self._select = sql.SQL(
            "SELECT originator_version, topic, state FROM {} WHERE originator_id = %s ORDER BY originator_version"
        ).format(self.table)

    def insert_one(self, originator_id: UUID, version: int, topic: str, state: bytes) -> None:
        self.conn.execute(self._insert_one, (originator_id, version, topic, state), prepare=True)

    def insert_many(self, originator_id: UUID, first_version: int, count: int, topic: str, state: bytes) -> None:
        """``count`` rows in one statement (one transaction)."""
        versions = list(range(first_version, first_version + count))
        self.conn.execute(
            self._insert_many, ([originator_id] * count, versions, [topic] * count, [state] * count), prepare=True
        )

    def insert_rows(self, rows: Sequence[tuple[UUID, int, str, bytes]]) -> None:
        """Given ``(originator_id, version, topic, state)`` rows in one statement (one transaction)."""
        ids, versions, topics, states = (list(column) for column in zip(*rows, strict=True))
        self.conn.execute(self._insert_many, (ids, versions, topics, states), prepare=True)

    def read(self, originator_id: UUID) -> list[tuple[Any, ...]]:
        """Every row of one originator, in version order."""
        return self.conn.execute(self._select, (originator_id,), prepare=True).fetchall()

    def close(self) -> None:
        self.conn.close()


# ------------------------------------------------------ bare eventsourcing baseline


class Counter(Aggregate):
    """The smallest useful aggregate: one field, one event."""

    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self) -> None:
        self.count += 1


class BareApplication(Application[UUID]):
    """A plain eventsourcing application: library recorder, no snapshots, no integrity log."""

    name = "BareCounters"  # tables barecounters_events


def bare_application(url: str) -> BareApplication:
    """On the same database and with the same pool and cache as the ledger; its cache fast-forwards, as the library's
    does unless told otherwise (the ledger reads the log's tail instead)."""
    return BareApplication(env={**environment_for(url), "AGGREGATE_CACHE_FASTFORWARD": "y"})
