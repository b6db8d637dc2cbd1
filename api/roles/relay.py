"""The NATS JetStream relay: every event of the log published once, in order, for subscribers on many machines.

PostgreSQL stays the source of truth; JetStream fans out. Each event goes to ``<prefix>.<Aggregate>.<Event>``
(e.g. ``jixiao.events.Project.BudgetApproved``) with ``Nats-Msg-Id`` = its position, so JetStream drops a
repeat within its duplicate window. Beyond that window the relay itself never repeats: it resumes after
whichever is later, its own tracking position (``relay_positions``) or the position of the last message in the
stream — so a crash between publishing and recording costs nothing. One relay per stream runs at a time (an
advisory lock): extra replicas wait and take over when it dies. Subscribers use durable JetStream consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import nats
import psycopg
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError
from psycopg import sql

from api.roles.health import RoleState
from ledger.store.tables import CHANNEL, EVENTS
from projections import feed

logger = logging.getLogger(__name__)

POSITIONS = "relay_positions"
SCHEMA = sql.SQL("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY, position bigint NOT NULL)").format(
    sql.Identifier(POSITIONS)
)
START = sql.SQL("INSERT INTO {} (name, position) VALUES (%s, -1) ON CONFLICT (name) DO NOTHING").format(
    sql.Identifier(POSITIONS)
)
TRACKED = sql.SQL("SELECT position FROM {} WHERE name = %s").format(sql.Identifier(POSITIONS))
ADVANCE = sql.SQL("UPDATE {} SET position = %s WHERE name = %s").format(sql.Identifier(POSITIONS))
LAST = sql.SQL("SELECT coalesce(max(leaf_index), -1) FROM {}").format(sql.Identifier(EVENTS))
LISTEN = sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL))


def subject_of(prefix: str, event_type: str) -> str:
    return f"{prefix}.{event_type}"


class NatsRelay:
    def __init__(
        self,
        database_url: str,
        servers: str,
        *,
        stream: str = "JIXIAO",
        prefix: str = "jixiao.events",
        page: int = 500,
        duplicate_window: float = 120.0,
    ) -> None:
        self.database_url = database_url
        self.servers = servers
        self.stream = stream
        self.prefix = prefix
        self.page = page
        self.duplicate_window = duplicate_window
        self.name = f"nats:{stream}"
        self.state = RoleState("relay")

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set: catch up, then follow the log (LISTEN), one page at a time.

        Nothing but ``stop`` ends it. A failure — the database restarting, NATS away, a session killed — closes
        both connections, waits (half a second, doubling up to five), and starts again: under the advisory lock,
        after whichever is later, its tracking position or the stream's last message. :attr:`state` says meanwhile
        that it is down, and why.
        """
        while not stop.is_set():
            try:
                await self._relay(stop)
            except Exception as error:  # a cancellation is not one: it ends the relay
                wait = self.state.lost(error)
                logger.warning("the relay failed (%s: %s); starting again in %.1f s", type(error).__name__, error, wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)

    async def _relay(self, stop: asyncio.Event) -> None:
        # No reconnecting inside the client: a connection lost is a failure of this run, started again whole.
        connection = await nats.connect(self.servers, name="jixiao-relay", connect_timeout=5, allow_reconnect=False)
        try:
            js = connection.jetstream()
            await self._ensure_stream(js)
            async with await psycopg.AsyncConnection.connect(
                self.database_url, autocommit=True, connect_timeout=5
            ) as db:
                # One relay per stream at a time: a second replica waits here and takes over if the first dies.
                await self._lead(db, stop)
                if stop.is_set():
                    return
                await db.execute(SCHEMA)
                await db.execute(START, (self.name,))
                position = max(await self._tracked(db), await self._last_published(js))
                async with await psycopg.AsyncConnection.connect(
                    self.database_url, autocommit=True, connect_timeout=5
                ) as listener:
                    await listener.execute(LISTEN)
                    while not stop.is_set():
                        position = await self._publish_page(db, js, position)
                        self.state.connected()
                        if await self._caught_up(db, position):
                            await self._wait(listener, stop)
        finally:
            try:
                await connection.drain()
            except Exception:  # already broken: closing is all there is left to do
                await connection.close()

    async def _lead(self, db: psycopg.AsyncConnection[Any], stop: asyncio.Event) -> None:
        while not stop.is_set():
            cursor = await db.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self.name,))
            row = await cursor.fetchone()
            if row and row[0]:
                return
            self.state.connected()  # standing by: another relay publishes
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=2.0)

    async def _ensure_stream(self, js: Any) -> None:
        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(name=self.stream, subjects=[f"{self.prefix}.>"], duplicate_window=self.duplicate_window)
            )

    async def _tracked(self, db: psycopg.AsyncConnection[Any]) -> int:
        cursor = await db.execute(TRACKED, (self.name,))
        row = await cursor.fetchone()
        return int(row[0]) if row else -1

    async def _last_published(self, js: Any) -> int:
        """The position of the stream's last message (its Nats-Msg-Id), or -1 for an empty stream."""
        info = await js.stream_info(self.stream)
        if not info.state.messages:
            return -1
        message = await js.get_msg(self.stream, seq=info.state.last_seq)
        return int((message.headers or {}).get("Nats-Msg-Id", -1))

    async def _publish_page(self, db: psycopg.AsyncConnection[Any], js: Any, position: int) -> int:
        page = await asyncio.to_thread(self._read, position)
        for event in page.events:
            await js.publish(
                subject_of(self.prefix, event.type),
                event.json.encode(),
                stream=self.stream,
                headers={"Nats-Msg-Id": str(event.position)},
            )
            position = event.position
        if page.events:
            await db.execute(ADVANCE, (position, self.name))
        return position

    def _read(self, position: int) -> feed.FeedPage:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return feed.read(conn, position, self.page)

    async def _caught_up(self, db: psycopg.AsyncConnection[Any], position: int) -> bool:
        cursor = await db.execute(LAST)
        row = await cursor.fetchone()
        return row is None or position >= int(row[0])

    async def _wait(self, listener: psycopg.AsyncConnection[Any], stop: asyncio.Event) -> None:
        """Until an append is notified, or a second passes (to notice ``stop``)."""
        async for _ in listener.notifies(timeout=1.0, stop_after=1):
            pass
