"""Rule parameters (规则集) and the pure rules of the budget performance cycle.

Everything here is a pure function of its arguments: no I/O, no clock, no
randomness (the re-evaluation sample is drawn from a recorded seed with a
published algorithm). Money and scores are ``Decimal``; scores are quantized
to 0.01 with ROUND_HALF_UP so a replay reproduces them exactly. The numbers
are parameters of a ruleset, never constants: the defaults of
:class:`RuleParameters` are ruleset version 1 (see DOMAIN.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum

from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.values import (
    FEN,
    HUNDRED,
    LEVEL2,
    Grade,
    Indicator,
    Level1,
    Operator,
    Qualitative,
    enum_value,
    fiscal_year,
    money,
    number,
    score,
)

ZERO = Decimal(0)
ONE = Decimal(1)


def _q(value: Decimal) -> Decimal:
    """Quantize a score or percentage to 0.01, half up (四舍五入)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# Rule parameters 规则集参数
# ---------------------------------------------------------------------------

# Ex-ante assessment dimensions 事前绩效评估维度:
# 立项必要性, 投入经济性, 绩效目标合理性, 实施方案可行性, 筹资合规性
EX_ANTE_DIMENSIONS: tuple[str, ...] = ("necessity", "economy", "goal_rationality", "feasibility", "funding_compliance")


