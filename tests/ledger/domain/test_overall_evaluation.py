"""The overall evaluation (整体绩效评价, ledger.domain.overall): the organisation's self-evaluation of its approved
goals, finance's evaluation (by itself or a commissioned agency, 两审一督导), and the results applied to a department
— its next control figure moved by the ruleset's rate for the grade, or by finance's own with a reason. Each rule and
each refusal; a refusal changes nothing and records nothing."""

from __future__ import annotations

import copy
import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledger.domain.errors import DomainError, InvalidInput, NotFound, RuleViolation
from ledger.domain.overall import OrganisationKind, OverallGoals
from ledger.domain.rules import DEFAULT_PARAMETERS as P
from ledger.domain.values import Attribution, Principal
from ledger.store.transcodings import ledger_mapper
from tests.ledger.domain.overall_support import (
    adjusted_indicators,
    dimension_scores,
    fair_actuals,
    met_actuals,
    overall_indicators,
)
from tests.ledger.domain.project_support import mutating

D = Decimal
FINANCE = Principal("fin-01", "finance", "市财政局")
EDUCATION = Principal("edu-01", "department", "教育局")
AGENCY = Principal("ag-01", "agency", "某咨询评估有限公司")
FIGURE = D("12000000.00")  # 教育局's 2022 control figure (控制数)


def by(principal: Principal, on: date, reason: str = "") -> Attribution:
    return Attribution(principal, on, reason)


def approved(kind: OrganisationKind = OrganisationKind.DEPARTMENT) -> OverallGoals:
    name = "教育局" if kind is OrganisationKind.DEPARTMENT else "德令哈市第一中学"
    goals = OverallGoals.submit(name, kind, "教育局", 2022, overall_indicators(), 1, by(EDUCATION, date(2021, 10, 1)))
    goals.review("优", "", by(FINANCE, date(2021, 10, 20)))
    return goals


def self_evaluated(actuals: dict[str, Decimal | str] | None = None) -> OverallGoals:
    goals = approved()
    goals.self_evaluate(actuals or fair_actuals(), P, 1, by(EDUCATION, date(2023, 2, 20)))
    return goals


def scored(scores: dict[str, Decimal] | None = None, agency: bool = True) -> OverallGoals:
    """Self-evaluated at 88 (良), then evaluated by an agency (or finance) with ``scores``."""
    goals = self_evaluated()
    number = goals.commission_evaluation(
        "a1" if agency else None, AGENCY.organisation if agency else None, by(FINANCE, date(2023, 3, 1))
    )
    goals.review_evaluation_plan(number, True, by(FINANCE, date(2023, 3, 10)))
    goals.note_evaluation_supervision(number, "现场核查三所学校", by(FINANCE, date(2023, 4, 1)))
    goals.review_evaluation_report(number, True, by(FINANCE, date(2023, 5, 1)))
    goals.score_evaluation(
        number, scores or dimension_scores(), P, 1, by(AGENCY if agency else FINANCE, date(2023, 5, 10))
    )
    return goals


def refused(goals: OverallGoals, error: type[DomainError], code: str, call: Any) -> None:
    """``call`` is refused with ``code``, and the record is as it was, nothing recorded."""
    before = copy.deepcopy({name: value for name, value in vars(goals).items() if name != "_pending_events"})
    pending = len(goals.pending_events)
    with pytest.raises(error) as raised:
        call()
    assert raised.value.code == code, raised.value
    assert {name: value for name, value in vars(goals).items() if name != "_pending_events"} == before
    assert len(goals.pending_events) == pending


# ------------------------------------------------------------------------------------------ self-evaluation


def test_the_self_evaluation_is_scored_by_the_ledger_and_recorded_with_its_ruleset() -> None:
    goals = approved()
    result = goals.self_evaluate(fair_actuals(), P, 3, by(EDUCATION, date(2023, 2, 20)))
    assert (result.total, result.grade) == (D(88), "良")
    event = goals.pending_events[-1]
    assert isinstance(event, OverallGoals.SelfEvaluated)
    assert (event.total, event.grade, event.ruleset_version, event.actuals) == (D(88), "良", 3, fair_actuals())
    assert event.indicator_scores == {
        "cost": D(20),
        "efficiency": D(18),
        "duty": D(20),
        "social": D(12),
        "sustain": D(10),
        "satisfied": D(8),
    }
    assert goals.self_evaluation is not None
    assert (goals.self_evaluation["total"], goals.self_evaluation["evaluated_on"]) == (D(88), date(2023, 2, 20))


