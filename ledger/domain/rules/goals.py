"""Goals (绩效目标): the shape of a project's indicator tree, and the weight split the ruleset requires of it."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.parameters import QUALITATIVE_GRADES, ZERO, RuleParameters
from ledger.domain.values import FEN, HUNDRED, LEVEL2, Indicator, Level1, Operator


def _group(level1: str) -> str:
    """The weight group of a level-1 dimension: cost counts inside output (产出含成本)."""
    return Level1.OUTPUT.value if level1 == Level1.COST.value else level1


def _group_weights(params: RuleParameters) -> dict[str, Decimal]:
    return {
        Level1.OUTPUT.value: params.output_weight,
        Level1.EFFECT.value: params.effect_weight,
        Level1.SATISFACTION.value: params.satisfaction_weight,
    }


_GROUP_LABEL = {
    Level1.OUTPUT.value: "output+cost",
    Level1.EFFECT.value: "effect",
    Level1.SATISFACTION.value: "satisfaction",
}


def check_indicator(indicator: Indicator, field: str) -> None:
    """Refuse a malformed indicator: its shape, everything except how weights add up."""
    check_measure(indicator, field)
    if indicator.level1 not in {m.value for m in Level1}:
        raise InvalidInput(
            f"{field}.level1 must be one of {', '.join(m.value for m in Level1)}: {indicator.level1!r}",
            code="invalid-indicator",
            field=f"{field}.level1",
        )
    allowed = LEVEL2[Level1(indicator.level1)]
    if indicator.level2 not in allowed:
        raise InvalidInput(
            f"{field}.level2 for {indicator.level1} must be one of {', '.join(sorted(allowed))}: {indicator.level2!r}",
            code="invalid-indicator",
            field=f"{field}.level2",
        )


def check_measure(indicator: Indicator, field: str) -> None:
    """Refuse an indicator without a key or a name, or whose operator and target do not fit: the checks a project's
    indicators and a department's overall ones (:mod:`ledger.domain.overall`) share, whatever their levels."""
    if not isinstance(indicator, Indicator):
        raise InvalidInput(f"{field} must be an indicator", code="invalid-indicator", field=field)
    if not isinstance(indicator.key, str) or not indicator.key.strip():
        raise InvalidInput(f"{field}.key is required", code="invalid-indicator", field=f"{field}.key")
    if not isinstance(indicator.name, str) or not indicator.name.strip():
        raise InvalidInput(f"{field}.name is required", code="invalid-indicator", field=f"{field}.name")
    if indicator.operator not in {m.value for m in Operator}:
        raise InvalidInput(
            f"{field}.operator must be one of {', '.join(m.value for m in Operator)}: {indicator.operator!r}",
            code="invalid-indicator",
            field=f"{field}.operator",
        )
    target = indicator.target
    if indicator.operator == Operator.QUALITATIVE:
        if not isinstance(target, str) or target not in QUALITATIVE_GRADES:
            raise InvalidInput(
                f"{field}.target of a qualitative indicator must be one of 好/较好/一般/较差: {target!r}",
                code="invalid-indicator",
                field=f"{field}.target",
            )
    elif not isinstance(target, Decimal) or not target.is_finite():
        raise InvalidInput(
            f"{field}.target of a quantitative indicator must be a finite Decimal: {target!r}",
            code="invalid-indicator",
            field=f"{field}.target",
        )


def check_weight(weight: object, field: str) -> Decimal:
    """An indicator's weight: positive, with at most two decimal places."""
    if isinstance(weight, bool) or not isinstance(weight, Decimal) or not weight.is_finite() or weight <= 0:
        raise InvalidInput(
            f"{field}.weight must be positive: {weight!r}", code="invalid-weights", field=f"{field}.weight"
        )
    if weight != weight.quantize(FEN):
        raise InvalidInput(
            f"{field}.weight has more than two decimal places: {weight}",
            code="invalid-weights",
            field=f"{field}.weight",
        )
    return weight


def validate_goals(indicators: Sequence[Indicator], params: RuleParameters) -> None:
    """Refuse malformed goals (绩效目标): indicator shape, unique keys and the weight split."""
    if not indicators:
        raise InvalidInput("goals need at least one indicator", code="invalid-indicator", field="goals")
    groups = _group_weights(params)
    sums = dict.fromkeys(groups, ZERO)
    seen: set[str] = set()
    for i, indicator in enumerate(indicators):
        field = f"goals[{i}]"
        check_indicator(indicator, field)
        if indicator.key in seen:
            raise InvalidInput(
                f"{field}.key {indicator.key!r} appears twice", code="invalid-indicator", field=f"{field}.key"
            )
        seen.add(indicator.key)
        weight = check_weight(indicator.weight, field)
        group = _group(indicator.level1)
        if groups[group] == 0:
            raise InvalidInput(
                f"{field}.level1 {indicator.level1}: the ruleset gives {_GROUP_LABEL[group]} no weight",
                code="invalid-weights",
                field=f"{field}.level1",
            )
        sums[group] += weight

    present = {_group(indicator.level1) for indicator in indicators}
    for group, expected in groups.items():
        if expected > 0 and group not in present:
            raise InvalidInput(
                f"no {_GROUP_LABEL[group]} indicators, the ruleset gives {_GROUP_LABEL[group]} a weight of {expected}",
                code="invalid-weights",
                field="goals",
            )
    required = HUNDRED - params.execution_rate_weight
    total = sum(sums.values(), ZERO)
    if total != required:
        raise InvalidInput(
            f"indicator weights sum to {total}, the ruleset requires {required} "
            f"(100 minus the budget execution rate's {params.execution_rate_weight})",
            code="invalid-weights",
            field="goals",
        )
    for group, expected in groups.items():
        if sums[group] != expected:
            raise InvalidInput(
                f"{_GROUP_LABEL[group]} weights sum to {sums[group]}, the ruleset requires {expected}",
                code="invalid-weights",
                field="goals",
            )
