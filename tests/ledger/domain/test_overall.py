"""Overall goals (整体绩效目标, ledger.domain.overall): their indicators' checks, the review, adjustment, and the gate
they put on a project's budget; each refusal, and the fold of the events."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledger.domain.errors import DomainError, InvalidInput, RuleViolation
from ledger.domain.overall import (
    GoalsStatus,
    OrganisationKind,
    OverallGoals,
    budget_gate,
    overall_goals_id,
    require_overall_goals,
    validate_overall_goals,
)
from ledger.domain.rules import DEFAULT_PARAMETERS as P
from ledger.domain.values import Attribution, Principal
from tests.ledger.domain.overall_support import adjusted_indicators, overall_indicators

D = Decimal
FINANCE = Principal("fin-01", "finance", "市财政局")
EDUCATION = Principal("edu-01", "department", "教育局")


def by(principal: Principal, on: date, reason: str = "") -> Attribution:
    return Attribution(principal, on, reason)


def submitted(year: int = 2022) -> OverallGoals:
    return OverallGoals.submit(
        "教育局", OrganisationKind.DEPARTMENT, "教育局", year, overall_indicators(), 1, by(EDUCATION, date(2021, 10, 1))
    )


def approved() -> OverallGoals:
    goals = submitted()
    goals.review("良", "", by(FINANCE, date(2021, 10, 20)))
    return goals


def refusal(error: type[DomainError], code: str, call: Any) -> None:
    with pytest.raises(error) as raised:
        call()
    assert raised.value.code == code


def test_the_id_follows_from_the_organisations_name_however_spelled_and_the_year() -> None:
    assert overall_goals_id("教育局", 2022) == overall_goals_id(" 教育局", 2022) != overall_goals_id("教育局", 2023)
    assert submitted().id == overall_goals_id("教育局", 2022)


def test_six_dimensions_with_weights_of_100_are_accepted() -> None:
    validate_overall_goals(overall_indicators())


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        (lambda g: [], "invalid-indicator", "indicators"),
        (lambda g: [replace(g[0], level1="output"), *g[1:]], "invalid-indicator", "indicators[0].level1"),
        (lambda g: [replace(g[0], level2=" "), *g[1:]], "invalid-indicator", "indicators[0].level2"),
        (lambda g: [replace(g[0], name=""), *g[1:]], "invalid-indicator", "indicators[0].name"),
        (lambda g: [replace(g[0], operator="~"), *g[1:]], "invalid-indicator", "indicators[0].operator"),
        (lambda g: [replace(g[3], target="很好"), *g[:3], *g[4:]], "invalid-indicator", "indicators[0].target"),
        (lambda g: [*g[:5], replace(g[5], key="cost")], "invalid-indicator", "indicators[5].key"),
        (lambda g: [replace(g[0], weight=D("20.001")), *g[1:]], "invalid-weights", "indicators[0].weight"),
        (lambda g: [replace(g[0], weight=D(0)), *g[1:]], "invalid-weights", "indicators[0].weight"),
        (lambda g: g[:5], "invalid-indicator", "indicators"),  # 服务对象满意度 missing
        (lambda g: [replace(g[0], weight=D(21)), *g[1:]], "invalid-weights", "indicators"),
    ],
)
def test_malformed_overall_goals_are_refused_naming_the_field(change: Any, code: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_overall_goals(change(overall_indicators()))
    assert (raised.value.code, raised.value.field) == (code, field)


def test_a_missing_dimension_is_named_in_chinese() -> None:
    with pytest.raises(InvalidInput, match="服务对象满意度"):
        validate_overall_goals(overall_indicators()[:5])


def test_submission_is_not_dated_before_the_years_preparation_opened() -> None:
    refusal(
        InvalidInput,
        "effective-date-too-early",
        lambda: OverallGoals.submit(
            "教育局",
            OrganisationKind.DEPARTMENT,
            "教育局",
            2022,
            overall_indicators(),
            1,
            by(EDUCATION, date(2020, 12, 31)),
        ),
    )


@pytest.mark.parametrize(
    ("rating", "status"), [("优", "approved"), ("良", "approved"), ("中", "returned"), ("差", "refused")]
)
def test_review_mirrors_a_projects_goals(rating: str, status: str) -> None:
    goals = submitted()
    goals.review(rating, "不够细化" if rating in "中差" else "", by(FINANCE, date(2021, 10, 20)))
    assert (goals.status, goals.rating, goals.approved) == (status, rating, status == "approved")


@pytest.mark.parametrize("rating", ["中", "差"])
def test_a_rating_of_fair_or_poor_gives_the_reason(rating: str) -> None:
    refusal(InvalidInput, "reason-required", lambda: submitted().review(rating, "", by(FINANCE, date(2021, 10, 20))))


def test_a_review_is_of_submitted_goals_only_and_not_dated_before_the_submission() -> None:
    goals = approved()
    refusal(
        RuleViolation, "overall-goals-not-submitted", lambda: goals.review("优", "", by(FINANCE, date(2021, 11, 1)))
    )
    refusal(
        InvalidInput, "effective-date-too-early", lambda: submitted().review("优", "", by(FINANCE, date(2021, 9, 30)))
    )
    refusal(InvalidInput, "invalid-value", lambda: submitted().review("好", "", by(FINANCE, date(2021, 10, 20))))


@pytest.mark.parametrize("rating", ["中", "差"])
def test_returned_or_refused_goals_are_submitted_again_and_counted(rating: str) -> None:
    goals = submitted()
    goals.review(rating, "重新编制", by(FINANCE, date(2021, 10, 20)))
    goals.resubmit(adjusted_indicators(), 1, by(EDUCATION, date(2021, 10, 25)))
    assert (goals.status, goals.rating, goals.submissions) == (GoalsStatus.SUBMITTED, None, 2)
    assert goals.indicators == adjusted_indicators()
    goals.review("优", "", by(FINANCE, date(2021, 10, 30)))
    assert goals.approved


def test_approved_goals_are_not_resubmitted_but_adjusted() -> None:
    refusal(
        RuleViolation,
        "overall-goals-approved",
        lambda: approved().resubmit(overall_indicators(), 1, by(EDUCATION, date(2021, 11, 1))),
    )


def test_an_adjustment_changes_the_goals_only_when_finance_approves_it() -> None:
    goals = approved()
    assert goals.request_adjustment(adjusted_indicators(), by(EDUCATION, date(2022, 3, 1), "职能调整")) == 1
    assert goals.indicators == overall_indicators()
    refusal(
        RuleViolation,
        "adjustment-pending",
        lambda: goals.request_adjustment(adjusted_indicators(), by(EDUCATION, date(2022, 3, 2), "再次调整")),
    )
    goals.decide_adjustment(1, True, by(FINANCE, date(2022, 3, 10)))
    assert goals.indicators == adjusted_indicators()
    refusal(
        RuleViolation,
        "already-decided",
        lambda: goals.decide_adjustment(1, False, by(FINANCE, date(2022, 3, 11), "否")),
    )
    goals.request_adjustment(overall_indicators(), by(EDUCATION, date(2022, 4, 1), "恢复"))
    refusal(InvalidInput, "reason-required", lambda: goals.decide_adjustment(2, False, by(FINANCE, date(2022, 4, 2))))
    refusal(
        InvalidInput,
        "effective-date-too-early",
        lambda: goals.decide_adjustment(2, True, by(FINANCE, date(2022, 3, 31))),
    )
    goals.decide_adjustment(2, False, by(FINANCE, date(2022, 4, 2), "理由不充分"))
    assert goals.indicators == adjusted_indicators()
    assert [item["status"] for item in goals.adjustments] == ["approved", "rejected"]


def test_an_adjustment_is_of_approved_goals_with_a_reason_and_valid_indicators() -> None:
    refusal(
        RuleViolation,
        "overall-goals-not-approved",
        lambda: submitted().request_adjustment(adjusted_indicators(), by(EDUCATION, date(2022, 3, 1), "职能调整")),
    )
    refusal(
        InvalidInput,
        "reason-required",
        lambda: approved().request_adjustment(adjusted_indicators(), by(EDUCATION, date(2022, 3, 1))),
    )
    refusal(
        InvalidInput,
        "invalid-indicator",
        lambda: approved().request_adjustment(overall_indicators()[:5], by(EDUCATION, date(2022, 3, 1), "职能调整")),
    )
    refusal(InvalidInput, "invalid-value", lambda: approved().decide_adjustment(1, True, by(FINANCE, date(2022, 3, 1))))


def test_the_events_fold_back_into_the_same_record() -> None:
    goals = approved()
    goals.request_adjustment(adjusted_indicators(), by(EDUCATION, date(2022, 3, 1), "职能调整"))
    events = goals.collect_events()
    folded: Any = None
    for event in events:
        folded = event.mutate(folded)
    assert vars(folded) == vars(goals)


# ------------------------------------------------------------------------------------------------ the gate


def test_a_year_below_full_coverage_requires_nothing() -> None:
    fact = budget_gate("教育局", 2021, D("1000.00"), None, P, 1)  # 60% in 2021
    assert (fact["required"], fact["coverage_target"], fact["status"]) == (False, "60", None)
    require_overall_goals(fact)


def test_a_year_of_full_coverage_requires_approved_goals() -> None:
    fact = budget_gate("教育局", 2022, D("1000.00"), None, P, 1)
    assert fact == {
        "department": "教育局",
        "fiscal_year": 2022,
        "coverage_target": "100",
        "threshold": "0.00",
        "ruleset_version": 1,
        "required": True,
        "status": None,
        "version": None,
    }
    refusal(RuleViolation, "overall-goals-not-approved", lambda: require_overall_goals(fact))
    for goals in (submitted(), approved()):
        fact = budget_gate("教育局", 2022, D("1000.00"), goals, P, 1)
        assert (fact["status"], fact["version"]) == (goals.status, goals.version)
    require_overall_goals(fact)


def test_an_amount_at_or_below_the_threshold_requires_nothing() -> None:
    params = dataclasses.replace(P, overall_goals_budget_threshold=D("500000.00"))
    assert not budget_gate("教育局", 2022, D("500000.00"), None, params, 2)["required"]
    assert budget_gate("教育局", 2022, D("500000.01"), None, params, 2)["required"]


def test_coverage_reaching_100_in_a_later_year_moves_the_gate() -> None:
    params = dataclasses.replace(P, overall_goals_coverage=((2021, D(60)), (2022, D(80)), (2023, D(100))))
    assert not budget_gate("教育局", 2022, D("1.00"), None, params, 2)["required"]
    assert budget_gate("教育局", 2023, D("1.00"), None, params, 2)["required"]


def test_no_fact_checks_nothing() -> None:
    require_overall_goals(None)


def test_a_threshold_must_be_money() -> None:
    with pytest.raises(InvalidInput) as raised:
        dataclasses.replace(P, overall_goals_budget_threshold=D("-1.00")).validate()
    assert raised.value.field == "overall_goals_budget_threshold"