def test_only_approved_goals_are_self_evaluated_and_only_once() -> None:
    goals = OverallGoals.submit(
        "教育局", OrganisationKind.DEPARTMENT, "教育局", 2022, overall_indicators(), 1, by(EDUCATION, date(2021, 10, 1))
    )
    refused(
        goals,
        RuleViolation,
        "overall-goals-not-approved",
        lambda: goals.self_evaluate(met_actuals(), P, 1, by(EDUCATION, date(2023, 2, 1))),
    )
    done = self_evaluated()
    refused(
        done,
        RuleViolation,
        "already-decided",
        lambda: done.self_evaluate(met_actuals(), P, 1, by(EDUCATION, date(2023, 2, 21))),
    )


@pytest.mark.parametrize(
    ("on", "code"),
    [
        (date(2022, 11, 30), "invalid-date"),  # before the year's last month
        (date(2025, 1, 1), "invalid-date"),  # after the end of the year after the next
    ],
)
def test_the_self_evaluation_is_dated_in_its_window(on: date, code: str) -> None:
    goals = approved()
    refused(goals, InvalidInput, code, lambda: goals.self_evaluate(met_actuals(), P, 1, by(EDUCATION, on)))
    goals.self_evaluate(met_actuals(), P, 1, by(EDUCATION, date(2022, 12, 1)))


def test_the_self_evaluation_waits_for_a_pending_adjustment_and_follows_the_last_decided() -> None:
    goals = approved()
    goals.request_adjustment(adjusted_indicators(), by(EDUCATION, date(2022, 11, 1), "学校合并"))
    refused(
        goals,
        RuleViolation,
        "adjustment-pending",
        lambda: goals.self_evaluate(met_actuals(), P, 1, by(EDUCATION, date(2022, 12, 5))),
    )
    goals.decide_adjustment(1, True, by(FINANCE, date(2022, 12, 10)))
    refused(
        goals,
        InvalidInput,
        "effective-date-too-early",
        lambda: goals.self_evaluate(met_actuals(), P, 1, by(EDUCATION, date(2022, 12, 9))),
    )
    result = goals.self_evaluate({**met_actuals(), "duty": D("99.5")}, P, 1, by(EDUCATION, date(2022, 12, 10)))
    assert result.total == D(100)  # scored against the adjusted goals (履职效能 99.5)


def test_actuals_answer_exactly_the_goals_indicators() -> None:
    goals = approved()
    actuals = {name: value for name, value in met_actuals().items() if name != "duty"}
    refused(
        goals,
        InvalidInput,
        "invalid-value",
        lambda: goals.self_evaluate(actuals, P, 1, by(EDUCATION, date(2023, 2, 1))),
    )


def test_goals_under_evaluation_are_no_longer_adjusted() -> None:
    for goals in (self_evaluated(), approved()):
        if goals.self_evaluation is None:
            goals.commission_evaluation(None, None, by(FINANCE, date(2023, 1, 5)))
        refused(
            goals,
            RuleViolation,
            "overall-goals-evaluated",
            lambda goals=goals: goals.request_adjustment(
                adjusted_indicators(), by(EDUCATION, date(2023, 3, 1), "调整")
            ),
        )


# ------------------------------------------------------------------------------------------ finance's evaluation


def test_a_commissioned_evaluation_is_scored_after_both_reviews_and_flags_an_inflated_self_evaluation() -> None:
    goals = scored(dimension_scores(10, 15, 25, 12, 8, 7))  # 77: 中, 11 points below the self-evaluation's 88
    [evaluation] = goals.evaluations
    assert (evaluation["no"], evaluation["agency_name"], evaluation["supervision"]) == (
        1,
        "某咨询评估有限公司",
        ["现场核查三所学校"],
    )
    score = evaluation["score"]
    assert (score["total"], score["grade"], score["inflated"], score["scored_on"]) == (
        D(77),
        "中",
        True,
        date(2023, 5, 10),
    )


