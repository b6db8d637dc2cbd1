"""``department_ranking``'s folds, without a database: the counters its projects' facts add up to per department
and year, and the departments' names and comprehensive assessments. (The facts themselves: test_facts.py; the
ranking of a year, which PostgreSQL computes from these: test_runner.py.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

from ledger.domain.values import key
from projections.base import Row
from projections.facts import fold_facts
from projections.ranking import department_counts, fold_departments
from tests.projections.recorded import Log, ProjectHistory


def facts(history: ProjectHistory) -> Row:
    row: Row | None = None
    for item in history.events:
        row = fold_facts(row, item)
    assert row is not None
    return row


def test_a_project_counts_under_its_department_and_year_as_far_as_it_got() -> None:
    log = Log()
    declared = ProjectHistory(log, department="教育局", fiscal_year=2021)
    approved = ProjectHistory(log, department="教育局", fiscal_year=2021).then("BudgetApproved", amount=Decimal("1.00"))
    graded = ProjectHistory(log, department=" 教育局", fiscal_year=2021).then("BudgetApproved", amount=Decimal("1.00"))
    graded.then("SelfEvaluated", grade="良", total=Decimal("85.00"))
    regraded = ProjectHistory(log, department="教育局", fiscal_year=2022).then("BudgetApproved", amount=Decimal("1.00"))
    regraded.then("SelfEvaluated", grade="优", total=Decimal("95.00")).then(
        "ReEvaluated", grade="差", total=Decimal("50.00"), inflated=True
    )
    education = key("教育局")
    assert [department_counts(facts(history)) for history in (declared, approved, graded, regraded)] == [
        ((education, 2021), (1, 0, 0, 0, 0)),
        ((education, 2021), (1, 1, 0, 0, 0)),
        ((education, 2021), (1, 1, 1, 1, 3)),  # another spelling of the same department: the same key
        ((education, 2022), (1, 1, 1, 1, 1)),  # graded by the re-evaluation: 差 is one point
    ]


def test_a_grade_outside_the_four_counts_no_points() -> None:
    row: dict[str, Any] = {**facts(ProjectHistory()), "approved": True, "self_evaluated": True, "grade": "unknown"}
    assert department_counts(row)[1] == (1, 1, 1, 0, 0)


def test_registrations_name_departments_by_key_and_assessments_are_recorded_under_it() -> None:
    log = Log()
    earlier, new = uuid4(), uuid4()
    names: dict[tuple[Any, ...], Row] = {
        (earlier,): {"department_id": earlier, "name": "卫健委", "department_key": key("卫健委")}
    }  # an earlier page's
    events = [
        log.record("Department.Registered", new, name="文体旅游广电局 "),
        log.record("Department.ComprehensivelyAssessed", new, fiscal_year=2021, total=Decimal("91.50")),
        ProjectHistory(log).last,  # a project's event: not the departments'
        log.record("Department.OverallGoalsSet", earlier, fiscal_year=2022, goals=["目标"]),
        log.record("Department.ComprehensivelyAssessed", earlier, fiscal_year=2020, total=Decimal("78.00")),
    ]
    assessments, years = fold_departments(names, events)
    assert names[(new,)] == {"department_id": new, "name": "文体旅游广电局 ", "department_key": key("文体旅游广电局")}
    assert assessments == [
        {"department_key": key("文体旅游广电局"), "fiscal_year": 2021, "total": Decimal("91.50")},
        {"department_key": key("卫健委"), "fiscal_year": 2020, "total": Decimal("78.00")},
    ]
    assert years == {2020, 2021}


def test_a_page_without_department_events_changes_nothing() -> None:
    names: dict[tuple[Any, ...], Row] = {}
    assert fold_departments(names, ProjectHistory().then("Closed").events) == ([], set())
    assert names == {}
