"""One reader of the log per process, fanning each new page out to every Server-Sent Events stream in memory.

Each stream used to read the log itself on every append: with 200 streams open, 200 queries per append, and a third
of the command throughput left. Now one task LISTENs on the log's channel, reads each new page once — PostgreSQL
renders every event's SSE frame, with what the filters look at — and keeps the last ``window`` events in memory.
A stream sends from there what its principal may see, decided as the pull feed decides it
(:func:`projections.feed.visible_to`). A stream that is behind the window — it resumes from an old position, or
its client reads slowly — reads its own pages from the database with the pull feed's filter, up to where the reader
has got, and then rejoins. Ids are positions, so neither path loses or repeats an event; a stream holds one chunk at
a time, and the window is shared.

The reader survives the database: it reconnects and goes on from its position, so no stream sees a gap after a
restart. ``connected``, ``position`` and ``behind`` say how it is doing, for readiness.

Streams never end by themselves, and uvicorn, asked to stop, waits for every open response: SIGINT and SIGTERM
therefore also close the streams first (``start`` chains a handler before the server's own).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from types import FrameType
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from ledger.domain.values import Principal, Role, key
from ledger.store.tables import CHANNEL, EVENTS
from projections import feed

logger = logging.getLogger(__name__)

APPLICATION_NAME = "jixiao-sse-reader"  # how the reader's connection shows in pg_stat_activity
PAGE = 1000  # events the reader reads at a time
CHUNK = 500  # events a stream sends at a time (and reads per page while it catches up)
HEARTBEAT = b": heartbeat\n\n"
SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StreamRefused(Exception):
    """Too many streams: in this process, or of this principal."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class Audience:
    """What a stream may see, as :func:`projections.feed.visible_to` decides for its principal: everything
    (finance, auditors), a department's own objects, or the public events (an agency's: and the audit findings about
    it) — each narrowed to ``types``."""

    types: tuple[str, ...]
    public_only: bool = False
    department: str | None = None
    agency: str | None = None  # the key of the agency's name (ledger.domain.values.key)

    @classmethod
    def of(cls, principal: Principal, types: tuple[str, ...]) -> Audience:
        if principal.role in (Role.FINANCE, Role.AUDITOR):
            return cls(types)
        if principal.role == Role.DEPARTMENT:
            return cls(types, department=principal.organisation)
        if principal.role == Role.AGENCY:
            return cls(types, public_only=True, agency=key(principal.organisation))
        return cls(types, public_only=True)


class Subscription:
    """One open stream: where it is in the log (the last position it has sent or skipped) and how to wake it."""

    def __init__(self, principal: Principal, key: tuple[str, str], audience: Audience, cursor: int) -> None:
        self.principal = principal
        self.key = key
        self.audience = audience
        self.cursor = cursor
        self.wake = asyncio.Event()
        self.heartbeat = 15.0
        self.due = time.monotonic() + self.heartbeat  # when its heartbeat comment is due, if nothing is sent
        self.beat = False  # woken for the heartbeat


