"""Shared benchmark helpers: a fresh database, the raw-PostgreSQL baseline, timing, the report's tables, and the
plumbing of a client on loopback.

A benchmark measures and prints. It compares what it measures with baselines
taken in the same run on the same server, and never asserts a wall time. Every
helper more than one benchmark needs lives here, once; the sample ledger data
they write is in :mod:`bench.sample`.

Over 500 lines: what every benchmark shares, each helper small and on its own; split, each benchmark would import
from several files for one database, one timer and one table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import shutil
import socket
import statistics
import sys
import tempfile
import textwrap
import time
import unicodedata
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql

from api.config.database import display_url, drop_database, embedded_server_url, ensure_database, stop_embedded_server
from ledger.application.ledger import environment_for

# platformdirs warns that XDG_RUNTIME_DIR is unset when the embedded server starts; it is noise here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

T = TypeVar("T")

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


def datastore_for(url: str) -> PostgresDatastore:
    """A datastore configured as the ledger's (see ``environment_for``): same pool, lock and idle timeouts."""
    env = environment_for(url)
    return PostgresDatastore(
        env["POSTGRES_DBNAME"],
        env["POSTGRES_HOST"],
        env["POSTGRES_PORT"],
        env["POSTGRES_USER"],
        env["POSTGRES_PASSWORD"],
        pool_size=int(env["POSTGRES_POOL_SIZE"]),
        max_overflow=int(env["POSTGRES_MAX_OVERFLOW"]),
        lock_timeout=int(env["POSTGRES_LOCK_TIMEOUT"]),
        idle_in_transaction_session_timeout=float(env["POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"]),
    )


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

    @classmethod
    def of(cls, durations: Sequence[float], units_per_call: int = 1) -> Timing:
        """Calls timed one by one with nothing between them: the elapsed time is their sum."""
        return cls(durations=list(durations), elapsed=sum(durations), units_per_call=units_per_call)

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

    def __init__(
        self, fn: Callable[[int], object], *, units_per_call: int = 1, settle: Callable[[], object] | None = None
    ) -> None:
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


def alternating(items: Sequence[T], round_: int) -> Sequence[T]:
    """``items`` in order in even rounds and reversed in odd ones, so that none always runs right after the same
    other one."""
    return items if round_ % 2 == 0 else items[::-1]


def interleave(
    series: Sequence[Series], calls: int, *, rounds: int, before_round: Callable[[], None] | None = None
) -> list[Timing]:
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


def interleave_alternating(
    series: Sequence[Series], calls: int, *, rounds: int, before_round: Callable[[], None] | None = None
) -> list[Timing]:
    """As :func:`interleave`, the order of the series reversed every other round, so none always runs right after
    the same other one."""
    for r in range(rounds):
        chunk = calls // rounds + (1 if r < calls % rounds else 0)
        if before_round is not None:
            before_round()
        for item in alternating(series, r):
            item.run(chunk)
    return [item.timing() for item in series]


def time_calls(fn: Callable[[int], object], calls: int, *, units_per_call: int = 1, warmup: int = 0) -> Timing:
    """Call ``fn(i)`` ``warmup`` times untimed, then ``calls`` times timed."""
    series = Series(fn, units_per_call=units_per_call)
    series.warm(warmup)
    series.run(calls)
    return series.timing()


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds one call of ``fn`` takes (after a garbage collection), and what it returns."""
    gc.collect()
    before = time.perf_counter()
    result = fn()
    return time.perf_counter() - before, result


@dataclass
class Clock:
    """Wall time of a run's phases, and progress lines on stderr (the report goes to stdout).

    ``stamped``: each line opens with the seconds since the start; else with an ellipsis, and the line that ends a
    phase tells the run's seconds so far.
    """

    stamped: bool = True
    started: float = field(default_factory=time.perf_counter)
    phases: list[tuple[str, float]] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def say(self, message: str) -> None:
        prefix = f"[{self.elapsed:7.1f}s] " if self.stamped else "  … "
        print(prefix + message, file=sys.stderr, flush=True)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.say(f"{name} …")
        before = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - before
            self.phases.append((name, seconds))
            self.say(f"{name}: {seconds:.1f} s" + ("" if self.stamped else f" (run so far {self.elapsed:.0f} s)"))


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


def postgres_line(settings: Mapping[str, str], *, brief: bool = False) -> str:
    """The server's version and the settings that decide commit cost (``brief``: fsync and synchronous_commit)."""
    line = (
        f"{settings['server_version']} (fsync={settings['fsync']}, synchronous_commit={settings['synchronous_commit']}"
    )
    if brief:
        return line + ")"
    return line + f", wal_sync_method={settings['wal_sync_method']}, shared_buffers={settings['shared_buffers']})"


