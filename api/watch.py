"""One LISTEN per process on the log's channel, shared by every stream that waits for new events.

The recorder notifies ``ledger_events`` in each append's transaction, so the notification arrives after the
commit. A waiter takes the generation *before* it reads the log and waits for a later one, so an append that
lands between its read and its wait still wakes it: no event is left waiting for the next heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

logger = logging.getLogger(__name__)

CHANNEL = "ledger_events"


class LogWatcher:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.generation = 0
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="jixiao-log-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait(self, seen: int, timeout: float) -> bool:
        """Wait until the generation passes ``seen`` (True) or ``timeout`` seconds go by (False)."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.generation > seen), timeout)
            except TimeoutError:
                return False
        return True

    async def _bump(self) -> None:
        async with self._changed:
            self.generation += 1
            self._changed.notify_all()

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as conn:
                    await conn.execute(f'LISTEN "{CHANNEL}"')
                    await self._bump()  # (re)connected: anything may have happened meanwhile
                    async for _ in conn.notifies():
                        await self._bump()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away: wake everyone to re-read, retry shortly
                logger.warning("log watcher lost its connection; reconnecting", exc_info=True)
                await self._bump()
                await asyncio.sleep(1.0)
