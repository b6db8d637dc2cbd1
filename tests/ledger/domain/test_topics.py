"""The stored topics are the log's format: each event is stored under the topic it was first recorded with.

Leaf hashes commit to the topic, the feed and the sweeps read it, and old events are resolved by it — so however
the code that defines an aggregate or its events moves between modules (the project's events live in
``ledger.domain.project_events``, the aggregates in ``ledger.domain``), the topics stay the strings stored before.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger.domain.agencies import Agency
from ledger.domain.aggregates import AGGREGATES
from ledger.domain.base import LedgerAggregate
from ledger.domain.calendar import WorkingCalendar
from ledger.domain.catalogue import IndicatorLibrary, Ruleset
from ledger.domain.congress import CongressSubmission
from ledger.domain.credit_codes import CreditCodeIndex
from ledger.domain.decisions import Decision
from ledger.domain.disclosure import DisclosureDuty
from ledger.domain.draw import ReEvaluationSample
from ledger.domain.log_keys import KeyRotation
from ledger.domain.organisations import Department, Unit
from ledger.domain.overall import OverallGoals
from ledger.domain.project import Project
from ledger.domain.values import SYSTEM, Attribution, Principal
from ledger.log.rotation import ROTATION_TOPIC
from ledger.store.transcodings import ledger_mapper

FINANCE = Principal("fin-01", "finance", "市财政局")

# As stored today, event by event: a few of each aggregate, its creation among them.
STORED = {
    Project: "ledger.project:Project",
    Project.Declared: "ledger.project:Project.Declared",
    Project.GoalsReviewed: "ledger.project:Project.GoalsReviewed",
    Project.SelfEvaluated: "ledger.project:Project.SelfEvaluated",
    Project.PolicyAdjustmentDecided: "ledger.project:Project.PolicyAdjustmentDecided",
    Project.DeadlineMissed: "ledger.project:Project.DeadlineMissed",
    Department: "ledger.organisations:Department",
    Department.Registered: "ledger.organisations:Department.Registered",
    Department.ComprehensivelyAssessed: "ledger.organisations:Department.ComprehensivelyAssessed",
    Unit: "ledger.organisations:Unit",
    Unit.Registered: "ledger.organisations:Unit.Registered",
    OverallGoals: "ledger.overall:OverallGoals",
    OverallGoals.Submitted: "ledger.overall:OverallGoals.Submitted",
    OverallGoals.Reviewed: "ledger.overall:OverallGoals.Reviewed",
    OverallGoals.EvaluationScored: "ledger.overall:OverallGoals.EvaluationScored",
    OverallGoals.ControlFigureAdjusted: "ledger.overall:OverallGoals.ControlFigureAdjusted",
    Agency: "ledger.organisations:Agency",
    Agency.Registered: "ledger.organisations:Agency.Registered",
    Agency.Blacklisted: "ledger.organisations:Agency.Blacklisted",
    Agency.BlacklistExpired: "ledger.organisations:Agency.BlacklistExpired",
    IndicatorLibrary: "ledger.catalogue:IndicatorLibrary",
    IndicatorLibrary.Opened: "ledger.catalogue:IndicatorLibrary.Opened",
    IndicatorLibrary.IndicatorDefined: "ledger.catalogue:IndicatorLibrary.IndicatorDefined",
    Ruleset: "ledger.catalogue:Ruleset",
    Ruleset.Established: "ledger.catalogue:Ruleset.Established",
    Ruleset.Adopted: "ledger.catalogue:Ruleset.Adopted",
    ReEvaluationSample: "ledger.catalogue:ReEvaluationSample",
    ReEvaluationSample.Drawn: "ledger.catalogue:ReEvaluationSample.Drawn",
    Decision: "ledger.decisions:Decision",
    Decision.Recorded: "ledger.decisions:Decision.Recorded",
    Decision.DeadlineMissed: "ledger.decisions:Decision.DeadlineMissed",
    CongressSubmission: "ledger.congress:CongressSubmission",
    CongressSubmission.Submitted: "ledger.congress:CongressSubmission.Submitted",
    DisclosureDuty: "ledger.disclosure:DisclosureDuty",
    DisclosureDuty.Opened: "ledger.disclosure:DisclosureDuty.Opened",
    DisclosureDuty.Disclosed: "ledger.disclosure:DisclosureDuty.Disclosed",
    DisclosureDuty.Fulfilled: "ledger.disclosure:DisclosureDuty.Fulfilled",
    DisclosureDuty.DeadlineApproaching: "ledger.disclosure:DisclosureDuty.DeadlineApproaching",
    DisclosureDuty.DeadlineMissed: "ledger.disclosure:DisclosureDuty.DeadlineMissed",
    KeyRotation: "ledger.log_keys:KeyRotation",
    KeyRotation.Recorded: "ledger.log_keys:KeyRotation.Recorded",
    WorkingCalendar: "ledger.calendar:WorkingCalendar",
    WorkingCalendar.Established: "ledger.calendar:WorkingCalendar.Established",
    WorkingCalendar.YearsAdded: "ledger.calendar:WorkingCalendar.YearsAdded",
    WorkingCalendar.YearAmended: "ledger.calendar:WorkingCalendar.YearAmended",
    CreditCodeIndex: "ledger.credit_codes:CreditCodeIndex",
    CreditCodeIndex.Claimed: "ledger.credit_codes:CreditCodeIndex.Claimed",
}


@pytest.mark.parametrize(("cls", "topic"), list(STORED.items()), ids=list(STORED.values()))
def test_each_class_has_the_topic_stored_today_and_is_resolved_by_it(cls: type[Any], topic: str) -> None:
    assert get_topic(cls) == topic
    assert resolve_topic(topic) is cls


@pytest.mark.parametrize("aggregate", AGGREGATES, ids=[aggregate.__name__ for aggregate in AGGREGATES])
def test_every_event_of_an_aggregate_is_stored_under_its_first_module_and_the_aggregate(
    aggregate: type[LedgerAggregate],
) -> None:
    events = {
        name: member
        for name, member in vars(aggregate).items()
        if isinstance(member, type) and issubclass(member, DomainEvent)
    }
    assert events
    for name, event in events.items():
        assert get_topic(event) == f"{aggregate.TOPIC_MODULE}:{aggregate.__name__}.{name}"
        assert resolve_topic(get_topic(event)) is event


def test_a_recorded_event_is_stored_with_the_topics_of_today() -> None:
    """Through the mapper, as the recorder stores them: the event's topic, and its aggregate's topic in the state."""
    project = Project.declare(
        Attribution(FINANCE, date(2020, 9, 1)),
        code="T-1",
        name="测试",
        kind="project",
        department="教育局",
        fiscal_year=2021,
        budget_book="general_public",
        special_category=None,
        requested=Decimal("100.00"),
        new_major=False,
    )
    project.raise_deadline_notices(date(2020, 11, 2), Ruleset.establish(SYSTEM, date(2020, 1, 1)).parameters(), SYSTEM)
    declared, missed = (ledger_mapper().to_stored_event(event) for event in project.collect_events())
    assert declared.topic == "ledger.project:Project.Declared"
    assert json.loads(declared.state)["originator_topic"] == "ledger.project:Project"
    assert missed.topic == "ledger.project:Project.DeadlineMissed"
    agency = Agency.register(
        "某咨询评估有限公司", "证书", None, "91632800864542843F", Attribution(FINANCE, date(2021, 1, 4))
    )
    assert ledger_mapper().to_stored_event(agency.collect_events()[0]).topic == "ledger.organisations:Agency.Registered"


def _concrete(cls: type[LedgerAggregate]) -> set[type[LedgerAggregate]]:
    found = {cls} if cls.__dict__.get("TOPIC_MODULE") else set()
    for sub in cls.__subclasses__():
        found |= _concrete(sub)
    return found


def test_the_list_of_aggregates_names_every_aggregate_that_stores_topics() -> None:
    import ledger.application.ledger  # noqa: F401  (imports every aggregate the ledger records)

    assert _concrete(LedgerAggregate) == set(AGGREGATES)


def test_the_offline_verifier_knows_the_key_rotations_topic() -> None:
    """ledger.log imports no domain: it names the rotation event's topic itself, and it must be the stored one."""
    assert get_topic(KeyRotation.Recorded) == ROTATION_TOPIC
