"""The project (项目/政策): one budget project or policy of one department in one year.

Its whole budget-performance life is one state machine; every arrow is an
event below. Command methods check the rules, then record; ``apply`` methods
only change state, so replaying the stored events rebuilds the same project.
Role and organisation checks live in the application, which knows the caller.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate, keyed_id, preparation_opens, recorded_ids, require_not_before
from ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from ledger.domain.values import Grade, Indicator, Principal, enum_value


class Stage(StrEnum):
    DECLARED = "declared"  # 申报
    REJECTED = "rejected"  # 事前评估不予支持 (terminal for the year)
    ADMITTED = "admitted"  # 入库
    GOALS_SUBMITTED = "goals_submitted"  # 绩效目标申报
    GOALS_RETURNED = "goals_returned"  # 目标审核为中，退回修改
    GOALS_APPROVED = "goals_approved"  # 目标审核为优/良
    GOALS_REFUSED = "goals_refused"  # 目标审核为差，本年度不予安排
    BUDGET_APPROVED = "budget_approved"  # 预算与绩效目标同步批复; implementation
    CANCELLED = "cancelled"  # 取消 (corrective action)
    SELF_EVALUATED = "self_evaluated"  # 单位自评
    RESULTS_APPLIED = "results_applied"  # 结果应用
    CLOSED = "closed"


class CorrectiveDecision(StrEnum):
    CONTINUE = "continue"  # 继续执行
    REALLOCATE = "reallocate"  # 调剂
    SUSPEND_FUNDING = "suspend_funding"  # 暂缓拨款
    CANCEL = "cancel"  # 取消
    REDUCE_BUDGET = "reduce_budget"  # 调减/收回


class RectificationSource(StrEnum):
    MONITORING = "monitoring"
    SELF_EVALUATION = "self_evaluation"
    RE_EVALUATION = "re_evaluation"
    KEY_EVALUATION = "key_evaluation"
    AUDIT = "audit"


class Disclosure(StrEnum):
    GOALS = "goals"  # 随预算草案公开
    RESULTS = "results"  # 随决算公开


class DeadlineKind(StrEnum):
    """The deadlines the scheduler watches (DOMAIN.md), each raising approaching and missed notices once."""

    GOAL_SUBMISSION = "goal_submission"  # 绩效目标申报, before budget preparation: (Y−1)-10-31
    MONITORING_REPORT = "monitoring_report"  # 1–7月绩效监控报告: Y-08-15
    SELF_EVALUATION = "self_evaluation"  # 单位自评: (Y+1)-03-31
    RECTIFICATION = "rectification"  # 整改: the deadline set when it was required
    DEVIATION_ANSWER = "deviation_answer"  # 偏差纠正: the working days allowed after detection


@dataclass(frozen=True)
class Deadline:
    """An obligation of the project falling due on ``due_on``: its identity is (kind, ref, due_on).

    ``ref`` is the rectification number or the deviation's month, 0 for the once-a-year deadlines.
    """

    kind: str
    ref: int
    due_on: date

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}:{self.due_on.isoformat()}"


IMPLEMENTING = frozenset({Stage.BUDGET_APPROVED})
EVALUATED = frozenset({Stage.SELF_EVALUATED, Stage.RESULTS_APPLIED})
TERMINAL = frozenset({Stage.REJECTED, Stage.GOALS_REFUSED, Stage.CLOSED})


def project_id(fiscal_year: int, code: str) -> UUID:
    """The id a project of ``fiscal_year`` declared under ``code`` gets (from the code's key: one project however
    the code is spelled)."""
    return keyed_id("project", fiscal_year, code)


def project_ids(fiscal_year: int, code: str) -> tuple[UUID, ...]:
    """Every id a project of this year and code may be recorded under (:func:`ledger.base.recorded_ids`)."""
    return recorded_ids("project", fiscal_year, code)


class Project(LedgerAggregate):
    """A project and its budget-performance record. State is plain data so snapshots round-trip exactly."""

    TOPIC_MODULE = "ledger.project"  # stored topics keep the module they were first recorded under

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        code: str
        name: str
        kind: str
        department: str
        fiscal_year: int
        budget_book: str
        special_category: str | None
        requested: Decimal
        new_major: bool
        declared_on: date | None  # None: restored from a snapshot taken before it was kept
        stage: str
        ex_ante: dict[str, Any] | None
        goals: list[Indicator]
        goals_rating: str | None
        goals_review_notes: str
        goals_revisions: int
        approved_amount: Decimal | None
        executed: Decimal
        funding_suspended: bool
        adjustments: list[dict[str, Any]]
        monitoring: list[dict[str, Any]]
        deviations: list[dict[str, Any]]
        corrective_actions: list[dict[str, Any]]
        self_evaluation: dict[str, Any] | None
        selected_in_sample: str | None
        re_evaluation: dict[str, Any] | None
        key_evaluations: dict[str, dict[str, Any]]
        results: dict[str, Any] | None
        rectifications: list[dict[str, Any]]
        disclosed: list[str]
        deadline_notices: dict[str, dict[str, Any]]  # Deadline.key -> {kind, ref, due_on, approaching, missed}

    # Version 2 added deadline_notices, version 3 declared_on; older snapshots are upcast (their events replay
    # unchanged; without declared_on the project's dates are bounded by its fiscal year's preparation instead).
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["deadline_notices"] = {}

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["declared_on"] = None

    # ------------------------------------------------------------------ events

    class Declared(LedgerAggregate.Created):
        code: str
        name: str
        kind: str
        department: str
        fiscal_year: int
        budget_book: str
        special_category: str | None
        requested: Decimal
        new_major: bool

        def apply(self, project: Project) -> None:
            project.code = self.code
            project.name = self.name
            project.kind = self.kind
            project.department = self.department
            project.fiscal_year = self.fiscal_year
            project.budget_book = self.budget_book
            project.special_category = self.special_category
            project.requested = self.requested
            project.new_major = self.new_major
            project.declared_on = self.effective_on
            project.stage = Stage.DECLARED.value
            project.ex_ante = None
            project.goals = []
            project.goals_rating = None
            project.goals_review_notes = ""
            project.goals_revisions = 0
            project.approved_amount = None
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
            project.rectifications = []
            project.disclosed = []
            project.deadline_notices = {}

    class ExAnteAssessed(LedgerAggregate.Event):
        """事前绩效评估."""

        scores: dict[str, Decimal]
        total: Decimal
        conclusion: str
        ruleset_version: int

        def apply(self, project: Project) -> None:
            project.ex_ante = {"scores": dict(self.scores), "total": self.total, "conclusion": self.conclusion,
                               "ruleset_version": self.ruleset_version}
            if self.conclusion == rules.ExAnteConclusion.REJECT:
                project.stage = Stage.REJECTED.value

    class Admitted(LedgerAggregate.Event):
        """入库: admitted to the project library."""

        def apply(self, project: Project) -> None:
            project.stage = Stage.ADMITTED.value

    class GoalsSubmitted(LedgerAggregate.Event):
        """绩效目标申报."""

        indicators: list[Indicator]
        ruleset_version: int

        def apply(self, project: Project) -> None:
            if project.stage == Stage.GOALS_RETURNED:
                project.goals_revisions += 1
            project.goals = list(self.indicators)
            project.goals_rating = None
            project.stage = Stage.GOALS_SUBMITTED.value

    class GoalsReviewed(LedgerAggregate.Event):
        """目标审核: 优/良 approved, 中 returned for revision, 差 refused this year."""

        rating: str
        required_fixes: str

        def apply(self, project: Project) -> None:
            project.goals_rating = self.rating
            project.goals_review_notes = self.required_fixes
            project.stage = {
                Grade.EXCELLENT: Stage.GOALS_APPROVED,
                Grade.GOOD: Stage.GOALS_APPROVED,
                Grade.FAIR: Stage.GOALS_RETURNED,
                Grade.POOR: Stage.GOALS_REFUSED,
            }[Grade(self.rating)].value

    class BudgetApproved(LedgerAggregate.Event):
        """预算与绩效目标同步批复."""

        amount: Decimal

        def apply(self, project: Project) -> None:
            project.approved_amount = self.amount
            project.stage = Stage.BUDGET_APPROVED.value

    class GoalAdjustmentRequested(LedgerAggregate.Event):
        """目标调整申请."""

        adjustment_no: int
        indicators: list[Indicator]

        def apply(self, project: Project) -> None:
            project.adjustments.append({"no": self.adjustment_no, "indicators": list(self.indicators),
                                        "reason": self.reason, "status": "pending", "requested_on": self.effective_on})

    class GoalAdjustmentApproved(LedgerAggregate.Event):
        adjustment_no: int

        def apply(self, project: Project) -> None:
            adjustment = project.adjustment(self.adjustment_no)
            adjustment["status"] = "approved"
            project.goals = list(adjustment["indicators"])

    class GoalAdjustmentRejected(LedgerAggregate.Event):
        adjustment_no: int

        def apply(self, project: Project) -> None:
            project.adjustment(self.adjustment_no)["status"] = "rejected"

    class MonitoringReported(LedgerAggregate.Event):
        """绩效运行监控: the department's report through month ``month``."""

        month: int
        executed: Decimal
        indicator_progress: dict[str, Decimal]
        forecast: dict[str, Decimal]
        shortfall_reasons: str
        measures: str

        def apply(self, project: Project) -> None:
            project.executed = self.executed
            project.monitoring.append({"month": self.month, "executed": self.executed,
                                       "indicator_progress": dict(self.indicator_progress),
                                       "forecast": dict(self.forecast), "shortfall_reasons": self.shortfall_reasons,
                                       "measures": self.measures, "review": None, "reported_on": self.effective_on})

    class MonitoringReviewed(LedgerAggregate.Event):
        month: int
        opinion: str

        def apply(self, project: Project) -> None:
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

        def apply(self, project: Project) -> None:
            project.deviations.append({"month": self.month, "level": self.level, "findings": list(self.findings),
                                       "execution_rate": self.execution_rate, "time_progress": self.time_progress,
                                       "respond_by": self.respond_by, "answered": False})

    class CorrectiveActionOrdered(LedgerAggregate.Event):
        """纠偏: continue, reallocate, suspend funding, cancel or reduce the budget."""

        decision: str
        amount: Decimal | None
        deviation_month: int | None

        def apply(self, project: Project) -> None:
            project.corrective_actions.append({"decision": self.decision, "amount": self.amount,
                                               "deviation_month": self.deviation_month, "automatic": False})
            for deviation in project.deviations:
                if self.deviation_month is None or deviation["month"] == self.deviation_month:
                    deviation["answered"] = True
            decision = CorrectiveDecision(self.decision)
            if decision is CorrectiveDecision.REDUCE_BUDGET:
                assert project.approved_amount is not None
                assert self.amount is not None
                project.approved_amount -= self.amount
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

        def apply(self, project: Project) -> None:
            project.funding_suspended = True
            project.corrective_actions.append({"decision": CorrectiveDecision.SUSPEND_FUNDING.value, "amount": None,
                                               "deviation_month": self.deviation_month, "automatic": True})

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

        def apply(self, project: Project) -> None:
            project.executed = self.executed
            project.self_evaluation = {"actuals": dict(self.actuals), "indicator_scores": dict(self.indicator_scores),
                                       "execution_rate": self.execution_rate, "execution_score": self.execution_score,
                                       "total": self.total, "grade": self.grade,
                                       "ruleset_version": self.ruleset_version}
            project.stage = Stage.SELF_EVALUATED.value

    class SelectedForReEvaluation(LedgerAggregate.Event):
        """抽中财政再评价."""

        sample_id: str

        def apply(self, project: Project) -> None:
            project.selected_in_sample = self.sample_id

    class ReEvaluated(LedgerAggregate.Event):
        """财政再评价 scored; a self-evaluation well above it is flagged as inflated (自评虚高)."""

        scores: dict[str, Decimal]
        total: Decimal
        grade: str
        inflated: bool
        ruleset_version: int

        def apply(self, project: Project) -> None:
            project.re_evaluation = {"scores": dict(self.scores), "total": self.total, "grade": self.grade,
                                     "inflated": self.inflated, "by": self.principal.organisation,
                                     "ruleset_version": self.ruleset_version}

    class KeyEvaluationCommissioned(LedgerAggregate.Event):
        """重点评价 commissioned, to an agency or done by finance itself."""

        evaluation_id: str
        agency_id: str | None
        agency_name: str | None

        def apply(self, project: Project) -> None:
            project.key_evaluations[self.evaluation_id] = {
                "agency_id": self.agency_id, "agency_name": self.agency_name, "plan_approved": None,
                "report_approved": None, "supervision": [], "score": None, "commissioned_on": self.effective_on,
            }

    class KeyEvaluationPlanReviewed(LedgerAggregate.Event):
        """两审一督导: the plan review."""

        evaluation_id: str
        approved: bool

        def apply(self, project: Project) -> None:
            project.key_evaluations[self.evaluation_id]["plan_approved"] = self.approved

    class KeyEvaluationReportReviewed(LedgerAggregate.Event):
        """两审一督导: the report review."""

        evaluation_id: str
        approved: bool

        def apply(self, project: Project) -> None:
            project.key_evaluations[self.evaluation_id]["report_approved"] = self.approved

    class KeyEvaluationSupervisionNoted(LedgerAggregate.Event):
        """两审一督导: supervision notes."""

        evaluation_id: str
        notes: str

        def apply(self, project: Project) -> None:
            project.key_evaluations[self.evaluation_id]["supervision"].append(self.notes)

    class KeyEvaluationScored(LedgerAggregate.Event):
        evaluation_id: str
        scores: dict[str, Decimal]
        total: Decimal
        grade: str
        inflated: bool
        ruleset_version: int

        def apply(self, project: Project) -> None:
            project.key_evaluations[self.evaluation_id]["score"] = {
                "scores": dict(self.scores), "total": self.total, "grade": self.grade, "inflated": self.inflated,
                "ruleset_version": self.ruleset_version, "scored_at_version": self.originator_version,
            }

    class ResultsApplied(LedgerAggregate.Event):
        """结果应用: prioritise, maintain, reduce next year's budget, or cancel."""

        decision: str
        basis: str
        grade: str
        next_year_budget: Decimal | None
        ruleset_version: int

        def apply(self, project: Project) -> None:
            project.results = {"decision": self.decision, "basis": self.basis, "grade": self.grade,
                               "next_year_budget": self.next_year_budget, "ruleset_version": self.ruleset_version}
            project.stage = Stage.RESULTS_APPLIED.value

    class RectificationRequired(LedgerAggregate.Event):
        """整改: issues, their source and a deadline."""

        rectification_no: int
        issues: list[str]
        source: str
        deadline: date

        def apply(self, project: Project) -> None:
            project.rectifications.append({"no": self.rectification_no, "issues": list(self.issues),
                                           "source": self.source, "deadline": self.deadline, "status": "open",
                                           "overdue": False, "reports": [], "required_on": self.effective_on})

    class RectificationReported(LedgerAggregate.Event):
        rectification_no: int
        measures: str

        def apply(self, project: Project) -> None:
            item = project.rectification(self.rectification_no)
            item["status"] = "reported"
            item["reports"].append({"measures": self.measures, "evidence": list(self.evidence)})

    class RectificationAccepted(LedgerAggregate.Event):
        rectification_no: int

        def apply(self, project: Project) -> None:
            project.rectification(self.rectification_no)["status"] = "accepted"

    class RectificationRejected(LedgerAggregate.Event):
        rectification_no: int

        def apply(self, project: Project) -> None:
            project.rectification(self.rectification_no)["status"] = "open"

    class RectificationOverdue(LedgerAggregate.Event):
        rectification_no: int

        def apply(self, project: Project) -> None:
            project.rectification(self.rectification_no)["overdue"] = True

    class Disclosed(LedgerAggregate.Event):
        """信息公开: goals with the budget draft, results with the final accounts."""

        what: str

        def apply(self, project: Project) -> None:
            project.disclosed.append(self.what)

    class Closed(LedgerAggregate.Event):
        def apply(self, project: Project) -> None:
            project.stage = Stage.CLOSED.value

    class DeadlineApproaching(LedgerAggregate.Event):
        """临期提醒: an open obligation falls due within the ruleset's warning days (raised by the scheduler)."""

        deadline: str
        ref: int
        due_on: date

        def apply(self, project: Project) -> None:
            project._notice(Deadline(self.deadline, self.ref, self.due_on))["approaching"] = self.effective_on

    class DeadlineMissed(LedgerAggregate.Event):
        """逾期: an obligation was not met by its due date (raised by the scheduler); in effect from the day after."""

        deadline: str
        ref: int
        due_on: date

        def apply(self, project: Project) -> None:
            project._notice(Deadline(self.deadline, self.ref, self.due_on))["missed"] = self.effective_on

    # ---------------------------------------------------------------- helpers

    def _notice(self, deadline: Deadline) -> dict[str, Any]:
        return self.deadline_notices.setdefault(deadline.key, {
            "kind": deadline.kind, "ref": deadline.ref, "due_on": deadline.due_on, "approaching": None,
            "missed": None})

    def notices_for(self, deadline: Deadline) -> dict[str, Any] | None:
        """What was raised for ``deadline`` so far: the days of its approaching and missed notices."""
        return self.deadline_notices.get(deadline.key)

    def adjustment(self, number: int) -> dict[str, Any]:
        for item in self.adjustments:
            if item["no"] == number:
                return item
        raise NotFound(f"goal adjustment {number} not found", code="adjustment-not-found")

    def rectification(self, number: int) -> dict[str, Any]:
        for item in self.rectifications:
            if item["no"] == number:
                return item
        raise NotFound(f"rectification {number} not found", code="rectification-not-found")

    def monitoring_for(self, month: int) -> dict[str, Any]:
        for item in self.monitoring:
            if item["month"] == month:
                return item
        raise NotFound(f"no monitoring report for month {month}", code="invalid-value")

    def key_evaluation(self, evaluation_id: str) -> dict[str, Any]:
        try:
            return self.key_evaluations[evaluation_id]
        except KeyError:
            raise NotFound(f"key evaluation {evaluation_id} not found", code="evaluation-not-found") from None

    @property
    def pending_adjustment(self) -> dict[str, Any] | None:
        return next((item for item in self.adjustments if item["status"] == "pending"), None)

    @property
    def open_rectifications(self) -> list[dict[str, Any]]:
        return [item for item in self.rectifications if item["status"] != "accepted"]

    @property
    def latest_monitoring(self) -> dict[str, Any] | None:
        return self.monitoring[-1] if self.monitoring else None

    def _require_stage(self, allowed: frozenset[Stage] | set[Stage], action: str) -> None:
        if self.stage == Stage.CLOSED:
            raise RuleViolation(f"project {self.code} is closed", code="project-closed")
        if Stage(self.stage) not in allowed:
            expected = ", ".join(sorted(stage.value for stage in allowed))
            raise RuleViolation(f"cannot {action} at stage {self.stage} (allowed at: {expected})", code="wrong-stage")

    def _require_open(self) -> None:
        if self.stage == Stage.CLOSED:
            raise RuleViolation(f"project {self.code} is closed", code="project-closed")

    @property
    def opened_on(self) -> date:
        """The first day the project's business can be dated: its declaration's (or, restored from an old snapshot,
        its fiscal year's preparation opening)."""
        return self.declared_on or preparation_opens(self.fiscal_year)

    def record(self, event_class: type[Any], principal: Principal, effective_on: date, reason: str = "",
               evidence: list[str] | None = None, **kwargs: Any) -> None:
        """Nothing a principal does to the project is dated before it was declared (the scheduler dates its notices
        by its own day)."""
        if not principal.is_system:
            require_not_before(effective_on, self.opened_on, f"project {self.code} was declared")
        super().record(event_class, principal, effective_on, reason, evidence, **kwargs)

    @staticmethod
    def _require_since(effective_on: date, item: dict[str, Any], field: str, what: str) -> None:
        """Not before the sub-object ``item`` came to be (its ``field``; absent in entries of old snapshots)."""
        require_not_before(effective_on, item.get(field), what)

    def _require_in_year(self, when: date, first: date, last: date, field: str = "effective_on") -> None:
        if not first <= when <= last:
            raise InvalidInput(f"{field} {when} is outside {first} to {last} for fiscal year {self.fiscal_year}",
                               code="invalid-date", field=field)

    # --------------------------------------------------------------- commands

    @classmethod
    def declare(cls, *, principal: Principal, effective_on: date, code: str, name: str, kind: str, department: str,
                fiscal_year: int, budget_book: str, special_category: str | None, requested: Decimal,
                new_major: bool, reason: str = "", evidence: list[str] | None = None) -> Project:
        require_not_before(effective_on, preparation_opens(fiscal_year),
                           f"the budget preparation of fiscal year {fiscal_year} opened")
        return cls._create(
            cls.Declared, id=project_id(fiscal_year, code), principal=principal, effective_on=effective_on,
            reason=reason, evidence=list(evidence or []), code=code, name=name, kind=kind, department=department,
            fiscal_year=fiscal_year, budget_book=budget_book, special_category=special_category,
            requested=requested, new_major=new_major,
        )

    def ex_ante_required(self, params: rules.RuleParameters) -> bool:
        return rules.ex_ante_required(self.new_major, self.requested, params)

    def assess_ex_ante(self, scores: dict[str, Decimal], params: rules.RuleParameters, ruleset_version: int,
                       principal: Principal, effective_on: date, reason: str, evidence: list[str]) -> None:
        self._require_stage({Stage.DECLARED}, "record an ex-ante assessment")
        if not self.ex_ante_required(params):
            raise RuleViolation(f"project {self.code} does not need an ex-ante assessment", code="ex-ante-not-required")
        if self.ex_ante is not None:
            raise RuleViolation("the ex-ante assessment is already recorded", code="already-decided")
        result = rules.ex_ante_conclusion(scores, params)
        self.record(self.ExAnteAssessed, principal, effective_on, reason, evidence, scores=dict(scores),
                    total=result.total, conclusion=str(result.conclusion), ruleset_version=ruleset_version)

    def admit(self, params: rules.RuleParameters, principal: Principal, effective_on: date, reason: str,
              evidence: list[str]) -> None:
        self._require_stage({Stage.DECLARED}, "admit to the project library")
        if self.ex_ante_required(params):
            if self.ex_ante is None:
                raise RuleViolation(
                    f"project {self.code} is new-major and requests {self.requested}: "
                    "an ex-ante assessment is required before admission", code="ex-ante-required")
            if self.ex_ante["conclusion"] == rules.ExAnteConclusion.SUPPORT_AFTER_REVISION and not reason.strip():
                raise InvalidInput("admission after 调整完善后支持 must state the revisions made",
                                   code="reason-required", field="reason")
        self.record(self.Admitted, principal, effective_on, reason, evidence)

    def submit_goals(self, indicators: list[Indicator], params: rules.RuleParameters, ruleset_version: int,
                     principal: Principal, effective_on: date, reason: str, evidence: list[str]) -> None:
        self._require_stage({Stage.ADMITTED, Stage.GOALS_RETURNED, Stage.GOALS_SUBMITTED}, "submit goals")
        rules.validate_goals(indicators, params)
        self.record(self.GoalsSubmitted, principal, effective_on, reason, evidence, indicators=list(indicators),
                    ruleset_version=ruleset_version)

    def review_goals(self, rating: str, required_fixes: str, principal: Principal, effective_on: date, reason: str,
                     evidence: list[str]) -> None:
        self._require_stage({Stage.GOALS_SUBMITTED}, "review goals")
        grade = enum_value(Grade, rating, "rating")
        if grade in (Grade.FAIR, Grade.POOR) and not (reason.strip() or required_fixes.strip()):
            raise InvalidInput("a rating of 中 or 差 must give the reason", code="reason-required", field="reason")
        self.record(self.GoalsReviewed, principal, effective_on, reason, evidence, rating=grade.value,
                    required_fixes=required_fixes)

    def approve_budget(self, amount: Decimal, principal: Principal, effective_on: date, reason: str,
                       evidence: list[str]) -> None:
        if self.stage in (Stage.GOALS_SUBMITTED, Stage.GOALS_RETURNED, Stage.GOALS_REFUSED, Stage.ADMITTED,
                          Stage.DECLARED):
            rating = self.goals_rating or "none"
            raise RuleViolation(f"goals of {self.code} are not rated 优/良 (rating: {rating}): no approved goals, "
                                "no budget", code="goals-not-approved")
        self._require_stage({Stage.GOALS_APPROVED}, "approve the budget")
        if amount <= 0:
            raise InvalidInput("the approved amount must be positive", code="invalid-money", field="amount")
        self._require_in_year(effective_on, date(self.fiscal_year - 1, 1, 1), date(self.fiscal_year, 12, 31))
        self.record(self.BudgetApproved, principal, effective_on, reason, evidence, amount=amount)

    def request_goal_adjustment(self, indicators: list[Indicator], params: rules.RuleParameters,
                                principal: Principal, effective_on: date, reason: str, evidence: list[str]) -> int:
        self._require_stage(IMPLEMENTING, "request a goal adjustment")
        if not reason.strip():
            raise InvalidInput("a goal adjustment must give its reason", code="reason-required", field="reason")
        if self.pending_adjustment is not None:
            raise RuleViolation("a goal adjustment is already awaiting finance's decision", code="adjustment-pending")
        rules.validate_goals(indicators, params)
        number = len(self.adjustments) + 1
        self.record(self.GoalAdjustmentRequested, principal, effective_on, reason, evidence, adjustment_no=number,
                    indicators=list(indicators))
        return number

    def decide_goal_adjustment(self, number: int, approve: bool, principal: Principal, effective_on: date,
                               reason: str, evidence: list[str]) -> None:
        self._require_stage(IMPLEMENTING, "decide a goal adjustment")
        adjustment = self.adjustment(number)
        self._require_since(effective_on, adjustment, "requested_on", f"goal adjustment {number} was requested")
        if adjustment["status"] != "pending":
            raise RuleViolation(f"goal adjustment {number} is already decided", code="already-decided")
        if not approve and not reason.strip():
            raise InvalidInput("a rejection must give its reason", code="reason-required", field="reason")
        event = self.GoalAdjustmentApproved if approve else self.GoalAdjustmentRejected
        self.record(event, principal, effective_on, reason, evidence, adjustment_no=number)

    def report_monitoring(self, month: int, executed: Decimal, indicator_progress: dict[str, Decimal],
                          forecast: dict[str, Decimal], shortfall_reasons: str, measures: str, principal: Principal,
                          effective_on: date, reason: str, evidence: list[str]) -> None:
        self._require_stage(IMPLEMENTING, "report monitoring")
        if not 1 <= month <= 12:
            raise InvalidInput("month must be 1 to 12", field="month")
        latest = self.latest_monitoring
        if latest is not None and month <= latest["month"]:
            raise RuleViolation(f"a report through month {latest['month']} exists; periods must advance",
                                code="monitoring-period-invalid")
        assert self.approved_amount is not None
        if executed > self.approved_amount:
            raise RuleViolation(f"executed {executed} exceeds the approved budget {self.approved_amount}",
                                code="amount-exceeds-budget")
        if executed < self.executed:
            raise InvalidInput(f"executed {executed} is below the {self.executed} already reported; amounts are "
                               "cumulative", code="invalid-money", field="executed")
        keys = {indicator.key for indicator in self.goals}
        for key in [*indicator_progress, *forecast]:
            if key not in keys:
                raise InvalidInput(f"unknown indicator {key!r}", code="invalid-indicator", field=f"progress.{key}")
        self._require_in_year(effective_on, date(self.fiscal_year, 1, 1), date(self.fiscal_year + 1, 1, 31))
        self.record(self.MonitoringReported, principal, effective_on, reason, evidence, month=month,
                    executed=executed, indicator_progress=dict(indicator_progress), forecast=dict(forecast),
                    shortfall_reasons=shortfall_reasons, measures=measures)

    def review_monitoring(self, month: int, opinion: str, principal: Principal, effective_on: date, reason: str,
                          evidence: list[str]) -> None:
        self._require_stage(IMPLEMENTING | EVALUATED | {Stage.CANCELLED}, "review monitoring")
        report = self.monitoring_for(month)
        self._require_since(effective_on, report, "reported_on", f"the report for month {month} was filed")
        if report["review"] is not None:
            raise RuleViolation(f"the report for month {month} is already reviewed", code="already-decided")
        self.record(self.MonitoringReviewed, principal, effective_on, reason, evidence, month=month, opinion=opinion)

    def assess_deviation(self, params: rules.RuleParameters) -> rules.DeviationAssessment | None:
        """The deviation the latest monitoring shows, or None if none or already recorded for that period."""
        latest = self.latest_monitoring
        if latest is None or self.approved_amount is None:
            return None
        if any(deviation["month"] == latest["month"] for deviation in self.deviations):
            return None
        assessment = rules.deviation_level(latest["month"], latest["executed"], self.approved_amount,
                                           latest["indicator_progress"], params)
        return assessment if assessment.level is not None else None

    def detect_deviation(self, params: rules.RuleParameters, ruleset_version: int, holidays: Collection[date],
                         principal: Principal, effective_on: date, working_weekends: Collection[date] = ()) -> bool:
        """Record the latest period's deviation once, with the working day its answer is due; return whether one
        was recorded."""
        if self.stage not in IMPLEMENTING:
            return False
        assessment = self.assess_deviation(params)
        if assessment is None:
            return False
        latest = self.latest_monitoring
        assert latest is not None
        assert assessment.level is not None
        respond_by = rules.add_working_days(effective_on, params.deviation_response_working_days, holidays,
                                            working_weekends)
        self.record(self.DeviationDetected, principal, effective_on, "; ".join(assessment.reasons), [],
                    month=latest["month"], level=str(assessment.level), findings=list(assessment.reasons),
                    execution_rate=assessment.execution_rate, time_progress=assessment.time_progress,
                    respond_by=respond_by, ruleset_version=ruleset_version)
        return True

    def order_corrective_action(self, decision: str, amount: Decimal | None, deviation_month: int | None,
                                principal: Principal, effective_on: date, reason: str, evidence: list[str]) -> None:
        self._require_stage(IMPLEMENTING, "order a corrective action")
        choice = enum_value(CorrectiveDecision, decision, "decision")
        if not reason.strip():
            raise InvalidInput("a corrective action must give its reason", code="reason-required", field="reason")
        if choice is CorrectiveDecision.REDUCE_BUDGET:
            if amount is None or amount <= 0:
                raise InvalidInput("reduce_budget needs a positive amount", code="invalid-money", field="amount")
            assert self.approved_amount is not None
            if self.approved_amount - amount < self.executed:
                raise RuleViolation(f"cannot reduce below the {self.executed} already executed",
                                    code="amount-exceeds-budget")
        elif amount is not None:
            raise InvalidInput("only reduce_budget takes an amount", field="amount")
        if deviation_month is not None and not any(d["month"] == deviation_month for d in self.deviations):
            raise InvalidInput(f"no deviation recorded for month {deviation_month}", field="deviation_month")
        self.record(self.CorrectiveActionOrdered, principal, effective_on, reason, evidence, decision=choice.value,
                    amount=amount, deviation_month=deviation_month)

    def _unanswered_deviations(self) -> list[dict[str, Any]]:
        """Deviations neither answered by a corrective action nor yet followed by an automatic suspension."""
        automatic = {item["deviation_month"] for item in self.corrective_actions if item["automatic"]}
        return [d for d in self.deviations if not d["answered"] and d["month"] not in automatic]

    def suspend_funding_if_unanswered(self, today: date, principal: Principal) -> bool:
        """暂缓拨款 for every deviation whose answer is overdue; recorded once per deviation."""
        if self.stage not in IMPLEMENTING:
            return False
        overdue = [d for d in self._unanswered_deviations() if today > d["respond_by"]]
        for deviation in overdue:
            self.record(self.FundingSuspended, principal, today,
                        f"deviation of month {deviation['month']} not answered by {deviation['respond_by']}", [],
                        deviation_month=deviation["month"])
        return bool(overdue)

    def next_suspension_check(self) -> date | None:
        """The first day funding could be suspended automatically, unless something is recorded before."""
        if self.stage not in IMPLEMENTING:
            return None
        return min((d["respond_by"] + timedelta(days=1) for d in self._unanswered_deviations()), default=None)

    def self_evaluate(self, actuals: dict[str, Decimal | str], executed: Decimal, params: rules.RuleParameters,
                      ruleset_version: int, principal: Principal, effective_on: date, reason: str,
                      evidence: list[str]) -> rules.SelfEvaluationScore:
        self._require_stage(IMPLEMENTING, "submit the self-evaluation")
        assert self.approved_amount is not None
        if executed > self.approved_amount:
            raise RuleViolation(f"executed {executed} exceeds the approved budget {self.approved_amount}",
                                code="amount-exceeds-budget")
        self._require_in_year(effective_on, date(self.fiscal_year, 12, 1), date(self.fiscal_year + 2, 12, 31))
        result = rules.self_evaluation_score(self.goals, actuals, executed, self.approved_amount, params)
        self.record(self.SelfEvaluated, principal, effective_on, reason, evidence, actuals=dict(actuals),
                    executed=executed, indicator_scores={item.key: item.score for item in result.indicator_scores},
                    execution_rate=result.execution_rate, execution_score=result.execution_score,
                    total=result.total, grade=result.grade, ruleset_version=ruleset_version)
        return result

    def select_for_re_evaluation(self, sample_id: str, principal: Principal, effective_on: date) -> None:
        self._require_stage(EVALUATED, "select for re-evaluation")
        self.record(self.SelectedForReEvaluation, principal, effective_on, "", [], sample_id=sample_id)

    def _evaluation_result(self, scores: dict[str, Decimal], params: rules.RuleParameters) -> dict[str, Any]:
        total = rules.re_evaluation_total(scores, params)
        self_total = self.self_evaluation["total"] if self.self_evaluation else None
        inflated = self_total is not None and rules.is_inflated(self_total, total, params)
        return {"scores": dict(scores), "total": total, "grade": rules.grade(total, params), "inflated": inflated}

    def re_evaluate(self, scores: dict[str, Decimal], params: rules.RuleParameters, ruleset_version: int,
                    principal: Principal, effective_on: date, reason: str, evidence: list[str]) -> None:
        self._require_stage(EVALUATED, "re-evaluate")
        if self.selected_in_sample is None:
            raise RuleViolation(f"project {self.code} was not drawn for re-evaluation", code="not-selected")
        if self.re_evaluation is not None:
            raise RuleViolation("the re-evaluation is already recorded", code="already-decided")
        self.record(self.ReEvaluated, principal, effective_on, reason, evidence,
                    ruleset_version=ruleset_version, **self._evaluation_result(scores, params))

    def commission_key_evaluation(self, evaluation_id: str, agency_id: str | None, agency_name: str | None,
                                  principal: Principal, effective_on: date, reason: str,
                                  evidence: list[str]) -> None:
        self._require_stage(IMPLEMENTING | EVALUATED, "commission a key evaluation")
        if evaluation_id in self.key_evaluations:
            raise RuleViolation(f"key evaluation {evaluation_id} already exists", code="already-exists")
        self.record(self.KeyEvaluationCommissioned, principal, effective_on, reason, evidence,
                    evaluation_id=evaluation_id, agency_id=agency_id, agency_name=agency_name)

    def review_key_evaluation_plan(self, evaluation_id: str, approved: bool, principal: Principal,
                                   effective_on: date, reason: str, evidence: list[str]) -> None:
        self._require_open()
        evaluation = self.key_evaluation(evaluation_id)
        self._require_since(effective_on, evaluation, "commissioned_on", f"key evaluation {evaluation_id} was "
                            "commissioned")
        if evaluation["report_approved"] is not None:
            raise RuleViolation("the report is already reviewed; the plan review is closed", code="already-decided")
        self.record(self.KeyEvaluationPlanReviewed, principal, effective_on, reason, evidence,
                    evaluation_id=evaluation_id, approved=approved)

    def review_key_evaluation_report(self, evaluation_id: str, approved: bool, principal: Principal,
                                     effective_on: date, reason: str, evidence: list[str]) -> None:
        self._require_open()
        evaluation = self.key_evaluation(evaluation_id)
        self._require_since(effective_on, evaluation, "commissioned_on", f"key evaluation {evaluation_id} was "
                            "commissioned")
        if evaluation["plan_approved"] is not True:
            raise RuleViolation("the evaluation plan must be approved before the report is reviewed",
                                code="plan-not-reviewed")
        if evaluation["score"] is not None:
            raise RuleViolation("the evaluation is already scored", code="already-decided")
        self.record(self.KeyEvaluationReportReviewed, principal, effective_on, reason, evidence,
                    evaluation_id=evaluation_id, approved=approved)

    def note_key_evaluation_supervision(self, evaluation_id: str, notes: str, principal: Principal,
                                        effective_on: date, evidence: list[str]) -> None:
        self._require_open()
        evaluation = self.key_evaluation(evaluation_id)
        self._require_since(effective_on, evaluation, "commissioned_on", f"key evaluation {evaluation_id} was "
                            "commissioned")
        if not notes.strip():
            raise InvalidInput("supervision notes are required", field="notes")
        self.record(self.KeyEvaluationSupervisionNoted, principal, effective_on, "", evidence,
                    evaluation_id=evaluation_id, notes=notes)

    def score_key_evaluation(self, evaluation_id: str, scores: dict[str, Decimal], params: rules.RuleParameters,
                             ruleset_version: int, principal: Principal, effective_on: date, reason: str,
                             evidence: list[str]) -> None:
        self._require_open()
        evaluation = self.key_evaluation(evaluation_id)
        self._require_since(effective_on, evaluation, "commissioned_on", f"key evaluation {evaluation_id} was "
                            "commissioned")
        if evaluation["plan_approved"] is not True or evaluation["report_approved"] is not True:
            raise RuleViolation("a key-evaluation score is accepted only after the plan and report reviews "
                                "(两审)", code="report-not-reviewed")
        if evaluation["score"] is not None:
            raise RuleViolation("the evaluation is already scored", code="already-decided")
        self.record(self.KeyEvaluationScored, principal, effective_on, reason, evidence, evaluation_id=evaluation_id,
                    ruleset_version=ruleset_version, **self._evaluation_result(scores, params))

    def evaluation_basis(self) -> tuple[str, str] | None:
        """The grade results are applied on: a key evaluation over a re-evaluation over the self-evaluation."""
        scored = [item["score"] for item in self.key_evaluations.values() if item["score"] is not None]
        if scored:
            latest = max(scored, key=lambda score: score["scored_at_version"])
            return "key_evaluation", latest["grade"]
        if self.re_evaluation is not None:
            return "re_evaluation", self.re_evaluation["grade"]
        if self.self_evaluation is not None:
            return "self_evaluation", self.self_evaluation["grade"]
        return None

    def apply_results(self, decision: str | None, params: rules.RuleParameters, ruleset_version: int,
                      principal: Principal, effective_on: date, reason: str, evidence: list[str]) -> str:
        self._require_stage({Stage.SELF_EVALUATED}, "apply results")
        basis = self.evaluation_basis()
        if basis is None:
            raise RuleViolation("there is no evaluation result to apply", code="no-results")
        source, grade = basis
        default = rules.result_application_default(grade, params)
        chosen = enum_value(rules.ResultApplication, decision or default, "decision")
        if chosen != default and not reason.strip():
            raise InvalidInput(f"departing from the default ({default}) for grade {grade} needs a reason",
                               code="reason-required", field="reason")
        assert self.approved_amount is not None
        next_year = rules.reduced_budget(self.approved_amount, params) if chosen == "reduce" else None
        self.record(self.ResultsApplied, principal, effective_on, reason, evidence, decision=chosen.value,
                    basis=source, grade=grade, next_year_budget=next_year, ruleset_version=ruleset_version)
        return chosen.value

    def require_rectification(self, issues: list[str], source: str, deadline: date, principal: Principal,
                              effective_on: date, reason: str, evidence: list[str]) -> int:
        self._require_stage(IMPLEMENTING | EVALUATED | {Stage.CANCELLED}, "require rectification")
        enum_value(RectificationSource, source, "source")
        if not issues:
            raise InvalidInput("list at least one issue to rectify", field="issues")
        if deadline <= effective_on:
            raise InvalidInput("the deadline must be after the date it is required", code="invalid-date",
                               field="deadline")
        number = len(self.rectifications) + 1
        self.record(self.RectificationRequired, principal, effective_on, reason, evidence,
                    rectification_no=number, issues=list(issues), source=source, deadline=deadline)
        return number

    def report_rectification(self, number: int, measures: str, principal: Principal, effective_on: date,
                             reason: str, evidence: list[str]) -> None:
        self._require_open()
        rectification = self.rectification(number)
        self._require_since(effective_on, rectification, "required_on", f"rectification {number} was required")
        if rectification["status"] != "open":
            raise RuleViolation(f"rectification {number} is not open", code="already-decided")
        if not measures.strip():
            raise InvalidInput("describe the measures taken", field="measures")
        self.record(self.RectificationReported, principal, effective_on, reason, evidence, rectification_no=number,
                    measures=measures)

    def decide_rectification(self, number: int, accept: bool, principal: Principal, effective_on: date,
                             reason: str, evidence: list[str]) -> None:
        self._require_open()
        rectification = self.rectification(number)
        self._require_since(effective_on, rectification, "required_on", f"rectification {number} was required")
        if rectification["status"] != "reported":
            raise RuleViolation(f"rectification {number} has no report awaiting a decision", code="already-decided")
        if not accept and not reason.strip():
            raise InvalidInput("a rejection must give its reason", code="reason-required", field="reason")
        event = self.RectificationAccepted if accept else self.RectificationRejected
        self.record(event, principal, effective_on, reason, evidence, rectification_no=number)

    def mark_rectifications_overdue(self, today: date, principal: Principal) -> list[int]:
        marked = []
        for item in self.rectifications:
            if item["status"] != "accepted" and not item["overdue"] and today > item["deadline"]:
                self.record(self.RectificationOverdue, principal, today,
                            f"rectification {item['no']} not completed by {item['deadline']}", [],
                            rectification_no=item["no"])
                marked.append(item["no"])
        return marked

    def next_overdue_check(self) -> date | None:
        """The first day a rectification could be recorded overdue, unless something is recorded before."""
        return min((item["deadline"] + timedelta(days=1) for item in self.rectifications
                    if item["status"] != "accepted" and not item["overdue"]), default=None)

    def open_deadlines(self) -> list[Deadline]:
        """The obligations not yet met (时限), earliest first: what deadline notices are raised for.

        Goals are owed until first submitted (a revision after a 中 rating is finance's request, not the deadline);
        the January–July monitoring report, the self-evaluation and deviation answers while the budget is being
        implemented; a rectification until it is accepted.
        """
        stage, year = Stage(self.stage), self.fiscal_year
        found = []
        if stage in (Stage.DECLARED, Stage.ADMITTED):
            found.append(Deadline(DeadlineKind.GOAL_SUBMISSION.value, 0, rules.goal_submission_due(year)))
        if stage in IMPLEMENTING:
            if not any(item["month"] >= 7 for item in self.monitoring):
                found.append(Deadline(DeadlineKind.MONITORING_REPORT.value, 0, rules.monitoring_report_due(year)))
            found.append(Deadline(DeadlineKind.SELF_EVALUATION.value, 0, rules.self_evaluation_due(year)))
            found += [Deadline(DeadlineKind.DEVIATION_ANSWER.value, d["month"], d["respond_by"])
                      for d in self.deviations if not d["answered"]]
        if stage is not Stage.CLOSED:
            found += [Deadline(DeadlineKind.RECTIFICATION.value, item["no"], item["deadline"])
                      for item in self.rectifications if item["status"] != "accepted"]
        return sorted(found, key=lambda d: (d.due_on, d.kind, d.ref))

    def raise_deadline_notices(self, today: date, params: rules.RuleParameters,
                               principal: Principal) -> list[Deadline]:
        """Record, once each, an open obligation's approaching notice (from ``deadline_warning_days`` before its
        due date) and its missed notice (after it); return the deadlines noticed.

        A missed notice takes effect the day after the due date, whenever the scheduler gets to it; an approaching
        notice the day it is given, and none is given once the date has passed.
        """
        warning = timedelta(days=params.deadline_warning_days)
        noticed = []
        for deadline in self.open_deadlines():
            notices = self.notices_for(deadline) or {}
            what = deadline.kind if deadline.ref == 0 else f"{deadline.kind} {deadline.ref}"
            if today > deadline.due_on:
                if notices.get("missed") is None:
                    self.record(self.DeadlineMissed, principal, deadline.due_on + timedelta(days=1),
                                f"{what} was due on {deadline.due_on}", [], deadline=deadline.kind,
                                ref=deadline.ref, due_on=deadline.due_on)
                    noticed.append(deadline)
            elif today >= deadline.due_on - warning and notices.get("approaching") is None:
                self.record(self.DeadlineApproaching, principal, today, f"{what} is due on {deadline.due_on}", [],
                            deadline=deadline.kind, ref=deadline.ref, due_on=deadline.due_on)
                noticed.append(deadline)
        return noticed

    def next_deadline_notice(self, params: rules.RuleParameters) -> date | None:
        """The first day a deadline notice could fall due, unless something is recorded before."""
        warning = timedelta(days=params.deadline_warning_days)
        days = []
        for deadline in self.open_deadlines():
            notices = self.notices_for(deadline) or {}
            if notices.get("missed") is not None:
                continue
            days.append(deadline.due_on - warning if notices.get("approaching") is None
                        else deadline.due_on + timedelta(days=1))
        return min(days, default=None)

    def disclose(self, what: str, principal: Principal, effective_on: date, reason: str,
                 evidence: list[str]) -> None:
        self._require_open()
        item = enum_value(Disclosure, what, "what")
        if item.value in self.disclosed:
            raise RuleViolation(f"{item.value} already disclosed", code="already-decided")
        if item is Disclosure.GOALS and self.goals_rating not in (Grade.EXCELLENT, Grade.GOOD):
            raise RuleViolation("only approved goals are disclosed", code="goals-not-approved")
        if item is Disclosure.RESULTS and self.evaluation_basis() is None:
            raise RuleViolation("there are no results to disclose", code="no-results")
        self.record(self.Disclosed, principal, effective_on, reason, evidence, what=item.value)

    def close(self, principal: Principal, effective_on: date, reason: str, evidence: list[str]) -> None:
        self._require_stage({Stage.RESULTS_APPLIED, Stage.CANCELLED, Stage.REJECTED, Stage.GOALS_REFUSED}, "close")
        if self.open_rectifications:
            numbers = ", ".join(str(item["no"]) for item in self.open_rectifications)
            raise RuleViolation(f"rectifications {numbers} are still open", code="open-rectifications")
        unfinished = [key for key, item in self.key_evaluations.items() if item["score"] is None]
        if unfinished:
            raise RuleViolation(f"key evaluations {', '.join(unfinished)} are not finished",
                                code="evaluations-open")
        self.record(self.Closed, principal, effective_on, reason, evidence)
