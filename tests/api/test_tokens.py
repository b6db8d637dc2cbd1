"""Revocation bites at once, in a running service process and in the webhook dispatcher; a principal id is one
identity, over HTTP and on the command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.log.checkpoint import SigningKey
from tests.api.conftest import ORIGIN, Service, running_service
from tests.api.world import expect

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def more_than(count: int, answers: list[tuple[float, int]]) -> bool:
    return len(answers) > count


def sent_after(moment: float, answers: list[tuple[float, int]]) -> bool:
    """A request went out after ``moment``."""
    return any(sent > moment for sent, _ in answers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@contextmanager
def serving_process(database_url: str, data_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``jixiao serve`` in a process of its own; yields its URL and the environment the command line needs."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JIXIAO_SIGNING_KEY": SigningKey.generate(ORIGIN).to_string(),
        "JIXIAO_LOG_ORIGIN": ORIGIN,
        "JIXIAO_DATA_DIR": str(data_dir),
        "JIXIAO_PORT": str(port),
        "JIXIAO_RUN_SCHEDULER": "false",
        "JIXIAO_CHECKPOINT_INTERVAL": "0",
        "JIXIAO_LOG_LEVEL": "warning",
    }
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"the service exited: {log.read().decode()[-2000:]}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the service did not become ready")
                time.sleep(0.1)
            yield base, env
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_revoked_token_is_refused_by_the_running_service_as_soon_as_the_command_returns(
    database_url: str, tmp_path: Path
) -> None:
    with serving_process(database_url, tmp_path) as (base, env):
        for n in range(3):
            created = cli(env, "token", "create", "--role", "auditor", "--org", "市审计局", "--name", f"aud-{n}")
            assert created.returncode == 0, created.stderr
            token = created.stdout.strip()
            token_id = created.stderr.split(":")[0]
            headers = {"Authorization": f"Bearer {token}"}
            answers: list[tuple[float, int]] = []  # (when the request was sent, its status)
            stop = threading.Event()

            def hammer(
                headers: dict[str, str] = headers,
                answers: list[tuple[float, int]] = answers,
                stop: threading.Event = stop,
            ) -> None:
                with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                    while not stop.is_set():
                        sent = time.monotonic()
                        answers.append((sent, client.get("/trail", params={"limit": 1}).status_code))

            racer = threading.Thread(target=hammer, daemon=True)
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                wait_until(lambda: client.get("/trail").status_code == 200)  # cached now
                racer.start()
                try:
                    wait_until(partial(more_than, 20, answers))
                    revoked = cli(env, "token", "revoke", token_id, "--by", "admin-sun")
                    returned = time.monotonic()
                    assert revoked.returncode == 0, revoked.stderr
                    assert "warning" not in revoked.stderr, revoked.stderr
                    refused = client.get("/trail")  # the very next request
                    assert refused.status_code == 401, refused.text
                    wait_until(partial(sent_after, returned, answers))
                finally:
                    stop.set()
                    racer.join(timeout=30)
            assert [status for sent, status in answers if sent > returned and status != 401] == []
            assert any(status == 200 for sent, status in answers if sent < returned)
        listed = cli(env, "token", "list")
        assert listed.stdout.count("revoked") == 3, listed.stdout


class SlowReceiver:
    """Accepts every delivery after a moment's work, noting when each arrived."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, int]] = []  # (monotonic time, position)
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.monotonic()
                self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.arrivals.append((arrived, int(self.headers["X-Jixiao-Position"])))
                time.sleep(0.02)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        return Handler

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


@contextmanager
def receiving(receiver: SlowReceiver) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def record(service: Service, names: range) -> list[int]:
    return [
        expect(service.post("finance", "/departments", {"name": f"部门{n:03}", "effective_on": "2020-08-01"}), 201)[
            "position"
        ]
        for n in names
    ]


@pytest.fixture
def fast(database_url: str, tmp_path: Path) -> Iterator[Service]:
    with running_service(database_url, tmp_path, webhook_backoff=0.05, webhook_allow="127.0.0.1/32") as service:
        yield service


