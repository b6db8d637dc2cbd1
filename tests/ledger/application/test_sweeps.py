"""The time-driven rules on PostgreSQL: found from the log's tail and the watch list, recorded once however they race.

The projects are fiscal year 2021 (monitoring report due 2021-08-15, so warned of on 2021-08-08).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import pytest

from ledger.application import Act, Ledger, Written
from ledger.domain import rules
from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import DomainError
from ledger.domain.values import SYSTEM
from tests.conftest import EDUCATION, FINANCE, FakeClock, act
from tests.credit_codes import code_of
from tests.ledger.application.test_application import approved_project, refused

CREDIT_CODE = "91632800864542843F"  # 统一社会信用代码 (GB 32100), its check characters right

pytestmark = pytest.mark.db


def system_events(url: str, name: str) -> list[tuple[Any, ...]]:
    """Events of type ``name`` recorded by the scheduler: (object, payload identity..., effective_on)."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT originator_id, convert_from(state, 'UTF8')::jsonb ->> 'deadline', "
            "convert_from(state, 'UTF8')::jsonb ->> 'ref', effective_on FROM ledger_events "
            "WHERE principal_role = 'system' AND split_part(topic, ':', 2) = %s ORDER BY leaf_index",
            (name,),
        ).fetchall()


@pytest.fixture
def projects(ledger: Ledger) -> list[UUID]:
    return [approved_project(ledger, code=f"SW-{i:02}") for i in range(3)]


def test_a_sweep_visits_what_changed_or_fell_due_and_nothing_else(
    ledger: Ledger, projects: list[UUID], database_url: str
) -> None:
    first = ledger.sweep("deadlines", date(2021, 8, 1))
    assert (first.visited, first.raised) == (3, {})  # new to the sweep: looked at once, nothing due yet
    assert ledger.sweep("deadlines", date(2021, 8, 1)).visited == 0
    assert ledger.sweep("deadlines", date(2021, 8, 7)).visited == 0  # nothing falls due before 8 August
    warned = ledger.sweep("deadlines", date(2021, 8, 8))
    assert (warned.visited, warned.raised) == (3, {"Project.DeadlineApproaching": 3})
    assert len(warned.positions) == 3
    assert ledger.sweep("deadlines", date(2021, 8, 8)).visited == 0
    ledger.report_monitoring(
        act(EDUCATION, date(2021, 8, 10)), projects[0], month=7, executed="600000.00", indicator_progress={}
    )
    changed = ledger.sweep("deadlines", date(2021, 8, 10))
    assert (changed.visited, changed.raised) == (1, {})  # only the project that changed
    missed = ledger.sweep("deadlines", date(2021, 8, 16))
    assert (missed.visited, missed.raised) == (2, {"Project.DeadlineMissed": 2})
    rows = system_events(database_url, "Project.DeadlineMissed")
    assert sorted(row[0] for row in rows) == sorted(projects[1:])
    assert {row[1:] for row in rows} == {("monitoring_report", "0", date(2021, 8, 16))}
    with psycopg.connect(database_url) as conn:
        leaves = {
            row[0]
            for row in conn.execute(
                "SELECT leaf_index FROM ledger_events WHERE principal_role = 'system' AND topic LIKE '%%DeadlineMissed'"
            ).fetchall()
        }
    assert leaves == set(missed.positions)


def test_every_sweep_runs_idempotently_over_its_own_objects(ledger: Ledger, projects: list[UUID]) -> None:
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)), "某会计师事务所", "执业证书", credit_code=code_of("某会计师事务所")
    )
    ledger.record_misconduct(
        act(FINANCE, date(2021, 3, 1), evidence=["a" * 64]), "某会计师事务所", "falsification", "伪造记录"
    )
    ledger.blacklist_agency(act(FINANCE, date(2021, 3, 5), "评价结果不实"), "某会计师事务所")
    ledger.report_monitoring(
        act(EDUCATION, date(2021, 5, 10)), projects[0], month=4, executed="100000.00", indicator_progress={}
    )
    ledger.require_rectification(
        act(FINANCE, date(2021, 6, 1)), projects[1], ["资金闲置"], "monitoring", date(2021, 6, 30)
    )
    assert ledger.sweep("deviations", date(2021, 5, 11)).raised == {"Project.DeviationDetected": 1}
    day = date(2024, 3, 6)
    reports = {
        name: ledger.sweep(name, day)
        for name in ("deviations", "deadlines", "funding-suspension", "rectifications-overdue", "blacklist-expiry")
    }
    assert reports["deviations"].raised == {}
    assert reports["funding-suspension"].raised == {"Project.FundingSuspended": 1}
    assert reports["rectifications-overdue"].raised == {"Project.RectificationOverdue": 1}
    assert reports["blacklist-expiry"].raised == {"Agency.BlacklistExpired": 1}
    # Past every deadline: each project missed its monitoring report and self-evaluation, and the two above
    # their deviation answer and rectification.
    assert reports["deadlines"].raised == {"Project.DeadlineMissed": 8}
    again = [ledger.sweep(name, day) for name in reports]
    assert [report.raised for report in again] == [{}] * 5
    project = ledger.project(projects[0])
    calendar = ledger.working_days()  # as the log records it
    assert project.deviations[0]["respond_by"] == rules.add_working_days(
        date(2021, 5, 11), 10, calendar.holidays, calendar.working_weekends
    )
    assert ledger.agency("某会计师事务所").blacklistings[0]["ended_how"] == "expired"


