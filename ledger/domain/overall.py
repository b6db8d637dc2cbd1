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
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate, keyed_id, preparation_opens, require_not_before
from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.organisations import ASSESSMENT_DIMENSIONS
from ledger.domain.rules.goals import check_measure, check_weight
from ledger.domain.values import HUNDRED, Attribution, Grade, Indicator, enum_value

DIMENSION_LABELS: dict[str, str] = {
    "running_cost": "运行成本",
    "management_efficiency": "管理效率",
    "duty_performance": "履职效能",
    "social_effect": "社会效应",
    "sustainability": "可持续发展能力",
    "satisfaction": "服务对象满意度",
}


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
            adjustment["status"] = "approved"
            goals.indicators = list(adjustment["indicators"])

    class AdjustmentRejected(LedgerAggregate.Event):
        adjustment_no: int

        def apply(self, goals: OverallGoals) -> None:
            goals.adjustments[self.adjustment_no - 1]["status"] = "rejected"

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


_STATUS_OF = {
    Grade.EXCELLENT: GoalsStatus.APPROVED,
    Grade.GOOD: GoalsStatus.APPROVED,
    Grade.FAIR: GoalsStatus.RETURNED,
    Grade.POOR: GoalsStatus.REFUSED,
}
