"""Dates the rules fix (时限): the yearly obligations' due dates and the disclosure periods, all from the ruleset;
working days (工作日); a blacklisting's end."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.parameter_checks import YearDate
from ledger.domain.rules.parameters import RuleParameters
from ledger.domain.values import fiscal_year


def due_in_year(year: int, day: YearDate) -> date:
    """The date ``day`` (years after the fiscal year, month, day) falls on for fiscal year ``year``."""
    offset, month, day_of_month = day
    return date(fiscal_year(year) + offset, month, day_of_month)


def goal_submission_due(year: int, params: RuleParameters) -> date:
    """绩效目标申报: before budget preparation, by default (Y−1)-10-31."""
    return due_in_year(year, params.goal_submission_due)


def monitoring_report_due(year: int, params: RuleParameters) -> date:
    """1–M月绩效监控报告 (M: ``monitoring_report_month``, 7 by default): by default Y-08-15."""
    return due_in_year(year, params.monitoring_report_due)


def self_evaluation_due(year: int, params: RuleParameters) -> date:
    """单位自评: by default (Y+1)-03-31."""
    return due_in_year(year, params.self_evaluation_due)


def overall_self_evaluation_due(year: int, params: RuleParameters) -> date:
    """整体绩效自评 of a department or unit with approved overall goals: by default (Y+1)-03-31."""
    return due_in_year(year, params.overall_self_evaluation_due)


def congress_goals_due(year: int, params: RuleParameters) -> date:
    """绩效目标随同预算草案报送人大: by default (Y−1)-12-31."""
    return due_in_year(year, params.congress_goals_due)


def congress_results_due(year: int, params: RuleParameters) -> date:
    """评价结果随同决算草案报送人大: by default (Y+1)-06-30."""
    return due_in_year(year, params.congress_results_due)


def goals_disclosure_due(budget_approved_on: date, params: RuleParameters) -> date:
    """部门公开绩效目标: ``goals_disclosure_days`` (20: 预算法 第十四条) after the budget was approved with them."""
    return budget_approved_on + timedelta(days=params.goals_disclosure_days)


def results_disclosure_due(results_applied_on: date, params: RuleParameters) -> date:
    """部门公开评价结果: ``results_disclosure_days`` (20) after the results were applied."""
    return results_applied_on + timedelta(days=params.results_disclosure_days)


def decision_rectification_due(decided_on: date, params: RuleParameters) -> date:
    """约谈 / 通报批评 整改报告: ``decision_rectification_days`` (30) after the decision."""
    return decided_on + timedelta(days=params.decision_rectification_days)


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
