"""Unit tests of finance's spot checks (不定期核查) of a project and the escalation of an overdue rectification
(整改逾期升级, then 调减 or 收回): every rule and refusal, and what a replay rebuilds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from eventsourcing.domain import Snapshot

from ledger.domain.project import Project
from ledger.domain.values import SYSTEM, Attribution
from tests.ledger.domain.project_support import (
    APPROVED,
    FINANCE,
    D,
    P,
    build,
    decide_rect,
    events_of,
    monitor,
    refused,
    report_rect,
    require,
)

CHECKED_ON = date(2021, 5, 20)
FINDINGS = ["监控报告所列支付进度与国库支付数据不符"]


def check(project: Project, subject: str = "monitoring", month: int | None = 4, **kwargs: object) -> int:
    reason = str(kwargs.pop("reason", "核查发现问题"))
    on = kwargs.pop("on", CHECKED_ON)
    assert isinstance(on, date)
    return project.record_spot_check(subject, month, FINDINGS, Attribution(FINANCE, on, reason), **kwargs)  # type: ignore[arg-type]


def monitored() -> Project:
    project = build("budget_approved")
    monitor(project, 4, D("1500000.00"))
    return project


def test_spot_check_of_a_monitoring_report_records_its_findings() -> None:
    project = monitored()
    assert check(project) == 1
    (event,) = events_of(project, Project.SpotChecked)
    assert (event.subject, event.month, event.findings, event.corrective_action, event.rectification_no) == (
        "monitoring",
        4,
        FINDINGS,
        None,
        None,
    )
    assert project.spot_check(1)["checked_on"] == CHECKED_ON
    assert check(project) == 2  # a report may be checked again
    assert project.corrective_actions == []


def test_spot_check_of_the_self_evaluation() -> None:
    project = build("self_evaluated")
    assert check(project, "self_evaluation", None, on=date(2022, 3, 10)) == 1
    assert project.spot_check(1)["subject"] == "self_evaluation"


@pytest.mark.parametrize(
    ("stage", "subject", "month", "code"),
    [
        ("budget_approved", "monitoring", 4, "spot-check-subject-not-found"),  # nothing reported yet
        ("budget_approved", "self_evaluation", None, "wrong-stage"),  # not self-evaluated yet
        ("goals_approved", "monitoring", 4, "wrong-stage"),
        ("closed", "monitoring", 4, "project-closed"),
    ],
)
def test_spot_check_needs_what_it_examines(stage: str, subject: str, month: int | None, code: str) -> None:
    project = build(stage)
    refused(project, code, lambda: check(project, subject, month, on=date(2022, 6, 1)))


def test_spot_check_refusals_of_its_input() -> None:
    project = monitored()
    refused(project, "invalid-value", lambda: check(project, "monitoring", None))  # which report?
    refused(project, "spot-check-subject-not-found", lambda: check(project, "monitoring", 6))
    refused(project, "invalid-value", lambda: check(project, "audit", 4))
    refused(
        project,
        "invalid-value",
        lambda: project.record_spot_check("monitoring", 4, [], Attribution(FINANCE, CHECKED_ON, "无")),
    )
    refused(
        project,
        "invalid-value",
        lambda: project.record_spot_check("monitoring", 4, [" "], Attribution(FINANCE, CHECKED_ON, "无")),
    )
    refused(project, "effective-date-too-early", lambda: check(project, on=date(2021, 5, 1)))  # before the report
    refused(project, "invalid-value", lambda: check(project, amount=D(100)))  # an amount without an action
    refused(
        project, "invalid-date", lambda: check(project, rectification_deadline=CHECKED_ON)
    )  # due the day it is required
    evaluated = build("self_evaluated")
    refused(evaluated, "invalid-value", lambda: check(evaluated, "self_evaluation", 4, on=date(2022, 3, 10)))


def test_a_finding_orders_a_corrective_action_that_answers_no_deviation() -> None:
    project = monitored()
    check(project, corrective_action="reduce_budget", amount=D("300000.00"))
    assert project.approved_amount == APPROVED - D("300000.00")
    assert project.corrective_actions == [
        {
            "decision": "reduce_budget",
            "amount": D("300000.00"),
            "deviation_month": None,
            "automatic": False,
            "spot_check_no": 1,
        }
    ]
    check(project, corrective_action="suspend_funding")
    assert project.funding_suspended is True


def test_a_finding_orders_corrective_actions_under_the_deviation_rules() -> None:
    project = monitored()
    refused(project, "reason-required", lambda: check(project, corrective_action="continue", reason=""))
    refused(project, "invalid-money", lambda: check(project, corrective_action="reduce_budget"))
    refused(project, "invalid-value", lambda: check(project, corrective_action="continue", amount=D(1)))
    refused(
        project, "amount-exceeds-budget", lambda: check(project, corrective_action="reduce_budget", amount=APPROVED)
    )
    refused(project, "invalid-value", lambda: check(project, corrective_action="shout"))
    evaluated = build("self_evaluated")  # a corrective action is for a project being implemented
    refused(
        evaluated,
        "wrong-stage",
        lambda: check(evaluated, "self_evaluation", None, corrective_action="continue", on=date(2022, 3, 10)),
    )


def test_a_finding_orders_a_rectification_of_its_findings() -> None:
    project = monitored()
    check(project, rectification_deadline=date(2021, 7, 1))
    (required,) = events_of(project, Project.RectificationRequired)
    assert (required.source, required.issues, required.deadline) == ("spot_check", FINDINGS, date(2021, 7, 1))
    assert project.spot_check(1)["rectification_no"] == 1 == project.rectification(1)["no"]


# ------------------------------------------------------------------ escalation 整改逾期升级

GRACE_ENDS = date(2022, 5, 13)  # ten working days after Saturday 30 April 2022 (a calendar without holidays)


def overdue() -> Project:
    project = build("self_evaluated")
    require(project)
    assert project.mark_rectifications_overdue(date(2022, 5, 1), SYSTEM) == [1]
    return project


def escalate(project: Project, today: date, params: object = P) -> list[int]:
    return project.escalate_overdue_rectifications(today, params, 1, ((), ()), SYSTEM)  # type: ignore[arg-type]


def test_an_overdue_rectification_is_escalated_once_after_the_grace_in_working_days() -> None:
    project = overdue()
    assert project.next_escalation_check(P, ((), ())) == date(2022, 5, 14)
    assert escalate(project, GRACE_ENDS) == []
    assert escalate(project, date(2022, 5, 14)) == [1]
    (event,) = events_of(project, Project.RectificationEscalated)
    assert (event.grace_working_days, event.grace_ends, event.principal, event.effective_on) == (
        10,
        GRACE_ENDS,
        SYSTEM,
        date(2022, 5, 14),
    )
    assert escalate(project, date(2022, 6, 1)) == []  # once
    assert project.next_escalation_check(P, ((), ())) is None


def test_escalation_counts_holidays_and_the_ruleset_grace() -> None:
    project = overdue()
    holidays = {date(2022, 5, 2), date(2022, 5, 3), date(2022, 5, 4)}  # 劳动节
    assert project.next_escalation_check(P, (holidays, ())) == date(2022, 5, 19)
    shorter = replace(P, rectification_escalation_working_days=1)
    assert project.next_escalation_check(shorter, ((), ())) == date(2022, 5, 3)
    assert escalate(project, date(2022, 5, 3), shorter) == [1]


def test_no_escalation_unless_overdue_and_unaccepted() -> None:
    project = build("self_evaluated")
    require(project)
    assert escalate(project, date(2022, 6, 1)) == []  # not yet recorded overdue
    assert project.next_escalation_check(P, ((), ())) is None
    report_rect(project)
    decide_rect(project, True)
    project.mark_rectifications_overdue(date(2022, 6, 1), SYSTEM)
    assert escalate(project, date(2022, 6, 1)) == []


def test_finance_decides_reduce_on_an_escalation_once() -> None:
    project = overdue()
    escalate(project, date(2022, 5, 14))
    by = Attribution(FINANCE, date(2022, 5, 20), "逾期未整改，调减预算")
    refused(project, "amount-exceeds-budget", lambda: project.decide_escalation(1, "reduce", D("0.01"), by))
    # (self-evaluated with everything executed: nothing unspent to reduce; recovering takes back spent funds)
    project.decide_escalation(1, "recover", D("500000.00"), by)
    assert project.approved_amount == APPROVED - D("500000.00") == project.executed
    assert project.rectification(1)["escalation"]["decision"] == "recover"
    assert project.rectification(1)["escalation"]["decided_on"] == date(2022, 5, 20)
    refused(project, "already-decided", lambda: project.decide_escalation(1, "recover", D(1), by))


def test_reduce_lowers_the_unspent_budget_only() -> None:
    project = build("budget_approved")
    monitor(project, 4, D("1000000.00"))
    project.require_rectification(["问题"], "monitoring", date(2021, 6, 1), Attribution(FINANCE, date(2021, 5, 10)))
    project.mark_rectifications_overdue(date(2021, 6, 2), SYSTEM)
    assert escalate(project, date(2021, 6, 16)) == [1]
    by = Attribution(FINANCE, date(2021, 6, 20), "调减")
    unspent = APPROVED - D("1000000.00")
    refused(project, "amount-exceeds-budget", lambda: project.decide_escalation(1, "reduce", unspent + D("0.01"), by))
    project.decide_escalation(1, "reduce", unspent, by)
    assert (project.approved_amount, project.executed) == (D("1000000.00"), D("1000000.00"))


def test_escalation_decision_refusals() -> None:
    project = overdue()
    by = Attribution(FINANCE, date(2022, 5, 20), "收回")
    refused(project, "rectification-not-escalated", lambda: project.decide_escalation(1, "recover", D(1), by))
    refused(project, "rectification-not-found", lambda: project.decide_escalation(2, "recover", D(1), by))
    escalate(project, date(2022, 5, 14))
    refused(project, "invalid-value", lambda: project.decide_escalation(1, "forgive", D(1), by))
    refused(project, "invalid-money", lambda: project.decide_escalation(1, "recover", D(0), by))
    refused(
        project,
        "reason-required",
        lambda: project.decide_escalation(1, "recover", D(1), Attribution(FINANCE, date(2022, 5, 20))),
    )
    refused(
        project,
        "effective-date-too-early",
        lambda: project.decide_escalation(1, "recover", D(1), Attribution(FINANCE, date(2022, 5, 13), "早")),
    )
    refused(project, "amount-exceeds-budget", lambda: project.decide_escalation(1, "recover", APPROVED + 1, by))


def test_replay_rebuilds_spot_checks_and_escalations() -> None:
    project = monitored()
    check(project, corrective_action="reduce_budget", amount=D("1000.00"), rectification_deadline=date(2021, 6, 1))
    project.mark_rectifications_overdue(date(2021, 6, 2), SYSTEM)
    escalate(project, date(2021, 6, 16))
    project.decide_escalation(1, "reduce", D("2000.00"), Attribution(FINANCE, date(2021, 6, 20), "调减"))
    copy: Project | None = None
    for event in project.collect_events():
        copy = event.mutate(copy)
    assert copy is not None
    assert copy.spot_checks == project.spot_checks
    assert copy.rectifications == project.rectifications
    assert copy.approved_amount == APPROVED - D("3000.00")


def test_a_snapshot_taken_before_spot_checks_is_upcast() -> None:
    project = monitored()
    project.collect_events()
    snapshot = Snapshot.take(project)
    assert snapshot.state["class_version"] == 9
    old = Snapshot(
        originator_id=project.id,
        originator_version=project.version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state={**{k: v for k, v in snapshot.state.items() if k != "spot_checks"}, "class_version": 8},
    )
    restored: Any = old.mutate(None)
    assert restored.spot_checks == []
    assert restored == project
