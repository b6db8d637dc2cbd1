"""两审一督导 in full on an organisation's overall evaluation (ledger.domain.overall, ledger.domain.engagement):
an agency's evaluation commissioned under the ruleset — its plan before finance's review, a supervision with findings
the agency answers before its report, the report's review before the score; the dues each step records and the
scheduler's notices on them; a voided evaluation refuses every step and is no basis for results; a commission stored
before the procedure was in full keeps its two reviews."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from eventsourcing.persistence import StoredEvent

from ledger.domain.errors import InvalidInput, NotFound, RuleViolation
from ledger.domain.overall import OverallGoals
from ledger.domain.rules import DEFAULT_PARAMETERS as P
from ledger.domain.values import SYSTEM
from ledger.store.transcodings import ledger_mapper
from tests.ledger.domain.overall_support import dimension_scores
from tests.ledger.domain.project_support import mutating
from tests.ledger.domain.test_overall_evaluation import AGENCY, FIGURE, FINANCE, by, refused, self_evaluated

ON = date(2023, 3, 1)


def commissioned() -> OverallGoals:
    """Self-evaluated at 88, evaluation 1 commissioned to an agency on 2023-03-01 under the ruleset."""
    goals = self_evaluated()
    assert goals.commission_evaluation("a1", AGENCY.organisation, by(FINANCE, ON), P) == 1
    return goals


def supervised(goals: OverallGoals) -> None:
    goals.submit_evaluation_plan(1, P, by(AGENCY, date(2023, 3, 5)))
    goals.review_evaluation_plan(1, True, by(FINANCE, date(2023, 3, 10)), P)
    goals.supervise_evaluation(1, "现场核查", ["样本不足"], by(FINANCE, date(2023, 4, 1)), P)


def reviewed() -> OverallGoals:
    goals = commissioned()
    supervised(goals)
    goals.answer_evaluation_supervision(1, 1, "已补充", by(AGENCY, date(2023, 4, 8)))
    goals.submit_evaluation_report(1, P, by(AGENCY, date(2023, 4, 25)))
    goals.review_evaluation_report(1, True, by(FINANCE, date(2023, 5, 1)), P)
    return goals


def test_the_plan_before_its_review_before_the_supervision_before_the_report_before_the_score() -> None:
    goals = commissioned()
    evaluation = goals.evaluation(1)
    assert (evaluation["procedure"], evaluation["plan_due"]) == ("two_reviews_one_supervision", ON + timedelta(30))
    scores = dimension_scores()
    refused(
        goals, RuleViolation, "report-not-reviewed", lambda: goals.score_evaluation(1, scores, P, 1, by(AGENCY, ON))
    )
    refused(
        goals, RuleViolation, "plan-not-submitted", lambda: goals.review_evaluation_plan(1, True, by(FINANCE, ON), P)
    )
    refused(
        goals,
        RuleViolation,
        "plan-not-reviewed",
        lambda: goals.supervise_evaluation(1, "看", ["x"], by(FINANCE, ON), P),
    )
    refused(goals, RuleViolation, "plan-not-reviewed", lambda: goals.submit_evaluation_report(1, P, by(AGENCY, ON)))
    goals.submit_evaluation_plan(1, P, by(AGENCY, date(2023, 3, 5)))
    assert goals.evaluation(1)["plan_review_due"] == date(2023, 3, 20)
    refused(
        goals,
        RuleViolation,
        "submission-pending",
        lambda: goals.submit_evaluation_plan(1, P, by(AGENCY, date(2023, 3, 6))),
    )
    goals.review_evaluation_plan(1, True, by(FINANCE, date(2023, 3, 10)), P)
    due = goals.evaluation(1)
    assert (due["supervision_due"], due["report_due"]) == (
        date(2023, 5, 9),
        date(2023, 3, 10) + timedelta(P.evaluation_report_days),
    )
    refused(  # the report waits for a supervision
        goals,
        RuleViolation,
        "supervision-required",
        lambda: goals.submit_evaluation_report(1, P, by(AGENCY, date(2023, 3, 20))),
    )
    refused(  # a supervision under the full procedure states its findings
        goals,
        InvalidInput,
        "invalid-value",
        lambda: goals.supervise_evaluation(1, "看", [], by(FINANCE, date(2023, 4, 1)), P),
    )
    goals.supervise_evaluation(1, "现场核查", ["样本不足"], by(FINANCE, date(2023, 4, 1)), P)
    refused(  # every finding answered first
        goals,
        RuleViolation,
        "supervision-unanswered",
        lambda: goals.submit_evaluation_report(1, P, by(AGENCY, date(2023, 4, 5))),
    )
    refused(
        goals,
        NotFound,
        "supervision-not-found",
        lambda: goals.answer_evaluation_supervision(1, 2, "答", by(AGENCY, date(2023, 4, 8))),
    )
    goals.answer_evaluation_supervision(1, 1, "已补充", by(AGENCY, date(2023, 4, 8)))
    refused(
        goals,
        RuleViolation,
        "already-decided",
        lambda: goals.answer_evaluation_supervision(1, 1, "再答", by(AGENCY, date(2023, 4, 9))),
    )
    refused(
        goals,
        RuleViolation,
        "report-not-submitted",
        lambda: goals.review_evaluation_report(1, True, by(FINANCE, date(2023, 4, 20)), P),
    )
    goals.submit_evaluation_report(1, P, by(AGENCY, date(2023, 4, 25)))
    refused(
        goals,
        RuleViolation,
        "report-not-reviewed",
        lambda: goals.score_evaluation(1, scores, P, 1, by(AGENCY, date(2023, 4, 26))),
    )
    goals.review_evaluation_report(1, True, by(FINANCE, date(2023, 5, 1)), P)
    goals.score_evaluation(1, scores, P, 1, by(AGENCY, date(2023, 5, 10)))
    assert (goals.result_basis() or {}).get("basis") == "evaluation"


def test_a_rejection_gives_its_reason_and_sets_a_new_due() -> None:
    goals = commissioned()
    goals.submit_evaluation_plan(1, P, by(AGENCY, date(2023, 3, 5)))
    refused(
        goals,
        InvalidInput,
        "reason-required",
        lambda: goals.review_evaluation_plan(1, False, by(FINANCE, date(2023, 3, 10)), P),
    )
    goals.review_evaluation_plan(1, False, by(FINANCE, date(2023, 3, 10), "指标体系不完整"), P)
    evaluation = goals.evaluation(1)
    assert (evaluation["plan_approved"], evaluation["plan_due"], evaluation["plan_pending"]) == (
        False,
        date(2023, 3, 10) + timedelta(P.evaluation_plan_days),
        False,
    )
    assert [d.kind for d in goals.open_deadlines(P)] == ["evaluation_plan"]
    goals.submit_evaluation_plan(1, P, by(AGENCY, date(2023, 3, 20)))  # the new plan
    goals = reviewed()
    goals2 = commissioned()
    supervised(goals2)
    goals2.answer_evaluation_supervision(1, 1, "已补充", by(AGENCY, date(2023, 4, 8)))
    goals2.submit_evaluation_report(1, P, by(AGENCY, date(2023, 4, 25)))
    refused(
        goals2,
        InvalidInput,
        "reason-required",
        lambda: goals2.review_evaluation_report(1, False, by(FINANCE, date(2023, 5, 1)), P),
    )
    goals2.review_evaluation_report(1, False, by(FINANCE, date(2023, 5, 1), "结论缺乏依据"), P)
    assert goals2.evaluation(1)["report_due"] == date(2023, 5, 1) + timedelta(P.evaluation_report_days)


def test_the_steps_are_watched_approaching_then_missed_once() -> None:
    goals = commissioned()
    plan_due = ON + timedelta(P.evaluation_plan_days)
    assert [(d.kind, d.ref, d.due_on) for d in goals.open_deadlines(P)] == [("evaluation_plan", 1, plan_due)]
    warning = plan_due - timedelta(P.deadline_warning_days)
    assert goals.next_deadline_notice(P) == warning
    assert goals.raise_deadline_notices(warning - timedelta(1), P, SYSTEM) == []
    assert [d.kind for d in goals.raise_deadline_notices(warning, P, SYSTEM)] == ["evaluation_plan"]
    missed = goals.raise_deadline_notices(plan_due + timedelta(1), P, SYSTEM)
    assert [d.kind for d in missed] == ["evaluation_plan"]
    assert goals.raise_deadline_notices(plan_due + timedelta(2), P, SYSTEM) == []
    assert isinstance(goals.pending_events[-1], OverallGoals.DeadlineMissed)
    supervised(goals)
    kinds = {(d.kind, d.ref) for d in goals.open_deadlines(P)}
    assert kinds == {("supervision_answer", 101), ("evaluation_report", 1)}


def test_a_voided_evaluation_refuses_every_step_and_is_no_basis_for_results() -> None:
    goals = reviewed()
    goals.score_evaluation(1, dimension_scores(), P, 1, by(AGENCY, date(2023, 5, 10)))
    assert goals.unfinished_or_named("a1", set()) == []
    assert goals.unfinished_or_named("a1", {1}) == [1]
    # a blacklisting dated back before the commission voids nothing (and records nothing)
    refused(
        goals,
        InvalidInput,
        "effective-date-too-early",
        lambda: goals.void_evaluation(1, AGENCY.organisation, 1, by(FINANCE, date(2020, 1, 1), "失信")),
    )
    assert goals.void_evaluation(1, AGENCY.organisation, 1, by(FINANCE, date(2023, 6, 1), "失信"))
    assert not goals.void_evaluation(1, AGENCY.organisation, 1, by(FINANCE, date(2023, 6, 1), "失信"))
    assert (goals.result_basis() or {}).get("basis") == "self_evaluation"
    assert goals.open_deadlines(P) == []
    on = by(AGENCY, date(2023, 6, 2))
    for call in (
        lambda: goals.submit_evaluation_plan(1, P, on),
        lambda: goals.review_evaluation_plan(1, True, by(FINANCE, date(2023, 6, 2)), P),
        lambda: goals.supervise_evaluation(1, "看", ["x"], by(FINANCE, date(2023, 6, 2)), P),
        lambda: goals.answer_evaluation_supervision(1, 1, "答", on),
        lambda: goals.submit_evaluation_report(1, P, on),
        lambda: goals.review_evaluation_report(1, True, by(FINANCE, date(2023, 6, 2)), P),
        lambda: goals.score_evaluation(1, dimension_scores(), P, 1, on),
    ):
        refused(goals, RuleViolation, "evaluation-voided", call)
    refused(
        goals,
        RuleViolation,
        "new-evaluation-required",
        lambda: goals.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 3))),
    )
    # a new evaluation, by finance itself, replaces it
    assert goals.commission_evaluation(None, None, by(FINANCE, date(2023, 6, 5)), P) == 2
    goals.review_evaluation_plan(2, True, by(FINANCE, date(2023, 6, 6)), P)
    goals.review_evaluation_report(2, True, by(FINANCE, date(2023, 6, 7)), P)
    goals.score_evaluation(2, dimension_scores(), P, 1, by(FINANCE, date(2023, 6, 8)))
    goals.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 9)))
    assert (goals.results or {}).get("evaluation_no") == 2


def test_an_unfinished_agency_evaluation_holds_the_results() -> None:
    goals = commissioned()
    refused(
        goals,
        RuleViolation,
        "overall-evaluation-open",
        lambda: goals.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 3))),
    )
    assert goals.unfinished_or_named("a1", set()) == [1]
    goals.void_evaluation(1, AGENCY.organisation, 1, by(FINANCE, date(2023, 6, 1), "失信"))
    refused(  # voided unscored: the results wait for a new evaluation all the same, not the self-evaluation
        goals,
        RuleViolation,
        "new-evaluation-required",
        lambda: goals.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 3))),
    )


def test_a_commission_stored_before_the_full_procedure_keeps_its_two_reviews() -> None:
    """An agency's EvaluationCommissioned as version 1 stored it (no procedure, no plan due): replayed, it scores
    after the two reviews, with no submissions and no supervision required; the new steps are refused to it."""
    mapper = ledger_mapper()
    goals = commissioned()
    stored = [mapper.to_stored_event(event) for event in goals.collect_events()]
    old = []
    for event in stored:
        if event.topic.endswith("EvaluationCommissioned"):
            state = {
                k: v for k, v in json.loads(event.state).items() if k not in ("procedure", "plan_due", "class_version")
            }
            event = StoredEvent(event.originator_id, event.originator_version, event.topic, json.dumps(state).encode())
        old.append(event)
    replayed: Any = None
    for event in old:
        replayed = mutating(mapper.to_domain_event(event)).mutate(replayed)
    assert replayed.evaluation(1)["procedure"] is None
    assert replayed.open_deadlines(P) == []
    refused(
        replayed,
        RuleViolation,
        "overall-evaluation-two-reviews",
        lambda: replayed.submit_evaluation_plan(1, P, by(AGENCY, date(2023, 3, 5))),
    )
    replayed.review_evaluation_plan(1, True, by(FINANCE, date(2023, 3, 10)), P)
    replayed.review_evaluation_report(1, True, by(FINANCE, date(2023, 5, 1)), P)
    replayed.score_evaluation(1, dimension_scores(), P, 1, by(AGENCY, date(2023, 5, 10)))
    assert replayed.evaluation(1)["score"] is not None


def test_the_stored_events_of_the_full_procedure_replay_to_the_same_record() -> None:
    goals = reviewed()
    goals.score_evaluation(1, dimension_scores(), P, 1, by(AGENCY, date(2023, 5, 10)))
    goals.void_evaluation(1, AGENCY.organisation, 1, by(FINANCE, date(2023, 6, 1), "失信"))
    mapper = ledger_mapper()
    replayed: Any = None
    for event in goals.collect_events():
        replayed = mutating(mapper.to_domain_event(mapper.to_stored_event(event))).mutate(replayed)
    assert vars(replayed) == vars(goals)
