"""The service's own role (deploy/sql/service-role.sql) may add to the ledger and read it — nothing more."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.database import as_url
from api.scheduler import JobBook
from ledger.application import CommandKey, Ledger
from ledger.checkpoint import SigningKey
from ledger.tlog import TransparencyLog
from tests.conftest import FINANCE, act
from tests.integration.test_application import approved_project

pytestmark = pytest.mark.db

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "sql" / "service-role.sql"


@pytest.fixture
def service_url(ledger: Ledger, database_url: str) -> Iterator[str]:
    """Schema created by the owner (the ledger fixture), then the role script applied as the owner."""
    TransparencyLog(database_url, origin="test/log").create_tables()
    JobBook(database_url).create_table()  # as `jixiao db migrate` does
    role = f"jixiao_app_{uuid.uuid4().hex[:8]}"
    script = SCRIPT.read_text().replace(":app_password", "'not-used-with-trust-auth'").replace(":app_role", role)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(script)  # type: ignore[arg-type]  # our own file
    params = conninfo_to_dict(database_url)
    params["user"] = role
    params.pop("password", None)
    try:
        yield as_url(make_conninfo(**params))  # type: ignore[arg-type]
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")  # type: ignore[arg-type]
            conn.execute(f"DROP ROLE {role}")  # type: ignore[arg-type]


def test_the_service_role_records_reads_and_signs(service_url: str) -> None:
    app = Ledger(service_url, create_schema=False)
    try:
        app.bootstrap()
        written = app.register_department(
            act(FINANCE, date(2020, 8, 1), command=CommandKey("register-education", bytes(32))), "教育局")
        assert app.recorded_command(FINANCE.id, "register-education") is not None
        assert app.department("教育局").name == "教育局"
        assert written.position == app.head() - 1
    finally:
        app.close()
    app = Ledger(service_url, create_schema=False)
    try:
        approved_project(app)
        report = app.sweep("deadlines", date(2021, 8, 8))  # the scheduler's bookkeeping is writable too
        assert report.raised == {"Project.DeadlineApproaching": 1}
        book = JobBook(service_url)
        for _ in range(2):
            book.record("deadlines", started_at=datetime.now(UTC), today=date(2021, 8, 8), trigger="manual",
                        runner="test:1", status="ok", error=None, raised=report.raised)
        assert book.runs()["deadlines"].runs == 2
    finally:
        app.close()
    log = TransparencyLog(service_url, origin="test/log", signing_key=SigningKey.generate("test-log"))
    try:
        assert log.sign_checkpoint() is not None
    finally:
        log.close()


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_events SET topic = topic",
    "DELETE FROM ledger_events",
    "TRUNCATE ledger_events",
    "ALTER TABLE ledger_events DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",
    "UPDATE ledger_checkpoints SET note = note",
    "DELETE FROM ledger_sweep_watch",
    "DROP TABLE ledger_events",
    "DELETE FROM ledger_commands",
])
def test_the_service_role_cannot_change_or_remove_anything(service_url: str, statement: str) -> None:
    with psycopg.connect(service_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)  # type: ignore[arg-type]
