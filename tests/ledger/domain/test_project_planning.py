"""Unit tests of the project (ledger.domain.project) from declaration to budget approval: ex-ante assessment,
admission, goals and their review, the budget, goal adjustments — every refusal and its stable code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from ledger.domain.project import Project
from ledger.domain.project_values import Stage
from ledger.domain.values import Attribution
from tests.ledger.domain.project_support import (
    APPROVED,
    ASSESSED_ON,
    FINANCE,
    REQUESTED,
    REVIEWED_ON,
    D,
    P,
    admit,
    approve,
    build,
    decide_adjustment,
    declare,
    events_of,
    ex_ante_scores,
    goals,
    ind,
    refused,
    request_adjustment,
    review,
    submit,
)

# ---------------------------------------------------------------------------
# Declaration and ex-ante assessment 事前绩效评估
# ---------------------------------------------------------------------------


def test_declared_project_starts_empty() -> None:
    project = declare()
    assert project.stage == Stage.DECLARED
    assert project.requested == REQUESTED
    assert project.executed == D("0.00")
    assert project.approved_amount is None
    assert project.goals == []
    assert project.version == 1


def test_same_code_and_year_gives_same_id() -> None:
    assert declare().id == declare().id
    assert declare().id != declare(code="EDU-2021-002").id


@pytest.mark.parametrize(
    ("new_major", "requested", "required"),
    [
        (True, D("3000000.00"), True),
        (True, D("2999999.99"), False),
        (False, D("30000000.00"), False),
    ],
)
def test_ex_ante_required_for_new_major_at_threshold(new_major: bool, requested: Decimal, required: bool) -> None:
    assert declare(new_major=new_major, requested=requested).ex_ante_required(P) is required


def test_admit_without_required_ex_ante_is_refused() -> None:
    project = declare(new_major=True)
    refused(project, "ex-ante-required", lambda: admit(project, "入库"))
    assert project.stage == Stage.DECLARED


@pytest.mark.parametrize(("new_major", "requested"), [(False, REQUESTED), (True, D("2999999.99"))])
def test_ex_ante_on_project_that_does_not_need_it_is_refused(new_major: bool, requested: Decimal) -> None:
    project = declare(new_major=new_major, requested=requested)
    refused(
        project,
        "ex-ante-not-required",
        lambda: project.assess_ex_ante(ex_ante_scores(D(20)), P, 1, Attribution(FINANCE, ASSESSED_ON)),
    )


def test_ex_ante_support_admits_and_records_total_and_ruleset_version() -> None:
    project = declare(new_major=True)
    project.assess_ex_ante(ex_ante_scores(D(16)), P, 2, Attribution(FINANCE, ASSESSED_ON, "评估"))
    assert project.ex_ante is not None
    assert project.ex_ante["total"] == D(80)
    assert project.ex_ante["conclusion"] == "support"
    assert project.ex_ante["ruleset_version"] == 2
    assert project.stage == Stage.DECLARED
    admit(project)
    assert project.stage == Stage.ADMITTED


def test_ex_ante_reject_is_terminal_and_refuses_further_commands() -> None:
    project = declare(new_major=True)
    project.assess_ex_ante(ex_ante_scores(D("11.9")), P, 1, Attribution(FINANCE, ASSESSED_ON, "不予支持"))
    assert project.ex_ante is not None
    assert project.ex_ante["conclusion"] == "reject"
    assert project.stage == Stage.REJECTED
    refused(project, "wrong-stage", lambda: admit(project, "再议"))
    refused(project, "wrong-stage", lambda: submit(project))
    refused(
        project,
        "wrong-stage",
        lambda: project.assess_ex_ante(ex_ante_scores(D(20)), P, 1, Attribution(FINANCE, ASSESSED_ON)),
    )
    refused(project, "wrong-stage", lambda: approve(project))


def test_ex_ante_recorded_once() -> None:
    project = declare(new_major=True)
    project.assess_ex_ante(ex_ante_scores(D(20)), P, 1, Attribution(FINANCE, ASSESSED_ON))
    refused(
        project,
        "already-decided",
        lambda: project.assess_ex_ante(ex_ante_scores(D(20)), P, 1, Attribution(FINANCE, ASSESSED_ON)),
    )


def test_admission_after_support_after_revision_requires_a_reason() -> None:
    project = declare(new_major=True)
    project.assess_ex_ante(ex_ante_scores(D(14)), P, 1, Attribution(FINANCE, ASSESSED_ON))
    assert project.ex_ante is not None
    assert project.ex_ante["conclusion"] == "support_after_revision"
    refused(project, "reason-required", lambda: admit(project, "  "))
    admit(project, "已按评估意见调整实施方案")
    assert project.stage == Stage.ADMITTED


def test_admit_twice_is_refused() -> None:
    project = build("admitted")
    refused(project, "wrong-stage", lambda: admit(project))


# ---------------------------------------------------------------------------
# Goals 绩效目标 and budget approval 预算批复
# ---------------------------------------------------------------------------


def test_goals_before_admission_are_refused() -> None:
    project = declare()
    refused(project, "wrong-stage", lambda: submit(project))


def test_malformed_goals_are_refused() -> None:
    project = build("admitted")
    lopsided = [*goals()[:-1], ind("parents", "satisfaction", "service_users", ">=", D(90), D(20), "满意度", "%")]
    refused(project, "invalid-weights", lambda: submit(project, lopsided))
    refused(project, "invalid-indicator", lambda: submit(project, []))


def in_turn(*steps: Callable[[Project], object]) -> Callable[[Project], None]:
    """The steps taken one after another on the same project."""

    def take(project: Project) -> None:
        for step in steps:
            step(project)

    return take


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda p: None, id="declared"),
        pytest.param(admit, id="admitted"),
        pytest.param(in_turn(admit, submit), id="submitted-unrated"),
        pytest.param(in_turn(admit, submit, lambda p: review(p, "中")), id="rated-fair"),
        pytest.param(in_turn(admit, submit, lambda p: review(p, "差")), id="rated-poor"),
    ],
)
def test_no_approved_goals_no_budget(setup: Callable[[Project], object]) -> None:
    project = declare()
    setup(project)
    refused(project, "goals-not-approved", lambda: approve(project))
    assert project.approved_amount is None


@pytest.mark.parametrize("rating", ["优", "良"])
def test_goals_rated_excellent_or_good_are_approved(rating: str) -> None:
    project = build("goals_submitted")
    review(project, rating, fixes="补充时效指标" if rating == "良" else "")
    assert project.stage == Stage.GOALS_APPROVED
    assert project.goals_rating == rating
    approve(project)
    assert project.stage == Stage.BUDGET_APPROVED
    assert project.approved_amount == APPROVED


def test_fair_rating_returns_goals_and_resubmission_counts_revisions() -> None:
    project = build("goals_submitted")
    review(project, "中", fixes="细化产出指标")
    assert project.stage == Stage.GOALS_RETURNED
    assert project.goals_rating == "中"
    assert project.goals_review_notes == "细化产出指标"
    assert project.goals_revisions == 0
    submit(project, goals(D(5200)))
    assert project.stage == Stage.GOALS_SUBMITTED
    assert project.goals_revisions == 1
    assert project.goals_rating is None
    assert project.goals[0].target == D(5200)
    review(project, "中")
    submit(project)
    assert project.goals_revisions == 2
    review(project, "良")
    assert project.stage == Stage.GOALS_APPROVED


def test_resubmission_before_review_is_not_a_revision() -> None:
    project = build("goals_submitted")
    submit(project)
    assert project.goals_revisions == 0


def test_poor_rating_refuses_goals_for_the_year() -> None:
    project = build("goals_submitted")
    review(project, "差")
    assert project.stage == Stage.GOALS_REFUSED
    refused(project, "wrong-stage", lambda: submit(project))
    refused(project, "wrong-stage", lambda: review(project, "优"))


@pytest.mark.parametrize("rating", ["中", "差"])
def test_fair_or_poor_rating_requires_a_reason(rating: str) -> None:
    project = build("goals_submitted")
    refused(project, "reason-required", lambda: project.review_goals(rating, " ", Attribution(FINANCE, REVIEWED_ON)))


def test_review_without_submitted_goals_is_refused() -> None:
    project = build("goals_approved")
    refused(project, "wrong-stage", lambda: review(project, "优"))


@pytest.mark.parametrize("on", [date(2019, 12, 31), date(2022, 1, 1)])
def test_approve_budget_outside_the_fiscal_year_is_refused(on: date) -> None:
    project = build("goals_approved")
    refused(project, "invalid-date", lambda: approve(project, on=on))


@pytest.mark.parametrize("on", [date(2020, 1, 1), date(2021, 12, 31)])
def test_approve_budget_at_the_edges_of_the_allowed_window(on: date) -> None:
    project = build("goals_approved", declared_on=date(2020, 1, 1))  # as early as the year's preparation opens
    approve(project, on=on)
    assert project.stage == Stage.BUDGET_APPROVED


@pytest.mark.parametrize("amount", [D("0.00"), D("-1.00")])
def test_approve_budget_needs_a_positive_amount(amount: Decimal) -> None:
    project = build("goals_approved")
    refused(project, "invalid-money", lambda: approve(project, amount))


def test_approve_budget_twice_is_refused() -> None:
    project = build("budget_approved")
    refused(project, "wrong-stage", lambda: approve(project))


# ---------------------------------------------------------------------------
# Goal adjustment 目标调整
# ---------------------------------------------------------------------------


def test_goal_adjustment_before_budget_approval_is_refused() -> None:
    project = build("goals_approved")
    refused(project, "wrong-stage", lambda: request_adjustment(project))


def test_goal_adjustment_needs_a_reason() -> None:
    project = build("budget_approved")
    refused(project, "reason-required", lambda: request_adjustment(project, reason="  "))


def test_goal_adjustment_goals_are_validated() -> None:
    project = build("budget_approved")
    refused(project, "invalid-weights", lambda: request_adjustment(project, indicators=goals()[:-1]))


def test_only_one_goal_adjustment_may_be_pending() -> None:
    project = build("budget_approved")
    assert request_adjustment(project) == 1
    refused(project, "adjustment-pending", lambda: request_adjustment(project))
    decide_adjustment(project, 1, False, "理由不充分")
    assert request_adjustment(project) == 2


def test_approved_goal_adjustment_replaces_the_goals_and_history_keeps_both() -> None:
    project = build("budget_approved")
    original = list(project.goals)
    number = request_adjustment(project)
    assert project.goals == original  # nothing changes until finance approves
    assert project.pending_adjustment is not None
    decide_adjustment(project, number, True)
    assert project.goals == goals(D(4500))
    assert project.pending_adjustment is None
    assert project.adjustment(number)["status"] == "approved"
    requested = events_of(project, Project.GoalAdjustmentRequested)
    assert len(requested) == 1
    assert requested[0].indicators == goals(D(4500))


def test_rejected_goal_adjustment_changes_nothing() -> None:
    project = build("budget_approved")
    original = list(project.goals)
    number = request_adjustment(project)
    refused(project, "reason-required", lambda: decide_adjustment(project, number, False, ""))
    decide_adjustment(project, number, False, "调整依据不足")
    assert project.goals == original
    assert project.adjustment(number)["status"] == "rejected"
    assert project.pending_adjustment is None


@pytest.mark.parametrize(("first", "second"), [(True, True), (True, False), (False, True), (False, False)])
def test_deciding_a_goal_adjustment_twice_is_refused(first: bool, second: bool) -> None:
    project = build("budget_approved")
    number = request_adjustment(project)
    decide_adjustment(project, number, first)
    refused(project, "already-decided", lambda: decide_adjustment(project, number, second))


def test_deciding_an_unknown_goal_adjustment_is_refused() -> None:
    project = build("budget_approved")
    refused(project, "adjustment-not-found", lambda: decide_adjustment(project, 7, True))
