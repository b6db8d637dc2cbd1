"""Unit tests for ledger.domain.rules.parameters: the ruleset's schema, its validation and its stored form.

Over 500 lines: one test for each parameter's refusals, which the mutation run (make mutate) holds to every branch.
"""

from __future__ import annotations

import dataclasses
import json
import re
from types import MappingProxyType
from typing import Any

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.rules import parameters
from ledger.domain.rules.parameter_checks import LABELS
from ledger.domain.rules.parameters import RuleParameters
from tests.ledger.domain.rules.support import D, P

CHINESE = re.compile("[\u4e00-\u9fff]")
WORDS = re.compile("[A-Za-z]+ [A-Za-z]+")


def says_why(error: InvalidInput) -> str | None:
    """The parameter a refusal names, once its detail is seen to name it in Chinese first and to say why in Chinese,
    then in English (whatever the wording): ``中文名称（field）原因; field reason``."""
    detail, field = error.detail, error.field
    assert field is not None
    assert CHINESE.match(detail), detail  # a Chinese name first
    chinese, _, english = detail.partition("; ")
    name = LABELS.get(field.split("[")[0], "规则参数")
    assert CHINESE.search(chinese.replace(name, "").replace(f"（{field}）", "")), detail  # why, in Chinese
    assert WORDS.search(english.replace(field, "")), detail  # why, in English
    return field


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> dict[object, RuleParameters]:
    """RuleParameters.from_stored's parses, none yet: a test's forms are its own (the process may have parsed the
    same ones before)."""
    forms: dict[object, RuleParameters] = {}
    monkeypatch.setattr(parameters, "_STORED", forms)
    return forms


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
    assert says_why(caught.value) == "excution_rate_weight"


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
    assert says_why(caught.value) == field


def test_from_dict_refuses_non_mapping() -> None:
    with pytest.raises(InvalidInput) as caught:
        RuleParameters.from_dict([("reduce_rate", "0.1")])  # type: ignore[arg-type]
    assert (caught.value.code, says_why(caught.value)) == ("invalid-rule-parameter", "parameters")


