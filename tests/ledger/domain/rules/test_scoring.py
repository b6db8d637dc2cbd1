"""Unit tests for ledger.domain.rules.scoring: ex-ante assessment, indicator and self-evaluation scores, grades,
re-evaluation and the results applied — every rule, every refusal, the boundaries."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.goals import validate_goals
from ledger.domain.rules.parameters import EX_ANTE_DIMENSIONS
from ledger.domain.rules.scoring import (
    ex_ante_conclusion,
    ex_ante_required,
    grade,
    indicator_score,
    is_inflated,
    re_evaluation_total,
    reduced_budget,
    result_application_default,
    self_evaluation_score,
)
from ledger.domain.values import Indicator
from tests.ledger.domain.rules.support import D, P, ind, nutrition_goals

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
    result = indicator_score(ind("k", operator=operator, target=target, weight=weight), actual, P)
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
    result = indicator_score(ind("k", operator=operator, target=D(0), weight=D(10)), actual, P)
    assert result.score == score
    assert result.met is met


def test_le_with_actual_zero_is_met() -> None:
    assert indicator_score(ind("k", operator="<=", target=D(1500), weight=D(20)), D(0), P).score == D(20)


def test_negative_target_scores_sensibly() -> None:
    # 财政补贴增幅 >= -5%: actual -10% reached half of it.
    result = indicator_score(ind("k", operator=">=", target=D(-5), weight=D(10)), D(-10), P)
    assert result.score == D("5.00")
    assert not result.met


@pytest.mark.parametrize(
    ("actual", "score", "met"),
    [("好", D("10.00"), True), ("较好", D("8.00"), True), ("一般", D("6.00"), False), ("较差", D("0.00"), False)],
)
def test_qualitative_indicator_score(actual: str, score: Decimal, met: bool) -> None:
    indicator = ind("k", "effect", "social", "qualitative", "较好", D(10))
    result = indicator_score(indicator, actual, P)
    assert result.score == score
    assert result.met is met
    assert result.actual == actual


def test_qualitative_weight_with_fraction() -> None:
    indicator = ind("k", "effect", "social", "qualitative", "好", D("7.5"))
    assert indicator_score(indicator, "较好", P).score == D("6.00")
    assert indicator_score(indicator, "一般", P).score == D("4.50")


def test_qualitative_shares_are_the_rulesets() -> None:
    """The share each grade earns is read from the ruleset: change it, the score (and whether the target is met)
    changes with it."""
    strict = dataclasses.replace(
        P, qualitative_shares=(("好", D("0.9")), ("较好", D("0.5")), ("一般", D("0.3")), ("较差", D("0.1")))
    )
    indicator = ind("k", "effect", "social", "qualitative", "较好", D(10))
    assert [indicator_score(indicator, grade, strict).score for grade in ("好", "较好", "一般", "较差")] == [
        D("9.00"),
        D("5.00"),
        D("3.00"),
        D("1.00"),
    ]
    assert [indicator_score(indicator, grade, strict).met for grade in ("好", "较好", "一般", "较差")] == [
        True,
        True,
        False,
        False,
    ]
    goals = [
        ind("a", "output", "quantity", ">=", D(100), D(50)),
        ind("b", "effect", "social", "qualitative", "好", D(30)),
        ind("c", "satisfaction", "service_users", ">=", D(90), D(10)),
    ]
    actuals: dict[str, Decimal | str] = {"a": D(100), "b": "较好", "c": D(90)}
    default = self_evaluation_score(goals, actuals, D(100), D(100), P)
    stricter = self_evaluation_score(goals, actuals, D(100), D(100), strict)
    assert (default.total, stricter.total) == (D("94.00"), D("85.00"))  # 50 + 30 × 0.8 (0.5) + 10 + 10


@pytest.mark.parametrize("actual", ["很好", "good", D(1), ""])
def test_qualitative_refuses_unknown_actual(actual: Decimal | str) -> None:
    with pytest.raises(InvalidInput) as caught:
        indicator_score(ind("k", "effect", "social", "qualitative", "好", D(10)), actual, P)
    assert caught.value.field == "actuals.k"


@pytest.mark.parametrize("actual", ["好", "many", 3.5, True])
def test_quantitative_refuses_non_numeric_actual(actual: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        indicator_score(ind("k"), actual, P)  # type: ignore[arg-type]
    assert caught.value.field == "actuals.k"


def test_quantitative_accepts_decimal_string_actual() -> None:
    result = indicator_score(ind("k", target=D(200), weight=D(10)), "150", P)
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
    result = indicator_score(ind("k", operator=operator, target=target, weight=weight), actual, P)
    assert D(0) <= result.score <= weight
    if result.met:
        assert result.score == weight


@given(target=qualities, actual=qualities, weight=weights)
def test_property_qualitative_score_within_weight(target: str, actual: str, weight: Decimal) -> None:
    result = indicator_score(ind("k", "effect", "social", "qualitative", target, weight), actual, P)
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
