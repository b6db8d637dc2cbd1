"""The re-evaluation sample of a fiscal year (财政再评价抽查) and the two-party draw that makes it.

Finance draws at least ``re_evaluation_rate`` of the year's self-evaluated projects for re-evaluation. So that
nobody steers the draw alone, its seed is made by two parties in three recorded steps (commit–reveal):

1. **Announced** by finance, with a *commitment* — the SHA-256 of a secret of at least 32 random bytes that finance
   keeps — and the *population* fixed there and then: the year's self-evaluated projects, sorted, with their digest,
   and the sample's size. The reveal is due ``draw_reveal_working_days`` working days later.
2. **Contributed** by the audit office (审计, the ``auditor`` role): random bytes of its own, once, after the
   announcement. It has seen only the commitment, so it cannot aim at a sample.
3. **Revealed** by finance: the secret, refused unless its SHA-256 is the commitment. The seed is
   ``SHA-256(tag ‖ secret ‖ contribution ‖ population digest)`` (:func:`ledger.domain.rules.draw_seed`) and the
   selection follows from it by the published ranking (:func:`ledger.domain.rules.draw_sample`). Finance fixed its
   secret before it saw the contribution, so it cannot choose the seed either.

Finance's one remaining freedom is not to reveal. A draw not revealed by its day is recorded by the scheduler as
**failed** (saying whether the contribution or the reveal was missing), for everyone to see, and only then may a new
draw be announced; the failed one stays in the record. Everything a draw decides is in its events, so anyone holding
the log recomputes the selection (``jixiao verify`` does: :mod:`ledger.application.draw_check`).

A sample drawn before the two-party draw (``Drawn``: a seed finance chose, recorded with the population and the
selection) replays as it was; no new one is drawn that way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate, ledger_id, require_not_before
from ledger.domain.deadlines import Deadline, Notice
from ledger.domain.errors import DomainError, RuleViolation
from ledger.domain.notices import ApproachingNotice, MissedNotice, NoticeOwner, notice_fields
from ledger.domain.values import Attribution, Principal

DRAW_REVEAL = "draw_reveal"  # the deadline's kind in notices
# The working calendar a reveal's day is counted in: its holidays, its working weekends, its version (None: none kept).
WorkingDays: TypeAlias = tuple[frozenset[date], frozenset[date], int | None]


class DrawStatus(StrEnum):
    ANNOUNCED = "announced"  # 已公告（财政局已提交承诺值）
    CONTRIBUTED = "contributed"  # 审计已提交随机数
    REVEALED = "revealed"  # 已揭示，抽查结果产生
    FAILED = "failed"  # 逾期未揭示，抽签失败


OPEN = frozenset({DrawStatus.ANNOUNCED.value, DrawStatus.CONTRIBUTED.value})


def sample_id(fiscal_year: int) -> UUID:
    return ledger_id("re-evaluation-sample", fiscal_year)


def _draw_entry(event: ReEvaluationSample.Announced | ReEvaluationSample.Reannounced) -> dict[str, Any]:
    return {
        "no": event.draw_no,
        "status": DrawStatus.ANNOUNCED.value,
        "commitment": event.commitment,
        "population": list(event.population),
        "population_digest": event.population_digest,
        "size": event.size,
        "rate": event.rate,
        "ruleset_version": event.ruleset_version,
        "announced_on": event.effective_on,
        "announced_by": event.principal.organisation,
        "reveal_by": event.reveal_by,
        "contribution": None,
        "contributed_on": None,
        "contributed_by": None,
        "secret": None,
        "seed": None,
        "selected": None,
        "revealed_on": None,
        "failed_on": None,
        "missing": None,
    }


class ReEvaluationSample(NoticeOwner, LedgerAggregate):
    """财政再评价抽查 of one fiscal year: its draws (the failed ones kept), and the sample the revealed one selected."""

    TOPIC_MODULE = "ledger.catalogue"  # stored topics keep the module they were first recorded under

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        fiscal_year: int
        seed: str | None  # the revealed draw's seed (or the legacy draw's); None until one is revealed
        population: list[str]
        selected: list[str]
        rate: str
        ruleset_version: int
        draws: list[dict[str, Any]]  # the two-party draws, in order; [] for a legacy draw
        deadline_notices: dict[str, dict[str, Any]]

    class Drawn(LedgerAggregate.Created):
        """A draw of the first releases: the seed was finance's alone (replayed as recorded, never drawn again)."""

        fiscal_year: int
        seed: str
        population: list[str]
        selected: list[str]
        rate: str
        ruleset_version: int

        def apply(self, sample: ReEvaluationSample) -> None:
            sample.fiscal_year = self.fiscal_year
            sample.seed = self.seed
            sample.population = list(self.population)
            sample.selected = list(self.selected)
            sample.rate = self.rate
            sample.ruleset_version = self.ruleset_version
            sample.draws = []
            sample.deadline_notices = {}

    class Announced(LedgerAggregate.Created):
        """抽查公告: finance's commitment, the population fixed with its digest, the size and the reveal's day."""

        fiscal_year: int
        draw_no: int
        commitment: str
        population: list[str]
        population_digest: str
        size: int
        rate: str
        ruleset_version: int
        reveal_by: date
        calendar_version: int | None

        def apply(self, sample: ReEvaluationSample) -> None:
            sample.fiscal_year = self.fiscal_year
            sample.seed = None
            sample.population = list(self.population)
            sample.selected = []
            sample.rate = self.rate
            sample.ruleset_version = self.ruleset_version
            sample.draws = [_draw_entry(self)]
            sample.deadline_notices = {}

    class Reannounced(LedgerAggregate.Event):
        """A new draw announced after the last one failed: the same fields as the first announcement."""

        draw_no: int
        commitment: str
        population: list[str]
        population_digest: str
        size: int
        rate: str
        ruleset_version: int
        reveal_by: date
        calendar_version: int | None

        def apply(self, sample: ReEvaluationSample) -> None:
            sample.population = list(self.population)
            sample.rate = self.rate
            sample.ruleset_version = self.ruleset_version
            sample.draws.append(_draw_entry(self))

    class Contributed(LedgerAggregate.Event):
        """审计随机数: the audit office's contribution to the seed."""

        draw_no: int
        contribution: str

        def apply(self, sample: ReEvaluationSample) -> None:
            draw = sample.draws[self.draw_no - 1]
            draw.update(
                status=DrawStatus.CONTRIBUTED.value,
                contribution=self.contribution,
                contributed_on=self.effective_on,
                contributed_by=self.principal.organisation,
            )

    class Revealed(LedgerAggregate.Event):
        """揭示: finance's secret (matching its commitment), the seed it makes with the contribution and the
        population, and the selection that seed draws."""

        draw_no: int
        secret: str
        seed: str
        selected: list[str]

        def apply(self, sample: ReEvaluationSample) -> None:
            draw = sample.draws[self.draw_no - 1]
            draw.update(
                status=DrawStatus.REVEALED.value,
                secret=self.secret,
                seed=self.seed,
                selected=list(self.selected),
                revealed_on=self.effective_on,
            )
            sample.seed = self.seed
            sample.selected = list(self.selected)

    class RevealApproaching(ApproachingNotice):
        """临期提醒 of the reveal (raised by the scheduler)."""

    class Failed(MissedNotice):
        """抽签失败: not revealed by its day (raised by the scheduler). ``missing``: ``contribution`` when the audit
        office had not contributed, ``reveal`` when finance had not revealed."""

        missing: str

        def apply(self, sample: ReEvaluationSample) -> None:
            super().apply(sample)
            draw = sample.draws[self.ref - 1]
            draw.update(status=DrawStatus.FAILED.value, failed_on=self.effective_on, missing=self.missing)

    # ------------------------------------------------------------ reading

    @property
    def current(self) -> dict[str, Any] | None:
        """The latest two-party draw (None for a legacy sample)."""
        return self.draws[-1] if self.draws else None

    @property
    def is_drawn(self) -> bool:
        """Whether the year's sample exists: a legacy draw, or a revealed two-party one."""
        return self.seed is not None

    def draw(self, draw_no: int) -> dict[str, Any]:
        if not 1 <= draw_no <= len(self.draws):
            raise RuleViolation(f"there is no draw {draw_no} of {self.fiscal_year}", code="draw-not-open")
        return self.draws[draw_no - 1]

    def pending_population(self) -> frozenset[str]:
        """The projects of a draw announced and not yet revealed or failed (their results wait for it)."""
        current = self.current
        if current is None or current["status"] not in OPEN:
            return frozenset()
        return frozenset(current["population"])

    # ------------------------------------------------------------ commands

    @classmethod
    def announce(
        cls,
        fiscal_year: int,
        population: list[str],
        commitment: str,
        size: int | None,
        params: rules.RuleParameters,
        ruleset_version: int,
        working_days: WorkingDays,
        by: Attribution,
    ) -> ReEvaluationSample:
        """The year's first draw."""
        return cls._create(
            cls.Announced,
            id=sample_id(fiscal_year),
            fiscal_year=fiscal_year,
            **cls._announcement(1, population, commitment, size, params, ruleset_version, working_days, by),
        )

    def announce_again(
        self,
        population: list[str],
        commitment: str,
        size: int | None,
        params: rules.RuleParameters,
        ruleset_version: int,
        working_days: WorkingDays,
        by: Attribution,
    ) -> None:
        """A new draw, once the last one failed (the failed one stays in the record)."""
        if self.is_drawn:
            raise RuleViolation(f"the {self.fiscal_year} sample has already been drawn", code="already-exists")
        current = self.current
        assert current is not None  # a sample not drawn is a two-party draw's
        if current["status"] in OPEN:
            raise RuleViolation(
                f"draw {current['no']} of {self.fiscal_year} is still open (reveal due by {current['reveal_by']})",
                code="draw-open",
            )
        if rules.commitment_digest(commitment) in {draw["commitment"] for draw in self.draws}:
            raise RuleViolation(
                "the commitment of an earlier draw: a new draw commits to a new secret", code="commitment-reused"
            )
        require_not_before(by.effective_on, current["failed_on"], "the last draw failed")
        fields = self._announcement(
            len(self.draws) + 1, population, commitment, size, params, ruleset_version, working_days, by
        )
        self.trigger_event(self.Reannounced, **fields)

    @classmethod
    def _announcement(
        cls,
        draw_no: int,
        population: list[str],
        commitment: str,
        size: int | None,
        params: rules.RuleParameters,
        ruleset_version: int,
        working_days: WorkingDays,
        by: Attribution,
    ) -> dict[str, Any]:
        ordered = sorted(population)
        # The size is fixed now, before anyone knows the seed: at least the ruleset's rate (checked by a dry run
        # of the ranking, which refuses a size below it or above the population).
        chosen = rules.sample_size(len(ordered), params) if size is None else size
        rules.draw_sample(ordered, "size-check", params, chosen)
        holidays, working_weekends, calendar_version = working_days
        reveal_by = rules.add_working_days(by.effective_on, params.draw_reveal_working_days, holidays, working_weekends)
        return {
            **by.event_fields(),
            "draw_no": draw_no,
            "commitment": rules.commitment_digest(commitment),
            "population": ordered,
            "population_digest": rules.population_digest(ordered),
            "size": chosen,
            "rate": str(params.re_evaluation_rate),
            "ruleset_version": ruleset_version,
            "reveal_by": reveal_by,
            "calendar_version": calendar_version,
        }

    def _open_draw(self, by: Attribution, what: str) -> dict[str, Any]:
        current = self.current
        if current is None or current["status"] not in OPEN:
            raise RuleViolation(f"no draw of {self.fiscal_year} is open to {what}", code="draw-not-open")
        require_not_before(by.effective_on, current["announced_on"], "the draw was announced")
        if by.effective_on > current["reveal_by"]:
            raise RuleViolation(
                f"draw {current['no']} of {self.fiscal_year} was due to be revealed by {current['reveal_by']}: "
                "it has failed (the scheduler records it); announce a new draw",
                code="draw-deadline-passed",
            )
        return current

    def contribute(self, contribution: str, by: Attribution) -> None:
        """The audit office's random contribution: once per draw, after the announcement, before the reveal."""
        draw = self._open_draw(by, "a contribution")
        if draw["contribution"] is not None:
            raise RuleViolation(
                f"the audit office already contributed to draw {draw['no']} of {self.fiscal_year}",
                code="already-contributed",
            )
        data = rules.random_bytes(contribution, "contribution")
        self.record(self.Contributed, by, draw_no=draw["no"], contribution=data.hex())

    def reveal(self, secret: str, by: Attribution) -> list[str]:
        """Finance's secret, checked against its commitment; the seed and the selection follow (at the size and rate
        the draw announced, whatever ruleset is in force since). Returns the selection."""
        draw = self._open_draw(by, "a reveal")
        if draw["contribution"] is None:
            raise RuleViolation(
                f"the audit office has not contributed to draw {draw['no']} of {self.fiscal_year} yet",
                code="contribution-missing",
            )
        data = rules.random_bytes(secret, "secret")
        if rules.commitment(data) != draw["commitment"]:
            raise RuleViolation(
                f"SHA-256 of the secret is not the commitment announced for draw {draw['no']} ({draw['commitment']})",
                code="commitment-mismatch",
                field="secret",
            )
        seed, selected = _selection(draw, data)
        self.record(self.Revealed, by, draw_no=draw["no"], secret=data.hex(), seed=seed, selected=selected)
        return selected

    # ------------------------------------------------------------ the scheduler

    def open_deadlines(self, params: rules.RuleParameters | None = None) -> list[Deadline]:
        """The reveal of the current draw while it is open, by its day (fixed when announced: ``params`` do not move
        it)."""
        current = self.current
        if current is None or current["status"] not in OPEN:
            return []
        return [Deadline(DRAW_REVEAL, current["no"], current["reveal_by"])]

    def record_notice(self, notice: Notice, principal: Principal) -> None:
        """The reveal's approaching notice; after its day, the failed draw, saying what was missing."""
        fields = notice_fields(notice)
        if notice.missed:
            ref, due_on = notice.deadline.ref, notice.deadline.due_on
            missing = "contribution" if self.draw(ref)["contribution"] is None else "reveal"
            reason = f"draw {ref} was not revealed by {due_on} ({missing} missing)"
            self.record(self.Failed, Attribution(principal, notice.effective_on, reason), missing=missing, **fields)
        else:
            self.record(self.RevealApproaching, Attribution(principal, notice.effective_on, notice.reason), **fields)

    def verify_revealed(self) -> list[str]:
        """What in the recorded draws does not follow from them: each revealed draw's commitment, population digest,
        seed and selection recomputed from its recorded secret, contribution and population (and the size and rate
        it announced). [] when everything follows."""
        problems: list[str] = []
        for draw in self.draws:
            if draw["status"] != DrawStatus.REVEALED.value:
                continue
            where = f"re-evaluation draw {draw['no']} of {self.fiscal_year}"
            try:
                problem = _recompute(draw)
            except (ValueError, TypeError, DomainError) as error:  # a malformed recorded value is itself the problem
                problem = f"its recorded values cannot be recomputed ({error})"
            if problem:
                problems.append(f"{where}: {problem}")
        return problems


def _recompute(draw: dict[str, Any]) -> str | None:
    """Why a revealed draw does not follow from what it records, or None."""
    population = draw["population"]
    if population != sorted(population) or rules.population_digest(population) != draw["population_digest"]:
        return "the population digest does not match the recorded population"
    secret = bytes.fromhex(draw["secret"])
    if rules.commitment(secret) != draw["commitment"]:
        return "the revealed secret does not match the commitment"
    seed, selected = _selection(draw, secret)
    if seed != draw["seed"]:
        return "the recorded seed is not the hash of the secret, the contribution and the population digest"
    if selected != draw["selected"]:
        return f"the recorded selection is not the one its seed draws (recomputed: {', '.join(selected)})"
    return None


def _selection(draw: dict[str, Any], secret: bytes) -> tuple[str, list[str]]:
    """The seed and the selection a draw's secret makes with its recorded contribution and population, at the size
    and rate it announced."""
    params = replace(rules.DEFAULT_PARAMETERS, re_evaluation_rate=Decimal(draw["rate"]))
    return rules.two_party_draw(draw["population"], secret, bytes.fromhex(draw["contribution"]), draw["size"], params)
