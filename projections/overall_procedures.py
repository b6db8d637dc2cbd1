"""Each overall evaluation's 两审一督导 as ``department_overall`` shows it (the row's ``procedures``): the step it
awaits, the days still owed, its supervisions and the answers still open, and a voiding. Folded from the
``OverallGoals`` evaluation events into the row's entry for the evaluation's number (in place); the rest of the row is
:mod:`projections.department_overall`'s, which folds these events through :data:`CHANGES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.domain.engagement import EvaluationStep
from projections.base import Row


def commissioned(e: Any) -> dict[str, Any]:
    """The entry of an evaluation just commissioned: under the full procedure the agency's plan is owed first."""
    return {
        "no": e.evaluation_no,
        "evaluator": e.agency_name,
        "procedure": e.procedure,  # None: the two reviews only (finance's own, or commissioned before)
        "step": EvaluationStep.PLAN if e.procedure else EvaluationStep.PLAN_REVIEW,
        "dues": dues(plan=e.plan_due),
        "supervisions": 0,
        "answers_open": 0,
        "voided_on": None,
        "blacklisting_no": None,
    }


def dues(**days: Any) -> dict[str, str]:
    """The open dues of a step, by what is owed (plan, plan_review, supervision, answer, report, report_review)."""
    return {what: day.isoformat() for what, day in days.items() if day is not None}


def of(row: Row, number: int) -> dict[str, Any]:
    """Evaluation ``number``'s procedure entry, changed in place."""
    entry: dict[str, Any] = row["procedures"][number - 1]
    return entry


def _stepped(step: str, **fields: str) -> Callable[[Row, Any], None]:
    """An event moving an evaluation to ``step``, its open dues those the event records (``fields``: what is owed,
    by the event's attribute holding its day)."""

    def stepped(row: Row, e: Any) -> None:
        entry = of(row, e.evaluation_no)
        entry["dues"] = dues(**{what: getattr(e, field, None) for what, field in fields.items()})
        entry["step"] = step

    return stepped


def _plan_reviewed(row: Row, e: Any) -> None:
    entry = of(row, e.evaluation_no)
    if entry["procedure"] is None:
        entry["step"] = "report_review" if e.approved else "plan_review"
        return
    entry["dues"] = dues(plan=e.plan_due, supervision=e.supervision_due, report=e.report_due)
    entry["step"] = "supervision" if e.approved else "plan"


def _supervised(row: Row, e: Any) -> None:
    entry = of(row, e.evaluation_no)
    entry["supervisions"] += 1
    entry["dues"].pop("supervision", None)
    if e.findings and e.answer_due is not None:
        entry["answers_open"] += 1
        entry["dues"][f"answer_{e.supervision_no}"] = e.answer_due.isoformat()
    if entry["procedure"] is not None:
        entry["step"] = "supervision_answer" if entry["answers_open"] else "report"


def _answered(row: Row, e: Any) -> None:
    entry = of(row, e.evaluation_no)
    entry["answers_open"] -= 1
    entry["dues"].pop(f"answer_{e.supervision_no}", None)
    if not entry["answers_open"] and entry["step"] == "supervision_answer":
        entry["step"] = "report"


def _report_reviewed(row: Row, e: Any) -> None:
    entry = of(row, e.evaluation_no)
    if entry["procedure"] is None:
        entry["step"] = "score" if e.approved else "report_review"
        return
    entry["dues"] = dues(report=e.report_due)
    entry["step"] = "score" if e.approved else "report"


CHANGES: dict[str, Callable[[Row, Any], None]] = {
    "EvaluationPlanSubmitted": _stepped("plan_review", plan_review="review_due"),
    "EvaluationPlanReviewed": _plan_reviewed,
    "EvaluationSupervised": _supervised,
    "EvaluationSupervisionAnswered": _answered,
    "EvaluationReportSubmitted": _stepped("report_review", report_review="review_due"),
    "EvaluationReportReviewed": _report_reviewed,
}