def test_an_inflation_within_the_threshold_is_not_flagged() -> None:
    goals = scored(dimension_scores(10, 15, 25, 13, 8, 7))  # 78: exactly 10 below 88
    assert goals.evaluations[0]["score"]["inflated"] is False


def test_finance_evaluating_itself_goes_through_the_same_reviews() -> None:
    goals = scored(agency=False)
    assert goals.evaluations[0]["agency_name"] is None
    assert goals.evaluations[0]["score"]["grade"] == "优"


def test_an_evaluation_is_commissioned_on_settled_approved_goals_before_results() -> None:
    submitted = OverallGoals.submit(
        "教育局", OrganisationKind.DEPARTMENT, "教育局", 2022, overall_indicators(), 1, by(EDUCATION, date(2021, 10, 1))
    )
    refused(
        submitted,
        RuleViolation,
        "overall-goals-not-approved",
        lambda: submitted.commission_evaluation(None, None, by(FINANCE, date(2023, 1, 5))),
    )
    pending = approved()
    pending.request_adjustment(adjusted_indicators(), by(EDUCATION, date(2022, 6, 1), "职能调整"))
    refused(
        pending,
        RuleViolation,
        "adjustment-pending",
        lambda: pending.commission_evaluation(None, None, by(FINANCE, date(2023, 1, 5))),
    )
    early = approved()
    refused(
        early,
        InvalidInput,
        "invalid-date",
        lambda: early.commission_evaluation(None, None, by(FINANCE, date(2022, 11, 30))),
    )
    applied = scored()
    applied.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 1)))
    refused(
        applied,
        RuleViolation,
        "already-decided",
        lambda: applied.commission_evaluation(None, None, by(FINANCE, date(2023, 6, 2))),
    )


def test_the_two_reviews_come_in_order_and_a_score_only_after_both() -> None:
    goals = self_evaluated()
    assert goals.commission_evaluation("a1", AGENCY.organisation, by(FINANCE, date(2023, 3, 1))) == 1
    on = by(FINANCE, date(2023, 3, 10))
    refused(goals, NotFound, "overall-evaluation-not-found", lambda: goals.review_evaluation_plan(2, True, on))
    refused(goals, RuleViolation, "plan-not-reviewed", lambda: goals.review_evaluation_report(1, True, on))
    refused(
        goals,
        RuleViolation,
        "report-not-reviewed",
        lambda: goals.score_evaluation(1, dimension_scores(), P, 1, by(AGENCY, date(2023, 3, 10))),
    )
    goals.review_evaluation_plan(1, False, on)  # returned …
    refused(goals, RuleViolation, "plan-not-reviewed", lambda: goals.review_evaluation_report(1, True, on))
    goals.review_evaluation_plan(1, True, by(FINANCE, date(2023, 3, 20)))  # … and approved, revised
    goals.review_evaluation_report(1, False, by(FINANCE, date(2023, 4, 20)))
    refused(
        goals,
        RuleViolation,
        "already-decided",
        lambda: goals.review_evaluation_plan(1, True, by(FINANCE, date(2023, 4, 21))),
    )
    refused(
        goals,
        RuleViolation,
        "report-not-reviewed",
        lambda: goals.score_evaluation(1, dimension_scores(), P, 1, by(AGENCY, date(2023, 4, 21))),
    )
    goals.review_evaluation_report(1, True, by(FINANCE, date(2023, 5, 1)))
    goals.score_evaluation(1, dimension_scores(), P, 1, by(AGENCY, date(2023, 5, 2)))
    refused(
        goals,
        RuleViolation,
        "already-decided",
        lambda: goals.score_evaluation(1, dimension_scores(), P, 1, by(AGENCY, date(2023, 5, 3))),
    )
    refused(
        goals,
        RuleViolation,
        "already-decided",
        lambda: goals.review_evaluation_report(1, True, by(FINANCE, date(2023, 5, 3))),
    )


