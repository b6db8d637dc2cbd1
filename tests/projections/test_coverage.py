"""``coverage``'s folds, without a database: the counters its projects' facts add up to per fiscal year, and the
departments and overall goals it counts. (The facts themselves: test_facts.py; the rates of a year, which PostgreSQL
computes from these: test_runner.py.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from projections.base import Row
from projections.coverage import BOOKS, COUNTED, fold_organisations, year_counts
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


def test_overall_goals_count_once_finance_approves_them() -> None:
    log = Log()
    department, unit, returned, earlier = uuid4(), uuid4(), uuid4(), uuid4()
    goals: dict[tuple[Any, ...], Row] = {
        (earlier,): {"goals_id": earlier, "kind": "department", "fiscal_year": 2021, "approved": False}
    }
    events = [
        log.record("Department.Registered", department, name="教育局"),
        log.record("Unit.Registered", unit, name="第一中学", department={"id": str(department), "name": "教育局"}),
        log.record("OverallGoals.Submitted", department, kind="department", fiscal_year=2022),
        log.record("OverallGoals.Submitted", unit, kind="unit", fiscal_year=2022),
        log.record("OverallGoals.Submitted", returned, kind="department", fiscal_year=2023),
        log.record("OverallGoals.Reviewed", unit, rating="良", required_fixes="细化"),
        log.record("OverallGoals.Reviewed", returned, rating="中", required_fixes="重报"),
        log.record("OverallGoals.Reviewed", earlier, rating="优", required_fixes=""),  # submitted on an earlier page
        log.record("Department.OverallGoalsSet", department, fiscal_year=2024, goals=["自由文本目标"]),  # not reviewed
    ]
    organisations, years = fold_organisations(goals, events)
    assert organisations == [
        {"organisation_id": department, "kind": "department"},
        {"organisation_id": unit, "kind": "unit"},
    ]
    assert {row["goals_id"]: (row["kind"], row["fiscal_year"], row["approved"]) for row in goals.values()} == {
        earlier: ("department", 2021, True),
        department: ("department", 2022, False),
        unit: ("unit", 2022, True),
        returned: ("department", 2023, False),
    }
    assert years == {2021, 2022}  # the years whose approved goals changed: not 2023 (returned), not 2024


def test_approved_goals_adjusted_or_reviewed_again_count_once() -> None:
    log = Log()
    gid = uuid4()
    goals: dict[tuple[Any, ...], Row] = {
        (gid,): {"goals_id": gid, "kind": "unit", "fiscal_year": 2022, "approved": True}
    }
    organisations, years = fold_organisations(
        goals, [log.record("OverallGoals.Reviewed", gid, rating="优", required_fixes=""), ProjectHistory(log).last]
    )
    assert (organisations, years, goals[(gid,)]["approved"]) == ([], set(), True)
