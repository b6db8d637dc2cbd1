"""The re-evaluation sample (再评价抽查): its minimum size, a draw anyone can redo from the recorded seed, and the
two-party seed nobody steers alone (commit–reveal: finance's secret, the audit office's contribution, the population).

The seed is made by two parties so that neither chooses it: finance commits to a secret (:func:`commitment`) before
the audit office adds a contribution of its own; finance then reveals the secret, and the seed is a hash of both and
of the population's digest (:func:`draw_seed`). The auditor cannot aim its contribution (it sees only the
commitment); finance cannot change its secret after the contribution (the commitment binds it), and can only refuse
to reveal — which the ledger records as a failed draw, for everyone to see. The log's own checkpoint root would not
do as a seed: whoever appends the events before it is taken (the operator) can try appends — a reason reworded, an
event reordered — until the root draws the sample it likes.
"""

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


SECRET_MIN_BYTES = 32  # finance's secret and the audit office's contribution: at least 256 bits of randomness
SECRET_MAX_BYTES = 256
POPULATION_DOMAIN = b"jixiao/re-evaluation-population/v1\x00"
SEED_DOMAIN = b"jixiao/re-evaluation-seed/v1\x00"


def random_bytes(value: object, field: str) -> bytes:
    """A secret or a contribution given as hex: 32 to 256 bytes, either case of digit."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be hex text", code="invalid-draw-value", field=field)
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be hex (0-9, a-f), two digits a byte", code="invalid-draw-value", field=field
        ) from None
    if not SECRET_MIN_BYTES <= len(data) <= SECRET_MAX_BYTES or len(value) != 2 * len(data):
        raise InvalidInput(
            f"{field} must be {SECRET_MIN_BYTES} to {SECRET_MAX_BYTES} random bytes in hex "
            f"({2 * SECRET_MIN_BYTES} to {2 * SECRET_MAX_BYTES} digits, nothing else): {len(value)} characters given",
            code="invalid-draw-value",
            field=field,
        )
    return data


def commitment_digest(value: object, field: str = "commitment") -> str:
    """A commitment as given: a SHA-256 in hex (64 digits, either case), returned in lower case."""
    if not isinstance(value, str) or len(value) != 64:
        raise InvalidInput(f"{field} must be a SHA-256 in hex (64 digits)", code="invalid-draw-value", field=field)
    try:
        bytes.fromhex(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be a SHA-256 in hex (64 digits)", code="invalid-draw-value", field=field
        ) from None
    return value.lower()


def commitment(secret: bytes) -> str:
    """What finance announces: the lower-case hex SHA-256 of its secret's bytes (``sha256sum`` of the raw bytes)."""
    return hashlib.sha256(secret).hexdigest()


def population_digest(population: Sequence[str]) -> str:
    """The digest that fixes the population at the announcement: SHA-256 of a domain tag and each member of the
    sorted population, as UTF-8, each preceded by its length (4 bytes, big-endian); lower-case hex."""
    digest = hashlib.sha256(POPULATION_DOMAIN)
    for member in sorted(population):
        data = member.encode()
        digest.update(len(data).to_bytes(4, "big") + data)
    return digest.hexdigest()


def draw_seed(secret: bytes, contribution: bytes, digest: str) -> str:
    """The draw's seed: SHA-256 of a domain tag, then finance's secret, the audit office's contribution and the
    population digest's 32 bytes, each preceded by its length (4 bytes, big-endian); lower-case hex. It is the seed
    :func:`draw_sample` ranks the population with."""
    seed = hashlib.sha256(SEED_DOMAIN)
    for part in (secret, contribution, bytes.fromhex(digest)):
        seed.update(len(part).to_bytes(4, "big") + part)
    return seed.hexdigest()


def two_party_draw(
    population: Sequence[str], secret: bytes, contribution: bytes, size: int, params: RuleParameters
) -> tuple[str, list[str]]:
    """The seed and the selection of a two-party draw: a function of the secret, the contribution and the
    population (and the size fixed when the draw was announced), nothing else."""
    seed = draw_seed(secret, contribution, population_digest(population))
    return seed, draw_sample(population, seed, params, size)
