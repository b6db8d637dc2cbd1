"""Finance's decisions on a department or a budget unit (通报, 表彰, 约谈), and the rectification they open.

A decision is finance's, recorded with its reason and evidence, and rests on something the ledger holds — a fiscal
year's comprehensive assessment (the ranking: the department must have been assessed that year) or a project's
evaluation (the project must be the organisation's and evaluated) — which it cites by fiscal year or by project id.
Praise (通报表扬) and commendation (表彰) are favourable; criticism (通报批评) and an interview (约谈) are not, and
open a rectification (整改) the organisation must report on within the ruleset's ``decision_rectification_days``
(30 by default). Finance accepts the report or rejects it, which leaves the report owed by the same date; the
scheduler raises an approaching notice and a missed one once each, as for a project's deadlines.

Its own aggregate, not a part of the department's: a decision and its follow-up are a history of their own, recorded
without contending with the department's other commands (its overall goals, another helper's area), and its id
follows from what it is — its kind, the organisation, and what it rests on — so a second of the same is a duplicate.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate, keyed_id, require_not_before
from ledger.domain.deadlines import Deadline
from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.notices import ApproachingNotice, MissedNotice, NoticeOwner
from ledger.domain.values import Attribution, enum_value


class DecisionKind(StrEnum):
    PRAISE = "praise"  # 通报表扬
    CRITICISM = "criticism"  # 通报批评
    COMMENDATION = "commendation"  # 表彰
    INTERVIEW = "interview"  # 约谈


KIND_ZH = {"praise": "通报表扬", "criticism": "通报批评", "commendation": "表彰", "interview": "约谈"}
FAVOURABLE = frozenset({DecisionKind.PRAISE.value, DecisionKind.COMMENDATION.value})
OPENS_RECTIFICATION = frozenset({DecisionKind.CRITICISM.value, DecisionKind.INTERVIEW.value})


class BasisKind(StrEnum):
    RANKING = "ranking"  # 综合绩效考评排名 of a fiscal year
    EVALUATION = "evaluation"  # a project's evaluation


class SubjectKind(StrEnum):
    DEPARTMENT = "department"
    UNIT = "unit"


RECTIFICATION = "decision_rectification"  # the deadline's kind in notices


def decision_id(kind: str, subject_kind: str, subject: str, basis: str, ref: object) -> UUID:
    """One decision of a kind for an organisation (by its name's key) on one basis: the fiscal year ranked, or the
    project evaluated."""
    return keyed_id("decision", kind, subject_kind, subject, basis, ref)


def contrary_ids(kind: str, subject_kind: str, subject: str, basis: str, ref: object) -> tuple[UUID, ...]:
    """The ids of the decisions a decision of ``kind`` contradicts on the same basis (a favourable one and an
    unfavourable one cannot both rest on it)."""
    favourable = kind in FAVOURABLE
    return tuple(
        decision_id(other.value, subject_kind, subject, basis, ref)
        for other in DecisionKind
        if (other.value in FAVOURABLE) != favourable
    )


class Decision(NoticeOwner, LedgerAggregate):
    """通报 / 表彰 / 约谈 of one department or unit on one basis, and its rectification (criticism, interview)."""

    TOPIC_MODULE = "ledger.decisions"

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        kind: str
        subject_kind: str
        subject: str  # the organisation, as registered
        subject_id: UUID
        department: str  # the department, itself or the unit's, as registered
        basis: str
        fiscal_year: int
        project_id: UUID | None
        decided_on: date
        rectification: dict[str, Any] | None
        deadline_notices: dict[str, dict[str, Any]]

    class Recorded(LedgerAggregate.Created):
        """通报 / 表彰 / 约谈 recorded by finance."""

        kind: str
        subject_kind: str
        subject: str
        subject_id: UUID
        department: str
        basis: str
        fiscal_year: int
        project_id: UUID | None
        rectification_due: date | None
        ruleset_version: int

        def apply(self, decision: Decision) -> None:
            decision.kind = self.kind
            decision.subject_kind = self.subject_kind
            decision.subject = self.subject
            decision.subject_id = self.subject_id
            decision.department = self.department
            decision.basis = self.basis
            decision.fiscal_year = self.fiscal_year
            decision.project_id = self.project_id
            decision.decided_on = self.effective_on
            decision.deadline_notices = {}
            decision.rectification = (
                None
                if self.rectification_due is None
                else {"due": self.rectification_due, "status": "open", "reports": 0, "reported_on": None}
            )

    class RectificationReported(LedgerAggregate.Event):
        """整改情况报告 by the organisation."""

        measures: str

        def apply(self, decision: Decision) -> None:
            assert decision.rectification is not None
            decision.rectification.update(
                status="reported", reports=decision.rectification["reports"] + 1, reported_on=self.effective_on
            )

    class RectificationAccepted(LedgerAggregate.Event):
        """整改验收通过 by finance."""

        def apply(self, decision: Decision) -> None:
            assert decision.rectification is not None
            decision.rectification["status"] = "accepted"

    class RectificationRejected(LedgerAggregate.Event):
        """整改验收不通过 by finance: the report is owed again, by the same date."""

        def apply(self, decision: Decision) -> None:
            assert decision.rectification is not None
            decision.rectification["status"] = "open"

    class DeadlineApproaching(ApproachingNotice):
        """临期提醒 of the rectification report (raised by the scheduler)."""

    class DeadlineMissed(MissedNotice):
        """逾期: the rectification report was not made by its due date (raised by the scheduler)."""

    @classmethod
    def record_decision(
        cls,
        *,
        kind: str,
        subject_kind: str,
        subject: str,
        subject_id: UUID,
        department: str,
        basis: str,
        fiscal_year: int,
        project_id: UUID | None,
        subject_since: date | None,
        params: rules.RuleParameters,
        ruleset_version: int,
        by: Attribution,
    ) -> Decision:
        """A decision of ``kind`` on ``basis``, dated no earlier than the organisation was registered
        (``subject_since``); with a reason always (a decision on an organisation says why)."""
        checked = enum_value(DecisionKind, kind, "kind").value
        enum_value(SubjectKind, subject_kind, "subject_kind")
        enum_value(BasisKind, basis, "basis")
        if not by.reason.strip():
            raise InvalidInput("a decision must give its reason", code="reason-required", field="reason")
        require_not_before(by.effective_on, subject_since, f"{subject} was registered")
        due = rules.decision_rectification_due(by.effective_on, params) if checked in OPENS_RECTIFICATION else None
        ref: object = fiscal_year if basis == BasisKind.RANKING.value else project_id
        return cls._create(
            cls.Recorded,
            id=decision_id(checked, subject_kind, subject, basis, ref),
            **by.event_fields(),
            kind=checked,
            subject_kind=subject_kind,
            subject=subject,
            subject_id=subject_id,
            department=department,
            basis=basis,
            fiscal_year=fiscal_year,
            project_id=project_id,
            rectification_due=due,
            ruleset_version=ruleset_version,
        )

    def _open_rectification(self) -> dict[str, Any]:
        if self.rectification is None:
            raise RuleViolation(
                f"a {KIND_ZH[self.kind]} ({self.kind}) opens no rectification", code="no-rectification-required"
            )
        return self.rectification

    def report_rectification(self, measures: str, by: Attribution) -> None:
        rectification = self._open_rectification()
        require_not_before(by.effective_on, self.decided_on, "the decision was recorded")
        if rectification["status"] != "open":
            raise RuleViolation(
                f"the rectification is {rectification['status']}, not awaiting a report", code="already-decided"
            )
        if not measures.strip():
            raise InvalidInput("describe the rectification measures", field="measures")
        self.record(self.RectificationReported, by, measures=measures)

    def decide_rectification(self, accept: bool, by: Attribution) -> None:
        rectification = self._open_rectification()
        require_not_before(by.effective_on, rectification["reported_on"], "the rectification was reported")
        if rectification["status"] != "reported":
            raise RuleViolation("the rectification has no report awaiting a decision", code="already-decided")
        if not accept and not by.reason.strip():
            raise InvalidInput("a rejection must give its reason", code="reason-required", field="reason")
        self.record(self.RectificationAccepted if accept else self.RectificationRejected, by)

    # ------------------------------------------------------------ the scheduler

    def open_deadlines(self, params: rules.RuleParameters | None = None) -> list[Deadline]:
        """The rectification report, while it is owed (open: not reported, or rejected), by the day fixed when the
        decision was recorded (``params`` do not move it)."""
        if self.rectification is None or self.rectification["status"] != "open":
            return []
        return [Deadline(RECTIFICATION, 0, self.rectification["due"])]
