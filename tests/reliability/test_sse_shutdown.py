"""``jixiao serve`` stops promptly on SIGTERM and on Ctrl-C (SIGINT) while SSE clients are connected, and exits 0:
uvicorn waits for every open response to end, and a stream's never did — in Kubernetes, a SIGKILL at the end of every
grace period. A request still running when the grace period (``JIXIAO_SHUTDOWN_TIMEOUT``) ends is cut with a 503;
``jixiao worker`` stops as promptly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from ledger.log.checkpoint import SigningKey
from tests.reliability.conftest import free_port, wait_until

pytestmark = pytest.mark.db

STOP_WITHIN = 10.0  # seconds from the signal to the exit, the bound


def output(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-2000:]


def environment(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "JIXIAO_DATA_DIR": str(data_dir),
        "JIXIAO_SIGNING_KEY": SigningKey.generate("shutdown-test").to_string(),
        "JIXIAO_LOG_ORIGIN": "shutdown.test/log",
        "JIXIAO_RUN_SCHEDULER": "false",
        "JIXIAO_CHECKPOINT_INTERVAL": "0",
        "JIXIAO_LOG_LEVEL": "warning",
        **settings,
    }


@contextmanager
def serving(
    database_url: str, data_dir: Path, **settings: str
) -> Iterator[tuple[subprocess.Popen[bytes], str, IO[bytes]]]:
    """``jixiao serve`` as users start it, ready: the process, its base URL and its stderr."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(database_url, data_dir, JIXIAO_PORT=str(port), **settings)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            deadline = time.monotonic() + 240  # a busy machine starting two workers can take minutes
            while True:
                assert process.poll() is None, f"the service exited before it was ready: {output(log)}"
                assert time.monotonic() < deadline, f"the service did not become ready: {output(log)}"
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            yield process, base, log
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def stop(process: subprocess.Popen[bytes], sig: signal.Signals, log: IO[bytes]) -> float:
    """Send ``sig``; the seconds until the process exited with status 0 (fails the test otherwise)."""
    started = time.monotonic()
    process.send_signal(sig)
    try:
        process.wait(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_WITHIN:.0f} s after {sig.name}: {output(log)}")
    took = time.monotonic() - started
    assert process.returncode == 0, f"exit status {process.returncode} after {sig.name}: {output(log)}"
    return took


class StreamClient:
    """An SSE client in a thread: every line it receives, and whether the server ended the stream."""

    def __init__(self, base: str) -> None:
        self.lines: list[str] = []
        self.ended = threading.Event()
        self.error: list[BaseException] = []
        self.base = base
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with (
                httpx.Client(base_url=self.base, timeout=60) as client,
                client.stream("GET", "/events/stream", params={"heartbeat": 1}) as response,
            ):
                for line in response.iter_lines():
                    self.lines.append(line)
            self.ended.set()
        except BaseException as error:  # reported by the test
            self.error.append(error)
            self.ended.set()


@pytest.mark.parametrize(
    ("sig", "workers"),
    [(signal.SIGTERM, 1), (signal.SIGINT, 1), (signal.SIGTERM, 2)],
    ids=["SIGTERM", "Ctrl-C", "SIGTERM, 2 workers"],
)
def test_serve_exits_within_10_s_with_sse_clients_connected(
    database_url: str, tmp_path: Path, sig: signal.Signals, workers: int
) -> None:
    with serving(database_url, tmp_path, JIXIAO_WORKERS=str(workers)) as (process, base, log):
        clients = [StreamClient(base) for _ in range(3)]
        wait_until(
            lambda: all(any(line.startswith(":") for line in client.lines) for client in clients),
            timeout=60,
            what="a heartbeat on every stream: the server is holding them open",
        )
        assert stop(process, sig, log) < STOP_WITHIN
    for client in clients:
        assert client.ended.wait(10)
    told = [client for client in clients if any("stopping" in line for line in client.lines)]
    assert told, "the streams were told why they ended"


def test_a_request_still_running_after_the_grace_period_is_cut_with_a_503(database_url: str, tmp_path: Path) -> None:
    """A client that sends its body slower than the service stops (here: never finishes it) holds the shutdown for
    ``JIXIAO_SHUTDOWN_TIMEOUT`` seconds at most, and is answered that the service stopped."""
    with serving(database_url, tmp_path, JIXIAO_SHUTDOWN_TIMEOUT="1") as (process, base, log):
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
            # A first request on the connection: the service has taken it up before the slow one comes.
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            first = b""
            while b"\r\n\r\n" not in first or len(first.partition(b"\r\n\r\n")[2]) < content_length(first):
                first += slow.recv(65536)
            assert first.startswith(b"HTTP/1.1 200"), first
            slow.sendall(
                b"POST /projects HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"code": '
            )
            client_port = slow.getsockname()[1]
            wait_until(lambda: unread(port, client_port) == 0, timeout=30, what="the service to read the request")
            stop(process, signal.SIGTERM, log)
            answer = b""
            while chunk := slow.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503"), answer[:300]
    assert b"retry-after: 1" in head.lower()
    assert b'"code":"service-stopping"' in body


def content_length(response: bytes) -> int:
    for line in response.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def unread(server_port: int, client_port: int) -> int | None:
    """Bytes the service has not read yet from the loopback connection between the two ports (Linux's
    /proc/net/tcp: rx_queue of the service's end), or None if there is no such connection."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, queues = fields[1], fields[2], fields[4]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return int(queues.split(":")[1], 16)
    return None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_worker_exits_within_10_s(database_url: str, tmp_path: Path, sig: signal.Signals) -> None:
    env = environment(database_url, tmp_path)
    with (
        tempfile.TemporaryFile() as log,
        subprocess.Popen(
            [sys.executable, "-u", "-m", "api.cli", "worker"], env=env, stdout=subprocess.PIPE, stderr=log
        ) as process,
    ):
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # blocks until the worker follows the log (or exits)
            assert b"following the log" in line, f"the worker did not start: {line!r} {output(log)}"
            stop(process, sig, log)
        finally:
            if process.poll() is None:
                process.kill()
