"""An HTTP client on a running service (its lifespan started) over a fresh database, with a token per role."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.config.database import drop_database, ensure_database
from api.config.settings import Settings
from ledger.application import Ledger
from ledger.log.checkpoint import SigningKey

ORIGIN = "czj.example.gov.cn/jixiao-test"
ROLES = {
    "finance": ("fin-wang", "finance", "市财政局"),
    "education": ("edu-zhang", "department", "教育局"),
    "health": ("hw-li", "department", "卫生健康委员会"),
    "school": ("yz-li", "department", "德令哈市第一中学"),  # a budget unit's staff (预算单位 of 教育局)
    "auditor": ("aud-zhao", "auditor", "市审计局"),
    "agency": ("ag-chen", "agency", "某咨询评估有限公司"),
    "admin": ("admin-sun", "admin", "信息中心"),
}


@dataclass
class Service:
    client: TestClient
    app: FastAPI
    key: SigningKey
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ledger(self) -> Ledger:
        ledger: Ledger = self.app.state.ledger
        return ledger

    def headers(self, who: str | None, **extra: str) -> dict[str, str]:
        headers = {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}
        return {**headers, **extra}

    def post(self, who: str | None, path: str, body: Any = None, **headers: str) -> Any:
        return self.client.post(path, json=body, headers=self.headers(who, **headers))

    def get(self, who: str | None, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers(who))


def settings_for(database_url: str, data_dir: Path, key: SigningKey, **overrides: Any) -> Settings:
    # No scheduler: its jobs would record deadline notices while a test counts events and versions.
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        checkpoint_interval=0,
        run_scheduler=False,
        signing_key=key.to_string(),
        log_origin=ORIGIN,
        **overrides,
    )


@contextmanager
def running_service(database_url: str, data_dir: Path, **overrides: Any) -> Iterator[Service]:
    key = SigningKey.generate(ORIGIN)
    app = create_app(settings_for(database_url, data_dir, key, **overrides))
    with TestClient(app, raise_server_exceptions=False) as client:
        running = Service(client, app, key)
        for who, (name, role, organisation) in ROLES.items():
            running.tokens[who], _ = app.state.tokens.issue(name, role, organisation, created_by="test")
        yield running


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    with running_service(database_url, tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def shared_service(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service for a module whose tests record nothing (refusals) or only add to what is there."""
    name = f"jixiao_test_{uuid.uuid4().hex[:12]}"
    url = ensure_database(pg_admin_url, name)
    try:
        with running_service(url, tmp_path_factory.mktemp("service")) as running:
            yield running
    finally:
        drop_database(pg_admin_url, name)


class LiveServer:
    """The app served by uvicorn on a free loopback port, in a thread: real HTTP, as clients see it."""

    def __init__(self, app: FastAPI, *, started: bool = False) -> None:
        """``started``: the app's lifespan already runs (a TestClient holds it); serve it as it is."""
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off" if started else "on")
        )
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
