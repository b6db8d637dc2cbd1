"""PostgreSQL restarts under ``jixiao worker`` and under ``jixiao serve`` (each a process of its own, as deployed):
the read models resume by themselves, and ``/readyz`` goes not-ready while the database is away and ready again
once everything the process runs is back — nothing needs a restart.

The server restarted is the tests' own (``tests/reliability/conftest.py``), never the session's shared one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from api.auth import TokenKeys, TokenStore
from bench.cluster import Cluster
from ledger.application import Ledger
from ledger.log.checkpoint import SigningKey
from projections.registry import read_models
from projections.runner import Runner
from tests.conftest import FINANCE, act
from tests.reliability.conftest import free_port, wait_until

pytestmark = pytest.mark.db

ON = date(2021, 1, 4)
KEY = SigningKey.generate("restart.example-log")


def environment(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "JIXIAO_DATA_DIR": str(data_dir),
        "JIXIAO_SIGNING_KEY": KEY.to_string(),
        "JIXIAO_LOG_ORIGIN": "restart.example/log",
        "JIXIAO_LOG_LEVEL": "warning",
        **extra,
    }


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        running = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield running
    finally:
        running.terminate()
        try:
            running.wait(timeout=30)
        except subprocess.TimeoutExpired:
            running.kill()
            running.wait()


def caught_up(runner: Runner) -> bool:
    try:
        return all(status.lag == 0 for status in runner.status())
    except psycopg.Error:  # the database is away, or the worker has not created its tables yet
        return False


def test_jixiao_worker_resumes_after_postgres_restarts(cluster: Cluster, own_database: str, tmp_path: Path) -> None:
    ledger = Ledger(own_database)
    runner = Runner(own_database, read_models())
    try:
        ledger.bootstrap()
        ledger.register_department(act(FINANCE, ON), "教育局")
        log = tmp_path / "worker.out"
        with process(["worker"], environment(own_database, tmp_path), log) as worker:
            wait_until(
                lambda: caught_up(runner) and len(runner.status()) == len(read_models()), what="the worker to catch up"
            )
            cluster.restart(down=1.0)
            ledger.register_department(act(FINANCE, ON), "卫生健康委员会")  # on the pool the restart left stale
            wait_until(
                lambda: caught_up(runner) or worker.poll() is not None,
                what="the worker to apply what was recorded after the restart",
            )
            assert worker.poll() is None, f"the worker exited:\n{log.read_text()}"
    finally:
        ledger.close()


def test_jixiao_serve_goes_not_ready_then_ready_when_postgres_restarts(
    cluster: Cluster, own_database: str, tmp_path: Path
) -> None:
    port = free_port()
    env = environment(
        own_database, tmp_path, JIXIAO_PORT=str(port), JIXIAO_SCHEDULER_POLL="0.5", JIXIAO_CHECKPOINT_INTERVAL="0"
    )
    seen: list[int] = []

    def ready() -> int:
        try:
            status = http.get("/readyz").status_code
        except httpx.TransportError:
            return 0
        seen.append(status)
        return status

    log = tmp_path / "serve.out"
    with process(["serve"], env, log) as serve, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        wait_until(lambda: ready() == 200 or serve.poll() is not None, what="the service to be ready")
        assert serve.poll() is None, log.read_text()
        with ConnectionPool(own_database, min_size=1, max_size=1, kwargs={"autocommit": True}) as pool:
            keys = TokenKeys(KEY, origin="restart.example/log")  # signed as the service will check it
            token, _ = TokenStore(pool, keys).issue("fin-wang", "finance", "市财政局", created_by="test")
        headers = {"Authorization": f"Bearer {token}"}
        assert (
            http.post(
                "/departments", json={"name": "教育局", "effective_on": "2021-01-04"}, headers=headers
            ).status_code
            == 201
        )

        cluster.stop()
        try:
            wait_until(lambda: ready() == 503, what="/readyz to say not ready while the database is down")
        finally:
            cluster.start()
        wait_until(lambda: ready() == 200, what="/readyz to be ready again")

        def record() -> httpx.Response:
            return http.post(
                "/departments",
                json={"name": "卫生健康委员会", "effective_on": "2021-01-04"},
                headers={**headers, "Idempotency-Key": "after-the-restart"},
            )

        created = record()
        assert created.status_code == 201, created.text
        position = created.json()["position"]
        read = http.get("/departments", params={"min_position": position}, headers=headers)
        assert read.status_code == 200, read.text  # the read models follow again: they reached the new position
        assert {row["name"] for row in read.json()} == {"教育局", "卫生健康委员会"}
        assert 500 not in seen
        assert serve.poll() is None, log.read_text()
