"""The scheduler watches disclosure and the congress (issue 16): its jobs raise the missed notices of a project's
goals not disclosed and of a year's goals not submitted to the congress, once, however often they run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from api.roles.scheduler import JobBook
from ledger.application import Ledger
from ledger.store.tlog import TransparencyLog
from tests.api.roles.test_scheduler import log, scheduler_for, settings_for, wait_for
from tests.ledger.application.test_application import approved_project

pytestmark = pytest.mark.db
__all__ = ["log"]  # the fixture, shared with the scheduler's own tests


def test_the_scheduler_raises_disclosure_and_congress_notices_once(
    ledger: Ledger, log: TransparencyLog, database_url: str, tmp_path: Path
) -> None:
    # Goals approved on 2020-11-05 (owed to the congress by 2020-12-31), the budget on 2021-01-15 (the goals owed to
    # the public by 2021-02-04): neither done by 2021-02-10.
    approved_project(ledger, goals_disclosed=False)
    ledger.clock.set(date(2021, 2, 10))  # type: ignore[attr-defined]  # the FakeClock of the fixture
    book = JobBook(database_url)
    scheduler = scheduler_for(settings_for(database_url, tmp_path), ledger, log, "only:1")
    scheduler.start()
    try:
        assert scheduler.wait_until_leader(5)
        assert wait_for(lambda: {"deadlines", "disclosure-deadlines"} <= set(book.runs()), 30)
        runs = book.runs()
        again = [scheduler.jobs.run(name) for name in ("deadlines", "disclosure-deadlines")]
    finally:
        scheduler.stop()
    assert runs["disclosure-deadlines"].last_raised == {"DisclosureDuty.DeadlineMissed": 1}
    assert runs["deadlines"].last_raised == {"Project.DeadlineMissed": 1}
    assert [outcome.raised for outcome in again] == [{}, {}]  # once, however often the jobs run
    notices = [entry for pid in ledger.project_ids() for entry in ledger.history(pid) if entry.principal.is_system]
    assert [(entry.payload["deadline"], entry.payload["due_on"]) for entry in notices] == [
        ("goals_disclosure", date(2021, 2, 4))
    ]
