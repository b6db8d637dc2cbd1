"""The re-evaluation sample (再评价抽查): its minimum size, and a draw anyone can redo from the recorded seed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import ROUND_CEILING

from ledger.domain.errors import InvalidInput, RuleViolation
from ledger.domain.rules.parameters import RuleParameters


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
