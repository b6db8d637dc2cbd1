"""Webhooks: each subscription receives the events it may see, in position order, signed, retried, dead-lettered.

- **Order**: one event at a time per subscription; the next only after the previous was accepted (2xx). A
  subscription is served by one dispatcher at a time (a PostgreSQL advisory lock), whichever process runs it.
- **Signature**: ``X-Jixiao-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`` with
  ``X-Jixiao-Timestamp`` (Unix seconds), so a receiver can check both origin and freshness.
- **Retries**: a failed attempt (non-2xx, timeout, refused) is retried after ``backoff × 2^(attempt-1)`` seconds
  (capped, with jitter); after ``max_attempts`` the subscription is dead-lettered: it stops, the event it is stuck
  on is kept, and re-enabling it (after the receiver is fixed) resumes exactly there.
- **Exactly once, by position**: every delivery carries ``X-Jixiao-Position``; the cursor moves only after a 2xx,
  so a receiver that drops a position it has already seen (a crash between its 2xx and our record of it is the
  only way to see one twice) processes each event exactly once.
- Every attempt is logged (``webhook_deliveries``). Successful deliveries are recorded — log rows and the cursor's
  move, in one statement — every ``FLUSH_EVENTS`` deliveries or ``FLUSH_SECONDS``, at the end of a page and before
  any failure is: one round trip per batch, not per event. A crash in between repeats those deliveries, which the
  receiver drops by position as above.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import logging
import random
import secrets
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

import httpx
import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ledger.errors import InvalidInput
from ledger.recorder import lock_schema
from ledger.values import Principal
from projections import feed, queries

logger = logging.getLogger(__name__)

SUBSCRIPTIONS = "webhook_subscriptions"
DELIVERIES = "webhook_deliveries"
LOCK_NAMESPACE = 0x6A78_7768  # advisory locks: one dispatcher per subscription ("jxwh")
CHANNEL = "ledger_events"

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


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def check_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as error:
        raise InvalidInput(f"not a URL: {error}", field="url") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput("a webhook URL is http(s)://host/…", field="url")
    return str(parsed)


class WebhookStore:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

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
        with self._connect() as conn:
            start = after if after is not None else queries.log_size(conn) - 1
            row = conn.cursor(row_factory=dict_row).execute(
                f"INSERT INTO {SUBSCRIPTIONS} (id, url, topics, secret, principal_id, principal_role, "  # noqa: S608
                "principal_org, position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
                (uuid4(), check_url(url), topics, chosen, principal.id, principal.role, principal.organisation,
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
        """Enable (also after a dead letter: retry the stuck event now, attempts reset) or disable."""
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
                 timeout: float = 10.0, workers: int = 4, batch: int = 200, guard: Guard | None = None) -> None:
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
        self._http = Sender(timeout)
        # Reused connections (a new one per wake-up cost more than the deliveries). Bookkeeping, not the ledger:
        # if a crash loses the last cursor moves, those events are delivered again (receivers drop repeats by
        # position), so these sessions do not wait for the WAL flush of each delivery.
        self._db: ConnectionPool[psycopg.Connection[tuple[Any, ...]]] = ConnectionPool(
            database_url, min_size=1, max_size=workers + 1, kwargs={"autocommit": True}, open=False,
            configure=_no_flush_wait, name="jixiao-webhooks")

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
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    if self.guard is not None:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.guard.channel)))
                    self._revisions += 1
                    self._wake.set()
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=1.0, stop_after=1):
                            if self.guard is not None and notify.channel == self.guard.channel:
                                self._revisions += 1
                            self._wake.set()
            except psycopg.Error:
                logger.warning("webhook listener lost its connection; reconnecting", exc_info=True)
                self._stop.wait(1.0)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)  # also the clock for retries that fall due
            self._wake.clear()
            try:
                for subscription in self._due():
                    with self._busy_lock:
                        if subscription in self._busy:
                            continue
                        self._busy.add(subscription)
                    self._pool.submit(self._serve, subscription)
            except psycopg.Error:
                logger.warning("webhook dispatcher could not read its subscriptions", exc_info=True)
                self._stop.wait(1.0)

    def _due(self) -> list[UUID]:
        with self._db.connection() as conn:
            rows = conn.execute(
                f"SELECT s.id FROM {SUBSCRIPTIONS} s WHERE s.status = 'active' AND "  # noqa: S608
                "s.next_attempt_at <= clock_timestamp() AND s.position < "
                "(SELECT coalesce(max(leaf_index), -1) FROM ledger_events) ORDER BY s.next_attempt_at").fetchall()
        return [row[0] for row in rows]

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
        headers = {"Content-Type": "application/json", "User-Agent": "jixiao-ledger-webhooks/1",
                   "X-Jixiao-Position": str(event.position), "X-Jixiao-Event-Type": event.type,
                   "X-Jixiao-Delivery": str(delivery), "X-Jixiao-Subscription": str(subscription.id),
                   "X-Jixiao-Timestamp": timestamp, "X-Jixiao-Signature": sign(secret, timestamp, body)}
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            status = self._http.post(subscription.url, body, headers)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (OSError, http.client.HTTPException) as failure:
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




class Sender:
    """POSTs deliveries over keep-alive connections: one per receiver (scheme, host, port, credentials) and thread.

    The standard library's client: httpx cost about 0.6 ms of CPU per delivery on these machines, http.client about
    0.1 ms, and a dispatcher that is mostly waiting for its CPU delivers late. Redirects are not followed. A
    connection the receiver closed while idle is reopened and the request sent once more — the receiver may then
    see a delivery twice, which it drops by ``X-Jixiao-Position`` (as after any retry).

    Credentials in the URL (``https://user:password@host/…``) are sent as HTTP Basic authentication. The usual
    proxy variables are honoured (``https_proxy``, ``http_proxy``, ``no_proxy``, as :mod:`urllib.request` reads
    them): plain HTTP is sent through the proxy, HTTPS is tunnelled with CONNECT; credentials in the proxy's URL
    become ``Proxy-Authorization``. The proxy itself is spoken to in plain HTTP (``http://``; other schemes fail
    the attempt). A ``no_proxy`` entry names a host or a domain suffix (a ``:port`` in it is ignored: the host is
    reached directly on every port); address ranges (CIDR) are not understood.
    """

    def __init__(self, timeout: float, *, proxies: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self._proxies = urllib.request.getproxies() if proxies is None else proxies
        self._local = threading.local()
        self._tls = ssl.create_default_context()
        self._all: list[http.client.HTTPConnection] = []
        self._all_lock = threading.Lock()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The receiver's status code; raises OSError or http.client.HTTPException if there is none."""
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
        parts = urlsplit(url)
        scheme, host, port = parts.scheme, parts.hostname or "", parts.port
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        auth = () if parts.username is None else (("Authorization", _basic(parts.username, parts.password)),)
        proxy = self._proxies.get(scheme)
        if not proxy or _bypassed(host, self._proxies.get("no", "")):
            return _Route(scheme, host, port, target, auth)
        proxied = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if proxied.scheme != "http":  # an attempt that fails, in the delivery log, rather than a silent bypass
            raise OSError(f"{scheme}_proxy {proxied.scheme}:// is not supported: an http:// proxy only")
        proxy_host, proxy_port = proxied.hostname or "", proxied.port or 80
        proxy_auth = () if proxied.username is None else (
            ("Proxy-Authorization", _basic(proxied.username, proxied.password)),)
        if scheme == "http":  # sent to the proxy, addressed with the whole URL
            name = f"[{host}]" if ":" in host else host  # an IPv6 address
            netloc = name if port is None else f"{name}:{port}"
            return _Route("http", proxy_host, proxy_port, f"http://{netloc}{target}", auth + proxy_auth)
        return _Route(scheme, host, port, target, auth, (proxy_host, proxy_port), proxy_auth)

    def _connection(self, route: _Route) -> http.client.HTTPConnection:
        cache: dict[_Route, http.client.HTTPConnection] = self._local.__dict__.setdefault("connections", {})
        key = replace(route, target="", headers=())
        conn = cache.get(key)
        if conn is not None:
            return conn  # reopened by http.client if the receiver or we closed it
        if route.tunnel is not None:  # HTTPS through a proxy: connect to it, CONNECT to the receiver
            proxy_host, proxy_port = route.tunnel
            conn = http.client.HTTPSConnection(proxy_host, proxy_port, timeout=self.timeout, context=self._tls)
            conn.set_tunnel(route.host, route.port, headers=dict(route.tunnel_headers))
        elif route.scheme == "https":
            conn = http.client.HTTPSConnection(route.host, route.port, timeout=self.timeout, context=self._tls)
        else:
            conn = http.client.HTTPConnection(route.host, route.port, timeout=self.timeout)
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
    """Where a delivery goes: the server connected to (or tunnelled through), the request target, and the headers
    the URL or the proxy imply."""

    scheme: str
    host: str
    port: int | None
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    tunnel: tuple[str, int] | None = None
    tunnel_headers: tuple[tuple[str, str], ...] = ()


def _basic(user: str, password: str | None) -> str:
    credentials = f"{unquote(user)}:{unquote(password or '')}".encode()
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