def test_each_step_is_dated_no_earlier_than_the_commission_and_notes_say_something() -> None:
    goals = self_evaluated()
    goals.commission_evaluation(None, None, by(FINANCE, date(2023, 3, 1)))
    before = by(FINANCE, date(2023, 2, 28))
    for call in (
        lambda: goals.review_evaluation_plan(1, True, before),
        lambda: goals.note_evaluation_supervision(1, "督导", before),
    ):
        refused(goals, InvalidInput, "effective-date-too-early", call)
    refused(
        goals,
        InvalidInput,
        "invalid-value",
        lambda: goals.note_evaluation_supervision(1, "  ", by(FINANCE, date(2023, 3, 2))),
    )


def test_a_score_above_a_dimensions_weight_is_refused() -> None:
    goals = self_evaluated()
    goals.commission_evaluation(None, None, by(FINANCE, date(2023, 3, 1)))
    goals.review_evaluation_plan(1, True, by(FINANCE, date(2023, 3, 2)))
    goals.review_evaluation_report(1, True, by(FINANCE, date(2023, 3, 3)))
    refused(
        goals,
        InvalidInput,
        "invalid-score",
        lambda: goals.score_evaluation(1, dimension_scores(running_cost=16), P, 1, by(FINANCE, date(2023, 3, 4))),
    )


# ------------------------------------------------------------------------------------------ results applied


@pytest.mark.parametrize(
    ("scores", "grade", "rate", "amount", "decision"),
    [
        (dimension_scores(), "优", D("0.05"), D("600000.00"), "increase"),
        (dimension_scores(12, 16, 26, 13, 8, 8), "良", D(0), D("0.00"), "maintain"),
        (dimension_scores(10, 15, 25, 12, 8, 7), "中", D("-0.05"), D("-600000.00"), "reduce"),
        (dimension_scores(5, 10, 20, 10, 5, 5), "差", D("-0.10"), D("-1200000.00"), "reduce"),
    ],
)
def test_results_move_the_next_control_figure_by_the_rulesets_rate_for_the_grade(
    scores: dict[str, Decimal], grade: str, rate: Decimal, amount: Decimal, decision: str
) -> None:
    goals = scored(scores)
    goals.apply_results(FIGURE, None, P, 2, by(FINANCE, date(2023, 6, 1)))
    applied, adjusted = goals.pending_events[-2:]
    assert isinstance(applied, OverallGoals.ResultsApplied)
    assert isinstance(adjusted, OverallGoals.ControlFigureAdjusted)
    assert (applied.basis, applied.evaluation_no, applied.grade, applied.decision, applied.ruleset_version) == (
        "evaluation",
        1,
        grade,
        decision,
        2,
    )
    assert (adjusted.next_fiscal_year, adjusted.control_figure, adjusted.default_rate, adjusted.rate) == (
        2023,
        FIGURE,
        rate,
        rate,
    )
    assert (adjusted.amount, adjusted.next_control_figure, adjusted.override) == (amount, FIGURE + amount, False)
    assert goals.control_figure is not None
    assert goals.control_figure["next_control_figure"] == FIGURE + amount
    assert goals.results is not None
    assert goals.results["applied_on"] == date(2023, 6, 1)


def test_the_latest_evaluation_scored_is_the_basis_else_the_self_evaluation() -> None:
    own = self_evaluated()
    own.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 1)))
    assert own.results is not None
    assert (own.results["basis"], own.results["grade"], own.results["total"]) == ("self_evaluation", "良", D(88))
    twice = scored(dimension_scores(10, 15, 25, 12, 8, 7))  # 77 中
    twice.commission_evaluation(None, None, by(FINANCE, date(2023, 5, 20)))
    twice.review_evaluation_plan(2, True, by(FINANCE, date(2023, 5, 21)))
    twice.review_evaluation_report(2, True, by(FINANCE, date(2023, 5, 22)))
    twice.score_evaluation(2, dimension_scores(), P, 1, by(FINANCE, date(2023, 5, 23)))
    basis = twice.result_basis()
    assert basis is not None
    assert (basis["basis"], basis["evaluation_no"], basis["grade"]) == ("evaluation", 2, "优")


