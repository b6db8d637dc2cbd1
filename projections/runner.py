"""Keeps read models following the log: exactly once, in pages, resumable, rebuildable.

Why not eventsourcing's ``ProjectionRunner``: it applies one event per transaction (about 1,000 events/s on
these machines) and tracks the library's ``notification_id``, which may have gaps; the ledger's public position
is the dense ``leaf_index``. This runner applies a page of events (default 2,000) to every read model in one
transaction, together with their positions in ``projection_positions``, so a crash at any instant loses or
repeats nothing: the rows and the position commit together. The positions are row-locked for the page, so two
workers never apply the same page. New events wake it through PostgreSQL LISTEN/NOTIFY (the recorder notifies
the ``ledger_events`` channel on every append).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from projections.base import EVENTS, Conn, LogEvent, ReadModel, composed, log_events

logger = logging.getLogger(__name__)

POSITIONS = "projection_positions"
CHANNEL = "ledger_events"
PAGE = 2_000


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int  # leaves applied (the next leaf index to apply)
    head: int  # leaves in the log

    @property
    def lag(self) -> int:
        return self.head - self.position


class Runner:
    def __init__(self, database_url: str, models: Sequence[ReadModel], *, page: int = PAGE) -> None:
        self.database_url = database_url
        self.models = list(models)
        self.page = page

    def _connect(self) -> Conn:
        return psycopg.connect(self.database_url, row_factory=tuple_row)

    # ------------------------------------------------------------ set-up

    def setup(self) -> None:
        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('jixiao-projections-setup'))")
            conn.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, position bigint NOT NULL DEFAULT 0, "
                "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())").format(sql.Identifier(POSITIONS)))
            conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1").format(
                sql.Identifier(POSITIONS)))
            recorded: dict[str, int] = dict(conn.execute(sql.SQL("SELECT name, version FROM {}").format(
                sql.Identifier(POSITIONS))).fetchall())
            for model in self.models:
                if model.name in recorded and recorded[model.name] != model.version:
                    # Its tables have another shape or meaning now: start them again from the log's beginning.
                    logger.warning("read model %s is version %s, its tables version %s: rebuilding from the log",
                                   model.name, model.version, recorded[model.name])
                    for name in model.tables(model.name):
                        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
                    conn.execute(sql.SQL("UPDATE {} SET position = 0, version = %s, updated_at = clock_timestamp() "
                                         "WHERE name = %s").format(sql.Identifier(POSITIONS)),
                                 (model.version, model.name))
                for live in model.tables(model.name):  # indexes left under a rebuild's name by earlier versions
                    _adopt_indexes(conn, live, _building(model), model.name)
                model.create(conn, model.name)
                conn.execute(sql.SQL("INSERT INTO {} (name, version) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING"
                                     ).format(sql.Identifier(POSITIONS)), (model.name, model.version))

    # --------------------------------------------------------- following

    def head(self, conn: Conn | None = None) -> int:
        def read(c: Conn) -> int:
            row = c.execute(sql.SQL("SELECT coalesce(max(leaf_index) + 1, 0) FROM {}").format(
                sql.Identifier(EVENTS))).fetchone()
            return int(row[0]) if row else 0

        if conn is not None:
            return read(conn)
        with self._connect() as own:
            return read(own)

    def status(self) -> list[ProjectionStatus]:
        with self._connect() as conn:
            head = self.head(conn)
            rows: dict[str, int] = dict(conn.execute(sql.SQL("SELECT name, position FROM {}").format(
                sql.Identifier(POSITIONS))).fetchall())
        return [ProjectionStatus(model.name, int(rows.get(model.name, 0)), head) for model in self.models]

    def read_events(self, conn: Conn, start: int, limit: int) -> list[LogEvent]:
        """The next ``limit`` events from leaf ``start``, each with the :class:`EventFields` the read models read."""
        query = composed(conn, ("runner.read",), lambda: sql.SQL(
            "SELECT leaf_index, recorded_at, originator_id, originator_version, topic, state, effective_on FROM {} "
            "WHERE leaf_index >= %s ORDER BY leaf_index LIMIT %s").format(sql.Identifier(EVENTS)))
        # binary: no hex to decode, no timestamps to parse from text
        rows = conn.execute(query, (start, limit), binary=True, prepare=True).fetchall()
        return log_events(rows)

    def apply_page(self, conn: Conn) -> int:
        """Apply the next page to every read model behind the log; return how many events were read."""
        with _cyclic_gc_paused():  # until the page's objects are freed, when _apply_next_page returns
            return self._apply_next_page(conn)

    def _apply_next_page(self, conn: Conn) -> int:
        names = [model.name for model in self.models]
        with conn.transaction():
            lock = composed(conn, ("runner.lock",), lambda: sql.SQL(
                "SELECT name, position FROM {} WHERE name = ANY(%s) ORDER BY name FOR UPDATE").format(
                sql.Identifier(POSITIONS)))
            positions: dict[str, int] = dict(conn.execute(lock, (names,), prepare=True).fetchall())
            start = min(int(positions.get(name, 0)) for name in names)
            events = self.read_events(conn, start, self.page)
            if not events:
                return 0
            end = events[-1].leaf_index + 1
            for model in self.models:
                position = int(positions.get(model.name, 0))
                todo = events[position - start:] if position > start else events
                if todo:
                    model.apply(conn, model.name, todo)
            advance = composed(conn, ("runner.advance",), lambda: sql.SQL(
                "UPDATE {} SET position = %s, updated_at = clock_timestamp() WHERE name = ANY(%s)").format(
                sql.Identifier(POSITIONS)))
            conn.execute(advance, (end, names), prepare=True)
            return len(events)

    def catch_up(self, conn: Conn | None = None) -> int:
        """Apply pages until the read models reach the log's head; return the events applied."""
        if conn is None:
            with self._connect() as own:
                return self.catch_up(own)
        total = 0
        while True:
            applied = self.apply_page(conn)
            total += applied
            if applied < self.page:
                return total

    def run(self, stop: threading.Event, *, idle_timeout: float = 1.0) -> None:
        """Follow the log until ``stop`` is set: catch up, then sleep until the recorder notifies.

        One connection for all the catching up: a new one per notification (one per append, when busy) cost
        PostgreSQL a backend each, and the appends waited for the CPU that took.
        """
        with psycopg.connect(self.database_url, autocommit=True) as listener:
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
            conn: Conn | None = None
            try:
                while not stop.is_set():
                    try:
                        if conn is None or conn.closed:
                            conn = self._connect()
                        self.catch_up(conn)
                    except psycopg.OperationalError:
                        logger.exception("projection page failed; retrying")
                        if conn is not None:
                            conn.close()
                        conn = None
                        stop.wait(1.0)
                        continue
                    for _ in listener.notifies(timeout=idle_timeout, stop_after=1):
                        pass
            finally:
                if conn is not None:
                    conn.close()

    def wait_for(self, position: int, timeout: float = 2.0) -> bool:
        """Read-your-writes: wait (bounded) until every read model has applied leaf ``position``."""
        deadline = time.monotonic() + timeout
        with self._connect() as conn:
            conn.autocommit = True
            while True:
                row = conn.execute(sql.SQL("SELECT min(position) FROM {} WHERE name = ANY(%s)").format(
                    sql.Identifier(POSITIONS)), ([model.name for model in self.models],)).fetchone()
                if row is not None and row[0] is not None and row[0] > position:
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.005)

    # ----------------------------------------------------------- rebuild

    def rebuild(self, model: ReadModel) -> str:
        """Rebuild ``model`` from zero into a fresh table, then swap it in atomically. Returns its digest.

        Most of the work happens outside any lock; the final catch-up and the swap happen while holding the
        model's position row, so the live runner waits for a moment and then carries on from the new position.
        Queries see the old table until the swap commits, then the new one: never a half-built table.
        """
        building = _building(model)
        with self._connect() as conn:
            with conn.transaction():
                for name in model.tables(building):
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
                model.create(conn, building)
            position = 0
            while True:  # the bulk of the rebuild, without blocking the live runner
                with _cyclic_gc_paused():
                    applied, position = self._rebuild_page(conn, model, building, position)
                if applied < self.page:
                    break
            with conn.transaction():
                conn.execute(sql.SQL("SELECT position FROM {} WHERE name = %s FOR UPDATE").format(
                    sql.Identifier(POSITIONS)), (model.name,))
                while True:
                    events = self.read_events(conn, position, self.page)
                    if not events:
                        break
                    model.apply(conn, building, events)
                    position = events[-1].leaf_index + 1
                for live, new in zip(model.tables(model.name), model.tables(building), strict=True):
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(live)))
                    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(new),
                                                                              sql.Identifier(live)))
                    # The indexes keep the names they were built under: give them the live table's, or the next
                    # rebuild's CREATE INDEX IF NOT EXISTS would find its names taken and build no index at all.
                    _adopt_indexes(conn, live, building, model.name)
                conn.execute(sql.SQL("UPDATE {} SET position = %s, updated_at = clock_timestamp() "
                                     "WHERE name = %s").format(sql.Identifier(POSITIONS)), (position, model.name))
            return model.digest(conn, model.name)

    def _rebuild_page(self, conn: Conn, model: ReadModel, building: str, position: int) -> tuple[int, int]:
        """Apply the page from ``position`` to the table being built; return the events and the next position."""
        with conn.transaction():
            events = self.read_events(conn, position, self.page)
            if events:
                model.apply(conn, building, events)
        return len(events), (events[-1].leaf_index + 1 if events else position)

    def digest(self, model: ReadModel) -> str:
        with self._connect() as conn:
            return model.digest(conn, model.name)


