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
from ledger.domain.disclosure import congress_duty_id, duty_id
from ledger.domain.overall import OverallGoals, overall_goals_id
from ledger.domain.project import project_id
from ledger.domain.values import Attribution, Principal
from tests.conftest import AGENCY, AUDITOR, EDUCATION, FINANCE, HEALTH, act, report
from tests.ledger.application.test_application import approved_project, refused
from tests.ledger.domain.overall_support import overall_indicators

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
        act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
        pid,
        {"I1": "5200", "I2": "180", "I3": "93", "I4": "88"},
        "950000.00",
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
        act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
        pid,
        {"I1": "5200", "I2": "180", "I3": "93", "I4": "88"},
        "950000.00",
    )
    written = ledger.submit_to_congress(act(FINANCE, date(2022, 7, 1)), 2021, "results", [pid])
    submission = ledger._read(CongressSubmission, written.aggregate_id, "object-not-found")
    assert (submission.what, submission.due_on, submission.late) == ("results", date(2022, 6, 30), True)


# ---------------------------------------------------------------------------------------------- disclosure as duties


SCHOOL = "德令哈市第一中学"
SCHOOL_STAFF = Principal("yz-li", "department", SCHOOL)


def overall_approved(ledger: Ledger, organisation: str, year: int = 2022, on: date = date(2021, 11, 10)) -> None:
    staff = SCHOOL_STAFF if organisation == SCHOOL else EDUCATION
    ledger.submit_overall_goals(act(staff, date(2021, 10, 20)), organisation, year, overall_indicators())
    ledger.review_overall_goals(act(FINANCE, on), organisation, year, "优")


@pytest.fixture
def organisations(ledger: Ledger) -> Ledger:
    for name in ("教育局", "卫生健康委员会"):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), name)
    ledger.register_unit(act(FINANCE, date(2020, 8, 3)), "教育局", SCHOOL)
    return ledger


def test_approving_overall_goals_opens_the_duty_to_disclose_them(organisations: Ledger) -> None:
    ledger = organisations
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 20)), "教育局", 2022, overall_indicators())
    returned = ledger.review_overall_goals(act(FINANCE, date(2021, 11, 1), "细化"), "教育局", 2022, "中", "细化指标")
    assert [event.type for event in returned.events] == ["OverallGoals.Reviewed"]  # not approved: nothing owed
    refused(
        ledger,
        "overall-goals-not-approved",
        lambda: ledger.disclose_overall_goals(act(EDUCATION, date(2021, 11, 2)), "教育局", 2022),
    )
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 11, 3)), "教育局", 2022, overall_indicators())
    approved = ledger.review_overall_goals(act(FINANCE, date(2021, 11, 10)), "教育局", 2022, "优")
    assert [event.type for event in approved.events] == ["OverallGoals.Reviewed", "DisclosureDuty.Opened"]
    duty = ledger.disclosure_duty(duty_id("overall_goals", 2022, "教育局"))
    assert (duty.organisation, duty.department, duty.due_on, duty.subject_id) == (
        "教育局",
        "教育局",
        date(2021, 11, 30),  # the ruleset's 20 days after the approval
        overall_goals_id("教育局", 2022),
    )


def test_who_discloses_overall_goals(organisations: Ledger) -> None:
    ledger = organisations
    overall_approved(ledger, SCHOOL)
    overall_approved(ledger, "教育局")
    on = date(2021, 11, 20)
    refused(ledger, "not-own-department", lambda: ledger.disclose_overall_goals(act(HEALTH, on), SCHOOL, 2022))
    refused(ledger, "not-own-department", lambda: ledger.disclose_overall_goals(act(SCHOOL_STAFF, on), "教育局", 2022))
    for other in (AUDITOR, AGENCY):
        refused(ledger, "role-not-allowed", partial(ledger.disclose_overall_goals, act(other, on), SCHOOL, 2022))
    refused(ledger, "overall-goals-not-found", lambda: ledger.disclose_overall_goals(act(EDUCATION, on), SCHOOL, 2023))
    written = ledger.disclose_overall_goals(act(SCHOOL_STAFF, on, "随单位预算公开"), SCHOOL, 2022)
    [event] = written.events
    assert (event.type, event.aggregate_id) == ("DisclosureDuty.Disclosed", duty_id("overall_goals", 2022, SCHOOL))
    refused(ledger, "already-decided", lambda: ledger.disclose_overall_goals(act(EDUCATION, on), SCHOOL, 2022))
    late = ledger.disclose_overall_goals(act(FINANCE, date(2021, 12, 3)), "教育局", 2022)  # finance still may
    assert late.events[0].type == "DisclosureDuty.Disclosed"
    duty = ledger.disclosure_duty(duty_id("overall_goals", 2022, "教育局"))
    assert duty.met_on == date(2021, 12, 3)
    [disclosed] = [entry for entry in ledger.history(duty.id) if entry.event_type == "DisclosureDuty.Disclosed"]
    assert (disclosed.payload["late"], len(disclosed.payload["content"]["indicators"])) == (True, 6)


