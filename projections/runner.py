"""Keeps read models following the log: exactly once, in pages, resumable, rebuildable.

Why not eventsourcing's ``ProjectionRunner``: it applies one event per transaction (about 1,000 events/s on
these machines) and tracks the library's ``notification_id``, which may have gaps; the ledger's public position
is the dense ``leaf_index``. This runner applies a page of events (default 10,000) to its read models in one
transaction, together with their positions in ``projection_positions``, so a crash at any instant loses or
repeats nothing: the rows and the position commit together. The positions are row-locked for the page, so two
workers never apply the same page. New events wake it through PostgreSQL LISTEN/NOTIFY (the recorder notifies
the log's channel, :data:`ledger.store.tables.CHANNEL`, on every append).

The read models go in lanes, each with a connection of its own and a transaction per page: those that read the
events' fields, split in three lanes (``ReadModel.lane``) so two wait for PostgreSQL while the third folds, each
page read and decoded once for all three (:class:`SharedPages`: the first lane to reach it reads it), and those
PostgreSQL builds from the log's rows alone (the trail, ``reads_events = False``), which follow in a thread of
their own. The server then builds the trail and writes the others' rows while Python folds: on two cores they
overlap. Each read model keeps its own position, so the lanes need not be at the same one; exactly-once holds per
read model, as it always did.

Over 500 lines: the runner's one loop — pages, lanes, positions, rebuild and swap — whose parts share the
transaction of each page.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

import msgspec
import psycopg
from psycopg import sql
from psycopg.rows import tuple_row
from psycopg.types.json import set_json_loads

from ledger.store.recorder import lock_schema
from ledger.store.tables import CHANNEL, EVENTS
from projections.base import Conn, LogEvent, ReadModel, composed, log_events
from projections.positions import POSITIONS, log_size, wait_for

logger = logging.getLogger(__name__)
REPORT_EVERY = 10.0  # seconds between the lines that say what the read models applied while following

PAGE = 10_000  # events per transaction when catching up: see the README, Performance
INTERVAL = 0.05  # seconds between the starts of two pages while following (see Runner.run)
RECONNECT_FIRST = 0.5  # seconds before the follower connects again after a failure, doubling each time …
RECONNECT_MAX = 5.0  # … up to this
CONNECT_TIMEOUT = 5  # seconds a connection attempt may take (a database unreachable, rather than refusing)


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int  # leaves applied (the next leaf index to apply)
    head: int  # leaves in the log

    @property
    def lag(self) -> int:
        return self.head - self.position


class FollowerState:
    """What :meth:`Runner.run` is doing now, for health checks: running or not, following the log or reconnecting
    (and why). Written by the follower's thread, read by others: each field is replaced whole."""

    def __init__(self) -> None:
        self.running = False  # inside Runner.run
        self.up = False  # caught up at least once since it last (re)connected
        self.error = ""  # the last failure, while not up
        self.failures = 0  # in a row, since it was last up

    def following(self) -> None:
        self.up, self.error, self.failures = True, "", 0

    def failed(self, error: BaseException) -> float:
        """Record ``error``; return how long to wait before connecting again."""
        self.up = False
        self.error = f"{type(error).__name__}: {error}".strip()
        self.failures += 1
        return float(min(RECONNECT_FIRST * 2 ** (self.failures - 1), RECONNECT_MAX))