def test_finance_may_override_the_rate_with_a_reason_recorded() -> None:
    goals = scored(dimension_scores(10, 15, 25, 12, 8, 7))  # 中: -5% by the ruleset
    refused(
        goals,
        InvalidInput,
        "reason-required",
        lambda: goals.apply_results(FIGURE, D("-0.02"), P, 1, by(FINANCE, date(2023, 6, 1))),
    )
    refused(
        goals,
        RuleViolation,
        "control-figure-override-not-needed",
        lambda: goals.apply_results(FIGURE, D("-0.0500"), P, 1, by(FINANCE, date(2023, 6, 1), "照章")),
    )
    refused(
        goals,
        InvalidInput,
        "invalid-value",
        lambda: goals.apply_results(FIGURE, D("-1.5"), P, 1, by(FINANCE, date(2023, 6, 1), "大幅压减")),
    )
    goals.apply_results(FIGURE, D("-0.02"), P, 1, by(FINANCE, date(2023, 6, 1), "承担全市重点任务，酌情少减"))
    adjusted = goals.pending_events[-1]
    assert isinstance(adjusted, OverallGoals.ControlFigureAdjusted)
    assert (adjusted.default_rate, adjusted.rate, adjusted.amount, adjusted.override) == (
        D("-0.05"),
        D("-0.02"),
        D("-240000.00"),
        True,
    )
    assert adjusted.reason == "承担全市重点任务，酌情少减"


def test_the_rates_are_the_ruleset_in_force_when_results_are_applied() -> None:
    params = dataclasses.replace(
        P, control_figure_rates=(("优", D("0.1")), ("良", D("0.02")), ("中", D(0)), ("差", D("-0.2")))
    )
    goals = self_evaluated()  # 良
    goals.apply_results(FIGURE, None, params, 4, by(FINANCE, date(2023, 6, 1)))
    assert goals.control_figure is not None
    assert (goals.control_figure["rate"], goals.control_figure["amount"], goals.control_figure["ruleset_version"]) == (
        D("0.02"),
        D("240000.00"),
        4,
    )


def test_results_are_a_departments_once_on_a_finished_evaluation() -> None:
    unit = approved(OrganisationKind.UNIT)
    unit.self_evaluate(met_actuals(), P, 1, by(EDUCATION, date(2023, 2, 1)))
    refused(
        unit,
        RuleViolation,
        "overall-results-unit",
        lambda: unit.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 1))),
    )
    nothing = approved()
    refused(
        nothing,
        RuleViolation,
        "no-results",
        lambda: nothing.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 1))),
    )
    waiting = self_evaluated()
    waiting.commission_evaluation("a1", AGENCY.organisation, by(FINANCE, date(2023, 3, 1)))
    refused(
        waiting,
        RuleViolation,
        "overall-evaluation-open",
        lambda: waiting.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 1))),
    )
    done = scored()
    refused(
        done,
        InvalidInput,
        "effective-date-too-early",
        lambda: done.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 5, 9))),
    )
    refused(
        done,
        InvalidInput,
        "invalid-money",
        lambda: done.apply_results(D("0.00"), None, P, 1, by(FINANCE, date(2023, 6, 1))),
    )
    done.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 1)))
    refused(
        done,
        RuleViolation,
        "already-decided",
        lambda: done.apply_results(FIGURE, None, P, 1, by(FINANCE, date(2023, 6, 2))),
    )


def test_the_stored_events_replay_to_the_same_record() -> None:
    goals = scored()
    goals.apply_results(FIGURE, D("0.03"), P, 1, by(FINANCE, date(2023, 6, 1), "酌情"))
    mapper = ledger_mapper()
    replayed: Any = None
    for event in goals.collect_events():
        replayed = mutating(mapper.to_domain_event(mapper.to_stored_event(event))).mutate(replayed)
    assert vars(replayed) == vars(goals)
    assert replayed.control_figure["rate"] == D("0.03")
