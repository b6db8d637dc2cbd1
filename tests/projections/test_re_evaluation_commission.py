"""An agency commissioned to re-evaluate a project drawn in the sample reads it as one commissioned to evaluate it."""

from __future__ import annotations

from decimal import Decimal

from ledger.domain.values import key
from projections.base import Row
from tests.projections.recorded import ProjectHistory
from tests.projections.test_facts import facts
from tests.projections.test_project_status import row_after


def test_the_agency_commissioned_to_re_evaluate_is_among_the_project_s_evaluators() -> None:
    history = ProjectHistory().then("ReEvaluationCommissioned", agency_name="某咨询评估有限公司")
    assert row_after(history)["evaluators"] == [key("某咨询评估有限公司")]


def facts_after(history: ProjectHistory) -> Row:
    row = facts(history)
    assert row is not None
    return row


def test_the_agency_s_score_of_a_commissioned_re_evaluation_counts_as_the_re_evaluation_in_the_facts() -> None:
    """Coverage's re-evaluation rate and the ranking count the project as re-evaluated, on the agency's grade; a key
    evaluation's score stays a key evaluation's."""
    history = ProjectHistory().then("ReEvaluationCommissioned", evaluation_id="RE-2021-X-1", agency_name="某咨询")
    history.then("KeyEvaluationScored", evaluation_id="KE-2021-X-2", grade="良", total=Decimal("85"), inflated=False)
    row = facts_after(history)
    assert (row["re_evaluated"], row["re_grade"], row["key_grade"]) == (False, None, "良")
    history.then("KeyEvaluationScored", evaluation_id="RE-2021-X-1", grade="中", total=Decimal("70"), inflated=True)
    row = facts_after(history)
    assert (row["re_evaluated"], row["re_grade"], row["key_grade"], row["re_evaluation_id"]) == (
        True,
        "中",
        "良",
        "RE-2021-X-1",
    )