def _building(model: ReadModel) -> str:
    """The name a rebuild builds ``model``'s table under, before swapping it in."""
    return f"{model.name}__rebuild"


def _adopt_indexes(conn: Conn, table: str, built_as: str, name: str) -> None:
    """Rename ``table``'s indexes (its primary key's too) from ``built_as…`` to ``name…``.

    An index whose new name the table already has is a duplicate (``create`` made it since, under the live name)
    and is dropped; one whose new name another relation holds is left as it is.
    """
    indexes = {str(row[0]) for row in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s", (table,))}
    for index in sorted(indexes):
        if not index.startswith(built_as):
            continue
        renamed = name + index[len(built_as):]
        if renamed in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
            continue
        elsewhere = conn.execute("SELECT to_regclass(quote_ident(%s))", (renamed,)).fetchone()
        if elsewhere is None or elsewhere[0] is None:
            conn.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(sql.Identifier(index),
                                                                     sql.Identifier(renamed)))


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a page is applied, and resume it after (if it was on).

    A page decodes thousands of JSON objects; the collections they triggered cost about 12 µs of CPU per event
    (a fifth of the catch-up, bench_projections). They form no cycles: reference counting frees them as soon as
    the page is done, so nothing accumulates while the collector waits. Resume only once they are freed, or the
    first allocation after would make the collector walk them all.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
