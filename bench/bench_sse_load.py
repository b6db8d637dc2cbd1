"""Command throughput with many SSE streams open ÷ with none, measured in the same run.

    python -m bench.bench_sse_load [--streams 200] [--audience all|mixed|quiet] [--seconds S] [--rounds N]
                                   [--clients C] [--stream-processes P]

The service runs as its own process (``jixiao serve``: everything in one process, as ``make run``), loopback. This
process drives commands as bench_http does: C clients, one keep-alive connection each, each posting supervision notes
to a project of its own. Rounds alternate between no stream open and ``--streams`` streams open, so the machine's drift
hits both sides alike. The streams are held by ``--stream-processes`` processes of their own (asyncio over raw sockets,
counting the frames they receive), so neither their reading nor this process's interpreter lock distorts the load.

Audiences: ``all`` — every stream a finance principal's, so each receives every event (the most work for the server);
``mixed`` — a quarter each of finance, the department whose projects the load writes to, another department (none of
the load is its) and the public (none either); ``quiet`` — all public, nothing of the load to send.

Nothing is asserted: the ratio is printed beside its target (≥ 0.85).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import selectors
import socket
import statistics
import time
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

import httpx
import psutil
from psycopg_pool import ConnectionPool

from api.auth import TokenKeys, TokenStore
from bench.bench_http import KEY, Load, Server, http_load, merge, prepare
from bench.common import (
    BenchDatabase,
    bench_database,
    describe_server,
    fmt_ms,
    fmt_rate,
    fmt_ratio,
    print_table,
    server_settings,
)

TARGET_RATIO = 0.85
AUDIENCES = {  # principal (id, role, organisation) of each stream, cycling
    "all": [("fin-sse", "finance", "市财政局")],
    "mixed": [("fin-sse", "finance", "市财政局"), ("edu-sse", "department", "教育局"),
              ("hw-sse", "department", "卫生健康委员会"), ("public", "public", "")],
    "quiet": [("public", "public", "")],
}


def hold_streams(port: int, tokens: Sequence[str | None], after: int, ready: Queue[int], stop: Event,
                 counts: Queue[tuple[int, int, float]]) -> None:
    """Hold one stream per token open until ``stop``; report how many frames they received, the last id, and the
    CPU seconds this process spent while they were open.

    One thread reads every socket through a selector, counting frames in the bytes as they come: a client as lean
    as a client can be, since on a small machine its CPU is taken from the server's."""
    streams: list[socket.socket] = []
    for token in tokens:
        sock = socket.create_connection(("127.0.0.1", port))
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        sock.sendall(f"GET /events/stream?after={after}&heartbeat=2 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Accept: text/event-stream\r\n{auth}\r\n".encode())
        streams.append(sock)
    selector = selectors.DefaultSelector()
    waiting = set(range(len(streams)))  # until its first heartbeat: caught up, and waiting for what comes
    for n, sock in enumerate(streams):
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, n)
    frames, last, started = 0, -1, 0.0
    while not stop.is_set():
        for key, _ in selector.select(timeout=0.1):
            data = key.fileobj.recv(1 << 18)  # type: ignore[union-attr]
            if not data:
                raise RuntimeError("a stream was closed by the server")
            if key.data in waiting:
                if b" 200 " not in data[:20] and data.startswith(b"HTTP/"):
                    raise RuntimeError(f"the stream was refused: {data[:200]!r}")
                if b": heartbeat" in data:
                    waiting.discard(key.data)
                    ready.put(1)
                    if not waiting:
                        started = time.process_time()
                continue
            frames += data.count(b"id: ")
            at = data.rfind(b"id: ")
            end = data.find(b"\n", at)
            if at >= 0 and end > 0:
                last = max(last, int(data[at + 4:end]))
    for sock in streams:
        sock.close()
    counts.put((frames, last, time.process_time() - started))


