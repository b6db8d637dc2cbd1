"""Unit tests for ledger.rules: every rule, every refusal, the boundaries."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.rules import (
    DEFAULT_PARAMETERS,
    EX_ANTE_DIMENSIONS,
    RuleParameters,
    add_working_days,
    blacklist_until,
    deviation_level,
    draw_sample,
    ex_ante_conclusion,
    ex_ante_required,
    goal_submission_due,
    grade,
    indicator_score,
    is_inflated,
    monitoring_report_due,
    re_evaluation_total,
    reduced_budget,
    result_application_default,
    sample_size,
    self_evaluation_due,
    self_evaluation_score,
    time_progress,
    validate_goals,
)
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


# ---------------------------------------------------------------------------
# Rule parameters
# ---------------------------------------------------------------------------


def test_default_parameters_are_valid() -> None:
    P.validate()
    assert RuleParameters() == P


def test_to_dict_is_json_safe_and_round_trips() -> None:
    data = P.to_dict()
    assert data["ex_ante_threshold"] == "3000000.00"
    assert data["deviation_thresholds"] == [[4, "25"], [6, "40"], [8, "60"], [10, "80"]]
    assert data["re_evaluation_weights"][0] == ["decision", "15"]  # type: ignore[index]
    assert data["blacklist_years"] == 3
    restored = RuleParameters.from_dict(json.loads(json.dumps(data)))
    assert restored == P
    assert restored.to_dict() == data


def test_round_trip_of_non_default_parameters() -> None:
    custom = dataclasses.replace(
        P,
        output_weight=D(55),
        effect_weight=D(25),
        deviation_thresholds=((3, D("20.5")), (9, D(70))),
        re_evaluation_weights=(("decision", D(10)), ("process", D(10)), ("output", D(40)), ("effect", D(40))),
        reduce_rate=D("0.15"),
        blacklist_years=5,
    )
    custom.validate()
    assert RuleParameters.from_dict(json.loads(json.dumps(custom.to_dict()))) == custom


def test_from_dict_missing_keys_take_defaults() -> None:
    params = RuleParameters.from_dict({"inflation_threshold": "12", "deadline_warning_days": 5})
    assert params.inflation_threshold == D(12)
    assert params.deadline_warning_days == 5
    assert params.grade_excellent_min == D(90)


def test_from_dict_refuses_unknown_key() -> None:
    with pytest.raises(InvalidInput) as caught:
        RuleParameters.from_dict({"excution_rate_weight": "10"})
    assert caught.value.field == "excution_rate_weight"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"reduce_rate": 0.1}, "reduce_rate"),  # float
        ({"reduce_rate": "ten percent"}, "reduce_rate"),
        ({"blacklist_years": "3"}, "blacklist_years"),
        ({"blacklist_years": True}, "blacklist_years"),
        ({"deviation_thresholds": "4:25"}, "deviation_thresholds"),
        ({"deviation_thresholds": [[4, "25", 1]]}, "deviation_thresholds[0]"),
        ({"re_evaluation_weights": [[1, "100"]]}, "re_evaluation_weights[0]"),
        ({"output_weight": "60"}, "output_weight"),  # validated after parsing: sums to 110
    ],
)
def test_from_dict_refuses_bad_values(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RuleParameters.from_dict(data)
    assert caught.value.field == field


def test_from_dict_refuses_non_mapping() -> None:
    with pytest.raises(InvalidInput):
        RuleParameters.from_dict([("reduce_rate", "0.1")])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"output_weight": D(49)}, "output_weight"),  # 10 + 49 + 30 + 10 = 99
        ({"execution_rate_weight": D(-10), "output_weight": D(70)}, "execution_rate_weight"),
        ({"grade_good_min": D(90)}, "grade_good_min"),  # not strictly descending
        ({"grade_fair_min": D(85)}, "grade_good_min"),
        ({"grade_excellent_min": D(101)}, "grade_excellent_min"),
        ({"grade_fair_min": D(-1)}, "grade_fair_min"),
        ({"ex_ante_revise_min": D(81)}, "ex_ante_revise_min"),
        ({"ex_ante_support_min": D(101)}, "ex_ante_support_min"),
        ({"ex_ante_dimension_points": D(0)}, "ex_ante_dimension_points"),
        ({"ex_ante_threshold": D("-1.00")}, "ex_ante_threshold"),
        ({"re_evaluation_rate": D(0)}, "re_evaluation_rate"),
        ({"re_evaluation_rate": D("1.01")}, "re_evaluation_rate"),
        ({"reduce_rate": D(0)}, "reduce_rate"),
        ({"reduce_rate": D("1.5")}, "reduce_rate"),
        ({"blacklist_years": 0}, "blacklist_years"),
        ({"deadline_warning_days": -1}, "deadline_warning_days"),
        ({"deviation_response_working_days": True}, "deviation_response_working_days"),
        ({"inflation_threshold": D("NaN")}, "inflation_threshold"),
        ({"red_margin_points": 15}, "red_margin_points"),  # int, not Decimal
        ({"deviation_thresholds": ((6, D(40)), (4, D(25)))}, "deviation_thresholds[1]"),
        ({"deviation_thresholds": ((4, D(25)), (4, D(30)))}, "deviation_thresholds[1]"),
        ({"deviation_thresholds": ((13, D(25)),)}, "deviation_thresholds[0]"),
        ({"deviation_thresholds": ((0, D(25)),)}, "deviation_thresholds[0]"),
        ({"deviation_thresholds": ((4, D(101)),)}, "deviation_thresholds[0]"),
        (
            {"re_evaluation_weights": (("decision", D(15)), ("process", D(20)), ("output", D(35)), ("effect", D(29)))},
            "re_evaluation_weights",
        ),
        (
            {"re_evaluation_weights": (("decision", D(20)), ("process", D(21)), ("output", D(30)), ("effect", D(29)))},
            "re_evaluation_weights",
        ),
        (
            {"re_evaluation_weights": (("output", D(50)), ("output", D(50)))},
            "re_evaluation_weights[1]",
        ),
        ({"re_evaluation_weights": ()}, "re_evaluation_weights"),
    ],
)
def test_validate_refuses_inconsistent_parameters(changes: dict[str, object], field: str) -> None:
    params = dataclasses.replace(P, **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as caught:
        params.validate()
    assert caught.value.field == field


def test_re_evaluation_output_plus_effect_exactly_60_is_allowed() -> None:
    params = dataclasses.replace(
        P, re_evaluation_weights=(("decision", D(20)), ("process", D(20)), ("output", D(30)), ("effect", D(30)))
    )
    params.validate()


def test_empty_deviation_thresholds_are_allowed() -> None:
    dataclasses.replace(P, deviation_thresholds=()).validate()


# ---------------------------------------------------------------------------
# Ex-ante assessment 事前绩效评估
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_major", "requested", "expected"),
    [
        (True, D("3000000.00"), True),
        (True, D("2999999.99"), False),
        (True, D("12000000.00"), True),
        (False, D("12000000.00"), False),
    ],
)
def test_ex_ante_required(new_major: bool, requested: Decimal, expected: bool) -> None:
    assert ex_ante_required(new_major, requested, P) is expected


def ex_ante_scores(total_last: Decimal) -> dict[str, Decimal]:
    """Four dimensions at 20 plus the last one, so the total is 80 + (total_last - 20)."""
    scores = dict.fromkeys(EX_ANTE_DIMENSIONS[:-1], D(20))
    scores[EX_ANTE_DIMENSIONS[-1]] = total_last
    return scores


@pytest.mark.parametrize(
    ("scores", "total", "conclusion"),
    [
        (dict.fromkeys(EX_ANTE_DIMENSIONS, D(20)), D(100), "support"),
        (dict.fromkeys(EX_ANTE_DIMENSIONS, D(16)), D(80), "support"),
        ({**dict.fromkeys(EX_ANTE_DIMENSIONS, D(16)), "economy": D("15.99")}, D("79.99"), "support_after_revision"),
        (dict.fromkeys(EX_ANTE_DIMENSIONS, D(12)), D(60), "support_after_revision"),
        ({**dict.fromkeys(EX_ANTE_DIMENSIONS, D(12)), "necessity": D("11.99")}, D("59.99"), "reject"),
        (dict.fromkeys(EX_ANTE_DIMENSIONS, D(0)), D(0), "reject"),
    ],
)
def test_ex_ante_conclusion_boundaries(scores: dict[str, Decimal], total: Decimal, conclusion: str) -> None:
    result = ex_ante_conclusion(scores, P)
    assert result.total == total
    assert result.conclusion == conclusion


def test_ex_ante_refuses_missing_dimension() -> None:
    scores = dict.fromkeys(EX_ANTE_DIMENSIONS[:-1], D(20))
    with pytest.raises(InvalidInput) as caught:
        ex_ante_conclusion(scores, P)
    assert caught.value.code == "invalid-value"
    assert caught.value.field == "scores.funding_compliance"


def test_ex_ante_refuses_unknown_dimension() -> None:
    scores = {**dict.fromkeys(EX_ANTE_DIMENSIONS, D(20)), "popularity": D(5)}
    with pytest.raises(InvalidInput) as caught:
        ex_ante_conclusion(scores, P)
    assert caught.value.code == "invalid-value"
    assert caught.value.field == "scores.popularity"


@pytest.mark.parametrize("bad", [D("20.01"), D(-1), 19.5])
def test_ex_ante_refuses_score_out_of_range(bad: object) -> None:
    scores: dict[str, object] = {**dict.fromkeys(EX_ANTE_DIMENSIONS, D(10)), "feasibility": bad}
    with pytest.raises(InvalidInput) as caught:
        ex_ante_conclusion(scores, P)  # type: ignore[arg-type]
    assert caught.value.code == "invalid-score"
    assert caught.value.field == "scores.feasibility"


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


# ---------------------------------------------------------------------------
# Indicator scoring
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "target", "actual", "weight", "score", "met"),
    [
        (">=", D(5000), D(5000), D(30), D("30.00"), True),
        (">=", D(5000), D(6000), D(30), D("30.00"), True),  # over-achievement capped at the weight
        (">=", D(5000), D(4000), D(30), D("24.00"), False),
        (">=", D(3), D(2), D(10), D("6.67"), False),
        (">=", D(8), D(1), D(1), D("0.13"), False),  # 0.125 rounds half up
        (">", D(100), D(101), D(10), D("10.00"), True),
        (">", D(100), D(50), D(10), D("5.00"), False),
        ("<=", D(1500), D(1500), D(20), D("20.00"), True),
        ("<=", D(1500), D(1200), D(20), D("20.00"), True),
        ("<=", D(1500), D(2000), D(20), D("15.00"), False),  # weight x target/actual
        ("<", D(5), D(4), D(10), D("10.00"), True),
        ("<", D(5), D(10), D(10), D("5.00"), False),
        ("=", D(100), D(100), D(10), D("10.00"), True),
        ("=", D(100), D(95), D(10), D("9.50"), False),
        ("=", D(100), D(105), D(10), D("9.52"), False),  # 100/105
        (">=", D(5000), D(-10), D(30), D("0.00"), False),  # negative actual floors at 0
        (">=", D(5000), D(0), D(30), D("0.00"), False),
    ],
)
def test_quantitative_indicator_score(
    operator: str, target: Decimal, actual: Decimal, weight: Decimal, score: Decimal, met: bool
) -> None:
    result = indicator_score(ind("k", operator=operator, target=target, weight=weight), actual)
    assert result.score == score
    assert result.met is met
    assert result.key == "k"
    assert result.weight == weight
    assert result.actual == actual


@pytest.mark.parametrize(
    ("operator", "actual", "score", "met"),
    [
        (">=", D(0), D("10.00"), True),
        (">=", D(-1), D("0.00"), False),
        (">", D(0), D("0.00"), False),
        (">", D(1), D("10.00"), True),
        ("<=", D(0), D("10.00"), True),
        ("<=", D(3), D("0.00"), False),  # "no more than 0 incidents", 3 happened
        ("<", D(0), D("0.00"), False),
        ("<", D(-1), D("10.00"), True),
        ("=", D(0), D("10.00"), True),
        ("=", D(1), D("0.00"), False),
    ],
)
def test_target_zero_never_divides_by_zero(operator: str, actual: Decimal, score: Decimal, met: bool) -> None:
    result = indicator_score(ind("k", operator=operator, target=D(0), weight=D(10)), actual)
    assert result.score == score
    assert result.met is met


def test_le_with_actual_zero_is_met() -> None:
    assert indicator_score(ind("k", operator="<=", target=D(1500), weight=D(20)), D(0)).score == D(20)


def test_negative_target_scores_sensibly() -> None:
    # 财政补贴增幅 >= -5%: actual -10% reached half of it.
    result = indicator_score(ind("k", operator=">=", target=D(-5), weight=D(10)), D(-10))
    assert result.score == D("5.00")
    assert not result.met


@pytest.mark.parametrize(
    ("actual", "score", "met"),
    [("好", D("10.00"), True), ("较好", D("8.00"), True), ("一般", D("6.00"), False), ("较差", D("0.00"), False)],
)
def test_qualitative_indicator_score(actual: str, score: Decimal, met: bool) -> None:
    indicator = ind("k", "effect", "social", "qualitative", "较好", D(10))
    result = indicator_score(indicator, actual)
    assert result.score == score
    assert result.met is met
    assert result.actual == actual


def test_qualitative_weight_with_fraction() -> None:
    indicator = ind("k", "effect", "social", "qualitative", "好", D("7.5"))
    assert indicator_score(indicator, "较好").score == D("6.00")
    assert indicator_score(indicator, "一般").score == D("4.50")


@pytest.mark.parametrize("actual", ["很好", "good", D(1), ""])
def test_qualitative_refuses_unknown_actual(actual: Decimal | str) -> None:
    with pytest.raises(InvalidInput) as caught:
        indicator_score(ind("k", "effect", "social", "qualitative", "好", D(10)), actual)
    assert caught.value.field == "actuals.k"


@pytest.mark.parametrize("actual", ["好", "many", 3.5, True])
def test_quantitative_refuses_non_numeric_actual(actual: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        indicator_score(ind("k"), actual)  # type: ignore[arg-type]
    assert caught.value.field == "actuals.k"


def test_quantitative_accepts_decimal_string_actual() -> None:
    result = indicator_score(ind("k", target=D(200), weight=D(10)), "150")
    assert result.score == D("7.50")
    assert result.actual == D(150)


# ---------------------------------------------------------------------------
# Self-evaluation 单位自评 and grades
# ---------------------------------------------------------------------------


def test_self_evaluation_full_example() -> None:
    actuals: dict[str, Decimal | str] = {
        "students": D(4800),  # 30 * 4800/5000 = 28.80
        "days": D(200),  # 10
        "cost": D("5.5"),  # 10 * 5/5.5 = 9.09
        "health": D(93),  # 30
        "parents": D(85),  # 10 * 85/90 = 9.44
    }
    result = self_evaluation_score(nutrition_goals(), actuals, D("4500000.00"), D("4800000.00"), P)
    assert [s.score for s in result.indicator_scores] == [D("28.80"), D("10.00"), D("9.09"), D("30.00"), D("9.44")]
    assert result.execution_rate == D("93.75")
    assert result.execution_score == D("9.38")  # 10 * 0.9375 = 9.375, half up
    assert result.total == D("96.71")
    assert result.grade == "优"


def test_self_evaluation_perfect_is_100() -> None:
    actuals: dict[str, Decimal | str] = {g.key: g.target for g in nutrition_goals()}
    result = self_evaluation_score(nutrition_goals(), actuals, D("100.00"), D("100.00"), P)
    assert result.total == D(100)
    assert result.grade == "优"


def test_self_evaluation_execution_capped_and_zero_budget() -> None:
    actuals: dict[str, Decimal | str] = {g.key: g.target for g in nutrition_goals()}
    over = self_evaluation_score(nutrition_goals(), actuals, D("110.00"), D("100.00"), P)
    assert over.execution_rate == D("110.00")
    assert over.execution_score == D("10.00")
    none = self_evaluation_score(nutrition_goals(), actuals, D("0.00"), D("0.00"), P)
    assert none.execution_rate == D(0)
    assert none.execution_score == D(0)
    assert none.total == D(90)


def test_self_evaluation_execution_rate_quantized() -> None:
    actuals: dict[str, Decimal | str] = {g.key: g.target for g in nutrition_goals()}
    result = self_evaluation_score(nutrition_goals(), actuals, D("1.00"), D("3.00"), P)
    assert result.execution_rate == D("33.33")
    assert result.execution_score == D("3.33")


def test_self_evaluation_refuses_missing_actual() -> None:
    actuals: dict[str, Decimal | str] = {g.key: g.target for g in nutrition_goals()[:-1]}
    with pytest.raises(InvalidInput) as caught:
        self_evaluation_score(nutrition_goals(), actuals, D(1), D(1), P)
    assert caught.value.field == "actuals.parents"


def test_self_evaluation_refuses_unknown_actual() -> None:
    actuals: dict[str, Decimal | str] = {g.key: g.target for g in nutrition_goals()}
    actuals["teachers"] = D(5)
    with pytest.raises(InvalidInput) as caught:
        self_evaluation_score(nutrition_goals(), actuals, D(1), D(1), P)
    assert caught.value.field == "actuals.teachers"


def test_self_evaluation_refuses_bad_money() -> None:
    actuals: dict[str, Decimal | str] = {g.key: g.target for g in nutrition_goals()}
    with pytest.raises(InvalidInput) as caught:
        self_evaluation_score(nutrition_goals(), actuals, D("-1.00"), D("10.00"), P)
    assert caught.value.field == "executed"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D(100), "优"),
        (D(90), "优"),
        (D("89.99"), "良"),
        (D(80), "良"),
        (D("79.99"), "中"),
        (D(60), "中"),
        (D("59.99"), "差"),
        (D(0), "差"),
    ],
)
def test_grade_boundaries(value: Decimal, expected: str) -> None:
    assert grade(value, P) == expected


def test_grade_follows_ruleset() -> None:
    params = dataclasses.replace(P, grade_excellent_min=D(95))
    assert grade(D(94), params) == "良"


# ---------------------------------------------------------------------------
# Monitoring deviation 绩效运行监控偏差
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("month", "progress"), [(1, D("8.33")), (6, D("50.00")), (7, D("58.33")), (12, D("100.00"))])
def test_time_progress(month: int, progress: Decimal) -> None:
    assert time_progress(month) == progress


@pytest.mark.parametrize("month", [0, 13, -1])
def test_time_progress_refuses_bad_month(month: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        time_progress(month)
    assert caught.value.field == "month"


def deviation(month: int, executed: str, completion: dict[str, Decimal] | None = None) -> tuple[str | None, int]:
    result = deviation_level(month, D(executed), D("100.00"), completion or {}, P)
    return result.level, len(result.reasons)


@pytest.mark.parametrize(
    ("month", "executed", "level"),
    [
        (3, "0.00", None),  # before the first checkpoint: no execution-rate check
        (4, "25.00", None),  # exactly at threshold
        (4, "24.99", "yellow"),
        (4, "10.00", "yellow"),  # exactly 15 points below
        (4, "9.99", "red"),  # more than 15 below
        (5, "24.99", "yellow"),  # month 5 uses the April threshold
        (6, "40.00", None),
        (6, "39.99", "yellow"),
        (6, "25.00", "yellow"),
        (6, "24.99", "red"),
        (8, "59.99", "yellow"),
        (10, "80.00", None),
        (12, "64.99", "red"),  # December uses the October threshold
    ],
)
def test_execution_rate_deviation(month: int, executed: str, level: str | None) -> None:
    assert deviation(month, executed)[0] == level


def test_deviation_reasons_and_fields() -> None:
    result = deviation_level(6, D("30.00"), D("100.00"), {}, P)
    assert result.level == "yellow"
    assert result.reasons == ("execution rate 30.00% below 40% at month 6",)
    assert result.execution_rate == D("30.00")
    assert result.time_progress == D("50.00")
    red = deviation_level(6, D("20.00"), D("100.00"), {}, P)
    assert red.level == "red"
    assert "20.00%" in red.reasons[0]
    assert "40%" in red.reasons[0]
    assert "month 6" in red.reasons[0]


def test_no_deviation_has_no_reasons() -> None:
    result = deviation_level(6, D("45.00"), D("100.00"), {"students": D(50)}, P)
    assert result.level is None
    assert result.reasons == ()


def test_indicator_lag_exactly_10_is_not_a_deviation() -> None:
    assert deviation(6, "50.00", {"students": D(40)}) == (None, 0)


def test_indicator_lag_above_10_is_yellow() -> None:
    result = deviation_level(6, D("50.00"), D("100.00"), {"students": D("39.99"), "days": D(45)}, P)
    assert result.level == "yellow"
    assert len(result.reasons) == 1
    assert "students" in result.reasons[0]


def test_indicator_lag_before_first_checkpoint_still_counts() -> None:
    assert deviation(2, "20.00", {"students": D(5)}) == ("yellow", 1)


def test_indicator_lag_does_not_lower_red() -> None:
    assert deviation(6, "20.00", {"students": D(0)}) == ("red", 2)


def test_deviation_with_zero_budget() -> None:
    result = deviation_level(6, D("0.00"), D("0.00"), {}, P)
    assert result.execution_rate == D(0)
    assert result.level == "red"


def test_deviation_refuses_bad_completion() -> None:
    with pytest.raises(InvalidInput) as caught:
        deviation_level(6, D("50.00"), D("100.00"), {"students": 0.5}, P)  # type: ignore[dict-item]
    assert caught.value.field == "indicator_completion.students"


# ---------------------------------------------------------------------------
# Re-evaluation 再评价
# ---------------------------------------------------------------------------


def test_re_evaluation_total() -> None:
    scores = {"decision": D(12), "process": D("18.5"), "output": D(30), "effect": D(25)}
    assert re_evaluation_total(scores, P) == D("85.5")


def test_re_evaluation_refuses_missing_and_unknown() -> None:
    with pytest.raises(InvalidInput) as caught:
        re_evaluation_total({"decision": D(12), "process": D(18), "output": D(30)}, P)
    assert caught.value.field == "scores.effect"
    with pytest.raises(InvalidInput) as caught:
        re_evaluation_total({"decision": D(1), "process": D(1), "output": D(1), "effect": D(1), "luck": D(1)}, P)
    assert caught.value.field == "scores.luck"


def test_re_evaluation_refuses_score_above_weight() -> None:
    with pytest.raises(InvalidInput) as caught:
        re_evaluation_total({"decision": D("15.01"), "process": D(18), "output": D(30), "effect": D(25)}, P)
    assert caught.value.code == "invalid-score"
    assert caught.value.field == "scores.decision"


@pytest.mark.parametrize(
    ("self_score", "re_score", "expected"),
    [(D(90), D(80), False), (D("90.01"), D(80), True), (D(70), D(85), False)],
)
def test_is_inflated(self_score: Decimal, re_score: Decimal, expected: bool) -> None:
    assert is_inflated(self_score, re_score, P) is expected


# ---------------------------------------------------------------------------
# Results applied 结果应用
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "application"), [("优", "prioritise"), ("良", "maintain"), ("中", "reduce"), ("差", "cancel")]
)
def test_result_application_default(value: str, application: str) -> None:
    assert result_application_default(value, P) == application


def test_result_application_refuses_unknown_grade() -> None:
    with pytest.raises(InvalidInput) as caught:
        result_application_default("A", P)
    assert caught.value.field == "grade"


@pytest.mark.parametrize(
    ("amount", "rate", "expected"),
    [
        (D("4800000.00"), D("0.10"), D("4320000.00")),
        (D("333.33"), D("0.10"), D("300.00")),  # 299.997 to the fen
        (D("0.05"), D("0.10"), D("0.05")),  # 0.045 half up
        (D("1000.00"), D("0.15"), D("850.00")),
    ],
)
def test_reduced_budget(amount: Decimal, rate: Decimal, expected: Decimal) -> None:
    assert reduced_budget(amount, dataclasses.replace(P, reduce_rate=rate)) == expected


def test_reduced_budget_refuses_bad_amount() -> None:
    with pytest.raises(InvalidInput):
        reduced_budget(D("1.001"), P)


# ---------------------------------------------------------------------------
# Re-evaluation sample 再评价抽查
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "size"), [(0, 0), (1, 1), (9, 1), (10, 1), (11, 2), (20, 2), (31, 4), (100, 10), (101, 11)]
)
def test_sample_size(n: int, size: int) -> None:
    assert sample_size(n, P) == size


def test_sample_size_follows_rate() -> None:
    assert sample_size(31, dataclasses.replace(P, re_evaluation_rate=D("0.25"))) == 8
    assert sample_size(7, dataclasses.replace(P, re_evaluation_rate=D(1))) == 7


def test_sample_size_refuses_negative() -> None:
    with pytest.raises(InvalidInput):
        sample_size(-1, P)


POPULATION = [f"2021-{i:03d}" for i in range(1, 32)]


def test_draw_sample_size_is_ceil_ten_percent() -> None:
    drawn = draw_sample(POPULATION, "2022-04-01 finance", P)
    assert len(drawn) == 4
    assert drawn == sorted(drawn)
    assert set(drawn) <= set(POPULATION)


def test_draw_sample_is_reproducible_and_order_independent() -> None:
    first = draw_sample(POPULATION, "seed-1", P)
    assert draw_sample(POPULATION, "seed-1", P) == first
    assert draw_sample(list(reversed(POPULATION)), "seed-1", P) == first
    assert draw_sample(tuple(sorted(POPULATION, key=lambda m: m[::-1])), "seed-1", P) == first
    assert draw_sample(POPULATION, "seed-2", P) != first  # a different seed draws differently here


def test_larger_sample_extends_the_smaller_one() -> None:
    small = draw_sample(POPULATION, "seed-1", P)
    large = draw_sample(POPULATION, "seed-1", P, size=10)
    assert len(large) == 10
    assert set(small) <= set(large)


def test_draw_sample_published_algorithm() -> None:
    """Recompute the ranking by hand, as an auditor in any language would."""
    population = ["P-C", "P-A", "P-E", "P-B", "P-D"]
    seed = "2022-再评价-抽样"
    ranks = {m: hashlib.sha256(seed.encode("utf-8") + b"\x00" + m.encode("utf-8")).hexdigest() for m in population}
    by_rank = sorted(population, key=lambda m: ranks[m])
    assert draw_sample(population, seed, P) == sorted(by_rank[:1])
    assert draw_sample(population, seed, P, size=3) == sorted(by_rank[:3])
    assert draw_sample(population, seed, P, size=5) == sorted(population)


def test_draw_sample_refuses_too_small() -> None:
    with pytest.raises(RuleViolation) as caught:
        draw_sample(POPULATION, "seed", P, size=3)
    assert caught.value.code == "sample-too-small"


def test_draw_sample_refuses_too_large_and_negative() -> None:
    with pytest.raises(InvalidInput):
        draw_sample(POPULATION, "seed", P, size=32)
    with pytest.raises(InvalidInput):
        draw_sample(POPULATION, "seed", P, size=-1)


def test_draw_sample_refuses_duplicates() -> None:
    with pytest.raises(InvalidInput) as caught:
        draw_sample(["A", "B", "A"], "seed", P)
    assert caught.value.field == "population"


def test_draw_sample_refuses_empty_seed_and_bad_members() -> None:
    with pytest.raises(InvalidInput):
        draw_sample(["A"], "", P)
    with pytest.raises(InvalidInput):
        draw_sample(["A", ""], "seed", P)
    with pytest.raises(InvalidInput):
        draw_sample(["A", 1], "seed", P)  # type: ignore[list-item]


def test_draw_sample_of_nobody() -> None:
    assert draw_sample([], "seed", P) == []


# ---------------------------------------------------------------------------
# Deadlines 时限
# ---------------------------------------------------------------------------


def test_cycle_deadlines() -> None:
    assert goal_submission_due(2021) == date(2020, 10, 31)
    assert monitoring_report_due(2021) == date(2021, 8, 15)
    assert self_evaluation_due(2021) == date(2022, 3, 31)


def test_deadlines_refuse_implausible_year() -> None:
    with pytest.raises(InvalidInput):
        self_evaluation_due(1999)


def test_working_days_across_a_weekend() -> None:
    friday = date(2021, 9, 3)
    assert add_working_days(friday, 1) == date(2021, 9, 6)  # Monday
    assert add_working_days(friday, 10) == date(2021, 9, 17)
    assert add_working_days(date(2021, 9, 4), 1) == date(2021, 9, 6)  # from a Saturday


def test_working_days_skip_configured_holidays() -> None:
    national_day = [date(2021, 10, d) for d in range(1, 8)]
    # Thursday 30 Sep + 1 working day: 1-7 Oct are holidays (weekend included) -> Friday 8 Oct.
    assert add_working_days(date(2021, 9, 30), 1, national_day) == date(2021, 10, 8)
    assert add_working_days(date(2021, 9, 30), 10, national_day) == date(2021, 10, 21)
    assert add_working_days(date(2021, 9, 3), 1, {date(2021, 9, 6)}) == date(2021, 9, 7)


def test_zero_working_days_is_the_start() -> None:
    assert add_working_days(date(2021, 9, 4), 0) == date(2021, 9, 4)


def test_working_days_refuse_negative() -> None:
    with pytest.raises(InvalidInput):
        add_working_days(date(2021, 9, 3), -1)


# 2021 National Day as the State Council set it: 1-7 October off, Sunday 26 September and Saturday 9 October worked.
NATIONAL_DAY_2021 = [date(2021, 10, d) for d in range(1, 8)]
WORKED_WEEKENDS_2021 = [date(2021, 9, 26), date(2021, 10, 9)]


def test_working_days_count_a_worked_weekend_day() -> None:
    # Friday 24 Sep: the next working day is the worked Sunday 26 Sep, not Monday 27.
    assert add_working_days(date(2021, 9, 24), 1, NATIONAL_DAY_2021, WORKED_WEEKENDS_2021) == date(2021, 9, 26)
    # Thursday 30 Sep + 1: 1-7 Oct off -> Friday 8; + 2 -> the worked Saturday 9 Oct.
    assert add_working_days(date(2021, 9, 30), 1, NATIONAL_DAY_2021, WORKED_WEEKENDS_2021) == date(2021, 10, 8)
    assert add_working_days(date(2021, 9, 30), 2, NATIONAL_DAY_2021, WORKED_WEEKENDS_2021) == date(2021, 10, 9)
    # The ten working days a deviation allows, detected on 24 Sep: 26, 27, 28, 29, 30 Sep, 8, 9, 11, 12, 13 Oct.
    assert add_working_days(date(2021, 9, 24), 10, NATIONAL_DAY_2021, WORKED_WEEKENDS_2021) == date(2021, 10, 13)
    assert add_working_days(date(2021, 9, 24), 10, NATIONAL_DAY_2021) == date(2021, 10, 15)


def test_a_holiday_on_a_weekend_is_skipped_once() -> None:
    # Saturday 2 and Sunday 3 Oct are both weekend and holiday: the count is the same as with weekdays alone.
    assert add_working_days(date(2021, 10, 1), 1, [date(2021, 10, 2), date(2021, 10, 3)]) == date(2021, 10, 4)
    assert add_working_days(date(2021, 10, 1), 1) == date(2021, 10, 4)


def test_working_days_from_a_holiday_start_on_the_next_working_day() -> None:
    assert add_working_days(date(2021, 10, 1), 1, NATIONAL_DAY_2021) == date(2021, 10, 8)
    assert add_working_days(date(2021, 10, 1), 0, NATIONAL_DAY_2021) == date(2021, 10, 1)


def _is_working(day: date, holidays: set[date], worked: set[date]) -> bool:
    return day not in holidays and (day.weekday() < 5 or day in worked)


@given(start=st.dates(min_value=date(2020, 1, 1), max_value=date(2022, 12, 31)),
       days=st.integers(min_value=0, max_value=40),
       holidays=st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2023, 3, 31)), max_size=30),
       worked=st.sets(st.dates(min_value=date(2020, 1, 1), max_value=date(2023, 3, 31)), max_size=10))
@settings(max_examples=300)
def test_working_days_land_on_the_nth_working_day_after_the_start(start: date, days: int, holidays: set[date],
                                                                   worked: set[date]) -> None:
    end = add_working_days(start, days, holidays, worked)
    between = [start + timedelta(days=n) for n in range(1, (end - start).days + 1)]
    assert sum(_is_working(day, holidays, worked) for day in between) == days
    assert days == 0 or _is_working(end, holidays, worked)


def test_blacklist_until() -> None:
    assert blacklist_until(date(2021, 6, 30), P) == date(2024, 6, 30)
    assert blacklist_until(date(2020, 2, 29), P) == date(2023, 2, 28)
    assert blacklist_until(date(2020, 2, 29), dataclasses.replace(P, blacklist_years=4)) == date(2024, 2, 29)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

decimals = st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False)
weights = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
quantitative = st.sampled_from([">=", "<=", "=", ">", "<"])
qualities = st.sampled_from(["好", "较好", "一般", "较差"])


@given(operator=quantitative, target=decimals, actual=decimals, weight=weights)
def test_property_quantitative_score_within_weight(
    operator: str, target: Decimal, actual: Decimal, weight: Decimal
) -> None:
    result = indicator_score(ind("k", operator=operator, target=target, weight=weight), actual)
    assert D(0) <= result.score <= weight
    if result.met:
        assert result.score == weight


@given(target=qualities, actual=qualities, weight=weights)
def test_property_qualitative_score_within_weight(target: str, actual: str, weight: Decimal) -> None:
    result = indicator_score(ind("k", "effect", "social", "qualitative", target, weight), actual)
    assert D(0) <= result.score <= weight


@st.composite
def split(draw: st.DrawFn, total: Decimal) -> list[Decimal]:
    """Split ``total`` points into 1-4 positive parts of whole fen."""
    cents = int(total * 100)
    cuts = draw(st.lists(st.integers(1, cents - 1), unique=True, max_size=3))
    bounds = [0, *sorted(cuts), cents]
    return [D(b - a) / 100 for a, b in itertools.pairwise(bounds)]


@st.composite
def valid_goals(draw: st.DrawFn) -> tuple[list[Indicator], dict[str, Decimal | str]]:
    indicators: list[Indicator] = []
    actuals: dict[str, Decimal | str] = {}
    plan = [("output", P.output_weight), ("effect", P.effect_weight), ("satisfaction", P.satisfaction_weight)]
    for level1, total in plan:
        for part in draw(split(total)):
            key = f"k{len(indicators)}"
            if level1 == "output" and draw(st.booleans()):
                level1_here, level2 = "cost", "economic"
            else:
                level1_here, level2 = level1, {"output": "quantity", "effect": "social"}.get(level1, "service_users")
            if draw(st.booleans()):
                indicators.append(ind(key, level1_here, level2, "qualitative", draw(qualities), part))
                actuals[key] = draw(qualities)
            else:
                indicators.append(ind(key, level1_here, level2, draw(quantitative), draw(decimals), part))
                actuals[key] = draw(decimals)
    return indicators, actuals


money_st = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=150)
@given(goals=valid_goals(), executed=money_st, approved=money_st)
def test_property_self_evaluation_total_within_0_100(
    goals: tuple[list[Indicator], dict[str, Decimal | str]], executed: Decimal, approved: Decimal
) -> None:
    indicators, actuals = goals
    validate_goals(indicators, P)
    result = self_evaluation_score(indicators, actuals, executed, approved, P)
    assert D(0) <= result.total <= D(100)
    assert result.total == sum((s.score for s in result.indicator_scores), D(0)) + result.execution_score
    assert result.grade == grade(result.total, P)


@given(
    population=st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=60),
    seed=st.text(min_size=1, max_size=16),
    extra=st.integers(0, 5),
    data=st.data(),
)
def test_property_draw_sample(population: list[str], seed: str, extra: int, data: st.DataObject) -> None:
    n = len(population)
    required = sample_size(n, P)
    assert required == (0 if n == 0 else max(1, math.ceil(n / 10)))
    size = min(required + extra, n)
    drawn = draw_sample(population, seed, P, size=size)
    assert len(drawn) == size
    assert len(set(drawn)) == size
    assert set(drawn) <= set(population)
    assert drawn == sorted(drawn)
    shuffled = data.draw(st.permutations(population))
    assert draw_sample(shuffled, seed, P, size=size) == drawn
