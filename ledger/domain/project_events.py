"""The project's events: what can happen to a project, and how each changes its state (``apply``).

Each is attached to :class:`~ledger.domain.project.Project` under its own name, where the library makes it a
subclass of the project's ``Event`` class: stored and resolved as ``ledger.project:Project.<Name>``, as it was
first recorded. ``apply`` only changes state, so replaying the stored events rebuilds the same project; the
checks are the project's command methods'.

Over 500 lines: 36 events, each a class with its fields (the stored format) and its apply; one module is the list of
what can happen to a project.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain import engagement, rules
from ledger.domain.base import LedgerAggregate
from ledger.domain.ex_ante import ExAnteLead, FilingStatus
from ledger.domain.notices import ApproachingNotice, MissedNotice
from ledger.domain.project_state import ProjectState
from ledger.domain.project_values import CorrectiveDecision, EscalationDecision, Stage
from ledger.domain.values import Grade, Indicator


class Declared(LedgerAggregate.Created):
    """申报. ``unit``: the budget unit (预算单位) of the department it belongs to, as the unit was registered; None
    for a project of the department itself."""

    code: str
    name: str
    kind: str
    department: str
    fiscal_year: int
    budget_book: str
    special_category: str | None
    requested: Decimal
    new_major: bool
    unit: str | None
    continues: UUID | None

    # Version 2 added the unit, version 3 the project it continues. A declaration stored before names neither: it is
    # read as a project of the department itself continuing none, as it was (its stored bytes, which the log's hashes
    # commit to, are never rewritten).
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["unit"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["continues"] = None

    def apply(self, project: ProjectState) -> None:
        project.code = self.code
        project.name = self.name
        project.kind = self.kind
        project.department = self.department
        project.unit = self.unit
        project.continues = self.continues
        project.fiscal_year = self.fiscal_year
        project.budget_book = self.budget_book
        project.special_category = self.special_category
        project.requested = self.requested
        project.new_major = self.new_major
        project.declared_on = self.effective_on
        project.stage = Stage.DECLARED.value
        project.ex_ante = None
        project.ex_ante_agency = None
        project.ex_ante_filings = []
        project.goals = []
        project.goals_rating = None
        project.goals_review_notes = ""
        project.goals_revisions = 0
        project.approved_amount = None
        project.budget_linkage = None
        project.executed = Decimal("0.00")
        project.funding_suspended = False
        project.adjustments = []
        project.monitoring = []
        project.deviations = []
        project.corrective_actions = []
        project.self_evaluation = None
        project.selected_in_sample = None
        project.re_evaluation = None
        project.key_evaluations = {}
        project.results = None
        project.policy_decision = None
        project.rectifications = []
        project.disclosed = []
        project.disclosure_due = {}
        project.deadline_notices = {}
        project.spot_checks = []


class ExAnteAssessed(LedgerAggregate.Event):
    """事前绩效评估 carried out by finance itself (the only way it was first recorded): it stands as recorded."""

    scores: dict[str, Decimal]
    total: Decimal
    conclusion: str
    ruleset_version: int

    def apply(self, project: ProjectState) -> None:
        project.ex_ante = {
            "scores": dict(self.scores),
            "total": self.total,
            "conclusion": self.conclusion,
            "ruleset_version": self.ruleset_version,
            "led_by": ExAnteLead.FINANCE.value,
        }
        if self.conclusion == rules.ExAnteConclusion.REJECT:
            project.stage = Stage.REJECTED.value


class ExAnteAgencyCommissioned(LedgerAggregate.Event):
    """委托第三方机构: the department names the agency that carries out its ex-ante assessment (checked against the
    agency registry, the blacklist and 回避 when recorded); a later one replaces it."""

    agency_id: str
    agency_name: str

    def apply(self, project: ProjectState) -> None:
        project.ex_ante_agency = {
            "agency_id": self.agency_id,
            "agency_name": self.agency_name,
            "commissioned_on": self.effective_on,
        }


class ExAnteFiled(LedgerAggregate.Event):
    """出具绩效评估报告: the department (or the agency it commissioned, ``agency_name``) files its ex-ante assessment —
    each dimension's points and conclusion, the total and the conclusion the ruleset gives it, the sector points
    (资金来源, 分年投资额, 尽力而为、量力而行), the overall conclusion; the report is the event's evidence. Finance
    reviews it by ``review_due`` (the ruleset's working days, counted on the working calendar at
    ``calendar_version``)."""

    filing_no: int
    scores: dict[str, Decimal]
    opinions: dict[str, str]
    total: Decimal
    conclusion: str
    opinion: str
    funding_sources: dict[str, Decimal]
    annual_investment: dict[str, Decimal]
    affordability: str
    agency_name: str | None
    review_due: date
    ruleset_version: int
    calendar_version: int | None = None

    def apply(self, project: ProjectState) -> None:
        project.ex_ante_filings.append(
            {
                "no": self.filing_no,
                "scores": dict(self.scores),
                "opinions": dict(self.opinions),
                "total": self.total,
                "conclusion": self.conclusion,
                "opinion": self.opinion,
                "funding_sources": dict(self.funding_sources),
                "annual_investment": dict(self.annual_investment),
                "affordability": self.affordability,
                "agency": self.agency_name,
                "filed_by": {"role": str(self.principal.role), "organisation": self.principal.organisation},
                "filed_on": self.effective_on,
                "report": list(self.evidence),
                "review_due": self.review_due,
                "ruleset_version": self.ruleset_version,
                "status": FilingStatus.FILED.value,
                "review": None,
            }
        )


class ExAnteReviewed(LedgerAggregate.Event):
    """财政部门审核 of a filed ex-ante report: approved, its conclusion stands (a 不予支持 rejects the project, as
    finance's own failing assessment does); or returned with the reasons the event gives, and the department files
    again. ``conclusion``: the report's, as filed (what stands when approved)."""

    filing_no: int
    approved: bool
    conclusion: str

    def apply(self, project: ProjectState) -> None:
        filing = project.ex_ante_filing(self.filing_no)
        filing["status"] = (FilingStatus.APPROVED if self.approved else FilingStatus.RETURNED).value
        filing["review"] = {
            "by": self.principal.organisation,
            "reviewed_on": self.effective_on,
            "reason": self.reason,
        }
        if not self.approved:
            return
        project.ex_ante = {
            "scores": dict(filing["scores"]),
            "total": filing["total"],
            "conclusion": filing["conclusion"],
            "ruleset_version": filing["ruleset_version"],
            "led_by": ExAnteLead.DEPARTMENT.value,
            "filing_no": self.filing_no,
            "filed_by": dict(filing["filed_by"]),
            "agency": filing["agency"],
            "reviewed_on": self.effective_on,
        }
        if filing["conclusion"] == rules.ExAnteConclusion.REJECT:
            project.stage = Stage.REJECTED.value


class Admitted(LedgerAggregate.Event):
    """入库: admitted to the project library."""

    def apply(self, project: ProjectState) -> None:
        project.stage = Stage.ADMITTED.value


class GoalsSubmitted(LedgerAggregate.Event):
    """绩效目标申报."""

    indicators: list[Indicator]
    ruleset_version: int

    def apply(self, project: ProjectState) -> None:
        if project.stage == Stage.GOALS_RETURNED:
            project.goals_revisions += 1
        project.goals = list(self.indicators)
        project.goals_rating = None
        project.stage = Stage.GOALS_SUBMITTED.value


class GoalsReviewed(LedgerAggregate.Event):
    """目标审核: 优/良 approved, 中 returned for revision, 差 refused this year."""

    rating: str
    required_fixes: str

    def apply(self, project: ProjectState) -> None:
        project.goals_rating = self.rating
        project.goals_review_notes = self.required_fixes
        project.stage = {
            Grade.EXCELLENT: Stage.GOALS_APPROVED,
            Grade.GOOD: Stage.GOALS_APPROVED,
            Grade.FAIR: Stage.GOALS_RETURNED,
            Grade.POOR: Stage.GOALS_REFUSED,
        }[Grade(self.rating)].value


class BudgetApproved(LedgerAggregate.Event):
    """预算与绩效目标同步批复. ``linkage``: for a continuation, the earlier project's result decision as the approval
    read it and what it allowed (:func:`ledger.domain.project_linkage.linkage`); ``override``: finance approved beyond
    what it allowed, for the reason the event gives; ``overall_goals``: what was checked of the department's overall
    goals (整体绩效目标, :func:`ledger.domain.overall.budget_gate`; absent in approvals recorded before the gate);
    ``goals_disclosure_due``: the day the department must have published the goals by (the ruleset's
    ``goals_disclosure_days`` after the approval, as in force then; absent before disclosure was a watched duty)."""

    amount: Decimal
    linkage: dict[str, Any] | None
    override: bool
    overall_goals: dict[str, Any] | None = None
    goals_disclosure_due: date | None = None

    # Version 2 added the linkage and the override; an approval stored before continued nothing and overrode nothing.
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["linkage"] = None
        state["override"] = False

    def apply(self, project: ProjectState) -> None:
        project.approved_amount = self.amount
        project.budget_linkage = None if self.linkage is None else {**self.linkage, "override": self.override}
        project.stage = Stage.BUDGET_APPROVED.value
        if self.goals_disclosure_due is not None:
            project.disclosure_due["goals"] = self.goals_disclosure_due


class GoalAdjustmentRequested(LedgerAggregate.Event):
    """目标调整申请."""

    adjustment_no: int
    indicators: list[Indicator]

    def apply(self, project: ProjectState) -> None:
        project.adjustments.append(
            {
                "no": self.adjustment_no,
                "indicators": list(self.indicators),
                "reason": self.reason,
                "status": "pending",
                "requested_on": self.effective_on,
            }
        )


class GoalAdjustmentApproved(LedgerAggregate.Event):
    adjustment_no: int

    def apply(self, project: ProjectState) -> None:
        adjustment = project.adjustment(self.adjustment_no)
        adjustment["status"] = "approved"
        project.goals = list(adjustment["indicators"])


class GoalAdjustmentRejected(LedgerAggregate.Event):
    adjustment_no: int

    def apply(self, project: ProjectState) -> None:
        project.adjustment(self.adjustment_no)["status"] = "rejected"


class MonitoringReported(LedgerAggregate.Event):
    """绩效运行监控: the department's report through month ``month``; ``monitoring_report_month``: the month the
    ruleset's January–M report ran to when it was filed (None in reports recorded before it was a parameter: 7)."""

    month: int
    executed: Decimal
    indicator_progress: dict[str, Decimal]
    forecast: dict[str, Decimal]
    shortfall_reasons: str
    measures: str
    monitoring_report_month: int | None = None

    def apply(self, project: ProjectState) -> None:
        project.executed = self.executed
        project.monitoring.append(
            {
                "month": self.month,
                "executed": self.executed,
                "indicator_progress": dict(self.indicator_progress),
                "forecast": dict(self.forecast),
                "shortfall_reasons": self.shortfall_reasons,
                "measures": self.measures,
                "review": None,
                "reported_on": self.effective_on,
                "monitoring_report_month": self.monitoring_report_month,
            }
        )


class MonitoringReviewed(LedgerAggregate.Event):
    month: int
    opinion: str

    def apply(self, project: ProjectState) -> None:
        project.monitoring_for(self.month)["review"] = self.opinion


class DeviationDetected(LedgerAggregate.Event):
    """偏差: a monitoring period below the ruleset's thresholds."""

    month: int
    level: str
    findings: list[str]
    execution_rate: Decimal
    time_progress: Decimal
    respond_by: date
    ruleset_version: int
    # The working calendar's version respond_by was counted on (None: recorded before the calendar was in the log).
    calendar_version: int | None = None

    def apply(self, project: ProjectState) -> None:
        project.deviations.append(
            {
                "month": self.month,
                "level": self.level,
                "findings": list(self.findings),
                "execution_rate": self.execution_rate,
                "time_progress": self.time_progress,
                "respond_by": self.respond_by,
                "answered": False,
            }
        )


class CorrectiveActionOrdered(LedgerAggregate.Event):
    """纠偏: continue, reallocate, suspend funding, cancel or reduce the budget."""

    decision: str
    amount: Decimal | None
    deviation_month: int | None

    def apply(self, project: ProjectState) -> None:
        project.corrective_actions.append(
            {
                "decision": self.decision,
                "amount": self.amount,
                "deviation_month": self.deviation_month,
                "automatic": False,
            }
        )
        for deviation in project.deviations:
            if self.deviation_month is None or deviation["month"] == self.deviation_month:
                deviation["answered"] = True
        take_corrective_effect(project, CorrectiveDecision(self.decision), self.amount)


def take_corrective_effect(project: ProjectState, decision: CorrectiveDecision, amount: Decimal | None) -> None:
    """What a corrective action does to the project, whether a deviation or a spot check's finding ordered it."""
    if decision is CorrectiveDecision.REDUCE_BUDGET:
        assert project.approved_amount is not None
        assert amount is not None
        project.approved_amount -= amount
    elif decision is CorrectiveDecision.SUSPEND_FUNDING:
        project.funding_suspended = True
    elif decision is CorrectiveDecision.CANCEL:
        project.funding_suspended = True
        project.stage = Stage.CANCELLED.value
    else:
        project.funding_suspended = False


class FundingSuspended(LedgerAggregate.Event):
    """暂缓拨款, raised automatically when a deviation is not answered in time."""

    deviation_month: int

    def apply(self, project: ProjectState) -> None:
        project.funding_suspended = True
        project.corrective_actions.append(
            {
                "decision": CorrectiveDecision.SUSPEND_FUNDING.value,
                "amount": None,
                "deviation_month": self.deviation_month,
                "automatic": True,
            }
        )


class SelfEvaluated(LedgerAggregate.Event):
    """单位自评: the inputs, the score the ledger computed, and the ruleset it used."""

    actuals: dict[str, Decimal | str]
    executed: Decimal
    indicator_scores: dict[str, Decimal]
    execution_rate: Decimal
    execution_score: Decimal
    total: Decimal
    grade: str
    ruleset_version: int

    def apply(self, project: ProjectState) -> None:
        project.executed = self.executed
        project.self_evaluation = {
            "actuals": dict(self.actuals),
            "indicator_scores": dict(self.indicator_scores),
            "execution_rate": self.execution_rate,
            "execution_score": self.execution_score,
            "total": self.total,
            "grade": self.grade,
            "ruleset_version": self.ruleset_version,
        }
        project.stage = Stage.SELF_EVALUATED.value


class SelectedForReEvaluation(LedgerAggregate.Event):
    """抽中财政再评价."""

    sample_id: str

    def apply(self, project: ProjectState) -> None:
        project.selected_in_sample = self.sample_id


class ReEvaluated(LedgerAggregate.Event):
    """财政再评价 scored; a self-evaluation well above it is flagged as inflated (自评虚高)."""

    scores: dict[str, Decimal]
    total: Decimal
    grade: str
    inflated: bool
    ruleset_version: int

    def apply(self, project: ProjectState) -> None:
        project.re_evaluation = {
            "scores": dict(self.scores),
            "total": self.total,
            "grade": self.grade,
            "inflated": self.inflated,
            "by": self.principal.organisation,
            "ruleset_version": self.ruleset_version,
        }


class KeyEvaluationCommissioned(LedgerAggregate.Event):
    """重点评价 commissioned, to an agency or done by finance itself — by finance, or by the project's department
    (部门委托第三方机构). ``procedure``: ``two_reviews_one_supervision`` for an agency commissioned under 两审一督导 in
    full (the agency submits its plan and report, finance reviews each and supervises at least once, the agency
    answers every supervision), with ``plan_due`` the day its plan is due; None for finance evaluating itself, and
    in a commission stored before (version 2), which keeps the rules it was commissioned under."""

    evaluation_id: str
    agency_id: str | None
    agency_name: str | None
    procedure: str | None
    plan_due: date | None

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["procedure"] = None
        state["plan_due"] = None

    def apply(self, project: ProjectState) -> None:
        project.key_evaluations[self.evaluation_id] = engagement.commissioned(
            self.agency_id, self.agency_name, self.effective_on, self.procedure, self.plan_due
        )


class KeyEvaluationPlanSubmitted(LedgerAggregate.Event):
    """两审一督导: the agency submits its evaluation plan (评价方案), for finance to review by ``review_due``."""

    evaluation_id: str
    review_due: date

    def apply(self, project: ProjectState) -> None:
        engagement.plan_submitted(project.key_evaluations[self.evaluation_id], self.review_due)


class ReEvaluationCommissioned(KeyEvaluationCommissioned):
    """财政再评价 of a project drawn in the sample, commissioned by finance to an agency: a key evaluation whose
    score, once it stands (两审), is the project's re-evaluation."""

    def apply(self, project: ProjectState) -> None:
        super().apply(project)
        project.key_evaluations[self.evaluation_id]["re_evaluation"] = True


class KeyEvaluationPlanReviewed(LedgerAggregate.Event):
    """两审一督导: the plan review. Under the full procedure (version 2) it records what falls due next: once
    approved, the supervision and the report (``supervision_due``, ``report_due``); once rejected, a new plan
    (``plan_due``). None in a review stored before, and for finance's own evaluation."""

    evaluation_id: str
    approved: bool
    plan_due: date | None
    supervision_due: date | None
    report_due: date | None

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["plan_due"] = None
        state["supervision_due"] = None
        state["report_due"] = None

    def apply(self, project: ProjectState) -> None:
        engagement.plan_reviewed(
            project.key_evaluations[self.evaluation_id],
            self.approved,
            self.plan_due,
            self.supervision_due,
            self.report_due,
        )


class KeyEvaluationReportSubmitted(LedgerAggregate.Event):
    """两审一督导: the agency submits its evaluation report (评价报告), for finance to review by ``review_due``."""

    evaluation_id: str
    review_due: date

    def apply(self, project: ProjectState) -> None:
        engagement.report_submitted(project.key_evaluations[self.evaluation_id], self.review_due)


class KeyEvaluationReportReviewed(LedgerAggregate.Event):
    """两审一督导: the report review. Under the full procedure (version 2), once rejected, a new report is due by
    ``report_due`` (None otherwise, and in a review stored before)."""

    evaluation_id: str
    approved: bool
    report_due: date | None

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["report_due"] = None

    def apply(self, project: ProjectState) -> None:
        engagement.report_reviewed(project.key_evaluations[self.evaluation_id], self.approved, self.report_due)


class KeyEvaluationSupervisionNoted(LedgerAggregate.Event):
    """两审一督导: supervision notes (as recorded before supervisions had findings to answer)."""

    evaluation_id: str
    notes: str

    def apply(self, project: ProjectState) -> None:
        project.key_evaluations[self.evaluation_id]["supervision"].append(self.notes)


class KeyEvaluationSupervised(LedgerAggregate.Event):
    """两审一督导: finance's supervision (督导), numbered, with what it saw (``notes``) and its findings (督导意见),
    which the agency answers by ``answer_due``."""

    evaluation_id: str
    supervision_no: int
    notes: str
    findings: list[str]
    answer_due: date | None

    def apply(self, project: ProjectState) -> None:
        engagement.supervised(
            project.key_evaluations[self.evaluation_id],
            self.supervision_no,
            self.notes,
            self.findings,
            self.effective_on,
            self.answer_due,
        )


class KeyEvaluationSupervisionAnswered(LedgerAggregate.Event):
    """两审一督导: the agency's answer to a supervision's findings (整改回复)."""

    evaluation_id: str
    supervision_no: int
    answer: str

    def apply(self, project: ProjectState) -> None:
        engagement.answered(
            project.key_evaluations[self.evaluation_id], self.supervision_no, self.answer, self.effective_on
        )


class KeyEvaluationVoided(LedgerAggregate.Event):
    """作废: the agency was blacklisted (``blacklisting_no``) and the misconduct cited names this evaluation, or
    it had not finished it. A voided score is no evaluation basis; the project needs a new evaluation."""

    evaluation_id: str
    agency_name: str
    blacklisting_no: int
    was_scored: bool

    def apply(self, project: ProjectState) -> None:
        engagement.voided(
            project.key_evaluations[self.evaluation_id],
            self.effective_on,
            self.blacklisting_no,
            self.was_scored,
            self.originator_version,
        )


class KeyEvaluationScored(LedgerAggregate.Event):
    evaluation_id: str
    scores: dict[str, Decimal]
    total: Decimal
    grade: str
    inflated: bool
    ruleset_version: int

    def apply(self, project: ProjectState) -> None:
        project.key_evaluations[self.evaluation_id]["score"] = {
            "scores": dict(self.scores),
            "total": self.total,
            "grade": self.grade,
            "inflated": self.inflated,
            "ruleset_version": self.ruleset_version,
            "scored_at_version": self.originator_version,
        }


class ResultsApplied(LedgerAggregate.Event):
    """结果应用: prioritise, maintain, reduce next year's budget, or cancel. ``results_disclosure_due``: the day the
    department must have published the results by (``results_disclosure_days`` after, as in force then; absent
    before disclosure was a watched duty)."""

    decision: str
    basis: str
    grade: str
    next_year_budget: Decimal | None
    ruleset_version: int
    results_disclosure_due: date | None = None

    def apply(self, project: ProjectState) -> None:
        project.results = {
            "decision": self.decision,
            "basis": self.basis,
            "grade": self.grade,
            "next_year_budget": self.next_year_budget,
            "ruleset_version": self.ruleset_version,
            "applied_on": self.effective_on,
        }
        project.stage = Stage.RESULTS_APPLIED.value
        if self.results_disclosure_due is not None:
            project.disclosure_due["results"] = self.results_disclosure_due


class PolicyAdjustmentDecided(LedgerAggregate.Event):
    """政策调整 of a policy whose results were applied: continue (延续), adjust (调整) or terminate (终止), on the
    grade its results rested on."""

    decision: str
    grade: str

    def apply(self, project: ProjectState) -> None:
        project.policy_decision = {"decision": self.decision, "grade": self.grade, "decided_on": self.effective_on}


class RectificationRequired(LedgerAggregate.Event):
    """整改: issues, their source and a deadline."""

    rectification_no: int
    issues: list[str]
    source: str
    deadline: date

    def apply(self, project: ProjectState) -> None:
        project.rectifications.append(
            {
                "no": self.rectification_no,
                "issues": list(self.issues),
                "source": self.source,
                "deadline": self.deadline,
                "status": "open",
                "overdue": False,
                "reports": [],
                "required_on": self.effective_on,
            }
        )


class RectificationReported(LedgerAggregate.Event):
    rectification_no: int
    measures: str

    def apply(self, project: ProjectState) -> None:
        item = project.rectification(self.rectification_no)
        item["status"] = "reported"
        item["reports"].append({"measures": self.measures, "evidence": list(self.evidence)})


class RectificationAccepted(LedgerAggregate.Event):
    rectification_no: int

    def apply(self, project: ProjectState) -> None:
        project.rectification(self.rectification_no)["status"] = "accepted"


class RectificationRejected(LedgerAggregate.Event):
    rectification_no: int

    def apply(self, project: ProjectState) -> None:
        project.rectification(self.rectification_no)["status"] = "open"


class RectificationOverdue(LedgerAggregate.Event):
    rectification_no: int

    def apply(self, project: ProjectState) -> None:
        project.rectification(self.rectification_no)["overdue"] = True


class SpotChecked(LedgerAggregate.Event):
    """不定期核查 by finance of the department's monitoring report (through ``month``) or its self-evaluation, with the
    findings. A finding may order a corrective action (``corrective_action``, with ``amount`` for reduce_budget) —
    which answers no deviation: it is the check's, not a deviation's — or a rectification (``rectification_no``, the
    RectificationRequired recorded with it)."""

    spot_check_no: int
    subject: str
    month: int | None
    findings: list[str]
    corrective_action: str | None
    amount: Decimal | None
    rectification_no: int | None

    def apply(self, project: ProjectState) -> None:
        project.spot_checks.append(
            {
                "no": self.spot_check_no,
                "subject": self.subject,
                "month": self.month,
                "findings": list(self.findings),
                "corrective_action": self.corrective_action,
                "amount": self.amount,
                "rectification_no": self.rectification_no,
                "checked_on": self.effective_on,
            }
        )
        if self.corrective_action is not None:
            project.corrective_actions.append(
                {
                    "decision": self.corrective_action,
                    "amount": self.amount,
                    "deviation_month": None,
                    "automatic": False,
                    "spot_check_no": self.spot_check_no,
                }
            )
            take_corrective_effect(project, CorrectiveDecision(self.corrective_action), self.amount)


class RectificationEscalated(LedgerAggregate.Event):
    """整改逾期升级 (raised by the scheduler): the rectification was still not accepted ``grace_working_days`` working
    days after its deadline (the last of them ``grace_ends``, counted on the working calendar at
    ``calendar_version``); finance now decides 调减 or 收回 on it."""

    rectification_no: int
    grace_working_days: int
    grace_ends: date
    ruleset_version: int
    calendar_version: int | None

    def apply(self, project: ProjectState) -> None:
        project.rectification(self.rectification_no)["escalation"] = {
            "escalated_on": self.effective_on,
            "grace_ends": self.grace_ends,
            "decision": None,
            "amount": None,
            "decided_on": None,
        }


class EscalationDecided(LedgerAggregate.Event):
    """Finance's decision on an escalated rectification: 调减 (reduce: the approved budget, never below what is
    executed) or 收回 (recover: funds taken back, spent or not; what was spent of them is paid back)."""

    rectification_no: int
    decision: str
    amount: Decimal

    def apply(self, project: ProjectState) -> None:
        escalation = project.rectification(self.rectification_no)["escalation"]
        escalation.update(decision=self.decision, amount=self.amount, decided_on=self.effective_on)
        assert project.approved_amount is not None
        project.approved_amount -= self.amount
        if self.decision == EscalationDecision.RECOVER.value:
            project.executed = min(project.executed, project.approved_amount)


class Disclosed(LedgerAggregate.Event):
    """信息公开: goals with the budget, results with the final accounts. ``content``: exactly what the public may read
    from then on (:func:`ledger.domain.disclosure.project_content`); ``due_on`` and ``late``: the day it was due by and
    whether it came after it (None: no due day was recorded). All three absent in disclosures recorded before."""

    what: str
    content: dict[str, Any] | None = None
    due_on: date | None = None
    late: bool | None = None

    def apply(self, project: ProjectState) -> None:
        project.disclosed.append(self.what)


class Closed(LedgerAggregate.Event):
    def apply(self, project: ProjectState) -> None:
        project.stage = Stage.CLOSED.value


class DeadlineApproaching(ApproachingNotice):
    """临期提醒: an open obligation falls due within the ruleset's warning days (raised by the scheduler)."""


class DeadlineMissed(MissedNotice):
    """逾期: an obligation was not met by its due date (raised by the scheduler); in effect from the day after."""
