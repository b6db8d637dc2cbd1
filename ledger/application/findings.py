"""Audit findings (审计发现, :mod:`ledger.domain.findings`): get, call, save, as in :mod:`ledger.application.decisions`.

The ``auditor`` role records findings — its only write in the ledger — against a project (by id), a department or
budget unit (by name) or an agency (by name), each of which must be recorded. The party concerned responds: a
project's department (its unit's staff for a unit's project), the organisation itself (a department's staff for its
units too), the agency for itself.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_acts_for, require_role
from ledger.domain.errors import Forbidden, NotFound
from ledger.domain.findings import AuditFinding, FindingSubject, Responder, finding_id
from ledger.domain.organisations import Unit
from ledger.domain.project import Project
from ledger.domain.values import Role, enum_value, reason, text


class FindingUseCases(LedgerCore):
    """审计发现 by auditors; the response of the party concerned."""

    def audit_finding(self, fid: UUID) -> AuditFinding:
        return self._read(AuditFinding, fid, "audit-finding-not-found")

    @use_case
    def record_audit_finding(
        self, act: Act, subject_kind: str, subject: str, reference: str, findings: list[str]
    ) -> Written:
        """审计发现 by an auditor about a project (``subject``: its id), a department or budget unit, or an agency
        (``subject``: its name, any spelling), citing the audit's document; the response is due in the ruleset's
        ``audit_finding_response_days``."""
        require_role(act, Role.AUDITOR)
        self._check_date(act)
        kind = enum_value(FindingSubject, subject_kind, "subject_kind")
        checked_reference = text(reference, "reference")
        checked = [reason(item, f"findings[{i}]", required=True) for i, item in enumerate(findings)]
        missing = NotFound(f"no {kind.value} {subject!r} is recorded", code="audit-finding-subject-not-found")
        try:
            if kind is FindingSubject.PROJECT:
                project = self._read(Project, UUID(subject), "audit-finding-subject-not-found")
                since: date | None = project.opened_on
                named, subject_id = project.code, project.id
                responder_kind, responder = Responder.DEPARTMENT, project.unit or project.department
                department: str | None = project.department
            elif kind is FindingSubject.DEPARTMENT:
                organisation = self.organisation(text(subject, "subject"))
                named, subject_id, since = organisation.name, organisation.id, organisation.registered_on
                responder_kind, responder = Responder.DEPARTMENT, organisation.name
                department = organisation.department if isinstance(organisation, Unit) else organisation.name
            else:
                agency = self.agency(text(subject, "subject"))
                named, subject_id, since = agency.name, agency.id, agency.registered_on
                responder_kind, responder, department = Responder.AGENCY, agency.name, None
        except (NotFound, ValueError):
            raise missing from None
        self._refuse_existing((finding_id(kind.value, subject_id, checked_reference),), f"finding {reference}")
        params, version = self._rules()
        finding = AuditFinding.record_finding(
            subject_kind=kind.value,
            subject=named,
            subject_id=subject_id,
            subject_since=since,
            responder_kind=responder_kind.value,
            responder=responder,
            department=department,
            reference=checked_reference,
            findings=checked,
            params=params,
            ruleset_version=version,
            by=act.by,
        )
        return self._commit_new(finding, act=act)

    @use_case
    def respond_to_audit_finding(self, act: Act, fid: UUID, response: str) -> Written:
        """The party's response: the department (or unit) for a project or an organisation, the agency for itself."""
        require_role(act, Role.DEPARTMENT, Role.AGENCY)
        self._check_date(act)
        finding = self.audit_finding(fid)
        if finding.responder_kind == Responder.AGENCY.value:
            require_role(act, Role.AGENCY)
            if not act.principal.acts_for(finding.responder):
                raise Forbidden(
                    f"{act.principal.organisation} may not respond for {finding.responder}", code="not-own-department"
                )
        else:
            require_role(act, Role.DEPARTMENT)
            assert finding.department is not None
            unit = None if finding.responder == finding.department else finding.responder
            require_acts_for(act, finding.department, f"respond to a finding about {finding.subject}", unit=unit)
        with self._changing(AuditFinding, fid, "audit-finding-not-found", act) as changing:
            changing.respond(reason(response, "response", required=True), act.by)
            return self.commit(changing, act=act)
