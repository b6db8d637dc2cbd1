"""Subscribers' view: commit-to-delivery latency of SSE and webhooks, and feed throughput beside raw reads.

    python -m bench.bench_subscriptions [--rate R] [--seconds S] [--feed-events N] [--page P] [--writers W]

The service runs as its own process (``jixiao serve``, loopback). This process:

1. records commands at ``--rate`` per second for ``--seconds`` (key-evaluation supervision notes, each its own
   transaction) while an SSE client follows ``/events/stream`` and a local HTTP receiver takes the webhook
   deliveries of a subscription — each subscriber a process of its own, as another system would be, so that
   neither waits for this process's GIL; latency = arrival time − the event's ``recorded_at`` (one machine's
   clock);
2. pages through ``--feed-events`` events with ``GET /events?after=…&limit=P`` (the stdlib's keep-alive HTTP client),
   beside a raw SELECT of the same columns in the same pages through psycopg, two ways each: as received (the page's
   bytes, its cursor read off its end; the rows as psycopg returns them) and decoded (the page parsed with
   ``json.loads``; each row's stored event parsed with ``json.loads``) — so each ratio compares the same
   information in the client's hands.

Nothing is asserted: the targets are printed beside the measurements.
"""

from __future__ import annotations

import argparse
import http.client as http_client
import json
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

import httpx
import psycopg

from bench.bench_http import Server, prepare
from bench.common import (
    BenchDatabase,
    bench_database,
    fmt_ms,
    fmt_rate,
    fmt_ratio,
    free_port,
    machine_line,
    percentile,
    print_checks,
    print_header,
    print_table,
    server_header,
    server_settings,
    verdict,
)
from bench.sample import EFFECTIVE_ON, FINANCE, build_project, fill_to, notes
from ledger.application.ledger import Act, Ledger

TARGET_SSE_P95_MS = 50.0
TARGET_WEBHOOK_P95_MS = 200.0
TARGET_FEED_RATIO = 0.5
# The feed read four ways, alternating: raw rows and feed pages as received, and each with its events decoded (the
# same information, as Python objects, in the client's hands).
FEED_SERIES = ("raw delivered", "feed delivered", "raw decoded", "feed decoded")


class Arrivals:
    """Latencies reported by a subscriber process, by position (the first arrival of each)."""

    def __init__(self, queue: Queue[tuple[int, float]]) -> None:
        self.latencies: dict[int, float] = {}
        self.lock = threading.Lock()
        self.queue = queue
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            position, latency = self.queue.get()
            with self.lock:
                self.latencies.setdefault(position, latency)

    def among(self, positions: set[int]) -> list[float]:
        with self.lock:
            return [latency for position, latency in self.latencies.items() if position in positions]


def arrived(queue: Queue[tuple[int, float]], event: dict[str, Any]) -> None:
    """Report one arrival: its position and the time from its commit (``recorded_at``) to now."""
    queue.put((int(event["position"]), time.time() - datetime.fromisoformat(event["recorded_at"]).timestamp()))


def follow_sse(base: str, token: str, after: int, queue: Queue[tuple[int, float]]) -> None:
    """An SSE subscriber (its own process, as another system would be)."""
    with (
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=None) as http,
        http.stream("GET", "/events/stream", params={"after": after, "heartbeat": 1}) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrived(queue, json.loads(line[6:]))


