"""``accountability_trail`` without a database: what Python holds of it.

The trail's rows are built by PostgreSQL from the log's own rows (one INSERT … SELECT per page, nothing decoded in
Python), so its fold is that statement, checked against PostgreSQL in test_runner.py (every event's row, its reason
and evidence as recorded). Here: that a page is handed to it by its bounds, and that every event the ledger records
has the Chinese name the trail shows.
"""

from __future__ import annotations

from typing import cast
from uuid import uuid4

from eventsourcing.domain import DomainEvent

from ledger.domain.calendar import WorkingCalendar
from ledger.domain.catalogue import IndicatorLibrary, ReEvaluationSample, Ruleset
from ledger.domain.congress import CongressSubmission
from ledger.domain.decisions import Decision
from ledger.domain.organisations import Agency, Department, Unit
from ledger.domain.overall import OverallGoals
from ledger.domain.project import Project
from projections.base import Conn
from projections.trail import EVENT_NAMES_ZH, AccountabilityTrail
from tests.projections.recorded import TOPIC_MODULES, Log, ProjectHistory


class RecordedTrail(AccountabilityTrail):
    """The trail with its statement replaced by a note of the range it would cover."""

    def __init__(self) -> None:
        super().__init__()
        self.ranges: list[tuple[str, int, int]] = []

    def apply_range(self, conn: Conn, table: str, first: int, last: int) -> None:
        self.ranges.append((table, first, last))


def test_a_page_is_applied_as_the_range_of_leaves_it_spans() -> None:
    log = Log()
    history = ProjectHistory(log).then("Admitted").then("GoalsSubmitted")
    events = [*history.events[1:], log.record("Department.Registered", uuid4(), name="教育局")]  # leaves 1 to 3
    trail = RecordedTrail()
    assert trail.reads_events is False  # the runner reads and decodes nothing for it
    trail.apply(cast(Conn, None), "accountability_trail__rebuild", events)
    trail.apply(cast(Conn, None), "accountability_trail", [])
    assert trail.ranges == [("accountability_trail__rebuild", 1, 3)]


def test_every_event_the_ledger_records_has_a_chinese_name() -> None:
    aggregates = (
        Project,
        Department,
        Unit,
        OverallGoals,
        Agency,
        IndicatorLibrary,
        Ruleset,
        ReEvaluationSample,
        Decision,
        CongressSubmission,
        WorkingCalendar,
    )
    recorded = {
        f"{aggregate.__name__}.{name}"
        for aggregate in aggregates
        for name, member in vars(aggregate).items()
        if isinstance(member, type) and issubclass(member, DomainEvent) and name not in ("Event", "Created")
    }
    assert set(EVENT_NAMES_ZH) == recorded
    assert {name.split(".")[0] for name in EVENT_NAMES_ZH} == set(TOPIC_MODULES)
    assert all(EVENT_NAMES_ZH.values())
