"""Disclosure as duties, in memory: what a disclosure makes public (and nothing else), the duty of an organisation
(due on the day fixed when it opened) and of finance to the congress (the ruleset's yearly day while owed), each met
once, its approaching and missed notices raised once each."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from uuid import uuid4

import pytest

from ledger.domain import rules
from ledger.domain.disclosure import (
    DisclosureDuty,
    DutyKind,
    congress_duty_id,
    duty_id,
    late,
    overall_goals_content,
    project_content,
)
from ledger.domain.errors import DomainError
from ledger.domain.project import Project
from ledger.domain.values import SYSTEM, Attribution
from tests.ledger.domain.overall_support import overall_indicators
from tests.ledger.domain.project_support import (
    APPROVED,
    DEPT,
    FINANCE,
    P,
    apply_results,
    approve,
    build,
    re_evaluate,
    select,
)

OPENED = date(2021, 11, 10)


def overall_duty(due: date | None = date(2021, 11, 30)) -> DisclosureDuty:
    return DisclosureDuty.open_for_organisation(
        DutyKind.OVERALL_GOALS, "教育局", "教育局", 2022, uuid4(), due, 1, Attribution(FINANCE, OPENED)
    )


def congress_duty(what: str = "goals") -> DisclosureDuty:
    return DisclosureDuty.open_for_congress(what, 2021, 1, Attribution(FINANCE, date(2020, 11, 5)))


def refused(duty: DisclosureDuty, code: str, call: object) -> None:
    before = len(duty.pending_events)
    with pytest.raises(DomainError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code == code, caught.value
    assert len(duty.pending_events) == before


def raised(duty: DisclosureDuty, today: date, params: rules.RuleParameters = P) -> list[tuple[str, date, date]]:
    before = len(duty.pending_events)
    duty.raise_deadline_notices(today, params, SYSTEM)
    found = []
    for e in duty.pending_events[before:]:
        assert isinstance(e, DisclosureDuty.DeadlineApproaching | DisclosureDuty.DeadlineMissed)
        found.append((type(e).__name__, e.due_on, e.effective_on))
    return found


def test_goals_disclosed_show_the_indicators_and_the_approved_amount_and_nothing_else() -> None:
    project = build("budget_approved")
    content = project_content(project, "goals")
    assert set(content) == {"indicators", "approved_amount"}
    assert content["approved_amount"] == str(APPROVED)
    first = content["indicators"][0]
    assert set(first) == {"key", "level1", "level2", "name", "operator", "target", "unit", "weight"}
    assert [item["key"] for item in content["indicators"]] == [item.key for item in project.goals]
    json.dumps(content)  # plain JSON, as the public reads it


def test_results_disclosed_show_scores_grades_and_the_decision_not_how_they_were_reached() -> None:
    project = build("self_evaluated")
    select(project)
    re_evaluate(project)
    apply_results(project)
    content = project_content(project, "results")
    assert set(content) == {"self_evaluation", "re_evaluation", "key_evaluation", "basis", "grade", "decision"}
    assert project.self_evaluation is not None
    assert project.re_evaluation is not None
    assert content["self_evaluation"] == {
        "total": str(project.self_evaluation["total"]),
        "grade": project.self_evaluation["grade"],
    }
    assert content["re_evaluation"]["grade"] == content["grade"] == project.re_evaluation["grade"]
    assert (content["basis"], content["decision"]) == ("re_evaluation", project.results["decision"])  # type: ignore[index]
    text = json.dumps(content, ensure_ascii=False)
    for hidden in ("actuals", "indicator_scores", "inflated", "scores", "by", "next_year_budget"):
        assert f'"{hidden}"' not in text  # the inputs, the flags and who evaluated stay undisclosed


def test_the_approval_fixes_the_day_the_goals_are_owed_by_with_the_ruleset_then() -> None:
    project = build("goals_approved")
    approve(project)  # without the ruleset: as before disclosure was a watched duty, nothing is owed
    assert project.owed_disclosures == {}
    other = build("goals_approved")
    thirty = dataclasses.replace(P, goals_disclosure_days=30)
    other.approve_budget(APPROVED, Attribution(FINANCE, date(2021, 1, 15)), params=thirty)
    assert other.owed_disclosures == {"goals": date(2021, 2, 14)}
    event = other.pending_events[-1]
    assert isinstance(event, Project.BudgetApproved)
    assert event.goals_disclosure_due == date(2021, 2, 14)
    # A later ruleset does not move it: the day is recorded.
    assert [d.due_on for d in other.open_deadlines(P) if d.kind == "goals_disclosure"] == [date(2021, 2, 14)]
    other.disclose("goals", Attribution(DEPT, date(2021, 2, 15)))
    disclosed = other.pending_events[-1]
    assert isinstance(disclosed, Project.Disclosed)
    assert (disclosed.due_on, disclosed.late, disclosed.content) == (
        date(2021, 2, 14),
        True,
        project_content(other, "goals"),
    )


def test_results_applied_owe_their_disclosure_in_the_rulesets_days() -> None:
    project = build("self_evaluated")
    project.apply_results(
        None, dataclasses.replace(P, results_disclosure_days=15), 2, Attribution(FINANCE, date(2022, 5, 5))
    )
    assert project.owed_disclosures == {"results": date(2022, 5, 20)}
    project.disclose("results", Attribution(DEPT, date(2022, 5, 20)))
    event = project.pending_events[-1]
    assert isinstance(event, Project.Disclosed)
    assert (event.due_on, event.late) == (date(2022, 5, 20), False)


def test_late_is_unknown_without_a_due_day() -> None:
    assert (late(date(2021, 3, 1), None), late(date(2021, 3, 1), date(2021, 3, 1))) == (None, False)
    assert late(date(2021, 3, 2), date(2021, 3, 1)) is True


def test_an_organisation_discloses_its_overall_goals_once() -> None:
    duty = overall_duty()
    assert duty.id == duty_id("overall_goals", 2022, "教育局") == duty_id("overall_goals", 2022, " 教育局")
    content = overall_goals_content(overall_indicators())
    refused(duty, "effective-date-too-early", lambda: duty.disclose(content, Attribution(DEPT, OPENED - timedelta(1))))
    duty.disclose(content, Attribution(DEPT, date(2021, 12, 1)))
    event = duty.pending_events[-1]
    assert isinstance(event, DisclosureDuty.Disclosed)
    assert (event.content, event.due_on, event.late, duty.met_on) == (
        content,
        date(2021, 11, 30),
        True,
        date(2021, 12, 1),
    )
    refused(duty, "already-decided", lambda: duty.disclose(content, Attribution(DEPT, date(2021, 12, 2))))
    assert duty.open_deadlines(P) == []
    with pytest.raises(ValueError, match="met by a disclosure"):
        duty.fulfil(uuid4(), date(2021, 12, 31), Attribution(FINANCE, date(2021, 12, 2)))


def test_a_duty_opened_without_a_due_day_is_never_late_nor_watched() -> None:
    duty = overall_duty(due=None)
    assert (duty.open_deadlines(P), duty.next_deadline_notice(P)) == ([], None)
    duty.disclose({"indicators": []}, Attribution(DEPT, date(2023, 1, 1)))
    assert duty.pending_events[-1].late is None  # type: ignore[attr-defined]


def test_an_organisations_duty_warns_then_misses_once_each() -> None:
    duty = overall_duty()
    assert duty.next_deadline_notice(P) == date(2021, 11, 23)
    assert raised(duty, date(2021, 11, 22)) == []
    assert raised(duty, date(2021, 11, 23)) == [("DeadlineApproaching", date(2021, 11, 30), date(2021, 11, 23))]
    assert raised(duty, date(2021, 11, 29)) == []
    assert duty.next_deadline_notice(P) == date(2021, 12, 1)
    assert raised(duty, date(2021, 12, 5)) == [("DeadlineMissed", date(2021, 11, 30), date(2021, 12, 1))]
    assert raised(duty, date(2021, 12, 6)) == []
    assert duty.next_deadline_notice(P) is None
    notice = duty.pending_events[-1]
    assert (notice.principal, notice.deadline) == (SYSTEM, "overall_goals")  # type: ignore[attr-defined]


def test_the_congress_duty_falls_due_on_the_yearly_day_in_force_and_the_submission_meets_it() -> None:
    duty = congress_duty()
    assert duty.id == congress_duty_id(2021, "goals")
    assert duty.due(P) == date(2020, 12, 31)
    moved = dataclasses.replace(P, congress_goals_due=(0, 1, 20))
    assert [d.due_on for d in duty.open_deadlines(moved)] == [date(2021, 1, 20)]
    assert raised(duty, date(2020, 12, 24)) == [("DeadlineApproaching", date(2020, 12, 31), date(2020, 12, 24))]
    # Moved to a new day while owed: notices are given for the new day, once each.
    assert raised(duty, date(2021, 1, 13), moved) == [("DeadlineApproaching", date(2021, 1, 20), date(2021, 1, 13))]
    submission = uuid4()
    duty.fulfil(submission, date(2021, 1, 20), Attribution(FINANCE, date(2021, 1, 18)))
    event = duty.pending_events[-1]
    assert isinstance(event, DisclosureDuty.Fulfilled)
    assert (event.submission_id, event.due_on, event.late) == (submission, date(2021, 1, 20), False)
    assert raised(duty, date(2021, 2, 1), moved) == []
    refused(
        duty,
        "already-decided",
        lambda: duty.fulfil(submission, date(2021, 1, 20), Attribution(FINANCE, date(2021, 1, 19))),
    )
    with pytest.raises(ValueError, match="met by a submission"):
        duty.disclose({}, Attribution(FINANCE, date(2021, 1, 19)))


def test_the_results_duty_to_the_congress() -> None:
    duty = congress_duty("results")
    assert (duty.kind, duty.id, duty.due(P)) == (
        "congress_results",
        congress_duty_id(2021, "results"),
        date(2022, 6, 30),
    )
    assert raised(duty, date(2022, 7, 1)) == [("DeadlineMissed", date(2022, 6, 30), date(2022, 7, 1))]


def test_results_of_an_organisation_are_the_hook_and_only_organisations_duties_open_so() -> None:
    results = DisclosureDuty.open_for_organisation(
        DutyKind.OVERALL_RESULTS, "教育局", "教育局", 2022, uuid4(), date(2023, 7, 1), 1, Attribution(FINANCE, OPENED)
    )
    assert results.id == duty_id("overall_results", 2022, "教育局") != duty_id("overall_goals", 2022, "教育局")
    with pytest.raises(ValueError, match="not an organisation's duty"):
        DisclosureDuty.open_for_organisation(
            DutyKind.CONGRESS_GOALS, "教育局", "教育局", 2022, uuid4(), None, 1, Attribution(FINANCE, OPENED)
        )
