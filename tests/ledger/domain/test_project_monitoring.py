"""Unit tests of the project (ledger.domain.project) under implementation: monitoring reports, deviations and
corrective actions, funding suspended automatically."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.domain.project import Project
from ledger.domain.project_values import Stage
from ledger.domain.values import SYSTEM, Attribution
from tests.ledger.domain.project_support import (
    APPROVED,
    DEPT,
    DETECTED_ON,
    FINANCE,
    RESPOND_BY,
    D,
    P,
    build,
    corrective,
    detect,
    events_of,
    monitor,
    refused,
    self_evaluate,
    with_deviation,
)

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
    refused(
        project,
        "invalid-indicator",
        lambda: project.report_monitoring(4, D(0), progress, forecast, "", "", P, Attribution(DEPT, date(2021, 5, 5))),
    )


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
    project.review_monitoring(4, "执行正常", Attribution(FINANCE, date(2021, 5, 10)))
    assert project.monitoring_for(4)["review"] == "执行正常"
    refused(
        project,
        "already-decided",
        lambda: project.review_monitoring(4, "再审", Attribution(FINANCE, date(2021, 5, 11))),
    )


# ---------------------------------------------------------------------------
# Deviation 偏差 and corrective action 纠偏
# ---------------------------------------------------------------------------


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


@pytest.mark.parametrize("amount", [None, D("0.00"), D("-5.00")])
def test_reduce_budget_needs_a_positive_amount(amount: Decimal | None) -> None:
    project = with_deviation()
    refused(project, "invalid-money", lambda: corrective(project, "reduce_budget", amount))


def test_reduce_budget_reduces_the_approved_amount() -> None:
    project = with_deviation()
    corrective(project, "reduce_budget", D("1000000.00"), month=4)
    assert project.approved_amount == D("3800000.00")
    assert project.deviations[0]["answered"] is True
    assert project.corrective_actions[-1] == {
        "decision": "reduce_budget",
        "amount": D("1000000.00"),
        "deviation_month": 4,
        "automatic": False,
    }


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
