"""Queries on a PostgreSQL streaming replica (``JIXIAO_READ_DATABASE_URL``): their pool, and how far behind it is.

Unset, queries read the primary through the one pool the service always had. Set, the routes that read the read
models and the feed (everything through :data:`api.deps.ReadConn`) take their connection from a pool on the
replica, and the rest stays on the primary:

- commands: the ledger appends there (a standby refuses writes);
- the token store: a revocation must hold from the next request on, in every process. A replica replays it a
  moment later, and every process hears of one by LISTEN, which a standby refuses;
- the Server-Sent Events fan-out: it LISTENs for appends, and reads its catch-up pages up to where it heard;
- the read models' runner, the scheduler, the webhook dispatcher: they write;
- history, time travel and proofs: the ledger and the transparency log read the primary.

The replica's read models are the primary's, replayed. Read-your-writes (``min_position``) therefore waits until the
replica has replayed the read models at that position (:func:`api.deps.wait_for_position`), and only a position
beyond the primary's log is refused. Readiness and the metrics say how far behind the replica is.

A replica is a copy of the log and of the read models, held by whoever runs it: what it shows is checked the way
the primary's is, by proofs against signed checkpoints (``jixiao verify``, the audit bundle), never by trust.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg_pool import ConnectionPool

from api.config.settings import Settings
from api.metrics import Metrics
from ledger.store.recorder import check_on_checkout
from projections.positions import leaf_age, log_size

Pool = ConnectionPool[psycopg.Connection[Any]]

# How the query pool's sessions show in the replica's pg_stat_activity (and that they are there at all).
QUERY_APPLICATION: Final = "jixiao-query"
RECOVERY = "SELECT pg_is_in_recovery(), extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())"


def open_query_pool(settings: Settings, primary: Pool, *, timeout: float, metrics: Metrics) -> Pool:
    """The pool queries read: a pool on the replica when ``JIXIAO_READ_DATABASE_URL`` is set (and its lag among
    ``metrics``), else ``primary`` itself."""
    if not settings.read_database_url:
        return primary
    pool: Pool = ConnectionPool(
        settings.read_database_url,
        min_size=1,
        max_size=settings.read_pool_size,
        timeout=timeout,
        kwargs={"autocommit": True, "application_name": QUERY_APPLICATION},
        name="jixiao-query",
        open=True,
    )
    check_on_checkout(pool)  # a restarted or promoted replica's sessions are replaced, never used
    metrics.registry.register(ReplicaGauges(lambda: replica_status(pool, primary)))
    return pool


def primary_of(state: Any) -> Pool | None:
    """The primary's pool when the app's queries read a replica; None when they read the primary itself."""
    primary: Pool = state.primary_pool
    return None if state.read_pool is primary else primary


def primary_log_size(primary: Pool) -> int:
    with primary.connection() as conn:
        return log_size(conn)


@dataclass(frozen=True)
class ReplicaStatus:
    in_recovery: bool  # a standby (pg_is_in_recovery()); false if the read URL names a primary
    log_size: int  # leaves the replica has
    behind: int  # leaves the primary has and the replica has not replayed yet
    lag_seconds: float  # how long ago (the primary's clock) the oldest of those was recorded; 0 when none is missing
    last_replay_seconds: float | None  # since the last replayed transaction committed: grows while the primary idles


def replica_status(replica: Pool, primary: Pool, timeout: float | None = None) -> ReplicaStatus:
    """How far the replica trails the primary, by the log itself: its size on each (the replica's read first, so the
    difference is never negative), and the age on the primary of the first leaf the replica lacks."""
    with replica.connection(timeout=timeout) as conn:
        row = conn.execute(RECOVERY).fetchone()
        size = log_size(conn)
    with primary.connection(timeout=timeout) as conn:
        head = log_size(conn)
        lag = leaf_age(conn, size) if size < head else 0.0
    in_recovery, replayed = row if row is not None else (False, None)
    return ReplicaStatus(
        in_recovery=bool(in_recovery),
        log_size=size,
        behind=max(0, head - size),
        lag_seconds=lag,
        last_replay_seconds=None if replayed is None else max(0.0, float(replayed)),
    )


class ReplicaGauges(Collector):
    def __init__(self, read: Callable[[], ReplicaStatus]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            status = self.read()
        except Exception:  # a scrape must not fail because the replica (or the primary) is briefly away
            return
        yield GaugeMetricFamily("jixiao_replica_log_size", "Events the read replica has replayed", status.log_size)
        yield GaugeMetricFamily(
            "jixiao_replica_lag", "Events the primary has that the read replica has not replayed", status.behind
        )
        yield GaugeMetricFamily(
            "jixiao_replica_lag_seconds",
            "How long ago the oldest event the read replica has not replayed was recorded (0: none)",
            status.lag_seconds,
        )
