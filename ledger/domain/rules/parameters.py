"""The rule parameters (规则集参数): every number the rules use, as one validated value.

The numbers are parameters of a ruleset, never constants: the defaults of :class:`RuleParameters` are ruleset
version 1 (DOMAIN.md), and each later version is adopted as an event of the ruleset, which stores them through
:meth:`RuleParameters.to_dict` and reads them back through :meth:`RuleParameters.from_dict`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ledger.domain.errors import InvalidInput
from ledger.domain.values import HUNDRED, money, number

ZERO = Decimal(0)
ONE = Decimal(1)

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