@dataclass(frozen=True)
class RuleParameters:
    """Ruleset parameters; the defaults are ruleset version 1 (DOMAIN.md)."""

    ex_ante_threshold: Decimal = Decimal("3000000.00")  # 事前评估金额门槛 (yuan)
    ex_ante_dimension_points: Decimal = Decimal(20)  # each of the 5 dimensions
    ex_ante_support_min: Decimal = Decimal(80)  # 予以支持
    ex_ante_revise_min: Decimal = Decimal(60)  # 调整完善后支持
    execution_rate_weight: Decimal = Decimal(10)  # 预算执行率 share of 100
    output_weight: Decimal = Decimal(50)  # 产出, including 成本
    effect_weight: Decimal = Decimal(30)  # 效益
    satisfaction_weight: Decimal = Decimal(10)  # 满意度
    grade_excellent_min: Decimal = Decimal(90)  # 优
    grade_good_min: Decimal = Decimal(80)  # 良
    grade_fair_min: Decimal = Decimal(60)  # 中
    deviation_thresholds: tuple[tuple[int, Decimal], ...] = (
        (4, Decimal(25)),
        (6, Decimal(40)),
        (8, Decimal(60)),
        (10, Decimal(80)),
    )  # (month, minimum execution rate %) 执行进度要求
    red_margin_points: Decimal = Decimal(15)  # 红色预警: this far below the threshold
    indicator_lag_points: Decimal = Decimal(10)  # 指标完成滞后于预算执行
    deviation_response_working_days: int = 10  # 偏差纠正时限 (working days)
    re_evaluation_rate: Decimal = Decimal("0.10")  # 再评价抽查比例
    inflation_threshold: Decimal = Decimal(10)  # 自评虚高
    re_evaluation_weights: tuple[tuple[str, Decimal], ...] = (
        ("decision", Decimal(15)),  # 决策
        ("process", Decimal(20)),  # 过程
        ("output", Decimal(35)),  # 产出
        ("effect", Decimal(30)),  # 效益
    )
    reduce_rate: Decimal = Decimal("0.10")  # 中 → 调减下年预算
    blacklist_years: int = 3  # 失信黑名单期限
    deadline_warning_days: int = 7  # 临期提醒

    def validate(self) -> None:
        """Refuse an inconsistent ruleset with :class:`InvalidInput` naming the field."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _INT_FIELDS:
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise InvalidInput(f"{f.name} must be a positive whole number: {value!r}", field=f.name)
            elif f.name in _DECIMAL_FIELDS:
                _finite(value, f.name)

        money(self.ex_ante_threshold, "ex_ante_threshold")
        points = self.ex_ante_dimension_points
        _between(points, "ex_ante_dimension_points", ZERO, HUNDRED, open_low=True)
        maximum = points * len(EX_ANTE_DIMENSIONS)
        _between(self.ex_ante_support_min, "ex_ante_support_min", ZERO, maximum)
        _between(self.ex_ante_revise_min, "ex_ante_revise_min", ZERO, self.ex_ante_support_min)

        weights = ("execution_rate_weight", "output_weight", "effect_weight", "satisfaction_weight")
        for name in weights:
            _between(getattr(self, name), name, ZERO, HUNDRED)
        total = sum((getattr(self, name) for name in weights), ZERO)
        if total != HUNDRED:
            raise InvalidInput(
                f"execution rate, output, effect and satisfaction weights must sum to 100, not {total}",
                code="invalid-weights",
                field="output_weight",
            )

        _between(self.grade_excellent_min, "grade_excellent_min", ZERO, HUNDRED)
        _between(self.grade_good_min, "grade_good_min", ZERO, HUNDRED)
        _between(self.grade_fair_min, "grade_fair_min", ZERO, HUNDRED)
        if not self.grade_excellent_min > self.grade_good_min > self.grade_fair_min:
            raise InvalidInput(
                "grade thresholds must descend: 优 > 良 > 中 "
                f"({self.grade_excellent_min}, {self.grade_good_min}, {self.grade_fair_min})",
                field="grade_good_min",
            )

        if not isinstance(self.deviation_thresholds, tuple):
            raise InvalidInput(
                "deviation_thresholds must be a tuple of (month, rate) pairs", field="deviation_thresholds"
            )
        previous = 0
        for i, pair in enumerate(self.deviation_thresholds):
            field = f"deviation_thresholds[{i}]"
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise InvalidInput(f"{field} must be a (month, rate) pair", field=field)
            month, rate = pair
            if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
                raise InvalidInput(f"{field} month must be 1..12: {month!r}", field=field)
            if month <= previous:
                raise InvalidInput(f"{field} months must ascend: {month} after {previous}", field=field)
            previous = month
            _between(_finite(rate, field), field, ZERO, HUNDRED)
        _between(self.red_margin_points, "red_margin_points", ZERO, HUNDRED)
        _between(self.indicator_lag_points, "indicator_lag_points", ZERO, HUNDRED)

        _between(self.re_evaluation_rate, "re_evaluation_rate", ZERO, ONE, open_low=True)
        _between(self.inflation_threshold, "inflation_threshold", ZERO, HUNDRED)
        _between(self.reduce_rate, "reduce_rate", ZERO, ONE, open_low=True)

        if not isinstance(self.re_evaluation_weights, tuple) or not self.re_evaluation_weights:
            raise InvalidInput(
                "re_evaluation_weights must be a non-empty tuple of pairs", field="re_evaluation_weights"
            )
        names: set[str] = set()
        for i, entry in enumerate(self.re_evaluation_weights):
            field = f"re_evaluation_weights[{i}]"
            if not isinstance(entry, tuple) or len(entry) != 2:
                raise InvalidInput(f"{field} must be a (dimension, weight) pair", field=field)
            name, weight = entry
            if not isinstance(name, str) or not name.strip():
                raise InvalidInput(f"{field} dimension must be a non-empty name", field=field)
            if name in names:
                raise InvalidInput(f"{field} dimension {name!r} appears twice", field=field)
            names.add(name)
            _between(_finite(weight, field), field, ZERO, HUNDRED)
        re_weights = dict(self.re_evaluation_weights)
        re_total = sum(re_weights.values(), ZERO)
        if re_total != HUNDRED:
            raise InvalidInput(
                f"re-evaluation weights must sum to 100, not {re_total}",
                code="invalid-weights",
                field="re_evaluation_weights",
            )
        output_effect = re_weights.get("output", ZERO) + re_weights.get("effect", ZERO)
        if output_effect < 60:
            raise InvalidInput(
                f"re-evaluation output + effect weights must be at least 60, not {output_effect}",
                code="invalid-weights",
                field="re_evaluation_weights",
            )

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form: Decimals as strings, tuples as lists, ints as ints."""
        result: dict[str, object] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "deviation_thresholds":
                result[f.name] = [[month, str(rate)] for month, rate in self.deviation_thresholds]
            elif f.name == "re_evaluation_weights":
                result[f.name] = [[name, str(weight)] for name, weight in self.re_evaluation_weights]
            elif isinstance(value, Decimal):
                result[f.name] = str(value)
            else:
                result[f.name] = value
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RuleParameters:
        """Inverse of :meth:`to_dict`; unknown keys are refused, missing keys take the default."""
        if not isinstance(data, Mapping):
            raise InvalidInput("rule parameters must be an object", field="parameters")
        known = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in known:
                raise InvalidInput(f"unknown rule parameter: {key!r}", field=str(key))
        kwargs: dict[str, object] = {}
        for key, value in data.items():
            if key == "deviation_thresholds":
                kwargs[key] = tuple(
                    (_whole(month, f"{key}[{i}]"), number(rate, f"{key}[{i}]"))
                    for i, (month, rate) in enumerate(_pairs(value, key))
                )
            elif key == "re_evaluation_weights":
                weights: list[tuple[str, Decimal]] = []
                for i, (name, weight) in enumerate(_pairs(value, key)):
                    if not isinstance(name, str):
                        raise InvalidInput(f"{key}[{i}] dimension must be text", field=f"{key}[{i}]")
                    weights.append((name, number(weight, f"{key}[{i}]")))
                kwargs[key] = tuple(weights)
            elif key in _INT_FIELDS:
                kwargs[key] = _whole(value, key)
            else:
                kwargs[key] = number(value, key)
        params = cls(**kwargs)  # type: ignore[arg-type]
        params.validate()
        return params


