"""Connections whose server session is gone — idle ones in the pools, after a restart or a purge of idle sessions,
or one cut off with an append under way — cost no command and no HTTP answer.

Sessions are really terminated here (``pg_terminate_backend``), as a database restart or an administrator would.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from ledger.application import Ledger, Written
from tests.api.conftest import running_service
from tests.conftest import FINANCE, act
from tests.reliability.conftest import wait_until

pytestmark = pytest.mark.db

ON = date(2021, 1, 4)


def terminate_idle_sessions(url: str) -> list[int]:
    """End every idle session on ``url``'s database but this one; return their backend ids once they are gone."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'idle'"
            ).fetchall()
        ]
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

        def gone() -> bool:
            return not conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchone()[0]  # type: ignore[index]

        wait_until(gone, what="the terminated sessions to end")
    return pids


def test_appends_succeed_after_the_pools_idle_connections_are_killed(ledger: Ledger, database_url: str) -> None:
    pool = ledger.log_recorder.datastore.pool
    held = [pool.getconn() for _ in range(6)]  # six sessions open and idle in the pool
    for conn in held:
        pool.putconn(conn)
    assert len(terminate_idle_sessions(database_url)) >= 5
    failures = []
    for n in range(8):
        try:
            ledger.register_department(act(FINANCE, ON), f"部门{n}")
        except Exception as error:
            failures.append(repr(error))
    assert failures == [], f"{len(failures)} of 8 appends failed: {failures[:2]}"
    with psycopg.connect(database_url) as plain:
        names = plain.execute(
            "SELECT count(*) FROM ledger_events WHERE topic LIKE %s", ("%Department.Registered",)
        ).fetchone()
    assert names == (8,)


def test_an_append_cut_off_under_way_is_settled_then_sent_again(ledger: Ledger, database_url: str) -> None:
    """The session running the append is terminated while it waits for the log's lock: it did not commit, and once
    it is gone nothing can commit it, so the append is sent again — and recorded once."""
    outcome: list[Written | BaseException] = []

    def register() -> None:
        try:
            outcome.append(ledger.register_department(act(FINANCE, ON), "教育局"))
        except BaseException as error:
            outcome.append(error)

    with psycopg.connect(database_url, autocommit=True) as admin, psycopg.connect(database_url) as blocker:
        blocker.execute("LOCK TABLE ledger_events IN SHARE MODE")  # appends wait for their EXCLUSIVE lock
        writer = threading.Thread(target=register)
        writer.start()

        def waiting() -> list[int]:
            return [
                row[0]
                for row in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
                    "AND query LIKE %s",
                    ("%ledger_events_append%",),
                ).fetchall()
            ]

        wait_until(waiting, what="the append to wait for the lock")
        first = waiting()[0]
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        wait_until(lambda: any(pid != first for pid in waiting()), what="the append to be sent again")
        blocker.rollback()
        writer.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], Written), outcome
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM ledger_events WHERE topic LIKE %s", ("%Department.Registered",)
        ).fetchone()
    assert rows == (1,)


def test_settling_tells_a_committed_append_from_one_that_was_not(ledger: Ledger) -> None:
    recorder = ledger.log_recorder
    no_session = 0  # no backend has pid 0: the session that ran the append has ended
    appended = StoredEvent(uuid.uuid4(), 1, "tests:Appended", b'{"n": 1}')
    ids = recorder.insert_events([appended])
    positions = recorder.take_written_positions()
    settled = recorder.settle([appended], no_session, time.monotonic() + 5)
    assert settled is not None
    assert [row["notification_id"] for row in settled] == ids
    assert [row["leaf_index"] for row in settled] == positions
    never = StoredEvent(uuid.uuid4(), 1, "tests:Appended", b'{"n": 2}')
    assert recorder.settle([never], no_session, time.monotonic() + 5) is None
    other = StoredEvent(appended.originator_id, 1, "tests:Appended", b'{"n": 3}')  # another writer's, same version
    assert recorder.settle([other], no_session, time.monotonic() + 5) is None


def test_http_answers_no_500_after_every_idle_session_is_killed(database_url: str, tmp_path: Path) -> None:
    with running_service(database_url, tmp_path) as service:
        created = service.post("finance", "/departments", {"name": "教育局", "effective_on": "2021-01-04"})
        assert created.status_code == 201, created.text
        assert service.get(None, "/readyz").status_code == 200
        terminate_idle_sessions(database_url)
        answers = []
        for n in range(11):
            answers.append(service.get(None, "/readyz"))
            answers.append(service.get("finance", "/departments"))
            answers.append(service.post("finance", "/departments", {"name": f"部门{n}", "effective_on": "2021-01-04"}))
        for answer in answers:
            assert answer.status_code < 500 or (answer.status_code == 503 and answer.headers.get("Retry-After")), (
                answer.request.method,
                answer.request.url,
                answer.status_code,
                answer.text,
            )
        assert sum(answer.status_code == 201 for answer in answers) == 11
        wait_until(lambda: service.get(None, "/readyz").status_code == 200, what="/readyz to be ready again")
