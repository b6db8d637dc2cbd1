"""Unit tests for ledger.domain.rules.goals: the indicator tree's shape and the weight split."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.goals import validate_goals
from ledger.domain.rules.parameters import RuleParameters
from ledger.domain.values import Indicator
from tests.ledger.domain.rules.support import D, P, ind, nutrition_goals

# ---------------------------------------------------------------------------
# Goals 绩效目标
# ---------------------------------------------------------------------------


def test_valid_goals_pass() -> None:
    validate_goals(nutrition_goals(), P)


def test_qualitative_goal_passes() -> None:
    goals = nutrition_goals()
    goals[3] = ind("coverage", "effect", "social", "qualitative", "好", D(30), "应保尽保", "")
    validate_goals(goals, P)


def test_goals_refuse_empty() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_goals([], P)
    assert caught.value.field == "goals"


def refused(goals: list[Indicator], params: RuleParameters = P) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate_goals(goals, params)
    return caught.value


@pytest.mark.parametrize(
    ("index", "changes", "field"),
    [
        (2, {"key": "students"}, "goals[2].key"),
        (0, {"key": "  "}, "goals[0].key"),
        (0, {"name": ""}, "goals[0].name"),
        (1, {"level1": "outcome"}, "goals[1].level1"),
        (1, {"level2": "economic"}, "goals[1].level2"),  # economic is not an output level 2
        (4, {"level2": "quantity"}, "goals[4].level2"),
        (0, {"operator": "=>"}, "goals[0].operator"),
        (0, {"operator": "qualitative"}, "goals[0].target"),  # numeric target for qualitative
        (0, {"target": "好"}, "goals[0].target"),  # qualitative target for >=
        (3, {"operator": "qualitative", "target": "很好"}, "goals[3].target"),
        (0, {"target": D("NaN")}, "goals[0].target"),
    ],
)
def test_goals_refuse_malformed_indicator(index: int, changes: dict[str, object], field: str) -> None:
    goals = nutrition_goals()
    goals[index] = dataclasses.replace(goals[index], **changes)  # type: ignore[arg-type]
    error = refused(goals)
    assert error.code == "invalid-indicator"
    assert error.field == field


@pytest.mark.parametrize("weight", [D(0), D(-5), D("10.001")])
def test_goals_refuse_bad_weight(weight: Decimal) -> None:
    goals = nutrition_goals()
    goals[2] = dataclasses.replace(goals[2], weight=weight)
    error = refused(goals)
    assert error.code == "invalid-weights"
    assert error.field == "goals[2].weight"


def test_goals_refuse_weights_off_by_one_fen() -> None:
    goals = nutrition_goals()
    goals[0] = dataclasses.replace(goals[0], weight=D("29.99"))
    error = refused(goals)
    assert error.code == "invalid-weights"
    assert "89.99" in error.detail
    assert "90" in error.detail
    goals[0] = dataclasses.replace(goals[0], weight=D("30.01"))
    assert refused(goals).code == "invalid-weights"


def test_goals_refuse_wrong_group_split() -> None:
    goals = nutrition_goals()
    goals[0] = dataclasses.replace(goals[0], weight=D(31))  # output+cost 51
    goals[3] = dataclasses.replace(goals[3], weight=D(29))  # effect 29; total still 90
    error = refused(goals)
    assert error.code == "invalid-weights"
    assert "output+cost" in error.detail
    assert "51" in error.detail
    assert "50" in error.detail


def test_cost_counts_inside_output() -> None:
    goals = nutrition_goals()
    goals[0] = dataclasses.replace(goals[0], weight=D(40))
    goals[1] = dataclasses.replace(goals[1], weight=D("9.99"))
    goals[2] = dataclasses.replace(goals[2], weight=D("0.01"))  # cost: output+cost = 50
    validate_goals(goals, P)


def test_goals_refuse_missing_group() -> None:
    params = dataclasses.replace(P, output_weight=D(50), effect_weight=D(30), satisfaction_weight=D(10))
    goals = [g for g in nutrition_goals() if g.level1 != "satisfaction"]
    goals[0] = dataclasses.replace(goals[0], weight=D(40))  # total 90 but satisfaction empty
    error = refused(goals, params)
    assert error.code == "invalid-weights"
    assert "satisfaction" in error.detail


def test_goals_group_with_zero_weight_must_be_empty() -> None:
    params = dataclasses.replace(P, output_weight=D(60), satisfaction_weight=D(0))
    params.validate()
    goals = nutrition_goals()
    goals[0] = dataclasses.replace(goals[0], weight=D(40))
    goals_without = [g for g in goals if g.level1 != "satisfaction"]
    validate_goals(goals_without, params)
    error = refused(goals, params)
    assert error.code == "invalid-weights"
    assert error.field == "goals[4].level1"


def test_goals_follow_the_ruleset_execution_weight() -> None:
    params = dataclasses.replace(P, execution_rate_weight=D(20), output_weight=D(40))
    params.validate()
    goals = nutrition_goals()
    goals[0] = dataclasses.replace(goals[0], weight=D(20))  # output+cost 40, total 80
    validate_goals(goals, params)
    assert refused(nutrition_goals(), params).code == "invalid-weights"
