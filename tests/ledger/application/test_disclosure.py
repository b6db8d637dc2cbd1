"""Disclosure (信息公开) on PostgreSQL: a project's own department discloses its approved goals and its results
(finance still may; another department, an auditor or an agency may not), and finance submits a year's goals and
results to the people's congress in one event each. A refusal records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from uuid import UUID, uuid4

import pytest

from ledger.application import Ledger
from ledger.domain.congress import CongressSubmission
from ledger.domain.disclosure import congress_duty_id
from ledger.domain.project import project_id
from ledger.domain.values import Principal
from tests.conftest import AGENCY, AUDITOR, EDUCATION, FINANCE, HEALTH, act
from tests.ledger.application.test_application import approved_project, refused

pytestmark = pytest.mark.db


def test_the_projects_own_department_discloses_its_goals_and_results(ledger: Ledger) -> None:
    pid = approved_project(ledger, goals_disclosed=False)
    refused(ledger, "not-own-department", lambda: ledger.disclose(act(HEALTH, date(2021, 1, 20)), pid, "goals"))
    for other in (AUDITOR, AGENCY):
        refused(ledger, "role-not-allowed", partial(ledger.disclose, act(other, date(2021, 1, 20)), pid, "goals"))
    written = ledger.disclose(act(EDUCATION, date(2021, 1, 20)), pid, "goals")
    [event] = written.events
    assert event.type == "Project.Disclosed"
    refused(ledger, "already-decided", lambda: ledger.disclose(act(FINANCE, date(2021, 1, 21)), pid, "goals"))
    refused(ledger, "no-results", lambda: ledger.disclose(act(EDUCATION, date(2021, 1, 21)), pid, "results"))
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 20)), pid, {"I1": "5200", "I2": "180", "I3": "93", "I4": "88"}, "950000.00"
    )
    ledger.disclose(act(EDUCATION, date(2022, 3, 1)), pid, "results")
    assert ledger.project(pid).disclosed == ["goals", "results"]


def test_finance_still_discloses(ledger: Ledger) -> None:
    pid = approved_project(ledger, goals_disclosed=False)
    ledger.disclose(act(FINANCE, date(2021, 1, 20)), pid, "goals")
    assert ledger.project(pid).disclosed == ["goals"]


def submit(ledger: Ledger, who: Principal, on: date, year: int, what: str, ids: list[UUID]) -> Callable[[], object]:
    return partial(ledger.submit_to_congress, act(who, on), year, what, ids)


def test_finance_submits_the_years_goals_to_the_congress_in_one_event(ledger: Ledger) -> None:
    pid = approved_project(ledger, goals_disclosed=False)
    other = approved_project(ledger, code="JY-02", goals_disclosed=False)
    refused(
        ledger,
        "role-not-allowed",
        submit(ledger, EDUCATION, date(2020, 12, 20), 2021, "goals", [pid]),
    )
    refused(ledger, "invalid-value", submit(ledger, FINANCE, date(2020, 12, 20), 2021, "goals", []))
    refused(
        ledger,
        "invalid-value",
        submit(ledger, FINANCE, date(2020, 12, 20), 2020, "goals", [pid]),
    )
    refused(
        ledger,
        "invalid-value",
        submit(ledger, FINANCE, date(2020, 12, 20), 2021, "goals", [pid, pid]),
    )
    refused(
        ledger,
        "no-results",
        submit(ledger, FINANCE, date(2020, 12, 20), 2021, "results", [pid]),
    )
    refused(
        ledger,
        "project-not-found",
        submit(ledger, FINANCE, date(2020, 12, 20), 2021, "goals", [uuid4()]),
    )
    written = ledger.submit_to_congress(act(FINANCE, date(2020, 12, 20)), 2021, "goals", [pid, other])
    [event, met] = written.events  # the submission, and the duty its goals' approval opened, met by it
    assert (event.type, event.references["fiscal_year"]) == ("CongressSubmission.Submitted", 2021)
    assert (met.type, met.aggregate_id) == ("DisclosureDuty.Fulfilled", congress_duty_id(2021, "goals"))
    submission = ledger._read(CongressSubmission, written.aggregate_id, "object-not-found")
    assert (submission.projects, submission.due_on, submission.late) == ([pid, other], date(2020, 12, 31), False)
    refused(
        ledger,
        "already-exists",
        submit(ledger, FINANCE, date(2020, 12, 21), 2021, "goals", [pid]),
    )


def test_goals_not_approved_are_not_submitted_and_a_late_submission_is_recorded_late(ledger: Ledger) -> None:
    pid = approved_project(ledger, goals_disclosed=False)
    ledger.declare_project(
        act(EDUCATION, date(2020, 9, 1)),
        code="JY-03",
        name="未审项目",
        kind="project",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="1000.00",
        new_major=False,
    )
    unreviewed = project_id(2021, "JY-03")
    refused(
        ledger,
        "goals-not-approved",
        submit(ledger, FINANCE, date(2020, 12, 20), 2021, "goals", [pid, unreviewed]),
    )
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 20)), pid, {"I1": "5200", "I2": "180", "I3": "93", "I4": "88"}, "950000.00"
    )
    written = ledger.submit_to_congress(act(FINANCE, date(2022, 7, 1)), 2021, "results", [pid])
    submission = ledger._read(CongressSubmission, written.aggregate_id, "object-not-found")
    assert (submission.what, submission.due_on, submission.late) == ("results", date(2022, 6, 30), True)