_INT_FIELDS = frozenset({"deviation_response_working_days", "blacklist_years", "deadline_warning_days"})
_DECIMAL_FIELDS = frozenset(f.name for f in dataclasses.fields(RuleParameters) if isinstance(f.default, Decimal))


def _finite(value: object, field: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidInput(f"{field} must be a finite Decimal: {value!r}", field=field)
    return value


def _between(value: Decimal, field: str, low: Decimal, high: Decimal, *, open_low: bool = False) -> None:
    too_low = value <= low if open_low else value < low
    if too_low or value > high:
        interval = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
        raise InvalidInput(f"{field} must be within {interval}: {value}", field=field)


def _whole(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be a whole number: {value!r}", field=field)
    return value


def _pairs(value: object, field: str) -> list[tuple[object, object]]:
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"{field} must be a list of pairs", field=field)
    pairs: list[tuple[object, object]] = []
    for i, item in enumerate(value):
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise InvalidInput(f"{field}[{i}] must be a pair", field=f"{field}[{i}]")
        pairs.append((item[0], item[1]))
    return pairs


DEFAULT_PARAMETERS = RuleParameters()
DEFAULT_PARAMETERS.validate()


# ---------------------------------------------------------------------------
# Ex-ante assessment 事前绩效评估
# ---------------------------------------------------------------------------


class ExAnteConclusion(StrEnum):
    SUPPORT = "support"  # 予以支持
    SUPPORT_AFTER_REVISION = "support_after_revision"  # 调整完善后支持
    REJECT = "reject"  # 不予支持


@dataclass(frozen=True)
class ExAnteResult:
    """Total of the five dimension scores and the conclusion (评估结论)."""

    total: Decimal
    conclusion: str


def ex_ante_required(new_major: bool, requested: Decimal, params: RuleParameters) -> bool:
    """A new major policy/project (新出台重大政策/项目) at or above the threshold needs ex-ante assessment."""
    return bool(new_major) and requested >= params.ex_ante_threshold


def ex_ante_conclusion(scores: Mapping[str, Decimal], params: RuleParameters) -> ExAnteResult:
    """Score the five dimensions and conclude support / support after revision / reject."""
    _exact_keys(scores, EX_ANTE_DIMENSIONS, "scores")
    total = sum(
        (score(scores[d], f"scores.{d}", maximum=params.ex_ante_dimension_points) for d in EX_ANTE_DIMENSIONS),
        ZERO,
    )
    if total >= params.ex_ante_support_min:
        conclusion = ExAnteConclusion.SUPPORT
    elif total >= params.ex_ante_revise_min:
        conclusion = ExAnteConclusion.SUPPORT_AFTER_REVISION
    else:
        conclusion = ExAnteConclusion.REJECT
    return ExAnteResult(total=total, conclusion=conclusion.value)


def _exact_keys(scores: Mapping[str, object], expected: Sequence[str], field: str) -> None:
    for name in expected:
        if name not in scores:
            raise InvalidInput(f"{field} is missing the dimension {name!r}", field=f"{field}.{name}")
    for name in scores:
        if name not in expected:
            raise InvalidInput(f"{field} has an unknown dimension {name!r}", field=f"{field}.{name}")


# ---------------------------------------------------------------------------
# Goals 绩效目标
# ---------------------------------------------------------------------------

_QUALITATIVE_SHARE: dict[str, Decimal] = {
    Qualitative.GOOD.value: Decimal(1),  # 好 100%
    Qualitative.FAIRLY_GOOD.value: Decimal("0.8"),  # 较好 80%
    Qualitative.AVERAGE.value: Decimal("0.6"),  # 一般 60%
    Qualitative.POOR.value: ZERO,  # 较差 0%
}


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


def _check_indicator(indicator: Indicator, field: str) -> None:
    """Shape of one indicator (everything except how weights add up)."""
    if not isinstance(indicator, Indicator):
        raise InvalidInput(f"{field} must be an indicator", code="invalid-indicator", field=field)
    if not isinstance(indicator.key, str) or not indicator.key.strip():
        raise InvalidInput(f"{field}.key is required", code="invalid-indicator", field=f"{field}.key")
    if not isinstance(indicator.name, str) or not indicator.name.strip():
        raise InvalidInput(f"{field}.name is required", code="invalid-indicator", field=f"{field}.name")
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
    if indicator.operator not in {m.value for m in Operator}:
        raise InvalidInput(
            f"{field}.operator must be one of {', '.join(m.value for m in Operator)}: {indicator.operator!r}",
            code="invalid-indicator",
            field=f"{field}.operator",
        )
    target = indicator.target
    if indicator.operator == Operator.QUALITATIVE:
        if not isinstance(target, str) or target not in _QUALITATIVE_SHARE:
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


def validate_goals(indicators: Sequence[Indicator], params: RuleParameters) -> None:
    """Refuse malformed goals (绩效目标): indicator shape, unique keys and the weight split."""
    if not indicators:
        raise InvalidInput("goals need at least one indicator", code="invalid-indicator", field="goals")
    groups = _group_weights(params)
    sums = dict.fromkeys(groups, ZERO)
    seen: set[str] = set()
    for i, indicator in enumerate(indicators):
        field = f"goals[{i}]"
        _check_indicator(indicator, field)
        if indicator.key in seen:
            raise InvalidInput(
                f"{field}.key {indicator.key!r} appears twice", code="invalid-indicator", field=f"{field}.key"
            )
        seen.add(indicator.key)
        weight = indicator.weight
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


# ---------------------------------------------------------------------------
# Self-evaluation 单位自评
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorScore:
    """One indicator's score (指标得分): ``met`` when the target was reached."""

    key: str
    weight: Decimal
    actual: Decimal | str
    score: Decimal
    met: bool


@dataclass(frozen=True)
class SelfEvaluationScore:
    """The computed self-evaluation: indicators, budget execution (预算执行率), total and grade."""

    indicator_scores: tuple[IndicatorScore, ...]
    execution_rate: Decimal
    execution_score: Decimal
    total: Decimal
    grade: str


def indicator_score(indicator: Indicator, actual: Decimal | str) -> IndicatorScore:
    """Score one indicator against its actual value (实际完成值).

    Quantitative: met → full weight; not met → weight × actual/target (for ``<=`` and ``<``:
    weight × target/actual; for ``=``: weight × min/max), capped at the weight and 0 when actual
    and target differ in sign or either is 0. Qualitative: 好 100%, 较好 80%, 一般 60%, 较差 0% of the
    weight; ``met`` when the actual is at least as good as the target. Scores are quantized to 0.01.
    """
    field = f"actuals.{indicator.key}"
    _check_indicator(indicator, "indicator")
    weight = indicator.weight
    if not isinstance(weight, Decimal) or not weight.is_finite() or weight < 0:
        raise InvalidInput(f"indicator weight must be non-negative: {weight!r}", code="invalid-weights", field="weight")
    if indicator.operator == Operator.QUALITATIVE:
        if not isinstance(actual, str) or actual not in _QUALITATIVE_SHARE:
            raise InvalidInput(f"{field} must be one of 好/较好/一般/较差: {actual!r}", field=field)
        share = _QUALITATIVE_SHARE[actual]
        assert isinstance(indicator.target, str)
        met = share >= _QUALITATIVE_SHARE[indicator.target]
        return IndicatorScore(indicator.key, weight, actual, _capped(weight, share), met)

    value = number(actual, field)
    target = indicator.target
    assert isinstance(target, Decimal)
    op = indicator.operator
    met = (
        (op == Operator.GE and value >= target)
        or (op == Operator.GT and value > target)
        or (op == Operator.LE and value <= target)
        or (op == Operator.LT and value < target)
        or (op == Operator.EQ and value == target)
    )
    if met:
        share = ONE
    elif value == 0 or target == 0 or (value > 0) != (target > 0):
        share = ZERO
    else:
        # For every operator this is the documented ratio: actual/target for >=, >
        # (not met: |actual| < |target|), target/actual for <=, <, min/max for =.
        small, large = sorted((abs(value), abs(target)))
        share = small / large
    return IndicatorScore(indicator.key, weight, value, _capped(weight, share), met)


def _capped(weight: Decimal, share: Decimal) -> Decimal:
    """weight × share in [0, weight], quantized to 0.01."""
    result = _q(weight * min(max(share, ZERO), ONE))
    if result > weight:
        result = weight.quantize(FEN, rounding=ROUND_DOWN)
    return result


def self_evaluation_score(
    indicators: Sequence[Indicator],
    actuals: Mapping[str, Decimal | str],
    executed: Decimal,
    approved: Decimal,
    params: RuleParameters,
) -> SelfEvaluationScore:
    """Compute the self-evaluation score (自评得分) from the actuals and budget execution."""
    keys: list[str] = []
    for indicator in indicators:
        if indicator.key in keys:
            raise InvalidInput(
                f"indicator key {indicator.key!r} appears twice", code="invalid-indicator", field="goals"
            )
        keys.append(indicator.key)
    for key in keys:
        if key not in actuals:
            raise InvalidInput(f"no actual value for indicator {key!r}", field=f"actuals.{key}")
    for key in actuals:
        if key not in keys:
            raise InvalidInput(f"actual value for an unknown indicator {key!r}", field=f"actuals.{key}")
    scores = tuple(indicator_score(indicator, actuals[indicator.key]) for indicator in indicators)

    executed = money(executed, "executed")
    approved = money(approved, "approved")
    ratio = executed / approved if approved > 0 else ZERO
    execution_rate = _q(ratio * HUNDRED)
    execution_score = _q(params.execution_rate_weight * min(ratio, ONE))
    total = sum((s.score for s in scores), ZERO) + execution_score
    return SelfEvaluationScore(
        indicator_scores=scores,
        execution_rate=execution_rate,
        execution_score=execution_score,
        total=total,
        grade=grade(total, params),
    )


def grade(score: Decimal, params: RuleParameters) -> str:
    """等级: ≥ 90 优, ≥ 80 良, ≥ 60 中, else 差 (thresholds from the ruleset)."""
    if score >= params.grade_excellent_min:
        return Grade.EXCELLENT.value
    if score >= params.grade_good_min:
        return Grade.GOOD.value
    if score >= params.grade_fair_min:
        return Grade.FAIR.value
    return Grade.POOR.value


# ---------------------------------------------------------------------------
# Monitoring deviation 绩效运行监控偏差
# ---------------------------------------------------------------------------


class DeviationLevel(StrEnum):
    YELLOW = "yellow"  # 黄色预警
    RED = "red"  # 红色预警


@dataclass(frozen=True)
class DeviationAssessment:
    """What monitoring found: level ``None`` (no deviation), ``"yellow"`` or ``"red"``, and why."""

    level: str | None
    reasons: tuple[str, ...]
    execution_rate: Decimal
    time_progress: Decimal


def _month(month: int) -> int:
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise InvalidInput(f"month must be 1..12: {month!r}", field="month")
    return month


def time_progress(month: int) -> Decimal:
    """序时进度: M/12 as a percentage, quantized to 0.01."""
    return _q(Decimal(_month(month)) * HUNDRED / 12)


def _threshold(month: int, params: RuleParameters) -> Decimal | None:
    found: Decimal | None = None
    for checkpoint, rate in params.deviation_thresholds:
        if checkpoint <= month:
            found = rate
    return found


def deviation_level(
    month: int,
    executed: Decimal,
    approved: Decimal,
    indicator_completion: Mapping[str, Decimal],
    params: RuleParameters,
) -> DeviationAssessment:
    """Detect a deviation (偏差) in a monitoring report through month ``month``.

    Execution rate below the threshold of the latest checkpoint → yellow; more than
    ``red_margin_points`` below → red; an indicator's completion lagging the execution
    rate by more than ``indicator_lag_points`` → at least yellow.
    """
    progress = time_progress(month)
    executed = money(executed, "executed")
    approved = money(approved, "approved")
    rate = _q(executed / approved * HUNDRED) if approved > 0 else ZERO
    reasons: list[str] = []
    red = yellow = False
    threshold = _threshold(month, params)
    if threshold is not None and rate < threshold:
        if threshold - rate > params.red_margin_points:
            red = True
            reasons.append(
                f"execution rate {rate}% more than {params.red_margin_points} points "
                f"below {threshold}% at month {month}"
            )
        else:
            yellow = True
            reasons.append(f"execution rate {rate}% below {threshold}% at month {month}")
    for key in sorted(indicator_completion):
        completion = number(indicator_completion[key], f"indicator_completion.{key}")
        if rate - completion > params.indicator_lag_points:
            yellow = True
            reasons.append(
                f"indicator {key} completion {completion}% lags execution rate {rate}% "
                f"by more than {params.indicator_lag_points} points"
            )
    level = DeviationLevel.RED.value if red else DeviationLevel.YELLOW.value if yellow else None
    return DeviationAssessment(level=level, reasons=tuple(reasons), execution_rate=rate, time_progress=progress)


# ---------------------------------------------------------------------------
# Re-evaluation 再评价 / key evaluation 重点评价
# ---------------------------------------------------------------------------


def re_evaluation_total(scores: Mapping[str, Decimal], params: RuleParameters) -> Decimal:
    """Sum of the re-evaluation dimension scores (决策/过程/产出/效益), each within its weight."""
    weights = dict(params.re_evaluation_weights)
    _exact_keys(scores, tuple(weights), "scores")
    return sum((score(scores[name], f"scores.{name}", maximum=weights[name]) for name in weights), ZERO)


def is_inflated(self_score: Decimal, re_score: Decimal, params: RuleParameters) -> bool:
    """自评虚高: the self-evaluation exceeds the re-evaluation by more than the threshold."""
    return self_score - re_score > params.inflation_threshold


# ---------------------------------------------------------------------------
# Results applied 结果应用
# ---------------------------------------------------------------------------


class ResultApplication(StrEnum):
    PRIORITISE = "prioritise"  # 优先保障
    MAINTAIN = "maintain"  # 合理保障
    REDUCE = "reduce"  # 调减预算
    CANCEL = "cancel"  # 取消/暂停


_APPLICATION_BY_GRADE = {
    Grade.EXCELLENT.value: ResultApplication.PRIORITISE.value,
    Grade.GOOD.value: ResultApplication.MAINTAIN.value,
    Grade.FAIR.value: ResultApplication.REDUCE.value,
    Grade.POOR.value: ResultApplication.CANCEL.value,
}


def result_application_default(grade: str, params: RuleParameters) -> str:
    """Default application of a grade: 优 prioritise, 良 maintain, 中 reduce, 差 cancel."""
    return _APPLICATION_BY_GRADE[enum_value(Grade, grade, "grade").value]


def reduced_budget(amount: Decimal, params: RuleParameters) -> Decimal:
    """Next year's budget after a reduction (调减): amount × (1 − reduce_rate), to the fen."""
    return (money(amount, "amount") * (ONE - params.reduce_rate)).quantize(FEN, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# Re-evaluation sample 再评价抽查
# ---------------------------------------------------------------------------


def sample_size(population_size: int, params: RuleParameters) -> int:
    """Minimum sample: ⌈rate × n⌉, at least 1 when there is anyone to draw."""
    if isinstance(population_size, bool) or not isinstance(population_size, int) or population_size < 0:
        raise InvalidInput(
            f"population size must be a non-negative whole number: {population_size!r}", field="population"
        )
    if population_size == 0:
        return 0
    size = int((params.re_evaluation_rate * population_size).to_integral_value(rounding=ROUND_CEILING))
    return min(max(size, 1), population_size)


def draw_sample(population: Sequence[str], seed: str, params: RuleParameters, size: int | None = None) -> list[str]:
    """Draw the re-evaluation sample (抽查) reproducibly from a recorded seed.

    Published algorithm: rank each member by the lower-case hex SHA-256 of
    ``seed`` UTF-8 + one 0x00 byte + ``member`` UTF-8; take the ``size`` lowest
    ranks (ties, practically impossible, broken by the member); return them
    sorted ascending by Unicode code point. The input order does not matter.
    """
    if not isinstance(seed, str) or not seed:
        raise InvalidInput("a non-empty seed is required", field="seed")
    try:
        seed.encode()
        for member in population:
            if not isinstance(member, str) or not member:
                raise InvalidInput(f"population members must be non-empty text: {member!r}", field="population")
            member.encode()
    except UnicodeEncodeError:
        raise InvalidInput("seed and population must be valid Unicode text", field="population") from None
    members = sorted(population)
    for i, member in enumerate(members):
        if i and members[i - 1] == member:
            raise InvalidInput(f"population lists {member!r} twice", field="population")
    required = sample_size(len(members), params)
    if size is None:
        size = required
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise InvalidInput(f"sample size must be a non-negative whole number: {size!r}", field="size")
    if size > len(members):
        raise InvalidInput(f"sample size {size} exceeds the population of {len(members)}", field="size")
    if size < required:
        raise RuleViolation(
            f"sample size {size} is below the re-evaluation rate {params.re_evaluation_rate} "
            f"of {len(members)} (at least {required})",
            code="sample-too-small",
            field="size",
        )
    prefix = seed.encode() + b"\x00"
    ranked = sorted(members, key=lambda m: (hashlib.sha256(prefix + m.encode()).hexdigest(), m))
    return sorted(ranked[:size])


# ---------------------------------------------------------------------------
# Deadlines 时限
# ---------------------------------------------------------------------------


def goal_submission_due(year: int) -> date:
    """绩效目标申报: before budget preparation, (Y−1)-10-31."""
    return date(fiscal_year(year) - 1, 10, 31)


def monitoring_report_due(year: int) -> date:
    """1–7月绩效监控报告: Y-08-15."""
    return date(fiscal_year(year), 8, 15)


def self_evaluation_due(year: int) -> date:
    """单位自评: (Y+1)-03-31."""
    return date(fiscal_year(year) + 1, 3, 31)


def add_working_days(start: date, days: int, holidays: Collection[date] = (),
                     working_weekends: Collection[date] = ()) -> date:
    """The date ``days`` working days (工作日) after ``start``.

    Weekends and ``holidays`` are skipped; a weekend day in ``working_weekends`` is worked (调休上班, as the State
    Council's holiday notice moves days around each public holiday), so it counts.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise InvalidInput(f"days must be a non-negative whole number: {days!r}", field="days")
    off = set(holidays)
    worked = set(working_weekends)
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if current not in off and (current.weekday() < 5 or current in worked):
            remaining -= 1
    return current


def blacklist_until(start: date, params: RuleParameters) -> date:
    """End of a blacklisting (黑名单期限): start + blacklist_years years; Feb 29 → Feb 28."""
    year = start.year + params.blacklist_years
    try:
        return start.replace(year=year)
    except ValueError:
        return date(year, 2, 28)