def test_two_schedulers_racing_on_one_sweep_record_each_notice_once(ledger: Ledger, database_url: str) -> None:
    pids = [approved_project(ledger, code=f"R-{i:02}") for i in range(24)]
    other = Ledger(database_url, clock=ledger.clock)
    barrier = threading.Barrier(2)
    reports: list[Any] = []

    def run(app: Ledger) -> None:
        barrier.wait()
        reports.append(app.sweep("deadlines", date(2021, 8, 8)))

    try:
        threads = [threading.Thread(target=run, args=(app,)) for app in (ledger, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    assert sum(report.raised.get("Project.DeadlineApproaching", 0) for report in reports) == len(pids)
    rows = system_events(database_url, "Project.DeadlineApproaching")
    assert Counter(row[0] for row in rows) == Counter(pids)


def test_a_lost_race_is_checked_again_on_what_the_winner_recorded(ledger: Ledger, database_url: str) -> None:
    """The other scheduler saves its notice between this one's decision and its save: a version conflict,
    swallowed; the reloaded project already has the notice, so nothing more is recorded."""
    pid = approved_project(ledger)
    winner = Ledger(database_url, clock=ledger.clock)
    save = ledger.commit
    interleaved: list[Written | None] = []

    def save_after_the_winner(*aggregates: LedgerAggregate, act: Act | None = None) -> Written:
        if not interleaved:
            interleaved.append(winner.raise_deadline_notices(pid, date(2021, 8, 8)))
        return save(*aggregates, act=act)

    ledger.commit = save_after_the_winner  # type: ignore[method-assign]
    try:
        report = ledger.sweep("deadlines", date(2021, 8, 8))
    finally:
        winner.close()
    assert interleaved[0] is not None, "the winner recorded the notice"
    assert (report.raised, report.conflicts) == ({}, 1)
    assert len(system_events(database_url, "Project.DeadlineApproaching")) == 1
    assert ledger.project(pid).version == interleaved[0].version


def test_adopting_a_ruleset_has_every_object_looked_at_again(ledger: Ledger, projects: list[UUID]) -> None:
    assert ledger.sweep("deadlines", date(2021, 7, 31)).raised == {}
    earlier = {**rules.DEFAULT_PARAMETERS.to_dict(), "deadline_warning_days": 20}
    ledger.adopt_ruleset(act(FINANCE, date(2021, 7, 31), "提前提醒"), 2, earlier)
    report = ledger.sweep("deadlines", date(2021, 7, 31))
    assert (report.visited, report.raised) == (3, {"Project.DeadlineApproaching": 3})


def test_deadline_notices_are_raised_only_by_the_scheduler(ledger: Ledger, projects: list[UUID]) -> None:
    refused(ledger, "role-not-allowed", lambda: ledger.raise_deadline_notices(projects[0], date(2021, 8, 8), FINANCE))
    written = ledger.raise_deadline_notices(projects[0], date(2021, 8, 8))
    assert written is not None
    assert ledger.history(projects[0])[-1].principal == SYSTEM
    assert ledger.raise_deadline_notices(projects[0], date(2021, 8, 9)) is None


def test_an_unknown_sweep_is_refused(ledger: Ledger) -> None:
    with pytest.raises(DomainError) as caught:
        ledger.sweep("nonsense")
    assert caught.value.field == "sweep"


@pytest.fixture
def shanghai_ledger(database_url: str) -> Iterator[tuple[Ledger, FakeClock]]:
    clock = FakeClock(datetime(2021, 8, 7, 17, 0, tzinfo=UTC))  # 01:00 on 8 August in Shanghai
    app = Ledger(
        database_url,
        clock=clock,
        timezone=ZoneInfo("Asia/Shanghai"),
        holidays=[date(2021, 10, 1), date(2021, 10, 4)],
        working_weekends=[date(2021, 10, 9)],
    )
    app.bootstrap()
    try:
        yield app, clock
    finally:
        app.close()


def test_business_dates_are_the_bureaus_own(shanghai_ledger: tuple[Ledger, FakeClock]) -> None:
    ledger, clock = shanghai_ledger
    pid = approved_project(ledger)
    assert ledger.today() == date(2021, 8, 8)
    assert ledger.sweep("deadlines").raised == {"Project.DeadlineApproaching": 1}
    clock.now = datetime(2021, 9, 28, 2, 0, tzinfo=UTC)  # 10:00 on 28 September in Shanghai: the report is filed
    ledger.report_monitoring(
        act(EDUCATION, date(2021, 9, 28)), pid, month=8, executed="100000.00", indicator_progress={}
    )
    clock.now = datetime(2021, 9, 28, 16, 30, tzinfo=UTC)  # 00:30 on 29 September in Shanghai
    assert ledger.sweep("deviations").raised == {"Project.DeviationDetected": 1}
    # Ten working days from 29 September, on the State Council's 2021 calendar: 30 Sep, then 1-7 Oct off (国庆节),
    # 8 Oct, 9 Oct (a Saturday, 调休) worked, 11-15 and 18-19 Oct.
    assert ledger.project(pid).deviations[0]["respond_by"] == date(2021, 10, 19)