class Progress:
    """What the read models applied, told in the log: the first catch-up as soon as it ends, then at most one line
    every :data:`REPORT_EVERY` seconds (a page is applied up to 20 times a second under load)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.total = 0
        self.pending = 0
        self.seconds = 0.0
        self.reported_at: float | None = None

    def add(self, events: int, seconds: float) -> None:
        self.total += events
        self.pending += events
        self.seconds += seconds
        self.report()

    def report(self, *, force: bool = False) -> None:
        now = self.clock()
        due = self.reported_at is None or now - self.reported_at >= REPORT_EVERY
        if self.pending and (due or force):
            first = self.reported_at is None
            logger.info(
                "read models %s: %d events applied in %.0f ms",
                "caught up" if first else "followed the log",
                self.pending,
                self.seconds * 1000,
                extra={
                    "role": "read-models",
                    "outcome": "caught-up" if first else "applied",
                    "events": self.pending,
                    "duration_ms": round(self.seconds * 1000, 1),
                },
            )
            self.pending, self.seconds, self.reported_at = 0, 0.0, now


class Runner:
    def __init__(
        self, database_url: str, models: Sequence[ReadModel], *, page: int = PAGE, interval: float = INTERVAL
    ) -> None:
        self.database_url = database_url
        self.state = FollowerState()
        self.models = list(models)
        self.page = page
        self.interval = interval
        self.progress = Progress()
        self.shared: SharedPages | None = None  # while the lanes catch up: each page read and decoded once for all
        # Read models applied together, a page per transaction, each lane on its own connection (see above).
        reading = sorted({model.lane for model in self.models if model.reads_events})
        self.lanes = [
            lane
            for lane in (
                *([model for model in self.models if model.reads_events and model.lane == n] for n in reading),
                [model for model in self.models if not model.reads_events],
            )
            if lane
        ]

    def _connect(self) -> Conn:
        """A connection whose session time zone is UTC: psycopg then builds each row's recorded_at without a time zone
        database lookup (a third of the time reading a page took). Instants are the same in any zone; the digests'
        text of them becomes the same whatever the server's TimeZone. JSON columns are decoded by msgspec."""
        conn = psycopg.connect(
            self.database_url, row_factory=tuple_row, autocommit=True, connect_timeout=CONNECT_TIMEOUT
        )
        conn.execute("SET TimeZone = 'UTC'")
        conn.autocommit = False
        set_json_loads(msgspec.json.decode, conn)  # the jsonb columns read back (project_status' rectifications…)
        return conn

    # ------------------------------------------------------------ set-up

    def setup(self) -> None:
        with self._connect() as conn, conn.transaction():
            lock_schema(conn)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, position bigint NOT NULL DEFAULT 0, "
                    "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())"
                ).format(sql.Identifier(POSITIONS))
            )
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1").format(
                    sql.Identifier(POSITIONS)
                )
            )
            recorded: dict[str, int] = dict(
                conn.execute(sql.SQL("SELECT name, version FROM {}").format(sql.Identifier(POSITIONS))).fetchall()
            )
            for model in self.models:
                if model.name in recorded and recorded[model.name] != model.version:
                    # Its tables have another shape or meaning now: start them again from the log's beginning.
                    logger.warning(
                        "read model %s is version %s, its tables version %s: rebuilding from the log",
                        model.name,
                        model.version,
                        recorded[model.name],
                    )
                    for name in model.tables(model.name):
                        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
                    conn.execute(
                        sql.SQL(
                            "UPDATE {} SET position = 0, version = %s, updated_at = clock_timestamp() WHERE name = %s"
                        ).format(sql.Identifier(POSITIONS)),
                        (model.version, model.name),
                    )
                for live in model.tables(model.name):  # indexes left under a rebuild's name by earlier versions
                    _adopt_indexes(conn, live, _building(model), model.name)
                model.create(conn, model.name)
                conn.execute(
                    sql.SQL("INSERT INTO {} (name, version) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING").format(
                        sql.Identifier(POSITIONS)
                    ),
                    (model.name, model.version),
                )

    # --------------------------------------------------------- following

    def head(self, conn: Conn | None = None) -> int:
        """Events in the log (the next leaf index)."""
        if conn is not None:
            return log_size(conn)
        with self._connect() as own:
            return log_size(own)

    def status(self) -> list[ProjectionStatus]:
        with self._connect() as conn:
            head = self.head(conn)
            rows: dict[str, int] = dict(
                conn.execute(sql.SQL("SELECT name, position FROM {}").format(sql.Identifier(POSITIONS))).fetchall()
            )
        return [ProjectionStatus(model.name, int(rows.get(model.name, 0)), head) for model in self.models]

    def read_events(self, conn: Conn, start: int, limit: int) -> list[LogEvent]:
        """The next ``limit`` events from leaf ``start``, each with the :class:`EventFields` the read models read."""
        query = composed(
            conn,
            ("runner.read",),
            lambda: sql.SQL(
                "SELECT leaf_index, recorded_at, originator_id, originator_version, topic, state, effective_on FROM {} "
                "WHERE leaf_index >= %s ORDER BY leaf_index LIMIT %s"
            ).format(sql.Identifier(EVENTS)),
        )
        # binary: no hex to decode, no timestamps to parse from text
        rows = conn.execute(query, (start, limit), binary=True, prepare=True).fetchall()
        return log_events(rows)

    def count_events(self, conn: Conn, start: int, limit: int) -> int:
        """How many of the ``limit`` leaves from ``start`` the log holds: a page for read models that read no fields.
        Leaf indexes are dense and committed in order (assigned under the log's lock), so the last one tells."""
        query = composed(
            conn,
            ("runner.count",),
            lambda: sql.SQL("SELECT max(leaf_index) FROM {} WHERE leaf_index >= %s AND leaf_index < %s").format(
                sql.Identifier(EVENTS)
            ),
        )
        row = conn.execute(query, (start, start + limit), prepare=True).fetchone()
        return 0 if row is None or row[0] is None else int(row[0]) - start + 1

    def apply_page(self, conn: Conn, models: Sequence[ReadModel] | None = None) -> int:
        """Apply the next page to ``models`` (default: every read model) in one transaction on ``conn``, from the
        lowest of their positions; return how many events the page held."""
        models = self.models if models is None else models
        if any(model.reads_events for model in models):
            with _cyclic_gc_paused():  # until the page's objects are freed, when _apply_next_page returns
                return self._apply_next_page(conn, models)
        return self._apply_next_page(conn, models)

    def _apply_next_page(self, conn: Conn, models: Sequence[ReadModel]) -> int:
        names = [model.name for model in models]
        with conn.transaction():
            lock = composed(
                conn,
                ("runner.lock",),
                lambda: sql.SQL("SELECT name, position FROM {} WHERE name = ANY(%s) ORDER BY name FOR UPDATE").format(
                    sql.Identifier(POSITIONS)
                ),
            )
            positions: dict[str, int] = dict(conn.execute(lock, (names,), prepare=True).fetchall())
            start = min(int(positions.get(name, 0)) for name in names)
            events, count = self._read_page(conn, models, start)
            if not count:
                return 0
            end = events[-1].leaf_index + 1 if events else start + count
            for model in models:
                position = int(positions.get(model.name, 0))
                if position >= end:
                    continue  # ahead of this page (rebuilt meanwhile): nothing in it is new to this one
                if events is not None and model.reads_events:
                    model.apply(conn, model.name, events[bisect_left(events, position, key=_leaf_index) :])
                else:
                    model.apply_range(conn, model.name, position, end - 1)
            # Every model now stands at the page's end, except one that was already beyond it.
            advance = composed(
                conn,
                ("runner.advance",),
                lambda: sql.SQL(
                    "UPDATE {} SET position = %s, updated_at = clock_timestamp() WHERE name = ANY(%s) AND position < %s"
                ).format(sql.Identifier(POSITIONS)),
            )
            conn.execute(advance, (end, names, end), prepare=True)
            return count

    def _read_page(self, conn: Conn, models: Sequence[ReadModel], start: int) -> tuple[list[LogEvent] | None, int]:
        """The page from ``start``: its events if one of ``models`` reads them (else None), and how many it holds."""
        if any(model.reads_events for model in models):
            shared = self.shared
            if shared is None:
                events = self.read_events(conn, start, self.page)
            else:
                events = shared.read(conn, start, self.page, self.read_events)
            return events, len(events)
        return None, self.count_events(conn, start, self.page)

    def catch_up(self, conn: Conn | None = None) -> int:
        """Apply pages until every read model reaches the log's head; return the events read by the lane that read
        the most. Each lane catches up on a connection of its own, beside the others (``conn``: the first lane's)."""
        with Lanes(self, conn) as lanes:
            return lanes.catch_up()

    def catch_up_models(self, conn: Conn, models: Sequence[ReadModel]) -> int:
        """Apply pages to ``models``, together, until they reach the log's head; return the events applied."""
        total = 0
        while True:
            applied = self.apply_page(conn, models)
            total += applied
            if applied < self.page:
                return total

    def run(self, stop: threading.Event, *, idle_timeout: float = 1.0) -> None:
        """Follow the log until ``stop`` is set: catch up, then sleep until the recorder notifies.

        The same connections for all the catching up: a new one per notification (one per append, when busy) cost
        PostgreSQL a backend each, and the appends waited for the CPU that took. Pages start at most every
        ``interval`` seconds: what is appended meanwhile waits for the next page, so under load each page carries
        many events (a page of one event cost about as much as a page of a hundred), while an event alone is
        applied as soon as it is notified.

        Nothing but ``stop`` ends it. A failure — the database restarting, a session killed, a page that fails —
        closes every connection, waits (:data:`RECONNECT_FIRST` seconds, doubling up to :data:`RECONNECT_MAX`),
        connects again and resumes from the positions the database holds (a page commits with its positions, or
        not at all). :attr:`state` says meanwhile that the read models are down, and why.
        """
        self.state.running = True
        self.progress = Progress()
        names = [model.name for model in self.models]
        logger.info(
            "read models %s follow the log (pages of up to %d events)",
            ", ".join(names),
            self.page,
            extra={"role": "read-models", "outcome": "started"},
        )
        try:
            while not stop.is_set():
                try:
                    self._follow(stop, idle_timeout)
                except Exception as error:
                    wait = self.state.failed(error)
                    context = {"role": "read-models", "outcome": "failed", "retry_in_s": round(wait, 1)}
                    if isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError)):
                        logger.warning(
                            "read models lost the database (%s); reconnecting in %.1f s", error, wait, extra=context
                        )
                    else:
                        logger.exception("read models failed; starting again in %.1f s", wait, extra=context)
                    stop.wait(wait)
        finally:
            self.state.running = False
            self.progress.report(force=True)
            logger.info(
                "read models stopped following the log (%d events applied since they started)",
                self.progress.total,
                extra={"role": "read-models", "outcome": "stopped", "events": self.progress.total},
            )

    def _follow(self, stop: threading.Event, idle_timeout: float) -> None:
        """Connect (a LISTEN session and the lanes' connections), then follow until ``stop`` or a failure."""
        with (
            psycopg.connect(self.database_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as listener,
            Lanes(self, None) as lanes,
        ):
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
            while not stop.is_set():
                began = time.monotonic()
                self.progress.add(lanes.catch_up(), time.monotonic() - began)
                self.state.following()
                for _ in listener.notifies(timeout=idle_timeout, stop_after=1):
                    pass
                stop.wait(self.interval - (time.monotonic() - began))

    def wait_for(self, position: int, timeout: float = 2.0) -> bool:
        """Read-your-writes: wait (bounded) until every read model has applied leaf ``position``."""
        with self._connect() as conn:
            conn.autocommit = True
            return wait_for(conn, [model.name for model in self.models], position, timeout)

    # ----------------------------------------------------------- rebuild

    def rebuild(self, model: ReadModel, *, progress: Callable[[int, int], object] | None = None) -> str:
        """Rebuild ``model`` from zero into a fresh table, then swap it in atomically. Returns its digest.

        Most of the work happens outside any lock; the final catch-up and the swap happen while holding the
        model's position row, so the live runner waits for a moment and then carries on from the new position.
        Queries see the old table until the swap commits, then the new one: never a half-built table.
        ``progress(position, head)`` is told of each page of the bulk as it is applied.
        """
        building = _building(model)
        with self._connect() as conn:
            with conn.transaction():
                for name in model.tables(building):
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
                model.create(conn, building)
            position = 0
            head = self.head(conn) if progress is not None else 0
            if progress is not None:
                progress(0, head)
            while True:  # the bulk of the rebuild, without blocking the live runner
                applied, position = self._rebuild_page(conn, model, building, position)
                if progress is not None:
                    head = max(head, position)  # the log grows while it is rebuilt
                    progress(position, head)
                if applied < self.page:
                    break
            with conn.transaction():
                conn.execute(
                    sql.SQL("SELECT position FROM {} WHERE name = %s FOR UPDATE").format(sql.Identifier(POSITIONS)),
                    (model.name,),
                )
                while True:
                    applied, position = self._rebuild_page(conn, model, building, position, transaction=False)
                    if not applied:
                        break
                for live, new in zip(model.tables(model.name), model.tables(building), strict=True):
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(live)))
                    conn.execute(
                        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(new), sql.Identifier(live))
                    )
                    # The indexes keep the names they were built under: give them the live table's, or the next
                    # rebuild's CREATE INDEX IF NOT EXISTS would find its names taken and build no index at all.
                    _adopt_indexes(conn, live, building, model.name)
                conn.execute(
                    sql.SQL("UPDATE {} SET position = %s, updated_at = clock_timestamp() WHERE name = %s").format(
                        sql.Identifier(POSITIONS)
                    ),
                    (position, model.name),
                )
            return model.digest(conn, model.name)

    def _rebuild_page(
        self, conn: Conn, model: ReadModel, building: str, position: int, *, transaction: bool = True
    ) -> tuple[int, int]:
        """Apply the page from ``position`` to the table being built (in a transaction of its own unless told
        otherwise); return the events and the next position."""
        with conn.transaction() if transaction else _nothing(), _cyclic_gc_paused():
            events, count = self._read_page(conn, [model], position)
            if events:
                model.apply(conn, building, events)
                return count, events[-1].leaf_index + 1
            if count:
                model.apply_range(conn, building, position, position + count - 1)
        return count, position + count

    def digest(self, model: ReadModel) -> str:
        with self._connect() as conn:
            return model.digest(conn, model.name)


