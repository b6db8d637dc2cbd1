"""Webhooks: each subscription receives the events it may see, in position order, signed, retried, dead-lettered.

- **Order**: one event at a time per subscription; the next only after the previous was accepted (2xx). A
  subscription is served by one dispatcher at a time (a PostgreSQL advisory lock), whichever process runs it.
- **Signature**: ``X-Jixiao-Signature: v2=<hex HMAC-SHA256(secret, "<timestamp>.<position>.<body>")>`` with
  ``X-Jixiao-Timestamp`` (Unix seconds) and ``X-Jixiao-Position``: a receiver checks origin, freshness (within 5
  minutes of its clock, as the README says; every attempt is signed anew) and that the position it dedupes by is
  the one signed. ``v2`` names the construction, so a receiver can tell it from another.
- **Destinations**: only public addresses, unless the operator allows more (:mod:`api.destinations`), checked when
  a subscription is made or enabled and at every connection; a refusal is logged as ``refused by policy`` and no
  more, so the delivery log tells nothing about what answers inside the network.
- **Retries**: any failed attempt (non-2xx, timeout, refused, a URL that cannot be delivered to, anything raised on
  the way) is retried after ``backoff × 2^(attempt-1)`` seconds (capped, with jitter); after ``max_attempts`` the
  subscription is dead-lettered: it stops, the event it is stuck on is kept, and re-enabling it (after the receiver
  is fixed) resumes exactly there.
- **Exactly once, by position**: every delivery carries ``X-Jixiao-Position``; the cursor moves only after a 2xx,
  so a receiver that drops a position it has already seen (a crash between its 2xx and our record of it is the
  only way to see one twice) processes each event exactly once.
- Every attempt is logged (``webhook_deliveries``). Successful deliveries are recorded — log rows and the cursor's
  move, in one statement — every ``FLUSH_EVENTS`` deliveries or ``FLUSH_SECONDS``, at the end of a page and before
  any failure is: one round trip per batch, not per event. A crash in between repeats those deliveries, which the
  receiver drops by position as above.
- **Outages**: the dispatcher's loops outlive the database: while it is unreachable (a restart, a failover) they
  retry with back-off, logging once, and resume by themselves; ``healthy`` and ``lag`` say how it is doing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import logging
import random
import secrets
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit
from uuid import UUID, uuid4

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from api.roles.destinations import BadURL, DestinationRefused, Destinations, Receiver, parse
from ledger.domain.errors import InvalidInput
from ledger.domain.values import Principal
from ledger.store.recorder import check_on_checkout, lock_schema
from projections import feed
from projections.positions import log_size

logger = logging.getLogger(__name__)

SUBSCRIPTIONS = "webhook_subscriptions"
DELIVERIES = "webhook_deliveries"
LOCK_NAMESPACE = 0x6A78_7768  # advisory locks: one dispatcher per subscription ("jxwh")
CHANNEL = "ledger_events"
OUTAGE_PAUSE = (0.5, 10.0)  # seconds between tries while the database is unreachable: first, at most

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {SUBSCRIPTIONS} (
    id uuid PRIMARY KEY,
    url text NOT NULL,
    topics text[] NOT NULL,
    secret text NOT NULL,
    principal_id text NOT NULL,
    principal_role text NOT NULL,
    principal_org text NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'dead', 'disabled')),
    position bigint NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS {SUBSCRIPTIONS}_due_idx ON {SUBSCRIPTIONS} (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS {DELIVERIES} (
    id bigserial PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES {SUBSCRIPTIONS} (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    attempt integer NOT NULL,
    delivery_id uuid NOT NULL,
    status_code integer,
    error text,
    duration_ms numeric(10, 2) NOT NULL,
    delivered_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS {DELIVERIES}_subscription_idx ON {DELIVERIES} (subscription_id, id);
"""


