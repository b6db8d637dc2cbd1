"""The department's ex-ante assessment (事前绩效评估), beside finance's own (:mod:`.projects`): the department (or its
unit) commissions an agency for it, files its report (itself or through that agency), and finance reviews it (审核).
The rule is :mod:`ledger.domain.ex_ante` and the project's ``commission_ex_ante_agency``, ``file_ex_ante`` and
``review_ex_ante``."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from ledger.application import inputs
from ledger.application.acts import Act, Written
from ledger.application.agencies import commissionable
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_own_department, require_role
from ledger.domain.errors import Forbidden, InvalidInput, RuleViolation
from ledger.domain.ex_ante import checked_report
from ledger.domain.project import Project
from ledger.domain.values import Role, reason, text


class ExAnteUseCases(LedgerCore):
    """委托, 出具报告, 审核: the department's ex-ante assessment and finance's review of it."""

    @use_case
    def commission_ex_ante_agency(self, act: Act, pid: UUID, agency_name: str) -> Written:
        """委托第三方机构: the project's department (or unit) names the agency that carries out its ex-ante assessment —
        registered, not blacklisted, not tied to the department (回避)."""
        params, _ = self._rules()
        with self._changing(Project, pid, "project-not-found", act) as project:
            require_own_department(act, project)
            agency = commissionable(self, act, text(agency_name, "agency"), project.department, project.unit)
            assert agency is not None
            project.commission_ex_ante_agency(str(agency.id), agency.name, params, act.by)
            return self.commit(project, act=act)

    @use_case
    def file_ex_ante(
        self,
        act: Act,
        pid: UUID,
        *,
        scores: Mapping[str, object],
        opinions: Mapping[str, str],
        opinion: str,
        funding_sources: Mapping[str, object],
        annual_investment: Mapping[str, object],
        affordability: str = "",
        conclusion: str | None = None,
    ) -> Written:
        """出具绩效评估报告: the project's department (or unit) files its ex-ante assessment, or the agency it
        commissioned for it does; the report is the act's evidence. Finance reviews it (``review_ex_ante``)."""
        require_role(act, Role.DEPARTMENT, Role.AGENCY)
        params, version = self._rules()
        calendar = self.working_days()
        with self._changing(Project, pid, "project-not-found", act) as project:
            commissioned = project.ex_ante_agency
            agency_name = None if commissioned is None else str(commissioned["agency_name"])
            if act.principal.role == Role.AGENCY:
                if agency_name is None or not act.principal.acts_for(agency_name):
                    raise Forbidden(
                        f"{act.principal.organisation} was not commissioned for the ex-ante assessment of "
                        f"{project.code}",
                        code="not-ex-ante-agency",
                    )
                # A blacklisting since the commissioning bars the agency's report: one in force now, or on the date
                # the filing states (as a commissioning is checked).
                agency = self.agency(agency_name)
                if agency.is_blacklisted(self.today()) or agency.is_blacklisted(act.effective_on):
                    raise RuleViolation(f"{agency_name} is blacklisted", code="agency-blacklisted")
            else:
                require_own_department(act, project)
            report = checked_report(
                scores=inputs.scores(scores),
                opinions={
                    text(name, "opinions", max_length=64): reason(value, f"opinions.{name}")
                    for name, value in _mapping(opinions, "opinions").items()
                },
                opinion=reason(opinion, "opinion"),
                funding_sources={
                    text(name, "funding_sources"): value
                    for name, value in _mapping(funding_sources, "funding_sources").items()
                },
                annual_investment={
                    text(year, "annual_investment", max_length=4): value
                    for year, value in _mapping(annual_investment, "annual_investment").items()
                },
                affordability=reason(affordability, "affordability"),
                stated_conclusion=None if conclusion is None else text(conclusion, "conclusion", max_length=64),
                evidence=act.by.evidence,
                kind=project.kind,
                fiscal_year=project.fiscal_year,
                requested=project.requested,
                params=params,
            )
            project.file_ex_ante(
                report,
                agency_name,
                params,
                version,
                calendar.holidays,
                act.by,
                calendar.working_weekends,
                calendar_version=calendar.version,
            )
            return self.commit(project, act=act)

    @use_case
    def review_ex_ante(self, act: Act, pid: UUID, filing_no: int, approved: bool) -> Written:
        """财政部门审核 of a filed ex-ante report: approved (its conclusion stands) or returned with the reasons."""
        require_role(act, Role.FINANCE)
        if not isinstance(approved, bool):
            raise InvalidInput("approved must be true or false", field="approved")
        with self._changing(Project, pid, "project-not-found", act) as project:
            project.review_ex_ante(filing_no, approved, act.by)
            return self.commit(project, act=act)


def _mapping(value: object, field: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{field} must be an object", field=field)
    return value
