"""Commands over HTTP and as-of queries, beside raw PostgreSQL at the same concurrency, measured in the same run.

    python -m bench.bench_http [--seconds S] [--clients 1,16] [--rounds N] [--asof N] [--workers N]
                               [--topology service|deploy]

The service runs as its own process (``jixiao serve`` on a fresh database, loopback); this process is the load:

1. commands: C concurrent clients (asyncio, one keep-alive connection each, each on a project of its own) post
   key-evaluation supervision notes for S seconds — authenticated, validated, decided, hashed, chained and
   committed, with the projections following. Beside it, C concurrent connections doing raw single-row INSERTs
   (autocommit) of the same stored event for S seconds. Rounds alternate raw and ours so drift hits both.
2. as-of: ``GET /projects/{id}/state?as_of=…`` of a 1,000-event project at an instant half-way through its
   history, beside a raw SELECT of the project's 1,000 rows.

Nothing is asserted: the targets are printed beside the measurements.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import uuid4

import httpx
import psycopg
from psycopg_pool import ConnectionPool

from api.auth import TokenKeys, TokenStore
from bench.common import (
    BenchDatabase,
    RawEvents,
    bench_database,
    fmt_ms,
    fmt_rate,
    fmt_ratio,
    free_port,
    machine_line,
    para,
    percentile,
    print_checks,
    print_header,
    print_table,
    read_response,
    server_header,
    server_settings,
    time_calls,
    verdict,
)
from bench.sample import BenchProject, build_project, fill_to, notes, prepare_ledger
from ledger.application.ledger import Ledger
from ledger.log.checkpoint import SigningKey

TARGET_RATE = 1000.0  # commands/s with 16 clients
TARGET_P99_MS = 50.0
TARGET_ASOF_P95_MS = 20.0
ASOF_EVENTS = 1000
KEY = SigningKey.generate("bench.localhost-log")  # the servers' signing key, which signs the bench's token too


ACCEPTED = 201  # a supervision is numbered: 201 Created with its number
# The commands answered otherwise than ACCEPTED, by status and problem code: a benchmark of refusals measures nothing.
FAILURES: Counter[str] = Counter()


@dataclass(frozen=True)
class Load:
    latencies: list[float]  # seconds, one per request
    elapsed: float
    errors: int

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


def merge(loads: Sequence[Load]) -> Load:
    return Load(
        [value for load in loads for value in load.latencies],
        sum(load.elapsed for load in loads),
        sum(load.errors for load in loads),
    )


class Server:
    """``jixiao serve`` in its own process on the bench database."""

    def __init__(self, url: str, workers: int, command: str = "serve", **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "JIXIAO_PORT": str(self.port),
            "JIXIAO_SIGNING_KEY": KEY.to_string(),
            "JIXIAO_LOG_ORIGIN": "bench.localhost/log",
            "JIXIAO_WORKERS": str(workers),
            "JIXIAO_LOG_LEVEL": "warning",
            **settings,
        }
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop(); a pipe nobody reads could stall it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", command], env=env, stdout=subprocess.DEVNULL, stderr=self.log
        )

    def wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"the server exited: {self.log.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Connection:
    """A minimal HTTP/1.1 keep-alive client over asyncio streams: the load generator should cost far less than the
    server it measures (httpx's async client cost this process about as much CPU per request as the server spent
    on it, and on two cores that capped what could be measured)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        url = httpx.URL(base)
        self.host, self.port = url.host, url.port or 80
        self.headers = b"".join(
            f"{key}: {value}\r\n".encode() for key, value in {"Host": f"{self.host}:{self.port}", **headers}.items()
        )

    async def __aenter__(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nContent-Length: {len(body)}\r\n".encode() + self.headers + b"\r\n" + body
        )
        return await read_response(self.reader)


