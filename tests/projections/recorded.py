"""Events shaped as the log records them, for the folds' unit tests (no database).

Each event's state is what the recorder stores — the event's fields with its attribution (principal, business date,
reason, evidence) and its timestamp, written as JSON by the application's transcoder, typed values tagged
(``{"_type_": "decimal_str", …}``) — and it reaches the fold the way the runner hands it over: decoded by
:func:`projections.base.log_events` from a log row (leaf index, recording time, originator id and version, topic,
state, ``effective_on`` column). So a fold sees here exactly what it sees in production, without the domain's
commands (their refusals are the domain's tests) and without PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from ledger.domain.values import Principal
from ledger.store.transcodings import ledger_transcoder
from projections.base import LogEvent, log_events

# The module part of each aggregate's stored topics (LedgerAggregate.TOPIC_MODULE): the log's format.
TOPIC_MODULES = {
    "Project": "ledger.project",
    "Department": "ledger.organisations",
    "Unit": "ledger.organisations",
    "OverallGoals": "ledger.overall",
    "Agency": "ledger.organisations",
    "IndicatorLibrary": "ledger.catalogue",
    "Ruleset": "ledger.catalogue",
    "ReEvaluationSample": "ledger.catalogue",
    "Decision": "ledger.decisions",
    "CongressSubmission": "ledger.congress",
    "WorkingCalendar": "ledger.calendar",
}
FINANCE = Principal("fin", "finance", "市财政局")
DEPARTMENT = Principal("dep", "department", "教育局")
TRANSCODER = ledger_transcoder()
START = datetime(2021, 1, 4, 9, 30, tzinfo=UTC)


class Log:
    """A log being written in memory: each event takes the next leaf index, its aggregate's next version and a
    recording time a minute after the previous one."""

    def __init__(self) -> None:
        self.leaf = 0
        self.versions: dict[UUID, int] = {}

    def record(
        self,
        event_type: str,
        originator: UUID,
        /,
        *,
        effective_on: date = date(2021, 3, 1),
        principal: Principal = FINANCE,
        reason: str = "",
        evidence: list[str] | None = None,
        **fields: Any,
    ) -> LogEvent:
        """The event ``event_type`` (``"Project.BudgetApproved"``) of ``originator`` with ``fields``, as the runner
        reads it (``fields`` may name a field ``kind``: the two parameters before them are positional)."""
        aggregate = event_type.split(".", 1)[0]
        version = self.versions.get(originator, 0) + 1
        recorded_at = START + timedelta(minutes=self.leaf)
        state: dict[str, Any] = {
            "timestamp": recorded_at,
            "principal": principal,
            "effective_on": effective_on,
            "reason": reason,
            "evidence": evidence or [],
            **fields,
        }
        if version == 1:
            state["originator_topic"] = f"{TOPIC_MODULES[aggregate]}:{aggregate}"
        row = (
            self.leaf,
            recorded_at,
            originator,
            version,
            f"{TOPIC_MODULES[aggregate]}:{event_type}",
            TRANSCODER.encode(state),
            effective_on,
        )
        [event] = log_events([row])
        self.leaf += 1
        self.versions[originator] = version
        return event

    def declare(
        self,
        project: UUID | None = None,
        *,
        code: str = "P-001",
        department: str = "教育局",
        fiscal_year: int = 2021,
        budget_book: str = "general_public",
        requested: str = "4000000.00",
        **fields: Any,
    ) -> LogEvent:
        """A project's ``Project.Declared`` (a new project unless ``project`` is given)."""
        return self.record(
            "Project.Declared",
            project or uuid4(),
            effective_on=date(fiscal_year - 1, 9, 1),
            principal=DEPARTMENT,
            code=code,
            name=fields.pop("name", "义务教育薄弱环节改善"),
            kind=fields.pop("kind", "project"),
            department=department,
            fiscal_year=fiscal_year,
            budget_book=budget_book,
            special_category=fields.pop("special_category", None),
            requested=Decimal(requested),
            new_major=fields.pop("new_major", False),
            **fields,
        )


class ProjectHistory:
    """One project's events, recorded one after another in a :class:`Log` (a new one unless shared)."""

    def __init__(self, log: Log | None = None, **declared: Any) -> None:
        self.log = log or Log()
        self.events = [self.log.declare(**declared)]
        self.id = self.events[0].originator_id

    def then(self, name: str, /, **fields: Any) -> ProjectHistory:
        """Record ``Project.<name>`` with ``fields`` (its business date too: ``effective_on``)."""
        self.events.append(self.log.record(f"Project.{name}", self.id, **fields))
        return self

    @property
    def last(self) -> LogEvent:
        return self.events[-1]
