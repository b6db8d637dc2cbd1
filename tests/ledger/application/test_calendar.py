"""The working-day calendar in the log, on PostgreSQL: recorded at the first start from the State Council's notices
(the ``chinesecalendar`` package), years added by a newer package, a recorded year changed only by finance — and
deadlines counted on the calendar as the log records it, whatever the settings say later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from ledger.application import Ledger
from ledger.application.calendar import state_council_calendar
from ledger.domain.calendar import WORKING_CALENDAR_ID, CalendarSource, WorkingCalendar, calendar_year
from ledger.domain.organisations import department_id
from ledger.domain.project import project_id
from ledger.domain.rules import add_working_days
from ledger.domain.values import SYSTEM, Role
from tests.conftest import EDUCATION, FINANCE, TEST_KEY, FakeClock, act
from tests.ledger.application.test_application import GOALS, refused
from tests.ledger.domain.overall_support import overall_indicators

NATIONAL_DAY_2025 = [date(2025, 10, day) for day in range(1, 9)]
WORKED_AROUND_IT = [date(2025, 9, 28), date(2025, 10, 11)]  # a Sunday and a Saturday (调休上班)


def test_the_package_carries_the_state_council_notices() -> None:
    """What chinesecalendar 1.11 knows: 2004 to 2026, each year's days off and 调休 days worked, as the notices say."""
    source = state_council_calendar()
    assert source.name.startswith("chinesecalendar ")
    assert set(range(2004, 2027)) <= set(source.years)
    year = source.years[2025]
    spring_festival = {f"2025-{day}" for day in ("01-28", "01-29", "01-30", "01-31", "02-01", "02-02", "02-03")}
    assert spring_festival | {"2025-02-04"} <= set(year.holidays)
    assert {year.holidays[day] for day in spring_festival} == {"春节"}
    assert set(NATIONAL_DAY_2025) <= year.holiday_dates
    assert year.holidays["2025-10-06"] == "中秋"  # the package's names: 元旦 春节 清明 劳动节 端午 中秋 国庆节
    assert year.working_weekends == {
        "2025-01-26": "春节",
        "2025-02-08": "春节",
        "2025-04-27": "劳动节",
        "2025-09-28": "国庆节",
        "2025-10-11": "国庆节",
    }
    for known in source.years.values():  # every worked day a weekend day, none also off
        assert all(day.weekday() >= 5 for day in known.working_weekend_dates), known.year
        assert not known.holiday_dates & known.working_weekend_dates, known.year
    assert {"2026-02-14", "2026-02-28"} <= set(source.years[2026].working_weekends)  # 春节 2026's two Saturdays


pytestmark = pytest.mark.db


def amend_and_add_a_year(ledger: Ledger) -> None:
    """What bootstrap does not record: finance's amendment (2022: a local holiday on 13 July) and a year a newer
    package adds at a later start."""
    year = ledger.working_calendar().year(2022)
    local = {**year.days_off(), date(2022, 7, 13): "地方假日"}
    ledger.amend_calendar_year(act(FINANCE, date(2022, 7, 13), "州政府通知"), 2022, local, year.days_worked())
    new_year = calendar_year(2030, {date(2030, 1, 1): "元旦"}, {}, "国务院办公厅2030年部分节假日安排（test 9.9.9）")
    ledger.calendar_source = CalendarSource("test 9.9.9", {**state_council_calendar().years, 2030: new_year})
    assert ledger.record_calendar() == [2030]


@contextmanager
def started(url: str, clock: FakeClock, **options: Any) -> Iterator[Ledger]:
    """The ledger as a service start opens it: constructed, then bootstrapped."""
    ledger = Ledger(url, clock=clock, signing_key=TEST_KEY, **options)
    ledger.bootstrap()
    try:
        yield ledger
    finally:
        ledger.close()


