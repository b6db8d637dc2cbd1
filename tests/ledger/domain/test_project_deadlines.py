"""Deadline notices (临期提醒 / 逾期) on the project, and the days the scheduler must look again.

No database: the aggregate is driven directly. Fiscal year 2021, so goals are due 2020-10-31, the January–July
monitoring report 2021-08-15 and the self-evaluation 2022-03-31; the default warning is 7 days.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Snapshot

from ledger.domain.agencies import Agency
from ledger.domain.deadlines import Deadline, DeadlineKind, meets_monitoring_report
from ledger.domain.project import Project
from ledger.domain.project_values import Stage
from ledger.domain.values import SYSTEM, Attribution
from ledger.store.transcodings import ledger_mapper
from tests.ledger.domain.project_support import (
    APPROVED,
    DEPT,
    DETECTED_ON,
    FINANCE,
    RESPOND_BY,
    P,
    admit,
    build,
    corrective,
    decide_rect,
    declare,
    detect,
    events_of,
    monitor,
    mutating,
    report_rect,
    require,
    review,
    self_evaluate,
    submit,
    with_deviation,
)

D = Decimal
GOALS_DUE = date(2020, 10, 31)
MONITORING_DUE = date(2021, 8, 15)
SELF_EVALUATION_DUE = date(2022, 3, 31)


def notices(project: Project, today: date) -> list[tuple[str, str, int, date, date]]:
    """Raise the notices due on ``today``; what was recorded, as (event, kind, ref, due, effective_on)."""
    before = len(project.pending_events)
    project.raise_deadline_notices(today, P, SYSTEM)
    raised = []
    for e in project.pending_events[before:]:
        assert isinstance(e, (Project.DeadlineApproaching, Project.DeadlineMissed))
        raised.append((type(e).__name__, e.deadline, e.ref, e.due_on, e.effective_on))
    return raised


def test_goal_submission_warns_seven_days_before_and_misses_the_day_after() -> None:
    project = declare()
    assert project.open_deadlines(P) == [Deadline("goal_submission", 0, GOALS_DUE)]
    assert project.next_deadline_notice(P) == date(2020, 10, 24)
    assert notices(project, date(2020, 10, 23)) == []
    assert notices(project, date(2020, 10, 24)) == [
        ("DeadlineApproaching", "goal_submission", 0, GOALS_DUE, date(2020, 10, 24))
    ]
    assert notices(project, date(2020, 10, 30)) == []  # once
    assert project.next_deadline_notice(P) == date(2020, 11, 1)
    assert notices(project, GOALS_DUE) == []
    assert notices(project, date(2020, 11, 1)) == [
        ("DeadlineMissed", "goal_submission", 0, GOALS_DUE, date(2020, 11, 1))
    ]
    assert notices(project, date(2020, 12, 1)) == []
    assert project.next_deadline_notice(P) is None
    assert project.notices_for(Deadline("goal_submission", 0, GOALS_DUE)) == {
        "kind": "goal_submission",
        "ref": 0,
        "due_on": GOALS_DUE,
        "approaching": date(2020, 10, 24),
        "missed": date(2020, 11, 1),
    }
    assert all(event.principal == SYSTEM for event in events_of(project, Project.DeadlineApproaching))


def test_a_late_first_look_records_only_the_miss_dated_the_day_after_the_deadline() -> None:
    project = declare()
    assert notices(project, date(2020, 11, 20)) == [
        ("DeadlineMissed", "goal_submission", 0, GOALS_DUE, date(2020, 11, 1))
    ]
    assert notices(project, date(2020, 11, 21)) == []


def test_submitted_goals_settle_the_deadline_and_a_returned_draft_does_not_reopen_it() -> None:
    project = declare()
    admit(project)
    assert [d.kind for d in project.open_deadlines(P)] == ["goal_submission"]
    submit(project)
    assert project.open_deadlines(P) == []
    review(project, "中", "指标不够细化")
    assert project.stage == Stage.GOALS_RETURNED
    assert project.open_deadlines(P) == []
    assert notices(project, date(2020, 11, 2)) == []
    assert project.next_deadline_notice(P) is None


def test_a_project_rejected_at_ex_ante_owes_nothing() -> None:
    project = declare(new_major=True)
    project.assess_ex_ante(
        dict.fromkeys(("necessity", "economy", "goal_rationality", "feasibility", "funding_compliance"), D(5)),
        P,
        1,
        Attribution(FINANCE, date(2020, 9, 15)),
    )
    assert project.stage == Stage.REJECTED
    assert project.open_deadlines(P) == []
    assert notices(project, date(2020, 11, 2)) == []


def test_an_approved_budget_owes_the_monitoring_report_and_the_self_evaluation() -> None:
    project = build("budget_approved")
    assert project.open_deadlines(P) == [
        Deadline("monitoring_report", 0, MONITORING_DUE),
        Deadline("self_evaluation", 0, SELF_EVALUATION_DUE),
    ]
    assert project.next_deadline_notice(P) == date(2021, 8, 8)
    monitor(project, 4, D("1500000.00"))  # the April report is not the January–July one
    assert notices(project, date(2021, 8, 8)) == [
        ("DeadlineApproaching", "monitoring_report", 0, MONITORING_DUE, date(2021, 8, 8))
    ]
    assert notices(project, date(2021, 8, 16)) == [
        ("DeadlineMissed", "monitoring_report", 0, MONITORING_DUE, date(2021, 8, 16))
    ]
    assert project.next_deadline_notice(P) == date(2022, 3, 24)
    assert notices(project, date(2022, 3, 24)) == [
        ("DeadlineApproaching", "self_evaluation", 0, SELF_EVALUATION_DUE, date(2022, 3, 24))
    ]
    self_evaluate(project)
    assert project.open_deadlines(P) == []
    assert notices(project, date(2022, 4, 1)) == []


@pytest.mark.parametrize("month", [7, 9])
def test_a_report_through_july_or_later_settles_the_monitoring_deadline(month: int) -> None:
    project = build("budget_approved")
    monitor(project, month, D("2500000.00"))
    assert [d.kind for d in project.open_deadlines(P)] == ["self_evaluation"]
    assert notices(project, date(2021, 8, 16)) == []


def test_the_yearly_due_dates_come_from_the_ruleset_in_force() -> None:
    """The days are read from the ruleset the scheduler passes: a new one moves what is still owed, and its notices
    are for the new day (given once each, like any other)."""
    later = dataclasses.replace(P, goal_submission_due=(-1, 11, 30), self_evaluation_due=(1, 4, 30))
    project = declare()
    assert project.open_deadlines(later) == [Deadline("goal_submission", 0, date(2020, 11, 30))]
    assert project.next_deadline_notice(later) == date(2020, 11, 23)
    project.raise_deadline_notices(date(2020, 11, 1), later, SYSTEM)
    assert events_of(project, Project.DeadlineMissed) == []  # not missed: the ruleset in force gives until 30 Nov
    project.raise_deadline_notices(date(2020, 12, 1), later, SYSTEM)
    assert [e.due_on for e in events_of(project, Project.DeadlineMissed)] == [date(2020, 11, 30)]
    approved = build("budget_approved")
    assert approved.open_deadlines(later)[-1] == Deadline("self_evaluation", 0, date(2022, 4, 30))
    assert approved.open_deadlines(dataclasses.replace(P, monitoring_report_due=(0, 9, 1)))[0] == Deadline(
        "monitoring_report", 0, date(2021, 9, 1)
    )


def test_the_months_of_the_monitoring_report_come_from_the_ruleset_and_stay_as_filed() -> None:
    """A report is the January–M one when it runs to the ruleset's month M at the time it is filed — recorded with it,
    so a later ruleset neither reopens a report that met the obligation nor settles one that did not."""
    by_june = dataclasses.replace(P, monitoring_report_month=6, monitoring_report_due=(0, 7, 15))
    by_september = dataclasses.replace(P, monitoring_report_month=9, monitoring_report_due=(0, 10, 15))
    june = build("budget_approved")
    june.report_monitoring(6, D("2000000.00"), {}, {}, "", "", by_june, Attribution(DEPT, date(2021, 7, 5)))
    assert june.monitoring[-1]["monitoring_report_month"] == 6
    assert [d.kind for d in june.open_deadlines(by_june)] == ["self_evaluation"]
    assert [d.kind for d in june.open_deadlines(by_september)] == ["self_evaluation"]  # met when it was filed
    default = build("budget_approved")
    monitor(default, 6, D("2000000.00"))  # under the default (January–July) a June report is not the one owed
    assert events_of(default, Project.MonitoringReported)[-1].monitoring_report_month == 7
    assert [d.kind for d in default.open_deadlines(by_june)] == ["monitoring_report", "self_evaluation"]
    default.report_monitoring(8, D("2500000.00"), {}, {}, "", "", by_september, Attribution(DEPT, date(2021, 9, 5)))
    assert [d.kind for d in default.open_deadlines(P)] == ["monitoring_report", "self_evaluation"]  # 8 < 9


def test_a_report_recorded_before_the_month_was_a_parameter_is_held_to_july() -> None:
    project = build("budget_approved")
    monitor(project, 7, D("2500000.00"))
    project.monitoring[-1]["monitoring_report_month"] = None  # as a report recorded by an earlier release replays
    assert [d.kind for d in project.open_deadlines(P)] == ["self_evaluation"]
    assert meets_monitoring_report(7, None)
    assert not meets_monitoring_report(6, None)
    assert meets_monitoring_report(6, 6)
    assert not meets_monitoring_report(8, 9)


def test_a_monitoring_report_stored_before_it_recorded_the_month_replays_as_held_to_july() -> None:
    project = build("budget_approved")
    monitor(project, 7, D("2500000.00"))
    mapper = ledger_mapper()
    stored = mapper.to_stored_event(events_of(project, Project.MonitoringReported)[-1])
    state = json.loads(stored.state)
    del state["monitoring_report_month"]  # the stored form of every report an earlier release recorded
    old = mapper.to_domain_event(dataclasses.replace(stored, state=json.dumps(state).encode()))
    assert isinstance(old, Project.MonitoringReported)
    assert old.monitoring_report_month is None
    replayed = build("budget_approved")
    mutating(old).mutate(replayed)
    assert replayed.monitoring[-1]["monitoring_report_month"] is None
    assert [d.kind for d in replayed.open_deadlines(P)] == ["self_evaluation"]


def test_the_warning_days_come_from_the_ruleset() -> None:
    project = declare()
    three_days = dataclasses.replace(P, deadline_warning_days=3)
    assert project.next_deadline_notice(three_days) == date(2020, 10, 28)
    project.raise_deadline_notices(date(2020, 10, 27), three_days, SYSTEM)
    assert events_of(project, Project.DeadlineApproaching) == []
    project.raise_deadline_notices(date(2020, 10, 28), three_days, SYSTEM)
    assert len(events_of(project, Project.DeadlineApproaching)) == 1


def test_a_rectification_is_owed_until_accepted_not_merely_reported() -> None:
    project = build("self_evaluated")
    deadline = date(2022, 4, 30)
    require(project, deadline)
    assert project.open_deadlines(P) == [Deadline("rectification", 1, deadline)]
    report_rect(project)
    assert notices(project, date(2022, 4, 23)) == [
        ("DeadlineApproaching", "rectification", 1, deadline, date(2022, 4, 23))
    ]
    decide_rect(project, False, reason="佐证不足")
    assert notices(project, date(2022, 5, 1)) == [("DeadlineMissed", "rectification", 1, deadline, date(2022, 5, 1))]
    report_rect(project)
    decide_rect(project, True)
    assert project.open_deadlines(P) == []


def test_each_rectification_and_deviation_is_its_own_deadline() -> None:
    project = with_deviation()  # month 4, detected 2021-05-06, to be answered by 2021-05-20
    deadlines = project.open_deadlines(P)
    assert Deadline("deviation_answer", 4, RESPOND_BY) in deadlines
    assert project.next_deadline_notice(P) == RESPOND_BY - timedelta(days=7)
    assert notices(project, date(2021, 5, 13)) == [
        ("DeadlineApproaching", "deviation_answer", 4, RESPOND_BY, date(2021, 5, 13))
    ]
    assert notices(project, date(2021, 5, 21)) == [
        ("DeadlineMissed", "deviation_answer", 4, RESPOND_BY, date(2021, 5, 21))
    ]


def test_an_answered_deviation_is_no_longer_owed() -> None:
    project = with_deviation()
    corrective(project, "continue", month=4)
    assert all(d.kind != "deviation_answer" for d in project.open_deadlines(P))
    assert notices(project, date(2021, 5, 21)) == []


def test_a_cancelled_project_still_owes_its_rectifications_but_not_its_reports() -> None:
    project = with_deviation()
    project.require_rectification(["资金闲置"], "monitoring", date(2021, 9, 30), Attribution(FINANCE, date(2021, 6, 1)))
    corrective(project, "cancel", month=4)
    assert project.stage == Stage.CANCELLED
    assert project.open_deadlines(P) == [Deadline("rectification", 1, date(2021, 9, 30))]


def test_a_closed_project_owes_nothing_but_its_disclosures() -> None:
    project = build("closed")
    due = project.disclosure_due["results"]
    assert project.open_deadlines(P) == [Deadline("results_disclosure", 0, due)]
    assert notices(project, due + timedelta(days=1)) == [
        ("DeadlineMissed", "results_disclosure", 0, due, due + timedelta(days=1))
    ]
    assert notices(project, due + timedelta(days=2)) == []  # once
    project.disclose("results", Attribution(FINANCE, due + timedelta(days=3)))
    assert project.open_deadlines(P) == []
    assert project.next_deadline_notice(P) is None
    assert notices(project, date(2023, 1, 1)) == []


def test_funding_is_suspended_for_every_overdue_deviation_at_once() -> None:
    project = build("budget_approved")
    monitor(project, 4, D("960000.00"))
    assert detect(project)
    monitor(project, 6, D("1200000.00"))
    assert detect(project, date(2021, 7, 5))
    assert project.next_suspension_check() == RESPOND_BY + timedelta(days=1)
    assert project.suspend_funding_if_unanswered(date(2021, 8, 1), SYSTEM) is True
    assert [e.deviation_month for e in events_of(project, Project.FundingSuspended)] == [4, 6]
    assert project.next_suspension_check() is None
    assert project.suspend_funding_if_unanswered(date(2021, 8, 2), SYSTEM) is False


def test_the_next_suspension_check_is_the_day_after_the_answer_was_due() -> None:
    project = with_deviation()
    assert project.next_suspension_check() == date(2021, 5, 21)
    assert project.suspend_funding_if_unanswered(date(2021, 5, 20), SYSTEM) is False
    corrective(project, "continue", month=4)
    assert project.next_suspension_check() is None
    assert build("self_evaluated").next_suspension_check() is None


def test_the_next_overdue_check_is_the_day_after_the_earliest_open_deadline() -> None:
    project = build("self_evaluated")
    assert project.next_overdue_check() is None
    require(project, date(2022, 6, 30))
    require(project, date(2022, 4, 30))
    assert project.next_overdue_check() == date(2022, 5, 1)
    assert project.mark_rectifications_overdue(date(2022, 5, 1), SYSTEM) == [2]
    assert project.next_overdue_check() == date(2022, 7, 1)
    report_rect(project)
    decide_rect(project, True)
    assert project.next_overdue_check() is None


def test_the_next_expiry_check_is_the_end_of_the_blacklisting_in_force() -> None:
    firm = Agency.register("某评估公司", "资质", None, "91632800864542843F", Attribution(FINANCE, date(2020, 1, 1)))
    assert firm.next_expiry_check() is None
    firm.record_misconduct("falsification", "伪造记录", Attribution(FINANCE, date(2021, 3, 1)))
    firm.blacklist([], date(2024, 3, 1), True, Attribution(FINANCE, date(2021, 3, 1), "失信"))
    assert firm.next_expiry_check() == date(2024, 3, 1)
    assert firm.expire_blacklistings(date(2024, 2, 29), SYSTEM) == []
    assert firm.expire_blacklistings(date(2024, 3, 1), SYSTEM) == [1]
    assert firm.next_expiry_check() is None


def test_notices_replay_from_their_stored_events_and_snapshots() -> None:
    project = build("budget_approved")
    project.raise_deadline_notices(date(2021, 8, 16), P, SYSTEM)
    mapper = ledger_mapper()
    replayed: Any = None
    for event in project.collect_events():
        replayed = mutating(mapper.to_domain_event(mapper.to_stored_event(event))).mutate(replayed)
    assert replayed == project
    assert replayed.notices_for(Deadline("monitoring_report", 0, MONITORING_DUE))["missed"] == date(2021, 8, 16)
    snapshot = mutating(mapper.to_domain_event(mapper.to_stored_event(Snapshot.take(project))))
    assert snapshot.mutate(None) == project


def test_a_snapshot_taken_before_deadline_notices_existed_is_upcast() -> None:
    project = build("budget_approved")
    snapshot = Snapshot.take(project)
    old_state = {k: v for k, v in snapshot.state.items() if k not in ("deadline_notices", "class_version")}
    old = Snapshot(
        originator_id=project.id,
        originator_version=project.version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=old_state,
    )
    restored: Any = old.mutate(None)
    assert restored.deadline_notices == {}
    assert [d.kind for d in restored.open_deadlines(P)] == ["monitoring_report", "self_evaluation"]
    assert restored.approved_amount == APPROVED


def test_deadline_kinds_are_the_fourteen_the_scheduler_watches() -> None:
    assert {kind.value for kind in DeadlineKind} == {
        "goal_submission",
        "monitoring_report",
        "self_evaluation",
        "rectification",
        "deviation_answer",
        "ex_ante_review",
        "goals_disclosure",
        "results_disclosure",
        "evaluation_plan",
        "evaluation_plan_review",
        "supervision",
        "supervision_answer",
        "evaluation_report",
        "evaluation_report_review",
    }
    assert DETECTED_ON < RESPOND_BY


def test_every_event_the_ledger_records_has_a_chinese_name_in_the_trail() -> None:
    from eventsourcing.domain import DomainEvent

    from ledger.domain.agencies import Agency
    from ledger.domain.catalogue import IndicatorLibrary, Ruleset
    from ledger.domain.congress import CongressSubmission
    from ledger.domain.decisions import Decision
    from ledger.domain.draw import ReEvaluationSample
    from ledger.domain.organisations import Department, Unit
    from ledger.domain.overall import OverallGoals
    from ledger.domain.project import Project
    from projections.trail import EVENT_NAMES_ZH

    recorded = {
        f"{aggregate.__name__}.{name}"
        for aggregate in (
            Project,
            Department,
            Unit,
            Agency,
            IndicatorLibrary,
            Ruleset,
            ReEvaluationSample,
            Decision,
            CongressSubmission,
            OverallGoals,
        )
        for name, member in vars(aggregate).items()
        if isinstance(member, type) and issubclass(member, DomainEvent) and name not in ("Event", "Created")
    }
    assert recorded - set(EVENT_NAMES_ZH) == set()
