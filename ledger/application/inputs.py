"""A use case's input, checked at the edge of the domain: plain values (JSON, CLI arguments) in, the ``Decimal``
and whole numbers the aggregates' methods take out, or ``InvalidInput`` naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ledger.domain.errors import InvalidInput
from ledger.domain.values import Qualitative, number, text


def scores(values: Mapping[str, object]) -> dict[str, Decimal]:
    """Scores by dimension (事前评估, 再评价, 考评)."""
    if not isinstance(values, Mapping):
        raise InvalidInput("scores must be an object of dimension: score", field="scores")
    return {text(k, "scores", max_length=64): number(v, f"scores.{k}") for k, v in values.items()}


def percentages(values: Mapping[str, object], field_name: str) -> dict[str, Decimal]:
    """Percentages 0–1000 by indicator (monitoring progress and forecasts)."""
    result = {}
    for name, value in values.items():
        pct = number(value, f"{field_name}.{name}")
        if not Decimal(0) <= pct <= Decimal(1000):
            raise InvalidInput(f"{field_name}.{name} must be a percentage 0-1000", field=f"{field_name}.{name}")
        result[text(name, field_name, max_length=64)] = pct
    return result


def actuals(values: Mapping[str, object]) -> dict[str, Decimal | str]:
    """Actual values by indicator: a number, or a qualitative grade (好/较好/一般/较差)."""
    result: dict[str, Decimal | str] = {}
    for name, value in values.items():
        if isinstance(value, str) and value in {q.value for q in Qualitative}:
            result[name] = value
        else:
            result[name] = number(value, f"actuals.{name}")
    return result


def month(value: object) -> int:
    """A month of the fiscal year, 1 to 12."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise InvalidInput("month must be 1 to 12", field="month")
    return value