def test_revoking_a_principals_last_token_stops_its_webhooks_before_the_revocation_returns(fast: Service) -> None:
    tokens = fast.app.state.tokens
    fast.tokens["hook"], issued = tokens.issue("fin-hook", "finance", "市财政局", "test")
    _, spare = tokens.issue("aud-hook", "auditor", "市审计局", "test")
    fast.tokens["aud-hook"], _ = tokens.issue("aud-hook", "auditor", "市审计局", "test")  # a second, kept
    watched, witness = SlowReceiver(), SlowReceiver()
    with receiving(watched) as url, receiving(witness) as witness_url:
        hook = expect(fast.post("hook", "/subscriptions", {"url": url, "topics": ["Department.*"]}), 201)
        kept = expect(fast.post("aud-hook", "/subscriptions", {"url": witness_url, "topics": ["Department.*"]}), 201)
        positions = record(fast, range(60))
        wait_until(lambda: watched.count() >= 5)  # delivering, one slow event at a time
        revoked = fast.client.delete(f"/admin/tokens/{issued.token_id}", headers=fast.headers("admin"))
        returned = time.monotonic()
        assert revoked.status_code == 200, revoked.text
        # The auditor still holds a token after one of its two is revoked: its subscription goes on.
        assert fast.client.delete(f"/admin/tokens/{spare.token_id}", headers=fast.headers("admin")).status_code == 200
        positions += record(fast, range(60, 70))
        wait_until(lambda: witness.count() >= len(positions))  # the dispatcher got past every event
        assert [position for arrived, position in watched.arrivals if arrived > returned] == []
        assert watched.count() < len(positions)
        status = expect(fast.get("admin", f"/subscriptions/{hook['id']}"), 200)
        assert status["status"] == "disabled"
        assert f"token {issued.token_id} was revoked" in status["last_error"]
        assert "订阅已停用" in status["last_error"]
        assert expect(fast.get("admin", f"/subscriptions/{kept['id']}"), 200)["status"] == "active"
        # Enabled again by an administrator, it still delivers nothing: the dispatcher checks the principal too.
        before = watched.count()
        assert expect(fast.post("admin", f"/subscriptions/{hook['id']}/enable"), 200)["status"] == "active"
        record(fast, range(70, 72))
        wait_until(lambda: expect(fast.get("admin", f"/subscriptions/{hook['id']}"), 200)["status"] == "disabled")
        wait_until(lambda: witness.count() >= len(positions) + 2)
        assert watched.count() == before
        assert "no live token" in expect(fast.get("admin", f"/subscriptions/{hook['id']}"), 200)["last_error"]


def test_a_principal_id_is_one_identity_over_http_and_on_the_command_line(fast: Service) -> None:
    refused = fast.post("admin", "/admin/tokens", {"name": "fin-wang", "role": "department", "organisation": "教育局"})
    problem = expect(refused, 409)
    assert problem["code"] == "principal-conflict"
    assert problem["type"] == "urn:jixiao:problem:principal-conflict"
    assert problem["title_zh"] == "主体编号已被其他角色或单位使用"
    assert "already finance" in problem["detail"]
    rotated = expect(
        fast.post("admin", "/admin/tokens", {"name": "fin-wang", "role": "finance", "organisation": "市财政局"}), 201
    )
    assert expect(fast.client.get("/trail", headers={"Authorization": f"Bearer {rotated['token']}"}), 200)
    env = {
        **os.environ,
        "DATABASE_URL": fast.ledger.database_url,
        "JIXIAO_SIGNING_KEY": fast.key.to_string(),
        "JIXIAO_LOG_ORIGIN": ORIGIN,
    }
    created = cli(env, "token", "create", "--role", "department", "--org", "教育局", "--name", "aud-zhao")
    assert created.returncode == 2
    assert "refused (principal-conflict): principal id aud-zhao is already auditor" in created.stderr
    resign = cli(env, "token", "resign")
    assert resign.returncode == 0, resign.stderr
    assert "no unsigned token records" in resign.stdout
