"""The service's own role (``jixiao db service-role``) may add to the ledger and read it — nothing more."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from api.roles.scheduler import JobBook
from ledger.application import CommandKey, Ledger
from ledger.log.checkpoint import SigningKey
from ledger.store.tlog import TransparencyLog
from tests.conftest import FINANCE, act, service_client
from tests.ledger.application.test_application import approved_project

pytestmark = pytest.mark.db


def test_the_service_role_records_reads_and_signs(service_url: str) -> None:
    app = Ledger(service_url, create_schema=False)
    try:
        app.bootstrap()
        written = app.register_department(
            act(FINANCE, date(2020, 8, 1), command=CommandKey("register-education", bytes(32))), "教育局"
        )
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
            book.record(
                "deadlines",
                started_at=datetime.now(UTC),
                today=date(2021, 8, 8),
                trigger="manual",
                runner="test:1",
                status="ok",
                error=None,
                raised=report.raised,
            )
        assert book.runs()["deadlines"].runs == 2
    finally:
        app.close()
    log = TransparencyLog(service_url, origin="test/log", signing_key=SigningKey.generate("test-log"))
    try:
        assert log.sign_checkpoint() is not None
    finally:
        log.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_events SET topic = topic",
        "DELETE FROM ledger_events",
        "TRUNCATE ledger_events",
        "ALTER TABLE ledger_events DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "UPDATE ledger_checkpoints SET note = note",
        "DELETE FROM ledger_sweep_watch",
        "DROP TABLE ledger_events",
        # Not even an append of its own making: positions and the chain are the append function's to assign.
        "INSERT INTO ledger_events (originator_id, originator_version, topic, state, leaf_index, leaf_hash, "
        "chain_hash, recorded_at) VALUES (gen_random_uuid(), 1, 't', '', 999, sha256(''), sha256(''), now())",
        "INSERT INTO ledger_commands (principal_id, idempotency_key, fingerprint, aggregate_id, version, positions) "
        "VALUES ('x', 'y', sha256(''), gen_random_uuid(), 1, '{}')",
        "DELETE FROM ledger_commands",
        # Nor a tree node: the owner's function hashes them from the leaves (a forged one would be signed into a root).
        "INSERT INTO ledger_tree_nodes (level, idx, hash) VALUES (1, 999999, sha256(''))",
        "UPDATE ledger_snapshots SET state = state",
        "DELETE FROM ledger_snapshots",
        "UPDATE ledger_cosignatures SET line = line",
    ],
)
def test_the_service_role_cannot_change_or_remove_anything(service_url: str, statement: str) -> None:
    with psycopg.connect(service_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_service_runs_as_the_service_role(service_url: str, tmp_path: Path) -> None:
    """The HTTP service, connected as that role with no DDL rights, records, reads, signs and subscribes."""

    from api.config.migrations import service_role_statements

    assert service_role_statements("x", None)  # the statements exist without a database
    with service_client(service_url, tmp_path, SigningKey.generate("test-log")) as client:
        token, _ = client.app.state.tokens.issue("fin", "finance", "市财政局", "test")  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {token}"}
        created = client.post(
            "/departments", json={"name": "教育局", "effective_on": "2020-08-01"}, headers=headers, params={}
        )
        assert created.status_code == 201, created.text
        assert client.get("/projects", headers=headers).status_code == 200
        assert client.get("/log/checkpoint").status_code == 200
        hook = client.post("/subscriptions", json={"url": "http://hooks.test:9/"}, headers=headers)
        assert hook.status_code == 201, hook.text
        assert client.delete(f"/admin/tokens/{'tok_x'}", headers=headers).status_code == 403