def _leaf_index(item: LogEvent) -> int:
    return item.leaf_index


def _building(model: ReadModel) -> str:
    """The name a rebuild builds ``model``'s table under, before swapping it in."""
    return f"{model.name}__rebuild"


def _adopt_indexes(conn: Conn, table: str, built_as: str, name: str) -> None:
    """Rename ``table``'s indexes (its primary key's too) from ``built_as…`` to ``name…``.

    An index whose new name the table already has is a duplicate (``create`` made it since, under the live name)
    and is dropped; one whose new name another relation holds is left as it is.
    """
    indexes = {
        str(row[0])
        for row in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s", (table,)
        )
    }
    for index in sorted(indexes):
        if not index.startswith(built_as):
            continue
        renamed = name + index[len(built_as) :]
        if renamed in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
            continue
        elsewhere = conn.execute("SELECT to_regclass(quote_ident(%s))", (renamed,)).fetchone()
        if elsewhere is None or elsewhere[0] is None:
            conn.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(sql.Identifier(index), sql.Identifier(renamed)))


class Lanes:
    """The runner's lanes, each with a connection: the first on the caller's connection (if it gives one), the others
    on connections of their own, each caught up by a thread of its own. Kept for one catch-up, or for as long as a
    follower runs (the connections and the thread are reused)."""

    def __init__(self, runner: Runner, conn: Conn | None) -> None:
        self.runner = runner
        self.conns: list[Conn | None] = [conn, *(None for _ in runner.lanes[1:])]
        self.owned = [conn is None, *(True for _ in runner.lanes[1:])]
        self.pool = ThreadPoolExecutor(len(runner.lanes) - 1, "projection-lane") if len(runner.lanes) > 1 else None

    def __enter__(self) -> Lanes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _catch_up(self, lane: int) -> int:
        shared = self.runner.shared
        if shared is not None:
            shared.join(lane)
        try:
            conn = self.conns[lane]
            if conn is None or conn.closed:
                conn = self.conns[lane] = self.runner._connect()
            return self.runner.catch_up_models(conn, self.runner.lanes[lane])
        finally:
            if shared is not None:
                shared.leave(lane)

    def catch_up(self) -> int:
        """Every lane caught up, the first in this thread; the events read by the lane that read the most."""
        if not self.runner.lanes:
            return 0
        readers = [n for n, lane in enumerate(self.runner.lanes) if any(model.reads_events for model in lane)]
        if len(readers) > 1:
            self.runner.shared = SharedPages(readers)
        try:
            return self._catch_up_lanes()
        finally:
            self.runner.shared = None

    def _catch_up_lanes(self) -> int:
        futures = [self.pool.submit(self._catch_up, lane) for lane in range(1, len(self.conns))] if self.pool else []
        applied: list[int] = []
        errors: list[BaseException] = []
        try:
            applied.append(self._catch_up(0))
        except BaseException as error:
            errors.append(error)
        for future in futures:  # wait for each, whatever happened to the others
            try:
                applied.append(future.result())
            except BaseException as error:
                errors.append(error)
        if errors:
            raise errors[0]
        return max(applied)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        for conn, owned in zip(self.conns, self.owned, strict=True):
            if owned and conn is not None:
                conn.close()