def test_overall_goals_approved_before_duties_were_watched_open_one_as_they_are_disclosed(
    organisations: Ledger,
) -> None:
    ledger = organisations
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 20)), "教育局", 2022, overall_indicators())
    # Approved as the ledger did before it opened duties: the review recorded alone.
    with ledger._changing(
        OverallGoals, overall_goals_id("教育局", 2022), "x", act(FINANCE, date(2021, 11, 1))
    ) as goals:
        goals.review("优", "", Attribution(FINANCE, date(2021, 11, 1)))
        ledger.commit(goals)
    assert not ledger.exists(duty_id("overall_goals", 2022, "教育局"))
    written = ledger.disclose_overall_goals(act(EDUCATION, date(2022, 5, 1)), "教育局", 2022)
    assert [event.type for event in written.events] == ["DisclosureDuty.Opened", "DisclosureDuty.Disclosed"]
    duty = ledger.disclosure_duty(written.aggregate_id)
    assert (duty.due_on, duty.met_on) == (None, date(2022, 5, 1))  # no day was fixed: never late


def test_the_years_first_goals_approved_and_results_applied_open_finances_duties_to_the_congress(
    ledger: Ledger,
) -> None:
    first = approved_project(ledger, goals_disclosed=False)
    second = approved_project(ledger, code="JY-02", goals_disclosed=False)
    opened = [entry.event_type for entry in ledger.history(congress_duty_id(2021, "goals"))]
    assert opened == ["DisclosureDuty.Opened"]  # by the first approval, not again by the second
    assert not ledger.exists(congress_duty_id(2021, "results"))
    early = ledger.sweep("disclosure-deadlines", date(2020, 12, 23))
    assert early.raised == {}
    assert ledger.sweep("disclosure-deadlines", date(2020, 12, 24)).raised == {"DisclosureDuty.DeadlineApproaching": 1}
    assert ledger.sweep("disclosure-deadlines", date(2020, 12, 25)).raised == {}  # once
    ledger.submit_to_congress(act(FINANCE, date(2020, 12, 28)), 2021, "goals", [first, second])
    assert ledger.sweep("disclosure-deadlines", date(2021, 1, 5)).raised == {}  # met: nothing missed
    for pid in (first, second):
        ledger.self_evaluate(
            act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
            pid,
            {"I1": "5200", "I2": "180", "I3": "93", "I4": "88"},
            "950000.00",
        )
    applied = ledger.apply_results(act(FINANCE, date(2022, 6, 10)), first)
    assert [event.type for event in applied.events] == ["Project.ResultsApplied", "DisclosureDuty.Opened"]
    again = ledger.apply_results(act(FINANCE, date(2022, 6, 11)), second)
    assert [event.type for event in again.events] == ["Project.ResultsApplied"]
    assert ledger.sweep("disclosure-deadlines", date(2022, 7, 1)).raised == {"DisclosureDuty.DeadlineMissed": 1}
    late = ledger.submit_to_congress(act(FINANCE, date(2022, 7, 3)), 2021, "results", [first, second])
    assert [event.type for event in late.events] == ["CongressSubmission.Submitted", "DisclosureDuty.Fulfilled"]
    assert ledger.disclosure_duty(congress_duty_id(2021, "results")).met_on == date(2022, 7, 3)


def test_a_projects_disclosures_are_watched_by_its_deadlines_from_the_days_recorded(ledger: Ledger) -> None:
    pid = approved_project(ledger, goals_disclosed=False)
    assert ledger.project(pid).owed_disclosures == {"goals": date(2021, 2, 4)}
    ledger.adopt_ruleset(
        act(FINANCE, date(2021, 1, 20), "延长公开时限"), 2, {"goals_disclosure_days": 40, "results_disclosure_days": 30}
    )
    assert ledger.project(pid).owed_disclosures == {"goals": date(2021, 2, 4)}  # fixed by the approval
    assert ledger.sweep("deadlines", date(2021, 2, 5)).raised == {"Project.DeadlineMissed": 1}
    [missed] = [entry for entry in ledger.history(pid) if entry.event_type == "Project.DeadlineMissed"]
    assert (missed.payload["deadline"], missed.payload["due_on"]) == ("goals_disclosure", date(2021, 2, 4))
    ledger.disclose(act(EDUCATION, date(2021, 2, 8)), pid, "goals")
    [disclosed] = [entry for entry in ledger.history(pid) if entry.event_type == "Project.Disclosed"]
    assert (disclosed.payload["late"], disclosed.payload["due_on"]) == (True, date(2021, 2, 4))
    ledger.self_evaluate(
        act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
        pid,
        {"I1": "5200", "I2": "180", "I3": "93", "I4": "88"},
        "950000.00",
    )
    ledger.apply_results(act(FINANCE, date(2022, 6, 10)), pid)
    assert ledger.project(pid).owed_disclosures == {"results": date(2022, 7, 10)}  # version 2's 30 days
