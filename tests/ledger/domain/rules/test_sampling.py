"""Unit tests for ledger.domain.rules.sampling: the re-evaluation sample's size and its reproducible draw."""

from __future__ import annotations

import dataclasses
import hashlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.rules.sampling import draw_sample, sample_size
from tests.ledger.domain.rules.support import D, P

# ---------------------------------------------------------------------------
# Re-evaluation sample 再评价抽查
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "size"), [(0, 0), (1, 1), (9, 1), (10, 1), (11, 2), (20, 2), (31, 4), (100, 10), (101, 11)]
)
def test_sample_size(n: int, size: int) -> None:
    assert sample_size(n, P) == size


def test_sample_size_follows_rate() -> None:
    assert sample_size(31, dataclasses.replace(P, re_evaluation_rate=D("0.25"))) == 8
    assert sample_size(7, dataclasses.replace(P, re_evaluation_rate=D(1))) == 7


def test_sample_size_refuses_negative() -> None:
    with pytest.raises(InvalidInput):
        sample_size(-1, P)


POPULATION = [f"2021-{i:03d}" for i in range(1, 32)]


def test_draw_sample_size_is_ceil_ten_percent() -> None:
    drawn = draw_sample(POPULATION, "2022-04-01 finance", P)
    assert len(drawn) == 4
    assert drawn == sorted(drawn)
    assert set(drawn) <= set(POPULATION)


def test_draw_sample_is_reproducible_and_order_independent() -> None:
    first = draw_sample(POPULATION, "seed-1", P)
    assert draw_sample(POPULATION, "seed-1", P) == first
    assert draw_sample(list(reversed(POPULATION)), "seed-1", P) == first
    assert draw_sample(tuple(sorted(POPULATION, key=lambda m: m[::-1])), "seed-1", P) == first
    assert draw_sample(POPULATION, "seed-2", P) != first  # a different seed draws differently here


def test_larger_sample_extends_the_smaller_one() -> None:
    small = draw_sample(POPULATION, "seed-1", P)
    large = draw_sample(POPULATION, "seed-1", P, size=10)
    assert len(large) == 10
    assert set(small) <= set(large)


def test_draw_sample_published_algorithm() -> None:
    """Recompute the ranking by hand, as an auditor in any language would."""
    population = ["P-C", "P-A", "P-E", "P-B", "P-D"]
    seed = "2022-再评价-抽样"
    ranks = {m: hashlib.sha256(seed.encode("utf-8") + b"\x00" + m.encode("utf-8")).hexdigest() for m in population}
    by_rank = sorted(population, key=lambda m: ranks[m])
    assert draw_sample(population, seed, P) == sorted(by_rank[:1])
    assert draw_sample(population, seed, P, size=3) == sorted(by_rank[:3])
    assert draw_sample(population, seed, P, size=5) == sorted(population)


def test_draw_sample_refuses_too_small() -> None:
    with pytest.raises(RuleViolation) as caught:
        draw_sample(POPULATION, "seed", P, size=3)
    assert caught.value.code == "sample-too-small"


def test_draw_sample_refuses_too_large_and_negative() -> None:
    with pytest.raises(InvalidInput):
        draw_sample(POPULATION, "seed", P, size=32)
    with pytest.raises(InvalidInput):
        draw_sample(POPULATION, "seed", P, size=-1)


def test_draw_sample_refuses_duplicates() -> None:
    with pytest.raises(InvalidInput) as caught:
        draw_sample(["A", "B", "A"], "seed", P)
    assert caught.value.field == "population"


def test_draw_sample_refuses_empty_seed_and_bad_members() -> None:
    with pytest.raises(InvalidInput):
        draw_sample(["A"], "", P)
    with pytest.raises(InvalidInput):
        draw_sample(["A", ""], "seed", P)
    with pytest.raises(InvalidInput):
        draw_sample(["A", 1], "seed", P)  # type: ignore[list-item]


def test_draw_sample_of_nobody() -> None:
    assert draw_sample([], "seed", P) == []


@given(
    population=st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=60),
    seed=st.text(min_size=1, max_size=16),
    extra=st.integers(0, 5),
    data=st.data(),
)
def test_property_draw_sample(population: list[str], seed: str, extra: int, data: st.DataObject) -> None:
    n = len(population)
    required = sample_size(n, P)
    assert required == (0 if n == 0 else max(1, math.ceil(n / 10)))
    size = min(required + extra, n)
    drawn = draw_sample(population, seed, P, size=size)
    assert len(drawn) == size
    assert len(set(drawn)) == size
    assert set(drawn) <= set(population)
    assert drawn == sorted(drawn)
    shuffled = data.draw(st.permutations(population))
    assert draw_sample(shuffled, seed, P, size=size) == drawn