def receive_webhooks(port: int, queue: Queue[tuple[int, float]]) -> None:
    """A webhook receiver (its own process, keep-alive as a real one)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            arrived(queue, json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def page_through(size: int, read: Callable[[int], tuple[int, int]]) -> float:
    """Seconds to read ``size`` events a page at a time; ``read(after)`` gives (events read, next cursor)."""
    started = time.perf_counter()
    after, got = -1, 0
    while got < size:
        count, after = read(after)
        got += count
    return time.perf_counter() - started


def run(
    db: BenchDatabase, rate: float, seconds: float, feed_events: int, page: int, writers: int, dispatcher: str
) -> None:
    url = db.url
    settings = server_settings(url)
    token, projects, _, _, _ = prepare(url, writers)
    ledger = Ledger(url)
    written: list[int] = []
    try:
        filled = 0
        while ledger.head() < feed_events:  # the feed's material: projects of 1,000 events, 50 per transaction
            fill_to(ledger, build_project(ledger, f"SUB-BULK-{filled}"), 1000, 50)
            filled += 1
        alone = dispatcher == "process"
        loopback = "127.0.0.1/32"  # the receiver below listens on loopback, which webhooks reach only if allowed
        server = Server(url, 1, JIXIAO_RUN_DISPATCHER=str(not alone).lower(), JIXIAO_WEBHOOK_ALLOW=loopback)
        # As deploy/ runs it: the dispatcher a process of its own.
        delivering = Server(url, 1, "dispatcher", JIXIAO_WEBHOOK_ALLOW=loopback) if alone else None
        spawn = multiprocessing.get_context("spawn")
        sse_queue: Queue[tuple[int, float]] = spawn.Queue()
        hook_queue: Queue[tuple[int, float]] = spawn.Queue()
        sse_arrivals, hook_arrivals = Arrivals(sse_queue), Arrivals(hook_queue)
        port = free_port()
        subscribers: list[BaseProcess] = [spawn.Process(target=receive_webhooks, args=(port, hook_queue), daemon=True)]
        subscribers[0].start()
        try:
            server.wait()
            start = ledger.head() - 1
            http = httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
            created = http.post(
                "/subscriptions",
                json={"url": f"http://127.0.0.1:{port}/", "topics": ["Project.KeyEvaluationSupervisionNoted"]},
            )
            created.raise_for_status()
            subscribers.append(
                spawn.Process(target=follow_sse, args=(server.base, token, start, sse_queue), daemon=True)
            )
            subscribers[1].start()
            time.sleep(2.0)
            act = Act(FINANCE, EFFECTIVE_ON, reason="督导")
            interval = writers / rate  # each writer's share of the rate, on a project of its own
            began = time.perf_counter()
            lock = threading.Lock()

            def write(k: int) -> None:
                project = projects[k]
                for n in range(int(rate * seconds / writers)):
                    pause = began + (n + k / writers) * interval - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    position = ledger.note_key_evaluation_supervision(
                        act, project.id, project.evaluation_id, notes(n)
                    ).position
                    with lock:
                        written.append(position)

            threads = [threading.Thread(target=write, args=(k,)) for k in range(writers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            achieved = len(written) / (time.perf_counter() - began)
            deadline = time.monotonic() + 30
            wanted = set(written)
            while time.monotonic() < deadline and (
                len(sse_arrivals.among(wanted)) < len(wanted) or len(hook_arrivals.among(wanted)) < len(wanted)
            ):
                time.sleep(0.1)
            sse = sse_arrivals.among(wanted)
            hook = hook_arrivals.among(wanted)

            # Feed throughput: the same pages through HTTP and raw, each with and without decoding, alternating.
            size = ledger.head()
            spent = dict.fromkeys(FEED_SERIES, 0.0)
            client = http_client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            auth = {"Authorization": f"Bearer {token}"}
            with psycopg.connect(url) as conn:

                def get_page(after: int) -> bytes:
                    client.request("GET", f"/events?after={after}&limit={page}", headers=auth)
                    response = client.getresponse()
                    body = response.read()
                    if response.status != 200:
                        raise RuntimeError(f"GET /events answered {response.status}: {body[:200]!r}")
                    return body

                def feed_delivered(after: int) -> tuple[int, int]:  # the page received; its cursor read off its end
                    body = get_page(after)
                    tail = body[body.rindex(b'"next":') :]
                    return body.count(b'{"position":'), int(tail[7 : tail.index(b",")])

                def feed_decoded(after: int) -> tuple[int, int]:
                    body = json.loads(get_page(after))
                    return len(body["events"]), int(body["next"])

                def raw_rows(after: int) -> list[tuple[Any, ...]]:
                    return conn.execute(
                        "SELECT leaf_index, originator_id, originator_version, topic, state, leaf_hash, "
                        "recorded_at FROM ledger_events WHERE leaf_index > %s ORDER BY leaf_index LIMIT %s",
                        (after, page),
                    ).fetchall()

                def raw_delivered(after: int) -> tuple[int, int]:
                    rows = raw_rows(after)
                    return len(rows), int(rows[-1][0])

                def raw_decoded(after: int) -> tuple[int, int]:  # each stored event decoded, as the feed's client has
                    rows = [(*row[:4], json.loads(row[4]), *row[5:]) for row in raw_rows(after)]
                    return len(rows), int(rows[-1][0])

                for _ in range(2):
                    for name, read in zip(
                        FEED_SERIES, (raw_delivered, feed_delivered, raw_decoded, feed_decoded), strict=True
                    ):
                        spent[name] += page_through(size, read)
            client.close()
            http.close()
        finally:
            for subscriber in subscribers:
                subscriber.kill()
            server.stop()
            if delivering is not None:
                delivering.stop()
    finally:
        ledger.close()
    rates = {name: 2 * size / spent[name] for name in FEED_SERIES}
    delivered = rates["feed delivered"] / rates["raw delivered"]
    decoded = rates["feed decoded"] / rates["raw decoded"]

    title = "bench_subscriptions — SSE and webhook delivery latency, feed throughput beside raw reads (same run)"
    print_header(
        title,
        [
            *server_header(db, settings, brief=True),
            ("machine", machine_line()),
            (
                "parameters",
                f"--rate {rate} --seconds {seconds} --feed-events {feed_events} --page {page} "
                f"--writers {writers} --dispatcher {dispatcher} (commands recorded at {achieved:,.0f}/s)",
            ),
        ],
    )
    rows = []
    hooks = f"webhook ({'jixiao dispatcher' if alone else 'inside jixiao serve'})"
    for name, latencies in (("SSE /events/stream", sse), (hooks, hook)):
        if latencies:
            rows.append(
                [
                    f"{name}: commit → delivery",
                    f"{len(latencies)}/{len(written)}",
                    fmt_ms(percentile(latencies, 50) * 1000),
                    fmt_ms(percentile(latencies, 95) * 1000),
                    fmt_ms(max(latencies) * 1000),
                ]
            )
        else:
            rows.append([f"{name}: commit → delivery", f"0/{len(written)}", "—", "—", "—"])
    print_table(["measurement", "delivered", "median ms", "p95 ms", "max ms"], rows, right=(1, 2, 3, 4))
    print()
    print_table(
        ["feed read, pages of " + str(page), "rate", "vs raw"],
        [
            ["raw SELECT of the same rows (psycopg)", fmt_rate(rates["raw delivered"], "events"), "—"],
            [
                "GET /events, the page received (cursor read off its end)",
                fmt_rate(rates["feed delivered"], "events"),
                fmt_ratio(delivered),
            ],
            ["raw SELECT, each stored event decoded (json.loads)", fmt_rate(rates["raw decoded"], "events"), "—"],
            [
                "GET /events, the page decoded (json.loads)",
                fmt_rate(rates["feed decoded"], "events"),
                fmt_ratio(decoded),
            ],
        ],
        right=(1, 2),
    )
    mixed = rates["feed decoded"] / rates["raw delivered"]
    print(f"  (GET /events decoded ÷ raw SELECT as received, the comparison of earlier runs: {fmt_ratio(mixed)})")
    print()
    sse_p95 = percentile(sse, 95) * 1000 if sse else float("inf")
    hook_p95 = percentile(hook, 95) * 1000 if hook else float("inf")
    print_checks(
        [
            [
                f"SSE p95 at {rate:.0f} events/s",
                f"{fmt_ms(sse_p95)} ms",
                f"< {TARGET_SSE_P95_MS:.0f} ms",
                verdict(sse_p95 < TARGET_SSE_P95_MS and len(sse) == len(written)),
            ],
            [
                f"webhook p95 at {rate:.0f} events/s",
                f"{fmt_ms(hook_p95)} ms",
                f"< {TARGET_WEBHOOK_P95_MS:.0f} ms",
                verdict(hook_p95 < TARGET_WEBHOOK_P95_MS and len(hook) == len(written)),
            ],
            [
                "feed ÷ raw reads, received",
                fmt_ratio(delivered),
                f"≥ {TARGET_FEED_RATIO:.1f}×",
                verdict(delivered >= TARGET_FEED_RATIO),
            ],
            [
                "feed ÷ raw reads, decoded",
                fmt_ratio(decoded),
                f"≥ {TARGET_FEED_RATIO:.1f}×",
                verdict(decoded >= TARGET_FEED_RATIO),
            ],
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_subscriptions", description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="commands recorded per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of recording")
    parser.add_argument("--feed-events", type=int, default=50_000, help="events in the log the feed pages through")
    parser.add_argument("--page", type=int, default=1000, help="events per feed page")
    parser.add_argument("--writers", type=int, default=4, help="threads recording, each on a project of its own")
    parser.add_argument(
        "--dispatcher",
        choices=["process", "service"],
        default="process",
        help="webhooks delivered by `jixiao dispatcher` in its own process, as deploy/ runs it, or "
        "inside `jixiao serve` (JIXIAO_RUN_DISPATCHER, the one-machine default)",
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.feed_events < 1 or not 1 <= args.page <= 1000:
        parser.error("rate, seconds and feed-events must be positive; page 1..1000")
    with bench_database("jixiao_bench_subs") as db:
        run(db, args.rate, args.seconds, args.feed_events, args.page, args.writers, args.dispatcher)


if __name__ == "__main__":
    main()