# Successful deliveries: their log rows and the cursor's move to the last of them, as one statement.
DELIVERED = (
    f"WITH logged AS (INSERT INTO {DELIVERIES} (subscription_id, position, attempt, delivery_id, status_code, "  # noqa: S608
    "duration_ms) SELECT %(id)s, * FROM unnest(%(positions)s::bigint[], %(attempts)s::integer[], "
    "%(deliveries)s::uuid[], %(statuses)s::integer[], %(durations)s::numeric[])) "
    f"UPDATE {SUBSCRIPTIONS} SET position = %(last)s, attempts = 0, last_error = NULL, "
    "updated_at = clock_timestamp() WHERE id = %(id)s"
)
# The subscriptions due now, and how far behind the log's head the furthest-behind active one is.
DUE = sql.SQL(
    "WITH head AS (SELECT coalesce(max(leaf_index), -1) AS last FROM ledger_events), "
    "active AS (SELECT id, position, next_attempt_at FROM {subscriptions} WHERE status = 'active') "
    "SELECT ARRAY(SELECT a.id FROM active a WHERE a.next_attempt_at <= clock_timestamp() AND a.position < head.last "
    "ORDER BY a.next_attempt_at), (SELECT coalesce(max(head.last - a.position), 0) FROM active a) FROM head"
).format(subscriptions=sql.Identifier(SUBSCRIPTIONS))
FLUSH_EVENTS = 100
FLUSH_SECONDS = 0.1


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
        positions, attempts, deliveries, statuses, durations = (list(column) for column in zip(*self.rows,
                                                                                                strict=True))
        conn.execute(DELIVERED, {"id": self.subscription_id, "positions": positions, "attempts": attempts,
                                 "deliveries": deliveries, "statuses": statuses, "durations": durations,
                                 "last": positions[-1]}, prepare=True)
        self.rows.clear()


@dataclass(frozen=True)
class Subscription:
    id: UUID
    url: str
    topics: list[str]
    principal: Principal
    status: str
    position: int
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime


def _subscription(row: dict[str, Any]) -> Subscription:
    return Subscription(row["id"], row["url"], list(row["topics"]),
                        Principal(row["principal_id"], row["principal_role"], row["principal_org"]), row["status"],
                        int(row["position"]), int(row["attempts"]), row["next_attempt_at"], row["last_error"],
                        row["created_at"])


def sign(secret: str, timestamp: str, position: int, body: bytes) -> str:
    """``v2=<hex HMAC-SHA256(secret, "<timestamp>.<position>.<body>")>``: neither number has a dot, so the three
    parts cannot be told apart any other way."""
    message = f"{timestamp}.{position}.".encode() + body
    return "v2=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_url(url: str) -> Receiver:
    """A webhook URL read as the dispatcher will read it; raises InvalidInput."""
    try:
        return parse(url)
    except BadURL as error:
        raise InvalidInput(f"not a webhook URL: {error}", field="url") from None


