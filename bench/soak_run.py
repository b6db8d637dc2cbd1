"""The soak's run: the deployment started under its supervisor, the load and the subscribers, the faults and the
probes timed after each, and the checks once everything has drained (see :mod:`bench.soak`).

Over 500 lines: one run of the soak, told in order (start, load, faults, drain, checks); split, its phases' shared
state would travel between files.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
from psycopg_pool import ConnectionPool

from api.auth import TokenKeys, TokenStore
from api.config.database import ensure_database
from api.schemas.projects import GOALS_EXAMPLE
from bench.cluster import Cluster
from bench.common import free_port
from bench.soak_parts import (
    CUT,
    SSE_ID,
    Http,
    Recovery,
    Report,
    Subscribers,
    Supervisor,
    Tally,
    check_stream,
    delete_stream,
)
from ledger.application.ledger import Act, Ledger
from ledger.domain.values import Principal
from ledger.log.checkpoint import SigningKey
from projections.registry import read_models
from projections.runner import Runner

GOALS = GOALS_EXAMPLE  # the goals the API documents

if TYPE_CHECKING:
    from bench.soak import Options

FINANCE = Principal("fin-soak", "finance", "市财政局")
FAULTS = ("api-worker", "read-models", "dispatcher", "relay", "postgres")
DRAIN_TIMEOUT = 300.0  # seconds every subscriber may take to catch up once the load stops
RECOVERY_BOUND = 120.0  # seconds after a fault before it counts as not recovered


class Soak:
    """One soak: a PostgreSQL of its own, the deployment on loopback, its clients, the faults, the checks."""

    def __init__(self, options: Options, folder: Path, nats: str | None) -> None:
        self.options = options
        self.folder = folder
        self.cluster = Cluster(folder / "pg")
        self.url = ensure_database(self.cluster.admin_url, "jixiao")
        self.key = SigningKey.generate("soak.localhost-log")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stream = f"JIXIAO_SOAK_{uuid.uuid4().hex[:8].upper()}"
        self.nats = nats  # the NATS server for the relay, if one answers
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "JIXIAO_DATA_DIR": str(folder / "var"),
            "JIXIAO_SIGNING_KEY": self.key.to_string(),
            "JIXIAO_LOG_ORIGIN": "soak.localhost/log",
            "JIXIAO_LOG_LEVEL": "warning",
            "JIXIAO_PORT": str(self.port),
            "JIXIAO_WORKERS": str(options.workers),
            "JIXIAO_RUN_PROJECTIONS": "false",
            "JIXIAO_RUN_DISPATCHER": "false",
            "JIXIAO_RUN_SCHEDULER": "false",
            "JIXIAO_CHECKPOINT_INTERVAL": "10",
            "JIXIAO_SWEEP_INTERVAL": "30",
            "JIXIAO_SCHEDULER_POLL": "1",
            "JIXIAO_WEBHOOK_BACKOFF": "0.2",
            "JIXIAO_WEBHOOK_MAX_ATTEMPTS": "100",
            "JIXIAO_WEBHOOK_ALLOW": "127.0.0.1/32",  # the receivers listen on loopback
            # Every stream is the finance token's: the per-principal cap (20 by default) would refuse the rest.
            "JIXIAO_SSE_MAX_STREAMS_PER_PRINCIPAL": str(max(20, options.streams)),
            "JIXIAO_NATS_URL": self.nats or "nats://127.0.0.1:1",
            "JIXIAO_NATS_STREAM": self.stream,
            "JIXIAO_NATS_SUBJECT_PREFIX": f"jixiao-soak.{self.stream.lower()}",
        }
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
            declared = await self.command(
                http,
                k,
                n,
                tokens["education"],
                "/projects",
                {
                    "code": code,
                    "name": "义务教育学生营养改善计划",
                    "department": "教育局",
                    "fiscal_year": 2021,
                    "budget_book": "general_public",
                    "requested": "1000000.00",
                    "new_major": False,
                    "effective_on": "2020-09-01",
                },
            )
            n += 1
            if declared is None:
                continue
            project = declared["id"]
            for who, path, body in (
                ("finance", f"/projects/{project}/admission", {"effective_on": "2020-09-30"}),
                ("education", f"/projects/{project}/goals", {"indicators": GOALS, "effective_on": "2020-10-20"}),
                ("finance", f"/projects/{project}/goals/review", {"rating": "优", "effective_on": "2020-11-05"}),
                (
                    "finance",
                    f"/projects/{project}/budget-approval",
                    {"amount": "1000000.00", "effective_on": "2021-01-15"},
                ),
            ):
                if interval:
                    pause = began + n * interval - time.monotonic()
                    if pause > 0:
                        await asyncio.sleep(pause)
                if self.stop_load.is_set() or await self.command(http, k, n, tokens[who], path, body) is None:
                    break
                n += 1

    async def command(
        self, http: Http, k: int, n: int, token: str, path: str, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """POST until acknowledged under one Idempotency-Key (None: the load stopped first, or it was refused)."""
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"soak-{k}-{n}",
        }
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
                request = (
                    f"GET /events/stream?heartbeat=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Last-Event-ID: {self.subscribers.last[name]}\r\n"
                    + "".join(f"{key}: {value}\r\n" for key, value in headers.items())
                    + "\r\n"
                )
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
                    "GET", f"/events?after={self.subscribers.last[name]}&limit=500", headers, timeout=30
                )
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
        result = await self.command(
            self.probe_http, 1000, n, token, "/departments", {"name": f"探针{n}", "effective_on": "2021-01-04"}
        )
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
        return Recovery(
            "", None, "still waiting: " + ", ".join(waiting[:3]) + (" …" if len(waiting) > 3 else ""), paths
        )

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
                "POST",
                "/subscriptions",
                {"Authorization": f"Bearer {tokens['finance']}", "Content-Type": "application/json"},
                json.dumps({"url": f"http://127.0.0.1:{port}/", "topics": [], "after": start}).encode(),
            )
            if status != 201:
                raise RuntimeError(f"POST /subscriptions answered {status}: {body[:300]!r}")
        background = [
            asyncio.create_task(self.sse_stream(f"sse-{s}", tokens["finance"], start)) for s in range(options.streams)
        ]
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
            await asyncio.sleep(
                max(0.0, min(tick + options.fault_interval, began + options.baseline) - time.monotonic())
            )
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

        subscribers = {
            name: "ok" if not wrong and last == head else f"at {last} of {head}; {'; '.join(wrong)}"
            for name, last, wrong in (
                (name, self.subscribers.last[name], self.subscribers.faults[name]) for name in self.subscribers.last
            )
        }
        return await asyncio.to_thread(
            self.check, head, baseline, faults, baseline_seconds, fault_seconds, probes, recoveries, subscribers
        )

    def check(
        self,
        head: int,
        baseline: Tally,
        faults: Tally,
        baseline_seconds: float,
        fault_seconds: float,
        probes: list[float],
        recoveries: list[Recovery],
        subscribers: dict[str, str],
    ) -> Report:
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
            stored = {
                (int(row[0]), str(row[1]), int(row[2]))
                for row in conn.execute("SELECT leaf_index, originator_id, originator_version FROM ledger_events")
            }
        acked = set(self.acks)
        lost = len(acked - stored)
        digests = {model.name: runner.digest(model) == runner.rebuild(model) for model in read_models()}
        env = self.supervisor.env
        subprocess.run([sys.executable, "-m", "api.cli", "checkpoint"], env=env, check=True, capture_output=True)
        verified = subprocess.run(
            [sys.executable, "-m", "api.cli", "verify", "--key", self.key.verifier.to_string()],
            env=env,
            capture_output=True,
            text=True,
        )
        verify = (verified.stdout.strip().splitlines() or [verified.stderr.strip()])[-1]
        if self.nats:
            prefix = self.supervisor.env["JIXIAO_NATS_SUBJECT_PREFIX"]
            try:
                subscribers["nats"] = asyncio.run(check_stream(self.nats, self.stream, f"{prefix}.>", head))
            except Exception as error:
                subscribers["nats"] = f"could not read the stream: {type(error).__name__}: {error}"
            asyncio.run(delete_stream(self.nats, self.stream))
        return Report(
            self.options,
            baseline,
            faults,
            baseline_seconds,
            fault_seconds,
            probes,
            recoveries,
            lost,
            len(acked),
            verify,
            digests,
            subscribers,
            dict(self.supervisor.exits),
            dict(self.supervisor.kills),
            head + 1,
        )