class LogFanout:
    """The process's one reader of the log, and the streams it serves (see the module's description)."""

    def __init__(
        self,
        database_url: str,
        pool: ConnectionPool[psycopg.Connection[Any]],
        *,
        max_streams: int = 1000,
        max_per_principal: int = 20,
        window: int = 4096,
        interval: float = 0.01,
        per_wake: float = 0.002,
        poll: float = 5.0,
        tick: float = 0.1,
        retry_after: int = 10,
    ) -> None:
        """``interval``, and ``per_wake`` for every stream a read woke: the least time from one read to the next
        while appends keep coming. Waking a stream and sending its chunk costs the process about 0.1 ms (a 2-core
        VM), so under load the streams take about a tenth of it, however many there are, and each read carries
        the events of its interval; when appends are rarer, each is sent as it comes. ``poll``: seconds between
        reads when no notification comes (a check that the connection is alive); ``tick``: how often heartbeats are
        looked for."""
        self.database_url = database_url
        self.pool = pool
        self.max_streams = max_streams
        self.max_per_principal = max_per_principal
        self.window = window
        self.interval = interval
        self.per_wake = per_wake
        self.poll = poll
        self.tick = tick
        self.retry_after = retry_after
        self.closed = asyncio.Event()
        self._events: list[feed.TailEvent] = []  # positions _first … _position, in order
        self._first = 0
        self._position: int | None = None  # the last position read; None until the first connection
        self._connected = False
        self._reading = False
        self._current_at: float | None = None  # when the reader last found nothing more to read
        self._subscriptions: set[Subscription] = set()
        self._per_key: Counter[tuple[str, str]] = Counter()
        self._waiting: set[Subscription] = set()
        self._owned: dict[str, set[UUID]] = {}  # department or unit -> the objects it owns, as far as known
        self._found: dict[str, set[UUID]] = {}  # an agency's key -> the audit findings about it, as far as known
        self._chunks: dict[tuple[Audience, int], tuple[bytes, int]] = {}  # of the window as it is now
        self._catching_up = asyncio.Semaphore(max(1, (pool.max_size + 1) // 2))  # leave the pool to queries too
        self._tasks: list[asyncio.Task[None]] = []
        self._restore_signals: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------------------------------- for readiness

    @property
    def connected(self) -> bool:
        """The reader holds its connection to the database (and LISTENs on it)."""
        return self._connected

    @property
    def position(self) -> int:
        """The last log position the reader has read (-1: none yet)."""
        return -1 if self._position is None else self._position

    @property
    def behind(self) -> float:
        """Seconds since the reader last found nothing more to read (0.0: it is at the head, waiting)."""
        if self._current_at is None:
            return float("inf")
        return 0.0 if self._connected and not self._reading else time.monotonic() - self._current_at

    @property
    def streams(self) -> int:
        return len(self._subscriptions)

    # ----------------------------------------------------------------------------------------------- lifecycle

    @property
    def alive(self) -> bool:
        """Its reader and ticker tasks still run (False after ``stop``, or if one ended by an error)."""
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._read_log(), name="jixiao-sse-reader"),
            loop.create_task(self._beat(), name="jixiao-sse-heartbeat"),
        ]

        def close_soon() -> None:  # from a signal handler: only hand the close over to the loop
            loop.call_soon_threadsafe(self.close)

        self._restore_signals = chain_shutdown_signals(close_soon)

    def close(self) -> None:
        """End every stream (each sends a last comment saying why) and accept no new one."""
        self.closed.set()
        for subscription in self._subscriptions:
            subscription.wake.set()

    async def stop(self) -> None:
        self.close()
        self._restore_signals()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------------------------------------- streams

    def open(self, principal: Principal, key: tuple[str, str], types: tuple[str, ...], after: int) -> Subscription:
        """A stream for ``principal`` (counted under ``key``) of the events after ``after``; refused beyond the caps.
        (Once the fan-out is closed, a stream ends as it starts, saying why: the client reconnects elsewhere.)"""
        if len(self._subscriptions) >= self.max_streams:
            raise StreamRefused(
                f"this server already serves {self.max_streams} event streams, its limit (已达事件流总数上限)",
                self.retry_after,
            )
        if self._per_key[key] >= self.max_per_principal:
            raise StreamRefused(
                f"at most {self.max_per_principal} event streams at once per principal "
                f"(每个主体同时最多{self.max_per_principal}个事件流)",
                self.retry_after,
            )
        subscription = Subscription(principal, key, Audience.of(principal, types), after)
        self._subscriptions.add(subscription)
        self._per_key[key] += 1
        return subscription

    def release(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.discard(subscription)
            self._waiting.discard(subscription)
            self._per_key[subscription.key] -= 1
            if not self._per_key[subscription.key]:
                del self._per_key[subscription.key]

    async def serve(
        self, subscription: Subscription, send: Callable[[bytes], Awaitable[None]], heartbeat: float
    ) -> None:
        """Send the stream: its events' frames after its cursor, as they are recorded, and a heartbeat comment after
        ``heartbeat`` seconds of nothing. Returns when the fan-out closes."""
        subscription.heartbeat = heartbeat
        await send(b"retry: 2000\n\n")
        fresh = True  # the first page comes from the database: it also learns what a department owns
        while not self.closed.is_set():
            position = self._position
            if position is not None and (
                fresh or (subscription.cursor < position and not self._covers(subscription.cursor))
            ):
                try:
                    chunk = await self._from_database(subscription)
                except psycopg.Error as error:  # the database is away: wait (sending heartbeats) and try again
                    logger.debug("an event stream could not read the log (%s); trying again", error)
                else:
                    fresh = False
                    if chunk:
                        await send(chunk)
                        subscription.due = time.monotonic() + heartbeat
                    continue
            elif position is not None and subscription.cursor < position:
                chunk, subscription.cursor = self._chunk(subscription.audience, subscription.cursor)
                if chunk:
                    await send(chunk)
                    subscription.due = time.monotonic() + heartbeat
                continue
            # Nothing to send: sleep until the reader (or the heartbeat) wakes it. No timer of its own, which would
            # cost each stream more than its wake-up does.
            subscription.wake.clear()
            self._waiting.add(subscription)
            try:
                await subscription.wake.wait()
            finally:
                self._waiting.discard(subscription)
            if subscription.beat:
                subscription.beat = False
                await send(HEARTBEAT)
                subscription.due = time.monotonic() + heartbeat

    def _covers(self, cursor: int) -> bool:
        """The window holds every position after ``cursor`` that the reader has read."""
        return self._position is not None and cursor >= self._first - 1

    def _chunk(self, audience: Audience, cursor: int) -> tuple[bytes, int]:
        """From the window: the frames ``audience`` may see among the next CHUNK positions after ``cursor``, and
        the last position looked at. Shared by every stream of the audience at that cursor."""
        key = (audience, cursor)
        cached = self._chunks.get(key)
        if cached is not None:
            return cached
        start = cursor + 1 - self._first
        events = self._events[start : start + CHUNK]
        if not events:
            return b"", cursor
        objects = None if audience.department is None else self._owned.setdefault(audience.department, set())
        own = () if audience.agency is None else self._found.setdefault(audience.agency, set())
        frames = [
            event.frame_for(audience.public_only)
            for event in events
            if event.admitted(audience.types, audience.public_only, objects, own)
        ]
        chunk = (b"".join(frames), events[-1].position)
        self._chunks[key] = chunk
        return chunk

    async def _from_database(self, subscription: Subscription) -> bytes:
        """The next page of the stream from the database, with the pull feed's filter, up to where the reader is."""
        until = self._position
        audience = subscription.audience
        known = frozenset(self._owned.get(audience.department, ())) if audience.department is not None else None
        found = frozenset(self._found.get(audience.agency, ())) if audience.agency is not None else frozenset()

        def page() -> tuple[feed.FeedFilter, feed.FeedPage]:
            with self.pool.connection() as conn:
                where = feed.visible_to(conn, subscription.principal, audience.types)
                if known is not None and where.objects is not None:  # what the reader saw declared, too
                    where = replace(where, objects=tuple(known.union(where.objects)))
                if found and where.public_only:  # the findings the reader saw recorded, too
                    where = replace(where, own=tuple(found.union(where.own)))
                return where, feed.read(conn, subscription.cursor, CHUNK, where, until=until)

        async with self._catching_up:
            where, read = await run_in_threadpool(page)
        if audience.department is not None and where.objects is not None:
            owned = self._owned.setdefault(audience.department, set())
            if not owned.issuperset(where.objects):
                owned.update(where.objects)
                self._chunks.clear()
        if audience.agency is not None:
            about = self._found.setdefault(audience.agency, set())
            if not about.issuperset(where.own):
                about.update(where.own)
                self._chunks.clear()
        subscription.cursor = max(subscription.cursor, read.next)
        return b"".join(feed.sse_frame(event) for event in read.events)

    async def _beat(self) -> None:
        """Wake the streams whose heartbeat is due, with the beat to send."""
        while True:
            await asyncio.sleep(self.tick)
            now = time.monotonic()
            for subscription in self._waiting:
                if subscription.due <= now:
                    subscription.beat = True
                    subscription.wake.set()

    # -------------------------------------------------------------------------------------------------- reader

    async def _read_log(self) -> None:
        backoff = 0.5
        while not self.closed.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database_url, autocommit=True, application_name=APPLICATION_NAME
                ) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    if self._position is None:
                        head = await (
                            await conn.execute(
                                sql.SQL("SELECT coalesce(max(leaf_index), -1) FROM {}").format(sql.Identifier(EVENTS))
                            )
                        ).fetchone()
                        self._position = int(head[0]) if head else -1
                        self._first = self._position + 1
                    self._connected = True
                    backoff = 0.5
                    self._wake_all()  # streams waiting for the reader look again
                    await self._follow(conn)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away (or restarts): keep the window, reconnect, go on
                logger.warning(
                    "the event streams' reader lost its database connection; reconnecting", exc_info=self._connected
                )
            finally:
                self._connected = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _follow(self, conn: psycopg.AsyncConnection[Any]) -> None:
        while True:
            started = time.monotonic()
            self._reading = True
            position = self.position
            cursor = await conn.execute(feed.TAIL, (position, position + PAGE), binary=True)
            read, woken = self._append([feed.TailEvent(*row) for row in await cursor.fetchall()])
            if read < PAGE:
                self._reading = False
                self._current_at = time.monotonic()
                # The next append's notification (one that came during the read is already waiting), or the poll.
                async for _ in conn.notifies(timeout=self.poll, stop_after=1):
                    pass
            # Under load, wait before reading again until the streams just woken have had their turn several times
            # over: the next read then carries more events, and each stream sends them at once.
            pause = max(self.interval, woken * self.per_wake) - (time.monotonic() - started)
            if pause > 0:
                await asyncio.sleep(pause)

    def _append(self, events: list[feed.TailEvent]) -> tuple[int, int]:
        """Add what the reader read to the window and wake the streams that have something to send: how many
        events it added, and how many streams it woke."""
        expected = self.position + 1
        count = 0
        for event in events:  # positions are dense and committed in order: stop at anything else
            if event.position != expected + count:
                break
            for owner in (event.declared_by, event.declared_for):  # a project's or a unit's department, and the unit
                if owner is not None:
                    self._owned.setdefault(owner, set()).add(event.originator)
            if event.finding_of is not None:  # a finding about an agency: its stream follows it from now on
                self._found.setdefault(key(event.finding_of), set()).add(event.originator)
            count += 1
        if not count:
            return 0, 0
        self._events.extend(events[:count])
        self._position = events[count - 1].position
        if len(self._events) > 2 * self.window:
            dropped = len(self._events) - self.window
            del self._events[:dropped]
            self._first += dropped
        self._chunks.clear()
        woken = 0
        for subscription in list(self._waiting):
            if self._covers(subscription.cursor):
                chunk, looked_at = self._chunk(subscription.audience, subscription.cursor)
                if not chunk and looked_at >= self._position:
                    subscription.cursor = max(subscription.cursor, looked_at)  # nothing for it: it moves on asleep
                    continue
            subscription.wake.set()
            woken += 1
        return count, woken

    def _wake_all(self) -> None:
        for subscription in self._waiting:
            subscription.wake.set()


def chain_shutdown_signals(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` on SIGINT and SIGTERM, then whatever handled them before (uvicorn's handler, which stops the
    server once every open response has ended). Returns a function that puts the previous handlers back.

    Only the main thread may set signal handlers: elsewhere (a test's server in a thread) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in SHUTDOWN_SIGNALS}

    def handler(sig: int, frame: FrameType | None) -> None:
        callback()
        before = previous[sig]
        if callable(before):
            before(sig, frame)
        elif before == signal.SIG_DFL:  # what would have happened: the default action
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)

    for sig in SHUTDOWN_SIGNALS:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, before in previous.items():
            if signal.getsignal(sig) is handler and before is not None:
                signal.signal(sig, before)

    return restore
