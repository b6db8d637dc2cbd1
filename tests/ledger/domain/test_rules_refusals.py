"""Every refusal of ledger.domain.rules, as the mutation run (``make mutate``) found them untested: its type, the
field it names and its code (what an HTTP client reads in the problem document), and a detail text for a person —
never its wording.

Over 500 lines: one table of refusals, a row per refusal of every rule, read and checked together.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from ledger.domain import rules
from ledger.domain.errors import DomainError, InvalidInput, RuleViolation
from ledger.domain.values import Indicator
from tests.ledger.domain.rules_edges import D, P, indicator, wrong

# ---------------------------------------------------------------------------
# Every refusal's contract: its type, the field it names and its code (what an HTTP client reads in the problem
# document), and a detail text for a person — never its wording
# ---------------------------------------------------------------------------


def goals(*changes: tuple[int, dict[str, Any]]) -> list[Indicator]:
    """The nutrition programme's goals (output 50 with cost, effect 30, satisfaction 10), some indicators changed."""
    base = [
        Indicator("students", "output", "quantity", "受益学生人数", ">=", D(5000), "人", D(30)),
        Indicator("days", "output", "timeliness", "供餐天数", ">=", D(200), "天", D(10)),
        Indicator("cost", "cost", "economic", "生均每餐成本", "<=", D(5), "元", D(10)),
        Indicator("health", "effect", "social", "学生体质健康达标率", ">=", D(92), "%", D(30)),
        Indicator("parents", "satisfaction", "service_users", "家长满意度", ">=", D(90), "%", D(10)),
    ]
    for index, fields in changes:
        base[index] = dataclasses.replace(base[index], **fields)
    return base


ACTUALS = {"students": D(5000), "days": D(200), "cost": D(5), "health": D(92), "parents": D(90)}
POPULATION = [f"P{n:02d}" for n in range(20)]

