"""The few facts about projects that the aggregate read models (ranking, coverage, deadlines) need.

Each of those read models keeps its own copy in a side table (``<table>_projects``), so rebuilding one never
depends on another read model's table being at the same position.
"""

from __future__ import annotations

from typing import Any

from projections.base import LogEvent

GRADE_POINTS = {"优": 4, "良": 3, "中": 2, "差": 1}

FACT_COLUMNS: dict[str, str] = {
    "project_id": "uuid NOT NULL",
    "code": "text NOT NULL",
    "department": "text NOT NULL",
    "fiscal_year": "integer NOT NULL",
    "budget_book": "text NOT NULL",
    "stage": "text NOT NULL",
    "approved": "boolean NOT NULL",
    "self_evaluated": "boolean NOT NULL",
    "re_evaluated": "boolean NOT NULL",
    "grade": "text",
    "key_grade": "text",
    "re_grade": "text",
    "self_grade": "text",
    "goals_disclosed": "boolean NOT NULL",
    "results_disclosed": "boolean NOT NULL",
}


# The project events fold_facts reads (every other kind leaves the facts as they were).
FOLDED = frozenset(f"Project.{name}" for name in (
    "Declared", "BudgetApproved", "SelfEvaluated", "ReEvaluated", "KeyEvaluationScored", "Disclosed", "Closed",
    "ResultsApplied", "Admitted", "GoalsSubmitted", "ExAnteAssessed", "CorrectiveActionOrdered"))


def fold_facts(row: dict[str, Any] | None, item: LogEvent) -> dict[str, Any] | None:
    name = item.kind.removeprefix("Project.")
    e = item.event
    if name == "Declared":
        row = {"project_id": item.originator_id, "code": e.code, "department": e.department,
               "fiscal_year": e.fiscal_year, "budget_book": e.budget_book, "stage": "declared", "approved": False,
               "self_evaluated": False, "re_evaluated": False, "grade": None, "key_grade": None, "re_grade": None,
               "self_grade": None, "goals_disclosed": False, "results_disclosed": False}
    if row is None:
        return None
    if name == "BudgetApproved":
        row["approved"] = True
        row["stage"] = "budget_approved"
    elif name == "SelfEvaluated":
        row["self_evaluated"], row["self_grade"] = True, e.grade
        row["stage"] = "self_evaluated"
    elif name == "ReEvaluated":
        row["re_evaluated"], row["re_grade"] = True, e.grade
    elif name == "KeyEvaluationScored":
        row["key_grade"] = e.grade
    elif name == "Disclosed":
        row["goals_disclosed" if e.what == "goals" else "results_disclosed"] = True
    elif name in ("Closed", "ResultsApplied", "Admitted", "GoalsSubmitted"):
        row["stage"] = {"Closed": "closed", "ResultsApplied": "results_applied", "Admitted": "admitted",
                        "GoalsSubmitted": "goals_submitted"}[name]
    elif name == "ExAnteAssessed" and e.conclusion == "reject":
        row["stage"] = "rejected"
    elif name == "CorrectiveActionOrdered" and e.decision == "cancel":
        row["stage"] = "cancelled"
    row["grade"] = row["key_grade"] or row["re_grade"] or row["self_grade"]
    return row
