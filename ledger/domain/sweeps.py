"""Time-driven work (定时任务): the rules that time alone makes true, and how the ledger finds where they apply.

Each sweep is one such rule — a deadline approaching or missed, a deviation to detect in the latest monitoring,
funding to suspend when a deviation goes unanswered, a rectification overdue (and later escalated), a decision's
rectification report approaching or missed, a disclosure or a submission to the congress approaching or missed (a
project's own disclosures are among its deadlines), an organisation's overall self-evaluation approaching or missed,
a re-evaluation draw's reveal approaching or failed, an audit finding's response approaching or missed, a
blacklisting expired. What it records is decided by the
aggregate's own method, whose state remembers what was raised: running a sweep again records nothing, and two sweeps
racing on one object lose to optimistic concurrency (a version conflict, re-checked on the reloaded object), never
record twice.

Finding the objects without replaying every aggregate on every run: ``ledger_sweep_watch`` keeps, per sweep and
object, the first day it may need attention (``check_on``, from the aggregate's ``next_*`` method after each visit;
NULL when only a new event could change anything). A run first reads the log's tail since the sweep's position —
only the indexed ``leaf_index`` range and the ``originator_id``, ``originator_version`` and ``topic`` columns, no
payloads — and marks every object changed since as due today; then it visits only the objects due. A quiet run
costs a few indexed queries however many projects there are, and a busy one a visit per object with work to do.

The watch list and positions are bookkeeping the service's database role can write, so they must not be able to
hide anything: each ledger process also visits every object of a sweep's kind at its first run and then every
``recheck_interval`` (a day by default), whatever the list says. An altered list can delay a notice by at most
that long, and every object the full pass finds due that the list did not name is logged as a warning.

This module holds the rules; the watch list and positions are stored by :class:`ledger.store.sweep_watch.SweepWatch`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar, cast

from eventsourcing.utils import get_topic

from ledger.domain import rules
from ledger.domain.agencies import Agency
from ledger.domain.base import LedgerAggregate
from ledger.domain.catalogue import Ruleset
from ledger.domain.decisions import Decision
from ledger.domain.disclosure import DisclosureDuty
from ledger.domain.draw import ReEvaluationSample
from ledger.domain.errors import InvalidInput
from ledger.domain.findings import AuditFinding
from ledger.domain.overall import OverallGoals
from ledger.domain.project import Project
from ledger.domain.values import SYSTEM, Principal

A = TypeVar("A", bound=LedgerAggregate)


@dataclass(frozen=True)
class SweepContext:
    """What a sweep decides with: the day, the ruleset in force, the working-day calendar."""

    today: date
    params: rules.RuleParameters
    ruleset_version: int
    holidays: Collection[date] = ()
    working_weekends: Collection[date] = ()
    calendar_version: int | None = None  # the working calendar's version in the log, recorded with a deadline


@dataclass(frozen=True)
class Sweep(Generic[A]):
    """One time-driven rule: ``decide`` records on the aggregate what is due; ``next_check`` is the first day it
    could record anything more, unless the aggregate changes first."""

    name: str
    title: str
    aggregate: type[A]
    not_found_code: str
    decide: Callable[[A, SweepContext], object]
    next_check: Callable[[A, SweepContext], date | None]

    @property
    def topic_prefix(self) -> str:
        return f"{get_topic(self.aggregate)}."


@dataclass(frozen=True)
class SweepReport:
    """One run of a sweep: the objects it visited, the events it raised (by type) and where they are in the log."""

    sweep: str
    today: date
    visited: int
    raised: dict[str, int] = field(default_factory=dict)
    positions: list[int] = field(default_factory=list)
    conflicts: int = 0  # lost races with another writer, each re-checked on the reloaded object
    rechecked: int = 0  # objects the watch list did not name, visited by the periodic full pass
    missed: int = 0  # of those, the ones that had something due: the watch list was wrong (altered?)


class _OwesNotices(Protocol):
    """What the scheduler's deadline notices ask of an aggregate (:class:`ledger.domain.notices.NoticeOwner`'s)."""

    def raise_deadline_notices(self, today: date, params: rules.RuleParameters, principal: Principal) -> object: ...

    def next_deadline_notice(self, params: rules.RuleParameters) -> date | None: ...


def _notices(name: str, title: str, aggregate: type[A], not_found_code: str) -> Sweep[A]:
    """The sweep of the approaching and missed notices on what ``aggregate`` owes."""
    return Sweep(
        name,
        title,
        aggregate,
        not_found_code,
        lambda owner, context: cast(_OwesNotices, owner).raise_deadline_notices(context.today, context.params, SYSTEM),
        lambda owner, context: cast(_OwesNotices, owner).next_deadline_notice(context.params),
    )


def _detect(project: Project, context: SweepContext) -> bool:
    return project.detect_deviation(
        context.params,
        context.ruleset_version,
        context.holidays,
        SYSTEM,
        context.today,
        context.working_weekends,
        calendar_version=context.calendar_version,
    )


# In dependency order: a deviation detected today is a deadline the next sweep may already warn about.
SWEEPS: dict[str, Sweep[Any]] = {
    sweep.name: sweep
    for sweep in (
        Sweep(
            "deviations",
            "DeviationDetected: the latest monitoring below the ruleset's thresholds, once per period",
            Project,
            "project-not-found",
            _detect,
            lambda project, context: None,
        ),
        _notices(
            "deadlines",
            "DeadlineApproaching / DeadlineMissed: goals, monitoring report, self-evaluation, "
            "rectifications, deviation answers, the ex-ante report's review, the goals and results to disclose, "
            "the steps of 两审一督导",
            Project,
            "project-not-found",
        ),
        Sweep(
            "funding-suspension",
            "FundingSuspended: a deviation not answered in the working days allowed",
            Project,
            "project-not-found",
            lambda project, context: project.suspend_funding_if_unanswered(context.today, SYSTEM),
            lambda project, context: project.next_suspension_check(),
        ),
        Sweep(
            "rectifications-overdue",
            "RectificationOverdue: a rectification not accepted by its deadline",
            Project,
            "project-not-found",
            lambda project, context: project.mark_rectifications_overdue(context.today, SYSTEM),
            lambda project, context: project.next_overdue_check(),
        ),
        Sweep(
            "rectification-escalation",
            "RectificationEscalated: an overdue rectification still not accepted after the ruleset's grace in working "
            "days, for finance to decide 调减 or 收回",
            Project,
            "project-not-found",
            lambda project, context: project.escalate_overdue_rectifications(
                context.today,
                context.params,
                context.ruleset_version,
                (context.holidays, context.working_weekends),
                SYSTEM,
                calendar_version=context.calendar_version,
            ),
            lambda project, context: project.next_escalation_check(
                context.params, (context.holidays, context.working_weekends)
            ),
        ),
        _notices(
            "decision-deadlines",
            "DeadlineApproaching / DeadlineMissed: the rectification report owed after 约谈 or 通报批评",
            Decision,
            "decision-not-found",
        ),
        _notices(
            "disclosure-deadlines",
            "DeadlineApproaching / DeadlineMissed: overall goals to disclose, goals and results owed to the congress",
            DisclosureDuty,
            "disclosure-duty-not-found",
        ),
        _notices(
            "overall-deadlines",
            "DeadlineApproaching / DeadlineMissed: the overall self-evaluation owed on approved overall goals, and the "
            "steps of an agency's overall evaluation under 两审一督导 (plan, reviews, supervision, answers, report)",
            OverallGoals,
            "overall-goals-not-found",
        ),
        _notices(
            "draw-deadlines",
            "ReEvaluationSample.RevealApproaching / Failed: a re-evaluation draw not revealed in the working days "
            "allowed is recorded as failed",
            ReEvaluationSample,
            "sample-not-found",
        ),
        _notices(
            "audit-finding-deadlines",
            "DeadlineApproaching / DeadlineMissed: the response an audit finding (审计发现) requires",
            AuditFinding,
            "audit-finding-not-found",
        ),
        Sweep(
            "blacklist-expiry",
            "BlacklistExpired: a blacklisting's period has ended",
            Agency,
            "agency-not-found",
            lambda agency, context: agency.expire_blacklistings(context.today, SYSTEM),
            lambda agency, context: agency.next_expiry_check(),
        ),
    )
}


def sweep_named(name: str) -> Sweep[Any]:
    try:
        return SWEEPS[name]
    except KeyError:
        raise InvalidInput(f"no sweep named {name!r} (there are: {', '.join(SWEEPS)})", field="sweep") from None


RULESET_PREFIX = f"{get_topic(Ruleset)}."
