"""Unit tests for ledger.domain.rules.parameters: the ruleset's schema, its validation and its stored form."""

from __future__ import annotations

import dataclasses
import json

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.parameters import RuleParameters
from tests.ledger.domain.rules.support import D, P

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
