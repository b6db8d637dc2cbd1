"""Overall goals (部门和单位整体绩效目标): a department's or a budget unit's performance goals for one fiscal year,
set and reviewed as a project's goals are, and the gate they put on the department's budget.

One aggregate per organisation and fiscal year (its id from the organisation's name and the year), not a part of the
department's: the goals are submitted, reviewed, revised and adjusted without contending with the department's other
commands, and another year's goals are another history.

- **Indicators** have a project's indicators' shape (:class:`~ledger.domain.values.Indicator`, the operator and
  target checked alike), their level 1 one of the six dimensions the plan names for overall goals (运行成本, 管理效率,
  履职效能, 社会效应, 可持续发展能力, 服务对象满意度: :data:`~ledger.domain.organisations.ASSESSMENT_DIMENSIONS`),
  every dimension present, level 2 the organisation's own words, the weights adding up to 100.
- **Review** by finance, as a project's goals: 优/良 approve them, 中 returns them for revision, 差 refuses them. Unlike
  a project (which 差 ends for the year), a department cannot go without a budget for a year: refused goals may be
  submitted afresh, and the gate holds until some are approved.
- **Adjustment** once approved: the organisation requests new indicators with a reason, finance approves (they
  replace the goals) or rejects (with a reason); one pending at a time.
- **The gate** (:func:`budget_gate`): in a fiscal year whose coverage target (``overall_goals_coverage``) is 100%,
  every department must have approved overall goals, and a project's budget above ``overall_goals_budget_threshold``
  is not approved while its department's are not. Below 100% the target is a share of departments, which no one
  department's budget can be held to; the shortfall shows in the coverage read model instead. The application reads
  the department's record and passes the fact in; the approval records what was checked, so a replay never reads
  another aggregate or the rules again.

Once the year is over its overall performance is evaluated on the same record (整体绩效评价):

- **Self-evaluation** (整体绩效自评) by the organisation of its approved goals, once: the actual value of every
  indicator, scored as a project's are (:func:`~ledger.domain.rules.overall_self_evaluation_score`), their weights
  adding up to 100 — the ledger computes the score and grade and records them with the ruleset's version.
- **Evaluation by finance** (财政评价), by finance itself or an agency it commissions, as a project's key evaluation
  is commissioned: an agency's under 两审一督导 in full (:mod:`ledger.domain.engagement`, the rules the project's
  key evaluation follows: the agency's plan submitted and reviewed, finance's supervision with findings the agency
  answers, its report submitted and reviewed, each step due by the ruleset's days and watched), finance's own under
  the two reviews only, as is an agency's commissioned before (its stored commission records no procedure): the
  six dimensions scored within the ruleset's ``overall_evaluation_weights``, flagged 自评虚高 when the
  self-evaluation is more than ``inflation_threshold`` above it. Who may be commissioned (not blacklisted, 回避)
  is the application's to check: it knows the agencies. A blacklisting voids (作废) the agency's evaluations its
  cited misconduct names and every one it had not finished: a voided score is no basis for results, which wait for
  a new evaluation scored.
- **Results applied** (结果应用) to a department by finance, once, on the latest evaluation scored and not voided
  (else the self-evaluation), never while one commissioned is unfinished (neither scored nor voided) or a voided one
  awaits its replacement: they set the department's **next control figure** (下年度预算控制数) — this year's moved by
  the ruleset's ``control_figure_rates`` for the grade, or by finance's own rate with a reason (an override) —
  recorded as an event of its own (:class:`OverallGoals.ControlFigureAdjusted`), which a budget system follows. A
  unit's control figure is its department's to set: results are not applied to a unit (its evaluation informs its
  department's).
- Goals under evaluation (self-evaluated, or an evaluation commissioned) are no longer adjusted, and an evaluation
  starts only on settled goals (none pending adjustment).
- **The self-evaluation is watched** (:meth:`OverallGoals.raise_deadline_notices`): approved goals owe it by the
  ruleset's ``overall_self_evaluation_due`` of the fiscal year (the ruleset in force while it is owed, as a project's
  self-evaluation); the scheduler records an approaching notice and a missed one, once each, until it is made. So
  are the steps of an agency's evaluation under 两审一督导, each by the day recorded when it was opened.

Over 500 lines: one organisation's year — goals, review, adjustment, evaluation, results — is one state machine,
whose transitions are the commands below, each beside the checks that guard it; cut in two, a reader would follow
one year through two files.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.domain import deadlines, engagement, rules
from ledger.domain.base import LedgerAggregate, keyed_id, preparation_opens, require_not_before
from ledger.domain.deadlines import Deadline
from ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from ledger.domain.notices import ApproachingNotice, MissedNotice
from ledger.domain.organisations import ASSESSMENT_DIMENSIONS
from ledger.domain.rules.goals import check_measure, check_weight
from ledger.domain.values import HUNDRED, Attribution, Grade, Indicator, Principal, enum_value

DIMENSION_LABELS: dict[str, str] = {
    "running_cost": "运行成本",
    "management_efficiency": "管理效率",
    "duty_performance": "履职效能",
    "social_effect": "社会效应",
    "sustainability": "可持续发展能力",
    "satisfaction": "服务对象满意度",
}


SELF_EVALUATION = "overall_self_evaluation"  # the deadline's kind in notices (整体绩效自评)


class OrganisationKind(StrEnum):
    DEPARTMENT = "department"  # 部门
    UNIT = "unit"  # 预算单位


class GoalsStatus(StrEnum):
    SUBMITTED = "submitted"  # 已申报, awaiting review
    APPROVED = "approved"  # 优/良
    RETURNED = "returned"  # 中: revise and submit again
    REFUSED = "refused"  # 差: submit afresh


def overall_goals_id(organisation: str, fiscal_year: int) -> UUID:
    """The id of ``organisation``'s overall goals for ``fiscal_year`` (from its name's key: a unit's name is never a
    department's, so the name alone says whose)."""
    return keyed_id("overall-goals", organisation, fiscal_year)


