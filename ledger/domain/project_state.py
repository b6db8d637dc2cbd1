"""A project's state: what its events change (:mod:`ledger.domain.project_events`) and the lookups they share with
its commands (:mod:`ledger.domain.project`).

Apart from both so that the events know the state they change without knowing the commands: the project imports its
events, and the events import only this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import NotFound
from ledger.domain.values import Indicator


class ProjectState(LedgerAggregate):
    """The project's record as plain data, so snapshots round-trip exactly. Not an aggregate of its own: it names no
    ``TOPIC_MODULE``, so nothing is stored under it."""

    if TYPE_CHECKING:  # state attributes; not dataclass fields (eventsourcing would make them __init__ args)
        code: str
        name: str
        kind: str
        department: str
        unit: str | None  # its department's budget unit (预算单位), or None: the department's own project
        continues: UUID | None  # the earlier project this one continues (results into budgets), if any
        fiscal_year: int
        budget_book: str
        special_category: str | None
        requested: Decimal
        new_major: bool
        declared_on: date | None  # None: restored from a snapshot taken before it was kept
        stage: str
        ex_ante: dict[str, Any] | None  # the assessment that stands: finance's own, or a filed report approved
        ex_ante_agency: dict[str, Any] | None  # the agency the department commissioned for it, if any
        ex_ante_filings: list[dict[str, Any]]  # the department's filed reports, each with finance's review
        goals: list[Indicator]
        goals_rating: str | None
        goals_review_notes: str
        goals_revisions: int
        approved_amount: Decimal | None
        budget_linkage: (
            dict[str, Any] | None
        )  # a continuation's approval: the earlier result applied, the cap, override
        executed: Decimal
        funding_suspended: bool
        adjustments: list[dict[str, Any]]
        monitoring: list[dict[str, Any]]
        deviations: list[dict[str, Any]]
        corrective_actions: list[dict[str, Any]]
        self_evaluation: dict[str, Any] | None
        selected_in_sample: str | None
        re_evaluation: dict[str, Any] | None
        key_evaluations: dict[str, dict[str, Any]]
        results: dict[str, Any] | None
        policy_decision: dict[str, Any] | None  # 政策调整 of a policy: continue, adjust or terminate
        rectifications: list[dict[str, Any]]
        disclosed: list[str]
        disclosure_due: dict[str, date]  # what ("goals", "results") -> the day it must be disclosed by, once owed
        deadline_notices: dict[str, dict[str, Any]]  # Deadline.key -> {kind, ref, due_on, approaching, missed}
        spot_checks: list[dict[str, Any]]  # 不定期核查 by finance, in order

    def adjustment(self, number: int) -> dict[str, Any]:
        return _entry(
            self.adjustments,
            "no",
            number,
            lambda: NotFound(f"goal adjustment {number} not found", code="adjustment-not-found"),
        )

    def rectification(self, number: int) -> dict[str, Any]:
        return _entry(
            self.rectifications,
            "no",
            number,
            lambda: NotFound(f"rectification {number} not found", code="rectification-not-found"),
        )

    def spot_check(self, number: int) -> dict[str, Any]:
        return _entry(
            self.spot_checks,
            "no",
            number,
            lambda: NotFound(f"spot check {number} not found", code="spot-check-not-found"),
        )

    def monitoring_for(self, month: int) -> dict[str, Any]:
        return _entry(
            self.monitoring,
            "month",
            month,
            lambda: NotFound(f"no monitoring report for month {month}", code="invalid-value"),
        )

    def ex_ante_filing(self, number: int) -> dict[str, Any]:
        return _entry(
            self.ex_ante_filings,
            "no",
            number,
            lambda: NotFound(f"ex-ante report {number} not found", code="ex-ante-filing-not-found"),
        )

    @property
    def pending_ex_ante_filing(self) -> dict[str, Any] | None:
        """The filed ex-ante report awaiting finance's review (审核), if any."""
        return next((item for item in self.ex_ante_filings if item["status"] == "filed"), None)

    def key_evaluation(self, evaluation_id: str) -> dict[str, Any]:
        try:
            return self.key_evaluations[evaluation_id]
        except KeyError:
            raise NotFound(f"key evaluation {evaluation_id} not found", code="evaluation-not-found") from None


def _entry(entries: list[dict[str, Any]], field: str, value: int, missing: Callable[[], NotFound]) -> dict[str, Any]:
    """The entry of a project's list (adjustments, rectifications, monitoring reports) whose ``field`` is
    ``value``; the error ``missing`` makes when there is none."""
    for item in entries:
        if item[field] == value:
            return item
    raise missing()
