"""Overall goals' use cases (整体绩效目标): a department or a budget unit submits its goals for a fiscal year, finance
reviews them, the organisation requests adjustments and finance decides them (:mod:`ledger.domain.overall`); after the
year the organisation self-evaluates, finance evaluates (itself, or through an agency it commissions, who scores) and
applies the results to a department, setting its next control figure.

A department's staff act for the department and for each of its units; a unit's staff for their unit alone; finance
for any (:func:`ledger.application.roles.require_acts_for`). What the gate on a project's budget reads of them is
:func:`overall_goals_fact`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.application import inputs
from ledger.application.acts import Act, Written
from ledger.application.agencies import commissionable
from ledger.application.core import LedgerCore, use_case
from ledger.application.disclosure import overall_goals_duty
from ledger.application.roles import require_acts_for, require_role
from ledger.domain import rules
from ledger.domain.errors import Forbidden, InvalidInput, NotFound
from ledger.domain.organisations import Department, Unit
from ledger.domain.overall import OrganisationKind, OverallGoals, budget_gate, overall_goals_id
from ledger.domain.values import Grade, Indicator, Role, enum_value, fiscal_year, money, reason, text


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
            return self.commit(goals, *overall_goals_duty(self, goals, act), act=act)  # approved: owed to the public

    @use_case
    def request_overall_goals_adjustment(
        self, act: Act, organisation: str, year: int, indicators: list[Indicator]
    ) -> Written:
        """整体绩效目标调整申请 by the organisation, with a reason."""
        require_role(act, Role.DEPARTMENT)
        goals_id = overall_goals_id(text(organisation, "organisation"), fiscal_year(year))
        with self._changing(OverallGoals, goals_id, "overall-goals-not-found", act) as goals:
            require_acts_for(
                act, goals.department, f"adjust the overall goals of {goals.organisation}", unit=_unit(goals)
            )
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

    # ------------------------------------------------------------ the evaluation (整体绩效评价)

    def _goals_id(self, organisation: str, year: int) -> UUID:
        return overall_goals_id(text(organisation, "organisation"), fiscal_year(year))

    @use_case
    def self_evaluate_overall(self, act: Act, organisation: str, year: int, actuals: Mapping[str, object]) -> Written:
        """整体绩效自评 by the organisation (a department for itself or its units, a unit for itself): the ledger scores
        the approved goals' indicators against the actuals and records the score, grade and ruleset."""
        require_role(act, Role.DEPARTMENT)
        params, version = self._rules()
        with self._changing(OverallGoals, self._goals_id(organisation, year), "overall-goals-not-found", act) as goals:
            require_acts_for(act, goals.department, f"self-evaluate for {goals.organisation}", unit=_unit(goals))
            goals.self_evaluate(inputs.actuals(actuals), params, version, act.by)
            return self.commit(goals, act=act)

    @use_case
    def commission_overall_evaluation(self, act: Act, organisation: str, year: int, agency_name: str | None) -> Written:
        """整体绩效评价 by finance, itself (no agency) or commissioned to an agency — never a blacklisted one nor one
        tied to the organisation or its department (回避)."""
        require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(OverallGoals, self._goals_id(organisation, year), "overall-goals-not-found", act) as goals:
            named = None if agency_name is None else text(agency_name, "agency")
            agency = commissionable(self, act, named, goals.department, _unit(goals))
            goals.commission_evaluation(
                None if agency is None else str(agency.id), None if agency is None else agency.name, act.by, params
            )
            return self.commit(goals, act=act)

    @staticmethod
    def _require_overall_commissioned(act: Act, goals: OverallGoals, evaluation_no: int) -> None:
        """The act's principal is the agency commissioned for overall evaluation ``evaluation_no`` (403
        ``not-commissioned`` for another agency, ``role-not-allowed`` for any other role)."""
        evaluation = goals.evaluation(evaluation_no)
        require_role(act, Role.AGENCY)
        if evaluation["agency_name"] is None or not act.principal.acts_for(evaluation["agency_name"]):
            raise Forbidden(
                f"{act.principal.organisation} was not commissioned for overall evaluation {evaluation_no} "
                f"of {goals.organisation}",
                code="not-commissioned",
            )

    @use_case
    def submit_overall_evaluation(
        self, act: Act, organisation: str, year: int, evaluation_no: int, what: str
    ) -> Written:
        """两审一督导: the commissioned agency submits its evaluation plan (评价方案) or its report (评价报告)."""
        params, _ = self._rules()
        with self._changing(OverallGoals, self._goals_id(organisation, year), "overall-goals-not-found", act) as goals:
            self._require_overall_commissioned(act, goals, evaluation_no)
            if what == "plan":
                goals.submit_evaluation_plan(evaluation_no, params, act.by)
            elif what == "report":
                goals.submit_evaluation_report(evaluation_no, params, act.by)
            else:
                raise InvalidInput("submit what: plan or report", field="what")
            return self.commit(goals, act=act)

    @use_case
    def answer_overall_evaluation_supervision(
        self, act: Act, organisation: str, year: int, evaluation_no: int, supervision_no: int, answer: str
    ) -> Written:
        """The commissioned agency answers a supervision's findings (督导意见回复)."""
        with self._changing(OverallGoals, self._goals_id(organisation, year), "overall-goals-not-found", act) as goals:
            self._require_overall_commissioned(act, goals, evaluation_no)
            goals.answer_evaluation_supervision(
                evaluation_no, supervision_no, reason(answer, "answer", required=True), act.by
            )
            return self.commit(goals, act=act)

    @use_case
    def review_overall_evaluation(
        self, act: Act, organisation: str, year: int, evaluation_no: int, what: str, approved: bool
    ) -> Written:
        """两审: finance reviews the evaluation's plan or its report (an agency's, the one it submitted; a rejection
        with its reason)."""
        require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(OverallGoals, self._goals_id(organisation, year), "overall-goals-not-found", act) as goals:
            if what == "plan":
                goals.review_evaluation_plan(evaluation_no, approved, act.by, params)
            elif what == "report":
                goals.review_evaluation_report(evaluation_no, approved, act.by, params)
            else:
                raise InvalidInput("review what: plan or report", field="what")
            return self.commit(goals, act=act)

    @use_case
    def note_overall_evaluation_supervision(
        self,
        act: Act,
        organisation: str,
        year: int,
        evaluation_no: int,
        notes: str,
        findings: list[str] | None = None,
    ) -> Written:
        """一督导: finance supervises the evaluation, with findings (督导意见) the agency answers — at least one for an
        agency's under 两审一督导 in full."""
        require_role(act, Role.FINANCE)
        params, _ = self._rules()
        with self._changing(OverallGoals, self._goals_id(organisation, year), "overall-goals-not-found", act) as goals:
            goals.supervise_evaluation(
                evaluation_no,
                reason(notes, "notes"),
                [reason(item, f"findings[{i}]", required=True) for i, item in enumerate(findings or [])],
                act.by,
                params,
            )
            return self.commit(goals, act=act)

    @use_case
    def score_overall_evaluation(
        self, act: Act, organisation: str, year: int, evaluation_no: int, scores: Mapping[str, object]
    ) -> Written:
        """The commissioned agency (or finance, where it evaluates itself) scores the six dimensions."""
        params, version = self._rules()
        with self._changing(OverallGoals, self._goals_id(organisation, year), "overall-goals-not-found", act) as goals:
            if goals.evaluation(evaluation_no)["agency_name"] is None:
                require_role(act, Role.FINANCE)
            else:
                self._require_overall_commissioned(act, goals, evaluation_no)
            goals.score_evaluation(evaluation_no, inputs.scores(scores), params, version, act.by)
            return self.commit(goals, act=act)

    @use_case
    def apply_overall_results(
        self, act: Act, organisation: str, year: int, control_figure: object, rate: object | None = None
    ) -> Written:
        """整体绩效结果应用 by finance to a department: its next control figure from this year's (``control_figure``),
        moved by the ruleset's rate for the grade, or by ``rate`` (finance's override, with a reason)."""
        require_role(act, Role.FINANCE)
        params, version = self._rules()
        figure = money(control_figure, "control_figure", allow_zero=False)
        share = None if rate is None else rules.adjustment_rate(rate)
        with self._changing(OverallGoals, self._goals_id(organisation, year), "overall-goals-not-found", act) as goals:
            goals.apply_results(figure, share, params, version, act.by)
            return self.commit(goals, act=act)


