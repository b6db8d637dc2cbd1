"""The working-day calendar (工作日历) as an aggregate: each year checked when it is recorded, a recorded year changed
only by an amendment with a reason, the deployment's settings applied as additions, and the days a decision counts on.

No database: the aggregate is driven directly (the use cases and the package:
tests/ledger/application/test_calendar.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from ledger.domain.calendar import (
    FINANCE_SOURCE,
    SETTINGS_HOLIDAY,
    SETTINGS_WORKING_WEEKEND,
    WORKING_CALENDAR_ID,
    CalendarSettings,
    CalendarYear,
    WorkingCalendar,
    calendar_year,
)
from ledger.domain.errors import DomainError
from ledger.domain.rules import add_working_days
from ledger.domain.values import SYSTEM, Attribution, Principal
from ledger.store.transcodings import ledger_mapper

FINANCE = Principal("fin-01", "finance", "市财政局")

# 2025 国庆节 and 中秋节 as the State Council arranged them: 1-8 October off, Sunday 28 September and Saturday
# 11 October worked.
NATIONAL_DAY_2025 = {date(2025, 10, day): "国庆节" for day in (1, 2, 3, 4, 5, 7, 8)} | {date(2025, 10, 6): "中秋节"}
WORKED_2025 = {date(2025, 9, 28): "国庆节", date(2025, 10, 11): "国庆节"}


def year_2025(**changes: Any) -> CalendarYear:
    return calendar_year(
        changes.get("year", 2025),
        changes.get("holidays", NATIONAL_DAY_2025),
        changes.get("working_weekends", WORKED_2025),
        "国务院办公厅2025年部分节假日安排（test）",
    )


def year_2024() -> CalendarYear:
    return calendar_year(2024, {date(2024, 10, 1): "国庆节"}, {date(2024, 9, 29): "国庆节"}, "test")


def established() -> WorkingCalendar:
    calendar = WorkingCalendar.establish([year_2025(), year_2024()], SYSTEM, date(2025, 1, 2), "first start")
    calendar.collect_events()
    return calendar


def refusal(command: Callable[[], object], calendar: WorkingCalendar | None = None) -> DomainError:
    version = calendar.version if calendar is not None else None
    with pytest.raises(DomainError) as caught:
        command()
    if calendar is not None:
        assert calendar.version == version, "a refused command recorded something"
        assert not calendar.pending_events, "a refused command recorded something"
    return caught.value


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"year": 1998}, "invalid-date", "year"),
        ({"year": True}, "invalid-date", "year"),
        ({"holidays": {date(2026, 1, 1): "元旦"}}, "calendar-date-outside-year", "holidays"),
        ({"working_weekends": {date(2024, 12, 28): "元旦"}}, "calendar-date-outside-year", "working_weekends"),
        ({"working_weekends": {date(2025, 9, 29): "国庆节"}}, "working-weekend-not-weekend", "working_weekends"),
        (
            {"holidays": {date(2025, 9, 28): "国庆节"}, "working_weekends": WORKED_2025},
            "calendar-day-conflict",
            "working_weekends",
        ),
        ({"holidays": {date(2025, 10, 1): "国" * 65}}, "text-too-long", "holidays.2025-10-01"),
    ],
)
def test_a_year_is_refused_with_a_bad_day(changes: dict[str, Any], code: str, field: str) -> None:
    error = refusal(lambda: year_2025(**changes))
    assert (error.code, error.field) == (code, field)


def test_a_year_keeps_its_days_by_iso_date_with_their_names_in_order() -> None:
    year = year_2025(holidays={date(2025, 10, 8): "国庆节", date(2025, 1, 1): "元旦"})
    assert list(year.holidays) == ["2025-01-01", "2025-10-08"]
    assert year.holiday_dates == {date(2025, 1, 1), date(2025, 10, 8)}
    assert year.working_weekend_dates == set(WORKED_2025)


def test_settings_add_days_and_override_the_notice_only_in_their_year() -> None:
    notice = year_2025()
    settings = CalendarSettings(
        holidays=frozenset({date(2025, 3, 3), date(2025, 10, 11), date(2024, 3, 4)}),  # 10-11: the notice works it
        working_weekends=frozenset({date(2025, 10, 4)}),  # a Saturday inside the holiday, worked here
    )
    applied = settings.apply(notice)
    assert applied.holidays["2025-03-03"] == SETTINGS_HOLIDAY
    assert applied.holidays["2025-10-11"] == SETTINGS_HOLIDAY
    assert "2025-10-11" not in applied.working_weekends
    assert applied.working_weekends["2025-10-04"] == SETTINGS_WORKING_WEEKEND
    assert "2025-10-04" not in applied.holidays
    assert "2024-03-04" not in applied.holidays
    assert applied.source.startswith(notice.source)
    assert "JIXIAO_HOLIDAYS" in applied.source
    assert CalendarSettings(frozenset({date(2025, 10, 1)})).apply(notice) is notice  # nothing to change
    assert CalendarSettings().apply(notice) is notice
    assert settings.years() == {2024, 2025}


def test_established_by_the_system_with_every_year_and_counted_on() -> None:
    calendar = WorkingCalendar.establish([year_2025(), year_2024()], SYSTEM, date(2025, 1, 2), "first start")
    (event,) = calendar.collect_events()
    assert isinstance(event, WorkingCalendar.Established)
    assert calendar.id == WORKING_CALENDAR_ID
    assert [year.year for year in event.years] == [2024, 2025]
    assert event.principal == SYSTEM
    days = calendar.working_days()
    assert days.version == 1
    assert days.holidays == set(NATIONAL_DAY_2025) | {date(2024, 10, 1)}
    assert days.working_weekends == set(WORKED_2025) | {date(2024, 9, 29)}
    assert days.years == (2024, 2025)
    assert days.covers(date(2025, 5, 1))
    assert not days.covers(date(2026, 5, 1))
    # Friday 26 September 2025 + 10 working days: Sun 28 Sep (调休), 29-30 Sep, 9-10 Oct, Sat 11 Oct (调休), 13-16 Oct.
    assert add_working_days(date(2025, 9, 26), 10, days.holidays, days.working_weekends) == date(2025, 10, 16)


def test_years_the_log_lacks_are_added_and_a_recorded_year_never_changed_so() -> None:
    calendar = established()
    by = Attribution(SYSTEM, date(2025, 11, 10), "chinesecalendar 9.9 knows 2026")
    year_2026 = calendar_year(2026, {date(2026, 1, 1): "元旦"}, {date(2026, 1, 4): "元旦"}, "test")
    error = refusal(lambda: calendar.add_years([year_2026, year_2025(holidays={})], by), calendar)
    assert error.code == "calendar-year-recorded"
    assert calendar.year(2025) == year_2025()
    assert refusal(lambda: calendar.add_years([year_2026, year_2026], by), calendar).code == "calendar-year-recorded"
    assert refusal(lambda: calendar.add_years([], by), calendar).code == "invalid-value"
    calendar.add_years([year_2026], by)
    (event,) = calendar.collect_events()
    assert isinstance(event, WorkingCalendar.YearsAdded)
    assert calendar.year(2026) == year_2026
    assert calendar.working_days().version == 2


def test_finance_amends_a_year_with_a_reason_and_an_unchanged_or_bad_year_is_refused() -> None:
    calendar = established()
    local = {**NATIONAL_DAY_2025, date(2025, 3, 3): "藏历新年"}
    without_reason = Attribution(FINANCE, date(2025, 2, 1), "  ")
    assert refusal(lambda: calendar.amend_year(2025, local, WORKED_2025, without_reason), calendar).code == (
        "reason-required"
    )
    by = Attribution(FINANCE, date(2025, 2, 1), "州人民政府通知：藏历新年放假一天")
    unchanged = refusal(lambda: calendar.amend_year(2025, NATIONAL_DAY_2025, WORKED_2025, by), calendar)
    assert unchanged.code == "calendar-unchanged"
    both = {date(2025, 9, 28): "调休"}
    assert refusal(lambda: calendar.amend_year(2025, local | both, both, by), calendar).code == "calendar-day-conflict"
    outside = {date(2026, 2, 17): "春节"}
    assert refusal(lambda: calendar.amend_year(2025, outside, {}, by), calendar).code == "calendar-date-outside-year"
    calendar.amend_year(2025, local, WORKED_2025, by)
    (event,) = calendar.collect_events()
    assert isinstance(event, WorkingCalendar.YearAmended)
    assert (event.principal, event.reason) == (FINANCE, by.reason)
    assert calendar.year(2025).source == FINANCE_SOURCE
    assert date(2025, 3, 3) in calendar.working_days().holidays
    calendar.amend_year(2030, {date(2030, 1, 1): "元旦"}, {}, by)  # a year no package knows yet
    assert calendar.year(2030).holidays == {"2030-01-01": "元旦"}


def test_a_year_not_recorded_is_not_found() -> None:
    assert refusal(lambda: established().year(2019)).code == "calendar-year-not-found"


def test_the_events_round_trip_through_the_log_encoding() -> None:
    """As the recorder stores them (the years as ``calendar_year`` objects) and replays them."""
    calendar = WorkingCalendar.establish([year_2025()], SYSTEM, date(2025, 1, 2), "first start")
    calendar.amend_year(2025, NATIONAL_DAY_2025, {}, Attribution(FINANCE, date(2025, 2, 1), "更正"))
    mapper = ledger_mapper()
    stored = [mapper.to_stored_event(event) for event in calendar.collect_events()]
    assert b'"_type_":"calendar_year"' in stored[0].state.replace(b" ", b"")
    replayed: WorkingCalendar | None = None
    for record in stored:
        event = mapper.to_domain_event(record)
        replayed = event.mutate(replayed)  # type: ignore[attr-defined]
    assert replayed is not None
    assert replayed.years == calendar.years
    assert replayed.working_days() == calendar.working_days()
