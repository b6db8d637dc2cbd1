"""Audit findings (审计发现): what the audit office (the ``auditor`` role) finds about a project, a department (or a
budget unit) or a third-party agency, and the response it requires of the party concerned.

An auditor records a finding, citing its own document (``reference``, e.g. the audit report's number 审计报告文号),
against one object the ledger holds. The party must respond by a deadline: a project's department (or its unit) for a
project, the organisation itself for a department or unit, the agency for an agency — within the ruleset's
``audit_finding_response_days`` (30 by default) of the finding, the days of the ruleset in force then, kept on the
finding. The response is recorded once; the scheduler raises an approaching notice and a missed one, once each, while
it is owed, as for a project's deadlines (:class:`~ledger.domain.notices.NoticeOwner`).

Its own aggregate, not a part of the object found about: a finding and its answer are a history of their own, and its
id follows from what it is — the object and the auditor's reference — so the same finding recorded twice is a
duplicate.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate, keyed_id, require_not_before
from ledger.domain.deadlines import Deadline
from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.notices import ApproachingNotice, MissedNotice, NoticeOwner
from ledger.domain.values import Attribution, enum_value


class FindingSubject(StrEnum):
    """What an audit finding is about."""

    PROJECT = "project"
    DEPARTMENT = "department"  # a department or one of its budget units
    AGENCY = "agency"


class Responder(StrEnum):
    """Who owes the response: an organisation of the budget (department or unit), or an agency."""

    DEPARTMENT = "department"
    AGENCY = "agency"


RESPONSE = "audit_finding_response"  # the deadline's kind in notices


def finding_id(subject_kind: str, subject_id: UUID, reference: str) -> UUID:
    """One finding per object and auditor's reference (by its key: however the reference is spelled)."""
    return keyed_id("audit_finding", subject_kind, subject_id, reference)


class AuditFinding(NoticeOwner, LedgerAggregate):
    """审计发现 about a project, a department or unit, or an agency, and the response it requires."""

    TOPIC_MODULE = "ledger.findings"

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        subject_kind: str
        subject: str  # the project's code, the organisation's or agency's name, as recorded
        subject_id: UUID
        responder_kind: str
        responder: str  # the organisation (department or unit) or agency that responds, as registered
        department: str | None  # the responder's department (itself, or its unit's), for a department's staff
        reference: str
        findings: list[str]
        found_on: date
        response_due: date
        response: dict[str, Any] | None
        deadline_notices: dict[str, dict[str, Any]]

    class Recorded(LedgerAggregate.Created):
        """审计发现 recorded by an auditor, with the response it requires by ``response_due``."""

        subject_kind: str
        subject: str
        subject_id: UUID
        responder_kind: str
        responder: str
        department: str | None
        reference: str
        findings: list[str]
        response_due: date
        ruleset_version: int

        def apply(self, finding: AuditFinding) -> None:
            finding.subject_kind = self.subject_kind
            finding.subject = self.subject
            finding.subject_id = self.subject_id
            finding.responder_kind = self.responder_kind
            finding.responder = self.responder
            finding.department = self.department
            finding.reference = self.reference
            finding.findings = list(self.findings)
            finding.found_on = self.effective_on
            finding.response_due = self.response_due
            finding.response = None
            finding.deadline_notices = {}

    class Responded(LedgerAggregate.Event):
        """The party's response (整改或说明), once."""

        response: str

        def apply(self, finding: AuditFinding) -> None:
            finding.response = {"text": self.response, "on": self.effective_on, "by": self.principal.id}

    class DeadlineApproaching(ApproachingNotice):
        """临期提醒 of the response (raised by the scheduler)."""

    class DeadlineMissed(MissedNotice):
        """逾期: the response was not made by its due date (raised by the scheduler)."""

    @classmethod
    def record_finding(
        cls,
        *,
        subject_kind: str,
        subject: str,
        subject_id: UUID,
        subject_since: date | None,
        responder_kind: str,
        responder: str,
        department: str | None,
        reference: str,
        findings: list[str],
        params: rules.RuleParameters,
        ruleset_version: int,
        by: Attribution,
    ) -> AuditFinding:
        """A finding about an object the ledger holds since ``subject_since``, citing the auditor's ``reference``,
        with at least one finding; the response is due ``audit_finding_response_days`` after it."""
        kind = enum_value(FindingSubject, subject_kind, "subject_kind").value
        enum_value(Responder, responder_kind, "responder_kind")
        if not reference.strip():
            raise InvalidInput("cite the audit's document (审计报告文号)", field="reference")
        if not findings or not all(item.strip() for item in findings):
            raise InvalidInput("list the findings", field="findings")
        require_not_before(by.effective_on, subject_since, f"{subject} was recorded")
        return cls._create(
            cls.Recorded,
            id=finding_id(kind, subject_id, reference),
            **by.event_fields(),
            subject_kind=kind,
            subject=subject,
            subject_id=subject_id,
            responder_kind=responder_kind,
            responder=responder,
            department=department,
            reference=reference,
            findings=list(findings),
            response_due=by.effective_on + timedelta(days=params.audit_finding_response_days),
            ruleset_version=ruleset_version,
        )

    def respond(self, response: str, by: Attribution) -> None:
        """The party's response, once, not dated before the finding."""
        require_not_before(by.effective_on, self.found_on, "the finding was recorded")
        if self.response is not None:
            raise RuleViolation("the finding is already responded to", code="already-decided")
        if not response.strip():
            raise InvalidInput("give the response", field="response")
        self.record(self.Responded, by, response=response)

    # ------------------------------------------------------------ the scheduler

    def open_deadlines(self, params: rules.RuleParameters | None = None) -> list[Deadline]:
        """The response, while it is owed, by the day fixed when the finding was recorded (``params`` do not move
        it)."""
        return [] if self.response is not None else [Deadline(RESPONSE, 0, self.response_due)]
