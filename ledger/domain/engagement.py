"""两审一督导 in full: the procedure an agency's evaluation runs under, whoever commissioned it and of what — a
project's key evaluation (:class:`~ledger.domain.project.Project`) or an organisation's overall evaluation
(:class:`~ledger.domain.overall.OverallGoals`).

The agency submits its evaluation plan (评价方案); finance reviews it (a rejection gives its reason and a new plan
falls due); finance supervises at least once (督导), with findings (督导意见) the agency answers; the agency submits
its report (评价报告) once every finding is answered; finance reviews it; only then does the score stand. Each step
falls due the ruleset's days after the step that opened it (``evaluation_plan_days``, ``evaluation_review_days``,
``supervision_days``, ``supervision_answer_days``, ``evaluation_report_days``), the day recorded by the event that
opened it; the deadline calendar reads them (:func:`ledger.domain.deadlines.evaluation_deadlines`). A blacklisting
voids (作废) an evaluation its cited misconduct names and every one its agency had not finished.

Written once for both aggregates: the checks below (each raising the refusal, with its code, that the aggregate's
command would) and the state changes their events make, over the evaluation's state as plain data — a dict of the
shape :func:`commissioned` makes. ``what`` names the evaluation in messages ("key evaluation KE-…", "overall
evaluation 1"). An evaluation whose ``procedure`` is None — finance's own, or an agency's commissioned before the
procedure was in full — keeps the two reviews only (supervision optional, no submissions, no dues).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from ledger.domain import rules
from ledger.domain.base import require_not_before
from ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from ledger.domain.values import Attribution

FULL_PROCEDURE = "two_reviews_one_supervision"  # 两审一督导 in full: an agency's evaluation commissioned now


class EvaluationStep(StrEnum):
    """The step an evaluation is at, as read models show it (who acts next)."""

    PLAN = "plan"  # the agency owes its plan
    PLAN_REVIEW = "plan_review"  # finance reviews the plan
    SUPERVISION = "supervision"  # finance owes its first supervision
    SUPERVISION_ANSWER = "supervision_answer"  # the agency owes answers to findings
    REPORT = "report"  # the agency owes its report
    REPORT_REVIEW = "report_review"  # finance reviews the report
    SCORE = "score"  # both reviews passed: the score is owed
    SCORED = "scored"
    VOIDED = "voided"  # 作废 on its agency's blacklisting


K = TypeVar("K")

# ------------------------------------------------------------------------------------------------ state


def commissioned(
    agency_id: str | None, agency_name: str | None, on: date, procedure: str | None, plan_due: date | None
) -> dict[str, Any]:
    """A commissioned evaluation's state: nothing reviewed, supervised or scored, its plan due by ``plan_due``."""
    return {
        "agency_id": agency_id,
        "agency_name": agency_name,
        "plan_approved": None,
        "report_approved": None,
        "supervision": [],
        "score": None,
        "commissioned_on": on,
        "procedure": procedure,
        "plan_due": plan_due,
        "plan_pending": False,
        "plan_review_due": None,
        "supervision_due": None,
        "supervisions": [],
        "report_due": None,
        "report_pending": False,
        "report_review_due": None,
        "voided": None,
    }


def is_full(evaluation: Mapping[str, Any]) -> bool:
    """Whether ``evaluation`` runs under 两审一督导 in full."""
    return evaluation.get("procedure") is not None


def plan_submitted(evaluation: dict[str, Any], review_due: date) -> None:
    evaluation.update(plan_pending=True, plan_review_due=review_due, plan_due=None)


def plan_reviewed(
    evaluation: dict[str, Any],
    approved: bool,
    plan_due: date | None,
    supervision_due: date | None,
    report_due: date | None,
) -> None:
    evaluation["plan_approved"] = approved
    if is_full(evaluation):
        evaluation.update(
            plan_pending=False,
            plan_review_due=None,
            plan_due=plan_due,
            supervision_due=supervision_due,
            report_due=report_due,
        )


def report_submitted(evaluation: dict[str, Any], review_due: date) -> None:
    evaluation.update(report_pending=True, report_review_due=review_due, report_due=None)


def report_reviewed(evaluation: dict[str, Any], approved: bool, report_due: date | None) -> None:
    evaluation["report_approved"] = approved
    if is_full(evaluation):
        evaluation.update(report_pending=False, report_review_due=None, report_due=report_due)


def supervised(
    evaluation: dict[str, Any], number: int, notes: str, findings: list[str], on: date, answer_due: date | None
) -> None:
    evaluation["supervision"].append(notes)
    evaluation.setdefault("supervisions", []).append(
        {
            "no": number,
            "notes": notes,
            "findings": list(findings),
            "on": on,
            "answer_due": answer_due,
            "answer": None,
            "answered_on": None,
        }
    )
    evaluation["supervision_due"] = None