def validate_overall_goals(indicators: Sequence[Indicator]) -> None:
    """Refuse malformed overall goals: each indicator's shape, unique keys, the six dimensions all present, weights
    adding up to 100."""
    if not indicators:
        raise InvalidInput("overall goals need at least one indicator", code="invalid-indicator", field="indicators")
    seen: set[str] = set()
    total = Decimal(0)
    for i, indicator in enumerate(indicators):
        field = f"indicators[{i}]"
        check_measure(indicator, field)
        if indicator.level1 not in ASSESSMENT_DIMENSIONS:
            raise InvalidInput(
                f"{field}.level1 must be one of {', '.join(ASSESSMENT_DIMENSIONS)}: {indicator.level1!r}",
                code="invalid-indicator",
                field=f"{field}.level1",
            )
        if not isinstance(indicator.level2, str) or not indicator.level2.strip():
            raise InvalidInput(f"{field}.level2 is required", code="invalid-indicator", field=f"{field}.level2")
        if indicator.key in seen:
            raise InvalidInput(
                f"{field}.key {indicator.key!r} appears twice", code="invalid-indicator", field=f"{field}.key"
            )
        seen.add(indicator.key)
        total += check_weight(indicator.weight, field)
    missing = [name for name in ASSESSMENT_DIMENSIONS if name not in {i.level1 for i in indicators}]
    if missing:
        labels = "、".join(DIMENSION_LABELS[name] for name in missing)
        raise InvalidInput(
            f"整体绩效目标缺少维度 {labels}: overall goals must cover every dimension (missing {', '.join(missing)})",
            code="invalid-indicator",
            field="indicators",
        )
    if total != HUNDRED:
        raise InvalidInput(f"indicator weights sum to {total}, not 100", code="invalid-weights", field="indicators")


def budget_gate(
    department: str,
    fiscal_year: int,
    amount: Decimal,
    goals: OverallGoals | None,
    params: rules.RuleParameters,
    ruleset_version: int,
) -> dict[str, Any]:
    """What a project's budget approval checks of its department's overall goals, as the approval records it:
    whether the year requires them (its coverage target, the threshold), their status and the version read."""
    target = rules.overall_goals_target(fiscal_year, params)
    threshold = params.overall_goals_budget_threshold
    return {
        "department": department,
        "fiscal_year": fiscal_year,
        "coverage_target": str(target),
        "threshold": str(threshold),
        "ruleset_version": ruleset_version,
        "required": target >= HUNDRED and amount > threshold,
        "status": None if goals is None else goals.status,
        "version": None if goals is None else goals.version,
    }


def require_overall_goals(fact: dict[str, Any] | None) -> None:
    """Refuse a budget approval whose recorded check found the department's overall goals required and not
    approved (None: the application checked nothing, as before the gate)."""
    if fact is None or not fact["required"] or fact["status"] == GoalsStatus.APPROVED:
        return
    status = fact["status"] or "none submitted"
    raise RuleViolation(
        f"{fact['department']} 的 {fact['fiscal_year']} 年整体绩效目标未审核通过（{status}），"
        f"覆盖面目标 {fact['coverage_target']}%: no approved overall goals, no budget above {fact['threshold']}",
        code="overall-goals-not-approved",
    )


