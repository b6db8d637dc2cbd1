"""Monitoring deviation (绩效运行监控偏差): whether a monitoring report shows the budget or an indicator lagging.

Pure functions of the report and the ruleset; the project records what they find once per period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.parameters import ZERO, RuleParameters
from ledger.domain.rules.scoring import quantized
from ledger.domain.values import HUNDRED, money, number


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
    return quantized(Decimal(_month(month)) * HUNDRED / 12)


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
    rate = quantized(executed / approved * HUNDRED) if approved > 0 else ZERO
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
