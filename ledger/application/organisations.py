"""The organisations' use cases: departments (部门) and their budget units (预算单位), third-party agencies
(第三方机构), with the blacklist.

Each is get, call, save, as in :mod:`ledger.application.projects`; finance registers and assesses them.

A name names one organisation a principal may act for: a unit is not registered under a name a department or another
unit holds (in any spelling), nor a department under a unit's, so a principal's ``organisation`` is never ambiguous
(:mod:`ledger.application.roles`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.application import inputs
from ledger.application.acts import Act, Written
from ledger.application.agencies import commit_with_credit_code
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_acts_for, require_role
from ledger.domain import rules
from ledger.domain.agencies import (
    Agency,
    EngagementKind,
    Misconduct,
    Qualification,
    agency_ids,
    engagement_kind,
    key_engagement,
    overall_engagement,
)
from ledger.domain.base import require_not_before
from ledger.domain.errors import InvalidInput, NotFound
from ledger.domain.organisations import Department, Unit, department_ids, unit_id
from ledger.domain.overall import OverallGoals, overall_goals_id
from ledger.domain.project import Project
from ledger.domain.values import Attribution, Role, enum_value, fiscal_year, reason, score, text


class OrganisationUseCases(LedgerCore):
    """部门登记 to 失信黑名单: departments' goals and assessments, agencies' quality and credit."""

    # ------------------------------------------------------------ departments

    @use_case
    def register_department(self, act: Act, name: str) -> Written:
        """部门登记 by finance (an administrator manages tokens, and records nothing of the domain)."""
        require_role(act, Role.FINANCE)
        self._check_date(act)
        name = text(name, "name")
        self._refuse_existing(department_ids(name), f"department {name}")
        self._refuse_existing((unit_id(name),), f"a budget unit named {name}")
        return self._commit_new(Department.register(name, act.by), act=act)

    @use_case
    def register_unit(self, act: Act, department: str, name: str) -> Written:
        """预算单位登记 by finance, under a registered department. Finance alone: a unit's registration decides whose
        staff act for its projects (its own, and its department's)."""
        require_role(act, Role.FINANCE)
        self._check_date(act)
        name = text(name, "name")
        registered = self.department(text(department, "department"))
        self._refuse_existing((unit_id(name),), f"budget unit {name}")
        self._refuse_existing(department_ids(name), f"a department named {name}")
        return self._commit_new(Unit.register(name, registered, act.by), act=act)

    @use_case
    def set_overall_goals(self, act: Act, name: str, year: int, goals: list[str]) -> Written:
        """部门整体绩效目标, by the department itself or finance."""
        require_acts_for(act, name, f"set goals for {name}")
        with self._changing(
            Department, self.recorded_id(department_ids(name)), "department-not-found", act
        ) as department:
            department.set_overall_goals(
                fiscal_year(year), [reason(g, f"goals[{i}]", required=True) for i, g in enumerate(goals)], act.by
            )
            return self.commit(department, act=act)

    @use_case
    def assess_department(self, act: Act, name: str, year: int, scores: Mapping[str, object]) -> Written:
        """综合绩效考评 by finance."""
        require_role(act, Role.FINANCE)
        with self._changing(
            Department, self.recorded_id(department_ids(name)), "department-not-found", act
        ) as department:
            department.assess(fiscal_year(year), inputs.scores(scores), act.by)
            return self.commit(department, act=act)

    # ------------------------------------------------------------ agencies

    @use_case
    def register_agency(
        self, act: Act, name: str, credentials: str, affiliation: str | None = None, *, credit_code: str
    ) -> Written:
        """第三方机构登记 by finance, with its 统一社会信用代码 (GB 32100-2015, checked; one agency per code:
        ``credit-code-taken``), qualified (资格有效)."""
        require_role(act, Role.FINANCE)
        self._check_date(act)
        name = text(name, "name")
        self._refuse_existing(agency_ids(name), f"agency {name}")
        agency = Agency.register(
            name,
            reason(credentials, "credentials"),
            None if affiliation is None else text(affiliation, "affiliation"),
            credit_code,
            act.by,
        )
        return commit_with_credit_code(self, agency, act, new=True)

    @use_case
    def record_agency_credit_code(self, act: Act, name: str, credit_code: str) -> Written:
        """统一社会信用代码 of an agency registered before codes were required, by finance; once, and a code no other
        agency holds (``credit-code-taken``)."""
        require_role(act, Role.FINANCE)
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            agency.record_credit_code(credit_code, act.by)
            return commit_with_credit_code(self, agency, act, new=False)

    @use_case
    def change_agency_qualification(self, act: Act, name: str, qualification: str) -> Written:
        """资格 suspended, reinstated or revoked by finance, with its reason: an agency not qualified is not
        commissioned."""
        require_role(act, Role.FINANCE)
        status = enum_value(Qualification, qualification, "qualification").value
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            agency.change_qualification(status, act.by)
            return self.commit(agency, act=act)

    def _engagement(self, agency: Agency, project_id: UUID, evaluation_id: str) -> Project:
        """The project whose key evaluation ``evaluation_id`` was commissioned to ``agency`` (404
        ``engagement-not-found`` otherwise: no such project, evaluation, or not this agency's)."""
        missing = NotFound(
            f"no key evaluation {evaluation_id} of project {project_id} commissioned to {agency.name}",
            code="engagement-not-found",
        )
        try:
            project = self.project(project_id)
        except NotFound:
            raise missing from None
        evaluation = project.key_evaluations.get(evaluation_id)
        if evaluation is None or evaluation["agency_id"] != str(agency.id):
            raise missing
        return project

    @use_case
    def review_agency_quality(
        self,
        act: Act,
        name: str,
        project_id: UUID | None,
        evaluation_id: str | None,
        quality: object,
        notes: str = "",
        *,
        overall: tuple[str, int, int] | None = None,
    ) -> Written:
        """工作质量考核 by finance of one engagement that exists and was commissioned to the agency: a key evaluation
        of the project (``project_id``, ``evaluation_id``), or an overall evaluation (``overall``: organisation,
        fiscal year, evaluation number; then no project), once each, dated not before its commission. A score below
        the ruleset's line is a warning, and enough warnings in its window bar the agency."""
        require_role(act, Role.FINANCE)
        params, version = self._rules()
        if (overall is None) == (project_id is None and evaluation_id is None):
            raise InvalidInput(
                "name one engagement: a key evaluation (project_id, evaluation_id) or an overall evaluation",
                field="overall_engagement",
            )
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            if overall is not None:
                organisation, year, number = overall
                goals = self._overall_engagement(agency, organisation, year, number)
                engaged, what = goals.evaluation(number), f"overall evaluation {number} of {goals.organisation}"
                named = overall_engagement(goals.id, number)
            else:
                if project_id is None or evaluation_id is None:
                    raise InvalidInput("a key evaluation is named by its project and its id", field="evaluation_id")
                evaluation_id = text(evaluation_id, "evaluation_id", max_length=128)
                engaged = self._engagement(agency, project_id, evaluation_id).key_evaluations[evaluation_id]
                what, named = evaluation_id, key_engagement(project_id, evaluation_id)
            require_not_before(act.effective_on, engaged["commissioned_on"], f"{what} was commissioned")
            agency.assess_quality(named, score(quality, "score"), reason(notes, "notes"), params, version, act.by)
            return self.commit(agency, act=act)

    def _overall_engagement(self, agency: Agency, organisation: str, year: int, evaluation_no: int) -> OverallGoals:
        """The overall goals whose evaluation ``evaluation_no`` was commissioned to ``agency`` (404
        ``engagement-not-found`` otherwise: no such goals, evaluation, or not this agency's)."""
        missing = NotFound(
            f"no overall evaluation {evaluation_no} of {organisation} in {year} commissioned to {agency.name}",
            code="engagement-not-found",
        )
        try:
            goals = self._read(
                OverallGoals,
                overall_goals_id(text(organisation, "organisation"), fiscal_year(year)),
                "overall-goals-not-found",
            )
            evaluation = goals.evaluation(evaluation_no)
        except NotFound:
            raise missing from None
        if evaluation["agency_id"] != str(agency.id):
            raise missing
        return goals

    @use_case
    def record_misconduct(
        self,
        act: Act,
        name: str,
        kind: str,
        description: str,
        engagements: Sequence[tuple[UUID, str]] = (),
        overall: Sequence[tuple[str, int, int]] = (),
    ) -> Written:
        """失信行为 recorded by finance, with evidence, naming the engagements it concerns: key evaluations
        (``engagements``: project and evaluation id) and overall evaluations (``overall``: organisation, fiscal year,
        evaluation number) commissioned to the agency. A blacklisting citing it voids their scores."""
        require_role(act, Role.FINANCE)
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            named: list[dict[str, str]] = []
            for project_id, evaluation_id in engagements:
                self._engagement(agency, project_id, evaluation_id)
                named.append(key_engagement(project_id, evaluation_id))
            for organisation, year, evaluation_no in overall:
                goals = self._overall_engagement(agency, organisation, year, evaluation_no)
                named.append(overall_engagement(goals.id, evaluation_no))
            agency.record_misconduct(
                enum_value(Misconduct, kind, "kind").value, reason(description, "description"), act.by, named
            )
            return self.commit(agency, act=act)

    @use_case
    def blacklist_agency(
        self, act: Act, name: str, misconduct_nos: list[int] | None = None, public: bool = True
    ) -> Written:
        """列入失信黑名单 for the ruleset's period, always published; requires recorded misconduct. In the same
        transaction it voids (作废) the agency's key evaluations and overall evaluations the misconduct cited names,
        and every one it had not finished: each project, each organisation's year, then needs a new evaluation."""
        require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            until = rules.blacklist_until(act.effective_on, params)
            cited = list(misconduct_nos or [])
            number = agency.blacklist(cited, until, public, act.by)
            named = agency.engagements_cited(cited)
            projects = self._void_engagements(act, agency, number, named)
            overall = self._void_overall_evaluations(act, agency, number, named)
            return self.commit(agency, *projects, *overall, act=act)

    def _void_engagements(
        self, act: Act, agency: Agency, blacklisting_no: int, named: list[dict[str, str]]
    ) -> list[Project]:
        """The projects whose key evaluations by ``agency`` the blacklisting ``blacklisting_no`` voids, each with its
        ``KeyEvaluationVoided`` pending: read from the log (every project ever commissioned a key evaluation), not
        from a read model."""
        named_by_project: dict[str, set[str]] = {}
        for item in named:
            if engagement_kind(item) == EngagementKind.KEY_EVALUATION:
                named_by_project.setdefault(item["project_id"], set()).add(item["evaluation_id"])
        why = f"{agency.name} blacklisted (失信黑名单 {blacklisting_no})"
        voided = []
        for pid in dict.fromkeys(self.reads.originators_of(get_topic(Project.KeyEvaluationCommissioned))):
            project = self.project(pid)
            affected = project.unfinished_or_named(str(agency.id), named_by_project.get(str(pid), set()))
            if not affected:
                continue
            by = Attribution(act.principal, act.effective_on, why, act.by.evidence)
            for evaluation_id in affected:
                project.void_key_evaluation(evaluation_id, agency.name, blacklisting_no, by)
            voided.append(project)
        return voided

    def _void_overall_evaluations(
        self, act: Act, agency: Agency, blacklisting_no: int, named: list[dict[str, str]]
    ) -> list[OverallGoals]:
        """The overall goals whose evaluations by ``agency`` the blacklisting ``blacklisting_no`` voids, each with its
        ``EvaluationVoided`` pending: read from the log (every record ever commissioned an overall evaluation), not
        from a read model."""
        named_by_goals: dict[str, set[int]] = {}
        for item in named:
            if engagement_kind(item) == EngagementKind.OVERALL_EVALUATION:
                named_by_goals.setdefault(item["goals_id"], set()).add(int(item["evaluation_no"]))
        why = f"{agency.name} blacklisted (失信黑名单 {blacklisting_no})"
        voided = []
        for goals_id in dict.fromkeys(self.reads.originators_of(get_topic(OverallGoals.EvaluationCommissioned))):
            goals = self._read(OverallGoals, goals_id, "overall-goals-not-found")
            affected = goals.unfinished_or_named(str(agency.id), named_by_goals.get(str(goals_id), set()))
            if not affected:
                continue
            by = Attribution(act.principal, act.effective_on, why, act.by.evidence)
            for number in affected:
                goals.void_evaluation(number, agency.name, blacklisting_no, by)
            voided.append(goals)
        return voided

    @use_case
    def lift_blacklisting(self, act: Act, name: str) -> Written:
        require_role(act, Role.FINANCE)
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            agency.lift_blacklisting(act.by)
            return self.commit(agency, act=act)
