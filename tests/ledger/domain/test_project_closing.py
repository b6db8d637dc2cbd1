"""Unit tests of the project (ledger.domain.project) at the end of its cycle: rectification, disclosure and
closing; and what every event carries (attribution) and a replay rebuilds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import DomainError
from ledger.domain.project import Project
from ledger.domain.project_values import Stage
from ledger.domain.values import SYSTEM, Attribution, Principal
from tests.ledger.domain.project_support import (
    ADMITTED_ON,
    AGENCY,
    APPROVED,
    ASSESSED_ON,
    BUDGET_ON,
    CLOSED_ON,
    DEADLINE,
    DECLARED_ON,
    DEPT,
    FINANCE,
    GOALS_ON,
    KE,
    MET,
    REQUIRED_ON,
    RESULTS_ON,
    REVIEWED_ON,
    SELF_EVAL_ON,
    D,
    P,
    admit,
    apply_results,
    approve,
    build,
    close,
    commission,
    corrective,
    decide_adjustment,
    decide_rect,
    declare,
    digest,
    disclose,
    events_of,
    ex_ante_scores,
    goals,
    monitor,
    re_evaluate,
    re_scores,
    refused,
    report_rect,
    request_adjustment,
    require,
    review,
    review_plan,
    review_report,
    score_key,
    select,
    self_evaluate,
    submit,
    with_deviation,
)

# ---------------------------------------------------------------------------
# Rectification 整改
# ---------------------------------------------------------------------------


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
    refused(project, "invalid-value", lambda: project.report_rectification(1, " ", Attribution(DEPT, date(2022, 4, 1))))
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
    rejected.assess_ex_ante(ex_ante_scores(D(0)), P, 1, Attribution(FINANCE, ASSESSED_ON))
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
    re_evaluate(project)  # drawn in the sample: its results wait for the re-evaluation
    apply_results(project)
    close(project)
    assert project.stage == Stage.CLOSED
    return project


CLOSED_COMMANDS: list[Any] = [
    pytest.param(
        lambda p: p.assess_ex_ante(ex_ante_scores(D(20)), P, 1, Attribution(FINANCE, CLOSED_ON)), id="ex-ante"
    ),
    pytest.param(lambda p: admit(p), id="admit"),
    pytest.param(lambda p: submit(p), id="submit-goals"),
    pytest.param(lambda p: review(p, "优"), id="review-goals"),
    pytest.param(lambda p: approve(p, on=date(2021, 12, 1)), id="approve-budget"),
    pytest.param(lambda p: request_adjustment(p), id="request-adjustment"),
    pytest.param(lambda p: decide_adjustment(p, 1, True), id="decide-adjustment"),
    pytest.param(lambda p: monitor(p, 12, APPROVED), id="monitoring"),
    pytest.param(lambda p: p.review_monitoring(4, "x", Attribution(FINANCE, CLOSED_ON)), id="review-monitoring"),
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
    pytest.param(
        lambda p: p.supervise_key_evaluation(KE, "督导", [], Attribution(FINANCE, CLOSED_ON)), id="key-supervision"
    ),
    pytest.param(lambda p: score_key(p), id="score-key"),
    pytest.param(lambda p: report_rect(p), id="report-rectification"),
    pytest.param(lambda p: decide_rect(p, True), id="decide-rectification"),
]


@pytest.mark.parametrize("command", CLOSED_COMMANDS)
def test_closed_project_refuses_everything(command: Callable[[Project], object]) -> None:
    project = closed_project()
    refused(project, "project-closed", lambda: command(project))


def test_a_closed_project_still_discloses_what_it_owes() -> None:
    """Closing the file does not publish anything: the results owed are disclosed after it, and watched till then."""
    project = closed_project()
    assert project.owed_disclosures == {"results": date(2022, 5, 25)}  # applied 2022-05-05, 20 days
    assert [d.kind for d in project.open_deadlines(P)] == ["results_disclosure"]
    disclose(project, "results")
    disclose(project, "goals")  # approved without the ruleset here, so not owed: disclosed all the same
    assert project.disclosed == ["results", "goals"]
    refused(project, "already-decided", lambda: disclose(project, "goals"))
    assert (project.owed_disclosures, project.open_deadlines(P)) == ({}, [])


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

    def step(
        principal: Principal, on: date, call: Callable[[Attribution], object], *, records_reason: bool = True
    ) -> None:
        n = next(counter)
        why = f"理由-{n}" if records_reason else ""
        evidence = [digest(n), digest(n + 1000)]
        before = len(project.pending_events)
        call(Attribution(principal, on, f"理由-{n}", evidence))
        new = project.pending_events[before:]
        assert len(new) == 1, new
        event = new[0]
        assert isinstance(event, LedgerAggregate.Event)
        assert event.principal == principal
        assert event.effective_on == on
        assert event.reason == why
        assert event.evidence == evidence

    step(FINANCE, ASSESSED_ON, lambda by: project.assess_ex_ante(ex_ante_scores(D(20)), P, 1, by))
    step(FINANCE, ADMITTED_ON, lambda by: project.admit(P, by))
    step(DEPT, GOALS_ON, lambda by: project.submit_goals(goals(), P, 1, by))
    step(FINANCE, REVIEWED_ON, lambda by: project.review_goals("中", "细化", by))
    step(DEPT, date(2020, 11, 10), lambda by: project.submit_goals(goals(), P, 1, by))
    step(FINANCE, date(2020, 11, 20), lambda by: project.review_goals("优", "", by))
    step(FINANCE, date(2020, 12, 1), lambda by: project.disclose("goals", by))
    step(FINANCE, BUDGET_ON, lambda by: project.approve_budget(APPROVED, by))
    step(DEPT, date(2021, 3, 1), lambda by: project.request_goal_adjustment(goals(D(4500)), P, by))
    step(FINANCE, date(2021, 3, 8), lambda by: project.decide_goal_adjustment(1, True, by))
    step(
        DEPT,
        date(2021, 5, 5),
        lambda by: project.report_monitoring(
            4, D("960000.00"), {"students": D(20)}, {"students": D(95)}, "开学延迟", "加快进度", P, by
        ),
    )
    step(FINANCE, date(2021, 5, 6), lambda by: project.review_monitoring(4, "需纠偏", by))
    assert project.detect_deviation(P, 1, [], SYSTEM, date(2021, 5, 7))
    step(FINANCE, date(2021, 5, 12), lambda by: project.order_corrective_action("continue", None, 4, by))
    step(DEPT, SELF_EVAL_ON, lambda by: project.self_evaluate({**MET, "students": D(4500)}, APPROVED, P, 1, by))
    step(
        FINANCE,
        date(2022, 3, 1),
        lambda by: project.commission_key_evaluation(KE, "agency-id", "某咨询评估有限公司", by),
    )
    step(FINANCE, date(2022, 3, 10), lambda by: project.review_key_evaluation_plan(KE, True, by))
    step(
        FINANCE,
        date(2022, 3, 20),
        lambda by: project.supervise_key_evaluation(KE, "现场督导", [], by),
        records_reason=False,
    )
    step(FINANCE, date(2022, 4, 10), lambda by: project.review_key_evaluation_report(KE, True, by))
    step(AGENCY, date(2022, 4, 15), lambda by: project.score_key_evaluation(KE, re_scores(), P, 1, by))
    step(
        FINANCE,
        date(2022, 4, 16),
        lambda by: project.require_rectification(["台账不全"], "key_evaluation", date(2022, 6, 30), by),
    )
    step(DEPT, date(2022, 5, 1), lambda by: project.report_rectification(1, "已补齐台账", by))
    step(FINANCE, date(2022, 5, 3), lambda by: project.decide_rectification(1, False, by))
    step(DEPT, date(2022, 5, 8), lambda by: project.report_rectification(1, "再次补齐", by))
    step(FINANCE, date(2022, 5, 9), lambda by: project.decide_rectification(1, True, by))
    step(FINANCE, RESULTS_ON, lambda by: project.apply_results(None, P, 1, by))
    step(FINANCE, date(2022, 5, 20), lambda by: project.disclose("results", by))
    step(FINANCE, CLOSED_ON, lambda by: project.close(by))

    events = project.collect_events()
    assert project.pending_events == []
    assert [event.originator_version for event in events] == list(range(1, len(events) + 1))
    assert isinstance(events[0], Project.Declared)
    assert (events[0].principal, events[0].effective_on, events[0].reason, events[0].evidence) == (
        DEPT,
        DECLARED_ON,
        "申报理由",
        [digest(0)],
    )
    assert all(
        isinstance(event, LedgerAggregate.Event)
        and isinstance(event.principal, Principal)
        and isinstance(event.effective_on, date)
        for event in events
    )
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
        pytest.param(
            "self_evaluated",
            lambda p: p.require_rectification(["问题"], "newspaper", DEADLINE, Attribution(FINANCE, REQUIRED_ON)),
            id="rectification-source",
        ),
        pytest.param("goals_approved", lambda p: disclose(p, "everything"), id="disclosure"),
    ],
)
def test_unknown_enumerated_values_are_refused_as_invalid_input(
    stage: str, command: Callable[[Project], object]
) -> None:
    project = build(stage)
    refused(project, "invalid-value", lambda: command(project))


def test_the_plan_review_closes_once_the_report_is_reviewed() -> None:
    """Found by the state machine: re-rejecting the plan after the report review let a score through."""
    project = build("budget_approved")
    commission(project)
    review_plan(project)
    review_report(project)
    refused(
        project,
        "already-decided",
        lambda: project.review_key_evaluation_plan(KE, False, Attribution(FINANCE, date(2022, 6, 1))),
    )
    score_key(project)