def machine_line(*packages: str) -> str:
    """Cores, Python, and the version of each package named."""
    return ", ".join(
        [
            f"{os.cpu_count()} cores",
            f"Python {platform.python_version()}",
            *(f"{name} {package_version(name)}" for name in packages),
        ]
    )


def server_header(db: BenchDatabase, settings: Mapping[str, str], *, brief: bool = False) -> list[tuple[str, str]]:
    """The report header's first lines: where the server is, and its settings."""
    return [("server", describe_server(db)), ("PostgreSQL", postgres_line(settings, brief=brief))]


def print_header(title: str, lines: Sequence[tuple[str, str]], *, width: int = 12) -> None:
    """A report's title and its header lines, ``name: value``, the values aligned at ``width``."""
    print()
    print(title)
    for name, value in lines:
        print(f"  {name + ':':<{width}}{value}")
    print()


def para(text: str) -> None:
    """A note under a table, wrapped and indented."""
    print(textwrap.fill(text, width=118, initial_indent="  ", subsequent_indent="    "))


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def print_checks(rows: Sequence[Sequence[str]]) -> None:
    """The table of checks: what was measured, its target, and whether the target was met."""
    print_table(["check", "measured", "target", "verdict"], rows, right=(1,))
    print()


@dataclass(frozen=True)
class Row:
    """One measurement of a sectioned table (:func:`print_sections`)."""

    name: str
    timing: Timing
    unit: str
    baseline: Timing | None = None  # the raw-PostgreSQL measurement it is compared with
    by_latency: bool = False  # compare median latency (reads) rather than rate (writes)

    def cells(self) -> list[str]:
        if self.baseline is None:
            ratio = "—"
        elif self.by_latency:
            ratio = f"{fmt_ratio(self.timing.median_ms / self.baseline.median_ms)} time"
        else:
            ratio = f"{fmt_ratio(self.timing.rate / self.baseline.rate)} rate"
        return [
            self.name,
            fmt_rate(self.timing.rate, self.unit),
            fmt_ms(self.timing.median_ms),
            fmt_ms(self.timing.p95_ms),
            str(self.timing.calls),
            ratio,
        ]


def print_sections(sections: Sequence[tuple[str, Sequence[Row]]]) -> None:
    """Measurements under section titles: rate, median and p95 latency, calls, and the ratio to raw PostgreSQL."""
    table: list[list[str]] = []
    for title, rows in sections:
        table.append([f"[{title}]", "", "", "", "", ""])
        table.extend(row.cells() for row in rows)
    print_table(["measurement", "rate", "median ms", "p95 ms", "n", "vs raw PG"], table, right=(1, 2, 3, 4))
    print()


def require_at_least_one(parser: argparse.ArgumentParser, args: argparse.Namespace, names: Sequence[str]) -> None:
    """Refuse (as argparse does) any of the options ``names`` given below 1."""
    for name in names:
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")


# --------------------------------------------------------------- loopback


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body (sized by its Content-Length) of the next HTTP/1.1 response on a keep-alive connection."""
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


# ------------------------------------------------------- raw PostgreSQL baseline


class RawEvents:
    """A table shaped like an eventsourcing events table, written and read with plain psycopg (autocommit).

    Each INSERT statement is its own transaction: the least a database write can cost on this server.
    """

    def __init__(self, url: str, table: str = "bench_raw_events") -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.table = sql.Identifier(table)
        self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self.table))
        self.conn.execute(
            sql.SQL(
                "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
                "topic text NOT NULL, state bytea NOT NULL, PRIMARY KEY (originator_id, originator_version))"
            ).format(self.table)
        )
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
