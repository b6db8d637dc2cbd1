"""Unit tests for ledger.domain.rules.monitoring: time progress and the deviations a monitoring report shows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.monitoring import deviation_level, time_progress
from tests.ledger.domain.rules.support import D, P

# ---------------------------------------------------------------------------
# Monitoring deviation 绩效运行监控偏差
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("month", "progress"), [(1, D("8.33")), (6, D("50.00")), (7, D("58.33")), (12, D("100.00"))])
def test_time_progress(month: int, progress: Decimal) -> None:
    assert time_progress(month) == progress


@pytest.mark.parametrize("month", [0, 13, -1])
def test_time_progress_refuses_bad_month(month: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        time_progress(month)
    assert caught.value.field == "month"


def deviation(month: int, executed: str, completion: dict[str, Decimal] | None = None) -> tuple[str | None, int]:
    result = deviation_level(month, D(executed), D("100.00"), completion or {}, P)
    return result.level, len(result.reasons)


@pytest.mark.parametrize(
    ("month", "executed", "level"),
    [
        (3, "0.00", None),  # before the first checkpoint: no execution-rate check
        (4, "25.00", None),  # exactly at threshold
        (4, "24.99", "yellow"),
        (4, "10.00", "yellow"),  # exactly 15 points below
        (4, "9.99", "red"),  # more than 15 below
        (5, "24.99", "yellow"),  # month 5 uses the April threshold
        (6, "40.00", None),
        (6, "39.99", "yellow"),
        (6, "25.00", "yellow"),
        (6, "24.99", "red"),
        (8, "59.99", "yellow"),
        (10, "80.00", None),
        (12, "64.99", "red"),  # December uses the October threshold
    ],
)
def test_execution_rate_deviation(month: int, executed: str, level: str | None) -> None:
    assert deviation(month, executed)[0] == level


def test_deviation_reasons_and_fields() -> None:
    result = deviation_level(6, D("30.00"), D("100.00"), {}, P)
    assert result.level == "yellow"
    assert result.reasons == ("execution rate 30.00% below 40% at month 6",)
    assert result.execution_rate == D("30.00")
    assert result.time_progress == D("50.00")
    red = deviation_level(6, D("20.00"), D("100.00"), {}, P)
    assert red.level == "red"
    assert "20.00%" in red.reasons[0]
    assert "40%" in red.reasons[0]
    assert "month 6" in red.reasons[0]


def test_no_deviation_has_no_reasons() -> None:
    result = deviation_level(6, D("45.00"), D("100.00"), {"students": D(50)}, P)
    assert result.level is None
    assert result.reasons == ()


def test_indicator_lag_exactly_10_is_not_a_deviation() -> None:
    assert deviation(6, "50.00", {"students": D(40)}) == (None, 0)


def test_indicator_lag_above_10_is_yellow() -> None:
    result = deviation_level(6, D("50.00"), D("100.00"), {"students": D("39.99"), "days": D(45)}, P)
    assert result.level == "yellow"
    assert len(result.reasons) == 1
    assert "students" in result.reasons[0]


def test_indicator_lag_before_first_checkpoint_still_counts() -> None:
    assert deviation(2, "20.00", {"students": D(5)}) == ("yellow", 1)


def test_indicator_lag_does_not_lower_red() -> None:
    assert deviation(6, "20.00", {"students": D(0)}) == ("red", 2)


def test_deviation_with_zero_budget() -> None:
    result = deviation_level(6, D("0.00"), D("0.00"), {}, P)
    assert result.execution_rate == D(0)
    assert result.level == "red"


def test_deviation_refuses_bad_completion() -> None:
    with pytest.raises(InvalidInput) as caught:
        deviation_level(6, D("50.00"), D("100.00"), {"students": 0.5}, P)  # type: ignore[dict-item]
    assert caught.value.field == "indicator_completion.students"