def answered(evaluation: dict[str, Any], supervision_no: int, answer: str, on: date) -> None:
    evaluation["supervisions"][supervision_no - 1].update(answer=answer, answered_on=on)


def voided(evaluation: dict[str, Any], on: date, blacklisting_no: int, was_scored: bool, at_version: int) -> None:
    evaluation["voided"] = {
        "on": on,
        "blacklisting_no": blacklisting_no,
        "was_scored": was_scored,
        "at_version": at_version,
    }


# ------------------------------------------------------------------------------------------------ checks


def plan_due(agency_id: str | None, params: rules.RuleParameters | None, on: date) -> tuple[str | None, date | None]:
    """The procedure and plan due an evaluation commissioned on ``on`` records: an agency's under the ruleset
    (``params``) runs in full, its plan due ``evaluation_plan_days`` later; finance's own (or a caller without the
    ruleset) keeps the two reviews only."""
    if agency_id is None or params is None:
        return None, None
    return FULL_PROCEDURE, on + timedelta(days=params.evaluation_plan_days)


def require_not_voided(evaluation: Mapping[str, Any], what: str) -> None:
    if evaluation.get("voided") is not None:
        raise RuleViolation(f"{what} was voided", code="evaluation-voided")


def require_full(evaluation: Mapping[str, Any], what: str, code: str = "wrong-stage") -> None:
    """A step only an agency's evaluation under the full procedure has (409 ``code`` otherwise: a project's says
    ``wrong-stage``, as it first did)."""
    if not is_full(evaluation):
        raise RuleViolation(f"{what} is not an agency's under 两审一督导 in full", code=code)


def require_reason(by: Attribution, what: str) -> None:
    """``what`` (a rejection, a goal adjustment, a corrective action) is recorded only with its reason."""
    if not by.reason.strip():
        raise InvalidInput(f"{what} must give its reason", code="reason-required", field="reason")


def plan_submission(evaluation: Mapping[str, Any], params: rules.RuleParameters, on: date) -> date:
    """The agency submits its plan: not once approved, not while one awaits review. Returns the review's due day."""
    if evaluation["plan_approved"] is True:
        raise RuleViolation("the evaluation plan is already approved", code="already-decided")
    if evaluation["plan_pending"]:
        raise RuleViolation("a plan is already awaiting review", code="submission-pending")
    return on + timedelta(days=params.evaluation_review_days)


def plan_review(
    evaluation: Mapping[str, Any], approved: bool, by: Attribution, params: rules.RuleParameters | None
) -> dict[str, date | None]:
    """Finance reviews the plan, until the report is reviewed; under the full procedure the one submitted (409
    ``plan-not-submitted``), a rejection with its reason. Returns the dues the review records: once approved, the
    supervision and the report; once rejected, a new plan (all None outside the full procedure)."""
    if evaluation["report_approved"] is not None:
        raise RuleViolation("the report is already reviewed; the plan review is closed", code="already-decided")
    dues: dict[str, date | None] = {"plan_due": None, "supervision_due": None, "report_due": None}
    if is_full(evaluation):
        assert params is not None, "the full procedure's deadlines need the ruleset"
        if not evaluation["plan_pending"]:
            raise RuleViolation("no evaluation plan awaits review", code="plan-not-submitted")
        on = by.effective_on
        if approved:
            dues["supervision_due"] = on + timedelta(days=params.supervision_days)
            dues["report_due"] = on + timedelta(days=params.evaluation_report_days)
        else:
            require_reason(by, "a rejected plan")
            dues["plan_due"] = on + timedelta(days=params.evaluation_plan_days)
    return dues


def supervision(
    evaluation: Mapping[str, Any],
    notes: str,
    findings: list[str],
    on: date,
    params: rules.RuleParameters | None,
) -> tuple[int, date | None]:
    """一督导: what finance saw (``notes``) and its findings. Under the full procedure, once the plan is approved (409
    ``plan-not-reviewed``), until the report is (409 ``already-decided``), with at least one finding. Returns the
    supervision's number and the day its answer is due (None: no answer owed)."""
    if not notes.strip():
        raise InvalidInput("supervision notes are required", field="notes")
    full = is_full(evaluation)
    if full:
        if evaluation["plan_approved"] is not True:
            raise RuleViolation("the plan is not approved yet: nothing to supervise", code="plan-not-reviewed")
        if evaluation["report_approved"] is True or evaluation["score"] is not None:
            raise RuleViolation("the report is already approved", code="already-decided")
        if not [item for item in findings if item.strip()]:
            raise InvalidInput("a supervision states its findings (督导意见) for the agency", field="findings")
        assert params is not None, "the full procedure's deadlines need the ruleset"  # findings given: answers due
    if any(not item.strip() for item in findings):
        raise InvalidInput("a finding cannot be empty", field="findings")
    number = len(evaluation.get("supervisions", [])) + 1
    answer_due = on + timedelta(days=params.supervision_answer_days) if full and params else None
    return number, answer_due if findings else None


