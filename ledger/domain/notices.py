"""The scheduler's two notices on an obligation (临期提醒, 逾期), one shape for every aggregate that owes one: a
project, a decision's rectification, a disclosure duty. Each aggregate declares its own pair (its stored topics are
its own) on these bases, which record the notice in its ``deadline_notices``."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from ledger.domain.base import LedgerAggregate
from ledger.domain.deadlines import Deadline, notice_entry


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
