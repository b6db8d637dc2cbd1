"""Overall goals (整体绩效目标): a department's or a budget unit's indicators for a fiscal year, their review and
adjustment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from api.labels import Coded, Labelled
from api.schemas.common import CommandBody, LongText, Money, Points, ShortText, Strict, with_examples
from ledger.domain.values import Grade, Indicator, Operator, Qualitative


class Dimension(StrEnum):
    """The six dimensions of overall goals (the plan's 从…等方面)."""

    RUNNING_COST = "running_cost"  # 运行成本
    MANAGEMENT_EFFICIENCY = "management_efficiency"  # 管理效率
    DUTY_PERFORMANCE = "duty_performance"  # 履职效能
    SOCIAL_EFFECT = "social_effect"  # 社会效应
    SUSTAINABILITY = "sustainability"  # 可持续发展能力
    SATISFACTION = "satisfaction"  # 服务对象满意度


class OverallIndicatorIn(Strict):
    """An overall-goals indicator: a project indicator's shape, its level 1 one of the six dimensions."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Unique within the goals, stable across revisions"
    )
    level1: Dimension
    level2: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="The organisation's own second level under the dimension"
    )
    name: ShortText
    operator: Operator
    target: Decimal | Qualitative = Field(description="A number, or for qualitative one of 好/较好/一般/较差")
    unit: Annotated[str, StringConstraints(max_length=32)] = ""
    weight: Decimal = Field(description="Points of 100; every dimension present, all weights sum to 100")

    def indicator(self) -> Indicator:
        """The indicator as the ledger takes it (a qualitative target as its plain text; no library reference)."""
        return Indicator(
            self.key,
            self.level1.value,
            self.level2,
            self.name,
            self.operator.value,
            self.target if isinstance(self.target, Decimal) else str(self.target),
            self.unit,
            self.weight,
        )


OVERALL_GOALS_EXAMPLE = [
    {"key": "cost", "level1": "running_cost", "level2": "经济成本", "name": "公用经费控制率", "operator": "<=",
     "target": "100", "unit": "%", "weight": "20"},
    {"key": "efficiency", "level1": "management_efficiency", "level2": "预算管理", "name": "预算执行率",
     "operator": ">=", "target": "90", "unit": "%", "weight": "20"},
    {"key": "duty", "level1": "duty_performance", "level2": "重点工作", "name": "义务教育巩固率", "operator": ">=",
     "target": "99", "unit": "%", "weight": "20"},
    {"key": "social", "level1": "social_effect", "level2": "社会效益", "name": "办学条件改善",
     "operator": "qualitative", "target": "较好", "unit": "", "weight": "20"},
    {"key": "sustain", "level1": "sustainability", "level2": "长效机制", "name": "制度建设完善",
     "operator": "qualitative", "target": "好", "unit": "", "weight": "10"},
    {"key": "satisfied", "level1": "satisfaction", "level2": "服务对象", "name": "家长满意度", "operator": ">=",
     "target": "90", "unit": "%", "weight": "10"},
]  # fmt: skip


class OverallGoalsSubmit(CommandBody):
    model_config = with_examples({"indicators": OVERALL_GOALS_EXAMPLE, "effective_on": "2021-10-15"})

    indicators: list[OverallIndicatorIn] = Field(min_length=6, max_length=500)


class OverallGoalsReview(CommandBody):
    model_config = with_examples(
        {"rating": "优", "effective_on": "2021-10-25"},
        {"rating": "中", "required_fixes": "履职效能指标不够细化", "effective_on": "2021-10-25"},
    )

    rating: Grade = Field(description="优/良 approved, 中 returned for revision, 差 refused (submit afresh)")
    required_fixes: LongText = ""


class OverallGoalsAdjustment(CommandBody):
    model_config = with_examples(
        {"indicators": OVERALL_GOALS_EXAMPLE, "reason": "机构职能调整", "effective_on": "2022-03-01"}
    )

    indicators: list[OverallIndicatorIn] = Field(min_length=6, max_length=500)


# ---------------------------------------------------------------------------------------- the evaluation (整体绩效评价)

OVERALL_ACTUALS_EXAMPLE = {
    "cost": "96.5",
    "efficiency": "92.3",
    "duty": "99.2",
    "social": "较好",
    "sustain": "好",
    "satisfied": "91",
}


class OverallSelfEvaluation(CommandBody):
    model_config = with_examples({"actuals": OVERALL_ACTUALS_EXAMPLE, "effective_on": "2023-02-20"})

    actuals: dict[str, Decimal | Qualitative] = Field(
        description="Indicator key → actual value (or 好/较好/一般/较差), for every indicator of the approved goals"
    )


class OverallEvaluationCommission(CommandBody):
    model_config = with_examples(
        {"agency": "某咨询评估有限公司", "effective_on": "2023-03-01"}, {"effective_on": "2023-03-01"}
    )

    agency: ShortText | None = Field(default=None, description="The agency's name; none: finance evaluates itself")


OVERALL_SCORES_EXAMPLE = {
    "running_cost": "13",
    "management_efficiency": "17",
    "duty_performance": "27",
    "social_effect": "13",
    "sustainability": "8",
    "satisfaction": "9",
}


class OverallScores(CommandBody):
    model_config = with_examples({"scores": OVERALL_SCORES_EXAMPLE, "effective_on": "2023-05-10"})

    scores: dict[str, Points] = Field(
        description="运行成本 running_cost, 管理效率 management_efficiency, 履职效能 duty_performance, 社会效应 "
        "social_effect, 可持续发展能力 sustainability, 服务对象满意度 satisfaction — each within the ruleset's "
        "overall_evaluation_weights (by default 15, 20, 30, 15, 10, 10)"
    )


class OverallResultApplication(CommandBody):
    model_config = with_examples(
        {"control_figure": "12000000.00", "effective_on": "2023-06-01"},
        {
            "control_figure": "12000000.00",
            "rate": "-0.02",
            "reason": "承担全市重点任务，酌情少减",
            "effective_on": "2023-06-01",
        },
    )

    control_figure: Money = Field(description="This year's control figure (控制数) of the department, yuan")
    rate: Decimal | None = Field(
        default=None,
        description="Finance's own rate (a share in [-1, 1], to 0.01%: -0.02 is 压减 2%) instead of the ruleset's "
        "control_figure_rates for the grade; the reason is required and recorded with it",
        examples=["-0.02"],
    )


class EvaluationProcedure(Labelled):
    """One evaluation's 两审一督导, as the ``department_overall`` read model follows it."""

    no: int = Field(description="The evaluation's number")
    evaluator: str | None = Field(description="The agency commissioned; null: finance's own evaluation")
    procedure: str | None = Field(
        description="two_reviews_one_supervision: an agency's under 两审一督导 in full; null: the two reviews only "
        "(finance's own, or an agency's commissioned before)"
    )
    step: Annotated[str, Coded("evaluation_step")] = Field(description="What is owed next, or scored, or voided")
    dues: dict[str, date] = Field(
        description="The open steps' due days: plan, plan_review, supervision, answer_<n> (supervision n's), report, "
        "report_review"
    )
    supervisions: int
    answers_open: int = Field(description="Supervisions whose findings the agency has not answered")
    voided_on: date | None = Field(description="作废: the day its agency's blacklisting voided it")
    blacklisting_no: int | None


class OverallRow(Labelled):
    """An organisation's overall performance in a fiscal year (department_overall)."""

    goals_id: UUID = Field(description="The overall-goals record (/objects/{id}/history)")
    organisation: str
    kind: Annotated[str, Coded("organisation_kind")] = Field(description="department or unit")
    department: str = Field(description="The organisation itself, or the unit's department")
    fiscal_year: int
    status: Annotated[str, Coded("goals_status")] = Field(
        description="submitted, approved (优/良), returned (中) or refused (差)"
    )
    rating: str | None
    submissions: int
    submitted_on: date
    reviewed_on: date | None
    adjustments_pending: int
    adjustments_approved: int
    adjustments_rejected: int
    self_score: Decimal | None = Field(description="整体绩效自评, computed by the ledger")
    self_grade: Annotated[str | None, Coded("grade")]
    self_evaluated_on: date | None
    self_evaluation_due: date | None = Field(
        description="Approved goals: the day the self-evaluation is due (overall_self_evaluation_due of the ruleset in "
        "force)"
    )
    self_evaluation_approaching_on: date | None = Field(description="The scheduler's 临期提醒 for that day")
    self_evaluation_missed_on: date | None = Field(description="The scheduler's 逾期 for that day")
    evaluations: int = Field(description="Evaluations commissioned (to an agency, or done by finance itself)")
    evaluations_open: int = Field(description="Commissioned, neither scored nor voided: results wait for them")
    procedures: list[EvaluationProcedure] = Field(description="Each evaluation's 两审一督导, by number")
    evaluation_no: int | None = Field(description="The latest evaluation scored")
    evaluator: str | None = Field(description="Its agency; null: finance's own evaluation (or none scored)")
    evaluation_score: Decimal | None
    evaluation_grade: str | None
    inflated: bool = Field(description="The latest evaluation found the self-evaluation inflated (自评虚高)")
    result_basis: str | None = Field(description="evaluation or self_evaluation")
    result_grade: str | None
    result_decision: Annotated[str | None, Coded("control_figure_decision")] = Field(
        description="increase 调增, maintain 持平 or reduce 压减 the control figure"
    )
    results_applied_on: date | None
    next_fiscal_year: int | None
    control_figure: Decimal | None = Field(description="This year's control figure (控制数)")
    default_rate: Decimal | None = Field(description="The ruleset's rate for the grade")
    control_rate: Decimal | None = Field(description="The rate applied")
    control_amount: Decimal | None
    next_control_figure: Decimal | None = Field(description="Next year's control figure")
    control_override: bool = Field(description="Finance applied its own rate, with a reason")
    control_override_reason: str | None
    position: int = Field(description="The log position of the event that last changed the row")


class OverallCoverageRow(BaseModel):
    """A fiscal year's coverage of overall goals (整体绩效目标覆盖面) and of their evaluation."""

    fiscal_year: int
    departments: int = Field(description="Departments registered")
    units: int = Field(description="Budget units registered")
    departments_submitted: int
    departments_approved: int
    units_submitted: int
    units_approved: int
    department_coverage: Decimal | None = Field(description="% of departments with approved overall goals")
    unit_coverage: Decimal | None = Field(description="% of units with approved overall goals")
    target: Decimal = Field(description="The ruleset's overall_goals_coverage for the year (% of departments)")
    met: bool = Field(description="The departments' share reaches the target and, at a target of 100%, every unit's")
    self_evaluated: int
    evaluated: int = Field(description="Evaluated by finance (or an agency), a score recorded")
    results_applied: int
