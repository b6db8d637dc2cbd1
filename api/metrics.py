"""Prometheus metrics: requests by route and status, their latency, and the ledger's own gauges.

One registry per app (tests create many). Log size, read-model positions and checkpoint age are read from
PostgreSQL when scraped, so they are true whichever replica is asked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


_Family = TypeVar("_Family", GaugeMetricFamily, CounterMetricFamily)


def _by_witness(family: _Family, values: Mapping[str, int]) -> _Family:
    """``family`` (labelled ``witness``) with one sample for each witness in ``values``."""
    for name, value in values.items():
        family.add_metric([name], value)
    return family


class LedgerGauges(Collector):
    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            facts = self.read()
        except Exception:  # a scrape must not fail because the database is briefly away
            return
        yield GaugeMetricFamily("jixiao_log_size", "Events in the ledger (the next leaf index)", facts["log_size"])
        positions = GaugeMetricFamily(
            "jixiao_projection_position", "Leaves applied by each read model", labels=["projection"]
        )
        lag = GaugeMetricFamily(
            "jixiao_projection_lag", "Leaves each read model is behind the log", labels=["projection"]
        )
        for name, position in facts["positions"].items():
            positions.add_metric([name], position)
            lag.add_metric([name], facts["log_size"] - position)
        yield positions
        yield lag
        yield GaugeMetricFamily(
            "jixiao_checkpoint_size", "Tree size of the latest signed checkpoint", facts["checkpoint_size"]
        )
        yield _by_witness(
            GaugeMetricFamily(
                "jixiao_witnessed_size", "Tree size of the latest checkpoint each witness cosigned", labels=["witness"]
            ),
            facts.get("witnessed", {}),
        )


class IntegrityCounters(Collector):
    """Witnesses that did not answer: counted by the log (which imports no metrics library), read when scraped."""

    def __init__(self, read: Callable[[], dict[str, dict[str, int]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield _by_witness(
            CounterMetricFamily(
                "jixiao_witness_failures",
                "Requests for a cosignature a witness did not answer with one",
                labels=["witness"],
            ),
            self.read().get("witness", {}),
        )


class Rejections(Collector):
    """Stored records refused because they failed authentication (a row forged or altered in the database), by kind
    and reason: ``jixiao_rejected_records_total{kind="token",reason="invalid"}``. Counted here (tokens) or where the
    check happens and read when scraped (snapshots, in the ledger, which imports no metrics library). Any of them
    means someone wrote to the database."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._sources: list[Callable[[], dict[tuple[str, str], int]]] = []

    def add(self, kind: str, reason: str) -> None:
        with self._lock:
            self._counts[kind, reason] = self._counts.get((kind, reason), 0) + 1

    def count(self, kind: str, reason: str | None = None) -> int:
        with self._lock:
            return sum(n for (k, r), n in self._counts.items() if k == kind and reason in (None, r))

    def source(self, read: Callable[[], dict[tuple[str, str], int]]) -> None:
        """Also report the counts ``read`` returns, by (kind, reason)."""
        self._sources.append(read)

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "jixiao_rejected_records",
            "Stored records refused because they failed authentication (forged or altered in the database)",
            labels=["kind", "reason"],
        )
        with self._lock:
            counts = dict(self._counts)
        for read in self._sources:
            for key, count in read().items():
                counts[key] = counts.get(key, 0) + count
        for (kind, reason), count in sorted(counts.items()):
            family.add_metric([kind, reason], count)
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.rejections = Rejections()
        self.registry.register(self.rejections)
        self.requests = Counter(
            "jixiao_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "jixiao_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
            registry=self.registry,
        )

        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency (each label set's series looked up once, not on every request)."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def gauges(self, read: Callable[[], dict[str, Any]]) -> None:
        self.registry.register(LedgerGauges(read))

    def witnesses(self, read: Callable[[], dict[str, dict[str, int]]]) -> None:
        self.registry.register(IntegrityCounters(read))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every request under its route template (``/projects/{project_id}``), never raw paths."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"  # a label set per made-up method
            self.metrics.observe(method, _template(scope), status, time.perf_counter() - started)


def _template(scope: Scope) -> str:
    """The route the router matched (it records it in the shared scope), or ``unmatched``."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
