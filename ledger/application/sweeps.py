"""The time-driven use cases (定时任务): the sweeps the scheduler runs, and each rule applied to one object.

What a sweep records is decided by the aggregate's own method (:mod:`ledger.domain.sweeps`); here it is applied
to every object the watch list names as due — and, every ``recheck_interval``, to every object of its kind — each
object loaded, decided on and saved under its lock, a lost race retried on what the winner recorded.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from ledger.application.acts import Written
from ledger.application.core import LedgerCore
from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import Forbidden, VersionConflict
from ledger.domain.project import Project
from ledger.domain.sweeps import Sweep, SweepContext, SweepReport, sweep_named
from ledger.domain.values import SYSTEM, Principal, Role

A = TypeVar("A", bound=LedgerAggregate)
T = TypeVar("T")
logger = logging.getLogger(__name__)

SCHEDULED_ATTEMPTS = 5  # a time-driven rule that keeps losing races on one object gives up (and is retried next run)


class SweepUseCases(LedgerCore):
    """The scheduler's work: each sweep over the objects due, and each time-driven rule on one object."""

    def sweep(self, name: str, today: date | None = None) -> SweepReport:
        """Run one time-driven rule (``ledger.domain.sweeps.SWEEPS``) for ``today`` over every object it may apply
        to — which the log's indexed columns and the watch list find without replaying the others. Idempotent."""
        sweep = sweep_named(name)
        day = today or self.today()
        covered = self.sweep_watch.refresh(sweep, day)
        context = self._sweep_context(day)  # read after the refresh, so a ruleset it saw adopted is the one used
        raised: Counter[str] = Counter()
        positions: list[int] = []
        visits: list[tuple[UUID, int, date | None]] = []
        conflicts = 0
        candidates = self.sweep_watch.due(sweep, day)
        started = time.monotonic()
        last = self._rechecked.get(name)
        extra: list[UUID] = []
        if last is None or started - last >= self.recheck_interval:
            listed = set(candidates)
            extra = [object_id for object_id in self.sweep_watch.all_objects(sweep) if object_id not in listed]
        missed = 0
        try:
            for index, object_id in enumerate([*candidates, *extra]):
                written, names, check_on, version, lost = self._decide(
                    sweep.aggregate,
                    object_id,
                    sweep.not_found_code,
                    lambda aggregate: sweep.decide(aggregate, context),
                    lambda aggregate: sweep.next_check(aggregate, context),
                )
                if names and index >= len(candidates):
                    missed += 1
                    logger.warning(
                        "sweep %s found %s due on %s though its watch list did not: the list in "
                        "ledger_sweep_watch was wrong (if this repeats, it is being altered)",
                        name,
                        object_id,
                        day,
                    )
                raised.update(names)
                positions += written.positions if written else []
                visits.append((object_id, version, check_on))
                conflicts += lost
        finally:
            self.sweep_watch.checked(sweep, covered, visits)  # what was visited stays visited if a later one fails
        if last is None or started - last >= self.recheck_interval:
            self._rechecked[name] = started
        return SweepReport(name, day, len(candidates), dict(raised), positions, conflicts, len(extra), missed)

    def next_sweep_check(self, after: date) -> date | None:
        """The earliest day after ``after`` on which some sweep has an object due (simulations skip to it)."""
        return self.sweep_watch.next_check(after)

    # ------------------------------------------------------------ one rule, one object

    def detect_deviation(self, pid: UUID, today: date | None = None, principal: Principal = SYSTEM) -> Written | None:
        """Evaluate the latest monitoring against the rules; record a deviation once per period."""
        if principal.role not in (Role.SYSTEM, Role.FINANCE):
            raise Forbidden("only finance or the scheduler detect deviations", code="role-not-allowed")
        context = self._sweep_context(today)
        written, _, _, _, _ = self._decide(
            Project,
            pid,
            "project-not-found",
            lambda project: project.detect_deviation(
                context.params,
                context.ruleset_version,
                context.holidays,
                principal,
                context.today,
                context.working_weekends,
                calendar_version=context.calendar_version,
            ),
            lambda _: None,
        )
        return written

    def suspend_unanswered_funding(self, pid: UUID, today: date | None = None) -> Written | None:
        """暂缓拨款 raised by the scheduler when a deviation's answer is overdue."""
        return self._apply_sweep(sweep_named("funding-suspension"), pid, today)

    def mark_rectifications_overdue(self, pid: UUID, today: date | None = None) -> Written | None:
        """Past its deadline an open rectification is recorded overdue, once (scheduler)."""
        return self._apply_sweep(sweep_named("rectifications-overdue"), pid, today)

    def escalate_overdue_rectifications(self, pid: UUID, today: date | None = None) -> Written | None:
        """整改逾期升级: an overdue rectification still not accepted after the ruleset's grace is escalated, once
        (scheduler)."""
        return self._apply_sweep(sweep_named("rectification-escalation"), pid, today)

    def raise_deadline_notices(
        self, pid: UUID, today: date | None = None, principal: Principal = SYSTEM
    ) -> Written | None:
        """临期提醒 / 逾期: each open obligation's approaching and missed notices, once each (scheduler only)."""
        if not principal.is_system:
            raise Forbidden("deadline notices are raised by the scheduler", code="role-not-allowed")
        return self._apply_sweep(sweep_named("deadlines"), pid, today)

    def expire_blacklistings(self, name: str, today: date | None = None) -> Written | None:
        """失信黑名单期满: a blacklisting whose period has ended is recorded expired, once (scheduler)."""
        return self._apply_sweep(sweep_named("blacklist-expiry"), self._agency_id(name), today)

    def _sweep_context(self, today: date | None) -> SweepContext:
        params, version = self._rules()
        calendar = self.working_days()  # as the log records it, not as the settings say
        return SweepContext(
            today or self.today(), params, version, calendar.holidays, calendar.working_weekends, calendar.version
        )

    def _apply_sweep(self, sweep: Sweep[Any], object_id: UUID, today: date | None) -> Written | None:
        context = self._sweep_context(today)
        written, _, _, _, _ = self._decide(
            sweep.aggregate,
            object_id,
            sweep.not_found_code,
            lambda aggregate: sweep.decide(aggregate, context),
            lambda _: None,
        )
        return written

    def _decide(
        self, cls: type[A], aggregate_id: UUID, code: str, decide: Callable[[A], object], after: Callable[[A], T]
    ) -> tuple[Written | None, list[str], T, int, int]:
        """A time-driven rule applied to one object: load, let the aggregate decide, save what it recorded.

        Returns what was written, the event types raised, ``after`` of the object as saved, its version, and how
        many races were lost. A lost race (another writer — another scheduler, say — saved first) is a version
        conflict: the object is reloaded and the rule decides again on what is now recorded, so what the other
        writer raised is never raised twice.
        """
        conflicts = 0
        for _ in range(SCHEDULED_ATTEMPTS):
            with self.lock_for(aggregate_id):
                aggregate = self._get(cls, aggregate_id, code, copy=False)
                try:
                    decide(aggregate)
                    raised = [type(event).__qualname__ for event in aggregate.pending_events]
                    written = self.commit(aggregate) if raised else None
                except VersionConflict:
                    conflicts += 1  # commit dropped the object from the cache: the next attempt reloads it
                    continue
                except BaseException:
                    if aggregate.pending_events:
                        self.cache.evict(aggregate_id)
                    raise
                return written, raised, after(aggregate), aggregate.version, conflicts
        raise VersionConflict(
            f"{aggregate_id} kept changing while a scheduled rule applied to it; it is tried again on the next run",
            code="version-conflict",
        )
