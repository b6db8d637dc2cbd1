"""The scores the ledger computes (评分): ex-ante assessment, indicators and self-evaluation, re-evaluation, grades
and the results they lead to.

Pure functions of their arguments. Scores are ``Decimal`` quantized to 0.01 with ROUND_HALF_UP (四舍五入), so a
replay reproduces them exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.goals import check_indicator, check_measure
from ledger.domain.rules.parameters import EX_ANTE_DIMENSIONS, ONE, ZERO, RuleParameters
from ledger.domain.values import (
    FEN,
    HUNDRED,
    Grade,
    Indicator,
    Operator,
    enum_value,
    money,
    number,
    score,
)


def quantized(value: Decimal) -> Decimal:
    """Quantize a score or percentage to 0.01, half up (四舍五入)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


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


_DIMENSIONS = ("{field} is missing the dimension {name!r}", "{field} has an unknown dimension {name!r}")
_ACTUALS = ("no actual value for indicator {name!r}", "actual value for an unknown indicator {name!r}")


def _exact_keys(
    given: Mapping[str, object], expected: Sequence[str], field: str, messages: tuple[str, str] = _DIMENSIONS
) -> None:
    """Refuse ``given`` unless it holds exactly the ``expected`` keys; ``messages`` say (missing, unknown) key."""
    missing, unknown = messages
    for name in expected:
        if name not in given:
            raise InvalidInput(missing.format(field=field, name=name), field=f"{field}.{name}")
    for name in given:
        if name not in expected:
            raise InvalidInput(unknown.format(field=field, name=name), field=f"{field}.{name}")


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


def indicator_score(indicator: Indicator, actual: Decimal | str, params: RuleParameters) -> IndicatorScore:
    """Score one indicator against its actual value (实际完成值).

    Quantitative: met → full weight; not met → weight × actual/target (for ``<=`` and ``<``:
    weight × target/actual; for ``=``: weight × min/max), capped at the weight and 0 when actual
    and target differ in sign or either is 0. Qualitative: the ruleset's share of the weight for the grade
    (``qualitative_shares``: by default 好 100%, 较好 80%, 一般 60%, 较差 0%); ``met`` when the actual is at least
    as good as the target. Scores are quantized to 0.01.
    """
    check_indicator(indicator, "indicator")
    return _measured(indicator, actual, params)


def _measured(indicator: Indicator, actual: Decimal | str, params: RuleParameters) -> IndicatorScore:
    """:func:`indicator_score` of an indicator whose shape was checked (a project's, or an overall goal's)."""
    field = f"actuals.{indicator.key}"
    weight = indicator.weight
    if not isinstance(weight, Decimal) or not weight.is_finite() or weight < 0:
        raise InvalidInput(f"indicator weight must be non-negative: {weight!r}", code="invalid-weights", field="weight")
    if indicator.operator == Operator.QUALITATIVE:
        shares = dict(params.qualitative_shares)
        if not isinstance(actual, str) or actual not in shares:
            raise InvalidInput(f"{field} must be one of 好/较好/一般/较差: {actual!r}", field=field)
        share = shares[actual]
        assert isinstance(indicator.target, str)
        met = share >= shares[indicator.target]
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
    result = quantized(weight * min(max(share, ZERO), ONE))
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
    _exact_keys(actuals, keys, "actuals", _ACTUALS)
    scores = tuple(indicator_score(indicator, actuals[indicator.key], params) for indicator in indicators)

    executed = money(executed, "executed")
    approved = money(approved, "approved")
    ratio = executed / approved if approved > 0 else ZERO
    execution_rate = quantized(ratio * HUNDRED)
    execution_score = quantized(params.execution_rate_weight * min(ratio, ONE))
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
    RECTIFY_FIRST = "rectify_first"  # 整改后再安排: a continuation is funded once the rectifications are accepted


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


class PolicyDecision(StrEnum):
    """政策调整: what an evaluated policy's result decides of the policy itself (与政策调整挂钩)."""

    CONTINUE = "continue"  # 延续
    ADJUST = "adjust"  # 调整（完善）
    TERMINATE = "terminate"  # 终止


_POLICY_BY_GRADE = {
    Grade.EXCELLENT.value: PolicyDecision.CONTINUE.value,
    Grade.GOOD.value: PolicyDecision.CONTINUE.value,
    Grade.FAIR.value: PolicyDecision.ADJUST.value,
    Grade.POOR.value: PolicyDecision.TERMINATE.value,
}


