"""Commands under an idempotency key (``Idempotency-Key`` over HTTP, ``CommandKey`` in the ledger): recorded once,
answered alike when retried, a key reused for another request refused, and the command records append-only."""

from __future__ import annotations

import hashlib
from datetime import date

import psycopg
import pytest

from ledger.application import CommandAlreadyRecorded, CommandKey, Ledger
from ledger.domain.errors import InvalidInput
from tests.conftest import EDUCATION, FINANCE, act
from tests.ledger.application.test_application import approved_project

pytestmark = pytest.mark.db


def test_a_command_under_an_idempotency_key_is_recorded_once(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = approved_project(ledger)
    key = CommandKey("report-2021-04", hashlib.sha256(b"the request").digest())
    first = ledger.report_monitoring(
        act(EDUCATION, date(2021, 5, 10), command=key), pid, month=4, executed="100.00", indicator_progress={}
    )
    assert [event.type for event in first.events] == ["Project.MonitoringReported"]
    assert first.events[0].references == {"month": 4}
    recorded = ledger.recorded_command(EDUCATION.id, key.key)
    assert recorded is not None
    fingerprint, replay = recorded
    assert fingerprint == key.fingerprint
    assert (replay.aggregate_id, replay.version, replay.positions, replay.events) == (
        first.aggregate_id,
        first.version,
        first.positions,
        first.events,
    )
    assert replay.replayed
    assert not first.replayed
    assert ledger.recorded_command(FINANCE.id, key.key) is None  # keys are per principal

    # Another process that did not see the first attempt records nothing under the same key: the events roll back.
    other = Ledger(database_url)
    try:
        monkeypatch.setattr(other, "recorded_command", lambda principal_id, key: None)  # it looked before the first
        head = ledger.head()
        with pytest.raises(CommandAlreadyRecorded):
            other.report_monitoring(
                act(EDUCATION, date(2021, 6, 10), command=key), pid, month=5, executed="200.00", indicator_progress={}
            )
        assert ledger.head() == head
        latest = other.project(pid).latest_monitoring
        assert latest is not None
        assert latest["month"] == 4  # the cache kept nothing of the lost attempt
    finally:
        other.close()


def test_a_use_case_retried_under_its_key_is_recorded_once_and_answered_alike(ledger: Ledger) -> None:
    """Idempotency is the ledger's own: whoever calls a use case (HTTP, the CLI, the demo) under a key gets it."""
    pid = approved_project(ledger)
    key = CommandKey("report-2021-04", hashlib.sha256(b"the request").digest())
    report = act(EDUCATION, date(2021, 5, 10), command=key)
    head = ledger.head()
    first = ledger.report_monitoring(report, pid, month=4, executed="100.00", indicator_progress={})
    again = ledger.report_monitoring(report, pid, month=4, executed="100.00", indicator_progress={})
    assert (first.replayed, again.replayed) == (False, True)
    assert (again.aggregate_id, again.version, again.positions, again.events) == (
        first.aggregate_id,
        first.version,
        first.positions,
        first.events,
    )
    assert ledger.head() == head + 1
    other_request = act(EDUCATION, date(2021, 5, 10), command=CommandKey(key.key, hashlib.sha256(b"other").digest()))
    with pytest.raises(InvalidInput) as reused:
        ledger.report_monitoring(other_request, pid, month=5, executed="200.00", indicator_progress={})
    assert reused.value.code == "idempotency-key-reused"
    assert ledger.head() == head + 1


def test_the_command_records_are_append_only(ledger: Ledger, database_url: str) -> None:
    pid = approved_project(ledger)
    ledger.report_monitoring(
        act(EDUCATION, date(2021, 5, 10), command=CommandKey("k", bytes(32))),
        pid,
        month=4,
        executed="1.00",
        indicator_progress={},
    )
    with psycopg.connect(database_url) as conn:
        for statement in (
            "UPDATE ledger_commands SET version = 1",
            "DELETE FROM ledger_commands",
            "TRUNCATE ledger_commands",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
            conn.rollback()
