"""The overall evaluation's rules (ledger.domain.rules.scoring): the self-evaluation's score of the overall goals,
finance's score on the six dimensions, the control figure's rate by grade and its adjustment, and the default
政策调整 of a grade."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.domain import rules
from ledger.domain.errors import InvalidInput
from tests.ledger.domain.overall_support import dimension_scores, fair_actuals, met_actuals, overall_indicators
from tests.ledger.domain.rules.support import D, P


def test_every_indicator_met_scores_100_and_grades_excellent() -> None:
    result = rules.overall_self_evaluation_score(overall_indicators(), met_actuals(), P)
    assert (result.total, result.grade) == (D(100), "优")
    assert [item.score for item in result.indicator_scores] == [D(20), D(20), D(20), D(20), D(10), D(10)]
    assert all(item.met for item in result.indicator_scores)


def test_shortfalls_score_as_a_projects_indicators_do() -> None:
    result = rules.overall_self_evaluation_score(overall_indicators(), fair_actuals(), P)
    scores = {item.key: item.score for item in result.indicator_scores}
    assert (scores["efficiency"], scores["social"], scores["satisfied"]) == (D(18), D(12), D(8))
    assert (result.total, result.grade) == (D(88), "良")


def test_the_qualitative_shares_and_grade_thresholds_are_the_rulesets() -> None:
    params = dataclasses.replace(
        P,
        qualitative_shares=(("好", D(1)), ("较好", D("0.9")), ("一般", D("0.8")), ("较差", D(0))),
        grade_excellent_min=D(95),
        grade_good_min=D(85),
    )
    result = rules.overall_self_evaluation_score(overall_indicators(), fair_actuals(), params)
    assert (result.total, result.grade) == (D(92), "良")  # 一般 now 16 of 20


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda a: {k: v for k, v in a.items() if k != "duty"}, "actuals.duty"),
        (lambda a: {**a, "extra": D(1)}, "actuals.extra"),
        (lambda a: {**a, "social": "很好"}, "actuals.social"),
        (lambda a: {**a, "cost": "一百"}, "actuals.cost"),
    ],
)
def test_actuals_must_answer_exactly_the_indicators(change: object, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        rules.overall_self_evaluation_score(overall_indicators(), change(met_actuals()), P)  # type: ignore[operator]
    assert raised.value.field == field


def test_indicators_with_a_key_twice_are_refused() -> None:
    indicators = overall_indicators()
    with pytest.raises(InvalidInput) as raised:
        rules.overall_self_evaluation_score([*indicators, indicators[0]], met_actuals(), P)
    assert (raised.value.code, raised.value.field) == ("invalid-indicator", "indicators")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "indicator.name"),
        ({"operator": "≥"}, "indicator.operator"),
        ({"target": "较好"}, "indicator.target"),  # a quantitative indicator's target is a number
    ],
)
def test_an_indicator_that_cannot_be_measured_is_refused_naming_what_is_wrong(
    change: dict[str, object], field: str
) -> None:
    indicators = overall_indicators()
    indicators[2] = dataclasses.replace(indicators[2], **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as raised:
        rules.overall_self_evaluation_score(indicators, met_actuals(), P)
    assert (raised.value.code, raised.value.field) == ("invalid-indicator", field)


def test_no_indicators_total_a_decimal_zero() -> None:
    """The total is recorded in the log as a Decimal, even of goals with nothing to score (not the integer 0)."""
    result = rules.overall_self_evaluation_score([], {}, P)
    assert (result.indicator_scores, result.total, result.grade) == ((), D(0), "差")
    assert isinstance(result.total, D)


def test_finances_evaluation_sums_the_six_dimensions_within_their_weights() -> None:
    assert rules.overall_evaluation_total(dimension_scores(), P) == D(100)
    assert rules.overall_evaluation_total(dimension_scores(10, 15, 25, 12, 8, 7), P) == D(77)
    with pytest.raises(InvalidInput) as above:
        rules.overall_evaluation_total(dimension_scores(duty_performance=31), P)
    assert (above.value.code, above.value.field) == ("invalid-score", "scores.duty_performance")
    scores = dimension_scores()
    del scores["satisfaction"]
    with pytest.raises(InvalidInput) as missing:
        rules.overall_evaluation_total(scores, P)
    assert missing.value.field == "scores.satisfaction"
    with pytest.raises(InvalidInput) as unknown:
        rules.overall_evaluation_total({**dimension_scores(), "decision": D(1)}, P)
    assert unknown.value.field == "scores.decision"


def test_the_weights_are_the_rulesets() -> None:
    params = dataclasses.replace(
        P,
        overall_evaluation_weights=(
            ("running_cost", D(10)),
            ("management_efficiency", D(10)),
            ("duty_performance", D(50)),
            ("social_effect", D(10)),
            ("sustainability", D(10)),
            ("satisfaction", D(10)),
        ),
    )
    params.validate()
    assert rules.overall_evaluation_total(dimension_scores(10, 10, 45, 10, 10, 10), params) == D(95)
    with pytest.raises(InvalidInput):
        rules.overall_evaluation_total(dimension_scores(), params)  # 15 for running_cost is now above its 10


@pytest.mark.parametrize(("grade", "rate"), [("优", D("0.05")), ("良", D(0)), ("中", D("-0.05")), ("差", D("-0.10"))])
def test_each_grade_moves_the_control_figure_by_the_rulesets_rate(grade: str, rate: D) -> None:
    assert rules.control_figure_rate(grade, P) == rate
    custom = dataclasses.replace(P, control_figure_rates=(("优", D("0.1")), ("良", D(0)), ("中", D(0)), ("差", D(-1))))
    assert rules.control_figure_rate("差", custom) == D(-1)
    with pytest.raises(InvalidInput) as raised:
        rules.control_figure_rate("好", P)
    assert (raised.value.code, raised.value.field) == ("invalid-value", "grade")


@pytest.mark.parametrize(
    ("base", "rate", "amount", "adjusted", "decision"),
    [
        ("12000000.00", "0.05", "600000.00", "12600000.00", "increase"),
        ("12000000.00", "0", "0.00", "12000000.00", "maintain"),
        ("12000000.00", "-0.1", "-1200000.00", "10800000.00", "reduce"),
        ("333.33", "-0.0333", "-11.10", "322.23", "reduce"),  # 11.099889 → 11.10, half up
        ("0.10", "-0.0001", "0.00", "0.10", "reduce"),  # no negative zero: -0.00001 → 0.00
        ("100.00", "-1", "-100.00", "0.00", "reduce"),
        ("100.00", "1", "100.00", "200.00", "increase"),  # a rate of 1 doubles the figure: the top of [-1, 1]
        ("12.50", "0.01", "0.13", "12.63", "increase"),  # 0.125: half up, not to even (0.12)
        ("12.50", "-0.01", "-0.13", "12.37", "reduce"),  # -0.125: half away from zero
    ],
)
def test_the_adjustment_is_the_rate_of_this_years_figure_to_the_fen(
    base: str, rate: str, amount: str, adjusted: str, decision: str
) -> None:
    result = rules.adjust_control_figure(D(base), D(rate))
    assert (result.base, result.rate, result.amount, result.adjusted, result.decision) == (
        D(base),
        D(rate),
        D(amount),
        D(adjusted),
        decision,
    )
    assert str(result.amount) == amount


@pytest.mark.parametrize(
    ("base", "rate", "field"),
    [
        ("0.00", "0.05", "control_figure"),
        ("-1.00", "0.05", "control_figure"),
        ("1.001", "0.05", "control_figure"),
        ("100.00", "1.01", "rate"),
        ("100.00", "-1.0001", "rate"),
        ("100.00", "0.00001", "rate"),
        ("100.00", "NaN", "rate"),
        ("100.00", "五成", "rate"),
    ],
)
def test_a_control_figure_is_money_and_a_rate_a_share_to_001_percent(base: str, rate: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        rules.adjust_control_figure(D(base) if base[0].isdigit() or base[0] == "-" else base, rate)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_a_rate_is_given_as_a_decimal_never_a_float() -> None:
    with pytest.raises(InvalidInput):
        rules.adjustment_rate(0.05)
    assert rules.adjustment_rate("-0.0500") == D("-0.05")
    assert str(rules.adjustment_rate("-0")) == "0"


@pytest.mark.parametrize(
    ("grade", "decision"), [("优", "continue"), ("良", "continue"), ("中", "adjust"), ("差", "terminate")]
)
def test_a_policys_default_decision_follows_its_grade(grade: str, decision: str) -> None:
    assert rules.policy_decision_default(grade) == decision


def test_a_grade_outside_the_four_has_no_policy_decision() -> None:
    with pytest.raises(InvalidInput) as raised:
        rules.policy_decision_default("好")
    assert (raised.value.code, raised.value.field) == ("invalid-value", "grade")
