"""``coverage``'s folds, without a database: the counters its projects' facts add up to per fiscal year, and the
departments and overall goals it counts. (The facts themselves: test_facts.py; the rates of a year, which PostgreSQL
computes from these: test_runner.py.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from projections.base import Row
from projections.coverage import BOOKS, COUNTED, fold_departments, year_counts
from projections.facts import fold_facts
from tests.projections.recorded import Log, ProjectHistory


def facts(history: ProjectHistory) -> Row:
    row: Row | None = None
    for item in history.events:
        row = fold_facts(row, item)
    assert row is not None
    return row


def counted(history: ProjectHistory) -> tuple[tuple[Any, ...], dict[str, int]]:
    year, counts = year_counts(facts(history))
    return year, dict(zip(COUNTED, counts, strict=True))


def test_a_declared_project_counts_in_its_year_and_budget_book() -> None:
    year, counts = counted(ProjectHistory(fiscal_year=2023, budget_book="social_insurance"))
    assert year == (2023,)
    assert counts == {
        "declared": 1,
        "approved": 0,
        "self_evaluated": 0,
        "re_evaluated": 0,
        "general_public": 0,
        "government_fund": 0,
        "state_capital": 0,
        "social_insurance": 1,
        "goals_disclosed": 0,
        "results_disclosed": 0,
    }


@pytest.mark.parametrize("book", BOOKS)
def test_each_budget_book_has_a_counter(book: str) -> None:
    _, counts = counted(ProjectHistory(budget_book=book))
    assert [name for name in BOOKS if counts[name]] == [book]


def test_coverage_counts_what_its_targets_measure() -> None:
    history = ProjectHistory().then("Disclosed", what="goals")
    assert counted(history)[1]["goals_disclosed"] == 0  # goals disclosed count among approved projects only
    history.then("BudgetApproved", amount=Decimal("1.00"))
    assert (counted(history)[1]["approved"], counted(history)[1]["goals_disclosed"]) == (1, 1)
    history.then("Disclosed", what="results")
    assert counted(history)[1]["results_disclosed"] == 0  # results disclosed count among self-evaluated ones only
    history.then("SelfEvaluated", grade="良", total=Decimal("85.00"))
    history.then("ReEvaluated", grade="良", total=Decimal("84.00"), inflated=False)
    _, counts = counted(history)
    assert {name: counts[name] for name in ("self_evaluated", "re_evaluated", "results_disclosed")} == {
        "self_evaluated": 1,
        "re_evaluated": 1,
        "results_disclosed": 1,
    }


def test_departments_and_their_overall_goals_are_counted_by_year() -> None:
    log = Log()
    earlier, new = uuid4(), uuid4()
    departments: dict[tuple[Any, ...], Row] = {(earlier,): {"department_id": earlier, "name": "卫健委"}}
    events = [
        log.record("Department.Registered", new, name="教育局"),
        log.record("Department.OverallGoalsSet", new, fiscal_year=2021, goals=["目标一"]),
        log.record("Department.ComprehensivelyAssessed", new, fiscal_year=2021, total=Decimal("90.00")),
        log.record("Department.OverallGoalsSet", earlier, fiscal_year=2022, goals=["目标二"]),
    ]
    goals, years, registered = fold_departments(departments, events)
    assert departments[(new,)] == {"department_id": new, "name": "教育局"}
    assert goals == [{"department": "教育局", "fiscal_year": 2021}, {"department": "卫健委", "fiscal_year": 2022}]
    assert (years, registered) == ({2021, 2022}, True)


def test_goals_of_known_departments_do_not_change_every_years_denominator() -> None:
    log = Log()
    known = uuid4()
    departments: dict[tuple[Any, ...], Row] = {(known,): {"department_id": known, "name": "教育局"}}
    goals, years, registered = fold_departments(
        departments,
        [log.record("Department.OverallGoalsSet", known, fiscal_year=2021, goals=["目标"]), ProjectHistory(log).last],
    )
    assert (goals, years, registered) == ([{"department": "教育局", "fiscal_year": 2021}], {2021}, False)