class OverallGoals(LedgerAggregate):
    """One organisation's overall goals (整体绩效目标) for one fiscal year and their review."""

    TOPIC_MODULE = "ledger.overall"

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        organisation: str  # as registered
        kind: str  # OrganisationKind
        department: str  # the organisation itself, or the unit's department
        fiscal_year: int
        indicators: list[Indicator]
        status: str  # GoalsStatus
        rating: str | None
        review_notes: str
        submissions: int
        submitted_on: date  # the latest submission's day: nothing of the record is dated before it
        adjustments: list[dict[str, Any]]
        self_evaluation: dict[str, Any] | None  # 整体绩效自评
        evaluations: list[dict[str, Any]]  # 财政评价, by finance or a commissioned agency, numbered from 1
        results: dict[str, Any] | None  # 结果应用
        control_figure: dict[str, Any] | None  # 下年度控制数调整
        deadline_notices: dict[str, dict[str, Any]]  # the scheduler's notices on the self-evaluation owed

    class Submitted(LedgerAggregate.Created):
        """整体绩效目标申报: the first submission of the year."""

        organisation: str
        kind: str
        department: str
        fiscal_year: int
        indicators: list[Indicator]
        ruleset_version: int

        def apply(self, goals: OverallGoals) -> None:
            goals.organisation = self.organisation
            goals.kind = self.kind
            goals.department = self.department
            goals.fiscal_year = self.fiscal_year
            goals.indicators = list(self.indicators)
            goals.status = GoalsStatus.SUBMITTED.value
            goals.rating = None
            goals.review_notes = ""
            goals.submissions = 1
            goals.submitted_on = self.effective_on
            goals.adjustments = []
            goals.self_evaluation = None
            goals.evaluations = []
            goals.results = None
            goals.control_figure = None
            goals.deadline_notices = {}

    class Resubmitted(LedgerAggregate.Event):
        """Submitted again: revised before review, after 中, or afresh after 差."""

        indicators: list[Indicator]
        ruleset_version: int

        def apply(self, goals: OverallGoals) -> None:
            goals.indicators = list(self.indicators)
            goals.status = GoalsStatus.SUBMITTED.value
            goals.rating = None
            goals.submissions += 1
            goals.submitted_on = self.effective_on

    class Reviewed(LedgerAggregate.Event):
        """整体绩效目标审核 by finance: 优/良 approved, 中 returned, 差 refused."""

        rating: str
        required_fixes: str

        def apply(self, goals: OverallGoals) -> None:
            goals.rating = self.rating
            goals.review_notes = self.required_fixes
            goals.status = _STATUS_OF[Grade(self.rating)].value

    class AdjustmentRequested(LedgerAggregate.Event):
        """整体绩效目标调整申请, with the indicators asked for."""

        adjustment_no: int
        indicators: list[Indicator]

        def apply(self, goals: OverallGoals) -> None:
            goals.adjustments.append(
                {
                    "no": self.adjustment_no,
                    "indicators": list(self.indicators),
                    "reason": self.reason,
                    "status": "pending",
                    "requested_on": self.effective_on,
                }
            )

    class AdjustmentApproved(LedgerAggregate.Event):
        adjustment_no: int

        def apply(self, goals: OverallGoals) -> None:
            adjustment = goals.adjustments[self.adjustment_no - 1]
            adjustment.update(status="approved", decided_on=self.effective_on)
            goals.indicators = list(adjustment["indicators"])

    class AdjustmentRejected(LedgerAggregate.Event):
        adjustment_no: int

        def apply(self, goals: OverallGoals) -> None:
            goals.adjustments[self.adjustment_no - 1].update(status="rejected", decided_on=self.effective_on)

    class SelfEvaluated(LedgerAggregate.Event):
        """整体绩效自评: the actuals, each indicator's score, the total and grade the ledger computed, the ruleset."""

        actuals: dict[str, Decimal | str]
        indicator_scores: dict[str, Decimal]
        total: Decimal
        grade: str
        ruleset_version: int

        def apply(self, goals: OverallGoals) -> None:
            goals.self_evaluation = {
                "actuals": dict(self.actuals),
                "indicator_scores": dict(self.indicator_scores),
                "total": self.total,
                "grade": self.grade,
                "ruleset_version": self.ruleset_version,
                "evaluated_on": self.effective_on,
            }

    class EvaluationCommissioned(LedgerAggregate.Event):
        """整体绩效评价 commissioned by finance: to an agency, or done by finance itself (no agency). ``procedure``:
        ``two_reviews_one_supervision`` for an agency's under 两审一督导 in full, with ``plan_due`` the day its plan is
        due (:mod:`ledger.domain.engagement`); None for finance's own, and in a commission stored before (version 2),
        which keeps the two reviews it was commissioned under."""

        evaluation_no: int
        agency_id: str | None
        agency_name: str | None
        procedure: str | None
        plan_due: date | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["procedure"] = None
            state["plan_due"] = None

        def apply(self, goals: OverallGoals) -> None:
            evaluation = engagement.commissioned(
                self.agency_id, self.agency_name, self.effective_on, self.procedure, self.plan_due
            )
            goals.evaluations.append({"no": self.evaluation_no, **evaluation})

    class EvaluationPlanSubmitted(LedgerAggregate.Event):
        """两审一督导: the agency submits its evaluation plan (评价方案), for finance to review by ``review_due``."""

        evaluation_no: int
        review_due: date

        def apply(self, goals: OverallGoals) -> None:
            engagement.plan_submitted(goals.evaluations[self.evaluation_no - 1], self.review_due)

    class EvaluationPlanReviewed(LedgerAggregate.Event):
        """两审一督导: the plan review. Under the full procedure (version 2) it records what falls due next: once
        approved, the supervision and the report; once rejected, a new plan. None in a review stored before, and for
        finance's own evaluation."""

        evaluation_no: int
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

        def apply(self, goals: OverallGoals) -> None:
            engagement.plan_reviewed(
                goals.evaluations[self.evaluation_no - 1],
                self.approved,
                self.plan_due,
                self.supervision_due,
                self.report_due,
            )

    class EvaluationReportSubmitted(LedgerAggregate.Event):
        """两审一督导: the agency submits its evaluation report (评价报告), for finance to review by ``review_due``."""

        evaluation_no: int
        review_due: date

        def apply(self, goals: OverallGoals) -> None:
            engagement.report_submitted(goals.evaluations[self.evaluation_no - 1], self.review_due)

    class EvaluationReportReviewed(LedgerAggregate.Event):
        """两审一督导: the report review. Under the full procedure (version 2), once rejected, a new report is due by
        ``report_due`` (None otherwise, and in a review stored before)."""

        evaluation_no: int
        approved: bool
        report_due: date | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["report_due"] = None

        def apply(self, goals: OverallGoals) -> None:
            engagement.report_reviewed(goals.evaluations[self.evaluation_no - 1], self.approved, self.report_due)

    class EvaluationSupervisionNoted(LedgerAggregate.Event):
        """两审一督导: supervision notes (as recorded before supervisions had findings to answer)."""

        evaluation_no: int
        notes: str

        def apply(self, goals: OverallGoals) -> None:
            goals.evaluations[self.evaluation_no - 1]["supervision"].append(self.notes)

    class EvaluationSupervised(LedgerAggregate.Event):
        """两审一督导: finance's supervision (督导), numbered, with what it saw (``notes``) and its findings (督导意见),
        which the agency answers by ``answer_due``."""

        evaluation_no: int
        supervision_no: int
        notes: str
        findings: list[str]
        answer_due: date | None

        def apply(self, goals: OverallGoals) -> None:
            engagement.supervised(
                goals.evaluations[self.evaluation_no - 1],
                self.supervision_no,
                self.notes,
                self.findings,
                self.effective_on,
                self.answer_due,
            )

    class EvaluationSupervisionAnswered(LedgerAggregate.Event):
        """两审一督导: the agency's answer to a supervision's findings (督导意见回复)."""

        evaluation_no: int
        supervision_no: int
        answer: str

        def apply(self, goals: OverallGoals) -> None:
            engagement.answered(
                goals.evaluations[self.evaluation_no - 1], self.supervision_no, self.answer, self.effective_on
            )

    class EvaluationVoided(LedgerAggregate.Event):
        """作废: the agency was blacklisted (``blacklisting_no``) and the misconduct cited names this evaluation, or
        it had not finished it. A voided score is no basis for results; the year needs a new evaluation."""

        evaluation_no: int
        agency_name: str
        blacklisting_no: int
        was_scored: bool

        def apply(self, goals: OverallGoals) -> None:
            engagement.voided(
                goals.evaluations[self.evaluation_no - 1],
                self.effective_on,
                self.blacklisting_no,
                self.was_scored,
                self.originator_version,
            )

    class EvaluationScored(LedgerAggregate.Event):
        """The evaluation's score: the six dimensions, the total, grade and 自评虚高 flag, the ruleset."""

        evaluation_no: int
        scores: dict[str, Decimal]
        total: Decimal
        grade: str
        inflated: bool
        ruleset_version: int

        def apply(self, goals: OverallGoals) -> None:
            goals.evaluations[self.evaluation_no - 1]["score"] = {
                "scores": dict(self.scores),
                "total": self.total,
                "grade": self.grade,
                "inflated": self.inflated,
                "ruleset_version": self.ruleset_version,
                "scored_on": self.effective_on,
                "scored_at_version": self.originator_version,
            }

    class ResultsApplied(LedgerAggregate.Event):
        """整体绩效结果应用 by finance: on what (the self-evaluation, or evaluation ``evaluation_no``), its grade and
        total, and what it decides of the next control figure (increase, maintain, reduce)."""

        basis: str
        evaluation_no: int | None
        grade: str
        total: Decimal
        decision: str
        ruleset_version: int

        def apply(self, goals: OverallGoals) -> None:
            goals.results = {
                "basis": self.basis,
                "evaluation_no": self.evaluation_no,
                "grade": self.grade,
                "total": self.total,
                "decision": self.decision,
                "ruleset_version": self.ruleset_version,
                "applied_on": self.effective_on,
            }

    class ControlFigureAdjusted(LedgerAggregate.Event):
        """下年度预算控制数调整: this year's control figure, the rate the ruleset gives the grade and the rate applied
        (finance's own where it overrode, with the reason), the amount and next year's figure."""

        next_fiscal_year: int
        control_figure: Decimal
        default_rate: Decimal
        rate: Decimal
        amount: Decimal
        next_control_figure: Decimal
        override: bool
        ruleset_version: int

        def apply(self, goals: OverallGoals) -> None:
            goals.control_figure = {
                "next_fiscal_year": self.next_fiscal_year,
                "control_figure": self.control_figure,
                "default_rate": self.default_rate,
                "rate": self.rate,
                "amount": self.amount,
                "next_control_figure": self.next_control_figure,
                "override": self.override,
                "ruleset_version": self.ruleset_version,
            }

    class DeadlineApproaching(ApproachingNotice):
        """临期提醒 of the overall self-evaluation or a step of an agency's evaluation (raised by the scheduler)."""

    class DeadlineMissed(MissedNotice):
        """逾期: the overall self-evaluation or a step of an agency's evaluation was not made by its due date (raised
        by the scheduler)."""

    @classmethod
    def submit(
        cls,
        organisation: str,
        kind: OrganisationKind,
        department: str,
        fiscal_year: int,
        indicators: list[Indicator],
        ruleset_version: int,
        by: Attribution,
    ) -> OverallGoals:
        """The first submission: dated not before the year's preparation opened."""
        validate_overall_goals(indicators)
        require_not_before(by.effective_on, preparation_opens(fiscal_year), f"the preparation of {fiscal_year} opened")
        return cls._create(
            cls.Submitted,
            id=overall_goals_id(organisation, fiscal_year),
            **by.event_fields(),
            organisation=organisation,
            kind=kind.value,
            department=department,
            fiscal_year=fiscal_year,
            indicators=list(indicators),
            ruleset_version=ruleset_version,
        )

    def record(self, event_class: type[Any], by: Attribution, **kwargs: Any) -> None:
        require_not_before(by.effective_on, self.submitted_on, "the overall goals were last submitted")
        super().record(event_class, by, **kwargs)

    @property
    def approved(self) -> bool:
        return self.status == GoalsStatus.APPROVED

    @property
    def pending_adjustment(self) -> dict[str, Any] | None:
        return next((item for item in self.adjustments if item["status"] == "pending"), None)

    def resubmit(self, indicators: list[Indicator], ruleset_version: int, by: Attribution) -> None:
        if self.status == GoalsStatus.APPROVED:
            raise RuleViolation(
                f"the {self.fiscal_year} overall goals of {self.organisation} are approved: request an adjustment",
                code="overall-goals-approved",
            )
        validate_overall_goals(indicators)
        self.record(self.Resubmitted, by, indicators=list(indicators), ruleset_version=ruleset_version)

    def review(self, rating: str, required_fixes: str, by: Attribution) -> None:
        if self.status != GoalsStatus.SUBMITTED:
            raise RuleViolation(
                f"the {self.fiscal_year} overall goals of {self.organisation} are {self.status}, not awaiting review",
                code="overall-goals-not-submitted",
            )
        grade = enum_value(Grade, rating, "rating")
        if grade in (Grade.FAIR, Grade.POOR) and not (by.reason.strip() or required_fixes.strip()):
            raise InvalidInput("a rating of 中 or 差 must give the reason", code="reason-required", field="reason")
        self.record(self.Reviewed, by, rating=grade.value, required_fixes=required_fixes)

    def request_adjustment(self, indicators: list[Indicator], by: Attribution) -> int:
        if self.status != GoalsStatus.APPROVED:
            raise RuleViolation(
                f"the {self.fiscal_year} overall goals of {self.organisation} are not approved: nothing to adjust",
                code="overall-goals-not-approved",
            )
        if self.under_evaluation:
            raise RuleViolation(
                f"the {self.fiscal_year} overall goals of {self.organisation} are being evaluated: they are no longer "
                "adjusted",
                code="overall-goals-evaluated",
            )
        if not by.reason.strip():
            raise InvalidInput("a goal adjustment must give the reason", code="reason-required", field="reason")
        if self.pending_adjustment is not None:
            raise RuleViolation("a goal adjustment is already awaiting finance's decision", code="adjustment-pending")
        validate_overall_goals(indicators)
        number = len(self.adjustments) + 1
        self.record(self.AdjustmentRequested, by, adjustment_no=number, indicators=list(indicators))
        return number

    def decide_adjustment(self, number: int, approve: bool, by: Attribution) -> None:
        if not 1 <= number <= len(self.adjustments):
            raise InvalidInput(f"no goal adjustment {number}", field="adjustment_no")
        adjustment = self.adjustments[number - 1]
        require_not_before(by.effective_on, adjustment["requested_on"], f"goal adjustment {number} was requested")
        if adjustment["status"] != "pending":
            raise RuleViolation(f"goal adjustment {number} is already decided", code="already-decided")
        if not approve and not by.reason.strip():
            raise InvalidInput("a rejection must give the reason", code="reason-required", field="reason")
        self.record(self.AdjustmentApproved if approve else self.AdjustmentRejected, by, adjustment_no=number)

    # ------------------------------------------------------------ the evaluation (整体绩效评价)

    @property
    def under_evaluation(self) -> bool:
        """Self-evaluated, or an evaluation commissioned: the goals evaluated are the goals as they stand."""
        return self.self_evaluation is not None or bool(self.evaluations)

    def _require_settled(self, action: str, by: Attribution) -> None:
        """The year's evaluation starts on approved goals with no adjustment pending, from 1 December of the fiscal
        year (its last month, as a project's self-evaluation) to the end of the year after the next, and not before
        the latest adjustment was decided (what is evaluated are the goals as they then stood)."""
        if self.status != GoalsStatus.APPROVED:
            raise RuleViolation(
                f"the {self.fiscal_year} overall goals of {self.organisation} are not approved: cannot {action}",
                code="overall-goals-not-approved",
            )
        if self.pending_adjustment is not None:
            raise RuleViolation(
                f"an adjustment of the goals awaits finance's decision: cannot {action}", code="adjustment-pending"
            )
        first, last = date(self.fiscal_year, 12, 1), date(self.fiscal_year + 2, 12, 31)
        if not first <= by.effective_on <= last:
            raise InvalidInput(
                f"effective_on {by.effective_on} is outside {first} to {last}: the {self.fiscal_year} overall "
                "performance is evaluated from the year's last month",
                code="invalid-date",
                field="effective_on",
            )
        for adjustment in self.adjustments:
            require_not_before(
                by.effective_on, adjustment.get("decided_on"), f"adjustment {adjustment['no']} was decided"
            )

    def self_evaluate(
        self, actuals: Mapping[str, Decimal | str], params: rules.RuleParameters, ruleset_version: int, by: Attribution
    ) -> rules.OverallSelfEvaluationScore:
        """整体绩效自评, once: the ledger scores every indicator of the goals against its actual value."""
        if self.self_evaluation is not None:
            raise RuleViolation(
                f"the {self.fiscal_year} overall self-evaluation of {self.organisation} is already recorded",
                code="already-decided",
            )
        self._require_settled("self-evaluate", by)
        result = rules.overall_self_evaluation_score(self.indicators, actuals, params)
        self.record(
            self.SelfEvaluated,
            by,
            actuals=dict(actuals),
            indicator_scores={item.key: item.score for item in result.indicator_scores},
            total=result.total,
            grade=result.grade,
            ruleset_version=ruleset_version,
        )
        return result

    def evaluation(self, number: int) -> dict[str, Any]:
        """Evaluation ``number`` (1, 2, …), or NotFound ``overall-evaluation-not-found``."""
        if not 1 <= number <= len(self.evaluations):
            raise NotFound(
                f"no overall evaluation {number} of {self.organisation} in {self.fiscal_year}",
                code="overall-evaluation-not-found",
            )
        return self.evaluations[number - 1]

    def commission_evaluation(
        self,
        agency_id: str | None,
        agency_name: str | None,
        by: Attribution,
        params: rules.RuleParameters | None = None,
    ) -> int:
        """整体绩效评价 commissioned by finance (to an agency, or done by itself: no agency) before results are
        applied — or after, where a voided evaluation is to be replaced; returns its number. An agency's runs under
        两审一督导 in full (``params`` sets when its plan is due); finance's own keeps the two reviews only."""
        if self.results is not None and not self.needs_new_evaluation:
            raise RuleViolation(
                f"the {self.fiscal_year} overall results of {self.organisation} are applied: no more evaluation",
                code="already-decided",
            )
        self._require_settled("commission an evaluation", by)
        number = len(self.evaluations) + 1
        procedure, plan_due = engagement.plan_due(agency_id, params, by.effective_on)
        self.record(
            self.EvaluationCommissioned,
            by,
            evaluation_no=number,
            agency_id=agency_id,
            agency_name=agency_name,
            procedure=procedure,
            plan_due=plan_due,
        )
        return number

    def _commissioned(self, number: int, by: Attribution) -> dict[str, Any]:
        """The evaluation a later step acts on: not voided, the step dated no earlier than the commission."""
        evaluation = self.evaluation(number)
        engagement.require_not_voided(evaluation, f"overall evaluation {number}")
        require_not_before(
            by.effective_on, evaluation["commissioned_on"], f"overall evaluation {number} was commissioned"
        )
        return evaluation

    def _full_procedure(self, number: int, by: Attribution) -> dict[str, Any]:
        """An agency's evaluation under 两审一督导 in full (a step only it has: 409 ``overall-evaluation-two-reviews``
        otherwise)."""
        evaluation = self._commissioned(number, by)
        engagement.require_full(evaluation, f"overall evaluation {number}", "overall-evaluation-two-reviews")
        return evaluation

    def submit_evaluation_plan(self, number: int, params: rules.RuleParameters, by: Attribution) -> None:
        """The agency submits its evaluation plan (评价方案), for finance to review within the ruleset's days."""
        evaluation = self._full_procedure(number, by)
        review_due = engagement.plan_submission(evaluation, params, by.effective_on)
        self.record(self.EvaluationPlanSubmitted, by, evaluation_no=number, review_due=review_due)

    def review_evaluation_plan(
        self, number: int, approved: bool, by: Attribution, params: rules.RuleParameters | None = None
    ) -> None:
        """两审, the first: the evaluation plan, until the report is reviewed — under the full procedure the one the
        agency submitted, a rejection with its reason (a new plan then falls due)."""
        evaluation = self._commissioned(number, by)
        dues = engagement.plan_review(evaluation, approved, by, params)
        self.record(self.EvaluationPlanReviewed, by, evaluation_no=number, approved=approved, **dues)

    def supervise_evaluation(
        self,
        number: int,
        notes: str,
        findings: list[str],
        by: Attribution,
        params: rules.RuleParameters | None = None,
    ) -> int:
        """一督导: what finance saw (``notes``) and its findings (督导意见), which the agency answers within the
        ruleset's days; under the full procedure once the plan is approved, until the report is, with at least one
        finding. Returns the supervision's number. The notes say what was seen: no reason recorded besides them."""
        evaluation = self._commissioned(number, by)
        supervision_no, answer_due = engagement.supervision(evaluation, notes, findings, by.effective_on, params)
        self.record(
            self.EvaluationSupervised,
            replace(by, reason=""),
            evaluation_no=number,
            supervision_no=supervision_no,
            notes=notes,
            findings=list(findings),
            answer_due=answer_due,
        )
        return supervision_no

    def note_evaluation_supervision(self, number: int, notes: str, by: Attribution) -> None:
        """一督导 without findings: finance's notes on how an evaluation outside the full procedure is done."""
        self.supervise_evaluation(number, notes, [], by)

    def answer_evaluation_supervision(self, number: int, supervision_no: int, answer: str, by: Attribution) -> None:
        """The agency answers a supervision's findings (督导意见回复), once."""
        evaluation = self._full_procedure(number, by)
        engagement.answer(evaluation, supervision_no, answer, by.effective_on, f"overall evaluation {number}")
        self.record(
            self.EvaluationSupervisionAnswered,
            replace(by, reason=""),
            evaluation_no=number,
            supervision_no=supervision_no,
            answer=answer,
        )

    def submit_evaluation_report(self, number: int, params: rules.RuleParameters, by: Attribution) -> None:
        """The agency submits its evaluation report (评价报告): after its plan was approved, supervised at least once
        with every finding answered."""
        evaluation = self._full_procedure(number, by)
        review_due = engagement.report_submission(evaluation, params, by.effective_on)
        self.record(self.EvaluationReportSubmitted, by, evaluation_no=number, review_due=review_due)

    def review_evaluation_report(
        self, number: int, approved: bool, by: Attribution, params: rules.RuleParameters | None = None
    ) -> None:
        """两审, the second: the report, once the plan is approved and until the evaluation is scored — under the
        full procedure the one the agency submitted, supervised with every finding answered, a rejection with its
        reason (a new report then falls due)."""
        evaluation = self._commissioned(number, by)
        report_due = engagement.report_review(evaluation, approved, by, params)
        self.record(self.EvaluationReportReviewed, by, evaluation_no=number, approved=approved, report_due=report_due)

    def score_evaluation(
        self,
        number: int,
        scores: Mapping[str, Decimal],
        params: rules.RuleParameters,
        ruleset_version: int,
        by: Attribution,
    ) -> Decimal:
        """The evaluation's score, once, accepted only after both reviews approved (两审) and, under the full
        procedure, a supervision answered (一督导): the six dimensions within the ruleset's weights; 自评虚高 flagged
        against the self-evaluation recorded by then."""
        evaluation = self._commissioned(number, by)
        engagement.require_scorable(
            evaluation, "an overall evaluation's score is accepted only after the plan and report reviews (两审)"
        )
        total = rules.overall_evaluation_total(scores, params)
        own = self.self_evaluation
        self.record(
            self.EvaluationScored,
            by,
            evaluation_no=number,
            scores=dict(scores),
            total=total,
            grade=rules.grade(total, params),
            inflated=own is not None and rules.is_inflated(own["total"], total, params),
            ruleset_version=ruleset_version,
        )
        return total

    def void_evaluation(self, number: int, agency_name: str, blacklisting_no: int, by: Attribution) -> bool:
        """作废 on a blacklisting: the evaluation, scored or not, stands no more. False where it is voided already.
        Not dated before the commission (422 ``effective-date-too-early``): a blacklisting dated back before it
        would void what was commissioned in good faith on a day the agency was not listed."""
        evaluation = self.evaluation(number)
        if evaluation.get("voided") is not None:
            return False
        require_not_before(
            by.effective_on, evaluation.get("commissioned_on"), f"overall evaluation {number} was commissioned"
        )
        self.record(
            self.EvaluationVoided,
            by,
            evaluation_no=number,
            agency_name=agency_name,
            blacklisting_no=blacklisting_no,
            was_scored=evaluation["score"] is not None,
        )
        return True

    def unfinished_or_named(self, agency_id: str, named: Collection[int]) -> list[int]:
        """The evaluations (by number) a blacklisting of the agency ``agency_id`` voids: those it had not finished,
        and those scored that the misconduct cited names (``named``)."""
        return engagement.unfinished_or_named({item["no"]: item for item in self.evaluations}, agency_id, named)

    @property
    def needs_new_evaluation(self) -> bool:
        """An evaluation voided and none scored since (not voided) to replace it."""
        voided: list[int] = [item["voided"]["at_version"] for item in self.evaluations if item.get("voided")]
        if not voided:
            return False
        replaced: list[int] = [
            item["score"]["scored_at_version"]
            for item in self.evaluations
            if item["score"] is not None and item.get("voided") is None
        ]
        return max(replaced, default=0) < max(voided)

    def result_basis(self) -> dict[str, Any] | None:
        """What results are applied on: the evaluation scored last (by finance or an agency; never a voided one), else
        the self-evaluation — its kind (``evaluation`` or ``self_evaluation``), number, grade, total and date."""
        scored = [item for item in self.evaluations if item["score"] is not None and item.get("voided") is None]
        if scored:
            latest = max(scored, key=lambda item: item["score"]["scored_at_version"])
            score = latest["score"]
            return {
                "basis": "evaluation",
                "evaluation_no": latest["no"],
                "grade": score["grade"],
                "total": score["total"],
                "on": score["scored_on"],
            }
        if self.self_evaluation is not None:
            own = self.self_evaluation
            return {
                "basis": "self_evaluation",
                "evaluation_no": None,
                "grade": own["grade"],
                "total": own["total"],
                "on": own["evaluated_on"],
            }
        return None

    def apply_results(
        self,
        control_figure: Decimal,
        rate: Decimal | None,
        params: rules.RuleParameters,
        ruleset_version: int,
        by: Attribution,
    ) -> rules.ControlFigureAdjustment:
        """结果应用 to a department, once: its next control figure moved from this year's (``control_figure``) by the
        ruleset's rate for the grade — or by ``rate``, finance's override, with a reason."""
        if self.kind != OrganisationKind.DEPARTMENT:
            raise RuleViolation(
                f"{self.organisation} is a budget unit: results are applied to its department, whose control figure "
                "it is",
                code="overall-results-unit",
            )
        if self.results is not None:
            raise RuleViolation(
                f"the {self.fiscal_year} overall results of {self.organisation} are already applied",
                code="already-decided",
            )
        still_open = [str(item["no"]) for item in self.evaluations if engagement.is_unfinished(item)]
        if still_open:
            raise RuleViolation(
                f"overall evaluations {', '.join(still_open)} are not scored yet", code="overall-evaluation-open"
            )
        if self.needs_new_evaluation:
            raise RuleViolation(
                f"an overall evaluation of {self.organisation} was voided: a new one must be scored first",
                code="new-evaluation-required",
            )
        basis = self.result_basis()
        if basis is None:
            raise RuleViolation(
                f"the {self.fiscal_year} overall performance of {self.organisation} is not evaluated: no results",
                code="no-results",
            )
        require_not_before(by.effective_on, basis["on"], "the evaluation results are applied on was recorded")
        default = rules.control_figure_rate(basis["grade"], params)
        override = rate is not None
        if rate is not None:
            rate = rules.adjustment_rate(rate)
            if rate == default:
                raise RuleViolation(
                    f"the rate {rate} is the ruleset's for {basis['grade']}: nothing to override",
                    code="control-figure-override-not-needed",
                )
            if not by.reason.strip():
                raise InvalidInput(
                    f"departing from the ruleset's rate ({default}) for {basis['grade']} needs a reason",
                    code="reason-required",
                    field="reason",
                )
        adjustment = rules.adjust_control_figure(control_figure, default if rate is None else rate)
        self.record(
            self.ResultsApplied,
            by,
            basis=basis["basis"],
            evaluation_no=basis["evaluation_no"],
            grade=basis["grade"],
            total=basis["total"],
            decision=adjustment.decision,
            ruleset_version=ruleset_version,
        )
        self.record(
            self.ControlFigureAdjusted,
            by,
            next_fiscal_year=self.fiscal_year + 1,
            control_figure=adjustment.base,
            default_rate=default,
            rate=adjustment.rate,
            amount=adjustment.amount,
            next_control_figure=adjustment.adjusted,
            override=override,
            ruleset_version=ruleset_version,
        )
        return adjustment

    # ------------------------------------------------------------ the scheduler

    def open_deadlines(self, params: rules.RuleParameters) -> list[Deadline]:
        """The obligations not yet met, earliest first. The self-evaluation, while approved goals await it: due on
        the ruleset's ``overall_self_evaluation_due`` of the fiscal year (the ruleset in force: a new one moves it
        while it is owed). The 两审一督导 steps of each agency's evaluation under the full procedure, while it is
        open, each on the day recorded when it was opened (:func:`ledger.domain.deadlines.evaluation_deadlines`:
        the same kinds as a project's key evaluation, ``ref`` the evaluation's number)."""
        found = []
        if self.status == GoalsStatus.APPROVED and self.self_evaluation is None:
            found.append(Deadline(SELF_EVALUATION, 0, rules.overall_self_evaluation_due(self.fiscal_year, params)))
        for evaluation in self.evaluations:
            found += deadlines.evaluation_deadlines(evaluation["no"], evaluation)
        return sorted(found, key=lambda d: (d.due_on, d.kind, d.ref))

    def raise_deadline_notices(self, today: date, params: rules.RuleParameters, principal: Principal) -> list[Deadline]:
        """Record, once each, an open obligation's approaching notice (from ``deadline_warning_days`` before its due
        date) and its missed notice (after it); return the deadlines noticed."""
        due = deadlines.notices_due(
            self.open_deadlines(params), self.deadline_notices, today, params.deadline_warning_days
        )
        for notice in due:
            self.record(
                self.DeadlineMissed if notice.missed else self.DeadlineApproaching,
                Attribution(principal, notice.effective_on, notice.reason),
                deadline=notice.deadline.kind,
                ref=notice.deadline.ref,
                due_on=notice.deadline.due_on,
            )
        return [notice.deadline for notice in due]

    def next_deadline_notice(self, params: rules.RuleParameters) -> date | None:
        """The first day a notice could fall due, unless something is recorded before."""
        return deadlines.next_notice_day(
            self.open_deadlines(params), self.deadline_notices, params.deadline_warning_days
        )


_STATUS_OF = {
    Grade.EXCELLENT: GoalsStatus.APPROVED,
    Grade.GOOD: GoalsStatus.APPROVED,
    Grade.FAIR: GoalsStatus.RETURNED,
    Grade.POOR: GoalsStatus.REFUSED,
}
