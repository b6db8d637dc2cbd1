"""Fixtures shared by every test.

Integration tests run on a real PostgreSQL: the embedded one (started in a
temporary folder for this run) unless ``DATABASE_URL`` names another. Each
test gets a database of its own, created fresh and dropped afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.app import create_app
from api.config.database import as_url, drop_database, embedded_server_url, ensure_database
from api.config.migrations import grant_service_role, migrate
from api.config.settings import Settings
from ledger.application import Act, Ledger
from ledger.domain.values import Principal
from ledger.log.checkpoint import SigningKey


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    folder = Path(tempfile.mkdtemp(prefix="jixiao-test-pg-"))
    try:
        yield embedded_server_url(folder, cleanup_mode="stop")
    finally:
        from api.config.database import stop_embedded_server

        stop_embedded_server(folder)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def fresh_database(pg_admin_url: str) -> Iterator[str]:
    """A database of its own on the test server, dropped afterwards."""
    name = f"jixiao_test_{uuid.uuid4().hex[:12]}"
    url = ensure_database(pg_admin_url, name)
    try:
        yield url
    finally:
        drop_database(pg_admin_url, name)


@pytest.fixture
def database_url(pg_admin_url: str) -> Iterator[str]:
    with fresh_database(pg_admin_url) as url:
        yield url


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    # After every business date the tests state: the ledger records nothing dated after its own today.
    return FakeClock(datetime(2023, 1, 2, 9, 0, tzinfo=UTC))


# The log's signing key in tests: it also authenticates the snapshots the ledger takes (without one, none is taken).
TEST_KEY = SigningKey.generate("test.example-jixiao")


@pytest.fixture
def ledger(database_url: str, clock: FakeClock) -> Iterator[Ledger]:
    app = Ledger(database_url, clock=clock, holidays=[date(2021, 10, 1), date(2021, 10, 4)], signing_key=TEST_KEY)
    app.bootstrap()
    try:
        yield app
    finally:
        app.close()


FINANCE = Principal("fin-01", "finance", "市财政局")
EDUCATION = Principal("edu-01", "department", "教育局")
HEALTH = Principal("hw-01", "department", "卫生健康委员会")
AUDITOR = Principal("aud-01", "auditor", "市审计局")
AGENCY = Principal("ag-01", "agency", "某咨询评估有限公司")


def report(kind: str, what: str = "") -> dict[str, str]:
    """A typed document of ``kind`` — the report a step names (self_evaluation_report, evaluation_plan, …) — as a
    test's evidence."""
    return {"digest": hashlib.sha256(f"{kind}:{what}".encode()).hexdigest(), "type": kind}


def act(principal: Principal, on: date, reason: str = "", **kwargs: object) -> Act:
    return Act(principal, on, reason, **kwargs)  # type: ignore[arg-type]


@contextmanager
def service_client(url: str, data_dir: Path, key: SigningKey, origin: str = "test/log") -> Iterator[TestClient]:
    """The HTTP service on ``url`` (the service role: no schema changes) signing with ``key``, with no role running
    in the background: what a test drives request by request."""
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        create_schema=False,
        run_projections=False,
        run_dispatcher=False,
        run_scheduler=False,
        checkpoint_interval=0,
        log_origin=origin,
        signing_key=key.to_string(),
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def service_url(ledger: Ledger, database_url: str) -> Iterator[str]:
    """The schema migrated by the owner, then the service role granted by the owner, as a deployment does it; the
    URL connects as that role."""
    migrate(database_url, Settings(database_url=database_url, log_origin="test/log"))
    role = f"jixiao_app_{uuid.uuid4().hex[:8]}"
    grant_service_role(database_url, role, None)
    params = conninfo_to_dict(database_url)
    params["user"] = role
    params.pop("password", None)
    try:
        yield as_url(make_conninfo(**params))  # type: ignore[arg-type]
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def pytest_configure(config: pytest.Config) -> None:
    """Each run's temporary folders under a base of its own, not the user's shared ``pytest-of-<user>``: pytest makes
    that one private (0700) whenever a run starts, and the embedded PostgreSQL of a test runs as another user
    (``embedded_postgres``, when the tests run as root), which must reach the data folder below it. Two runs at once
    (two checkouts, say) would otherwise lock each other's servers out. The workers of ``-n`` get their folders
    below this base from pytest-xdist."""
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="jixiao-pytest-")


def pytest_unconfigure(config: pytest.Config) -> None:
    base = config.option.basetemp
    if not hasattr(config, "workerinput") and base and Path(base).name.startswith("jixiao-pytest-"):
        shutil.rmtree(base, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reaches PostgreSQL through a fixture is a ``db`` test whether or not its module says so: ``make
    test-fast`` (``-m 'not db'``) must never start a database."""
    for item in items:
        if "pg_admin_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
