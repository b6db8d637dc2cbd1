"""The department's to-do list counts working days left as the calendar does, day by day."""

from __future__ import annotations

import random
from datetime import date, timedelta

from api.console.home import working_days_until
from ledger.domain.calendar import WorkingDays


def day_by_day(today: date, due: date, calendar: WorkingDays) -> int:
    """The working days after ``today`` up to ``due``; once past, minus those after ``due`` up to today."""
    if due < today:
        return -day_by_day(due, today, calendar)
    count, day = 0, today
    while day != due:
        day += timedelta(days=1)
        if day not in calendar.holidays and (day.weekday() < 5 or day in calendar.working_weekends):
            count += 1
    return count


def test_working_days_left_are_counted_as_day_by_day() -> None:
    rng = random.Random(19)
    start = date(2020, 1, 1)
    holidays = frozenset(start + timedelta(days=rng.randrange(1500)) for _ in range(80))
    weekends = frozenset(
        day for day in (start + timedelta(days=rng.randrange(1500)) for _ in range(80)) if day.weekday() >= 5
    )
    calendar = WorkingDays(1, holidays, weekends, (2020, 2021, 2022, 2023))
    for _ in range(400):
        today = start + timedelta(days=rng.randrange(1500))
        due = today + timedelta(days=rng.randrange(-400, 400))
        assert working_days_until(today, due, calendar) == day_by_day(today, due, calendar), (today, due)
    assert working_days_until(date(2021, 10, 1), date(2021, 10, 1), calendar) == 0
    friday, monday = date(2023, 6, 2), date(2023, 6, 5)
    assert working_days_until(friday, monday, WorkingDays(1, frozenset(), frozenset())) == 1
    assert working_days_until(monday, friday, WorkingDays(1, frozenset(), frozenset())) == -1  # a day overdue