class WebhookStore:
    """Subscriptions and their delivery logs. Receivers are checked against ``destinations`` when a subscription is
    made or enabled (raising :class:`~api.destinations.DestinationRefused`), and again at every delivery."""

    def __init__(self, database_url: str, destinations: Destinations | None = None) -> None:
        self.database_url = database_url
        self.destinations = destinations or Destinations()

    @contextmanager
    def _connect(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            yield conn

    def create_tables(self) -> None:
        with self._connect() as conn, conn.transaction():
            lock_schema(conn)
            conn.execute(SCHEMA)

    def create(self, url: str, topics: list[str], secret: str | None, principal: Principal,
               after: int | None) -> tuple[Subscription, str]:
        """A new subscription (from ``after``, default: from now on); returns it and its secret."""
        chosen = secret or secrets.token_urlsafe(32)
        if len(chosen) < 16:
            raise InvalidInput("a webhook secret has at least 16 characters", field="secret")
        receiver = check_url(url)
        self.destinations.check(receiver)
        with self._connect() as conn:
            start = after if after is not None else log_size(conn) - 1
            row = conn.cursor(row_factory=dict_row).execute(
                f"INSERT INTO {SUBSCRIPTIONS} (id, url, topics, secret, principal_id, principal_role, "  # noqa: S608
                "principal_org, position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
                (uuid4(), receiver.url, topics, chosen, principal.id, principal.role, principal.organisation,
                 start)).fetchone()
            conn.execute(f"NOTIFY {CHANNEL}")  # wake the dispatchers: it may have a backlog already
        assert row is not None
        return _subscription(row), chosen

    def get(self, subscription_id: UUID) -> Subscription | None:
        with self._connect() as conn:
            row = conn.cursor(row_factory=dict_row).execute(
                f"SELECT * FROM {SUBSCRIPTIONS} WHERE id = %s", (subscription_id,)).fetchone()  # noqa: S608
        return None if row is None else _subscription(row)

    def subscriptions(self, principal_id: str | None) -> list[Subscription]:
        with self._connect() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(
                f"SELECT * FROM {SUBSCRIPTIONS} WHERE %(who)s::text IS NULL OR "  # noqa: S608
                                "principal_id = %(who)s ORDER BY created_at", {"who": principal_id}).fetchall()
        return [_subscription(row) for row in rows]

    def set_status(self, subscription_id: UUID, status: str) -> Subscription | None:
        """Enable (also after a dead letter: retry the stuck event now, attempts reset) or disable. Enabling checks
        the receiver again: the allowed destinations, or what its name resolves to, may have changed."""
        if status == "active":
            found = self.get(subscription_id)
            if found is not None:
                self.destinations.check(check_url(found.url))
        with self._connect() as conn:
            row = conn.cursor(row_factory=dict_row).execute(
                f"UPDATE {SUBSCRIPTIONS} SET status = %s, attempts = CASE WHEN %s = 'active' THEN 0 "  # noqa: S608
                "ELSE attempts END, next_attempt_at = clock_timestamp(), updated_at = clock_timestamp() "
                "WHERE id = %s RETURNING *", (status, status, subscription_id)).fetchone()
            conn.execute(f"NOTIFY {CHANNEL}")
        return None if row is None else _subscription(row)

    def delete(self, subscription_id: UUID) -> bool:
        with self._connect() as conn:
            return conn.execute(f"DELETE FROM {SUBSCRIPTIONS} WHERE id = %s",  # noqa: S608
                                (subscription_id,)).rowcount == 1

    def deliveries(self, subscription_id: UUID, after: int | None, limit: int) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return conn.cursor(row_factory=dict_row).execute(
                f"SELECT id, position, attempt, delivery_id, status_code, error, duration_ms, delivered_at "  # noqa: S608
                f"FROM {DELIVERIES} WHERE subscription_id = %s AND id > %s ORDER BY id LIMIT %s",
                (subscription_id, after or 0, limit)).fetchall()


class Guard(Protocol):
    """Whether a subscription's principal may still receive events (api.auth answers: while it holds a live
    token), and the channel on which a change to that is announced."""

    channel: str

    def refusal(self, conn: psycopg.Connection[tuple[Any, ...]], principal: Principal) -> str | None: ...


PRINCIPAL_SUBSCRIPTIONS = sql.SQL("SELECT id, principal_role, principal_org FROM {} WHERE principal_id = %s "
                                  "AND status <> 'disabled' FOR UPDATE").format(sql.Identifier(SUBSCRIPTIONS))
DISABLE = sql.SQL("UPDATE {} SET status = 'disabled', last_error = %s, updated_at = clock_timestamp() "
                  "WHERE id = ANY(%s)").format(sql.Identifier(SUBSCRIPTIONS))
TRY_LOCK = sql.SQL("SELECT pg_try_advisory_lock({ns}, hashtext(%s))").format(ns=sql.Literal(LOCK_NAMESPACE))
UNLOCK = sql.SQL("SELECT pg_advisory_unlock({ns}, hashtext(%s))").format(ns=sql.Literal(LOCK_NAMESPACE))


def disable_subscriptions(conn: psycopg.Connection[Any], principal_id: str, keep: set[tuple[str, str]],
                          reason: str) -> list[UUID]:
    """Disable (in ``conn``'s transaction) the principal's subscriptions made as a (role, organisation) not in
    ``keep``: those it no longer holds a live token as. Returns their ids."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (SUBSCRIPTIONS,)).fetchone()
    if not exists or not exists[0]:
        return []
    rows = conn.execute(PRINCIPAL_SUBSCRIPTIONS, (principal_id,)).fetchall()
    ids = [row[0] for row in rows if (row[1], row[2]) not in keep]
    if ids:
        conn.execute(DISABLE, (reason, ids))
    return ids


def wait_for_dispatchers(conn: psycopg.Connection[Any], ids: list[UUID], reason: str, timeout: float) -> list[UUID]:
    """Wait until no dispatcher is serving these disabled subscriptions (each is served under its advisory lock,
    and read again before each page and after a revocation): once this returns, nothing more is delivered to them.
    Then record ``reason`` again (a dispatcher's last flush of deliveries clears the error). Returns those still
    being served when ``timeout`` ran out."""
    deadline = time.monotonic() + timeout
    pending = list(ids)
    while pending:
        busy = []
        for subscription_id in pending:
            locked = conn.execute(TRY_LOCK, (str(subscription_id),)).fetchone()
            if locked and locked[0]:
                conn.execute(UNLOCK, (str(subscription_id),))
            else:
                busy.append(subscription_id)
        pending = busy
        if pending and time.monotonic() >= deadline:
            break
        if pending:
            time.sleep(0.02)
    if ids:
        conn.execute(DISABLE, (reason, ids))
    return pending


class Dispatcher:
    """Delivers every active subscription's due events; wakes on each append (LISTEN) and when retries fall due."""

    def __init__(self, database_url: str, *, max_attempts: int = 8, backoff: float = 1.0, max_backoff: float = 3600,
                 timeout: float = 10.0, workers: int = 4, batch: int = 200, guard: Guard | None = None,
                 destinations: Destinations | None = None) -> None:
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
        self._threads = [threading.Thread(target=self._listen, name="jixiao-webhook-listen", daemon=True),
                         threading.Thread(target=self._loop, name="jixiao-webhook-loop", daemon=True)]
        self._http = Sender(timeout, destinations=destinations)
        self._listening = False  # the LISTEN connection is up
        self._polled = False  # the last look for due subscriptions reached the database
        self._lag: int | None = None
        # Reused connections (a new one per wake-up cost more than the deliveries). Bookkeeping, not the ledger:
        # if a crash loses the last cursor moves, those events are delivered again (receivers drop repeats by
        # position), so these sessions do not wait for the WAL flush of each delivery.
        self._db: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
            database_url, min_size=1, max_size=workers + 1, kwargs={"autocommit": True}, open=False,
            configure=_no_flush_wait, name="jixiao-webhooks", timeout=OUTAGE_PAUSE[1])
        check_on_checkout(self._db)  # sessions a database restart ended are replaced before use, not found by failing

    @property
    def alive(self) -> bool:
        """Its threads run (False once stopped, or if one died: only a restart of the process brings it back)."""
        return not self._stop.is_set() and all(thread.is_alive() for thread in self._threads)

    @property
    def healthy(self) -> bool:
        """Running, listening for appends, and its last look at the subscriptions reached the database."""
        return (not self._stop.is_set() and all(thread.is_alive() for thread in self._threads) and self._listening
                and self._polled)

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
                    conn.execute(f"LISTEN {CHANNEL}")
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
                locked = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                                      (LOCK_NAMESPACE, str(subscription_id))).fetchone()
                if not locked or not locked[0]:
                    return  # another process serves it
                try:
                    self._deliver_due(conn, subscription_id)
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (LOCK_NAMESPACE,
                                                                                 str(subscription_id)))
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
            row = conn.cursor(row_factory=dict_row).execute(
                f"SELECT *, next_attempt_at <= clock_timestamp() AS due FROM {SUBSCRIPTIONS} "  # noqa: S608
                "WHERE id = %s", (subscription_id,)).fetchone()
            if row is None or row["status"] != "active" or not row["due"]:
                return
            subscription = _subscription(row)
            refusal = self.guard.refusal(conn, subscription.principal) if self.guard is not None else None
            if refusal is not None:  # checked at delivery time too: a revocation may have come meanwhile
                conn.execute(DISABLE, (refusal, [subscription_id]))
                return
            page = feed.read(conn, subscription.position, self.batch,
                             feed.visible_to(conn, subscription.principal, tuple(subscription.topics)))
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
                conn.execute(f"UPDATE {SUBSCRIPTIONS} SET position = %s, updated_at = clock_timestamp() "  # noqa: S608
                             "WHERE id = %s AND position < %s", (page.next, subscription_id, page.next))
            if not page.events and page.next >= page.head - 1:
                return

    def _attempt(self, conn: psycopg.Connection[tuple[Any, ...]], subscription: Subscription,
                 event: feed.FeedEvent, secret: str, delivered: Delivered) -> bool:
        body = event.json.encode()
        timestamp = str(int(time.time()))
        delivery = uuid4()
        headers = {"Content-Type": "application/json", "User-Agent": "jixiao-ledger-webhooks/2",
                   "X-Jixiao-Position": str(event.position), "X-Jixiao-Event-Type": event.type,
                   "X-Jixiao-Delivery": str(delivery), "X-Jixiao-Subscription": str(subscription.id),
                   "X-Jixiao-Timestamp": timestamp,
                   "X-Jixiao-Signature": sign(secret, timestamp, event.position, body)}
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
            conn.execute(f"INSERT INTO {DELIVERIES} (subscription_id, position, attempt, delivery_id, status_code, "  # noqa: S608
                         "error, duration_ms) VALUES (%s, %s, %s, %s, %s, %s, %s)", logged)
            dead = attempt >= self.max_attempts
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)  # noqa: S311
            conn.execute(
                f"UPDATE {SUBSCRIPTIONS} SET attempts = %s, last_error = %s, status = %s, "  # noqa: S608
                "next_attempt_at = clock_timestamp() + make_interval(secs => %s), updated_at = clock_timestamp() "
                "WHERE id = %s", (attempt, error, "dead" if dead else "active", delay, subscription.id))
        if dead:
            logger.warning("webhook subscription %s dead-lettered at position %s after %s attempts: %s",
                           subscription.id, event.position, attempt, error)
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
            logger.warning("%s cannot reach the database (%s: %s); retrying with back-off", self.role,
                           type(error).__name__, reason)
        pause, self.next = self.next, min(OUTAGE_PAUSE[1], self.next * 2)
        return pause

    def over(self) -> None:
        if self.since is not None:
            logger.warning("%s reached the database again after %.1f s", self.role, time.monotonic() - self.since)
        self.since = None
        self.next = OUTAGE_PAUSE[0]


