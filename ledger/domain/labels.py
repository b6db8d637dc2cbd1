"""The Chinese label of every code the ledger records (``closed`` → 已关闭), by vocabulary, from ``labels.toml``.

Codes stay what clients branch on; a label is what a person reads beside one. :data:`ENUMS` names the enum each
vocabulary covers, so a member added without its label is found (tests/ledger/domain/test_labels.py); the other
vocabularies are codes the read models keep as plain text (a deadline's status, how a blacklisting ended).
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from importlib import resources
from typing import Final

from ledger.domain.agencies import EngagementKind, Misconduct, Qualification
from ledger.domain.deadlines import DeadlineKind
from ledger.domain.decisions import BasisKind, DecisionKind, SubjectKind
from ledger.domain.draw import DrawStatus
from ledger.domain.engagement import EvaluationStep
from ledger.domain.ex_ante import ExAnteLead, FilingStatus
from ledger.domain.findings import FindingSubject, Responder
from ledger.domain.overall import GoalsStatus, OrganisationKind
from ledger.domain.project_values import (
    CorrectiveDecision,
    Disclosure,
    EscalationDecision,
    RectificationSource,
    SpotCheckSubject,
    Stage,
)
from ledger.domain.rules.monitoring import DeviationLevel
from ledger.domain.rules.scoring import ControlFigureDecision, ExAnteConclusion, ResultApplication
from ledger.domain.values import (
    BudgetBook,
    DocumentType,
    Grade,
    Level1,
    Operator,
    ProjectKind,
    Qualitative,
    Role,
    SpecialCategory,
)


def _vocabularies() -> dict[str, dict[str, str]]:
    text = resources.files(__package__ or "ledger.domain").joinpath("labels.toml").read_text("utf-8")
    return {name: dict(codes) for name, codes in tomllib.loads(text).items()}


LABELS: Final[dict[str, dict[str, str]]] = _vocabularies()
"""vocabulary -> code -> Chinese label."""

ENUMS: Final[dict[str, type[StrEnum]]] = {
    "control_figure_decision": ControlFigureDecision,
    "stage": Stage,
    "project_kind": ProjectKind,
    "budget_book": BudgetBook,
    "special_category": SpecialCategory,
    "level1": Level1,
    "operator": Operator,
    "qualitative": Qualitative,
    "grade": Grade,
    "role": Role,
    "deviation": DeviationLevel,
    "ex_ante_conclusion": ExAnteConclusion,
    "ex_ante_lead": ExAnteLead,
    "ex_ante_filing_status": FilingStatus,
    "result_decision": ResultApplication,
    "corrective_decision": CorrectiveDecision,
    "rectification_source": RectificationSource,
    "spot_check_subject": SpotCheckSubject,
    "escalation_decision": EscalationDecision,
    "disclosure": Disclosure,
    "deadline_kind": DeadlineKind,
    "organisation_kind": OrganisationKind,
    "goals_status": GoalsStatus,
    "evaluation_step": EvaluationStep,
    "engagement_kind": EngagementKind,
    "misconduct": Misconduct,
    "qualification": Qualification,
    "decision_kind": DecisionKind,
    "basis_kind": BasisKind,
    "subject_kind": SubjectKind,
    "draw_status": DrawStatus,
    "finding_subject": FindingSubject,
    "responder": Responder,
    "document_type": DocumentType,
}
"""vocabulary -> the enum whose every value it labels."""


def label(vocabulary: str, code: str) -> str | None:
    """The Chinese for ``code`` in ``vocabulary``; ``None`` for a code it does not know (shown as it is)."""
    return LABELS[vocabulary].get(code)
