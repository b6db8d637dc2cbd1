"""The few facts about projects that the aggregate read models (ranking, coverage, deadlines) need.

Each of those read models keeps its own copy in a side table (``<table>_projects``), so rebuilding one never
depends on another read model's table being at the same position. :func:`fold_facts` is the fold (pure: a project's
facts and one event in, the facts after out); :func:`apply_project_facts` applies a page of events to a side table.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from projections import keyed
from projections.base import Conn, LogEvent, Row

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
    "re_evaluation_id": "text",  # the key evaluation commissioned as its re-evaluation (an agency's), if any
    "self_grade": "text",
    "goals_disclosed": "boolean NOT NULL",
    "results_disclosed": "boolean NOT NULL",
}


# The project events fold_facts reads (every other kind leaves the facts as they were).
FOLDED = frozenset(
    f"Project.{name}"
    for name in (
        "Declared",
        "BudgetApproved",
        "SelfEvaluated",
        "ReEvaluated",
        "ReEvaluationCommissioned",
        "KeyEvaluationScored",
        "Disclosed",
        "Closed",
        "ResultsApplied",
        "Admitted",
        "GoalsSubmitted",
        "ExAnteAssessed",
        "ExAnteReviewed",
        "CorrectiveActionOrdered",
    )
)


def fold_facts(row: dict[str, Any] | None, item: LogEvent) -> dict[str, Any] | None:
    name = item.kind.removeprefix("Project.")
    e = item.event
    if name == "Declared":
        row = {
            "project_id": item.originator_id,
            "code": e.code,
            "department": e.department,
            "fiscal_year": e.fiscal_year,
            "budget_book": e.budget_book,
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
    elif name == "ReEvaluationCommissioned":
        row["re_evaluation_id"] = e.evaluation_id
    elif (
        name == "KeyEvaluationScored"
        and row["re_evaluation_id"] is not None
        and e.evaluation_id == row["re_evaluation_id"]
    ):
        row["re_evaluated"], row["re_grade"] = True, e.grade  # the agency's score is the re-evaluation
    elif name == "KeyEvaluationScored":
        row["key_grade"] = e.grade
    elif name == "Disclosed":
        row["goals_disclosed" if e.what == "goals" else "results_disclosed"] = True
    elif name in ("Closed", "ResultsApplied", "Admitted", "GoalsSubmitted"):
        row["stage"] = {
            "Closed": "closed",
            "ResultsApplied": "results_applied",
            "Admitted": "admitted",
            "GoalsSubmitted": "goals_submitted",
        }[name]
    elif (name == "ExAnteAssessed" or (name == "ExAnteReviewed" and e.approved)) and e.conclusion == "reject":
        row["stage"] = "rejected"
    elif name == "CorrectiveActionOrdered" and e.decision == "cancel":
        row["stage"] = "cancelled"
    row["grade"] = row["key_grade"] or row["re_grade"] or row["self_grade"]
    return row


def apply_project_facts(conn: Conn, table: str, events: Sequence[LogEvent]) -> list[tuple[Row | None, Row]]:
    """Fold project events into a facts side table; return the facts of each project they changed, before (None
    for a project new in the page) and after."""
    project_events = [item for item in events if item.kind in FOLDED]  # the others change no fact
    if not project_events:
        return []
    columns = list(FACT_COLUMNS)
    ids = {item.originator_id.int: (item.originator_id,) for item in project_events}  # UUIDs hash in Python
    loaded = keyed.load(conn, table, columns, ["project_id"], ids.values())
    changes = folded_facts(project_events, {key[0].int: row for key, row in loaded.items()})
    keyed.store(conn, table, columns, ["project_id"], (row for _, row in changes))  # only the facts that changed
    return changes


# department_ranking and coverage keep the same facts, each in a table of its own (above); in a page the runner
# applies both to the same events, from the same rows when both stand at the same position: the second takes the
# first's result instead of folding the events again (the rows are compared; the changes are only read).
_last_folded = threading.local()


def folded_facts(project_events: Sequence[LogEvent], before: dict[int, Row]) -> list[tuple[Row | None, Row]]:
    """The facts ``project_events`` change, from ``before`` (by the project id's int): (before or None, after)."""
    span = (project_events[0].leaf_index, project_events[-1].leaf_index, len(project_events))
    last = getattr(_last_folded, "value", None)
    if last is not None and last[0] == span and last[1] == before:
        return last[2]  # type: ignore[no-any-return]
    rows = {pid: dict(row) for pid, row in before.items()}
    for item in project_events:
        pid = item.originator_id.int
        folded = fold_facts(rows.get(pid), item)
        if folded is not None:
            rows[pid] = folded
    changes = [(before.get(pid), row) for pid, row in rows.items() if before.get(pid) != row]
    _last_folded.value = (span, before, changes)
    return changes