def answer(evaluation: Mapping[str, Any], supervision_no: int, text: str, on: date, what: str) -> None:
    """The agency answers a supervision's findings (督导意见回复), once, not before the supervision."""
    supervisions = evaluation.get("supervisions", [])
    if not 1 <= supervision_no <= len(supervisions):
        raise NotFound(f"no supervision {supervision_no} of {what}", code="supervision-not-found")
    item = supervisions[supervision_no - 1]
    require_not_before(on, item.get("on"), f"supervision {supervision_no} was recorded")
    if item["answer"] is not None or not item["findings"]:
        raise RuleViolation(f"supervision {supervision_no} needs no answer now", code="already-decided")
    if not text.strip():
        raise InvalidInput("answer the findings", field="answer")


def require_supervised(evaluation: Mapping[str, Any]) -> None:
    """一督导: supervised at least once, every finding answered."""
    supervisions = evaluation.get("supervisions", [])
    if not supervisions:
        raise RuleViolation("finance has not supervised the evaluation", code="supervision-required")
    open_ones = [str(item["no"]) for item in supervisions if item["findings"] and item["answer"] is None]
    if open_ones:
        raise RuleViolation(
            f"supervision {', '.join(open_ones)} not answered by the agency", code="supervision-unanswered"
        )


def report_submission(evaluation: Mapping[str, Any], params: rules.RuleParameters, on: date) -> date:
    """The agency submits its report: after its plan was approved, supervised at least once with every finding
    answered, not while one awaits review. Returns the review's due day."""
    if evaluation["plan_approved"] is not True:
        raise RuleViolation("the evaluation plan must be approved first", code="plan-not-reviewed")
    if evaluation["report_approved"] is True:
        raise RuleViolation("the evaluation report is already approved", code="already-decided")
    if evaluation["report_pending"]:
        raise RuleViolation("a report is already awaiting review", code="submission-pending")
    require_supervised(evaluation)
    return on + timedelta(days=params.evaluation_review_days)


def report_review(
    evaluation: Mapping[str, Any], approved: bool, by: Attribution, params: rules.RuleParameters | None
) -> date | None:
    """Finance reviews the report, once the plan is approved and until the score; under the full procedure the one
    submitted (409 ``report-not-submitted``), supervised with every finding answered, a rejection with its reason.
    Returns the day a new report is due after a rejection (None otherwise)."""
    if evaluation["plan_approved"] is not True:
        raise RuleViolation(
            "the evaluation plan must be approved before the report is reviewed", code="plan-not-reviewed"
        )
    if evaluation["score"] is not None:
        raise RuleViolation("the evaluation is already scored", code="already-decided")
    if not is_full(evaluation):
        return None
    assert params is not None, "the full procedure's deadlines need the ruleset"
    if not evaluation["report_pending"]:
        raise RuleViolation("no evaluation report awaits review", code="report-not-submitted")
    require_supervised(evaluation)
    if approved:
        return None
    require_reason(by, "a rejected report")
    return by.effective_on + timedelta(days=params.evaluation_report_days)


def require_scorable(evaluation: Mapping[str, Any], two_reviews: str) -> None:
    """The score stands only after both reviews (``two_reviews``: the refusal's words) and, under the full
    procedure, a supervision answered; once."""
    if evaluation["plan_approved"] is not True or evaluation["report_approved"] is not True:
        raise RuleViolation(two_reviews, code="report-not-reviewed")
    if is_full(evaluation):
        require_supervised(evaluation)
    if evaluation["score"] is not None:
        raise RuleViolation("the evaluation is already scored", code="already-decided")


def is_unfinished(evaluation: Mapping[str, Any]) -> bool:
    """Neither scored nor voided."""
    return evaluation["score"] is None and evaluation.get("voided") is None


def unfinished_or_named(evaluations: Mapping[K, Mapping[str, Any]], agency_id: str, named: Collection[K]) -> list[K]:
    """The evaluations (by key) a blacklisting of the agency ``agency_id`` voids: those it had not finished
    (unscored), and those scored that the misconduct cited names (``named``); none voided already."""
    return [
        key
        for key, item in evaluations.items()
        if item["agency_id"] == agency_id and item.get("voided") is None and (item["score"] is None or key in named)
    ]
