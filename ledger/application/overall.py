"""Overall goals' use cases (整体绩效目标): a department or a budget unit submits its goals for a fiscal year, finance
reviews them, the organisation requests adjustments and finance decides them (:mod:`ledger.domain.overall`).

A department's staff act for the department and for each of its units; a unit's staff for their unit alone; finance
for any (:func:`ledger.application.roles.require_acts_for`). What the gate on a project's budget reads of them is
:func:`overall_goals_fact`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger.application.acts import Act, Written
from ledger.application.core import LedgerCore, use_case
from ledger.application.roles import require_acts_for, require_role
from ledger.domain.errors import NotFound
from ledger.domain.organisations import Department, Unit
from ledger.domain.overall import OrganisationKind, OverallGoals, budget_gate, overall_goals_id
from ledger.domain.values import Grade, Indicator, Role, enum_value, fiscal_year, reason, text


class OverallUseCases(LedgerCore):
    """整体绩效目标: submit, review, adjust; and the fact a budget approval checks."""

    def overall_goals(self, organisation: str, year: int) -> OverallGoals:
        """``organisation``'s overall goals for ``year`` (NotFound ``overall-goals-not-found`` if none submitted)."""
        return self._read(
            OverallGoals,
            overall_goals_id(text(organisation, "organisation"), fiscal_year(year)),
            "overall-goals-not-found",
        )

    @use_case
    def submit_overall_goals(self, act: Act, organisation: str, year: int, indicators: list[Indicator]) -> Written:
        """整体绩效目标申报 by the organisation (a department for itself or its units, a unit for itself)."""
        require_role(act, Role.DEPARTMENT)
        registered = self.organisation(text(organisation, "organisation"))
        name, kind, department, unit = _whose(registered)
        require_acts_for(act, department, f"submit overall goals for {name}", unit=unit)
        year = fiscal_year(year)
        _, version = self._rules()
        goals_id = overall_goals_id(name, year)
        if not self.exists(goals_id):
            self._check_date(act)
            return self._commit_new(
                OverallGoals.submit(name, kind, department, year, list(indicators), version, act.by), act=act
            )
        with self._changing(OverallGoals, goals_id, "overall-goals-not-found", act) as goals:
            goals.resubmit(list(indicators), version, act.by)
            return self.commit(goals, act=act)

    @use_case
    def review_overall_goals(
        self, act: Act, organisation: str, year: int, rating: str, required_fixes: str = ""
    ) -> Written:
        """整体绩效目标审核 by finance: 优/良 approve, 中 returns, 差 refuses."""
        require_role(act, Role.FINANCE)
        goals_id = overall_goals_id(text(organisation, "organisation"), fiscal_year(year))
        with self._changing(OverallGoals, goals_id, "overall-goals-not-found", act) as goals:
            goals.review(enum_value(Grade, rating, "rating").value, reason(required_fixes, "required_fixes"), act.by)
            return self.commit(goals, act=act)

    @use_case
    def request_overall_goals_adjustment(
        self, act: Act, organisation: str, year: int, indicators: list[Indicator]
    ) -> Written:
        """整体绩效目标调整申请 by the organisation, with a reason."""
        require_role(act, Role.DEPARTMENT)
        goals_id = overall_goals_id(text(organisation, "organisation"), fiscal_year(year))
        with self._changing(OverallGoals, goals_id, "overall-goals-not-found", act) as goals:
            unit = goals.organisation if goals.kind == OrganisationKind.UNIT else None
            require_acts_for(act, goals.department, f"adjust the overall goals of {goals.organisation}", unit=unit)
            goals.request_adjustment(list(indicators), act.by)
            return self.commit(goals, act=act)

    @use_case
    def decide_overall_goals_adjustment(
        self, act: Act, organisation: str, year: int, adjustment_no: int, approve: bool
    ) -> Written:
        """Finance approves (the goals change) or rejects (with a reason) an adjustment."""
        require_role(act, Role.FINANCE)
        goals_id = overall_goals_id(text(organisation, "organisation"), fiscal_year(year))
        with self._changing(OverallGoals, goals_id, "overall-goals-not-found", act) as goals:
            goals.decide_adjustment(adjustment_no, approve, act.by)
            return self.commit(goals, act=act)


def overall_goals_fact(ledger: LedgerCore, department: str, year: int, amount: Decimal) -> dict[str, Any]:
    """What a budget approval of ``amount`` for a project of ``department`` in ``year`` checks of the department's
    overall goals, under the ruleset in force (:func:`ledger.domain.overall.budget_gate`): read here, recorded with
    the approval, so the approval's replay reads nothing else."""
    params, version = ledger._rules()
    try:
        goals: OverallGoals | None = ledger._read(
            OverallGoals, overall_goals_id(department, year), "overall-goals-not-found"
        )
    except NotFound:
        goals = None
    return budget_gate(department, year, amount, goals, params, version)


def _whose(organisation: Department | Unit) -> tuple[str, OrganisationKind, str, str | None]:
    """A registered organisation's name, kind and department as registered, and its name again if it is a unit."""
    if isinstance(organisation, Unit):
        return organisation.name, OrganisationKind.UNIT, organisation.department, organisation.name
    return organisation.name, OrganisationKind.DEPARTMENT, organisation.name, None
