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