async def http_load(base: str, token: str, projects: Sequence[BenchProject], seconds: float, first: int) -> Load:
    """Each client posts supervision notes to its own project, one request at a time, for ``seconds``."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(project: BenchProject, k: int) -> None:
        nonlocal errors
        path = f"/projects/{project.id}/key-evaluations/{project.evaluation_id}/supervision"
        async with Connection(base, headers) as http:
            n = first
            while time.perf_counter() < deadline:
                body = json.dumps(
                    {"notes": notes(n), "effective_on": "2021-06-01", "reason": f"督导 {k}"}, ensure_ascii=False
                ).encode()
                started = time.perf_counter()
                status, answer = await http.request("POST", path, body)
                latencies.append(time.perf_counter() - started)
                if status != ACCEPTED:
                    errors += 1
                    code = json.loads(answer).get("type", "") if answer.startswith(b"{") else ""
                    FAILURES[f"{status} {code}".strip()] += 1
                n += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(project, k) for k, project in enumerate(projects)))
    return Load(latencies, time.perf_counter() - started, errors)


async def raw_load(url: str, table: str, clients: int, seconds: float, topic: str, state: bytes) -> Load:
    """``clients`` connections each inserting one row per transaction (autocommit) for ``seconds``."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    statement = f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)"

    async def client() -> None:
        originator = uuid4()
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            version = 1
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                await conn.execute(statement, (originator, version, topic, state), prepare=True)
                latencies.append(time.perf_counter() - started)
                version += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Load(latencies, time.perf_counter() - started, 0)


def prepare(url: str, clients: int) -> tuple[str, list[BenchProject], BenchProject, str, bytes]:
    ledger = Ledger(url)
    try:
        prepare_ledger(ledger)
        projects = [build_project(ledger, f"HTTP-{n:03d}") for n in range(clients)]
        replayed = build_project(ledger, "HTTP-ASOF")
        fill_to(ledger, replayed, ASOF_EVENTS, 50)
        (stored,) = ledger.recorder.select_events(projects[0].id, desc=True, limit=1)
    finally:
        ledger.close()
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
        # The servers' key and origin: they honour only the token records signed with them.
        store = TokenStore(pool, TokenKeys(KEY, origin="bench.localhost/log"))
        store.create_table()
        token, _ = store.issue("fin-bench", "finance", "市财政局", created_by="bench")
    return token, projects, replayed, stored.topic, stored.state


