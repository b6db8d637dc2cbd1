"""The steps the source documents name a report for, and the type of document each requires among its evidence.

The plan has the department file its ex-ante assessment with a report (出具绩效评估报告) and its self-evaluation with
one (自评报告); a key evaluation's plan and report are what the agency submits and finance reviews (评价方案, 评价报告:
两审), so the submission and the review each cite the document (the review names the version it passed); a
rectification is reported with its report (整改报告). An overall evaluation's plan and report under the same procedure
are cited alike. A new command recording one of these events without a document of that type among its evidence is
refused (``report-required``) when the application saves it; events recorded before documents had types replay as
they are (the check is a command's, never a replay's).
"""

from __future__ import annotations

from typing import Any, Final

from ledger.domain.errors import InvalidInput
from ledger.domain.values import DocumentType

REQUIRED_REPORTS: Final[dict[str, DocumentType]] = {
    "Project.ExAnteAssessed": DocumentType.EX_ANTE_REPORT,  # finance's own assessment
    "Project.ExAnteFiled": DocumentType.EX_ANTE_REPORT,  # the department's (or its agency's) report, filed
    "Project.SelfEvaluated": DocumentType.SELF_EVALUATION_REPORT,
    "Project.KeyEvaluationPlanSubmitted": DocumentType.EVALUATION_PLAN,  # 两审一督导: the agency's plan, submitted
    "Project.KeyEvaluationPlanReviewed": DocumentType.EVALUATION_PLAN,  # … and cited by the review of it
    "Project.KeyEvaluationReportSubmitted": DocumentType.EVALUATION_REPORT,
    "Project.KeyEvaluationReportReviewed": DocumentType.EVALUATION_REPORT,
    "Project.RectificationReported": DocumentType.RECTIFICATION_REPORT,
    # … and an overall evaluation's, under the same procedure (ledger.domain.engagement)
    "OverallGoals.EvaluationPlanSubmitted": DocumentType.EVALUATION_PLAN,
    "OverallGoals.EvaluationPlanReviewed": DocumentType.EVALUATION_PLAN,
    "OverallGoals.EvaluationReportSubmitted": DocumentType.EVALUATION_REPORT,
    "OverallGoals.EvaluationReportReviewed": DocumentType.EVALUATION_REPORT,
}
"""event type (``Aggregate.Event``) -> the type of document its evidence must include."""


def require_report(event: Any) -> None:
    """Refuse ``event`` (an aggregate's, about to be saved) recorded by a principal — the scheduler files no documents
    — without the report its step needs among its typed ``documents``."""
    event_type = type(event).__qualname__
    required = REQUIRED_REPORTS.get(event_type)
    if (
        required is not None
        and not event.principal.is_system
        and not any(document["type"] == required.value for document in event.documents)
    ):
        raise InvalidInput(
            f"{event_type} needs a document of type {required.value} among its evidence "
            f'({{"digest": …, "type": "{required.value}"}})',
            code="report-required",
            field="evidence",
        )
