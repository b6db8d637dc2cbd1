"""Unit tests for ledger.domain.rules.dates: the yearly due dates, working days and a blacklisting's end."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.dates import (
    add_working_days,
    blacklist_until,
    congress_goals_due,
    congress_results_due,
    decision_rectification_due,
    due_in_year,
    goal_submission_due,
    goals_disclosure_due,
    monitoring_report_due,
    results_disclosure_due,
    self_evaluation_due,
)
from tests.ledger.domain.rules.support import P

# ---------------------------------------------------------------------------
# Deadlines 时限
# ---------------------------------------------------------------------------


def test_cycle_deadlines() -> None:
    assert goal_submission_due(2021, P) == date(2020, 10, 31)
    assert monitoring_report_due(2021, P) == date(2021, 8, 15)
    assert self_evaluation_due(2021, P) == date(2022, 3, 31)


def test_the_cycle_deadlines_are_the_rulesets_days() -> None:
    """Each yearly due date is read from the ruleset: change the parameter, the date changes."""
    params = dataclasses.replace(
        P, goal_submission_due=(0, 1, 20), monitoring_report_due=(1, 1, 10), self_evaluation_due=(2, 2, 28)
    )
    assert goal_submission_due(2021, params) == date(2021, 1, 20)
    assert monitoring_report_due(2021, params) == date(2022, 1, 10)
    assert self_evaluation_due(2021, params) == date(2023, 2, 28)


def test_the_people_s_congress_dates_and_the_disclosure_periods() -> None:
    assert congress_goals_due(2021, P) == date(2020, 12, 31)
    assert congress_results_due(2021, P) == date(2022, 6, 30)
    assert goals_disclosure_due(date(2021, 1, 15), P) == date(2021, 2, 4)  # 20 days: 预算法 第十四条
    assert results_disclosure_due(date(2022, 5, 31), P) == date(2022, 6, 20)
    params = dataclasses.replace(
        P,
        congress_goals_due=(0, 2, 1),
        congress_results_due=(2, 1, 5),
        goals_disclosure_days=5,
        results_disclosure_days=40,
    )
    assert congress_goals_due(2021, params) == date(2021, 2, 1)
    assert congress_results_due(2021, params) == date(2023, 1, 5)
    assert goals_disclosure_due(date(2021, 1, 15), params) == date(2021, 1, 20)
    assert results_disclosure_due(date(2022, 5, 31), params) == date(2022, 7, 10)


def test_a_rectification_is_reported_the_ruleset_s_days_after_the_decision() -> None:
    """约谈 / 通报批评: the department reports its rectification within decision_rectification_days (30) of it."""
    assert decision_rectification_due(date(2021, 3, 10), P) == date(2021, 4, 9)
    assert decision_rectification_due(date(2021, 12, 15), P) == date(2022, 1, 14)  # into the next year
    params = dataclasses.replace(P, decision_rectification_days=7)
    assert decision_rectification_due(date(2021, 3, 10), params) == date(2021, 3, 17)


def test_a_day_relative_to_the_fiscal_year() -> None:
    assert due_in_year(2000, (-1, 12, 31)) == date(1999, 12, 31)
    assert due_in_year(2024, (0, 2, 28)) == date(2024, 2, 28)
    with pytest.raises(InvalidInput):
        due_in_year(2101, (0, 1, 1))


def test_deadlines_refuse_implausible_year() -> None:
    with pytest.raises(InvalidInput):
        self_evaluation_due(1999, P)


def test_working_days_across_a_weekend() -> None:
    friday = date(2021, 9, 3)
    assert add_working_days(friday, 1) == date(2021, 9, 6)  # Monday
    assert add_working_days(friday, 10) == date(2021, 9, 17)
    assert add_working_days(date(2021, 9, 4), 1) == date(2021, 9, 6)  # from a Saturday


def test_working_days_skip_configured_holidays() -> None:
    national_day = [date(2021, 10, d) for d in range(1, 8)]
    # Thursday 30 Sep + 1 working day: 1-7 Oct are holidays (weekend included) -> Friday 8 Oct.
    assert add_working_days(date(2021, 9, 30), 1, national_day) == date(2021, 10, 8)
    assert add_working_days(date(2021, 9, 30), 10, national_day) == date(2021, 10, 21)
    assert add_working_days(date(2021, 9, 3), 1, {date(2021, 9, 6)}) == date(2021, 9, 7)


def test_zero_working_days_is_the_start() -> None:
    assert add_working_days(date(2021, 9, 4), 0) == date(2021, 9, 4)


def test_working_days_refuse_negative() -> None:
    with pytest.raises(InvalidInput):
        add_working_days(date(2021, 9, 3), -1)


# 2021 National Day as the State Council set it: 1-7 October off, Sunday 26 September and Saturday 9 October worked.
NATIONAL_DAY_2021 = [date(2021, 10, d) for d in range(1, 8)]
WORKED_WEEKENDS_2021 = [date(2021, 9, 26), date(2021, 10, 9)]


def test_working_days_count_a_worked_weekend_day() -> None:
    # Friday 24 Sep: the next working day is the worked Sunday 26 Sep, not Monday 27.
    assert add_working_days(date(2021, 9, 24), 1, NATIONAL_DAY_2021, WORKED_WEEKENDS_2021) == date(2021, 9, 26)
    # Thursday 30 Sep + 1: 1-7 Oct off -> Friday 8; + 2 -> the worked Saturday 9 Oct.
    assert add_working_days(date(2021, 9, 30), 1, NATIONAL_DAY_2021, WORKED_WEEKENDS_2021) == date(2021, 10, 8)
    assert add_working_days(date(2021, 9, 30), 2, NATIONAL_DAY_2021, WORKED_WEEKENDS_2021) == date(2021, 10, 9)
    # The ten working days a deviation allows, detected on 24 Sep: 26, 27, 28, 29, 30 Sep, 8, 9, 11, 12, 13 Oct.
    assert add_working_days(date(2021, 9, 24), 10, NATIONAL_DAY_2021, WORKED_WEEKENDS_2021) == date(2021, 10, 13)
    assert add_working_days(date(2021, 9, 24), 10, NATIONAL_DAY_2021) == date(2021, 10, 15)


def test_a_holiday_on_a_weekend_is_skipped_once() -> None:
    # Saturday 2 and Sunday 3 Oct are both weekend and holiday: the count is the same as with weekdays alone.
    assert add_working_days(date(2021, 10, 1), 1, [date(2021, 10, 2), date(2021, 10, 3)]) == date(2021, 10, 4)
    assert add_working_days(date(2021, 10, 1), 1) == date(2021, 10, 4)


def test_working_days_from_a_holiday_start_on_the_next_working_day() -> None:
    assert add_working_days(date(2021, 10, 1), 1, NATIONAL_DAY_2021) == date(2021, 10, 8)
    assert add_working_days(date(2021, 10, 1), 0, NATIONAL_DAY_2021) == date(2021, 10, 1)


def _is_working(day: date, holidays: set[date], worked: set[date]) -> bool:
    return day not in holidays and (day.weekday() < 5 or day in worked)


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2022, 12, 31)),
    days=st.integers(min_value=0, max_value=40),
    holidays=st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2023, 3, 31)), max_size=30),
    worked=st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2023, 3, 31)), max_size=10),
)
@settings(max_examples=300)
def test_working_days_land_on_the_nth_working_day_after_the_start(
    start: date, days: int, holidays: set[date], worked: set[date]
) -> None:
    end = add_working_days(start, days, holidays, worked)
    between = [start + timedelta(days=n) for n in range(1, (end - start).days + 1)]
    assert sum(_is_working(day, holidays, worked) for day in between) == days
    assert days == 0 or _is_working(end, holidays, worked)


def test_blacklist_until() -> None:
    assert blacklist_until(date(2021, 6, 30), P) == date(2024, 6, 30)
    assert blacklist_until(date(2020, 2, 29), P) == date(2023, 2, 28)
    assert blacklist_until(date(2020, 2, 29), dataclasses.replace(P, blacklist_years=4)) == date(2024, 2, 29)
