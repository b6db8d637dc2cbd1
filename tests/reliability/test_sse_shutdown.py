"""``jixiao serve`` stops promptly on SIGTERM and on Ctrl-C (SIGINT) while SSE clients are connected: uvicorn waits
for every open response to end, and a stream's never did — in Kubernetes, a SIGKILL at the end of every grace period."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import pytest

from ledger.log.checkpoint import SigningKey

pytestmark = pytest.mark.db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def output(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-2000:]


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
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JIXIAO_PORT": str(port),
        "JIXIAO_DATA_DIR": str(tmp_path),
        "JIXIAO_SIGNING_KEY": SigningKey.generate("shutdown-test").to_string(),
        "JIXIAO_LOG_ORIGIN": "shutdown.test/log",
        "JIXIAO_RUN_SCHEDULER": "false",
        "JIXIAO_CHECKPOINT_INTERVAL": "0",
        "JIXIAO_LOG_LEVEL": "warning",
        "JIXIAO_WORKERS": str(workers),
    }
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
            clients = [StreamClient(base) for _ in range(3)]
            deadline = time.monotonic() + 60
            while not all(any(line.startswith(":") for line in client.lines) for client in clients):
                assert time.monotonic() < deadline, "the streams did not start"
                time.sleep(0.05)  # each has had a heartbeat: the server is holding it open
            started = time.monotonic()
            process.send_signal(sig)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running 10 s after {sig.name}: {output(log)}")
            assert time.monotonic() - started < 10
            for client in clients:
                assert client.ended.wait(10)
            told = [client for client in clients if any("stopping" in line for line in client.lines)]
            assert told, "the streams were told why they ended"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