REFUSALS: list[tuple[str, Any, type[Exception], str | None, str]] = [
    # (what, the call, the error, its field, its code)
    (
        "parameters not a mapping",
        lambda: rules.RuleParameters.from_dict(wrong([])),
        InvalidInput,
        "parameters",
        "invalid-rule-parameter",
    ),
    (
        "unknown parameter",
        lambda: rules.RuleParameters.from_dict({"colour": "red"}),
        InvalidInput,
        "colour",
        "invalid-rule-parameter",
    ),
    (
        "threshold month not whole",
        lambda: rules.RuleParameters.from_dict({"deviation_thresholds": [["4", "25"]]}),
        InvalidInput,
        "deviation_thresholds[0]",
        "invalid-rule-parameter",
    ),
    (
        "threshold rate not a number",
        lambda: rules.RuleParameters.from_dict({"deviation_thresholds": [[4, "x"]]}),
        InvalidInput,
        "deviation_thresholds[0]",
        "invalid-rule-parameter",
    ),
    (
        "whole-number parameter not whole",
        lambda: rules.RuleParameters.from_dict({"blacklist_years": "3"}),
        InvalidInput,
        "blacklist_years",
        "invalid-rule-parameter",
    ),
    (
        "weight parameter not a number",
        lambda: rules.RuleParameters.from_dict({"effect_weight": "thirty"}),
        InvalidInput,
        "effect_weight",
        "invalid-rule-parameter",
    ),
    (
        "whole-number parameter zero",
        lambda: dataclasses.replace(P, blacklist_years=0).validate(),
        InvalidInput,
        "blacklist_years",
        "invalid-rule-parameter",
    ),
    (
        "decimal parameter not finite",
        lambda: dataclasses.replace(P, effect_weight=D("Infinity")).validate(),
        InvalidInput,
        "effect_weight",
        "invalid-rule-parameter",
    ),
    (
        "points above 100",
        lambda: dataclasses.replace(P, red_margin_points=D(101)).validate(),
        InvalidInput,
        "red_margin_points",
        "invalid-rule-parameter",
    ),
    (
        "grade threshold above 100",
        lambda: dataclasses.replace(P, grade_good_min=D(101)).validate(),
        InvalidInput,
        "grade_good_min",
        "invalid-rule-parameter",
    ),
    (
        "lag points above 100",
        lambda: dataclasses.replace(P, indicator_lag_points=D("100.01")).validate(),
        InvalidInput,
        "indicator_lag_points",
        "invalid-rule-parameter",
    ),
    (
        "inflation threshold negative",
        lambda: dataclasses.replace(P, inflation_threshold=D(-1)).validate(),
        InvalidInput,
        "inflation_threshold",
        "invalid-rule-parameter",
    ),
    (
        "threshold month a boolean",
        lambda: dataclasses.replace(P, deviation_thresholds=((True, D(25)),)).validate(),
        InvalidInput,
        "deviation_thresholds[0]",
        "invalid-rule-parameter",
    ),
    (
        "threshold month 13",
        lambda: dataclasses.replace(P, deviation_thresholds=((13, D(25)),)).validate(),
        InvalidInput,
        "deviation_thresholds[0]",
        "invalid-rule-parameter",
    ),
    (
        "weights not summing to 100",
        lambda: dataclasses.replace(P, output_weight=D(51)).validate(),
        InvalidInput,
        "output_weight",
        "invalid-weights",
    ),
    (
        "grades not descending",
        lambda: dataclasses.replace(P, grade_good_min=D(60)).validate(),
        InvalidInput,
        "grade_good_min",
        "invalid-rule-parameter",
    ),
    (
        "thresholds not a tuple",
        lambda: dataclasses.replace(P, deviation_thresholds=wrong([(4, D(25))])).validate(),
        InvalidInput,
        "deviation_thresholds",
        "invalid-rule-parameter",
    ),
    (
        "threshold not a pair",
        lambda: dataclasses.replace(P, deviation_thresholds=wrong(((4,),))).validate(),
        InvalidInput,
        "deviation_thresholds[0]",
        "invalid-rule-parameter",
    ),
    (
        "threshold as a list",
        lambda: dataclasses.replace(P, deviation_thresholds=wrong(([4, D(25)],))).validate(),
        InvalidInput,
        "deviation_thresholds[0]",
        "invalid-rule-parameter",
    ),
    (
        "threshold months not ascending",
        lambda: dataclasses.replace(P, deviation_thresholds=((6, D(40)), (6, D(50)))).validate(),
        InvalidInput,
        "deviation_thresholds[1]",
        "invalid-rule-parameter",
    ),
    (
        "threshold rate not finite",
        lambda: dataclasses.replace(P, deviation_thresholds=((4, D("NaN")),)).validate(),
        InvalidInput,
        "deviation_thresholds[0]",
        "invalid-rule-parameter",
    ),
    (
        "threshold money negative",
        lambda: dataclasses.replace(P, ex_ante_threshold=D("-0.01")).validate(),
        InvalidInput,
        "ex_ante_threshold",
        "invalid-rule-parameter",
    ),
    (
        "threshold money in part-fen",
        lambda: dataclasses.replace(P, ex_ante_threshold=D("0.001")).validate(),
        InvalidInput,
        "ex_ante_threshold",
        "invalid-rule-parameter",
    ),
    (
        "ex-ante scores missing a dimension",
        lambda: rules.ex_ante_conclusion(dict.fromkeys(rules.EX_ANTE_DIMENSIONS[1:], D(20)), P),
        InvalidInput,
        "scores.necessity",
        "invalid-value",
    ),
    (
        "ex-ante scores with an unknown dimension",
        lambda: rules.ex_ante_conclusion({**dict.fromkeys(rules.EX_ANTE_DIMENSIONS, D(20)), "luck": D(1)}, P),
        InvalidInput,
        "scores.luck",
        "invalid-value",
    ),
    (
        "ex-ante score above the points",
        lambda: rules.ex_ante_conclusion({**dict.fromkeys(rules.EX_ANTE_DIMENSIONS, D(20)), "economy": D(21)}, P),
        InvalidInput,
        "scores.economy",
        "invalid-score",
    ),
    ("goals empty", lambda: rules.validate_goals([], P), InvalidInput, "goals", "invalid-indicator"),
    (
        "goal not an indicator",
        lambda: rules.validate_goals(wrong(["students"]), P),
        InvalidInput,
        "goals[0]",
        "invalid-indicator",
    ),
    (
        "goal without key",
        lambda: rules.validate_goals(goals((1, {"key": " "})), P),
        InvalidInput,
        "goals[1].key",
        "invalid-indicator",
    ),
    (
        "goal without name",
        lambda: rules.validate_goals(goals((2, {"name": ""})), P),
        InvalidInput,
        "goals[2].name",
        "invalid-indicator",
    ),
    (
        "goal of an unknown dimension",
        lambda: rules.validate_goals(goals((0, {"level1": "luck"})), P),
        InvalidInput,
        "goals[0].level1",
        "invalid-indicator",
    ),
    (
        "goal of a level 2 outside its level 1",
        lambda: rules.validate_goals(goals((0, {"level2": "social"})), P),
        InvalidInput,
        "goals[0].level2",
        "invalid-indicator",
    ),
    (
        "goal with an unknown operator",
        lambda: rules.validate_goals(goals((0, {"operator": "≈"})), P),
        InvalidInput,
        "goals[0].operator",
        "invalid-indicator",
    ),
    (
        "qualitative goal with a number target",
        lambda: rules.validate_goals(goals((4, {"operator": "qualitative", "target": D(90)})), P),
        InvalidInput,
        "goals[4].target",
        "invalid-indicator",
    ),
    (
        "quantitative goal with a text target",
        lambda: rules.validate_goals(goals((4, {"target": "好"})), P),
        InvalidInput,
        "goals[4].target",
        "invalid-indicator",
    ),
    (
        "goal key twice",
        lambda: rules.validate_goals(goals((1, {"key": "students"})), P),
        InvalidInput,
        "goals[1].key",
        "invalid-indicator",
    ),
    (
        "goal weight zero",
        lambda: rules.validate_goals(goals((1, {"weight": D(0)})), P),
        InvalidInput,
        "goals[1].weight",
        "invalid-weights",
    ),
    (
        "goal weight a whole number, not a Decimal",
        lambda: rules.validate_goals(goals((1, {"weight": 10})), P),
        InvalidInput,
        "goals[1].weight",
        "invalid-weights",
    ),
    (
        "goal weight a boolean",
        lambda: rules.validate_goals(goals((1, {"weight": True})), P),
        InvalidInput,
        "goals[1].weight",
        "invalid-weights",
    ),
    (
        "goal weight in part-fen",
        lambda: rules.validate_goals(goals((1, {"weight": D("10.001")})), P),
        InvalidInput,
        "goals[1].weight",
        "invalid-weights",
    ),
    (
        "goal in a dimension without weight",
        lambda: rules.validate_goals(goals(), dataclasses.replace(P, satisfaction_weight=D(0), effect_weight=D(40))),
        InvalidInput,
        "goals[4].level1",
        "invalid-weights",
    ),
    (
        "goals missing a dimension",
        lambda: rules.validate_goals(goals()[:4], P),
        InvalidInput,
        "goals",
        "invalid-weights",
    ),
    (
        "goals not summing to 90",
        lambda: rules.validate_goals(goals((0, {"weight": D(31)})), P),
        InvalidInput,
        "goals",
        "invalid-weights",
    ),
    (
        "goals split wrongly between dimensions",
        lambda: rules.validate_goals(goals((0, {"weight": D(29)}), (3, {"weight": D(31)})), P),
        InvalidInput,
        "goals",
        "invalid-weights",
    ),
    (
        "indicator scored without key",
        lambda: rules.indicator_score(dataclasses.replace(indicator(), key=""), D(1), P),
        InvalidInput,
        "indicator.key",
        "invalid-indicator",
    ),
    (
        "qualitative actual unknown",
        lambda: rules.indicator_score(indicator("qualitative", "好"), "很好", P),
        InvalidInput,
        "actuals.k",
        "invalid-value",
    ),
    (
        "quantitative actual not a number",
        lambda: rules.indicator_score(indicator(), "many", P),
        InvalidInput,
        "actuals.k",
        "invalid-value",
    ),
    (
        "self-evaluation with a key twice",
        lambda: rules.self_evaluation_score(goals((1, {"key": "students"})), ACTUALS, D(1), D(1), P),
        InvalidInput,
        "goals",
        "invalid-indicator",
    ),
    (
        "self-evaluation missing an actual",
        lambda: rules.self_evaluation_score(goals(), {k: v for k, v in ACTUALS.items() if k != "cost"}, D(1), D(1), P),
        InvalidInput,
        "actuals.cost",
        "invalid-value",
    ),
    (
        "self-evaluation with an unknown actual",
        lambda: rules.self_evaluation_score(goals(), {**ACTUALS, "luck": D(1)}, D(1), D(1), P),
        InvalidInput,
        "actuals.luck",
        "invalid-value",
    ),
    (
        "self-evaluation with negative execution",
        lambda: rules.self_evaluation_score(goals(), ACTUALS, D(-1), D(1), P),
        InvalidInput,
        "executed",
        "invalid-money",
    ),
    (
        "self-evaluation with a part-fen budget",
        lambda: rules.self_evaluation_score(goals(), ACTUALS, D(1), D("0.001"), P),
        InvalidInput,
        "approved",
        "invalid-money",
    ),
    (
        "deviation with negative execution",
        lambda: rules.deviation_level(6, D(-1), D(1), {}, P),
        InvalidInput,
        "executed",
        "invalid-money",
    ),
    (
        "deviation with a part-fen budget",
        lambda: rules.deviation_level(6, D(1), D("1.001"), {}, P),
        InvalidInput,
        "approved",
        "invalid-money",
    ),
    (
        "deviation at month 13",
        lambda: rules.deviation_level(13, D(1), D(1), {}, P),
        InvalidInput,
        "month",
        "invalid-value",
    ),
    (
        "re-evaluation missing a dimension",
        lambda: rules.re_evaluation_total({"decision": D(1), "process": D(1), "output": D(1)}, P),
        InvalidInput,
        "scores.effect",
        "invalid-value",
    ),
    (
        "re-evaluation score above its weight",
        lambda: rules.re_evaluation_total({"decision": D(16), "process": D(1), "output": D(1), "effect": D(1)}, P),
        InvalidInput,
        "scores.decision",
        "invalid-score",
    ),
    (
        "result of an unknown grade",
        lambda: rules.result_application_default("甲", P),
        InvalidInput,
        "grade",
        "invalid-value",
    ),
    ("reduction of a negative budget", lambda: rules.reduced_budget(D(-1), P), InvalidInput, "amount", "invalid-money"),
    ("sample of a negative population", lambda: rules.sample_size(-1, P), InvalidInput, "population", "invalid-value"),
    (
        "sample of a population given as text",
        lambda: rules.sample_size(wrong("20"), P),
        InvalidInput,
        "population",
        "invalid-value",
    ),
    ("sample without seed", lambda: rules.draw_sample(POPULATION, "", P), InvalidInput, "seed", "invalid-value"),
    (
        "sample with an empty member",
        lambda: rules.draw_sample([*POPULATION, ""], "s", P),
        InvalidInput,
        "population",
        "invalid-value",
    ),
    (
        "sample with a member not text",
        lambda: rules.draw_sample(wrong([*POPULATION, 7]), "s", P),
        InvalidInput,
        "population",
        "invalid-value",
    ),
    (
        "sample seeded with a lone surrogate",
        lambda: rules.draw_sample(POPULATION, "s\udfff", P),
        InvalidInput,
        "population",
        "invalid-value",
    ),
    (
        "sample of a lone surrogate",
        lambda: rules.draw_sample([*POPULATION, "\ud800"], "s", P),
        InvalidInput,
        "population",
        "invalid-value",
    ),
    (
        "sample listing a member twice",
        lambda: rules.draw_sample([*POPULATION, "P00"], "s", P),
        InvalidInput,
        "population",
        "invalid-value",
    ),
    (
        "sample of a negative size",
        lambda: rules.draw_sample(POPULATION, "s", P, size=-1),
        InvalidInput,
        "size",
        "invalid-value",
    ),
    (
        "sample size given as text",
        lambda: rules.draw_sample(POPULATION, "s", P, size=wrong("3")),
        InvalidInput,
        "size",
        "invalid-value",
    ),
    (
        "sample larger than the population",
        lambda: rules.draw_sample(POPULATION, "s", P, size=21),
        InvalidInput,
        "size",
        "invalid-value",
    ),
    (
        "sample below the rate",
        lambda: rules.draw_sample(POPULATION, "s", P, size=1),
        RuleViolation,
        "size",
        "sample-too-small",
    ),
    (
        "working days negative",
        lambda: rules.add_working_days(date(2021, 1, 4), -1),
        InvalidInput,
        "days",
        "invalid-value",
    ),
    (
        "working days given as text",
        lambda: rules.add_working_days(date(2021, 1, 4), wrong("1")),
        InvalidInput,
        "days",
        "invalid-value",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "field", "code"), [row[1:] for row in REFUSALS], ids=[row[0] for row in REFUSALS]
)
def test_every_refusal_names_its_field_and_code_and_says_why(
    call: Any, error: type[Exception], field: str | None, code: str
) -> None:
    with pytest.raises(error) as caught:
        call()
    refusal = caught.value
    assert type(refusal) is error
    assert isinstance(refusal, DomainError)
    assert (refusal.field, refusal.code) == (field, code)
    assert isinstance(refusal.detail, str)
    assert refusal.detail.strip()
