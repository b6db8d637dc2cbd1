"""The scheduler's two notices on an obligation (临期提醒, 逾期), one shape for every aggregate that owes one: a
project, a decision's rectification, a disclosure duty, an audit finding's response. Each aggregate declares its own
pair (its stored topics are its own) on these bases, which record the notice in its ``deadline_notices``; an aggregate
that declares them as ``DeadlineApproaching`` and ``DeadlineMissed`` has the scheduler's side from
:class:`NoticeOwner`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from ledger.domain import deadlines, rules
from ledger.domain.base import LedgerAggregate
from ledger.domain.deadlines import Deadline, notice_entry
from ledger.domain.values import Attribution, Principal


class DeadlineNotice(LedgerAggregate.Event):
    deadline: str
    ref: int
    due_on: date

    NOTICE: ClassVar[str] = ""

    def apply(self, owner: Any) -> None:
        entry = notice_entry(owner.deadline_notices, Deadline(self.deadline, self.ref, self.due_on))
        entry[self.NOTICE] = self.effective_on


class ApproachingNotice(DeadlineNotice):
    NOTICE = "approaching"


class MissedNotice(DeadlineNotice):
    NOTICE = "missed"


def notice_fields(notice: deadlines.Notice) -> dict[str, Any]:
    """The fields of :class:`DeadlineNotice` for ``notice``."""
    return {"deadline": notice.deadline.kind, "ref": notice.deadline.ref, "due_on": notice.deadline.due_on}


class NoticeOwner:
    """The scheduler's side of an aggregate owing what ``open_deadlines`` returns: it records, once each, every
    deadline's approaching notice (from ``deadline_warning_days`` before its due date) and its missed one (after it),
    as its own ``DeadlineApproaching`` and ``DeadlineMissed`` (an aggregate whose notices say more overrides
    :meth:`record_notice`). Mixed into a :class:`LedgerAggregate`."""

    if TYPE_CHECKING:  # the aggregate's
        DeadlineApproaching: ClassVar[type[ApproachingNotice]]
        DeadlineMissed: ClassVar[type[MissedNotice]]
        deadline_notices: dict[str, dict[str, Any]]

        def record(self, event_class: type[Any], by: Attribution, **kwargs: Any) -> None: ...

    def open_deadlines(self, params: rules.RuleParameters) -> list[Deadline]:
        """The obligations not yet met, what notices are raised for."""
        raise NotImplementedError

    def raise_deadline_notices(self, today: date, params: rules.RuleParameters, principal: Principal) -> list[Deadline]:
        """Record the notices due on ``today``, once each; return the deadlines noticed."""
        due = deadlines.notices_due(
            self.open_deadlines(params), self.deadline_notices, today, params.deadline_warning_days
        )
        for notice in due:
            self.record_notice(notice, principal)
        return [notice.deadline for notice in due]

    def record_notice(self, notice: deadlines.Notice, principal: Principal) -> None:
        """Record one notice, by ``principal`` (the scheduler), as the aggregate's approaching or missed one."""
        self.record(
            self.DeadlineMissed if notice.missed else self.DeadlineApproaching,
            Attribution(principal, notice.effective_on, notice.reason),
            **notice_fields(notice),
        )

    def next_deadline_notice(self, params: rules.RuleParameters) -> date | None:
        """The first day a notice could fall due, unless something is recorded before."""
        return deadlines.next_notice_day(
            self.open_deadlines(params), self.deadline_notices, params.deadline_warning_days
        )
