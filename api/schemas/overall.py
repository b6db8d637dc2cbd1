"""Overall goals (整体绩效目标): a department's or a budget unit's indicators for a fiscal year, their review and
adjustment."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from api.schemas.common import CommandBody, LongText, ShortText, Strict, with_examples
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
