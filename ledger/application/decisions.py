"""Finance's decisions on departments and units (通报, 表彰, 约谈) and the rectification they open
(:mod:`ledger.domain.decisions`): get, call, save, as in :mod:`ledger.application.projects`.

Finance records a decision, citing what it rests on, which must be recorded: a fiscal year's comprehensive assessment
of the department (the ranking), or an evaluated project of the organisation. The organisation reports its
rectification — a department's staff for the department and its units, a unit's for the unit — and finance accepts
or rejects the report.
"""

from __future__ import annotations

from uuid import UUID

from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_acts_for, require_role
from ledger.domain.decisions import BasisKind, Decision, DecisionKind, SubjectKind, contrary_ids, decision_id
from ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from ledger.domain.organisations import Department, Unit
from ledger.domain.project import Project
from ledger.domain.values import Role, enum_value, fiscal_year, key, reason, text


class DecisionUseCases(LedgerCore):
    """通报 / 表彰 / 约谈 by finance; the rectification report and its acceptance."""

    def decision(self, did: UUID) -> Decision:
        return self._read(Decision, did, "decision-not-found")

    @use_case
    def record_decision(
        self,
        act: Act,
        kind: str,
        organisation: str,
        basis: str,
        year: int | None = None,
        project_id: UUID | None = None,
    ) -> Written:
        """通报表扬 / 通报批评 / 表彰 / 约谈 by finance, with its reason, on a recorded basis; 通报批评 and 约谈 open a
        rectification due in the ruleset's ``decision_rectification_days``."""
        require_role(act, Role.FINANCE)
        self._check_date(act)
        subject = self.organisation(text(organisation, "organisation"))
        subject_kind = SubjectKind.UNIT if isinstance(subject, Unit) else SubjectKind.DEPARTMENT
        department = subject.department if isinstance(subject, Unit) else subject.name
        basis_kind = enum_value(BasisKind, basis, "basis")
        if basis_kind is BasisKind.RANKING:
            if year is None:
                raise InvalidInput("a decision on the ranking names its fiscal year", field="fiscal_year")
            checked_year = fiscal_year(year)
            if project_id is not None:
                raise InvalidInput("a decision on the ranking cites no project", field="project_id")
            if not isinstance(subject, Department) or str(checked_year) not in subject.assessments:
                raise NotFound(
                    f"{subject.name} has no comprehensive assessment of {checked_year} to rank it by",
                    code="decision-basis-not-found",
                )
            ref: object = checked_year
        else:
            if project_id is None:
                raise InvalidInput("a decision on an evaluation names the project", field="project_id")
            checked_year = self._evaluated_project(subject, project_id, year)
            ref = project_id
        cited = (subject_kind.value, subject.name, basis_kind.value, ref)
        kind_value = enum_value(DecisionKind, kind, "kind").value
        if any(self.exists(other) for other in contrary_ids(kind_value, *cited)):
            raise RuleViolation(
                f"a contrary decision on {subject.name} already rests on this basis", code="contradictory-decision"
            )
        self._refuse_existing((decision_id(kind_value, *cited),), f"this {kind_value} of {subject.name}")
        params, version = self._rules()
        decision = Decision.record_decision(
            kind=kind_value,
            subject_kind=subject_kind.value,
            subject=subject.name,
            subject_id=subject.id,
            department=department,
            basis=basis_kind.value,
            fiscal_year=checked_year,
            project_id=project_id,
            subject_since=subject.registered_on,
            params=params,
            ruleset_version=version,
            by=act.by,
        )
        return self._commit_new(decision, act=act)

    def _evaluated_project(self, subject: Department | Unit, project_id: UUID, year: int | None) -> int:
        """The fiscal year of ``project_id``, an evaluated project of ``subject``; refused if it is not one."""
        try:
            project = self._read(Project, project_id, "decision-basis-not-found")
        except NotFound:
            raise NotFound(f"no project {project_id}", code="decision-basis-not-found") from None
        owner = project.unit if isinstance(subject, Unit) else project.department
        if owner is None or key(owner) != key(subject.name):
            raise NotFound(f"project {project_id} is not one of {subject.name}'s", code="decision-basis-not-found")
        if project.evaluation_basis() is None:
            raise NotFound(f"project {project_id} has not been evaluated", code="decision-basis-not-found")
        if year is not None and fiscal_year(year) != project.fiscal_year:
            raise InvalidInput(
                f"project {project_id} is of fiscal year {project.fiscal_year}, not {year}", field="fiscal_year"
            )
        return project.fiscal_year

    @use_case
    def report_decision_rectification(self, act: Act, did: UUID, measures: str) -> Written:
        """整改情况报告 by the organisation: a department's staff for it and its units, a unit's for the unit."""
        require_role(act, Role.DEPARTMENT)
        self._check_date(act)
        decision = self.decision(did)
        unit = decision.subject if decision.subject_kind == SubjectKind.UNIT.value else None
        require_acts_for(act, decision.department, f"report on a decision about {decision.subject}", unit=unit)
        with self._changing(Decision, did, "decision-not-found", act) as changing:
            changing.report_rectification(reason(measures, "measures", required=True), act.by)
            return self.commit(changing, act=act)

    @use_case
    def decide_decision_rectification(self, act: Act, did: UUID, accept: bool) -> Written:
        """整改验收 by finance: accepted, or rejected with the reason (the report is owed again by the same date)."""
        require_role(act, Role.FINANCE)
        with self._changing(Decision, did, "decision-not-found", act) as decision:
            decision.decide_rectification(accept, act.by)
            return self.commit(decision, act=act)
