"""``/readyz`` is not ready while the read models this process runs lag beyond ``JIXIAO_READY_MAX_LAG``, and says
why; ``/healthz`` fails only when a role has stopped for good."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import running_service, settings_for
from tests.reliability.conftest import wait_until

pytestmark = pytest.mark.db


def test_readyz_is_not_ready_while_the_read_models_lag(database_url: str, tmp_path: Path) -> None:
    with running_service(database_url, tmp_path, ready_max_lag=0.5) as service:
        wait_until(lambda: service.get(None, "/readyz").status_code == 200, what="the service to be ready")
        ready = service.get(None, "/readyz").json()
        assert set(ready["roles"]) == {"dispatcher", "read-models", "sse"}
        with psycopg.connect(database_url) as blocker:
            blocker.execute("SELECT * FROM projection_positions FOR UPDATE")  # the runner's pages wait for these
            created = service.post("finance", "/departments", {"name": "教育局", "effective_on": "2021-01-04"})
            assert created.status_code == 201
            wait_until(lambda: service.get(None, "/readyz").status_code == 503, what="/readyz to be not ready")
            answer = service.get(None, "/readyz")
            assert answer.json()["code"] == "not-ready"
            assert "behind the log" in answer.json()["detail"]
            assert answer.headers["Retry-After"]
            assert service.get(None, "/healthz").status_code == 200  # behind, not dead
        wait_until(lambda: service.get(None, "/readyz").status_code == 200, what="/readyz to be ready again")
        assert service.get(None, "/readyz").json()["lag_seconds"] == 0


def test_healthz_fails_once_a_role_has_stopped_for_good(database_url: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, tmp_path, SigningKey.generate("healthz-test")).model_copy(
        update={"run_scheduler": True}
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        wait_until(lambda: client.get("/readyz").status_code == 200, what="the service to be ready")
        assert set(client.get("/readyz").json()["roles"]) == {"dispatcher", "read-models", "scheduler", "sse"}
        assert client.get("/healthz").status_code == 200
        client.app.state.scheduler.stop()  # type: ignore[attr-defined]  # its election thread ends, as if it died
        answer = client.get("/healthz")
        assert answer.status_code == 503
        assert answer.json()["code"] == "role-stopped"
        assert "scheduler" in answer.json()["detail"]
        assert client.get("/readyz").status_code == 503