class Sender:
    """POSTs deliveries over keep-alive connections: one per receiver (scheme, host, port, credentials) and thread.

    The standard library's client: httpx cost about 0.6 ms of CPU per delivery on these machines, http.client about
    0.1 ms, and a dispatcher that is mostly waiting for its CPU delivers late. Redirects are not followed. A
    connection the receiver closed while idle is reopened and the request sent once more — the receiver may then
    see a delivery twice, which it drops by ``X-Jixiao-Position`` (as after any retry).

    Every connection is opened where ``destinations`` allows (:mod:`api.destinations`): the receiver's host is
    resolved here and checked, and the socket opened to a checked address, with the URL's host in ``Host`` and, for
    HTTPS, in SNI and the certificate check.

    Credentials in the URL (``https://user:password@host/…``) are sent as HTTP Basic authentication. The usual
    proxy variables are honoured (``https_proxy``, ``http_proxy``, ``no_proxy``, as :mod:`urllib.request` reads
    them): plain HTTP is sent through the proxy, HTTPS is tunnelled with CONNECT; credentials in the proxy's URL
    become ``Proxy-Authorization``. The proxy itself is spoken to in plain HTTP (``http://``; other schemes fail
    the attempt). A ``no_proxy`` entry names a host or a domain suffix (a ``:port`` in it is ignored: the host is
    reached directly on every port); address ranges (CIDR) are not understood. Through a proxy, the receiver's name
    is checked as it resolves here before each connection to the proxy (so it must resolve here too), and the proxy
    is asked for the name: it resolves it again, so it should refuse internal destinations itself.
    """

    def __init__(self, timeout: float, *, proxies: dict[str, str] | None = None,
                 destinations: Destinations | None = None, context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.destinations = destinations or Destinations()
        self._proxies = urllib.request.getproxies() if proxies is None else proxies
        self._local = threading.local()
        self._tls = context or ssl.create_default_context()
        self._all: list[http.client.HTTPConnection] = []
        self._all_lock = threading.Lock()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The receiver's status code; raises if there is none (DestinationRefused, BadURL, OSError,
        http.client.HTTPException, …)."""
        route = self._route(url)
        headers = {**headers, **dict(route.headers)}
        conn = self._connection(route)
        for attempt in (1, 2):
            fresh = conn.sock is None  # http.client opens it on request
            try:
                conn.request("POST", route.target, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    conn.close()
                return response.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                if fresh or attempt == 2:
                    raise
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    def _route(self, url: str) -> _Route:
        receiver = parse(url)
        scheme, host, port = receiver.scheme, receiver.host, receiver.port
        auth = () if receiver.userinfo is None else (("Authorization", _basic(receiver.userinfo)),)
        proxy = self._proxies.get(scheme)
        if not proxy or _bypassed(host, self._proxies.get("no", "")):
            return _Route(scheme, host, port, receiver.target, auth)
        proxied = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if proxied.scheme != "http":  # an attempt that fails, in the delivery log, rather than a silent bypass
            raise OSError(f"{scheme}_proxy {proxied.scheme}:// is not supported: an http:// proxy only")
        proxy_host, proxy_port = proxied.hostname or "", proxied.port or 80
        proxy_auth = () if proxied.username is None else (
            ("Proxy-Authorization", _basic(f"{proxied.username}:{proxied.password or ''}")),)
        if scheme == "http":  # sent to the proxy, addressed with the whole URL
            netloc = receiver.netloc_host + (f":{port}" if receiver.explicit_port else "")
            return _Route("http", proxy_host, proxy_port, f"http://{netloc}{receiver.target}", auth + proxy_auth,
                          behind=(host, port))
        return _Route(scheme, host, port, receiver.target, auth, (proxy_host, proxy_port), proxy_auth,
                      behind=(host, port))

    def _connection(self, route: _Route) -> http.client.HTTPConnection:
        cache: dict[_Route, http.client.HTTPConnection] = self._local.__dict__.setdefault("connections", {})
        key = replace(route, target="", headers=())
        conn = cache.get(key)
        if conn is not None:
            return conn  # reopened by http.client if the receiver or we closed it
        if route.tunnel is not None:  # HTTPS through a proxy: connect to it, CONNECT to the receiver
            proxy_host, proxy_port = route.tunnel
            conn = _TLSConnection(proxy_host, proxy_port, self.timeout, self._tls, self.destinations, route.behind)
            conn.set_tunnel(route.host, route.port, headers=dict(route.tunnel_headers))
        elif route.scheme == "https":
            conn = _TLSConnection(route.host, route.port, self.timeout, self._tls, self.destinations, None)
        else:
            conn = _Connection(route.host, route.port, self.timeout, self.destinations, route.behind)
        cache[key] = conn
        with self._all_lock:
            self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


@dataclass(frozen=True)
class _Route:
    """Where a delivery goes: the server connected to (or tunnelled through), the request target, the headers
    the URL or the proxy imply, and — through a proxy — the receiver behind it."""

    scheme: str
    host: str
    port: int
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    tunnel: tuple[str, int] | None = None
    tunnel_headers: tuple[tuple[str, str], ...] = ()
    behind: tuple[str, int] | None = None


class _Connection(http.client.HTTPConnection):
    """Plain HTTP, connected only where the destinations allow: to a checked address of the receiver's, or, through
    a proxy (``behind``: the receiver), to the proxy once the receiver was checked."""

    def __init__(self, host: str, port: int, timeout: float, destinations: Destinations,
                 behind: tuple[str, int] | None) -> None:
        super().__init__(host, port, timeout=timeout)
        self.destinations = destinations
        self.behind = behind

    def connect(self) -> None:
        if self.behind is not None:
            self.destinations.addresses(*self.behind)
            super().connect()
            return
        self.sock = self.destinations.connect(self.host, self.port, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS, connected as :class:`_Connection` is; the TLS session is with the receiver's name (SNI, certificate),
    whatever address it was reached at."""

    def __init__(self, host: str, port: int, timeout: float, context: ssl.SSLContext, destinations: Destinations,
                 behind: tuple[str, int] | None) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.tls = context
        self.destinations = destinations
        self.behind = behind

    def connect(self) -> None:
        if self.behind is not None:  # http.client connects to the proxy, CONNECTs, then TLS with the receiver's name
            self.destinations.addresses(*self.behind)
            super().connect()
            return
        sock = self.destinations.connect(self.host, self.port, self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def _basic(userinfo: str) -> str:
    user, _, password = userinfo.partition(":")
    credentials = f"{unquote(user)}:{unquote(password)}".encode()
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def _bypassed(host: str, no_proxy: str) -> bool:
    """Whether ``host`` is reached directly: a loopback address, or one ``no_proxy`` (comma-separated hosts and
    domain suffixes, or ``*``) covers."""
    host = host.lower()
    if host == "localhost" or _loopback(host):  # as Go's ProxyFromEnvironment: a proxy's loopback is not ours
        return True
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        if entry == "*":
            return True
        name = (entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry).lstrip(".")  # "host:port": the host
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _no_flush_wait(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    conn.execute("SET synchronous_commit TO off")