def issue_tokens(url: str, audience: str) -> list[str | None]:
    with ConnectionPool(url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
        store = TokenStore(pool, TokenKeys(KEY, origin="bench.localhost/log"))  # the server honours only these
        return [None if role == "public" else store.issue(name, role, organisation, created_by="bench")[0]
                for name, role, organisation in AUDIENCES[audience]]


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def run(db: BenchDatabase, streams: int, audience: str, seconds: float, rounds: int, clients: int,
        processes: int) -> None:
    url = db.url
    settings = server_settings(url)
    token, projects, _, _, _ = prepare(url, clients)
    kinds = issue_tokens(url, audience)
    server = Server(url, 1, JIXIAO_SSE_MAX_STREAMS_PER_PRINCIPAL=str(streams + 10),
                    JIXIAO_SSE_MAX_STREAMS=str(streams + 10))
    spawn = multiprocessing.get_context("spawn")
    without: list[Load] = []
    with_streams: list[Load] = []
    delivered: list[tuple[int, float]] = []  # (frames received, seconds held) per round with streams
    last_seen: list[tuple[int, int]] = []  # (last id received, log head) per round with streams
    cpu = {"without": 0.0, "with": 0.0}  # the server process's CPU seconds during each side's load
    clients_cpu = 0.0  # the stream holders' CPU seconds, in all
    try:
        server.wait()
        serving = psutil.Process(server.process.pid)
        asyncio.run(http_load(server.base, token, projects[:1], 1.0, 0))  # warm: connections, caches, statements
        first = 10_000
        for _ in range(rounds):
            before = cpu_seconds(serving)
            without.append(asyncio.run(http_load(server.base, token, projects, seconds / rounds, first)))
            cpu["without"] += cpu_seconds(serving) - before
            first += 100_000
            head = httpx.get(f"{server.base}/events", params={"limit": 1}, timeout=30,
                             headers={"Authorization": f"Bearer {token}"}).json()["head"]
            ready: Queue[int] = spawn.Queue()
            counts: Queue[tuple[int, int, float]] = spawn.Queue()
            stop = spawn.Event()
            tokens = [kinds[n % len(kinds)] for n in range(streams)]
            holders: list[BaseProcess] = [
                spawn.Process(target=hold_streams, args=(server.port, tokens[k::processes], head - 1, ready, stop,
                                                         counts), daemon=True) for k in range(processes)]
            for holder in holders:
                holder.start()
            for _ in range(streams):
                ready.get(timeout=120)  # every stream caught up and waiting
            held = time.perf_counter()
            before = cpu_seconds(serving)
            with_streams.append(asyncio.run(http_load(server.base, token, projects, seconds / rounds, first)))
            cpu["with"] += cpu_seconds(serving) - before
            first += 100_000
            time.sleep(1.0)  # the last events delivered
            stop.set()
            results = [counts.get(timeout=60) for _ in holders]
            delivered.append((sum(frames for frames, _, _ in results), time.perf_counter() - held))
            clients_cpu += sum(spent for _, _, spent in results)
            end = httpx.get(f"{server.base}/events", params={"limit": 1}, timeout=30,
                            headers={"Authorization": f"Bearer {token}"}).json()["head"]
            last_seen.append((max(last for _, last, _ in results), end))
            for holder in holders:
                holder.join(timeout=30)
    finally:
        server.stop()

    none, some = merge(without), merge(with_streams)
    ratio = some.rate / none.rate
    per_round = [b.rate / a.rate for a, b in zip(without, with_streams, strict=True)]
    print()
    print(f"bench_sse_load — command throughput with {streams} SSE streams open ÷ with none (same run, alternating)")
    for key, value in (
        ("server", describe_server(db)),
        ("PostgreSQL", f"{settings['server_version']} (fsync={settings['fsync']}, "
                       f"synchronous_commit={settings['synchronous_commit']})"),
        ("machine", f"{os.cpu_count()} cores, Python {platform.python_version()}"),
        ("topology", "everything in one `jixiao serve` process (make run)"),
        ("parameters", f"--streams {streams} --audience {audience} --seconds {seconds} --rounds {rounds} "
                       f"--clients {clients} --stream-processes {processes}"),
    ):
        print(f"  {key + ':':<12}{value}")
    print()
    frames = sum(count for count, _ in delivered)
    held = sum(spent for _, spent in delivered)
    print_table(["measurement", "rate", "median ms", "p99 ms", "n", "errors"], [
        [f"POST supervision note, {clients} clients, no stream open", fmt_rate(none.rate, "cmd"), fmt_ms(none.ms(50)),
         fmt_ms(none.ms(99)), str(len(none.latencies)), str(none.errors)],
        [f"the same, {streams} streams open ({audience})", fmt_rate(some.rate, "cmd"), fmt_ms(some.ms(50)),
         fmt_ms(some.ms(99)), str(len(some.latencies)), str(some.errors)],
        ["frames the streams received while open", fmt_rate(frames / held, "events"), "", "", str(frames), ""],
    ], right=(1, 2, 3, 4, 5))
    per_command = {side: cpu[side] / len(load.latencies) * 1000 for side, load in (("without", none), ("with", some))}
    print(f"  the server's CPU per command: {per_command['without']:.2f} ms without streams, "
          f"{per_command['with']:.2f} ms with ({fmt_ratio(per_command['with'] / per_command['without'])}; "
          f"less sensitive than rates to other load on the machine); the stream clients' CPU: "
          f"{clients_cpu / held:.2f} s a second while open")
    behind = [head - 1 - last for last, head in last_seen]
    print(f"  rounds (with ÷ without): {', '.join(f'{value:.2f}' for value in per_round)}; median "
          f"{statistics.median(per_round):.2f}")
    if audience != "quiet":
        print(f"  positions the streams' last frame was behind the head at the end of each round: "
              f"{', '.join(map(str, behind))}")
    print()
    print_table(["check", "measured", "target", "verdict"], [
        [f"throughput with {streams} streams ÷ none", fmt_ratio(ratio), f"≥ {TARGET_RATIO:.2f}×",
         "met" if ratio >= TARGET_RATIO else "NOT met"],
    ], right=(1,))
    print()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_sse_load", description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=200, help="SSE streams open in the rounds with streams")
    parser.add_argument("--audience", choices=sorted(AUDIENCES), default="all",
                        help="whose streams: see the module's description")
    parser.add_argument("--seconds", type=float, default=40.0, help="seconds of load on each side, in all")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of no streams and streams")
    parser.add_argument("--clients", type=int, default=16, help="concurrent command clients")
    parser.add_argument("--stream-processes", type=int, default=2, help="processes holding the streams")
    args = parser.parse_args(argv)
    if min(args.streams, args.rounds, args.clients, args.stream_processes) < 1 or args.seconds <= 0:
        parser.error("streams, rounds, clients and stream processes must be positive")
    with bench_database("jixiao_bench_sse") as db:
        run(db, args.streams, args.audience, args.seconds, args.rounds, args.clients, args.stream_processes)


if __name__ == "__main__":
    main()
