"""Unit tests for ledger.domain.rules.coverage: the share of departments a year's overall goals must cover."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.domain.errors import InvalidInput
from ledger.domain.rules.coverage import overall_goals_target
from tests.ledger.domain.rules.support import D, P


@pytest.mark.parametrize(
    ("year", "target"),
    [(2000, D(60)), (2020, D(60)), (2021, D(60)), (2022, D(100)), (2023, D(100)), (2100, D(100))],
)
def test_the_plan_s_targets_by_default(year: int, target: D) -> None:
    """60% in the 2021 budget (and before, as the read model showed), every department from 2022."""
    assert overall_goals_target(year, P) == target


def test_each_target_applies_from_its_year_until_the_next() -> None:
    params = dataclasses.replace(P, overall_goals_coverage=((2021, D(40)), (2023, D("75.5")), (2025, D(100))))
    assert [overall_goals_target(year, params) for year in range(2019, 2027)] == [
        D(40),
        D(40),
        D(40),
        D(40),
        D("75.5"),
        D("75.5"),
        D(100),
        D(100),
    ]


def test_the_year_must_be_one_the_ledger_takes() -> None:
    with pytest.raises(InvalidInput):
        overall_goals_target(1999, P)
