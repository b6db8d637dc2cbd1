"""Results into budgets: a continuation is declared on an earlier project with results applied, and its budget is
approved within what the earlier result decision allows — or beyond it, as finance's override with a reason."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent

from ledger.domain.errors import DomainError
from ledger.domain.project import Project
from ledger.domain.values import Attribution
from ledger.store.transcodings import ledger_mapper
from tests.ledger.domain.project_support import (
    APPROVED,
    DEPT,
    FINANCE,
    P,
    apply_results,
    build,
    decide_rect,
    events_of,
    goals,
    mutating,
    refused,
    report_rect,
    require,
)

D = Decimal
NEXT_FY = 2023
DECLARED = date(2022, 9, 1)
APPROVED_ON = date(2023, 1, 10)


def earlier(decision: str | None = None, grade: str = "优", reason: str = "") -> Project:
    """The 2021 project, its results applied (by default from ``grade``; ``decision`` with ``reason`` otherwise)."""
    project = build("self_evaluated", grade=grade)
    apply_results(project, decision, reason)
    return project


def continuation(
    of: Project | None,
    *,
    department: str = "教育局",
    fiscal_year: int = NEXT_FY,
    on: date = DECLARED,
) -> Project:
    return Project.declare(
        Attribution(DEPT, on),
        code="EDU-2023-001",
        name="义务教育学生营养改善计划（续）",
        kind="project",
        department=department,
        fiscal_year=fiscal_year,
        budget_book="general_public",
        special_category=None,
        requested=D("5000000.00"),
        new_major=False,
        continues=of,
    )


def approvable(of: Project) -> Project:
    """The continuation of ``of`` with its goals approved."""
    project = continuation(of)
    project.admit(P, Attribution(FINANCE, date(2022, 9, 10)))
    project.submit_goals(goals(), P, 1, Attribution(DEPT, date(2022, 9, 20)))
    project.review_goals("优", "", Attribution(FINANCE, date(2022, 10, 10)))
    return project


def approve(project: Project, of: Project | None, amount: Decimal, override: bool = False, reason: str = "") -> None:
    project.approve_budget(amount, Attribution(FINANCE, APPROVED_ON, reason), earlier=of, override=override)


def linkage_of(project: Project) -> dict[str, object]:
    (event,) = events_of(project, Project.BudgetApproved)
    assert isinstance(event.linkage, dict)
    return event.linkage


# ------------------------------------------------------------------------------------------------ declaration


def test_a_continuation_records_the_project_it_continues() -> None:
    first = earlier()
    project = continuation(first)
    assert project.continues == first.id
    (declared,) = events_of(project, Project.Declared)
    assert declared.continues == first.id


def test_a_project_of_another_department_is_not_continued() -> None:
    refused_declaration("continuation-other-department", earlier(), department="卫健委")


def test_only_an_earlier_year_is_continued() -> None:
    first = earlier()
    refused_declaration("continuation-not-earlier", first, fiscal_year=first.fiscal_year)


def test_a_project_without_results_applied_is_not_continued() -> None:
    refused_declaration("continuation-without-results", build("self_evaluated"))


def test_a_continuation_is_not_declared_before_the_earlier_results_were_applied() -> None:
    refused_declaration("effective-date-too-early", earlier(), on=date(2022, 5, 4))


def refused_declaration(code: str, of: Project, **changes: object) -> None:
    with pytest.raises(DomainError) as excinfo:
        continuation(of, **changes)  # type: ignore[arg-type]
    assert excinfo.value.code == code, excinfo.value


# ------------------------------------------------------------------------------------------------ approval


def test_cancel_refuses_the_continuation() -> None:
    first = earlier(grade="差")
    assert first.results is not None
    assert first.results["decision"] == "cancel"
    project = approvable(first)
    refused(project, "continuation-cancelled", lambda: approve(project, first, D(1)))


def test_reduce_caps_the_amount_at_the_recorded_next_year_budget() -> None:
    first = earlier(grade="中")
    assert first.results is not None
    cap = first.results["next_year_budget"]
    assert cap == APPROVED * (1 - P.reduce_rate)
    project = approvable(first)
    refused(project, "continuation-over-cap", lambda: approve(project, first, cap + D("0.01")))
    approve(project, first, cap)
    link = linkage_of(project)
    assert (link["decision"], link["cap"], link["allowed"]) == ("reduce", cap, True)
    assert link["earlier"] == str(first.id)
    assert link["earlier_version"] == first.version
    assert project.budget_linkage is not None
    assert project.budget_linkage["override"] is False


def test_rectify_first_waits_for_the_accepted_rectification() -> None:
    first = build("self_evaluated", grade="中")
    require(first)
    apply_results(first, "rectify_first", "整改到位后再安排")
    project = approvable(first)
    refused(project, "continuation-rectification-open", lambda: approve(project, first, D(100)))
    report_rect(first)
    refused(project, "continuation-rectification-open", lambda: approve(project, first, D(100)))
    decide_rect(first, True)
    approve(project, first, D("9000000.00"))  # no cap once rectified
    assert linkage_of(project)["rectifications_accepted"] == [1]


def test_rectify_first_without_any_rectification_is_refused() -> None:
    first = earlier("rectify_first", reason="须先整改")
    project = approvable(first)
    refused(project, "continuation-rectification-open", lambda: approve(project, first, D(100)))


def test_prioritise_is_recorded_as_such_without_a_cap() -> None:
    first = earlier(grade="优")
    project = approvable(first)
    approve(project, first, D("9000000.00"))
    link = linkage_of(project)
    assert (link["decision"], link["priority"], link["cap"]) == ("prioritise", True, None)


def test_an_override_is_finance_s_decision_with_a_reason() -> None:
    first = earlier(grade="差")
    project = approvable(first)
    refused(project, "reason-required", lambda: approve(project, first, D(100), override=True))
    approve(project, first, D(100), override=True, reason="民生兜底，市政府常务会议决定继续安排")
    (event,) = events_of(project, Project.BudgetApproved)
    assert event.override is True
    assert event.reason.startswith("民生兜底")
    assert event.linkage["allowed"] is False
    assert event.linkage["refusal"] == "continuation-cancelled"
    assert project.budget_linkage is not None
    assert project.budget_linkage["override"] is True


def test_an_override_where_nothing_is_overridden_is_refused() -> None:
    first = earlier(grade="中")
    project = approvable(first)
    refused(project, "override-not-needed", lambda: approve(project, first, D(1), override=True, reason="x"))
    plain = build("goals_approved")
    refused(
        plain,
        "override-not-needed",
        lambda: plain.approve_budget(D(1), Attribution(FINANCE, date(2021, 1, 11), "x"), override=True),
    )


def test_an_approval_is_not_dated_before_the_earlier_results() -> None:
    first = earlier()
    project = approvable(first)
    refused(
        project,
        "effective-date-too-early",
        lambda: project.approve_budget(D(1), Attribution(FINANCE, date(2022, 5, 1)), earlier=first),
    )


def test_an_approval_asks_the_project_it_continues_and_no_other() -> None:
    first = earlier()
    project = approvable(first)
    with pytest.raises(ValueError, match="the project it continues"):
        approve(project, None, D(1))
    other = build("goals_approved")
    with pytest.raises(ValueError, match="the project it continues"):
        approve(other, first, D(1))


def test_the_approval_replays_from_its_event_without_the_earlier_project() -> None:
    first = earlier(grade="中")
    project = approvable(first)
    approve(project, first, D(100))
    replayed: Project | None = None
    for event in project.collect_events():
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert replayed.budget_linkage == project.budget_linkage


# ------------------------------------------------------------------------------------------------ as stored before


def test_a_declaration_and_an_approval_stored_before_continuations_replay_as_continuing_nothing() -> None:
    """Their stored bytes as the earlier versions wrote them (no ``continues``; no ``linkage``, no ``override``, no
    ``class_version``): the mapper upcasts them, and the project replays as it did."""
    mapper = ledger_mapper()
    project = build("budget_approved")
    events = project.collect_events()
    stored = []
    for event in events:
        current = mapper.to_stored_event(event)
        state = json.loads(current.state)
        if isinstance(event, Project.Declared):
            state = {k: v for k, v in state.items() if k != "continues"} | {"class_version": 2}
        elif isinstance(event, Project.BudgetApproved):
            assert state["class_version"] == 2
            state = {k: v for k, v in state.items() if k not in ("linkage", "override", "class_version")}
        stored.append(
            StoredEvent(current.originator_id, current.originator_version, current.topic, json.dumps(state).encode())
        )
    replayed: Any = None
    for item in stored:
        replayed = mutating(mapper.to_domain_event(item)).mutate(replayed)
    assert (replayed.continues, replayed.budget_linkage) == (None, None)
    assert replayed == project


def test_a_snapshot_taken_before_continuations_is_upcast() -> None:
    project = build("budget_approved")
    project.collect_events()
    snapshot = Snapshot.take(project)
    assert snapshot.state["class_version"] == 9
    later = (
        "continues",
        "budget_linkage",
        "disclosure_due",
        "policy_decision",
        "ex_ante_agency",
        "ex_ante_filings",
        "spot_checks",
    )
    state = {k: v for k, v in snapshot.state.items() if k not in later}
    old = Snapshot(
        originator_id=project.id,
        originator_version=project.version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state={**state, "class_version": 4},
    )
    restored: Any = old.mutate(None)
    assert (restored.continues, restored.budget_linkage, restored.policy_decision) == (None, None, None)
    assert restored == project


def test_a_snapshot_taken_before_policy_decisions_is_upcast() -> None:
    project = build("results_applied")
    project.collect_events()
    snapshot = Snapshot.take(project)
    state = {k: v for k, v in snapshot.state.items() if k != "policy_decision"}
    old = Snapshot(
        originator_id=project.id,
        originator_version=project.version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state={**state, "class_version": 6},
    )
    restored: Any = old.mutate(None)
    assert restored.policy_decision is None
    assert restored == project


def test_a_continuation_and_its_approval_round_trip_through_the_store() -> None:
    mapper = ledger_mapper()
    first = earlier(grade="中")
    project = approvable(first)
    approve(project, first, D(100))
    replayed: Any = None
    for event in project.collect_events():
        replayed = mutating(mapper.to_domain_event(mapper.to_stored_event(event))).mutate(replayed)
    assert replayed == project
    assert replayed.continues == first.id
    assert replayed.budget_linkage["cap"] == D("4320000.00")