def policy_decision_default(grade: str) -> str:
    """Default 政策调整 of a grade: 优/良 continue (延续), 中 adjust (调整), 差 terminate (终止)."""
    return _POLICY_BY_GRADE[enum_value(Grade, grade, "grade").value]


# ---------------------------------------------------------------------------
# Overall evaluation 部门和单位整体绩效评价, and the control figure 控制数
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OverallSelfEvaluationScore:
    """The computed overall self-evaluation (整体绩效自评): each indicator's score, the total and the grade."""

    indicator_scores: tuple[IndicatorScore, ...]
    total: Decimal
    grade: str


def overall_self_evaluation_score(
    indicators: Sequence[Indicator], actuals: Mapping[str, Decimal | str], params: RuleParameters
) -> OverallSelfEvaluationScore:
    """Score the overall goals' indicators against the actuals as a project's are scored (:func:`indicator_score`);
    their weights add up to 100 (no budget-execution share: 预算执行率 is one of the organisation's own indicators,
    under 管理效率), so the total is their sum."""
    keys = [indicator.key for indicator in indicators]
    if len(set(keys)) != len(keys):
        raise InvalidInput("an indicator key appears twice", code="invalid-indicator", field="indicators")
    _exact_keys(actuals, keys, "actuals", _ACTUALS)
    for indicator in indicators:
        check_measure(indicator, "indicator")  # its levels are the six dimensions', not a project's
    scores = tuple(_measured(indicator, actuals[indicator.key], params) for indicator in indicators)
    total = sum((item.score for item in scores), ZERO)
    return OverallSelfEvaluationScore(indicator_scores=scores, total=total, grade=grade(total, params))


def overall_evaluation_total(scores: Mapping[str, Decimal], params: RuleParameters) -> Decimal:
    """Finance's (or a commissioned agency's) overall evaluation: each of the six dimensions scored within its
    weight (``overall_evaluation_weights``), summed."""
    weights = dict(params.overall_evaluation_weights)
    _exact_keys(scores, tuple(weights), "scores")
    return sum((score(scores[name], f"scores.{name}", maximum=weights[name]) for name in weights), ZERO)


class ControlFigureDecision(StrEnum):
    """What an overall result does to the department's next control figure (控制数)."""

    INCREASE = "increase"  # 调增
    MAINTAIN = "maintain"  # 持平
    REDUCE = "reduce"  # 压减


@dataclass(frozen=True)
class ControlFigureAdjustment:
    """Next year's control figure from this year's (``base``) at ``rate``: the amount, to the fen, and the result."""

    base: Decimal
    rate: Decimal
    amount: Decimal
    adjusted: Decimal
    decision: str


RATE_PLACES = Decimal("0.0001")  # a control-figure rate is given to 0.01%


def control_figure_rate(grade: str, params: RuleParameters) -> Decimal:
    """The ruleset's share by which ``grade`` moves the next control figure (``control_figure_rates``)."""
    return dict(params.control_figure_rates)[enum_value(Grade, grade, "grade").value]


def adjustment_rate(value: object, field: str = "rate") -> Decimal:
    """A control-figure rate finance gives: a share in [−1, 1], to 0.01% at most (−0.05 is 压减 5%)."""
    rate = number(value, field)
    if not -ONE <= rate <= ONE:
        raise InvalidInput(f"{field} must be a share between -1 and 1: {value}", field=field)
    if rate != rate.quantize(RATE_PLACES):
        raise InvalidInput(f"{field} has more than four places (0.01%): {value}", field=field)
    return ZERO if rate == 0 else rate


def adjust_control_figure(base: Decimal, rate: Decimal) -> ControlFigureAdjustment:
    """This year's control figure ``base`` moved by ``rate``: amount = base × rate, to the fen (四舍五入)."""
    checked = money(base, "control_figure", allow_zero=False)
    share = adjustment_rate(rate)
    amount = (checked * share).quantize(FEN, rounding=ROUND_HALF_UP)
    if amount == 0:
        amount = ZERO.quantize(FEN)  # no negative zero in the ledger
    if share > 0:
        decision = ControlFigureDecision.INCREASE
    elif share < 0:
        decision = ControlFigureDecision.REDUCE
    else:
        decision = ControlFigureDecision.MAINTAIN
    return ControlFigureAdjustment(checked, share, amount, checked + amount, decision.value)
