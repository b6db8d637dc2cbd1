"""The scheduler watches the overall self-evaluation on PostgreSQL (``overall-deadlines``): approaching and missed
notices for each department and unit whose approved overall goals await it, once each however often the sweep runs,
none for goals not approved or already self-evaluated."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.application import Ledger
from ledger.domain.overall import overall_goals_id
from tests.conftest import EDUCATION, FINANCE, HEALTH, FakeClock, act
from tests.ledger.application.test_overall import SCHOOL, organisations  # noqa: F401 (a fixture)
from tests.ledger.domain.overall_support import fair_actuals, overall_indicators

pytestmark = pytest.mark.db

APPROACHING, MISSED = "OverallGoals.DeadlineApproaching", "OverallGoals.DeadlineMissed"


def test_approaching_and_missed_once_each_for_the_goals_that_await_their_self_evaluation(
    organisations: Ledger,  # noqa: F811
    clock: FakeClock,
) -> None:
    ledger = organisations
    clock.set(date(2024, 1, 2))
    for who, name in ((EDUCATION, "教育局"), (EDUCATION, SCHOOL), (HEALTH, "卫生健康委员会")):
        ledger.submit_overall_goals(act(who, date(2021, 10, 1)), name, 2022, overall_indicators())
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), "教育局", 2022, "优")
    ledger.review_overall_goals(act(FINANCE, date(2021, 10, 20)), SCHOOL, 2022, "良")
    # 卫生健康委员会's goals were never reviewed: nothing to self-evaluate, nothing watched

    assert ledger.sweep("overall-deadlines", date(2023, 3, 23)).raised == {}
    assert ledger.sweep("overall-deadlines", date(2023, 3, 24)).raised == {APPROACHING: 2}
    assert ledger.sweep("overall-deadlines", date(2023, 3, 24)).raised == {}  # the same day again
    assert ledger.sweep("overall-deadlines", date(2023, 3, 28)).raised == {}  # once
    ledger.self_evaluate_overall(act(EDUCATION, date(2023, 3, 29)), SCHOOL, 2022, fair_actuals())
    head = ledger.head()
    report = ledger.sweep("overall-deadlines", date(2023, 4, 3))
    assert report.raised == {MISSED: 1}  # the school self-evaluated in time
    assert ledger.sweep("overall-deadlines", date(2023, 4, 4)).raised == {}
    assert ledger.head() == head + 1

    history = ledger.history(overall_goals_id("教育局", 2022))
    noticed = [entry for entry in history if entry.event_type in (APPROACHING, MISSED)]
    assert [(entry.event_type, entry.effective_on, entry.principal.role) for entry in noticed] == [
        (APPROACHING, date(2023, 3, 24), "system"),
        (MISSED, date(2023, 4, 1), "system"),
    ]
    assert noticed[-1].payload["due_on"] == date(2023, 3, 31)
    school = [entry.event_type for entry in ledger.history(overall_goals_id(SCHOOL, 2022))]
    assert MISSED not in school
    assert ledger.sweep("overall-deadlines", date(2024, 1, 1)).raised == {}