def project_2025(ledger: Ledger, code: str = "NY-25") -> UUID:
    """A fiscal-year 2025 project with its budget approved, reported on through August at 10% executed."""
    if not ledger.exists(department_id("教育局")):
        ledger.register_department(act(FINANCE, date(2024, 8, 1)), "教育局")
        ledger.submit_overall_goals(act(EDUCATION, date(2024, 10, 1)), "教育局", 2025, overall_indicators())
        ledger.review_overall_goals(act(FINANCE, date(2024, 10, 20)), "教育局", 2025, "优")  # no budget without them
    ledger.declare_project(
        act(EDUCATION, date(2024, 9, 1)),
        code=code,
        name="营养改善计划",
        kind="project",
        department="教育局",
        fiscal_year_=2025,
        budget_book="general_public",
        special_category=None,
        requested="1000000.00",
        new_major=False,
    )
    pid = project_id(2025, code)
    ledger.admit_project(act(FINANCE, date(2024, 9, 30)), pid)
    ledger.submit_goals(act(EDUCATION, date(2024, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(2024, 11, 5)), pid, "优")
    ledger.approve_budget(act(FINANCE, date(2025, 1, 15)), pid, "1000000.00")
    ledger.report_monitoring(
        act(EDUCATION, date(2025, 9, 15)), pid, month=8, executed="100000.00", indicator_progress={}
    )
    return pid


def deviation_deadline(ledger: Ledger, pid: UUID, on: date = date(2025, 9, 26)) -> date:
    """Finance reviews the August report on ``on``: the deviation it records is to be answered by this day."""
    ledger.review_monitoring(act(FINANCE, on), pid, month=8, opinion="执行进度滞后")
    (deviation,) = ledger.project(pid).deviations
    respond_by: date = deviation["respond_by"]
    return respond_by


@pytest.fixture
def late_clock(clock: FakeClock) -> FakeClock:
    clock.set(date(2025, 11, 3))
    return clock


def test_the_first_start_records_every_year_of_the_package_as_one_event_by_the_system(
    database_url: str, late_clock: FakeClock
) -> None:
    with started(database_url, late_clock) as ledger:
        (established,) = ledger.history(WORKING_CALENDAR_ID)
        calendar = ledger.working_calendar()
    assert established.event_type == "WorkingCalendar.Established"
    assert established.principal == SYSTEM
    assert "chinesecalendar 1.11" in established.reason
    assert calendar.years == {str(year): known for year, known in state_council_calendar().years.items()}


def test_a_deviation_deadline_skips_national_day_2025_and_counts_its_working_weekends(
    database_url: str, late_clock: FakeClock
) -> None:
    """Friday 26 September + 10 working days: Sun 28 Sep (调休), 29 and 30 Sep, 1-8 Oct off (国庆节, 中秋节), 9 and 10
    Oct, Sat 11 Oct (调休), 13 to 16 Oct. Weekends alone would give 10 Oct; holidays without 调休, 20 Oct."""
    with started(database_url, late_clock) as ledger:
        pid = project_2025(ledger)
        assert deviation_deadline(ledger, pid) == date(2025, 10, 16)
        assert add_working_days(date(2025, 9, 26), 10) == date(2025, 10, 10)
        assert add_working_days(date(2025, 9, 26), 10, NATIONAL_DAY_2025) == date(2025, 10, 20)
        (detected,) = [entry for entry in ledger.history(pid) if entry.event_type == "Project.DeviationDetected"]
        assert detected.payload["calendar_version"] == ledger.working_calendar().version == 1


def test_the_scheduled_detection_counts_on_the_recorded_calendar_too(database_url: str, late_clock: FakeClock) -> None:
    with started(database_url, late_clock) as ledger:
        pid = project_2025(ledger)
        assert ledger.detect_deviation(pid, date(2025, 9, 26)) is not None
        assert ledger.project(pid).deviations[0]["respond_by"] == date(2025, 10, 16)


def test_settings_changed_after_the_first_start_change_no_deadline_and_are_reported(
    database_url: str, late_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with started(database_url, late_clock) as ledger:
        head = ledger.head()
        assert ledger.calendar_check().differs == {}
    # The operator now declares 29 and 30 September off and 11 October not worked (as a holiday).
    changed = {"holidays": [date(2025, 9, 29), date(2025, 9, 30), date(2025, 10, 11)]}
    with (
        caplog.at_level(logging.WARNING, logger="ledger.application.calendar"),
        started(database_url, late_clock, **changed) as ledger,
    ):
        assert ledger.head() == head, "a start recorded something"
        assert ledger.working_calendar().version == 1
        pid = project_2025(ledger)
        assert deviation_deadline(ledger, pid) == date(2025, 10, 16)
        check = ledger.calendar_check()
    assert check.differs == {
        2025: {
            "holidays_only_in_source": ["2025-09-29", "2025-09-30", "2025-10-11"],
            "working_weekends_only_in_log": ["2025-10-11"],
        }
    }
    assert any("2025" in record.getMessage() and "differs" in record.getMessage() for record in caplog.records)


def test_settings_at_the_first_start_are_applied_and_named(database_url: str, late_clock: FakeClock) -> None:
    with started(
        database_url, late_clock, holidays=[date(2025, 9, 29)], working_weekends=[date(2025, 10, 4)]
    ) as ledger:
        year = ledger.working_calendar().year(2025)
        assert "JIXIAO_HOLIDAYS" in year.source
        assert "2025-09-29" in year.holidays
        assert "2025-10-04" in year.working_weekends
        assert "2025-10-04" not in year.holidays
        assert ledger.calendar_check().differs == {}  # the same settings: nothing to report
        # 28 Sep (Sun, 调休), 30 Sep, 4 Oct (Sat, worked here), 9-11 Oct, 13-16 Oct.
        assert deviation_deadline(ledger, project_2025(ledger)) == date(2025, 10, 16)


def test_a_newer_package_adds_the_years_the_log_lacks_and_changes_none_it_holds(
    database_url: str, late_clock: FakeClock
) -> None:
    package = state_council_calendar().years
    older = CalendarSource("chinesecalendar 1.10.0", {year: package[year] for year in (2024, 2025)})
    with started(database_url, late_clock, calendar_source=older) as ledger:
        assert sorted(ledger.working_calendar().years) == ["2024", "2025"]
    # The newer package also knows 2026, and (say) has 2025 otherwise: the log adds 2026 and keeps its 2025.
    no_national_day = {day: name for day, name in package[2025].days_off().items() if day.month != 10}
    no_make_up = {day: name for day, name in package[2025].days_worked().items() if day.month not in (9, 10)}
    other_2025 = calendar_year(2025, no_national_day, no_make_up, "test")
    newer = CalendarSource("chinesecalendar 9.9.9", {2024: package[2024], 2025: other_2025, 2026: package[2026]})
    with started(database_url, late_clock, calendar_source=newer) as ledger:
        history = ledger.history(WORKING_CALENDAR_ID)
        calendar = ledger.working_calendar()
        check = ledger.calendar_check()
        assert deviation_deadline(ledger, project_2025(ledger)) == date(2025, 10, 16)
    assert [entry.event_type for entry in history] == ["WorkingCalendar.Established", "WorkingCalendar.YearsAdded"]
    added = history[1]
    assert added.principal == SYSTEM
    assert "chinesecalendar 9.9.9" in added.reason
    assert [year.year for year in added.payload["years"]] == [2026]
    assert calendar.year(2026) == package[2026]
    assert calendar.year(2025) == package[2025]
    assert list(check.differs) == [2025]
    assert check.differs[2025] == {
        "holidays_only_in_log": [day.isoformat() for day in NATIONAL_DAY_2025],
        "working_weekends_only_in_log": ["2025-09-28", "2025-10-11"],
    }
    with started(database_url, late_clock, calendar_source=newer) as ledger:
        assert len(ledger.history(WORKING_CALENDAR_ID)) == 2, "the next start recorded 2026 again"


def test_finance_amends_a_year_with_a_reason_and_only_later_deadlines_follow(
    database_url: str, late_clock: FakeClock
) -> None:
    with started(database_url, late_clock) as ledger:
        first = project_2025(ledger, "NY-25")
        assert deviation_deadline(ledger, first) == date(2025, 10, 16)
        year = ledger.working_calendar().year(2025)
        off, worked = year.days_off(), year.days_worked()
        local = off | {date(2025, 9, 29): "地方假日"}
        on = date(2025, 9, 27)
        refused(
            ledger,
            "role-not-allowed",
            lambda: ledger.amend_calendar_year(act(EDUCATION, on, "放假"), 2025, local, worked),
        )
        refused(ledger, "reason-required", lambda: ledger.amend_calendar_year(act(FINANCE, on), 2025, local, worked))
        refused(
            ledger,
            "calendar-unchanged",
            lambda: ledger.amend_calendar_year(act(FINANCE, on, "重复"), 2025, off, worked),
        )
        written = ledger.amend_calendar_year(act(FINANCE, on, "州政府通知：9月29日放假"), 2025, local, worked)
        assert written.version == 2
        second = project_2025(ledger, "NY-26")
        assert deviation_deadline(ledger, second) == date(2025, 10, 17)  # 29 September off now
        assert ledger.project(first).deviations[0]["respond_by"] == date(2025, 10, 16)  # decided: as it was
        amended = ledger.history(WORKING_CALENDAR_ID)[-1]
        assert (amended.event_type, amended.principal.role) == ("WorkingCalendar.YearAmended", Role.FINANCE)
        assert ledger.calendar_check().differs == {2025: {"holidays_only_in_log": ["2025-09-29"]}}
        (detected,) = [entry for entry in ledger.history(second) if entry.event_type == "Project.DeviationDetected"]
        assert detected.payload["calendar_version"] == 2


def test_a_year_within_a_deadlines_reach_that_the_log_lacks_is_reported(
    database_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    known = {year: days for year, days in state_council_calendar().years.items() if year <= 2026}  # as 1.11 knows
    source = CalendarSource("chinesecalendar 1.11.0", known)
    clock.set(date(2026, 11, 30))  # a deadline counted today ends in 2026
    with (
        caplog.at_level(logging.WARNING, logger="ledger.application.calendar"),
        started(database_url, clock, calendar_source=source) as ledger,
    ):
        assert ledger.calendar_check().missing == ()
        assert not caplog.records
        clock.set(date(2026, 12, 5))  # now one may end in January 2027
        assert ledger.calendar_check().missing == (2027,)
    with (
        caplog.at_level(logging.WARNING, logger="ledger.application.calendar"),
        started(database_url, clock, calendar_source=source),
    ):
        assert any("2027" in record.getMessage() for record in caplog.records)


def test_an_auditor_recounts_each_deadline_on_the_calendar_version_it_records(
    database_url: str, late_clock: FakeClock
) -> None:
    """The README's check: a DeviationDetected names its calendar's version; the calendar as of that version, with
    the rule's working days from the event's business date, gives its respond_by — before and after an amendment."""
    with started(database_url, late_clock) as ledger:
        first = project_2025(ledger, "NY-25")
        deviation_deadline(ledger, first)
        year = ledger.working_calendar().year(2025)
        local = {**year.days_off(), date(2025, 9, 29): "地方假日", date(2025, 9, 30): "地方假日"}
        ledger.amend_calendar_year(act(FINANCE, date(2025, 9, 27), "州政府通知"), 2025, local, year.days_worked())
        second = project_2025(ledger, "NY-26")
        deviation_deadline(ledger, second)
        days = ledger.ruleset().parameters().deviation_response_working_days
        recounted = []
        for pid in (first, second):
            (event,) = [entry for entry in ledger.history(pid) if entry.event_type == "Project.DeviationDetected"]
            calendar = ledger.object(WORKING_CALENDAR_ID, event.payload["calendar_version"])
            assert isinstance(calendar, WorkingCalendar)
            counted = calendar.working_days()
            assert event.effective_on is not None
            recount = add_working_days(event.effective_on, days, counted.holidays, counted.working_weekends)
            assert recount == event.payload["respond_by"]
            recounted.append(recount)
    assert recounted == [date(2025, 10, 16), date(2025, 10, 20)]
