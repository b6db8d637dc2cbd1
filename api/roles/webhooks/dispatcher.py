"""The webhook dispatcher: delivers every active subscription's due events, one at a time per subscription, signed,
retried with back-off, dead-lettered (the rules: :mod:`api.roles.webhooks`).

It wakes on each append (LISTEN on the log's channel) and when retries fall due; a subscription is served under its
advisory lock by one dispatcher at a time, whichever process runs it. Its statements are the webhook store's
(:mod:`api.roles.webhooks.store`); the HTTP requests are the sender's (:mod:`api.roles.webhooks.sender`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from uuid import UUID, uuid4

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from api.roles.destinations import DestinationRefused, Destinations
from api.roles.webhooks.sender import Sender
from api.roles.webhooks.store import (
    DELIVERED,
    DISABLE,
    DUE,
    FAILED,
    RETRY,
    SERVED,
    SKIPPED,
    TRY_LOCK,
    UNLOCK,
    Subscription,
    subscription_of,
)
from ledger.domain.values import Principal
from ledger.store.recorder import check_on_checkout
from ledger.store.tables import CHANNEL
from projections import feed

logger = logging.getLogger("api.roles.webhooks")  # the package's name, as before the split: what logs are filtered by

OUTAGE_PAUSE = (0.5, 10.0)  # seconds between tries while the database is unreachable: first, at most
FLUSH_EVENTS = 100
FLUSH_SECONDS = 0.1
LISTEN = sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL))


@dataclass
class Delivered:
    """Successful deliveries not yet recorded (see the module's notes)."""

    subscription_id: UUID
    rows: list[tuple[int, int, UUID, int, float]] = field(default_factory=list)
    since: float = 0.0

    def add(self, position: int, attempt: int, delivery: UUID, status: int, duration: float) -> None:
        if not self.rows:
            self.since = time.monotonic()
        self.rows.append((position, attempt, delivery, status, duration))

    def due(self) -> bool:
        return len(self.rows) >= FLUSH_EVENTS or (bool(self.rows) and time.monotonic() - self.since >= FLUSH_SECONDS)

    def flush(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        if not self.rows:
            return
        positions, attempts, deliveries, statuses, durations = (list(column) for column in zip(*self.rows, strict=True))
        conn.execute(
            DELIVERED,
            {
                "id": self.subscription_id,
                "positions": positions,
                "attempts": attempts,
                "deliveries": deliveries,
                "statuses": statuses,
                "durations": durations,
                "last": positions[-1],
            },
            prepare=True,
        )
        self.rows.clear()


def sign(secret: str, timestamp: str, position: int, body: bytes) -> str:
    """``v2=<hex HMAC-SHA256(secret, "<timestamp>.<position>.<body>")>``: neither number has a dot, so the three
    parts cannot be told apart any other way."""
    message = f"{timestamp}.{position}.".encode() + body
    return "v2=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Guard(Protocol):
    """Whether a subscription's principal may still receive events (api.auth answers: while it holds a live
    token), and the channel on which a change to that is announced."""

    channel: str

    def refusal(self, conn: psycopg.Connection[tuple[Any, ...]], principal: Principal) -> str | None: ...


class Dispatcher:
    """Delivers every active subscription's due events; wakes on each append (LISTEN) and when retries fall due."""

    def __init__(
        self,
        database_url: str,
        *,
        max_attempts: int = 8,
        backoff: float = 1.0,
        max_backoff: float = 3600,
        timeout: float = 10.0,
        workers: int = 4,
        batch: int = 200,
        guard: Guard | None = None,
        destinations: Destinations | None = None,
    ) -> None:
        self.database_url = database_url
        self.guard = guard
        self._revisions = 0  # the guard's announcements seen: a delivery in progress looks at its row again
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.batch = batch
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jixiao-webhook")
        self._busy: set[UUID] = set()
        self._busy_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._listen, name="jixiao-webhook-listen", daemon=True),
            threading.Thread(target=self._loop, name="jixiao-webhook-loop", daemon=True),
        ]
        self._http = Sender(timeout, destinations=destinations)
        self._listening = False  # the LISTEN connection is up
        self._polled = False  # the last look for due subscriptions reached the database
        self._lag: int | None = None
        # Reused connections (a new one per wake-up cost more than the deliveries). Bookkeeping, not the ledger:
        # if a crash loses the last cursor moves, those events are delivered again (receivers drop repeats by
        # position), so these sessions do not wait for the WAL flush of each delivery.
        self._db: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
            database_url,
            min_size=1,
            max_size=workers + 1,
            kwargs={"autocommit": True},
            open=False,
            configure=_no_flush_wait,
            name="jixiao-webhooks",
            timeout=OUTAGE_PAUSE[1],
        )
        check_on_checkout(self._db)  # sessions a database restart ended are replaced before use, not found by failing

    @property
    def alive(self) -> bool:
        """Its threads run (False once stopped, or if one died: only a restart of the process brings it back)."""
        return not self._stop.is_set() and all(thread.is_alive() for thread in self._threads)

    @property
    def healthy(self) -> bool:
        """Running, listening for appends, and its last look at the subscriptions reached the database."""
        return (
            not self._stop.is_set()
            and all(thread.is_alive() for thread in self._threads)
            and self._listening
            and self._polled
        )

    @property
    def lag(self) -> int | None:
        """Positions between the log's head and the cursor of the furthest-behind active subscription, at the last
        look (about every second, and at each append); None before the first. A receiver that is down keeps it
        up until the subscription is dead-lettered."""
        return self._lag

    def start(self) -> None:
        self._db.open()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()
        self._db.close()

    def _listen(self) -> None:
        outage = _Outage("webhook listener")
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(LISTEN)
                    if self.guard is not None:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.guard.channel)))
                    self._revisions += 1
                    self._listening = True
                    outage.over()
                    self._wake.set()
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=1.0, stop_after=1):
                            if self.guard is not None and notify.channel == self.guard.channel:
                                self._revisions += 1
                            self._wake.set()
            except psycopg.Error as error:
                self._listening = False
                self._stop.wait(outage.pause(error))

    def _loop(self) -> None:
        outage = _Outage("webhook dispatcher")
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)  # also the clock for retries that fall due
            self._wake.clear()
            try:
                due = self._due()
            except Exception as error:  # unreachable database (or anything else): try again, less often
                self._polled = False
                self._stop.wait(outage.pause(error))
                continue
            self._polled = True
            outage.over()
            for subscription in due:
                with self._busy_lock:
                    if subscription in self._busy:
                        continue
                    self._busy.add(subscription)
                self._pool.submit(self._serve, subscription)

    def _due(self) -> list[UUID]:
        with self._db.connection() as conn:
            row = conn.execute(DUE).fetchone()
        assert row is not None
        self._lag = int(row[1])
        return list(row[0])

    def _serve(self, subscription_id: UUID) -> None:
        try:
            with self._db.connection() as conn:
                locked = conn.execute(TRY_LOCK, (str(subscription_id),)).fetchone()
                if not locked or not locked[0]:
                    return  # another process serves it
                try:
                    self._deliver_due(conn, subscription_id)
                finally:
                    conn.execute(UNLOCK, (str(subscription_id),))
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:  # the database went: the loop waits
            logger.info("webhook subscription %s paused: %s", subscription_id, error)
        except Exception:
            logger.exception("webhook subscription %s failed to dispatch", subscription_id)
        finally:
            with self._busy_lock:
                self._busy.discard(subscription_id)

    def _deliver_due(self, conn: psycopg.Connection[tuple[Any, ...]], subscription_id: UUID) -> None:
        while not self._stop.is_set():
            revision = self._revisions  # before reading the row: a revocation committed after it is heard of
            row = conn.cursor(row_factory=dict_row).execute(SERVED, (subscription_id,)).fetchone()
            if row is None or row["status"] != "active" or not row["due"]:
                return
            subscription = subscription_of(row)
            refusal = self.guard.refusal(conn, subscription.principal) if self.guard is not None else None
            if refusal is not None:  # checked at delivery time too: a revocation may have come meanwhile
                conn.execute(DISABLE, (refusal, [subscription_id]))
                return
            page = feed.read(
                conn,
                subscription.position,
                self.batch,
                feed.visible_to(conn, subscription.principal, tuple(subscription.topics)),
            )
            delivered = Delivered(subscription_id)
            revoked = False
            try:
                for event in page.events:
                    if self._revisions != revision:  # a principal lost its token: read the row again first
                        revoked = True
                        break
                    if not self._attempt(conn, subscription, event, row["secret"], delivered):
                        return
                    subscription = replace(subscription, position=event.position, attempts=0)
                    if delivered.due():
                        delivered.flush(conn)
            finally:
                delivered.flush(conn)
            if revoked:
                continue
            if page.next > subscription.position:  # filtered out: move the cursor over what was scanned
                conn.execute(SKIPPED, (page.next, subscription_id, page.next))
            if not page.events and page.next >= page.head - 1:
                return

    def _attempt(
        self,
        conn: psycopg.Connection[tuple[Any, ...]],
        subscription: Subscription,
        event: feed.FeedEvent,
        secret: str,
        delivered: Delivered,
    ) -> bool:
        body = event.json.encode()
        timestamp = str(int(time.time()))
        delivery = uuid4()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "jixiao-ledger-webhooks/2",
            "X-Jixiao-Position": str(event.position),
            "X-Jixiao-Event-Type": event.type,
            "X-Jixiao-Delivery": str(delivery),
            "X-Jixiao-Subscription": str(subscription.id),
            "X-Jixiao-Timestamp": timestamp,
            "X-Jixiao-Signature": sign(secret, timestamp, event.position, body),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            status = self._http.post(subscription.url, body, headers)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except DestinationRefused as refused:  # the same words whatever was refused, and nothing about why
            error = str(refused)
        except Exception as failure:  # whatever it is, this attempt failed: record it, retry, dead-letter
            error = f"{type(failure).__name__}: {failure}"[:500]
        duration = (time.perf_counter() - started) * 1000
        attempt = subscription.attempts + 1
        if error is None and status is not None:
            delivered.add(event.position, attempt, delivery, status, round(duration, 2))
            return True
        delivered.flush(conn)  # what was delivered before this failure moves the cursor first
        logged = (subscription.id, event.position, attempt, delivery, status, error, round(duration, 2))
        with conn.transaction():
            conn.execute(FAILED, logged)
            dead = attempt >= self.max_attempts
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)  # noqa: S311
            conn.execute(RETRY, (attempt, error, "dead" if dead else "active", delay, subscription.id))
        if dead:
            logger.warning(
                "webhook subscription %s dead-lettered at position %s after %s attempts: %s",
                subscription.id,
                event.position,
                attempt,
                error,
            )
        return False


class _Outage:
    """A loop's view of the database being away: a pause that doubles while it lasts, and one log line for it (not
    a traceback per try), and one when it is over."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.next = OUTAGE_PAUSE[0]
        self.since: float | None = None

    def pause(self, error: Exception) -> float:
        if self.since is None:
            self.since = time.monotonic()
            reason = (str(error).strip().splitlines() or [""])[0]
            logger.warning(
                "%s cannot reach the database (%s: %s); retrying with back-off", self.role, type(error).__name__, reason
            )
        pause, self.next = self.next, min(OUTAGE_PAUSE[1], self.next * 2)
        return pause

    def over(self) -> None:
        if self.since is not None:
            logger.warning("%s reached the database again after %.1f s", self.role, time.monotonic() - self.since)
        self.since = None
        self.next = OUTAGE_PAUSE[0]


def _no_flush_wait(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    conn.execute("SET synchronous_commit TO off")
