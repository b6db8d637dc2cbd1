"""政策调整 (ledger.domain.project): a policy whose results are applied receives a recorded decision — continue
(延续), adjust (调整) or terminate (终止) — by default from the grade its results rested on; a terminated policy's
continuation is not funded unless finance overrides it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.domain.project import Project
from ledger.domain.values import Attribution
from tests.ledger.domain.project_support import (
    DEPT,
    FINANCE,
    RESULTS_ON,
    P,
    admit,
    apply_results,
    approve,
    build,
    close,
    events_of,
    goals,
    refused,
    review,
    self_evaluate,
    submit,
)

D = Decimal
DECIDED_ON = date(2022, 7, 1)


def policy(grade: str = "优", *, results: bool = True) -> Project:
    """A policy of 2021 (义务教育学生营养改善政策) evaluated at ``grade``, its results applied."""
    project = Project.declare(
        Attribution(DEPT, date(2020, 9, 1)),
        code="ZC-2021-01",
        name="义务教育学生营养改善政策",
        kind="policy",
        department="教育局",
        fiscal_year=2021,
        budget_book="general_public",
        special_category=None,
        requested=D("4800000.00"),
        new_major=False,
    )
    for step in (admit, submit, lambda p: review(p, "优"), approve, lambda p: self_evaluate(p, grade)):
        step(project)
    if results:
        apply_results(project)
    return project


def decide(project: Project, decision: str | None = None, reason: str = "", on: date = DECIDED_ON) -> str:
    return project.decide_policy(decision, Attribution(FINANCE, on, reason))


@pytest.mark.parametrize(
    ("grade", "decision"), [("优", "continue"), ("良", "continue"), ("中", "adjust"), ("差", "terminate")]
)
def test_the_default_follows_the_grade_the_results_rested_on(grade: str, decision: str) -> None:
    project = policy(grade)
    assert decide(project) == decision
    (event,) = events_of(project, Project.PolicyAdjustmentDecided)
    assert (event.decision, event.grade, event.effective_on) == (decision, grade, DECIDED_ON)
    assert project.policy_decision == {"decision": decision, "grade": grade, "decided_on": DECIDED_ON}


def test_departing_from_the_default_needs_a_reason() -> None:
    project = policy("优")
    refused(project, "reason-required", lambda: decide(project, "adjust"))
    refused(project, "invalid-value", lambda: decide(project, "abolish", "不合法"))
    assert decide(project, "adjust", "政策目标已部分实现，调整补助标准") == "adjust"


def test_only_a_policy_with_results_applied_and_only_once() -> None:
    plain = build("results_applied")
    refused(plain, "not-a-policy", lambda: decide(plain))
    waiting = policy(results=False)
    refused(waiting, "wrong-stage", lambda: decide(waiting))
    project = policy()
    refused(project, "effective-date-too-early", lambda: decide(project, on=RESULTS_ON - timedelta(days=1)))
    decide(project)
    refused(project, "already-decided", lambda: decide(project, "terminate", "改变主意"))
    closed = policy()
    close(closed)
    refused(closed, "project-closed", lambda: decide(closed))


def continuation_of(earlier: Project) -> Project:
    project = Project.declare(
        Attribution(DEPT, date(2022, 9, 1)),
        code="ZC-2023-01",
        name="义务教育学生营养改善政策（续）",
        kind="policy",
        department="教育局",
        fiscal_year=2023,
        budget_book="general_public",
        special_category=None,
        requested=D("5000000.00"),
        new_major=False,
        continues=earlier,
    )
    project.admit(P, Attribution(FINANCE, date(2022, 9, 10)))
    project.submit_goals(goals(), P, 1, Attribution(DEPT, date(2022, 9, 20)))
    project.review_goals("优", "", Attribution(FINANCE, date(2022, 10, 10)))
    return project


def test_a_terminated_policy_is_not_funded_again_unless_finance_overrides() -> None:
    earlier = policy("良")  # results: maintain (合理保障), which alone would allow any amount
    decide(earlier, "terminate", "政策到期，任务已完成")
    project = continuation_of(earlier)
    on = Attribution(FINANCE, date(2023, 1, 10))
    refused(project, "continuation-policy-terminated", lambda: project.approve_budget(D(1), on, earlier=earlier))
    project.approve_budget(
        D(100), Attribution(FINANCE, date(2023, 1, 10), "过渡期安排"), earlier=earlier, override=True
    )
    assert project.budget_linkage is not None
    (event,) = events_of(project, Project.BudgetApproved)
    assert (event.linkage["policy_decision"], event.linkage["allowed"], event.linkage["refusal"]) == (
        "terminate",
        False,
        "continuation-policy-terminated",
    )


@pytest.mark.parametrize("decision", ["continue", "adjust", None])
def test_a_continued_or_adjusted_policy_is_funded_as_its_result_allows(decision: str | None) -> None:
    earlier = policy("中")  # results: reduce (调减 10%)
    if decision is not None:
        decide(earlier, decision, "评价为中，调整补助标准后延续")
    project = continuation_of(earlier)
    assert earlier.results is not None
    cap = earlier.results["next_year_budget"]
    refused(
        project,
        "continuation-over-cap",
        lambda: project.approve_budget(cap + D("0.01"), Attribution(FINANCE, date(2023, 1, 10)), earlier=earlier),
    )
    project.approve_budget(cap, Attribution(FINANCE, date(2023, 1, 10)), earlier=earlier)
    (event,) = events_of(project, Project.BudgetApproved)
    assert (event.linkage["policy_decision"], event.linkage["allowed"]) == (decision, True)