class SharedPages:
    """Each page read and decoded once for the lanes that read the events, whichever asks first (the others wait
    for it): reading and decoding a page took each lane about a quarter of its time, and it is the same page.

    A page is the log's events from a leaf index on, which never change once committed, so a lane may apply a page
    another lane read in another transaction: at worst it is shorter than what the log holds by then (the lane then
    stops where it ends, as if it had read it itself then, and the next catch-up goes on from there). A page is kept
    until every lane still catching up has taken it; a lane at another position reads its own (pages no other lane
    takes are dropped once those lanes have caught up, or when more than :data:`KEEP` are kept, the oldest first).
    A lane whose read failed fails; one waiting for it reads the page itself. Only the lanes share: a read from any
    other thread (a rebuild) is its own.
    """

    KEEP = 8  # pages kept at most, for a lane that fell behind the one that read them

    def __init__(self, lanes: Iterable[int]) -> None:
        self.waiting = set(lanes)  # the lanes still catching up, which may take a page
        self.lock = threading.Lock()
        self.local = threading.local()  # .lane: the lane this thread catches up
        self.pages: dict[tuple[int, int], tuple[Future[list[LogEvent]], set[int]]] = {}

    def join(self, lane: int) -> None:
        """This thread catches ``lane`` up: its reads are shared."""
        self.local.lane = lane

    def leave(self, lane: int) -> None:
        """``lane`` has caught up (or failed): the pages it has not taken no longer wait for it."""
        self.local.lane = None
        with self.lock:
            self.waiting.discard(lane)
            for page in [page for page, (_, takers) in self.pages.items() if self.waiting <= takers]:
                del self.pages[page]

    def read(
        self, conn: Conn, start: int, limit: int, read: Callable[[Conn, int, int], list[LogEvent]]
    ) -> list[LogEvent]:
        lane: int | None = getattr(self.local, "lane", None)
        if lane is None:
            return read(conn, start, limit)
        page = (start, limit)
        with self.lock:
            entry = self.pages.get(page)
            owner = entry is None
            if entry is None:
                entry = self.pages[page] = (Future(), set())
                for old in sorted(self.pages)[: max(0, len(self.pages) - self.KEEP)]:
                    del self.pages[old]
            future, takers = entry
            takers.add(lane)
            if self.waiting <= takers:
                self.pages.pop(page, None)
        if owner:
            try:
                events = read(conn, start, limit)
            except BaseException as error:
                future.set_exception(error)
                raise
            future.set_result(events)
            return events
        try:
            return future.result()
        except Exception:
            return read(conn, start, limit)  # the reader's transaction failed, not necessarily this one's


@contextmanager
def _nothing() -> Iterator[None]:
    yield


_gc_pauses = 0  # pages being read or applied now, in any thread
_gc_was_enabled = False
_gc_lock = threading.Lock()


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a page is read and applied, and resume it (if it was on) once
    no thread is reading or applying one (a rebuild and a follower may share a process).

    A page decodes thousands of objects; the collections they triggered cost about 12 µs of CPU per event
    (a fifth of the catch-up, bench_projections). They form no cycles: reference counting frees them as soon as
    the page is done, so nothing accumulates while the collector waits. Resume only once they are freed, or the
    first allocation after would make the collector walk them all.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
