"""What the tests of ledger.domain.rules share: the default parameters and indicators built in one line."""

from __future__ import annotations

from decimal import Decimal

from ledger.domain.rules.parameters import DEFAULT_PARAMETERS
from ledger.domain.values import Indicator

D = Decimal
P = DEFAULT_PARAMETERS
HUNDRED = Decimal(100)
TEN = Decimal(10)


def ind(
    key: str,
    level1: str = "output",
    level2: str = "quantity",
    operator: str = ">=",
    target: Decimal | str = HUNDRED,
    weight: Decimal = TEN,
    name: str = "指标",
    unit: str = "个",
) -> Indicator:
    return Indicator(
        key=key, level1=level1, level2=level2, name=name, operator=operator, target=target, unit=unit, weight=weight
    )


def nutrition_goals() -> list[Indicator]:
    """义务教育学生营养改善计划: output 50 (incl. cost), effect 30, satisfaction 10."""
    return [
        ind("students", "output", "quantity", ">=", D(5000), D(30), "受益学生人数", "人"),
        ind("days", "output", "timeliness", ">=", D(200), D(10), "供餐天数", "天"),
        ind("cost", "cost", "economic", "<=", D(5), D(10), "生均每餐成本", "元"),
        ind("health", "effect", "social", ">=", D(92), D(30), "学生体质健康达标率", "%"),
        ind("parents", "satisfaction", "service_users", ">=", D(90), D(10), "家长满意度", "%"),
    ]
