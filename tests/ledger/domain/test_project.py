"""Unit tests for ledger.project: the project's state machine, every refusal and its stable code.

No database: the aggregate is driven directly and its pending events inspected.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledger.domain.errors import DomainError
from ledger.domain.project import Project, Stage
from ledger.domain.rules import DEFAULT_PARAMETERS, EX_ANTE_DIMENSIONS
from ledger.domain.values import SYSTEM, Indicator, Principal

D = Decimal
P = DEFAULT_PARAMETERS
FY = 2021
FINANCE = Principal("fin-01", "finance", "市财政局")
DEPT = Principal("edu-01", "department", "教育局")
AGENCY = Principal("ag-01", "agency", "某咨询评估有限公司")

REQUESTED = D("4800000.00")
APPROVED = D("4800000.00")

DECLARED_ON = date(2020, 9, 1)
ASSESSED_ON = date(2020, 9, 15)
ADMITTED_ON = date(2020, 10, 1)
GOALS_ON = date(2020, 10, 15)
REVIEWED_ON = date(2020, 11, 2)
BUDGET_ON = date(2021, 1, 11)
SELF_EVAL_ON = date(2022, 2, 15)
RESULTS_ON = date(2022, 5, 5)
CLOSED_ON = date(2022, 6, 1)


def digest(n: int) -> str:
    return f"{n:064x}"


# ---------------------------------------------------------------------------
# Helpers: goals, actuals, and a project built up to a stage
# ---------------------------------------------------------------------------


def ind(key: str, level1: str, level2: str, operator: str, target: Decimal | str, weight: Decimal, name: str,
        unit: str) -> Indicator:
    return Indicator(key=key, level1=level1, level2=level2, name=name, operator=operator, target=target, unit=unit,
                     weight=weight)


STUDENTS_TARGET = D(5000)
ZERO = D(0)


def goals(students_target: Decimal = STUDENTS_TARGET) -> list[Indicator]:
    """义务教育学生营养改善计划: output 50 (incl. cost 10), effect 30, satisfaction 10."""
    return [
        ind("students", "output", "quantity", ">=", students_target, D(30), "受益学生人数", "人"),
        ind("days", "output", "timeliness", ">=", D(200), D(10), "供餐天数", "天"),
        ind("cost", "cost", "economic", "<=", D(5), D(10), "生均每餐成本", "元"),
        ind("health", "effect", "social", ">=", D(92), D(30), "学生体质健康达标率", "%"),
        ind("parents", "satisfaction", "service_users", ">=", D(90), D(10), "家长满意度", "%"),
    ]


MET: dict[str, Decimal | str] = {"students": D(5000), "days": D(200), "cost": D(5), "health": D(92),
                                 "parents": D(90)}
# With the whole budget executed: 优 100, 良 88, 中 70, 差 40.
ACTUALS_BY_GRADE: dict[str, dict[str, Decimal | str]] = {
    "优": MET,
    "良": {**MET, "students": D(3000)},
    "中": {**MET, "students": D(0)},
    "差": {**MET, "students": D(0), "health": D(0)},
}


def re_scores(short: Decimal = ZERO, short_output: Decimal = ZERO) -> dict[str, Decimal]:
    """Re-evaluation dimension scores totalling 100 − short − short_output."""
    return {"decision": D(15), "process": D(20), "output": D(35) - short_output, "effect": D(30) - short}


def declare(*, new_major: bool = False, requested: Decimal = REQUESTED, code: str = "EDU-2021-001",
            reason: str = "", evidence: list[str] | None = None, on: date = DECLARED_ON) -> Project:
    return Project.declare(
        principal=DEPT, effective_on=on, code=code, name="义务教育学生营养改善计划", kind="project",
        department="教育局", fiscal_year=FY, budget_book="general_public", special_category=None,
        requested=requested, new_major=new_major, reason=reason, evidence=evidence,
    )


def ex_ante_scores(each: Decimal) -> dict[str, Decimal]:
    return dict.fromkeys(EX_ANTE_DIMENSIONS, each)


def admit(project: Project, reason: str = "") -> None:
    project.admit(P, FINANCE, ADMITTED_ON, reason, [])


def submit(project: Project, indicators: list[Indicator] | None = None) -> None:
    project.submit_goals(goals() if indicators is None else indicators, P, 1, DEPT, GOALS_ON, "申报绩效目标", [])


def review(project: Project, rating: str, fixes: str = "") -> None:
    reason = "" if rating in ("优", "良") else "目标不够细化"
    project.review_goals(rating, fixes, FINANCE, REVIEWED_ON, reason, [])


def approve(project: Project, amount: Decimal = APPROVED, on: date = BUDGET_ON) -> None:
    project.approve_budget(amount, FINANCE, on, "预算批复", [])


def monitor_on(month: int) -> date:
    return date(FY, month + 1, 5) if month < 12 else date(FY + 1, 1, 5)


def monitor(project: Project, month: int, executed: Decimal, progress: dict[str, Decimal] | None = None,
            on: date | None = None) -> None:
    project.report_monitoring(month, executed, progress or {}, {}, "", "", DEPT, on or monitor_on(month),
                              "监控报告", [])


def self_evaluate(project: Project, grade: str = "优", executed: Decimal = APPROVED, version: int = 1) -> None:
    project.self_evaluate(ACTUALS_BY_GRADE[grade], executed, P, version, DEPT, SELF_EVAL_ON, "单位自评", [])


def apply_results(project: Project, decision: str | None = None, reason: str = "") -> str:
    return project.apply_results(decision, P, 1, FINANCE, RESULTS_ON, reason, [])


def close(project: Project) -> None:
    project.close(FINANCE, CLOSED_ON, "项目结束", [])


STAGES = ("declared", "admitted", "goals_submitted", "goals_approved", "budget_approved", "self_evaluated",
          "results_applied", "closed")


def build(stage: str, *, grade: str = "优", declared_on: date = DECLARED_ON) -> Project:
    """A plain (not new-major) project taken up to ``stage``."""
    project = declare(on=declared_on)
    steps: list[Callable[[Project], None]] = [
        admit,
        submit,
        lambda p: review(p, "优"),
        approve,
        lambda p: self_evaluate(p, grade),
        apply_results,
        close,
    ]
    for step in steps[: STAGES.index(stage)]:
        step(project)
    assert project.stage == stage
    return project


def refused(project: Project, code: str, call: Callable[[], object]) -> DomainError:
    """``call`` is refused with ``code`` and records nothing."""
    before = len(project.pending_events)
    with pytest.raises(DomainError) as excinfo:
        call()
    assert excinfo.value.code == code, excinfo.value
    assert len(project.pending_events) == before
    return excinfo.value


def events_of(project: Project, kind: type[Any]) -> list[Any]:
    return [event for event in project.pending_events if isinstance(event, kind)]


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
    refused(project, "ex-ante-not-required",
            lambda: project.assess_ex_ante(ex_ante_scores(D(20)), P, 1, FINANCE, ASSESSED_ON, "", []))


def test_ex_ante_support_admits_and_records_total_and_ruleset_version() -> None:
    project = declare(new_major=True)
    project.assess_ex_ante(ex_ante_scores(D(16)), P, 2, FINANCE, ASSESSED_ON, "评估", [])
    assert project.ex_ante is not None
    assert project.ex_ante["total"] == D(80)
    assert project.ex_ante["conclusion"] == "support"
    assert project.ex_ante["ruleset_version"] == 2
    assert project.stage == Stage.DECLARED
    admit(project)
    assert project.stage == Stage.ADMITTED


def test_ex_ante_reject_is_terminal_and_refuses_further_commands() -> None:
    project = declare(new_major=True)
    project.assess_ex_ante(ex_ante_scores(D("11.9")), P, 1, FINANCE, ASSESSED_ON, "不予支持", [])
    assert project.ex_ante is not None
    assert project.ex_ante["conclusion"] == "reject"
    assert project.stage == Stage.REJECTED
    refused(project, "wrong-stage", lambda: admit(project, "再议"))
    refused(project, "wrong-stage", lambda: submit(project))
    refused(project, "wrong-stage",
            lambda: project.assess_ex_ante(ex_ante_scores(D(20)), P, 1, FINANCE, ASSESSED_ON, "", []))
    refused(project, "wrong-stage", lambda: approve(project))


def test_ex_ante_recorded_once() -> None:
    project = declare(new_major=True)
    project.assess_ex_ante(ex_ante_scores(D(20)), P, 1, FINANCE, ASSESSED_ON, "", [])
    refused(project, "already-decided",
            lambda: project.assess_ex_ante(ex_ante_scores(D(20)), P, 1, FINANCE, ASSESSED_ON, "", []))


def test_admission_after_support_after_revision_requires_a_reason() -> None:
    project = declare(new_major=True)
    project.assess_ex_ante(ex_ante_scores(D(14)), P, 1, FINANCE, ASSESSED_ON, "", [])
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


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda p: None, id="declared"),
        pytest.param(admit, id="admitted"),
        pytest.param(lambda p: (admit(p), submit(p)), id="submitted-unrated"),
        pytest.param(lambda p: (admit(p), submit(p), review(p, "中")), id="rated-fair"),
        pytest.param(lambda p: (admit(p), submit(p), review(p, "差")), id="rated-poor"),
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
    refused(project, "reason-required", lambda: project.review_goals(rating, " ", FINANCE, REVIEWED_ON, "", []))


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


def request_adjustment(project: Project, reason: str = "受疫情影响，供餐天数调整",
                       indicators: list[Indicator] | None = None) -> int:
    return project.request_goal_adjustment(goals(D(4500)) if indicators is None else indicators, P, DEPT,
                                           date(2021, 6, 1), reason, [])


def decide_adjustment(project: Project, number: int, approve_it: bool, reason: str = "同意") -> None:
    project.decide_goal_adjustment(number, approve_it, FINANCE, date(2021, 6, 10), reason, [])


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


# ---------------------------------------------------------------------------
# Monitoring 绩效运行监控
# ---------------------------------------------------------------------------


def test_monitoring_before_budget_approval_is_refused() -> None:
    project = build("goals_approved")
    refused(project, "wrong-stage", lambda: monitor(project, 4, D(0)))


def test_monitoring_records_the_cumulative_execution() -> None:
    project = build("budget_approved")
    monitor(project, 4, D("1500000.00"), {"students": D(40)})
    assert project.executed == D("1500000.00")
    assert project.latest_monitoring is not None
    assert project.latest_monitoring["month"] == 4
    assert project.latest_monitoring["indicator_progress"] == {"students": D(40)}
    monitor(project, 6, D("2400000.00"))
    assert project.executed == D("2400000.00")


@pytest.mark.parametrize("month", [4, 3])
def test_monitoring_period_must_advance(month: int) -> None:
    project = build("budget_approved")
    monitor(project, 4, D("1500000.00"))
    refused(project, "monitoring-period-invalid", lambda: monitor(project, month, D("1500000.00"), on=date(2021, 5, 6)))


@pytest.mark.parametrize("month", [0, 13])
def test_monitoring_month_must_be_one_to_twelve(month: int) -> None:
    project = build("budget_approved")
    refused(project, "invalid-value", lambda: monitor(project, month, D(0), on=date(2021, 6, 1)))


def test_monitoring_executed_above_approved_is_refused() -> None:
    project = build("budget_approved")
    refused(project, "amount-exceeds-budget", lambda: monitor(project, 4, APPROVED + D("0.01")))
    monitor(project, 4, APPROVED)


def test_monitoring_executed_may_not_decrease() -> None:
    project = build("budget_approved")
    monitor(project, 4, D("1500000.00"))
    refused(project, "invalid-money", lambda: monitor(project, 6, D("1499999.99")))
    monitor(project, 6, D("1500000.00"))


@pytest.mark.parametrize("where", ["progress", "forecast"])
def test_monitoring_unknown_indicator_is_refused(where: str) -> None:
    project = build("budget_approved")
    values = {"no-such-indicator": D(50)}
    progress, forecast = (values, {}) if where == "progress" else ({}, values)
    refused(project, "invalid-indicator", lambda: project.report_monitoring(
        4, D(0), progress, forecast, "", "", DEPT, date(2021, 5, 5), "", []))


@pytest.mark.parametrize("on", [date(2020, 12, 31), date(2022, 2, 1)])
def test_monitoring_date_outside_the_year_is_refused(on: date) -> None:
    project = build("budget_approved")
    refused(project, "invalid-date", lambda: monitor(project, 4, D(0), on=on))


@pytest.mark.parametrize("on", [date(2021, 1, 1), date(2022, 1, 31)])
def test_monitoring_date_at_the_edges(on: date) -> None:
    project = build("budget_approved")
    monitor(project, 12, D(0), on=on)
    assert project.latest_monitoring is not None


def test_monitoring_review_recorded_once() -> None:
    project = build("budget_approved")
    monitor(project, 4, D("1500000.00"))
    project.review_monitoring(4, "执行正常", FINANCE, date(2021, 5, 10), "", [])
    assert project.monitoring_for(4)["review"] == "执行正常"
    refused(project, "already-decided",
            lambda: project.review_monitoring(4, "再审", FINANCE, date(2021, 5, 11), "", []))


# ---------------------------------------------------------------------------
# Deviation 偏差 and corrective action 纠偏
# ---------------------------------------------------------------------------

DETECTED_ON = date(2021, 5, 6)  # a Thursday
RESPOND_BY = date(2021, 5, 20)  # ten working days later


def detect(project: Project, on: date = DETECTED_ON) -> bool:
    return project.detect_deviation(P, 1, [], SYSTEM, on)


@pytest.mark.parametrize(
    ("executed", "progress", "level"),
    [
        pytest.param(D("1440000.00"), {}, None, id="30%-none"),
        pytest.param(D("1200000.00"), {}, None, id="25%-at-threshold"),
        pytest.param(D("1199520.00"), {}, "yellow", id="24.99%-yellow"),
        pytest.param(D("480000.00"), {}, "yellow", id="10%-exactly-15-below"),
        pytest.param(D("479520.00"), {}, "red", id="9.99%-red"),
        pytest.param(D("0.00"), {}, "red", id="nothing-executed"),
        pytest.param(D("1440000.00"), {"students": D(19)}, "yellow", id="indicator-lags-11-points"),
        pytest.param(D("1440000.00"), {"students": D(20)}, None, id="indicator-lags-10-points"),
    ],
)
def test_detect_deviation_levels_at_april(executed: Decimal, progress: dict[str, Decimal], level: str | None) -> None:
    project = build("budget_approved")
    monitor(project, 4, executed, progress)
    assert detect(project) is (level is not None)
    deviations = events_of(project, Project.DeviationDetected)
    if level is None:
        assert deviations == []
        assert project.deviations == []
    else:
        assert [event.level for event in deviations] == [level]
        assert project.deviations[0]["level"] == level
        assert project.deviations[0]["month"] == 4
        assert project.deviations[0]["answered"] is False


def test_detect_deviation_records_once_per_period() -> None:
    project = build("budget_approved")
    monitor(project, 4, D("960000.00"))
    assert detect(project) is True
    assert detect(project, date(2021, 5, 7)) is False
    assert len(events_of(project, Project.DeviationDetected)) == 1
    monitor(project, 6, D("960000.00"))  # 20% at June, below 40% by more than 15 → red
    assert detect(project, date(2021, 7, 6)) is True
    assert [d["level"] for d in project.deviations] == ["yellow", "red"]


def test_detected_deviation_records_respond_by_rates_and_ruleset_version() -> None:
    project = build("budget_approved")
    monitor(project, 4, D("960000.00"))
    project.detect_deviation(P, 4, [], SYSTEM, DETECTED_ON)
    (event,) = events_of(project, Project.DeviationDetected)
    assert event.respond_by == RESPOND_BY
    assert event.execution_rate == D("20.00")
    assert event.time_progress == D("33.33")
    assert event.ruleset_version == 4
    assert event.principal == SYSTEM
    assert event.effective_on == DETECTED_ON
    assert event.findings
    assert event.reason == "; ".join(event.findings)


def test_detect_deviation_skips_holidays_for_respond_by() -> None:
    project = build("budget_approved")
    monitor(project, 4, D("960000.00"))
    project.detect_deviation(P, 1, [date(2021, 5, 10)], SYSTEM, DETECTED_ON)
    assert project.deviations[0]["respond_by"] == date(2021, 5, 21)


def test_detect_deviation_does_nothing_outside_implementation() -> None:
    project = build("goals_approved")
    assert detect(project) is False
    assert project.pending_events[-1].__class__ is Project.GoalsReviewed


def corrective(project: Project, decision: str, amount: Decimal | None = None, month: int | None = None,
               reason: str = "纠偏") -> None:
    project.order_corrective_action(decision, amount, month, FINANCE, date(2021, 5, 12), reason, [])


def with_deviation() -> Project:
    project = build("budget_approved")
    monitor(project, 4, D("960000.00"))
    assert detect(project)
    return project


@pytest.mark.parametrize("amount", [None, D("0.00"), D("-5.00")])
def test_reduce_budget_needs_a_positive_amount(amount: Decimal | None) -> None:
    project = with_deviation()
    refused(project, "invalid-money", lambda: corrective(project, "reduce_budget", amount))


def test_reduce_budget_reduces_the_approved_amount() -> None:
    project = with_deviation()
    corrective(project, "reduce_budget", D("1000000.00"), month=4)
    assert project.approved_amount == D("3800000.00")
    assert project.deviations[0]["answered"] is True
    assert project.corrective_actions[-1] == {"decision": "reduce_budget", "amount": D("1000000.00"),
                                              "deviation_month": 4, "automatic": False}


def test_reduce_budget_cannot_go_below_executed() -> None:
    project = with_deviation()  # 960,000 executed of 4,800,000
    refused(project, "amount-exceeds-budget", lambda: corrective(project, "reduce_budget", D("3840000.01")))
    refused(project, "amount-exceeds-budget", lambda: corrective(project, "reduce_budget", D("9999999.00")))
    corrective(project, "reduce_budget", D("3840000.00"))
    assert project.approved_amount == project.executed == D("960000.00")


@pytest.mark.parametrize("decision", ["continue", "reallocate", "suspend_funding", "cancel"])
def test_amount_only_for_reduce_budget(decision: str) -> None:
    project = with_deviation()
    refused(project, "invalid-value", lambda: corrective(project, decision, D("100.00")))


def test_corrective_action_needs_a_reason() -> None:
    project = with_deviation()
    refused(project, "reason-required", lambda: corrective(project, "continue", reason=" "))


def test_corrective_action_for_an_unknown_deviation_month_is_refused() -> None:
    project = with_deviation()
    refused(project, "invalid-value", lambda: corrective(project, "continue", month=6))


def test_cancel_ends_implementation() -> None:
    project = with_deviation()
    corrective(project, "cancel")
    assert project.stage == Stage.CANCELLED
    assert project.funding_suspended is True
    refused(project, "wrong-stage", lambda: monitor(project, 6, D("960000.00")))
    refused(project, "wrong-stage", lambda: self_evaluate(project, executed=D("960000.00")))
    refused(project, "wrong-stage", lambda: corrective(project, "continue"))


def test_suspend_sets_and_continue_clears_funding_suspension() -> None:
    project = with_deviation()
    corrective(project, "suspend_funding", month=4)
    assert project.funding_suspended is True
    assert project.stage == Stage.BUDGET_APPROVED
    corrective(project, "continue")
    assert project.funding_suspended is False


def test_corrective_action_outside_implementation_is_refused() -> None:
    project = build("goals_approved")
    refused(project, "wrong-stage", lambda: corrective(project, "continue"))


def test_funding_suspended_automatically_once_after_respond_by() -> None:
    project = with_deviation()
    assert project.suspend_funding_if_unanswered(DETECTED_ON, SYSTEM) is False
    assert project.suspend_funding_if_unanswered(RESPOND_BY, SYSTEM) is False
    assert project.funding_suspended is False
    late = date(2021, 5, 21)
    assert project.suspend_funding_if_unanswered(late, SYSTEM) is True
    assert project.funding_suspended is True
    assert project.suspend_funding_if_unanswered(date(2021, 6, 30), SYSTEM) is False
    (event,) = events_of(project, Project.FundingSuspended)
    assert event.deviation_month == 4
    assert event.principal == SYSTEM
    assert event.effective_on == late
    assert project.corrective_actions[-1]["automatic"] is True


def test_answered_deviation_is_never_suspended_automatically() -> None:
    project = with_deviation()
    corrective(project, "continue", month=4)
    assert project.suspend_funding_if_unanswered(date(2021, 6, 30), SYSTEM) is False
    assert events_of(project, Project.FundingSuspended) == []


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
        grade: str, executed: Decimal, total: Decimal, rate: Decimal, execution_score: Decimal) -> None:
    project = build("budget_approved")
    project.self_evaluate(ACTUALS_BY_GRADE[grade], executed, P, 3, DEPT, SELF_EVAL_ON, "自评", [])
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
        "students": D("18.00"), "days": D("10.00"), "cost": D("10.00"), "health": D("30.00"), "parents": D("10.00")}


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
    refused(project, "invalid-date", lambda: project.self_evaluate(MET, APPROVED, P, 1, DEPT, on, "", []))


def test_self_evaluation_recorded_once() -> None:
    project = build("self_evaluated")
    refused(project, "wrong-stage", lambda: self_evaluate(project))


def test_self_evaluation_needs_every_actual() -> None:
    project = build("budget_approved")
    actuals = {key: value for key, value in MET.items() if key != "parents"}
    refused(project, "invalid-value",
            lambda: project.self_evaluate(actuals, APPROVED, P, 1, DEPT, SELF_EVAL_ON, "", []))


# ---------------------------------------------------------------------------
# Re-evaluation 再评价
# ---------------------------------------------------------------------------


def select(project: Project) -> None:
    project.select_for_re_evaluation("sample-2021", FINANCE, date(2022, 4, 1))


def re_evaluate(project: Project, scores: dict[str, Decimal] | None = None) -> None:
    project.re_evaluate(scores or re_scores(), P, 1, FINANCE, date(2022, 4, 20), "再评价", [])


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

KE = "KE-2021-EDU-2021-001-1"


def commission(project: Project, evaluation_id: str = KE) -> None:
    project.commission_key_evaluation(evaluation_id, "agency-id", "某咨询评估有限公司", FINANCE, date(2022, 3, 1),
                                      "重点评价", [])


def review_plan(project: Project, approved: bool = True) -> None:
    project.review_key_evaluation_plan(KE, approved, FINANCE, date(2022, 3, 10), "", [])


def review_report(project: Project, approved: bool = True) -> None:
    project.review_key_evaluation_report(KE, approved, FINANCE, date(2022, 4, 10), "", [])


def score_key(project: Project, scores: dict[str, Decimal] | None = None) -> None:
    project.score_key_evaluation(KE, scores or re_scores(), P, 1, AGENCY, date(2022, 4, 15), "评分", [])


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
    project = build("self_evaluated")
    commission(project)
    review_plan(project)
    project.note_key_evaluation_supervision(KE, "现场督导：抽查凭证", FINANCE, date(2022, 3, 20), [])
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
    refused(project, "invalid-value",
            lambda: project.note_key_evaluation_supervision(KE, " ", FINANCE, date(2022, 3, 20), []))


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
    assert project.results == {"decision": decision, "basis": "self_evaluation", "grade": grade,
                               "next_year_budget": next_year, "ruleset_version": 1}


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
        "re_evaluation", "中", "reduce")


@pytest.mark.parametrize("stage", ["budget_approved", "results_applied"])
def test_results_applied_only_once_after_self_evaluation(stage: str) -> None:
    project = build(stage)
    refused(project, "wrong-stage", lambda: apply_results(project))


# ---------------------------------------------------------------------------
# Rectification 整改
# ---------------------------------------------------------------------------

REQUIRED_ON = date(2022, 3, 1)
DEADLINE = date(2022, 4, 30)


def require(project: Project, deadline: date = DEADLINE, issues: list[str] | None = None) -> int:
    return project.require_rectification(["资金支付滞后"] if issues is None else issues, "self_evaluation",
                                         deadline, FINANCE, REQUIRED_ON, "自评发现问题", [])


def report_rect(project: Project, number: int = 1) -> None:
    project.report_rectification(number, "已加快支付进度", DEPT, date(2022, 4, 1), "", [digest(7)])


def decide_rect(project: Project, accept: bool, number: int = 1, reason: str = "") -> None:
    project.decide_rectification(number, accept, FINANCE, date(2022, 4, 5), reason, [])


@pytest.mark.parametrize("deadline", [REQUIRED_ON, date(2022, 2, 28)])
def test_rectification_deadline_must_be_after_the_effective_date(deadline: date) -> None:
    project = build("self_evaluated")
    refused(project, "invalid-date", lambda: require(project, deadline))


def test_rectification_needs_issues() -> None:
    project = build("self_evaluated")
    refused(project, "invalid-value", lambda: require(project, issues=[]))


def test_rectification_before_budget_approval_is_refused() -> None:
    project = build("goals_approved")
    refused(project, "wrong-stage", lambda: require(project))


def test_rectification_state_machine() -> None:
    project = build("self_evaluated")
    assert require(project) == 1
    assert project.rectification(1)["status"] == "open"
    refused(project, "already-decided", lambda: decide_rect(project, True))
    refused(project, "invalid-value",
            lambda: project.report_rectification(1, " ", DEPT, date(2022, 4, 1), "", []))
    report_rect(project)
    assert project.rectification(1)["status"] == "reported"
    assert project.rectification(1)["reports"] == [{"measures": "已加快支付进度", "evidence": [digest(7)]}]
    refused(project, "already-decided", lambda: report_rect(project))
    refused(project, "reason-required", lambda: decide_rect(project, False))
    decide_rect(project, False, reason="佐证材料不足")
    assert project.rectification(1)["status"] == "open"
    assert [item["no"] for item in project.open_rectifications] == [1]
    report_rect(project)
    decide_rect(project, True)
    assert project.rectification(1)["status"] == "accepted"
    assert project.open_rectifications == []
    refused(project, "already-decided", lambda: report_rect(project))
    refused(project, "already-decided", lambda: decide_rect(project, True))
    assert require(project) == 2


def test_unknown_rectification_is_refused() -> None:
    project = build("self_evaluated")
    refused(project, "rectification-not-found", lambda: report_rect(project, 3))


def test_rectifications_marked_overdue_once_and_only_after_the_deadline() -> None:
    project = build("self_evaluated")
    require(project)
    require(project, date(2022, 6, 30))
    assert project.mark_rectifications_overdue(DEADLINE, SYSTEM) == []
    assert project.mark_rectifications_overdue(date(2022, 5, 1), SYSTEM) == [1]
    assert project.rectification(1)["overdue"] is True
    assert project.rectification(2)["overdue"] is False
    assert project.mark_rectifications_overdue(date(2022, 5, 2), SYSTEM) == []
    (event,) = events_of(project, Project.RectificationOverdue)
    assert (event.rectification_no, event.principal, event.effective_on) == (1, SYSTEM, date(2022, 5, 1))


def test_accepted_rectification_is_never_overdue() -> None:
    project = build("self_evaluated")
    require(project)
    report_rect(project)
    decide_rect(project, True)
    assert project.mark_rectifications_overdue(date(2022, 12, 31), SYSTEM) == []


# ---------------------------------------------------------------------------
# Disclosure 信息公开
# ---------------------------------------------------------------------------


def disclose(project: Project, what: str) -> None:
    project.disclose(what, FINANCE, date(2022, 5, 10), "", [])


@pytest.mark.parametrize("stage", ["admitted", "goals_submitted"])
def test_goals_disclosed_only_when_approved(stage: str) -> None:
    project = build(stage)
    refused(project, "goals-not-approved", lambda: disclose(project, "goals"))


def test_refused_goals_are_not_disclosed() -> None:
    project = build("goals_submitted")
    review(project, "差")
    refused(project, "goals-not-approved", lambda: disclose(project, "goals"))


def test_approved_goals_are_disclosed() -> None:
    project = build("goals_approved")
    disclose(project, "goals")
    assert project.disclosed == ["goals"]


@pytest.mark.parametrize("stage", ["goals_approved", "budget_approved"])
def test_results_disclosed_only_when_there_are_results(stage: str) -> None:
    project = build(stage)
    refused(project, "no-results", lambda: disclose(project, "results"))


@pytest.mark.parametrize(("stage", "what"), [("goals_approved", "goals"), ("self_evaluated", "results")])
def test_disclosing_twice_is_refused(stage: str, what: str) -> None:
    project = build(stage)
    disclose(project, what)
    refused(project, "already-decided", lambda: disclose(project, what))


# ---------------------------------------------------------------------------
# Closing 关闭
# ---------------------------------------------------------------------------


def test_close_refused_with_open_rectifications() -> None:
    project = build("self_evaluated")
    require(project)
    apply_results(project)
    refused(project, "open-rectifications", lambda: close(project))
    report_rect(project)
    refused(project, "open-rectifications", lambda: close(project))
    decide_rect(project, True)
    close(project)
    assert project.stage == Stage.CLOSED


@pytest.mark.parametrize("stage", ["admitted", "budget_approved", "self_evaluated"])
def test_close_refused_before_the_cycle_ends(stage: str) -> None:
    project = build(stage)
    refused(project, "wrong-stage", lambda: close(project))


def test_terminal_and_cancelled_projects_may_be_closed() -> None:
    rejected = declare(new_major=True)
    rejected.assess_ex_ante(ex_ante_scores(D(0)), P, 1, FINANCE, ASSESSED_ON, "", [])
    refused_goals = build("goals_submitted")
    review(refused_goals, "差")
    cancelled = with_deviation()
    corrective(cancelled, "cancel")
    for project in (rejected, refused_goals, cancelled):
        close(project)
        assert project.stage == Stage.CLOSED


def test_close_is_refused_while_a_key_evaluation_is_unfinished() -> None:
    project = build("self_evaluated")
    commission(project)
    apply_results(project)
    refused(project, "evaluations-open", lambda: close(project))
    review_plan(project)
    review_report(project)
    score_key(project)
    close(project)
    assert project.stage == Stage.CLOSED


def closed_project() -> Project:
    """Closed after results applied, with an accepted rectification and a finished key evaluation."""
    project = build("self_evaluated")
    require(project)
    report_rect(project)
    decide_rect(project, True)
    commission(project)
    review_plan(project)
    review_report(project)
    score_key(project)
    select(project)
    apply_results(project)
    close(project)
    assert project.stage == Stage.CLOSED
    return project


CLOSED_COMMANDS: list[Any] = [
    pytest.param(lambda p: p.assess_ex_ante(ex_ante_scores(D(20)), P, 1, FINANCE, CLOSED_ON, "", []), id="ex-ante"),
    pytest.param(lambda p: admit(p), id="admit"),
    pytest.param(lambda p: submit(p), id="submit-goals"),
    pytest.param(lambda p: review(p, "优"), id="review-goals"),
    pytest.param(lambda p: approve(p, on=date(2021, 12, 1)), id="approve-budget"),
    pytest.param(lambda p: request_adjustment(p), id="request-adjustment"),
    pytest.param(lambda p: decide_adjustment(p, 1, True), id="decide-adjustment"),
    pytest.param(lambda p: monitor(p, 12, APPROVED), id="monitoring"),
    pytest.param(lambda p: p.review_monitoring(4, "x", FINANCE, CLOSED_ON, "", []), id="review-monitoring"),
    pytest.param(lambda p: corrective(p, "continue"), id="corrective-action"),
    pytest.param(lambda p: self_evaluate(p), id="self-evaluate"),
    pytest.param(lambda p: select(p), id="select"),
    pytest.param(lambda p: re_evaluate(p), id="re-evaluate"),
    pytest.param(lambda p: commission(p, "KE-2"), id="commission"),
    pytest.param(lambda p: apply_results(p), id="apply-results"),
    pytest.param(lambda p: require(p, date(2022, 12, 31)), id="require-rectification"),
    pytest.param(lambda p: close(p), id="close"),
    pytest.param(lambda p: review_plan(p), id="review-key-plan"),
    pytest.param(lambda p: review_report(p), id="review-key-report"),
    pytest.param(lambda p: p.note_key_evaluation_supervision(KE, "督导", FINANCE, CLOSED_ON, []),
                 id="key-supervision"),
    pytest.param(lambda p: score_key(p), id="score-key"),
    pytest.param(lambda p: disclose(p, "goals"), id="disclose-goals"),
    pytest.param(lambda p: disclose(p, "results"), id="disclose-results"),
    pytest.param(lambda p: report_rect(p), id="report-rectification"),
    pytest.param(lambda p: decide_rect(p, True), id="decide-rectification"),
]


@pytest.mark.parametrize("command", CLOSED_COMMANDS)
def test_closed_project_refuses_everything(command: Callable[[Project], object]) -> None:
    project = closed_project()
    refused(project, "project-closed", lambda: command(project))


def test_closed_project_keeps_its_evaluation_basis() -> None:
    project = closed_project()
    basis = project.evaluation_basis()
    with pytest.raises(DomainError):
        score_key(project, re_scores(D(30), D(35)))  # 35 → 差
    assert project.evaluation_basis() == basis


def test_scheduler_jobs_record_nothing_on_a_closed_project() -> None:
    project = closed_project()
    before = len(project.pending_events)
    assert project.detect_deviation(P, 1, [], SYSTEM, date(2022, 7, 1)) is False
    assert project.suspend_funding_if_unanswered(date(2022, 7, 1), SYSTEM) is False
    assert project.mark_rectifications_overdue(date(2022, 12, 31), SYSTEM) == []
    assert len(project.pending_events) == before


# ---------------------------------------------------------------------------
# Attribution: every event carries who, when, why and on what evidence
# ---------------------------------------------------------------------------


def test_every_event_carries_the_principal_date_reason_and_evidence_given() -> None:
    project = declare(new_major=True, reason="申报理由", evidence=[digest(0)])
    counter = iter(range(1, 1000))

    def step(principal: Principal, on: date, call: Callable[[str, list[str]], object], *,
             takes_reason: bool = True) -> None:
        n = next(counter)
        why = f"理由-{n}" if takes_reason else ""
        evidence = [digest(n), digest(n + 1000)]
        before = len(project.pending_events)
        call(why, evidence)
        new = project.pending_events[before:]
        assert len(new) == 1, new
        event = new[0]
        assert event.principal == principal
        assert event.effective_on == on
        assert event.reason == why
        assert event.evidence == evidence

    step(FINANCE, ASSESSED_ON, lambda r, e: project.assess_ex_ante(
        ex_ante_scores(D(20)), P, 1, FINANCE, ASSESSED_ON, r, e))
    step(FINANCE, ADMITTED_ON, lambda r, e: project.admit(P, FINANCE, ADMITTED_ON, r, e))
    step(DEPT, GOALS_ON, lambda r, e: project.submit_goals(goals(), P, 1, DEPT, GOALS_ON, r, e))
    step(FINANCE, REVIEWED_ON, lambda r, e: project.review_goals("中", "细化", FINANCE, REVIEWED_ON, r, e))
    step(DEPT, date(2020, 11, 10), lambda r, e: project.submit_goals(goals(), P, 1, DEPT, date(2020, 11, 10), r, e))
    step(FINANCE, date(2020, 11, 20), lambda r, e: project.review_goals("优", "", FINANCE, date(2020, 11, 20), r, e))
    step(FINANCE, date(2020, 12, 1), lambda r, e: project.disclose("goals", FINANCE, date(2020, 12, 1), r, e))
    step(FINANCE, BUDGET_ON, lambda r, e: project.approve_budget(APPROVED, FINANCE, BUDGET_ON, r, e))
    step(DEPT, date(2021, 3, 1), lambda r, e: project.request_goal_adjustment(
        goals(D(4500)), P, DEPT, date(2021, 3, 1), r, e))
    step(FINANCE, date(2021, 3, 8), lambda r, e: project.decide_goal_adjustment(
        1, True, FINANCE, date(2021, 3, 8), r, e))
    step(DEPT, date(2021, 5, 5), lambda r, e: project.report_monitoring(
        4, D("960000.00"), {"students": D(20)}, {"students": D(95)}, "开学延迟", "加快进度", DEPT,
        date(2021, 5, 5), r, e))
    step(FINANCE, date(2021, 5, 6), lambda r, e: project.review_monitoring(
        4, "需纠偏", FINANCE, date(2021, 5, 6), r, e))
    assert project.detect_deviation(P, 1, [], SYSTEM, date(2021, 5, 7))
    step(FINANCE, date(2021, 5, 12), lambda r, e: project.order_corrective_action(
        "continue", None, 4, FINANCE, date(2021, 5, 12), r, e))
    step(DEPT, SELF_EVAL_ON, lambda r, e: project.self_evaluate(
        {**MET, "students": D(4500)}, APPROVED, P, 1, DEPT, SELF_EVAL_ON, r, e))
    step(FINANCE, date(2022, 3, 1), lambda r, e: project.commission_key_evaluation(
        KE, "agency-id", "某咨询评估有限公司", FINANCE, date(2022, 3, 1), r, e))
    step(FINANCE, date(2022, 3, 10), lambda r, e: project.review_key_evaluation_plan(
        KE, True, FINANCE, date(2022, 3, 10), r, e))
    step(FINANCE, date(2022, 3, 20), lambda r, e: project.note_key_evaluation_supervision(
        KE, "现场督导", FINANCE, date(2022, 3, 20), e), takes_reason=False)
    step(FINANCE, date(2022, 4, 10), lambda r, e: project.review_key_evaluation_report(
        KE, True, FINANCE, date(2022, 4, 10), r, e))
    step(AGENCY, date(2022, 4, 15), lambda r, e: project.score_key_evaluation(
        KE, re_scores(), P, 1, AGENCY, date(2022, 4, 15), r, e))
    step(FINANCE, date(2022, 4, 16), lambda r, e: project.require_rectification(
        ["台账不全"], "key_evaluation", date(2022, 6, 30), FINANCE, date(2022, 4, 16), r, e))
    step(DEPT, date(2022, 5, 1), lambda r, e: project.report_rectification(
        1, "已补齐台账", DEPT, date(2022, 5, 1), r, e))
    step(FINANCE, date(2022, 5, 3), lambda r, e: project.decide_rectification(
        1, False, FINANCE, date(2022, 5, 3), r, e))
    step(DEPT, date(2022, 5, 8), lambda r, e: project.report_rectification(
        1, "再次补齐", DEPT, date(2022, 5, 8), r, e))
    step(FINANCE, date(2022, 5, 9), lambda r, e: project.decide_rectification(
        1, True, FINANCE, date(2022, 5, 9), r, e))
    step(FINANCE, RESULTS_ON, lambda r, e: project.apply_results(None, P, 1, FINANCE, RESULTS_ON, r, e))
    step(FINANCE, date(2022, 5, 20), lambda r, e: project.disclose("results", FINANCE, date(2022, 5, 20), r, e))
    step(FINANCE, CLOSED_ON, lambda r, e: project.close(FINANCE, CLOSED_ON, r, e))

    events = project.collect_events()
    assert project.pending_events == []
    assert [event.originator_version for event in events] == list(range(1, len(events) + 1))
    assert isinstance(events[0], Project.Declared)
    assert (events[0].principal, events[0].effective_on, events[0].reason, events[0].evidence) == (
        DEPT, DECLARED_ON, "申报理由", [digest(0)])
    assert all(isinstance(event.principal, Principal) and isinstance(event.effective_on, date) for event in events)
    assert len(events) == 29


def test_selection_is_attributed_to_who_selected_and_when() -> None:
    project = build("self_evaluated")
    select(project)
    event = project.pending_events[-1]
    assert isinstance(event, Project.SelectedForReEvaluation)
    assert (event.principal, event.effective_on, event.sample_id) == (FINANCE, date(2022, 4, 1), "sample-2021")


def test_replaying_the_events_rebuilds_the_same_state() -> None:
    project = closed_project()
    events = project.collect_events()
    replayed: Project | None = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert replayed.__dict__ == project.__dict__


@pytest.mark.parametrize(
    ("stage", "command"),
    [
        pytest.param("goals_submitted", lambda p: review(p, "A+"), id="rating"),
        pytest.param("budget_approved", lambda p: corrective(p, "pause"), id="corrective-decision"),
        pytest.param("self_evaluated", lambda p: apply_results(p, "abolish", "理由"), id="result-decision"),
        pytest.param("self_evaluated", lambda p: p.require_rectification(
            ["问题"], "newspaper", DEADLINE, FINANCE, REQUIRED_ON, "", []), id="rectification-source"),
        pytest.param("goals_approved", lambda p: disclose(p, "everything"), id="disclosure"),
    ],
)
def test_unknown_enumerated_values_are_refused_as_invalid_input(stage: str,
                                                                command: Callable[[Project], object]) -> None:
    project = build(stage)
    refused(project, "invalid-value", lambda: command(project))


def test_the_plan_review_closes_once_the_report_is_reviewed() -> None:
    """Found by the state machine: re-rejecting the plan after the report review let a score through."""
    project = build("budget_approved")
    commission(project)
    review_plan(project)
    review_report(project)
    refused(project, "already-decided",
            lambda: project.review_key_evaluation_plan(KE, False, FINANCE, date(2022, 6, 1), "", []))
    score_key(project)
