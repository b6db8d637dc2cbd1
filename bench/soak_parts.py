"""The soak's parts: the supervisor of the deployment's processes, the clients' keep-alive connection, the
subscribers' bookkeeping, the figures of a run, and the check of the relay's JetStream stream (see
:mod:`bench.soak`)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from bench.common import read_response

if TYPE_CHECKING:
    from bench.soak import Options


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
        return (
            self.lost == 0
            and self.internal_errors == 0
            and self.verify.startswith("OK")
            and all(self.digests.values())
            and all(v == "ok" for v in self.subscribers.values())
            and not self.exits
            and not self.baseline.refused
            and not self.faults.refused
            and all(r.seconds is not None for r in self.recoveries)
        )


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
            self.processes[role] = subprocess.Popen(
                [sys.executable, "-m", "api.cli", *self.commands[role]],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

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
        workers = [
            child
            for child in psutil.Process(self.processes["api"].pid).children()
            if "resource_tracker" not in " ".join(child.cmdline())
        ]
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

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b"", timeout: float = 60.0
    ) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._request(method, path, headers, body), timeout)
        except BaseException:
            self.close()
            raise

    async def _request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.open_writers.add(self.writer)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{key}: {value}\r\n" for key, value in headers.items())
            + "\r\n"
        )
        self.writer.write(head.encode() + body)
        return await read_response(self.reader)

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


async def check_stream(url: str, stream: str, subjects: str, head: int) -> str:
    """Every position 0..head once, in order, in the stream (read in batches by an ordered pull)."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig

    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        info = await js.stream_info(stream)
        expected = 0
        # Nothing acknowledged: an explicit-ack consumer stops delivering at 1,000 pending messages.
        subscription = await js.pull_subscribe(
            subjects, stream=stream, config=ConsumerConfig(ack_policy=AckPolicy.NONE)
        )
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


async def delete_stream(url: str, stream: str) -> None:
    import nats

    connection = await nats.connect(url)
    try:
        await connection.jetstream().delete_stream(stream)
    finally:
        await connection.close()
