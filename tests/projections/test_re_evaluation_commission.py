"""An agency commissioned to re-evaluate a project drawn in the sample reads it as one commissioned to evaluate it."""

from __future__ import annotations

from ledger.domain.values import key
from tests.projections.recorded import ProjectHistory
from tests.projections.test_project_status import row_after


def test_the_agency_commissioned_to_re_evaluate_is_among_the_project_s_evaluators() -> None:
    history = ProjectHistory().then("ReEvaluationCommissioned", agency_name="某咨询评估有限公司")
    assert row_after(history)["evaluators"] == [key("某咨询评估有限公司")]
