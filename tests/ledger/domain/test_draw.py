"""The re-evaluation draw nobody steers alone (再评价抽查): announced with finance's commitment, contributed to by the
audit office, revealed by finance; failed when not revealed in time; every selection recomputable from the record."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain import rules
from ledger.domain.draw import DRAW_REVEAL, DrawStatus, ReEvaluationSample, sample_id
from ledger.domain.errors import DomainError
from ledger.domain.values import SYSTEM, Attribution, Principal

P = rules.DEFAULT_PARAMETERS
FINANCE = Principal("fin-01", "finance", "市财政局")
AUDITOR = Principal("aud-01", "auditor", "市审计局")
POPULATION = [f"2021-P{n:03d}" for n in range(1, 24)]
SECRET = hashlib.sha256(b"finance secret 1").hexdigest() + "00"  # 33 bytes
CONTRIBUTION = hashlib.sha256(b"audit office 1").hexdigest()
ANNOUNCED_ON = date(2022, 4, 1)  # a Friday
REVEAL_BY = date(2022, 4, 15)  # ten working days later (no holidays given)
NO_CALENDAR: tuple[frozenset[date], frozenset[date], int | None] = (frozenset(), frozenset(), None)


def commitment(secret: str = SECRET) -> str:
    return hashlib.sha256(bytes.fromhex(secret)).hexdigest()


def announce(
    population: list[str] | None = None, secret: str = SECRET, size: int | None = None, on: date = ANNOUNCED_ON
) -> ReEvaluationSample:
    return ReEvaluationSample.announce(
        2021,
        list(POPULATION if population is None else population),
        commitment(secret),
        size,
        P,
        1,
        NO_CALENDAR,
        Attribution(FINANCE, on, "2021年度财政再评价抽查公告"),
    )


def contribute(sample: ReEvaluationSample, contribution: str = CONTRIBUTION, on: date = date(2022, 4, 6)) -> None:
    sample.contribute(contribution, Attribution(AUDITOR, on))


def reveal(sample: ReEvaluationSample, secret: str = SECRET, on: date = date(2022, 4, 8)) -> list[str]:
    return sample.reveal(secret, Attribution(FINANCE, on))


def refused(sample: ReEvaluationSample, code: str, call: Callable[[], object]) -> DomainError:
    before = len(sample.pending_events)
    with pytest.raises(DomainError) as excinfo:
        call()
    assert excinfo.value.code == code, excinfo.value
    assert len(sample.pending_events) == before, "a refused command recorded something"
    return excinfo.value


def drawn() -> ReEvaluationSample:
    sample = announce()
    contribute(sample)
    reveal(sample)
    return sample


# ------------------------------------------------------------ the announcement


def test_the_announcement_fixes_commitment_population_size_and_reveal_day() -> None:
    shuffled = list(POPULATION)
    random.Random(7).shuffle(shuffled)
    sample = announce(shuffled)
    assert sample.id == sample_id(2021)
    draw = sample.current
    assert draw is not None
    assert draw["no"] == 1
    assert draw["status"] == DrawStatus.ANNOUNCED
    assert draw["commitment"] == commitment()
    assert draw["population"] == sorted(POPULATION)
    assert draw["population_digest"] == rules.population_digest(POPULATION)
    assert draw["size"] == 3  # ⌈10% × 23⌉
    assert draw["reveal_by"] == REVEAL_BY
    assert (sample.seed, sample.selected, sample.is_drawn) == (None, [], False)
    assert sample.pending_population() == frozenset(POPULATION)
    event = sample.pending_events[-1]
    assert isinstance(event, ReEvaluationSample.Announced)
    assert (event.principal, event.effective_on, event.reason) == (FINANCE, ANNOUNCED_ON, "2021年度财政再评价抽查公告")


def test_the_commitment_is_taken_in_either_case_and_kept_in_lower_case() -> None:
    sample = ReEvaluationSample.announce(
        2021, POPULATION, commitment().upper(), None, P, 1, NO_CALENDAR, Attribution(FINANCE, ANNOUNCED_ON)
    )
    assert sample.draws[0]["commitment"] == commitment()


@pytest.mark.parametrize("bad", ["", "abc", "g" * 64, commitment()[:-1], commitment() + "0", " " + commitment()[1:]])
def test_a_malformed_commitment_is_refused(bad: str) -> None:
    with pytest.raises(DomainError) as excinfo:
        ReEvaluationSample.announce(2021, POPULATION, bad, None, P, 1, NO_CALENDAR, Attribution(FINANCE, ANNOUNCED_ON))
    assert (excinfo.value.code, excinfo.value.field) == ("invalid-draw-value", "commitment")


def test_the_reveal_day_counts_working_days_of_the_recorded_calendar() -> None:
    holidays = frozenset({date(2022, 4, 4), date(2022, 4, 5)})  # 清明
    sample = ReEvaluationSample.announce(
        2021, POPULATION, commitment(), None, P, 1, (holidays, frozenset(), 3), Attribution(FINANCE, ANNOUNCED_ON)
    )
    assert sample.draws[0]["reveal_by"] == date(2022, 4, 19)
    event = sample.pending_events[-1]
    assert isinstance(event, ReEvaluationSample.Announced)
    assert event.calendar_version == 3
    shorter = dataclasses.replace(P, draw_reveal_working_days=3)
    sample = ReEvaluationSample.announce(
        2021, POPULATION, commitment(), None, shorter, 2, NO_CALENDAR, Attribution(FINANCE, ANNOUNCED_ON)
    )
    assert sample.draws[0]["reveal_by"] == date(2022, 4, 6)


def test_the_size_is_fixed_at_the_announcement_and_at_least_the_rate() -> None:
    assert announce(size=5).draws[0]["size"] == 5
    with pytest.raises(DomainError) as excinfo:
        announce(size=2)
    assert excinfo.value.code == "sample-too-small"
    with pytest.raises(DomainError) as excinfo:
        announce(size=24)
    assert excinfo.value.field == "size"


# ------------------------------------------------------------ the contribution


def test_the_audit_office_contributes_once() -> None:
    sample = announce()
    contribute(sample, CONTRIBUTION.upper())
    draw = sample.draws[0]
    assert (draw["status"], draw["contribution"], draw["contributed_by"]) == ("contributed", CONTRIBUTION, "市审计局")
    refused(sample, "already-contributed", lambda: contribute(sample, "11" * 32))


@pytest.mark.parametrize(
    "bad",
    ["", "ab" * 31, "zz" * 32, "ab" * 31 + "a", "ab " * 32, "ab" * 257, 1234],
    ids=["empty", "31 bytes", "not hex", "odd digits", "spaces", "257 bytes", "a number"],
)
def test_a_contribution_of_fewer_than_32_hex_bytes_is_refused(bad: Any) -> None:
    sample = announce()
    error = refused(sample, "invalid-draw-value", lambda: contribute(sample, bad))
    assert error.field == "contribution"


def test_no_contribution_before_the_announcement_nor_after_the_reveal_day() -> None:
    sample = announce()
    refused(sample, "effective-date-too-early", lambda: contribute(sample, on=date(2022, 3, 31)))
    refused(sample, "draw-deadline-passed", lambda: contribute(sample, on=date(2022, 4, 16)))
    contribute(sample, on=REVEAL_BY)  # the last day is in time


# ------------------------------------------------------------ the reveal


def test_the_reveal_draws_what_the_three_inputs_say() -> None:
    sample = announce()
    contribute(sample)
    selected = reveal(sample, SECRET.upper())
    seed, expected = rules.two_party_draw(POPULATION, bytes.fromhex(SECRET), bytes.fromhex(CONTRIBUTION), 3, P)
    assert selected == expected
    assert (sample.seed, sample.selected, sample.is_drawn) == (seed, expected, True)
    draw = sample.draws[0]
    assert (draw["status"], draw["secret"], draw["seed"], draw["selected"]) == ("revealed", SECRET, seed, expected)
    assert sample.pending_population() == frozenset()
    assert sample.verify_revealed() == []


def test_the_seed_is_the_published_hash_of_secret_contribution_and_population() -> None:
    """An independent re-implementation of the draw from its description (README, ledger.domain.rules.sampling)."""
    sample = drawn()
    secret, contribution = bytes.fromhex(SECRET), bytes.fromhex(CONTRIBUTION)
    digest = hashlib.sha256(b"jixiao/re-evaluation-population/v1\x00")
    for member in sorted(POPULATION):
        digest.update(len(member.encode()).to_bytes(4, "big") + member.encode())
    seed = hashlib.sha256(b"jixiao/re-evaluation-seed/v1\x00")
    for part in (secret, contribution, digest.digest()):
        seed.update(len(part).to_bytes(4, "big") + part)
    ranked = sorted(
        POPULATION, key=lambda m: hashlib.sha256(seed.hexdigest().encode() + b"\x00" + m.encode()).hexdigest()
    )
    assert sample.seed == seed.hexdigest()
    assert sample.selected == sorted(ranked[:3])


def test_a_secret_not_matching_the_commitment_is_refused() -> None:
    sample = announce()
    contribute(sample)
    other = hashlib.sha256(b"another secret").hexdigest()
    error = refused(sample, "commitment-mismatch", lambda: reveal(sample, other))
    assert error.field == "secret"
    refused(sample, "invalid-draw-value", lambda: reveal(sample, "00" * 31))


def test_no_reveal_before_the_contribution_nor_after_the_reveal_day() -> None:
    sample = announce()
    refused(sample, "contribution-missing", lambda: reveal(sample))
    contribute(sample)
    refused(sample, "draw-deadline-passed", lambda: reveal(sample, on=date(2022, 4, 18)))


def test_a_revealed_draw_takes_no_more_steps() -> None:
    sample = drawn()
    refused(sample, "draw-not-open", lambda: contribute(sample, "22" * 32))
    refused(sample, "draw-not-open", lambda: reveal(sample))
    refused(
        sample,
        "already-exists",
        lambda: sample.announce_again(
            POPULATION, commitment("33" * 32), None, P, 1, NO_CALENDAR, Attribution(FINANCE, date(2022, 5, 1))
        ),
    )


def test_the_reveal_uses_the_rate_announced_whatever_is_in_force_since() -> None:
    """A ruleset adopted between the announcement and the reveal cannot make the reveal impossible."""
    sample = announce(size=3)
    contribute(sample)
    assert len(reveal(sample)) == 3
    assert sample.verify_revealed() == []


# ------------------------------------------------------------ the scheduler: approaching, failed, a new draw


def test_the_scheduler_warns_then_records_the_failed_draw_once() -> None:
    sample = announce()
    assert sample.open_deadlines()[0].kind == DRAW_REVEAL
    assert sample.next_deadline_notice(P) == date(2022, 4, 8)  # seven days before
    assert sample.raise_deadline_notices(date(2022, 4, 7), P, SYSTEM) == []
    assert len(sample.raise_deadline_notices(date(2022, 4, 8), P, SYSTEM)) == 1
    assert isinstance(sample.pending_events[-1], ReEvaluationSample.RevealApproaching)
    assert sample.raise_deadline_notices(date(2022, 4, 9), P, SYSTEM) == []
    assert sample.next_deadline_notice(P) == date(2022, 4, 16)
    assert sample.raise_deadline_notices(REVEAL_BY, P, SYSTEM) == []  # the last day is in time
    assert len(sample.raise_deadline_notices(date(2022, 4, 20), P, SYSTEM)) == 1
    failed = sample.pending_events[-1]
    assert isinstance(failed, ReEvaluationSample.Failed)
    assert (failed.effective_on, failed.missing, failed.principal) == (date(2022, 4, 16), "contribution", SYSTEM)
    assert sample.draws[0]["status"] == DrawStatus.FAILED
    assert sample.raise_deadline_notices(date(2022, 4, 21), P, SYSTEM) == []  # idempotent
    assert sample.next_deadline_notice(P) is None
    assert sample.pending_population() == frozenset()


def test_a_draw_finance_does_not_reveal_fails_naming_the_reveal() -> None:
    sample = announce()
    contribute(sample)
    sample.raise_deadline_notices(date(2022, 4, 16), P, SYSTEM)
    assert sample.draws[0]["missing"] == "reveal"
    refused(sample, "draw-not-open", lambda: reveal(sample, on=REVEAL_BY))


def test_a_new_draw_only_after_the_last_failed_and_the_failed_one_stays() -> None:
    sample = announce()
    second = "44" * 32

    def again(secret: str = second, on: date = date(2022, 4, 20)) -> None:
        sample.announce_again(POPULATION[:20], commitment(secret), None, P, 1, NO_CALENDAR, Attribution(FINANCE, on))

    refused(sample, "draw-open", again)
    sample.raise_deadline_notices(date(2022, 4, 16), P, SYSTEM)
    refused(sample, "commitment-reused", lambda: again(SECRET))
    refused(
        sample,
        "commitment-reused",
        lambda: sample.announce_again(
            POPULATION, commitment().upper(), None, P, 1, NO_CALENDAR, Attribution(FINANCE, date(2022, 4, 20))
        ),
    )
    refused(sample, "effective-date-too-early", lambda: again(on=date(2022, 4, 15)))
    again()
    assert [draw["status"] for draw in sample.draws] == ["failed", "announced"]
    assert sample.draws[1]["no"] == 2
    assert sample.draws[1]["population"] == POPULATION[:20]
    assert sample.draws[1]["size"] == 2
    assert isinstance(sample.pending_events[-1], ReEvaluationSample.Reannounced)
    contribute(sample, on=date(2022, 4, 21))
    selected = reveal(sample, second, on=date(2022, 4, 22))
    assert sample.selected == selected
    assert sample.draws[1]["contributed_on"] == date(2022, 4, 21)
    assert sample.verify_revealed() == []


# ------------------------------------------------------------ recomputation (what `jixiao verify` runs)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("selected", ["2021-P001", "2021-P002", "2021-P003"], "the recorded selection is not the one its seed draws"),
        ("seed", "00" * 32, "the recorded seed is not the hash"),
        ("secret", "55" * 32, "the revealed secret does not match the commitment"),
        ("contribution", "66" * 32, "the recorded seed is not the hash"),
        ("population", [*POPULATION[1:], "2021-P999"], "the population digest does not match"),
        ("secret", "not hex", "its recorded values cannot be recomputed"),
    ],
)
def test_a_draw_recorded_otherwise_than_its_inputs_say_fails_the_recomputation(
    field: str, value: object, expected: str
) -> None:
    sample = drawn()
    sample.draws[0][field] = value
    problems = sample.verify_revealed()
    assert len(problems) == 1
    assert problems[0].startswith("re-evaluation draw 1 of 2021: ")
    assert expected in problems[0]


def test_a_legacy_single_party_draw_replays_as_recorded() -> None:
    """A sample drawn by the first releases (finance's seed) stays readable: no draws, nothing to recompute or
    watch."""
    selected = rules.draw_sample(POPULATION, "2022-04-01 公开摇号", P)
    sample = ReEvaluationSample._create(
        ReEvaluationSample.Drawn,
        id=sample_id(2021),
        principal=FINANCE,
        effective_on=ANNOUNCED_ON,
        reason="",
        evidence=[],
        fiscal_year=2021,
        seed="2022-04-01 公开摇号",
        population=POPULATION,
        selected=selected,
        rate="0.10",
        ruleset_version=1,
    )
    assert (sample.seed, sample.selected, sample.is_drawn, sample.draws) == ("2022-04-01 公开摇号", selected, True, [])
    assert sample.open_deadlines() == []
    assert sample.verify_revealed() == []
    assert sample.pending_population() == frozenset()
    refused(
        sample,
        "already-exists",
        lambda: sample.announce_again(
            POPULATION, commitment(), None, P, 1, NO_CALENDAR, Attribution(FINANCE, date(2022, 5, 1))
        ),
    )


# ------------------------------------------------------------ the selection is a function of the three inputs

members = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=40, unique=True)
random_bytes = st.binary(min_size=32, max_size=64)


@given(population=members, secret=random_bytes, contribution=random_bytes, order=st.randoms(use_true_random=False))
def test_the_selection_is_a_function_of_secret_contribution_and_population(
    population: list[str], secret: bytes, contribution: bytes, order: random.Random
) -> None:
    """Whoever announces, in whatever order the population comes, on whatever day: the same three inputs draw the
    same sample — the one the published functions compute, which the recomputation accepts."""
    shuffled = list(population)
    order.shuffle(shuffled)
    samples = []
    for members_, on in ((population, date(2022, 4, 1)), (shuffled, date(2022, 6, 1))):
        sample = ReEvaluationSample.announce(
            2021, members_, rules.commitment(secret), None, P, 1, NO_CALENDAR, Attribution(FINANCE, on)
        )
        sample.contribute(contribution.hex(), Attribution(AUDITOR, on))
        sample.reveal(secret.hex(), Attribution(FINANCE, on))
        samples.append(sample)
    first, second = samples
    size = rules.sample_size(len(population), P)
    assert first.seed == second.seed
    assert first.selected == second.selected == rules.two_party_draw(population, secret, contribution, size, P)[1]
    assert first.verify_revealed() == second.verify_revealed() == []


@given(population=members, secret=random_bytes, contribution=random_bytes, other=random_bytes)
def test_neither_party_can_keep_the_seed_while_changing_its_input(
    population: list[str], secret: bytes, contribution: bytes, other: bytes
) -> None:
    digest = rules.population_digest(population)
    seed = rules.draw_seed(secret, contribution, digest)
    if other != contribution:
        assert rules.draw_seed(secret, other, digest) != seed
    if other != secret:
        assert rules.draw_seed(other, contribution, digest) != seed
    # the parts are length-prefixed: bytes moved from one to the other make another seed
    assert rules.draw_seed(secret + contribution[:1], contribution[1:], digest) != seed


def test_the_rate_is_recorded_as_text() -> None:
    sample = announce()
    assert sample.draws[0]["rate"] == "0.10"
    assert Decimal(sample.draws[0]["rate"]) == P.re_evaluation_rate
