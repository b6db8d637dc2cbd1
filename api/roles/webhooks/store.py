"""Webhook subscriptions and their delivery log: the two tables (named here, once), every statement over them, built
once with ``psycopg.sql``, and the store the API and the command line manage subscriptions with.

The dispatcher (:mod:`api.roles.webhooks.dispatcher`) runs the delivery statements; revoking a token
(:mod:`api.auth`) disables the principal's subscriptions with :func:`disable_subscriptions` and waits for the
dispatchers to let go of them with :func:`wait_for_dispatchers`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from uuid import UUID, uuid4

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from api.roles.destinations import BadURL, Destinations, Receiver, parse
from ledger.domain.errors import InvalidInput
from ledger.domain.values import Principal
from ledger.store.recorder import lock_schema
from ledger.store.tables import CHANNEL, EVENTS
from projections.positions import log_size

SUBSCRIPTIONS: Final = "webhook_subscriptions"
DELIVERIES: Final = "webhook_deliveries"
LOCK_NAMESPACE: Final = 0x6A78_7768  # advisory locks: one dispatcher per subscription ("jxwh")

_names = {"subscriptions": sql.Identifier(SUBSCRIPTIONS), "deliveries": sql.Identifier(DELIVERIES)}

SCHEMA = sql.SQL("""
CREATE TABLE IF NOT EXISTS {subscriptions} (
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
CREATE INDEX IF NOT EXISTS {subscriptions_due} ON {subscriptions} (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS {deliveries} (
    id bigserial PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES {subscriptions} (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    attempt integer NOT NULL,
    delivery_id uuid NOT NULL,
    status_code integer,
    error text,
    duration_ms numeric(10, 2) NOT NULL,
    delivered_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS {deliveries_subscription} ON {deliveries} (subscription_id, id);
""").format(
    subscriptions_due=sql.Identifier(f"{SUBSCRIPTIONS}_due_idx"),
    deliveries_subscription=sql.Identifier(f"{DELIVERIES}_subscription_idx"),
    **_names,
)

# The store's statements.
INSERT = sql.SQL(
    "INSERT INTO {subscriptions} (id, url, topics, secret, principal_id, principal_role, principal_org, "
    "position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING *"
).format(**_names)
ONE = sql.SQL("SELECT * FROM {subscriptions} WHERE id = %s").format(**_names)
OF_PRINCIPAL = sql.SQL(
    "SELECT * FROM {subscriptions} WHERE %(who)s::text IS NULL OR principal_id = %(who)s ORDER BY created_at"
).format(**_names)
SET_STATUS = sql.SQL(
    "UPDATE {subscriptions} SET status = %s, attempts = CASE WHEN %s = 'active' THEN 0 "
    "ELSE attempts END, next_attempt_at = clock_timestamp(), updated_at = clock_timestamp() "
    "WHERE id = %s RETURNING *"
).format(**_names)
DELETE = sql.SQL("DELETE FROM {subscriptions} WHERE id = %s").format(**_names)
DELIVERY_LOG = sql.SQL(
    "SELECT id, position, attempt, delivery_id, status_code, error, duration_ms, delivered_at "
    "FROM {deliveries} WHERE subscription_id = %s AND id > %s ORDER BY id LIMIT %s"
).format(**_names)
WAKE = sql.SQL("NOTIFY {}").format(sql.Identifier(CHANNEL))  # the dispatchers listen for appends on the log's channel

# Revocations (api.auth): a principal's subscriptions, disabled in the revoker's transaction; the advisory lock a
# dispatcher serves a subscription under.
PRINCIPAL_SUBSCRIPTIONS = sql.SQL(
    "SELECT id, principal_role, principal_org FROM {subscriptions} "
    "WHERE principal_id = %s AND status <> 'disabled' FOR UPDATE"
).format(**_names)
DISABLE = sql.SQL(
    "UPDATE {subscriptions} SET status = 'disabled', last_error = %s, updated_at = clock_timestamp() WHERE id = ANY(%s)"
).format(**_names)
TRY_LOCK = sql.SQL("SELECT pg_try_advisory_lock({ns}, hashtext(%s))").format(ns=sql.Literal(LOCK_NAMESPACE))
UNLOCK = sql.SQL("SELECT pg_advisory_unlock({ns}, hashtext(%s))").format(ns=sql.Literal(LOCK_NAMESPACE))

# The dispatcher's statements.
# The subscriptions due now, and how far behind the log's head the furthest-behind active one is.
DUE = sql.SQL(
    "WITH head AS (SELECT coalesce(max(leaf_index), -1) AS last FROM {events}), "
    "active AS (SELECT id, position, next_attempt_at FROM {subscriptions} WHERE status = 'active') "
    "SELECT ARRAY(SELECT a.id FROM active a WHERE a.next_attempt_at <= clock_timestamp() AND a.position < head.last "
    "ORDER BY a.next_attempt_at), (SELECT coalesce(max(head.last - a.position), 0) FROM active a) FROM head"
).format(events=sql.Identifier(EVENTS), **_names)
SERVED = sql.SQL("SELECT *, next_attempt_at <= clock_timestamp() AS due FROM {subscriptions} WHERE id = %s").format(
    **_names
)
# Successful deliveries: their log rows and the cursor's move to the last of them, as one statement.
DELIVERED = sql.SQL(
    "WITH logged AS (INSERT INTO {deliveries} (subscription_id, position, attempt, delivery_id, status_code, "
    "duration_ms) SELECT %(id)s, * FROM unnest(%(positions)s::bigint[], %(attempts)s::integer[], "
    "%(deliveries)s::uuid[], %(statuses)s::integer[], %(durations)s::numeric[])) "
    "UPDATE {subscriptions} SET position = %(last)s, attempts = 0, last_error = NULL, "
    "updated_at = clock_timestamp() WHERE id = %(id)s"
).format(**_names)
# Positions a subscription does not receive (filtered out): its cursor moves over what was scanned.
SKIPPED = sql.SQL(
    "UPDATE {subscriptions} SET position = %s, updated_at = clock_timestamp() WHERE id = %s AND position < %s"
).format(**_names)
# A failed attempt: logged, and the next one scheduled (or the subscription dead-lettered).
FAILED = sql.SQL(
    "INSERT INTO {deliveries} (subscription_id, position, attempt, delivery_id, status_code, error, "
    "duration_ms) VALUES (%s, %s, %s, %s, %s, %s, %s)"
).format(**_names)
RETRY = sql.SQL(
    "UPDATE {subscriptions} SET attempts = %s, last_error = %s, status = %s, "
    "next_attempt_at = clock_timestamp() + make_interval(secs => %s), updated_at = clock_timestamp() "
    "WHERE id = %s"
).format(**_names)


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


def subscription_of(row: dict[str, Any]) -> Subscription:
    """A subscription from its row."""
    return Subscription(
        row["id"],
        row["url"],
        list(row["topics"]),
        Principal(row["principal_id"], row["principal_role"], row["principal_org"]),
        row["status"],
        int(row["position"]),
        int(row["attempts"]),
        row["next_attempt_at"],
        row["last_error"],
        row["created_at"],
    )


def check_url(url: str) -> Receiver:
    """A webhook URL read as the dispatcher will read it; raises InvalidInput."""
    try:
        return parse(url)
    except BadURL as error:
        raise InvalidInput(f"not a webhook URL: {error}", field="url") from None


class WebhookStore:
    """Subscriptions and their delivery logs. Receivers are checked against ``destinations`` when a subscription is
    made or enabled (raising :class:`~api.roles.destinations.DestinationRefused`), and again at every delivery."""

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

    def create(
        self, url: str, topics: list[str], secret: str | None, principal: Principal, after: int | None
    ) -> tuple[Subscription, str]:
        """A new subscription (from ``after``, default: from now on); returns it and its secret."""
        chosen = secret or secrets.token_urlsafe(32)
        if len(chosen) < 16:
            raise InvalidInput("a webhook secret has at least 16 characters", field="secret")
        receiver = check_url(url)
        self.destinations.check(receiver)
        with self._connect() as conn:
            start = after if after is not None else log_size(conn) - 1
            row = (
                conn.cursor(row_factory=dict_row)
                .execute(
                    INSERT,
                    (
                        uuid4(),
                        receiver.url,
                        topics,
                        chosen,
                        principal.id,
                        principal.role,
                        principal.organisation,
                        start,
                    ),
                )
                .fetchone()
            )
            conn.execute(WAKE)  # wake the dispatchers: it may have a backlog already
        assert row is not None
        return subscription_of(row), chosen

    def get(self, subscription_id: UUID) -> Subscription | None:
        with self._connect() as conn:
            row = conn.cursor(row_factory=dict_row).execute(ONE, (subscription_id,)).fetchone()
        return None if row is None else subscription_of(row)

    def subscriptions(self, principal_id: str | None) -> list[Subscription]:
        with self._connect() as conn:
            rows = conn.cursor(row_factory=dict_row).execute(OF_PRINCIPAL, {"who": principal_id}).fetchall()
        return [subscription_of(row) for row in rows]

    def set_status(self, subscription_id: UUID, status: str) -> Subscription | None:
        """Enable (also after a dead letter: retry the stuck event now, attempts reset) or disable. Enabling checks
        the receiver again: the allowed destinations, or what its name resolves to, may have changed."""
        if status == "active":
            found = self.get(subscription_id)
            if found is not None:
                self.destinations.check(check_url(found.url))
        with self._connect() as conn:
            row = conn.cursor(row_factory=dict_row).execute(SET_STATUS, (status, status, subscription_id)).fetchone()
            conn.execute(WAKE)
        return None if row is None else subscription_of(row)

    def delete(self, subscription_id: UUID) -> bool:
        with self._connect() as conn:
            return conn.execute(DELETE, (subscription_id,)).rowcount == 1

    def deliveries(self, subscription_id: UUID, after: int | None, limit: int) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return (
                conn.cursor(row_factory=dict_row).execute(DELIVERY_LOG, (subscription_id, after or 0, limit)).fetchall()
            )


def disable_subscriptions(
    conn: psycopg.Connection[Any], principal_id: str, keep: set[tuple[str, str]], reason: str
) -> list[UUID]:
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
