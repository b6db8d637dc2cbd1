"""Rules at the edges the mutation run (``make mutate``) found untested: each test pins one boundary or refusal of
ledger.domain.rules, so that a changed comparison, constant or check fails it.

Refusals are matched by the error's type and the field it names, never by its message.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from ledger.domain import rules
from ledger.domain.errors import InvalidInput
from tests.ledger.domain.rules_edges import WEIGHTS, D, P, indicator, refused_field, wrong

# ---------------------------------------------------------------------------
# Monitoring: the months a report may cover (DOMAIN.md: a report "through month M", M of 1..12)
# ---------------------------------------------------------------------------


def test_a_deviation_report_at_month_1_is_accepted() -> None:
    result = rules.deviation_level(1, D("0.00"), D("100.00"), {}, P)
    assert result.level is None  # no checkpoint before April: nothing executed is no deviation yet
    assert result.reasons == ()
    assert result.time_progress == D("8.33")
    assert result.execution_rate == D("0.00")


def test_a_deviation_report_at_month_1_still_checks_indicator_lag() -> None:
    result = rules.deviation_level(1, D("20.00"), D("100.00"), {"students": D("9.99")}, P)
    assert result.level == "yellow"
    assert len(result.reasons) == 1


def test_a_deviation_report_at_month_12_is_accepted() -> None:
    result = rules.deviation_level(12, D("80.00"), D("100.00"), {}, P)
    assert result.level is None
    assert result.time_progress == D("100.00")


@pytest.mark.parametrize("month", [0, 13, True, "6"])
def test_a_deviation_report_outside_the_year_is_refused(month: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.deviation_level(month, D("50.00"), D("100.00"), {}, P)
    assert refused_field(caught) == "month"


# ---------------------------------------------------------------------------
# An approved budget between 0 and 1 yuan is a budget: execution is measured against it
# ---------------------------------------------------------------------------


def test_self_evaluation_against_an_approved_budget_under_one_yuan() -> None:
    goals = [indicator(weight=D(90))]
    result = rules.self_evaluation_score(goals, {"k": D(100)}, D("0.25"), D("0.50"), P)
    assert result.execution_rate == D("50.00")
    assert result.execution_score == D("5.00")
    assert result.total == D("95.00")


def test_deviation_against_an_approved_budget_under_one_yuan() -> None:
    result = rules.deviation_level(6, D("0.25"), D("0.50"), {}, P)
    assert result.execution_rate == D("50.00")
    assert result.level is None  # 50% is above June's 40%


def test_an_approved_budget_of_one_fen_is_measured() -> None:
    result = rules.deviation_level(6, D("0.01"), D("0.01"), {}, P)
    assert result.execution_rate == D("100.00")
    assert result.level is None


# ---------------------------------------------------------------------------
# indicator_score: the weight it is given
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [D(-1), D("-0.01"), D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity"), 10, "10"])
def test_indicator_score_refuses_a_negative_non_finite_or_non_decimal_weight(weight: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.indicator_score(indicator(weight=weight), D(100), P)
    assert refused_field(caught) == "weight"
    assert caught.value.code == "invalid-weights"


def test_indicator_score_accepts_a_zero_weight() -> None:
    result = rules.indicator_score(indicator(weight=D(0)), D(100), P)
    assert result.score == D("0.00")
    assert result.met is True


def test_a_weight_finer_than_a_fen_never_scores_above_itself() -> None:
    result = rules.indicator_score(indicator(weight=D("0.005")), D(100), P)
    assert result.score == D("0.00")  # 0.005 half-up would be 0.01, more than the weight: rounded down instead
    assert result.score <= result.weight


@pytest.mark.parametrize(
    ("weight", "score"), [(D("0.015"), D("0.01")), (D("0.025"), D("0.02")), (D("1.005"), D("1.00"))]
)
def test_a_weight_in_part_fen_caps_the_score_rounded_down(weight: Decimal, score: Decimal) -> None:
    # Half up would give 0.02, 0.03, 1.01: more than the weight. Capped, it is rounded down, never to even.
    assert rules.indicator_score(indicator(weight=weight), D(100), P).score == score


def test_a_qualitative_score_keeps_its_key_weight_and_actual() -> None:
    result = rules.indicator_score(indicator("qualitative", "好", D(10)), "较好", P)
    assert (result.key, result.weight, result.actual, result.score, result.met) == (
        "k",
        D(10),
        "较好",
        D("8.00"),
        False,
    )


def test_a_share_rounded_up_to_the_weight_is_kept() -> None:
    # 0.995 of a weight of 1 rounds half up to 1.00: not more than the weight, so kept as is.
    result = rules.indicator_score(indicator(">=", D(200), D(1)), D(199), P)
    assert result.score == D("1.00")


# ---------------------------------------------------------------------------
# A partly met indicator whose target or actual is exactly 1 (or -1): scored by the ratio, not as zero
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "target", "actual", "score"),
    [
        (">=", D(4), D(1), D("2.50")),  # actual 1 of 4
        (">", D(4), D(1), D("2.50")),
        (">=", D(1), D("0.5"), D("5.00")),  # target 1, half of it done
        (">", D(1), D("0.5"), D("5.00")),
        ("<=", D(1), D(4), D("2.50")),  # target at most 1, actual 4
        ("<", D(1), D(4), D("2.50")),
        ("<=", D("0.5"), D(1), D("5.00")),  # actual 1 against at most 0.5
        ("=", D(1), D(2), D("5.00")),
        ("=", D(2), D(1), D("5.00")),
        (">=", D(-1), D(-4), D("2.50")),  # both negative: the ratio of the magnitudes
        ("<=", D(-4), D(-1), D("2.50")),
    ],
)
def test_partly_met_indicator_at_one(operator: str, target: Decimal, actual: Decimal, score: Decimal) -> None:
    result = rules.indicator_score(indicator(operator, target), actual, P)
    assert result.met is False
    assert result.score == score
    assert result.actual == actual


@pytest.mark.parametrize(
    ("operator", "target", "actual"),
    [(">=", D(1), D(1)), ("<=", D(1), D(1)), ("=", D(1), D(1)), (">", D(1), D("1.01")), ("<", D(1), D("0.99"))],
)
def test_met_indicator_at_one(operator: str, target: Decimal, actual: Decimal) -> None:
    result = rules.indicator_score(indicator(operator, target), actual, P)
    assert result.met is True
    assert result.score == D("10.00")


@pytest.mark.parametrize(("operator", "target", "actual"), [(">", D(1), D(1)), ("<", D(1), D(1))])
def test_a_strict_target_reached_exactly_is_not_met(operator: str, target: Decimal, actual: Decimal) -> None:
    result = rules.indicator_score(indicator(operator, target), actual, P)
    assert result.met is False
    assert result.score == D("10.00")  # the ratio is 1: the full weight, though not met


@pytest.mark.parametrize(("target", "actual"), [(D(1), D(-1)), (D(-1), D(1)), (D(4), D(-1))])
def test_actual_and_target_of_opposite_signs_score_nothing(target: Decimal, actual: Decimal) -> None:
    result = rules.indicator_score(indicator("=", target), actual, P)
    assert result.met is False
    assert result.score == D("0.00")


def test_an_indicator_score_keeps_its_key_and_weight() -> None:
    result = rules.indicator_score(indicator(weight=D("7.5")), D(50), P)
    assert (result.key, result.weight, result.score) == ("k", D("7.5"), D("3.75"))


# ---------------------------------------------------------------------------
# The ruleset's own limits
# ---------------------------------------------------------------------------


def test_whole_number_parameters_of_1_are_accepted() -> None:
    dataclasses.replace(P, blacklist_years=1, deadline_warning_days=1, deviation_response_working_days=1).validate()


@pytest.mark.parametrize("changes", [{"grade_good_min": D(90)}, {"grade_fair_min": D(80)}])
def test_grade_thresholds_that_meet_are_refused(changes: dict[str, Decimal]) -> None:
    with pytest.raises(InvalidInput) as caught:
        dataclasses.replace(P, **wrong(changes)).validate()
    assert refused_field(caught) == "grade_good_min"


def test_grade_thresholds_one_hundredth_apart_are_accepted() -> None:
    dataclasses.replace(P, grade_excellent_min=D("80.02"), grade_good_min=D("80.01"), grade_fair_min=D(80)).validate()


def test_deviation_thresholds_may_start_in_january_and_end_in_december() -> None:
    params = dataclasses.replace(P, deviation_thresholds=((1, D(5)), (12, D(95))))
    params.validate()
    assert rules.deviation_level(1, D("4.99"), D(100), {}, params).level == "yellow"
    assert rules.deviation_level(12, D("95.00"), D(100), {}, params).level is None


# ---------------------------------------------------------------------------
# Malformed re-evaluation weights
# ---------------------------------------------------------------------------


def with_weights(weights: Any) -> rules.RuleParameters:
    return dataclasses.replace(P, re_evaluation_weights=weights)


@pytest.mark.parametrize(
    ("weights", "field"),
    [
        ((), "re_evaluation_weights"),
        (list(WEIGHTS), "re_evaluation_weights"),
        ((["decision", D(15)], *WEIGHTS[1:]), "re_evaluation_weights[0]"),
        ((("decision", D(15), D(0)), *WEIGHTS[1:]), "re_evaluation_weights[0]"),
        ((("decision",), *WEIGHTS[1:]), "re_evaluation_weights[0]"),
        (((15, D(15)), *WEIGHTS[1:]), "re_evaluation_weights[0]"),
        ((("", D(15)), *WEIGHTS[1:]), "re_evaluation_weights[0]"),
        ((("  ", D(15)), *WEIGHTS[1:]), "re_evaluation_weights[0]"),
        ((*WEIGHTS[:3], ("output", D(30))), "re_evaluation_weights[3]"),
        ((("decision", D("NaN")), *WEIGHTS[1:]), "re_evaluation_weights[0]"),
        ((("decision", D("Infinity")), *WEIGHTS[1:]), "re_evaluation_weights[0]"),
        ((("decision", 15), *WEIGHTS[1:]), "re_evaluation_weights[0]"),
        ((("decision", D(-15)), ("process", D(50)), ("output", D(35)), ("effect", D(30))), "re_evaluation_weights[0]"),
        ((("output", D("100.01")), ("effect", D("-0.01"))), "re_evaluation_weights[0]"),
        ((("decision", D(15)), ("process", D(20)), ("output", D(35)), ("effect", D(29))), "re_evaluation_weights"),
        (
            (("decision", D("20.01")), ("process", D(20)), ("output", D(30)), ("effect", D("29.99"))),
            "re_evaluation_weights",
        ),
    ],
)
def test_malformed_re_evaluation_weights_are_refused(weights: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        with_weights(weights).validate()
    assert refused_field(caught) == field


def test_re_evaluation_weights_summing_to_100_with_output_and_effect_at_60_pass() -> None:
    with_weights((("decision", D(20)), ("process", D(20)), ("output", D(30)), ("effect", D(30)))).validate()
    with_weights((("output", D(100)),)).validate()  # one dimension may carry everything
    with_weights((("decision", D(0)), ("output", D(60)), ("effect", D(40)))).validate()  # a weight of 0 is allowed


def test_re_evaluation_weights_need_no_output_dimension_when_effect_alone_reaches_60() -> None:
    with_weights((("decision", D(40)), ("effect", D(60)))).validate()
    with_weights((("decision", D(40)), ("output", D(60)))).validate()


def test_weights_sum_and_output_effect_refusals_are_coded_as_weights() -> None:
    for weights in ((("output", D(99)),), (("decision", D(41)), ("output", D(59)))):
        with pytest.raises(InvalidInput) as caught:
            with_weights(weights).validate()
        assert caught.value.code == "invalid-weights"


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("decision", "re_evaluation_weights"),
        ({"decision": "15"}, "re_evaluation_weights"),
        ([["decision"]], "re_evaluation_weights[0]"),
        ([["decision", "15", "0"]], "re_evaluation_weights[0]"),
        ([[15, "15"]], "re_evaluation_weights[0]"),
        ([["decision", "15"], [None, "85"]], "re_evaluation_weights[1]"),
        ([["decision", "fifteen"]], "re_evaluation_weights[0]"),
        ([["decision", 0.15]], "re_evaluation_weights[0]"),
    ],
)
def test_malformed_re_evaluation_weights_from_json_are_refused(value: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.RuleParameters.from_dict({"re_evaluation_weights": value})
    assert refused_field(caught) == field


def test_re_evaluation_weights_from_json_keep_their_order() -> None:
    data = [["effect", "30"], ["output", "35"], ["process", "20"], ["decision", "15"]]
    params = rules.RuleParameters.from_dict({"re_evaluation_weights": data})
    assert params.re_evaluation_weights == tuple((name, D(weight)) for name, weight in data)


# ---------------------------------------------------------------------------
# The rules' values are frozen: a result once computed cannot be edited
# ---------------------------------------------------------------------------


def frozen_values() -> list[object]:
    goals = [indicator(weight=D(90))]
    evaluation = rules.self_evaluation_score(goals, {"k": D(100)}, D(1), D(1), P)
    return [
        P,
        rules.ex_ante_conclusion(dict.fromkeys(rules.EX_ANTE_DIMENSIONS, D(20)), P),
        evaluation,
        evaluation.indicator_scores[0],
        rules.deviation_level(6, D(50), D(100), {}, P),
    ]


@pytest.mark.parametrize("value", frozen_values(), ids=lambda value: type(value).__name__)
def test_rule_values_are_frozen(value: object) -> None:
    first = dataclasses.fields(value)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, first, None)
