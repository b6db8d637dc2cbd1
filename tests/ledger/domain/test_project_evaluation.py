"""Unit tests of the project (ledger.domain.project) after the year: self-evaluation, re-evaluation, key
evaluation and the results applied. An agency's key evaluation under 两审一督导 in full, and its voiding, are in
test_project_key_evaluation.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.domain.project import Project
from ledger.domain.project_values import Stage
from ledger.domain.values import Attribution
from tests.ledger.domain.project_support import (
    ACTUALS_BY_GRADE,
    APPROVED,
    DEPT,
    FINANCE,
    KE,
    MET,
    RESULTS_ON,
    SELF_EVAL_ON,
    D,
    P,
    apply_results,
    build,
    commission,
    corrective,
    events_of,
    re_evaluate,
    re_scores,
    refused,
    review_plan,
    review_report,
    score_key,
    select,
    self_evaluate,
    with_deviation,
)

# ---------------------------------------------------------------------------
# Self-evaluation 单位自评
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "executed", "total", "rate", "execution_score"),
    [
        ("优", APPROVED, D("100.00"), D("100.00"), D("10.00")),
        ("良", APPROVED, D("88.00"), D("100.00"), D("10.00")),
        ("中", APPROVED, D("70.00"), D("100.00"), D("10.00")),
        ("差", APPROVED, D("40.00"), D("100.00"), D("10.00")),
        ("优", D("2400000.00"), D("95.00"), D("50.00"), D("5.00")),
        ("良", D("0.00"), D("78.00"), D("0.00"), D("0.00")),
    ],
)
def test_self_evaluation_computes_score_grade_and_records_ruleset(
    grade: str, executed: Decimal, total: Decimal, rate: Decimal, execution_score: Decimal
) -> None:
    project = build("budget_approved")
    project.self_evaluate(ACTUALS_BY_GRADE[grade], executed, P, 3, Attribution(DEPT, SELF_EVAL_ON, "自评"))
    (event,) = events_of(project, Project.SelfEvaluated)
    assert event.total == total
    assert event.execution_rate == rate
    assert event.execution_score == execution_score
    assert event.ruleset_version == 3
    assert event.actuals == ACTUALS_BY_GRADE[grade]
    assert event.executed == executed
    expected_grade = {"100.00": "优", "95.00": "优", "88.00": "良", "78.00": "中", "70.00": "中", "40.00": "差"}
    assert event.grade == expected_grade[str(total)]
    assert project.stage == Stage.SELF_EVALUATED
    assert project.self_evaluation is not None
    assert project.self_evaluation["total"] == total
    assert project.self_evaluation["ruleset_version"] == 3
    assert project.executed == executed


def test_self_evaluation_records_indicator_scores() -> None:
    project = build("budget_approved")
    self_evaluate(project, "良")
    assert project.self_evaluation is not None
    assert project.self_evaluation["indicator_scores"] == {
        "students": D("18.00"),
        "days": D("10.00"),
        "cost": D("10.00"),
        "health": D("30.00"),
        "parents": D("10.00"),
    }


@pytest.mark.parametrize("stage", ["admitted", "goals_submitted", "goals_approved"])
def test_self_evaluation_before_budget_approval_is_refused(stage: str) -> None:
    project = build(stage)
    refused(project, "wrong-stage", lambda: self_evaluate(project))


def test_self_evaluation_executed_above_approved_is_refused() -> None:
    project = build("budget_approved")
    refused(project, "amount-exceeds-budget", lambda: self_evaluate(project, executed=APPROVED + D("0.01")))


@pytest.mark.parametrize("on", [date(2021, 11, 30), date(2024, 1, 1)])
def test_self_evaluation_date_outside_window_is_refused(on: date) -> None:
    project = build("budget_approved")
    refused(project, "invalid-date", lambda: project.self_evaluate(MET, APPROVED, P, 1, Attribution(DEPT, on)))


def test_self_evaluation_recorded_once() -> None:
    project = build("self_evaluated")
    refused(project, "wrong-stage", lambda: self_evaluate(project))


def test_self_evaluation_needs_every_actual() -> None:
    project = build("budget_approved")
    actuals = {key: value for key, value in MET.items() if key != "parents"}
    refused(
        project,
        "invalid-value",
        lambda: project.self_evaluate(actuals, APPROVED, P, 1, Attribution(DEPT, SELF_EVAL_ON)),
    )


# ---------------------------------------------------------------------------
# Re-evaluation 再评价
# ---------------------------------------------------------------------------


def test_re_evaluation_refused_if_not_selected() -> None:
    project = build("self_evaluated")
    refused(project, "not-selected", lambda: re_evaluate(project))


def test_selection_before_self_evaluation_is_refused() -> None:
    project = build("budget_approved")
    refused(project, "wrong-stage", lambda: select(project))


@pytest.mark.parametrize(
    ("short", "total", "inflated"),
    [(D(11), D(89), True), (D(10), D(90), False), (D("10.01"), D("89.99"), True), (D(0), D(100), False)],
)
def test_re_evaluation_flags_inflated_self_evaluation(short: Decimal, total: Decimal, inflated: bool) -> None:
    project = build("self_evaluated")  # self-evaluation 100
    select(project)
    assert project.selected_in_sample == "sample-2021"
    re_evaluate(project, re_scores(short))
    assert project.re_evaluation is not None
    assert project.re_evaluation["total"] == total
    assert project.re_evaluation["inflated"] is inflated
    assert project.re_evaluation["by"] == FINANCE.organisation


def test_re_evaluation_recorded_once() -> None:
    project = build("self_evaluated")
    select(project)
    re_evaluate(project)
    refused(project, "already-decided", lambda: re_evaluate(project))


def test_re_evaluation_scores_are_validated() -> None:
    project = build("self_evaluated")
    select(project)
    refused(project, "invalid-score", lambda: re_evaluate(project, {**re_scores(), "decision": D(16)}))
    refused(project, "invalid-value", lambda: re_evaluate(project, {"decision": D(15)}))


# ---------------------------------------------------------------------------
# Key evaluation 重点评价 (两审一督导)
# ---------------------------------------------------------------------------


def test_key_evaluation_before_budget_approval_is_refused() -> None:
    project = build("goals_approved")
    refused(project, "wrong-stage", lambda: commission(project))


def test_key_evaluation_commissioned_twice_with_same_id_is_refused() -> None:
    project = build("budget_approved")
    commission(project)
    refused(project, "already-exists", lambda: commission(project))


@pytest.mark.parametrize("plan", [None, False])
def test_report_review_before_plan_approved_is_refused(plan: bool | None) -> None:
    project = build("self_evaluated")
    commission(project)
    if plan is not None:
        review_plan(project, plan)
    refused(project, "plan-not-reviewed", lambda: review_report(project))


@pytest.mark.parametrize("report", [None, False])
def test_score_before_report_approved_is_refused(report: bool | None) -> None:
    project = build("self_evaluated")
    commission(project)
    review_plan(project)
    if report is not None:
        review_report(project, report)
    refused(project, "report-not-reviewed", lambda: score_key(project))


def test_key_evaluation_full_cycle_and_scoring_twice_is_refused() -> None:
    """A key evaluation commissioned before 两审一督导 in full (no procedure recorded) keeps its rules: two reviews,
    supervision optional, nothing submitted by the agency."""
    project = build("self_evaluated")
    commission(project)
    review_plan(project)
    project.supervise_key_evaluation(KE, "现场督导：抽查凭证", [], Attribution(FINANCE, date(2022, 3, 20)))
    review_report(project)
    score_key(project, re_scores(D(15), D(15)))
    evaluation = project.key_evaluation(KE)
    assert evaluation["supervision"] == ["现场督导：抽查凭证"]
    assert evaluation["score"]["total"] == D(70)
    assert evaluation["score"]["grade"] == "中"
    assert evaluation["score"]["inflated"] is True
    refused(project, "already-decided", lambda: score_key(project))
    refused(project, "already-decided", lambda: review_report(project))
    refused(project, "already-decided", lambda: review_plan(project))


def test_supervision_notes_are_required() -> None:
    project = build("self_evaluated")
    commission(project)
    refused(
        project,
        "invalid-value",
        lambda: project.supervise_key_evaluation(KE, " ", [], Attribution(FINANCE, date(2022, 3, 20))),
    )


def test_unknown_key_evaluation_is_refused() -> None:
    project = build("self_evaluated")
    refused(project, "evaluation-not-found", lambda: review_plan(project))


def test_evaluation_basis_precedence_key_over_re_over_self() -> None:
    project = build("budget_approved")
    assert project.evaluation_basis() is None
    self_evaluate(project, "优")
    assert project.evaluation_basis() == ("self_evaluation", "优")
    commission(project)
    review_plan(project)
    review_report(project)
    assert project.evaluation_basis() == ("self_evaluation", "优")  # not scored yet
    select(project)
    re_evaluate(project, re_scores(D(15)))  # 85
    assert project.evaluation_basis() == ("re_evaluation", "良")
    score_key(project, re_scores(D(15), D(15)))  # 70
    assert project.evaluation_basis() == ("key_evaluation", "中")


# ---------------------------------------------------------------------------
# Results applied 结果应用
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "decision", "next_year"),
    [
        ("优", "prioritise", None),
        ("良", "maintain", None),
        ("中", "reduce", D("4320000.00")),
        ("差", "cancel", None),
    ],
)
def test_results_applied_by_default_per_grade(grade: str, decision: str, next_year: Decimal | None) -> None:
    project = build("self_evaluated", grade=grade)
    assert apply_results(project) == decision
    assert project.stage == Stage.RESULTS_APPLIED
    assert project.results == {
        "decision": decision,
        "basis": "self_evaluation",
        "grade": grade,
        "next_year_budget": next_year,
        "ruleset_version": 1,
        "applied_on": RESULTS_ON,
    }


def test_reduce_uses_the_approved_amount_after_corrective_reduction() -> None:
    project = with_deviation()
    corrective(project, "reduce_budget", D("800000.00"))
    self_evaluate(project, "中", executed=D("4000000.00"))
    apply_results(project)
    assert project.results is not None
    assert project.results["next_year_budget"] == D("3600000.00")


def test_departing_from_the_default_needs_a_reason() -> None:
    project = build("self_evaluated", grade="中")
    refused(project, "reason-required", lambda: apply_results(project, "maintain", " "))
    assert apply_results(project, "maintain", "民生兜底项目，维持预算") == "maintain"
    assert project.results is not None
    assert project.results["next_year_budget"] is None


def test_explicitly_choosing_the_default_needs_no_reason() -> None:
    project = build("self_evaluated", grade="良")
    assert apply_results(project, "maintain") == "maintain"


def test_results_applied_on_the_strongest_basis() -> None:
    project = build("self_evaluated", grade="优")
    select(project)
    re_evaluate(project, re_scores(D(30)))  # 70 → 中
    apply_results(project)
    assert project.results is not None
    assert (project.results["basis"], project.results["grade"], project.results["decision"]) == (
        "re_evaluation",
        "中",
        "reduce",
    )


@pytest.mark.parametrize("stage", ["budget_approved", "results_applied"])
def test_results_applied_only_once_after_self_evaluation(stage: str) -> None:
    project = build(stage)
    refused(project, "wrong-stage", lambda: apply_results(project))