def test_a_value_of_the_wrong_type_is_refused_as_it_is_read_before_any_rule() -> None:
    """from_dict refuses a month given as text as it reads it, before the rules the values must follow: the refusal
    names the month, not a fault the rules would find elsewhere."""
    with pytest.raises(InvalidInput) as caught:
        RuleParameters.from_dict({"blacklist_years": 0, "deviation_thresholds": [["April", "25"]]})
    assert says_why(caught.value) == "deviation_thresholds[0]"


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
        (
            {"re_evaluation_weights": (("", D(15)), ("process", D(20)), ("output", D(35)), ("effect", D(30)))},
            "re_evaluation_weights[0]",
        ),
        ({"overall_goals_budget_threshold": D("-1.00")}, "overall_goals_budget_threshold"),
        ({"overall_goals_budget_threshold": D("0.001")}, "overall_goals_budget_threshold"),
        # What a caller outside the type checker could pass: each refused, naming the parameter.
        ({"deviation_thresholds": [(4, D(25))]}, "deviation_thresholds"),  # a list, not a tuple
        ({"deviation_thresholds": ((4, D(25), D(1)),)}, "deviation_thresholds[0]"),
        ({"qualitative_shares": list(P.qualitative_shares)}, "qualitative_shares"),
        (
            {"qualitative_shares": (("好", D(1)), ("较好", D("NaN")), ("一般", D("0.6")), ("较差", D(0)))},
            "qualitative_shares[1]",
        ),
        ({"overall_goals_coverage": [(2021, D(60))]}, "overall_goals_coverage"),
        ({"overall_goals_coverage": ((2021.0, D(60)),)}, "overall_goals_coverage[0]"),
        ({"overall_goals_coverage": (("2021", D(60)),)}, "overall_goals_coverage[0]"),
        ({"overall_goals_coverage": ((2021, D("NaN")),)}, "overall_goals_coverage[0]"),
        ({"overall_goals_coverage": ((2021, 60),)}, "overall_goals_coverage[0]"),
        ({"self_evaluation_due": (True, 3, 31)}, "self_evaluation_due"),
        ({"self_evaluation_due": (1, 3, 31.0)}, "self_evaluation_due"),
        ({"overall_evaluation_weights": list(P.overall_evaluation_weights)}, "overall_evaluation_weights"),
        (
            {"overall_evaluation_weights": (("running_cost",), *P.overall_evaluation_weights[1:])},
            "overall_evaluation_weights[0]",
        ),
        (
            {
                "overall_evaluation_weights": (
                    *P.overall_evaluation_weights[:2],
                    ("duty_performance", D("NaN")),
                    *P.overall_evaluation_weights[3:],
                )
            },
            "overall_evaluation_weights[2]",
        ),
        ({"control_figure_rates": list(P.control_figure_rates)}, "control_figure_rates"),
        ({"control_figure_rates": (*P.control_figure_rates[:3], ("差", D("-0.10"), D(0)))}, "control_figure_rates[3]"),
        (
            {"control_figure_rates": (P.control_figure_rates[0], ("良", 0), *P.control_figure_rates[2:])},
            "control_figure_rates[1]",  # an int, not a Decimal
        ),
    ],
)
def test_validate_refuses_inconsistent_parameters(changes: dict[str, object], field: str) -> None:
    params = dataclasses.replace(P, **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as caught:
        params.validate()
    assert says_why(caught.value) == field


def test_re_evaluation_output_plus_effect_exactly_60_is_allowed() -> None:
    params = dataclasses.replace(
        P, re_evaluation_weights=(("decision", D(20)), ("process", D(20)), ("output", D(30)), ("effect", D(30)))
    )
    params.validate()


def test_empty_deviation_thresholds_are_allowed() -> None:
    dataclasses.replace(P, deviation_thresholds=()).validate()


# ---------------------------------------------------------------------------
# The parameters issue 16 moved out of the code, and the plan's floor under the re-evaluation rate
# ---------------------------------------------------------------------------


def test_the_new_parameters_default_to_the_numbers_the_code_used() -> None:
    assert P.goal_submission_due == (-1, 10, 31)
    assert P.monitoring_report_month == 7
    assert P.monitoring_report_due == (0, 8, 15)
    assert P.self_evaluation_due == (1, 3, 31)
    assert P.qualitative_shares == (("好", D(1)), ("较好", D("0.8")), ("一般", D("0.6")), ("较差", D(0)))
    assert P.overall_goals_coverage == ((2021, D(60)), (2022, D(100)))
    assert (P.goals_disclosure_days, P.results_disclosure_days) == (20, 20)
    assert (P.congress_goals_due, P.congress_results_due) == ((-1, 12, 31), (1, 6, 30))
    assert dict(P.overall_evaluation_weights) == {
        "running_cost": D(15),
        "management_efficiency": D(20),
        "duty_performance": D(30),
        "social_effect": D(15),
        "sustainability": D(10),
        "satisfaction": D(10),
    }
    assert P.control_figure_rates == (("优", D("0.05")), ("良", D(0)), ("中", D("-0.05")), ("差", D("-0.10")))


def test_the_new_parameters_are_stored_as_json_and_read_back() -> None:
    data = P.to_dict()
    assert data["goal_submission_due"] == [-1, 10, 31]
    assert data["qualitative_shares"] == [["好", "1"], ["较好", "0.8"], ["一般", "0.6"], ["较差", "0"]]
    assert data["overall_goals_coverage"] == [[2021, "60"], [2022, "100"]]
    custom = dataclasses.replace(
        P,
        goal_submission_due=(0, 1, 15),
        monitoring_report_month=6,
        monitoring_report_due=(0, 7, 20),
        self_evaluation_due=(2, 1, 31),
        qualitative_shares=(("好", D("0.95")), ("较好", D("0.7")), ("一般", D("0.5")), ("较差", D("0.1"))),
        overall_goals_coverage=((2021, D("50.5")), (2023, D(80)), (2025, D(100))),
        goals_disclosure_days=30,
        results_disclosure_days=15,
        congress_goals_due=(0, 1, 10),
        congress_results_due=(2, 2, 28),
        overall_evaluation_weights=(
            ("running_cost", D("12.5")),
            ("management_efficiency", D("17.5")),
            ("duty_performance", D(40)),
            ("social_effect", D(10)),
            ("sustainability", D(10)),
            ("satisfaction", D(10)),
        ),
        control_figure_rates=(("优", D("0.08")), ("良", D("0.02")), ("中", D("0.02")), ("差", D(-1))),
    )
    custom.validate()
    assert RuleParameters.from_dict(json.loads(json.dumps(custom.to_dict()))) == custom


def test_a_ruleset_stored_before_the_new_parameters_reads_with_their_defaults() -> None:
    new = set(_NEW)
    old = {name: value for name, value in P.to_dict().items() if name not in new}
    assert len(old) == len(P.to_dict()) - len(new)
    assert RuleParameters.from_stored(old) == P
    assert RuleParameters.from_dict(old) == P


_NEW = (
    "goal_submission_due",
    "monitoring_report_month",
    "monitoring_report_due",
    "self_evaluation_due",
    "qualitative_shares",
    "overall_goals_coverage",
    "goals_disclosure_days",
    "results_disclosure_days",
    "congress_goals_due",
    "congress_results_due",
    "overall_evaluation_weights",
    "control_figure_rates",
)


_OVERALL_WEIGHTS: list[list[str]] = [
    ["running_cost", "15"],
    ["management_efficiency", "20"],
    ["duty_performance", "30"],
    ["social_effect", "15"],
    ["sustainability", "10"],
    ["satisfaction", "10"],
]


def test_every_parameter_has_a_chinese_name() -> None:
    assert set(LABELS) == {f.name for f in dataclasses.fields(RuleParameters)}


@pytest.mark.parametrize("rate", ["0.0999", "0.05", "0.01", "0", "-0.1"])
def test_a_re_evaluation_rate_below_ten_percent_is_refused(rate: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RuleParameters.from_dict({"re_evaluation_rate": rate})
    assert (caught.value.code, caught.value.field) == ("re-evaluation-rate-below-minimum", "re_evaluation_rate")
    assert "不得低于10%" in caught.value.detail
    assert "may not be below" in caught.value.detail


@pytest.mark.parametrize("rate", ["0.10", "0.1000", "0.15", "1"])
def test_a_re_evaluation_rate_of_ten_percent_or_more_is_accepted(rate: str) -> None:
    assert RuleParameters.from_dict({"re_evaluation_rate": rate}).re_evaluation_rate == D(rate)


def test_a_stored_version_adopted_below_the_floor_keeps_its_rate() -> None:
    """Before adoption enforced the floor a ruleset could say 5%: the ledger still reads it (what was decided under
    it stays decided); only a new adoption is held to the floor."""
    assert RuleParameters.from_stored({"re_evaluation_rate": "0.05"}).re_evaluation_rate == D("0.05")
    dataclasses.replace(P, re_evaluation_rate=D("0.05")).validate(stored=True)
    with pytest.raises(InvalidInput) as caught:
        dataclasses.replace(P, re_evaluation_rate=D("0.05")).validate()
    assert caught.value.code == "re-evaluation-rate-below-minimum"
    with pytest.raises(InvalidInput) as zero:
        RuleParameters.from_stored({"re_evaluation_rate": "0"})  # never below nothing
    assert (zero.value.code, zero.value.field) == ("invalid-rule-parameter", "re_evaluation_rate")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        # The yearly deadlines: (years after the fiscal year, month, day), real days of every year, in order.
        ({"goal_submission_due": [-2, 10, 31]}, "goal_submission_due"),
        ({"goal_submission_due": [1, 1, 31]}, "goal_submission_due"),
        ({"goal_submission_due": [-1, 13, 1]}, "goal_submission_due"),
        ({"goal_submission_due": [-1, 11, 31]}, "goal_submission_due"),
        ({"goal_submission_due": [-1, 2, 29]}, "goal_submission_due"),  # not in every year
        ({"goal_submission_due": [-1, 0, 1]}, "goal_submission_due"),
        ({"goal_submission_due": [-1, 10, 0]}, "goal_submission_due"),
        ({"goal_submission_due": [-1, 10]}, "goal_submission_due"),
        ({"goal_submission_due": [-1, "10", 31]}, "goal_submission_due"),
        ({"goal_submission_due": "2020-10-31"}, "goal_submission_due"),
        ({"goal_submission_due": [0, 9, 1]}, "goal_submission_due"),  # after the monitoring report
        ({"goal_submission_due": [0, 8, 15]}, "goal_submission_due"),  # the monitoring report's own day
        ({"monitoring_report_due": [-1, 12, 31]}, "monitoring_report_due"),
        ({"monitoring_report_due": [2, 1, 15]}, "monitoring_report_due"),
        ({"monitoring_report_due": [0, 7, 31]}, "monitoring_report_due"),  # before July, the last month reported, ends
        ({"monitoring_report_month": 9}, "monitoring_report_due"),  # a September report due in August
        ({"monitoring_report_due": [1, 2, 1]}, "monitoring_report_due"),  # after reports are taken (Y+1)-01-31
        ({"monitoring_report_month": 13}, "monitoring_report_month"),
        ({"monitoring_report_month": 0}, "monitoring_report_month"),
        ({"monitoring_report_month": "7"}, "monitoring_report_month"),
        ({"self_evaluation_due": [0, 12, 31]}, "self_evaluation_due"),
        ({"self_evaluation_due": [3, 3, 31]}, "self_evaluation_due"),
        (
            {"monitoring_report_month": 12, "monitoring_report_due": [1, 1, 31], "self_evaluation_due": [1, 1, 20]},
            "self_evaluation_due",
        ),
        (  # the monitoring report's own day
            {"monitoring_report_month": 12, "monitoring_report_due": [1, 1, 31], "self_evaluation_due": [1, 1, 31]},
            "self_evaluation_due",
        ),
        # Qualitative shares: the four grades in order, each in [0, 1], strictly descending.
        ({"qualitative_shares": [["好", "1"], ["较好", "0.8"], ["一般", "0.6"]]}, "qualitative_shares"),
        ({"qualitative_shares": [["较好", "0.8"], ["好", "1"], ["一般", "0.6"], ["较差", "0"]]}, "qualitative_shares"),
        ({"qualitative_shares": [["好", "1"], ["较好", "1"], ["一般", "0.6"], ["较差", "0"]]}, "qualitative_shares[1]"),
        (
            {"qualitative_shares": [["好", "1.2"], ["较好", "0.8"], ["一般", "0.6"], ["较差", "0"]]},
            "qualitative_shares[0]",
        ),
        (
            {"qualitative_shares": [["好", "1"], ["较好", "0.8"], ["一般", "0.6"], ["较差", "-0.1"]]},
            "qualitative_shares[3]",
        ),
        ({"qualitative_shares": [["好", "1"], ["较好", "0.8"], ["一般", "0.6"], [0, "0"]]}, "qualitative_shares[3]"),
        ({"qualitative_shares": "好:1"}, "qualitative_shares"),
        # Coverage targets: (from year, percent), years ascending within the ledger's, percent in (0, 100].
        ({"overall_goals_coverage": []}, "overall_goals_coverage"),
        ({"overall_goals_coverage": [[2022, "100"], [2021, "60"]]}, "overall_goals_coverage[1]"),
        ({"overall_goals_coverage": [[2021, "60"], [2021, "80"]]}, "overall_goals_coverage[1]"),
        ({"overall_goals_coverage": [[1999, "60"]]}, "overall_goals_coverage[0]"),
        ({"overall_goals_coverage": [[2101, "60"]]}, "overall_goals_coverage[0]"),
        ({"overall_goals_coverage": [["2021", "60"]]}, "overall_goals_coverage[0]"),
        ({"overall_goals_coverage": [[2021, "0"]]}, "overall_goals_coverage[0]"),
        ({"overall_goals_coverage": [[2021, "100.01"]]}, "overall_goals_coverage[0]"),
        ({"overall_goals_coverage": [[2021, 60.0]]}, "overall_goals_coverage[0]"),
        # Disclosure periods and the people's congress.
        ({"goals_disclosure_days": 0}, "goals_disclosure_days"),
        ({"results_disclosure_days": -20}, "results_disclosure_days"),
        ({"results_disclosure_days": "20"}, "results_disclosure_days"),
        ({"congress_goals_due": [1, 1, 31]}, "congress_goals_due"),
        ({"congress_results_due": [0, 12, 31]}, "congress_results_due"),
        ({"congress_results_due": [3, 6, 30]}, "congress_results_due"),
        ({"congress_results_due": [1, 6, 31]}, "congress_results_due"),
        # Overall evaluation: the six dimensions in order, each in (0, 100] (their sum: invalid-weights, below).
        ({"overall_evaluation_weights": _OVERALL_WEIGHTS[1:]}, "overall_evaluation_weights"),
        ({"overall_evaluation_weights": [_OVERALL_WEIGHTS[1], _OVERALL_WEIGHTS[0], *_OVERALL_WEIGHTS[2:]]},
         "overall_evaluation_weights"),
        ({"overall_evaluation_weights": [*_OVERALL_WEIGHTS[:5], ["满意度", "10"]]}, "overall_evaluation_weights"),
        ({"overall_evaluation_weights": [["running_cost", "0"], *_OVERALL_WEIGHTS[1:]]},
         "overall_evaluation_weights[0]"),
        ({"overall_evaluation_weights": [["running_cost", "-5"], *_OVERALL_WEIGHTS[1:]]},
         "overall_evaluation_weights[0]"),
        ({"overall_evaluation_weights": [["running_cost", 15.0], *_OVERALL_WEIGHTS[1:]]},
         "overall_evaluation_weights[0]"),
        ({"overall_evaluation_weights": [["running_cost", "15", "x"], *_OVERALL_WEIGHTS[1:]]},
         "overall_evaluation_weights[0]"),
        # Control-figure rates by grade: 优 良 中 差 in order, each in [-1, 1], never above the better grade's.
        ({"control_figure_rates": [["良", "0"], ["优", "0.05"], ["中", "-0.05"], ["差", "-0.1"]]},
         "control_figure_rates"),
        ({"control_figure_rates": [["优", "0.05"], ["良", "0"], ["中", "-0.05"]]}, "control_figure_rates"),
        ({"control_figure_rates": [["优", "0.05"], ["良", "0.06"], ["中", "-0.05"], ["差", "-0.1"]]},
         "control_figure_rates[1]"),
        ({"control_figure_rates": [["优", "1.01"], ["良", "0"], ["中", "-0.05"], ["差", "-0.1"]]},
         "control_figure_rates[0]"),
        ({"control_figure_rates": [["优", "0.05"], ["良", "0"], ["中", "-0.05"], ["差", "-1.5"]]},
         "control_figure_rates[3]"),
        ({"control_figure_rates": [["优", "NaN"], ["良", "0"], ["中", "-0.05"], ["差", "-0.1"]]},
         "control_figure_rates[0]"),
        ({"control_figure_rates": "优:0.05"}, "control_figure_rates"),
    ],
)  # fmt: skip
def test_the_new_parameters_are_validated_naming_the_parameter(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RuleParameters.from_dict(data)
    assert (caught.value.code, says_why(caught.value)) == ("invalid-rule-parameter", field)
    label = LABELS[field.split("[")[0]]
    assert caught.value.detail.startswith(f"{label}（{field}）")  # Chinese first, the parameter's own name beside it


@pytest.mark.parametrize(
    "data",
    [
        {"goal_submission_due": [0, 1, 31]},  # in the year itself, before the report
        {"monitoring_report_month": 6, "monitoring_report_due": [0, 7, 1]},
        {"monitoring_report_month": 12, "monitoring_report_due": [1, 1, 15]},
        {"self_evaluation_due": [2, 12, 31]},
        {"goal_submission_due": [-1, 2, 28]},
        {"qualitative_shares": [["好", "1"], ["较好", "0.99"], ["一般", "0.01"], ["较差", "0"]]},
        {"overall_goals_coverage": [[2000, "100"]]},
        {"overall_goals_coverage": [[2100, "100"]]},
        {"goals_disclosure_days": 1, "results_disclosure_days": 365},
        {"congress_goals_due": [0, 3, 15], "congress_results_due": [2, 1, 1]},
        {
            "overall_evaluation_weights": [[name, "0.01"] for name, _ in _OVERALL_WEIGHTS[:5]]
            + [["satisfaction", "99.95"]]
        },
        {"control_figure_rates": [["优", "1"], ["良", "1"], ["中", "-1"], ["差", "-1"]]},
        {"control_figure_rates": [["优", "0"], ["良", "0"], ["中", "0"], ["差", "0"]]},
    ],
)
def test_the_new_parameters_accept_what_the_rules_allow(data: dict[str, object]) -> None:
    params = RuleParameters.from_dict(data)
    for name in data:
        assert params.to_dict()[name] == data[name]


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"reduce_rate": "0"}, "reduce_rate", "invalid-rule-parameter"),
        ({"ex_ante_threshold": "-1.00"}, "ex_ante_threshold", "invalid-rule-parameter"),
        ({"blacklist_years": "3"}, "blacklist_years", "invalid-rule-parameter"),
        ({"grade_good_min": "95"}, "grade_good_min", "invalid-rule-parameter"),
        ({"output_weight": "60"}, "output_weight", "invalid-weights"),
        (
            {"overall_evaluation_weights": [["running_cost", "16"], *_OVERALL_WEIGHTS[1:]]},
            "overall_evaluation_weights",
            "invalid-weights",
        ),
        ({"control_figure_rates": [["优", "1"]]}, "control_figure_rates", "invalid-rule-parameter"),
        ({"excution_rate_weight": "10"}, "excution_rate_weight", "invalid-rule-parameter"),
    ],
)
def test_every_refusal_of_a_ruleset_is_in_chinese_and_english(data: dict[str, object], field: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RuleParameters.from_dict(data)
    assert (caught.value.code, says_why(caught.value)) == (code, field)


def test_a_stored_form_is_parsed_once_and_only_the_same_content_shares_it(kept: dict[object, RuleParameters]) -> None:
    data = dataclasses.replace(P, reduce_rate=D("0.12")).to_dict()
    first = RuleParameters.from_stored(data)
    assert RuleParameters.from_stored(json.loads(json.dumps(data))) is first  # the same content, parsed once
    assert RuleParameters.from_stored({**data, "reduce_rate": "0.13"}).reduce_rate == D("0.13")
    assert len(kept) == 2
    mixed: dict[Any, object] = {**data, 1: "x"}  # keys no stored form has
    for wrong, field in (
        ({**data, "blacklist_years": "3"}, "blacklist_years"),
        ({**data, "blacklist_years": True}, "blacklist_years"),
        (mixed, "1"),
    ):
        with pytest.raises(InvalidInput) as caught:  # a type that differs is a different form: refused, not kept
            RuleParameters.from_stored(wrong)
        assert says_why(caught.value) == field
    with pytest.raises(InvalidInput):
        RuleParameters.from_stored({"reduce_rate": D("sNaN")})
    assert len(kept) == 2


def test_stored_forms_differing_only_within_a_list_are_each_read(kept: dict[object, RuleParameters]) -> None:
    low = RuleParameters.from_stored({"deviation_thresholds": [[4, "25"]]})
    high = RuleParameters.from_stored({"deviation_thresholds": [[4, "30"]]})
    assert (low.deviation_thresholds, high.deviation_thresholds) == (((4, D(25)),), ((4, D(30)),))


def test_a_stored_form_of_decimals_is_parsed_once(kept: dict[object, RuleParameters]) -> None:
    """A caller in Python may hold a version's numbers as Decimals: equal ones are the same content."""
    first = RuleParameters.from_stored({"reduce_rate": D("0.12"), "deviation_thresholds": ((4, D(25)),)})
    assert RuleParameters.from_stored({"reduce_rate": D("0.12"), "deviation_thresholds": ((4, D(25)),)}) is first


def test_the_parsed_forms_kept_are_bounded(kept: dict[object, RuleParameters]) -> None:
    for days in range(1, parameters._STORED_MAX + 2):
        assert RuleParameters.from_stored({"deadline_warning_days": days}).deadline_warning_days == days
        assert len(kept) <= parameters._STORED_MAX


class Text(str):
    """Text of a type JSON never gives."""

    __slots__ = ()


def test_a_stored_form_of_types_json_never_gives_is_read_afresh_each_time(kept: dict[object, RuleParameters]) -> None:
    """A Mapping not a dict, a str of a subclass: no content keys them, so each such form is parsed afresh, never
    taken for another (keyed by its id, a form freed was read for the next one made, which took its id)."""
    for rate in ("0.11", "0.12", "0.13", "0.14", "0.15", "0.16", "0.17", "0.18"):
        assert RuleParameters.from_stored(MappingProxyType({"reduce_rate": rate})).reduce_rate == D(rate)
        assert RuleParameters.from_stored({"reduce_rate": Text(rate)}).reduce_rate == D(rate)
    assert not kept
    # Read as stored all the same: a rate adopted below the floor before it was enforced is kept.
    stored = RuleParameters.from_stored(MappingProxyType({"re_evaluation_rate": "0.05"}))
    assert stored.re_evaluation_rate == D("0.05")