def run(
    db: BenchDatabase, seconds: float, client_counts: Sequence[int], rounds: int, asof: int, workers: int, topology: str
) -> None:
    url = db.url
    settings = server_settings(url)
    token, projects, replayed, topic, state = prepare(url, max(client_counts))
    raw = RawEvents(url, "bench_http_raw")
    with psycopg.connect(url) as conn:
        half = conn.execute(
            "SELECT recorded_at FROM ledger_events WHERE originator_id = %s AND originator_version = %s",
            (replayed.id, ASOF_EVENTS // 2),
        ).fetchone()
        assert half is not None
        instant = half[0].isoformat()
    # "service": everything in the one `jixiao serve` (as `make run`); "deploy": the API alone, as deploy/compose.yaml
    # runs it — the read models follow in a `jixiao worker` process of their own (the webhook dispatcher and the
    # scheduler, which have nothing to do here, run in theirs).
    deployed = topology == "deploy"
    alone = {"JIXIAO_RUN_PROJECTIONS": "false", "JIXIAO_RUN_DISPATCHER": "false", "JIXIAO_RUN_SCHEDULER": "false"}
    server = Server(url, workers, **(alone if deployed else {}))
    worker = Server(url, 1, "worker") if deployed else None
    results: dict[int, tuple[Load, Load]] = {}
    try:
        server.wait()
        asyncio.run(http_load(server.base, token, projects[:1], 1.0, 0))  # warm: connections, caches, statements
        first = 10_000
        for count in client_counts:
            ours_parts, raw_parts = [], []
            for _ in range(rounds):
                raw_parts.append(asyncio.run(raw_load(url, "bench_http_raw", count, seconds / rounds, topic, state)))
                ours_parts.append(asyncio.run(http_load(server.base, token, projects[:count], seconds / rounds, first)))
                first += 100_000
            results[count] = (merge(ours_parts), merge(raw_parts))
        with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:

            def as_of(_: int) -> None:
                response = http.get(f"/projects/{replayed.id}/state", params={"as_of": instant})
                if response.status_code != 200 or response.json()["version"] != ASOF_EVENTS // 2:
                    raise RuntimeError(f"as-of answered {response.status_code}: {response.text[:200]}")

            asof_t = time_calls(as_of, asof, warmup=10)
        raw_id = uuid4()
        raw.insert_many(raw_id, 1, ASOF_EVENTS, topic, state)
        raw_read_t = time_calls(lambda _: raw.read(raw_id), asof, warmup=10)
    finally:
        server.stop()
        if worker is not None:
            worker.stop()
        raw.close()

    title = "bench_http — commands over HTTP (separate server process, loopback) beside raw PostgreSQL, same run"
    print_header(
        title,
        [
            *server_header(db, settings, brief=True),
            ("machine", f"{machine_line('fastapi', 'uvicorn')}, {workers} worker(s)"),
            (
                "topology",
                "the API, the read models, webhooks and the scheduler in one `jixiao serve` process"
                if topology == "service"
                else "as deploy/: `jixiao serve` (the API alone) and a `jixiao worker` process keeping the read models",
            ),
            (
                "parameters",
                f"--seconds {seconds} --clients {','.join(map(str, client_counts))} --rounds {rounds} --asof {asof}",
            ),
        ],
    )
    rows = []
    for count, (ours, raw_load_) in results.items():
        rows.append(
            [
                f"raw INSERT, 1 row/txn, {count} connection(s)",
                fmt_rate(raw_load_.rate, "rows"),
                fmt_ms(raw_load_.ms(50)),
                fmt_ms(raw_load_.ms(99)),
                str(len(raw_load_.latencies)),
                "",
                "—",
            ]
        )
        rows.append(
            [
                f"ours: POST supervision note, {count} client(s)",
                fmt_rate(ours.rate, "cmd"),
                fmt_ms(ours.ms(50)),
                fmt_ms(ours.ms(99)),
                str(len(ours.latencies)),
                str(ours.errors),
                fmt_ratio(ours.rate / raw_load_.rate),
            ]
        )
    rows.append(
        [
            f"raw SELECT {ASOF_EVENTS:,} rows of one originator",
            fmt_rate(raw_read_t.rate, "reads"),
            fmt_ms(raw_read_t.median_ms),
            fmt_ms(raw_read_t.p95_ms) + " (p95)",
            str(raw_read_t.calls),
            "",
            "—",
        ]
    )
    rows.append(
        [
            f"ours: GET state?as_of= ({ASOF_EVENTS:,}-event project, v{ASOF_EVENTS // 2})",
            fmt_rate(asof_t.rate, "reads"),
            fmt_ms(asof_t.median_ms),
            fmt_ms(asof_t.p95_ms) + " (p95)",
            str(asof_t.calls),
            "",
            f"{fmt_ratio(asof_t.median_ms / raw_read_t.median_ms)} time",
        ]
    )
    print_table(["measurement", "rate", "median ms", "p99 ms", "n", "errors", "vs raw PG"], rows, right=(1, 2, 3, 4, 5))
    print()
    targets = []
    if 16 in results:
        ours = results[16][0]
        targets.append(
            [
                "commands/s with 16 clients",
                fmt_rate(ours.rate, "cmd"),
                f"≥ {TARGET_RATE:,.0f}",
                verdict(ours.rate >= TARGET_RATE),
            ]
        )
        targets.append(
            [
                "p99 latency with 16 clients",
                f"{fmt_ms(ours.ms(99))} ms",
                f"< {TARGET_P99_MS:.0f} ms",
                verdict(ours.ms(99) < TARGET_P99_MS),
            ]
        )
    targets.append(
        [
            "as-of query p95",
            f"{fmt_ms(asof_t.p95_ms)} ms",
            f"< {TARGET_ASOF_P95_MS:.0f} ms",
            verdict(asof_t.p95_ms < TARGET_ASOF_P95_MS),
        ]
    )
    print_checks(targets)
    if FAILURES:
        refused = ", ".join(f"{n} × {what}" for what, n in FAILURES.most_common())
        para(f"commands not answered {ACCEPTED}: {refused}.")
        raise SystemExit(1)  # the rates above are of refusals, not of commands


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_http", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of load per concurrency level")
    parser.add_argument("--clients", default="1,16", help="concurrency levels, comma-separated")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of raw and ours per level")
    parser.add_argument("--asof", type=int, default=300, help="timed as-of queries")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the server")
    parser.add_argument(
        "--topology",
        choices=["service", "deploy"],
        default="service",
        help="service: one `jixiao serve` does everything (make run); deploy: the read models in a "
        "`jixiao worker` process of their own, as deploy/ runs them",
    )
    args = parser.parse_args(argv)
    counts = [int(item) for item in args.clients.split(",") if item.strip()]
    if not counts or min(counts) < 1 or args.rounds < 1 or args.asof < 1 or args.seconds <= 0:
        parser.error("clients, rounds and asof must be positive")
    with bench_database("jixiao_bench_http") as db:
        run(db, args.seconds, counts, args.rounds, args.asof, args.workers, args.topology)


if __name__ == "__main__":
    main()
