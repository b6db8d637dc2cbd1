"""The organisations' use cases: departments (部门) and their budget units (预算单位), third-party agencies
(第三方机构), with the blacklist.

Each is get, call, save, as in :mod:`ledger.application.projects`; finance registers and assesses them.

A name names one organisation a principal may act for: a unit is not registered under a name a department or another
unit holds (in any spelling), nor a department under a unit's, so a principal's ``organisation`` is never ambiguous
(:mod:`ledger.application.roles`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ledger.application import inputs
from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_acts_for, require_role
from ledger.domain import rules
from ledger.domain.organisations import Agency, Department, Misconduct, Unit, agency_ids, department_ids, unit_id
from ledger.domain.values import Role, enum_value, fiscal_year, reason, text


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
    def register_agency(self, act: Act, name: str, credentials: str, affiliation: str | None = None) -> Written:
        require_role(act, Role.FINANCE)
        self._check_date(act)
        name = text(name, "name")
        self._refuse_existing(agency_ids(name), f"agency {name}")
        agency = Agency.register(
            name,
            reason(credentials, "credentials"),
            None if affiliation is None else text(affiliation, "affiliation"),
            act.by,
        )
        return self._commit_new(agency, act=act)

    @use_case
    def review_agency_quality(self, act: Act, name: str, engagement: str, rating: str, notes: str) -> Written:
        require_role(act, Role.FINANCE)
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            agency.review_quality(
                text(engagement, "engagement"), text(rating, "rating", max_length=32), reason(notes, "notes"), act.by
            )
            return self.commit(agency, act=act)

    @use_case
    def record_misconduct(self, act: Act, name: str, kind: str, description: str) -> Written:
        """失信行为 recorded by finance, with evidence."""
        require_role(act, Role.FINANCE)
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            agency.record_misconduct(
                enum_value(Misconduct, kind, "kind").value, reason(description, "description"), act.by
            )
            return self.commit(agency, act=act)

    @use_case
    def blacklist_agency(
        self, act: Act, name: str, misconduct_nos: list[int] | None = None, public: bool = True
    ) -> Written:
        """列入失信黑名单 for the ruleset's period; requires recorded misconduct."""
        require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            until = rules.blacklist_until(act.effective_on, params)
            agency.blacklist(list(misconduct_nos or []), until, public, act.by)
            return self.commit(agency, act=act)

    @use_case
    def lift_blacklisting(self, act: Act, name: str) -> Written:
        require_role(act, Role.FINANCE)
        with self._changing(Agency, self._agency_id(name), "agency-not-found", act) as agency:
            agency.lift_blacklisting(act.by)
            return self.commit(agency, act=act)