def overall_goals_fact(
    ledger: LedgerCore, department: str, year: int, amount: Decimal, params: rules.RuleParameters, version: int
) -> dict[str, Any]:
    """What a budget approval of ``amount`` for a project of ``department`` in ``year`` checks of the department's
    overall goals, under the ruleset in force (``params``, ``version``: :func:`ledger.domain.overall.budget_gate`):
    read here, recorded with the approval, so the approval's replay reads nothing else. The goals are read under
    their lock and not copied: the check takes their status and version, nothing else."""
    goals_id = overall_goals_id(department, year)
    with ledger.lock_for(goals_id):
        try:
            goals: OverallGoals | None = ledger._get(OverallGoals, goals_id, "overall-goals-not-found", copy=False)
        except NotFound:
            goals = None
        return budget_gate(department, year, amount, goals, params, version)


def _whose(organisation: Department | Unit) -> tuple[str, OrganisationKind, str, str | None]:
    """A registered organisation's name, kind and department as registered, and its name again if it is a unit."""
    if isinstance(organisation, Unit):
        return organisation.name, OrganisationKind.UNIT, organisation.department, organisation.name
    return organisation.name, OrganisationKind.DEPARTMENT, organisation.name, None


def _unit(goals: OverallGoals) -> str | None:
    """The unit the goals are of (its staff act for them, besides its department's), or None: a department's own."""
    return goals.organisation if goals.kind == OrganisationKind.UNIT else None
