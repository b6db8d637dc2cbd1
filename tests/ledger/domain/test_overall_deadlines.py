"""The overall self-evaluation watched (整体绩效自评时限, ledger.domain.overall): approved goals owe it by the ruleset's
``overall_self_evaluation_due``; the scheduler's approaching and missed notices are recorded once each, none for goals
not approved or already self-evaluated, and a new ruleset moves the day while it is owed."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from ledger.domain.deadlines import Deadline
from ledger.domain.errors import InvalidInput
from ledger.domain.notices import DeadlineNotice
from ledger.domain.overall import SELF_EVALUATION, OverallGoals
from ledger.domain.rules import DEFAULT_PARAMETERS as P
from ledger.domain.rules import RuleParameters
from ledger.domain.values import SYSTEM
from tests.ledger.domain.overall_support import fair_actuals
from tests.ledger.domain.test_overall import EDUCATION, approved, by, submitted

DUE = date(2023, 3, 31)  # the 2022 goals' self-evaluation: (Y+1)-03-31 by default


def notices(goals: OverallGoals) -> list[tuple[str, date, date]]:
    return [(type(e).__name__, e.due_on, e.effective_on) for e in goals.pending_events if isinstance(e, DeadlineNotice)]


def test_approved_goals_owe_the_self_evaluation_by_the_rulesets_day() -> None:
    assert approved().open_deadlines(P) == [Deadline(SELF_EVALUATION, 0, DUE)]
    assert submitted().open_deadlines(P) == []  # not approved: nothing to self-evaluate
    later = dataclasses.replace(P, overall_self_evaluation_due=(1, 4, 30))
    assert approved().open_deadlines(later) == [Deadline(SELF_EVALUATION, 0, date(2023, 4, 30))]


def test_the_scheduler_warns_then_records_it_missed_once_each() -> None:
    goals = approved()
    assert goals.raise_deadline_notices(date(2023, 3, 23), P, SYSTEM) == []  # 8 days before: not yet
    assert goals.next_deadline_notice(P) == date(2023, 3, 24)
    assert goals.raise_deadline_notices(date(2023, 3, 24), P, SYSTEM) == [Deadline(SELF_EVALUATION, 0, DUE)]
    assert goals.raise_deadline_notices(date(2023, 3, 30), P, SYSTEM) == []  # once
    assert goals.next_deadline_notice(P) == date(2023, 4, 1)
    assert goals.raise_deadline_notices(date(2023, 5, 2), P, SYSTEM) == [Deadline(SELF_EVALUATION, 0, DUE)]
    assert goals.raise_deadline_notices(date(2023, 6, 1), P, SYSTEM) == []  # once
    assert notices(goals) == [
        ("DeadlineApproaching", DUE, date(2023, 3, 24)),
        ("DeadlineMissed", DUE, date(2023, 4, 1)),  # in effect the day after the due date, whenever raised
    ]
    entry = goals.deadline_notices[f"{SELF_EVALUATION}:0:{DUE.isoformat()}"]
    assert (entry["approaching"], entry["missed"]) == (date(2023, 3, 24), date(2023, 4, 1))
    assert goals.next_deadline_notice(P) is None
    assert [e.__class__.__qualname__ for e in goals.pending_events[-2:]] == [
        "OverallGoals.DeadlineApproaching",
        "OverallGoals.DeadlineMissed",
    ]


def test_a_self_evaluation_meets_it_and_nothing_more_is_raised() -> None:
    goals = approved()
    goals.self_evaluate(fair_actuals(), P, 1, by(EDUCATION, date(2023, 2, 20)))
    assert goals.open_deadlines(P) == []
    assert goals.raise_deadline_notices(date(2023, 4, 5), P, SYSTEM) == []
    assert goals.next_deadline_notice(P) is None


def test_goals_not_approved_are_never_noticed() -> None:
    goals = submitted()
    assert goals.raise_deadline_notices(date(2023, 4, 5), P, SYSTEM) == []
    assert goals.next_deadline_notice(P) is None


def test_a_new_ruleset_moves_the_day_still_owed_and_a_notice_for_the_old_day_is_not_one_for_the_new() -> None:
    goals = approved()
    goals.raise_deadline_notices(date(2023, 3, 25), P, SYSTEM)  # approaching 31 March
    later = dataclasses.replace(P, overall_self_evaluation_due=(1, 4, 30))
    assert goals.next_deadline_notice(later) == date(2023, 4, 23)
    assert goals.raise_deadline_notices(date(2023, 4, 1), later, SYSTEM) == []  # not missed: due 30 April now
    assert goals.raise_deadline_notices(date(2023, 4, 23), later, SYSTEM) == [
        Deadline(SELF_EVALUATION, 0, date(2023, 4, 30))
    ]


def test_the_notices_fold_back_into_the_same_record() -> None:
    goals = approved()
    goals.raise_deadline_notices(date(2023, 4, 2), P, SYSTEM)
    replayed: OverallGoals | None = None
    for event in goals.collect_events():
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert replayed.deadline_notices == goals.deadline_notices
    assert replayed.raise_deadline_notices(date(2023, 4, 3), P, SYSTEM) == []


@pytest.mark.parametrize("day", [[0, 12, 31], [3, 3, 31], [1, 2, 29], [1, 13, 1]])
def test_the_day_is_a_real_day_of_the_year_after_or_the_next(day: list[int]) -> None:
    with pytest.raises(InvalidInput) as refused:
        RuleParameters.from_dict({**P.to_dict(), "overall_self_evaluation_due": day})
    assert (refused.value.code, refused.value.field) == ("invalid-rule-parameter", "overall_self_evaluation_due")
    accepted = RuleParameters.from_dict({**P.to_dict(), "overall_self_evaluation_due": [2, 6, 30]})
    assert accepted.overall_self_evaluation_due == (2, 6, 30)
