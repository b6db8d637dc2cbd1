"""Overall goals (整体绩效目标) on PostgreSQL: who submits, reviews and adjusts them, and the gate on a project's
budget — refused while the department's goals for a year of full coverage are not approved, the fact recorded with
the approval. A refusal records nothing (``refused`` checks the log did not move)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from ledger.application import Ledger
from ledger.domain.organisations import Department
from ledger.domain.overall import overall_goals_id
from ledger.domain.project import Project, project_id
from ledger.domain.values import Principal
from tests.conftest import EDUCATION, FINANCE, HEALTH, act
from tests.ledger.application.test_application import GOALS, refused
from tests.ledger.domain.overall_support import adjusted_indicators, overall_indicators

pytestmark = pytest.mark.db

SCHOOL = "德令哈市第一中学"
SCHOOL_STAFF = Principal("yz-li", "department", SCHOOL)


@pytest.fixture
def organisations(ledger: Ledger) -> Ledger:
    for name in ("教育局", "卫生健康委员会"):
        ledger.register_department(act(FINANCE, date(2020, 8, 1)), name)
    ledger.register_unit(act(FINANCE, date(2020, 8, 3)), "教育局", SCHOOL)
    return ledger


def goals_approved(ledger: Ledger, year: int, code: str) -> UUID:
    """A project of 教育局 for ``year`` with its goals rated 优, its budget not yet approved."""
    ledger.declare_project(
        act(EDUCATION, date(year - 1, 9, 1)),
        code=code,
        name="营养改善计划",
        kind="project",
        department="教育局",
        fiscal_year_=year,
        budget_book="general_public",
        special_category=None,
        requested="1000000.00",
        new_major=False,
    )
    pid = project_id(year, code)
    ledger.admit_project(act(FINANCE, date(year - 1, 9, 30)), pid)
    ledger.submit_goals(act(EDUCATION, date(year - 1, 10, 20)), pid, GOALS)
    ledger.review_goals(act(FINANCE, date(year - 1, 11, 5)), pid, "优")
    return pid


def approval_fact(ledger: Ledger, pid: UUID) -> object:
    [approval] = [entry for entry in ledger.history(pid) if entry.event_type == "Project.BudgetApproved"]
    return approval.payload.get("overall_goals")


def test_the_department_submits_finance_returns_and_approves_and_an_adjustment_is_decided(
    organisations: Ledger,
) -> None:
    ledger = organisations
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 1)), " 教育局", 2022, overall_indicators())
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 10)), "教育局", 2022, "中", "履职效能指标不够细化")
    assert ledger.overall_goals("教育局", 2022).status == "returned"
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 15)), "教育局", 2022, adjusted_indicators())
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), "教育局", 2022, "优")
    ledger.request_overall_goals_adjustment(
        act(EDUCATION, date(2022, 3, 1), "学校合并"), "教育局", 2022, overall_indicators()
    )
    ledger.decide_overall_goals_adjustment(act(FINANCE, date(2022, 3, 10)), "教育局", 2022, 1, True)
    goals = ledger.overall_goals("教育局", 2022)
    assert (goals.organisation, goals.kind, goals.department, goals.rating, goals.submissions) == (
        "教育局",
        "department",
        "教育局",
        "优",
        2,
    )
    assert goals.indicators == overall_indicators()
    assert goals.id == overall_goals_id("教育局", 2022)
    assert [entry.event_type for entry in ledger.history(goals.id)] == [
        "OverallGoals.Submitted",
        "OverallGoals.Reviewed",
        "OverallGoals.Resubmitted",
        "OverallGoals.Reviewed",
        "OverallGoals.AdjustmentRequested",
        "OverallGoals.AdjustmentApproved",
    ]


def test_a_unit_submits_its_own_and_its_department_may_too(organisations: Ledger) -> None:
    ledger = organisations
    ledger.submit_overall_goals(act(SCHOOL_STAFF, date(2021, 10, 1)), SCHOOL, 2022, overall_indicators())
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 2)), SCHOOL, 2022, adjusted_indicators())
    goals = ledger.overall_goals(SCHOOL, 2022)
    assert (goals.kind, goals.department, goals.submissions) == ("unit", "教育局", 2)
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), SCHOOL, 2022, "良")
    ledger.request_overall_goals_adjustment(
        act(SCHOOL_STAFF, date(2022, 3, 1), "招生调整"), SCHOOL, 2022, overall_indicators()
    )


def test_who_may_not_act_on_overall_goals(organisations: Ledger) -> None:
    ledger = organisations
    indicators = overall_indicators()
    refused(
        ledger,
        "not-own-department",
        lambda: ledger.submit_overall_goals(act(HEALTH, date(2021, 10, 1)), "教育局", 2022, indicators),
    )
    refused(
        ledger,
        "not-own-department",
        lambda: ledger.submit_overall_goals(act(HEALTH, date(2021, 10, 1)), SCHOOL, 2022, indicators),
    )
    refused(
        ledger,
        "not-own-department",
        lambda: ledger.submit_overall_goals(act(SCHOOL_STAFF, date(2021, 10, 1)), "教育局", 2022, indicators),
    )
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.submit_overall_goals(act(FINANCE, date(2021, 10, 1)), "教育局", 2022, indicators),
    )
    refused(
        ledger,
        "department-not-found",
        lambda: ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 1)), "文旅局", 2022, indicators),
    )
    refused(
        ledger,
        "overall-goals-not-found",
        lambda: ledger.review_overall_goals(act(FINANCE, date(2021, 10, 5)), "教育局", 2022, "优"),
    )
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 1)), "教育局", 2022, indicators)
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.review_overall_goals(act(EDUCATION, date(2021, 10, 5)), "教育局", 2022, "优"),
    )
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 5)), "教育局", 2022, "优")
    refused(
        ledger,
        "not-own-department",
        lambda: ledger.request_overall_goals_adjustment(
            act(HEALTH, date(2022, 3, 1), "调整"), "教育局", 2022, indicators
        ),
    )
    ledger.request_overall_goals_adjustment(act(EDUCATION, date(2022, 3, 1), "调整"), "教育局", 2022, indicators)
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.decide_overall_goals_adjustment(act(EDUCATION, date(2022, 3, 2)), "教育局", 2022, 1, True),
    )


def test_a_budget_of_a_year_of_full_coverage_waits_for_the_departments_approved_overall_goals(
    organisations: Ledger,
) -> None:
    ledger = organisations
    pid = goals_approved(ledger, 2022, "JY-22")
    refused(
        ledger,
        "overall-goals-not-approved",
        lambda: ledger.approve_budget(act(FINANCE, date(2022, 1, 15)), pid, "1000000.00"),
    )
    ledger.submit_overall_goals(act(EDUCATION, date(2021, 10, 1)), "教育局", 2022, overall_indicators())
    refused(
        ledger,
        "overall-goals-not-approved",
        lambda: ledger.approve_budget(act(FINANCE, date(2022, 1, 15)), pid, "1000000.00"),
    )
    ledger.submit_overall_goals(act(SCHOOL_STAFF, date(2021, 10, 1)), SCHOOL, 2022, overall_indicators())
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), SCHOOL, 2022, "优")  # a unit's: not the department's
    refused(
        ledger,
        "overall-goals-not-approved",
        lambda: ledger.approve_budget(act(FINANCE, date(2022, 1, 15)), pid, "1000000.00"),
    )
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), "教育局", 2022, "良")
    ledger.approve_budget(act(FINANCE, date(2022, 1, 15)), pid, "1000000.00")
    goals = ledger.overall_goals("教育局", 2022)
    assert approval_fact(ledger, pid) == {
        "department": "教育局",
        "fiscal_year": 2022,
        "coverage_target": "100",
        "threshold": "0.00",
        "ruleset_version": 1,
        "required": True,
        "status": "approved",
        "version": goals.version,
    }
    # Whatever happens to the overall goals since, the approval stands as recorded (its replay reads nothing else).
    ledger.request_overall_goals_adjustment(
        act(EDUCATION, date(2022, 3, 1), "调整"), "教育局", 2022, adjusted_indicators()
    )
    replayed = ledger.object(pid, version=ledger.project(pid).version)
    assert isinstance(replayed, Project)
    assert replayed.stage == "budget_approved"


def test_a_year_below_full_coverage_records_that_nothing_was_required(organisations: Ledger) -> None:
    ledger = organisations
    pid = goals_approved(ledger, 2021, "JY-21")
    ledger.approve_budget(act(FINANCE, date(2021, 1, 15)), pid, "1000000.00")
    fact = approval_fact(ledger, pid)
    assert isinstance(fact, dict)
    assert (fact["required"], fact["coverage_target"], fact["status"]) == (False, "60", None)


def test_a_ruleset_threshold_lets_a_small_budget_through(organisations: Ledger) -> None:
    ledger = organisations
    changes = {"overall_goals_budget_threshold": "1000000.00"}
    ledger.adopt_ruleset(act(FINANCE, date(2021, 9, 1), "整体绩效目标门槛"), 2, changes)
    pid = goals_approved(ledger, 2022, "JY-S")
    ledger.approve_budget(act(FINANCE, date(2022, 1, 15)), pid, "1000000.00")
    fact = approval_fact(ledger, pid)
    assert isinstance(fact, dict)
    assert (fact["required"], fact["threshold"], fact["ruleset_version"]) == (False, "1000000.00", 2)
    other = goals_approved(ledger, 2022, "JY-L")
    refused(
        ledger,
        "overall-goals-not-approved",
        lambda: ledger.approve_budget(act(FINANCE, date(2022, 1, 15)), other, "1000000.01"),
    )


def test_free_text_overall_goals_stay_the_departments_history_and_do_not_open_the_gate(organisations: Ledger) -> None:
    ledger = organisations
    ledger.set_overall_goals(act(EDUCATION, date(2021, 10, 1)), "教育局", 2022, ["义务教育巩固率达到99%"])
    assert ledger.department("教育局").overall_goals == {"2022": ["义务教育巩固率达到99%"]}
    assert isinstance(ledger.object(ledger.department("教育局").id), Department)
    pid = goals_approved(ledger, 2022, "JY-T")
    refused(
        ledger,
        "overall-goals-not-approved",
        lambda: ledger.approve_budget(act(FINANCE, date(2022, 1, 15)), pid, "1.00"),
    )
    assert not ledger.exists(overall_goals_id("教育局", 2022))
