"""The project facts that ``department_ranking`` and ``coverage`` keep, folded without a database.

Both read models fold the same events into a side table of their own (projections/facts.py); their own parts are
tested in test_ranking.py and test_coverage.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from projections.base import Row
from projections.facts import FOLDED, fold_facts, folded_facts
from tests.projections.recorded import Log, ProjectHistory

SCORED = {"total": Decimal("80.00")}


def facts(history: ProjectHistory) -> Row | None:
    row: Row | None = None
    for item in history.events:
        row = fold_facts(row, item)
    return row


def test_a_declaration_starts_the_facts() -> None:
    history = ProjectHistory(code="P-7", department="卫健委", fiscal_year=2022, budget_book="state_capital")
    assert facts(history) == {
        "project_id": history.id,
        "code": "P-7",
        "department": "卫健委",
        "fiscal_year": 2022,
        "budget_book": "state_capital",
        "stage": "declared",
        "approved": False,
        "self_evaluated": False,
        "re_evaluated": False,
        "grade": None,
        "key_grade": None,
        "re_grade": None,
        "re_evaluation_id": None,
        "self_grade": None,
        "goals_disclosed": False,
        "results_disclosed": False,
    }


def declared(history: ProjectHistory) -> Row:
    row = fold_facts(None, history.events[0])
    assert row is not None
    return row


def test_nothing_is_known_of_a_project_before_its_declaration() -> None:
    assert fold_facts(None, Log().record("Project.BudgetApproved", uuid4(), amount=Decimal("1.00"))) is None


@pytest.mark.parametrize(
    ("name", "fields", "changed"),
    [
        ("BudgetApproved", {"amount": Decimal("1.00")}, {"approved": True, "stage": "budget_approved"}),
        (
            "SelfEvaluated",
            {"grade": "良", **SCORED},
            {"self_evaluated": True, "self_grade": "良", "stage": "self_evaluated", "grade": "良"},
        ),
        (
            "ReEvaluated",
            {"grade": "中", "inflated": False, **SCORED},
            {"re_evaluated": True, "re_grade": "中", "grade": "中"},
        ),
        ("KeyEvaluationScored", {"grade": "差", "inflated": True, **SCORED}, {"key_grade": "差", "grade": "差"}),
        ("Disclosed", {"what": "goals"}, {"goals_disclosed": True}),
        ("Disclosed", {"what": "results"}, {"results_disclosed": True}),
        ("Closed", {}, {"stage": "closed"}),
        ("ResultsApplied", {"decision": "maintain"}, {"stage": "results_applied"}),
        ("Admitted", {}, {"stage": "admitted"}),
        ("GoalsSubmitted", {}, {"stage": "goals_submitted"}),
        ("ExAnteAssessed", {"conclusion": "reject"}, {"stage": "rejected"}),
        ("ExAnteAssessed", {"conclusion": "admit"}, {}),
        ("ExAnteReviewed", {"approved": True, "conclusion": "reject"}, {"stage": "rejected"}),
        ("ExAnteReviewed", {"approved": False, "conclusion": "reject"}, {}),
        ("ExAnteReviewed", {"approved": True, "conclusion": "support"}, {}),
        (
            "CorrectiveActionOrdered",
            {"decision": "cancel", "amount": None, "deviation_month": None},
            {"stage": "cancelled"},
        ),
        ("CorrectiveActionOrdered", {"decision": "continue", "amount": None, "deviation_month": None}, {}),
    ],
)
def test_each_event_changes_its_facts(name: str, fields: dict[str, Any], changed: dict[str, Any]) -> None:
    history = ProjectHistory()
    before = facts(history)
    assert before is not None
    history.then(name, **fields)
    assert facts(history) == {**before, **changed}
    assert f"Project.{name}" in FOLDED  # what the read models' apply passes to the fold


def test_the_grade_is_the_key_evaluations_then_the_re_evaluations_then_the_self_evaluations() -> None:
    history = ProjectHistory().then("SelfEvaluated", grade="优", **SCORED)
    history.then("KeyEvaluationScored", grade="中", inflated=False, **SCORED)
    history.then("ReEvaluated", grade="差", inflated=True, **SCORED)
    row = facts(history)
    assert row is not None
    assert (row["grade"], row["self_grade"], row["re_grade"], row["key_grade"]) == ("中", "优", "差", "中")


def test_the_events_outside_folded_change_no_fact() -> None:
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("1.00"))
    before = facts(history)
    for name, fields in (
        ("MonitoringReported", {"month": 7, "executed": Decimal("1.00")}),
        ("DeviationDetected", {"month": 7, "level": "red"}),
        ("FundingSuspended", {}),
        ("RectificationRequired", {"rectification_no": 1}),
        ("DeadlineMissed", {"ref": 0}),
    ):
        history.then(name, **fields)
        assert f"Project.{name}" not in FOLDED
        assert facts(history) == before, name


def test_a_page_yields_the_facts_it_changed_before_and_after() -> None:
    log = Log()
    known, new, untouched = ProjectHistory(log, code="A"), ProjectHistory(log, code="B"), ProjectHistory(log, code="C")
    before = {history.id.int: declared(history) for history in (known, untouched)}
    known.then("BudgetApproved", amount=Decimal("1.00"))
    known.then("Disclosed", what="goals")
    page = [known.events[1], new.events[0], known.events[2]]
    changes = folded_facts(page, before)
    assert [(old, after["code"], after["approved"], after["goals_disclosed"]) for old, after in changes] == [
        (before[known.id.int], "A", True, True),
        (None, "B", False, False),
    ]
    assert before[known.id.int]["approved"] is False  # the rows given are left as they were
    # The second read model folding the same page from equal rows takes the first one's result.
    assert folded_facts(page, {pid: dict(row) for pid, row in before.items()}) is changes
    assert folded_facts(page[:2], before) is not changes
