"""Dates the rules fix (时限): the yearly obligations' due dates, working days (工作日), a blacklisting's end."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.parameters import RuleParameters
from ledger.domain.values import fiscal_year


def goal_submission_due(year: int) -> date:
    """绩效目标申报: before budget preparation, (Y−1)-10-31."""
    return date(fiscal_year(year) - 1, 10, 31)


def monitoring_report_due(year: int) -> date:
    """1–7月绩效监控报告: Y-08-15."""
    return date(fiscal_year(year), 8, 15)


def self_evaluation_due(year: int) -> date:
    """单位自评: (Y+1)-03-31."""
    return date(fiscal_year(year) + 1, 3, 31)


def add_working_days(
    start: date, days: int, holidays: Collection[date] = (), working_weekends: Collection[date] = ()
) -> date:
    """The date ``days`` working days (工作日) after ``start``.

    Weekends and ``holidays`` are skipped; a weekend day in ``working_weekends`` is worked (调休上班, as the State
    Council's holiday notice moves days around each public holiday), so it counts.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise InvalidInput(f"days must be a non-negative whole number: {days!r}", field="days")
    off = set(holidays)
    worked = set(working_weekends)
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if current not in off and (current.weekday() < 5 or current in worked):
            remaining -= 1
    return current


def blacklist_until(start: date, params: RuleParameters) -> date:
    """End of a blacklisting (黑名单期限): start + blacklist_years years; Feb 29 → Feb 28."""
    year = start.year + params.blacklist_years
    try:
        return start.replace(year=year)
    except ValueError:
        return date(year, 2, 28)
