"""Overall goals (整体绩效目标) for tests: six indicators, one per dimension, their weights adding up to 100."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ledger.domain.values import Indicator

D = Decimal


def overall_indicators() -> list[Indicator]:
    """运行成本 20, 管理效率 20, 履职效能 20, 社会效应 20, 可持续发展能力 10, 满意度 10."""
    return [
        Indicator("cost", "running_cost", "经济成本", "公用经费控制率", "<=", D(100), "%", D(20)),
        Indicator("efficiency", "management_efficiency", "预算管理", "预算执行率", ">=", D(90), "%", D(20)),
        Indicator("duty", "duty_performance", "重点工作", "义务教育巩固率", ">=", D(99), "%", D(20)),
        Indicator("social", "social_effect", "社会效益", "办学条件改善", "qualitative", "较好", "", D(20)),
        Indicator("sustain", "sustainability", "长效机制", "制度建设完善", "qualitative", "好", "", D(10)),
        Indicator("satisfied", "satisfaction", "服务对象", "家长满意度", ">=", D(90), "%", D(10)),
    ]


def adjusted_indicators() -> list[Indicator]:
    """The same six with a higher target for 履职效能."""
    indicators = overall_indicators()
    indicators[2] = replace(indicators[2], target=D("99.5"))
    return indicators


def met_actuals() -> dict[str, Decimal | str]:
    """Every indicator of :func:`overall_indicators` met: 100 points, 优."""
    return {
        "cost": D(95),
        "efficiency": D(92),
        "duty": D("99.2"),
        "social": "好",  # a qualitative actual earns its own share (好 100%), whatever the target (较好)
        "sustain": "好",
        "satisfied": D(93),
    }


def fair_actuals() -> dict[str, Decimal | str]:
    """预算执行率 81% of 90 (18 of 20), 办学条件改善 一般 (12 of 20), 满意度 72% of 90 (8 of 10): 88 points, 良."""
    return {**met_actuals(), "efficiency": D(81), "social": "一般", "satisfied": D(72)}


def dimension_scores(
    running_cost: int = 15,
    management_efficiency: int = 20,
    duty_performance: int = 30,
    social_effect: int = 15,
    sustainability: int = 10,
    satisfaction: int = 10,
) -> dict[str, Decimal]:
    """An evaluation's scores on the six dimensions, each within the default weights (15/20/30/15/10/10)."""
    return {
        "running_cost": D(running_cost),
        "management_efficiency": D(management_efficiency),
        "duty_performance": D(duty_performance),
        "social_effect": D(social_effect),
        "sustainability": D(sustainability),
        "satisfaction": D(satisfaction),
    }
