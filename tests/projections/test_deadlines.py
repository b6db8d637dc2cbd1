"""``deadlines``' fold, without a database: a project's events in, its obligations (时限) out.

What each obligation's due date is, and what meets or ends it, as ``Project.open_deadlines`` says; the
approaching / missed flags of a given day are computed by the query (test_runner.py), the notices the scheduler
gave are kept here.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from ledger.domain.rules import DEFAULT_PARAMETERS, RuleParameters
from ledger.domain.values import key
from projections.deadlines import FOLDED, Obligations, fold
from tests.projections.recorded import Log, ProjectHistory

P = DEFAULT_PARAMETERS


def obligations(history: ProjectHistory, params: RuleParameters = P) -> Obligations:
    projects: dict[int, dict[str, Any]] = {}
    owed: Obligations = {}
    for item in history.events:
        fold(item, projects, owed, history.id.int, params)
    return owed


HANDLED = {
    f"Project.{name}"
    for name in (
        "Declared",
        "GoalsSubmitted",
        "BudgetApproved",
        "MonitoringReported",
        "SelfEvaluated",
        "DeviationDetected",
        "CorrectiveActionOrdered",
        "DeadlineApproaching",
        "DeadlineMissed",
        "RectificationRequired",
        "RectificationAccepted",
        "Closed",
        "ExAnteAssessed",
        "ExAnteFiled",
        "ExAnteReviewed",
        "GoalsReviewed",
        "ResultsApplied",
        "Disclosed",
        "KeyEvaluationCommissioned",
        "ReEvaluationCommissioned",  # an agency's re-evaluation owes its plan as any commissioned evaluation does
        "KeyEvaluationPlanSubmitted",
        "KeyEvaluationPlanReviewed",
        "KeyEvaluationSupervised",
        "KeyEvaluationSupervisionAnswered",
        "KeyEvaluationReportSubmitted",
        "KeyEvaluationReportReviewed",
        "KeyEvaluationVoided",
    )
}


def status(history: ProjectHistory) -> dict[tuple[str, int], tuple[str, date, date | None]]:
    return {ref: (row["status"], row["due_on"], row["settled_on"]) for ref, row in obligations(history).items()}


def approved(**declared: Any) -> ProjectHistory:
    return (
        ProjectHistory(**declared)
        .then("GoalsSubmitted", effective_on=date(2020, 10, 20))
        .then("BudgetApproved", amount=Decimal("100.00"), effective_on=date(2021, 1, 15))
    )


def test_every_event_the_fold_handles_reaches_it() -> None:
    assert FOLDED == HANDLED


def test_a_declaration_owes_the_goals_before_budget_preparation() -> None:
    history = ProjectHistory(code="P-9", department=" 教育局", fiscal_year=2022)
    projects: dict[int, dict[str, Any]] = {}
    owed: Obligations = {}
    fold(history.last, projects, owed, history.id.int, P)
    assert projects == {
        history.id.int: {
            "project_id": history.id,
            "code": "P-9",
            "department": " 教育局",
            "unit": None,
            "fiscal_year": 2022,
            "disclosed": [],
        }
    }
    assert owed == {
        ("goal_submission", 0): {
            "project_id": history.id,
            "kind": "goal_submission",
            "ref": 0,
            "project_code": "P-9",
            "department": " 教育局",
            "department_key": key("教育局"),
            "unit": None,
            "unit_key": None,
            "fiscal_year": 2022,
            "due_on": date(2021, 10, 31),
            "status": "open",
            "settled_on": None,
            "approaching_on": None,
            "missed_on": None,
            "position": history.last.leaf_index,
        }
    }


def test_a_budget_units_project_owes_under_its_unit_too() -> None:
    history = ProjectHistory(code="P-10", department="教育局", unit="第一中学")
    projects: dict[int, dict[str, Any]] = {}
    owed: Obligations = {}
    fold(history.last, projects, owed, history.id.int, P)
    assert projects[history.id.int]["unit"] == "第一中学"
    row = owed[("goal_submission", 0)]
    assert (row["department_key"], row["unit"], row["unit_key"]) == (key("教育局"), "第一中学", key("第一中学"))


def test_goals_met_then_the_approved_budget_owes_the_monitoring_report_and_the_self_evaluation() -> None:
    history = approved()
    assert status(history) == {
        ("goal_submission", 0): ("met", date(2020, 10, 31), date(2020, 10, 20)),
        ("monitoring_report", 0): ("open", date(2021, 8, 15), None),
        ("self_evaluation", 0): ("open", date(2022, 3, 31), None),
    }
    assert obligations(history)[("goal_submission", 0)]["position"] == history.events[1].leaf_index


def test_an_obligation_met_stays_met_as_it_was() -> None:
    history = approved().then("GoalsSubmitted", effective_on=date(2021, 2, 1))  # goals submitted again (adjusted)
    assert status(history)[("goal_submission", 0)] == ("met", date(2020, 10, 31), date(2020, 10, 20))


def test_only_the_january_to_july_report_meets_the_monitoring_obligation() -> None:
    history = approved().then("MonitoringReported", month=6, executed=Decimal("1.00"), effective_on=date(2021, 7, 5))
    assert status(history)[("monitoring_report", 0)][0] == "open"
    history.then("MonitoringReported", month=7, executed=Decimal("2.00"), effective_on=date(2021, 8, 10))
    assert status(history)[("monitoring_report", 0)] == ("met", date(2021, 8, 15), date(2021, 8, 10))


def test_the_yearly_obligations_fall_due_on_the_days_of_the_ruleset_in_force() -> None:
    params = dataclasses.replace(
        P, goal_submission_due=(-1, 9, 30), monitoring_report_due=(0, 9, 10), self_evaluation_due=(1, 4, 30)
    )
    assert obligations(ProjectHistory(), params)[("goal_submission", 0)]["due_on"] == date(2020, 9, 30)
    owed = obligations(approved(), params)
    assert (owed[("monitoring_report", 0)]["due_on"], owed[("self_evaluation", 0)]["due_on"]) == (
        date(2021, 9, 10),
        date(2022, 4, 30),
    )


def test_a_report_meets_the_obligation_by_the_month_it_recorded_the_ruleset_asked_for() -> None:
    june = approved().then(
        "MonitoringReported",
        month=6,
        executed=Decimal("1.00"),
        monitoring_report_month=6,
        effective_on=date(2021, 7, 2),
    )
    assert status(june)[("monitoring_report", 0)] == ("met", date(2021, 8, 15), date(2021, 7, 2))
    august = approved().then(
        "MonitoringReported",
        month=8,
        executed=Decimal("1.00"),
        monitoring_report_month=9,
        effective_on=date(2021, 9, 2),
    )
    assert status(august)[("monitoring_report", 0)][0] == "open"


def test_a_deviation_is_owed_an_answer_which_its_corrective_action_gives() -> None:
    history = approved()
    history.then("DeviationDetected", month=5, level="yellow", respond_by=date(2021, 6, 15))
    history.then("DeviationDetected", month=6, level="red", respond_by=date(2021, 7, 14))
    history.then("DeviationDetected", month=8, level="red", respond_by=date(2021, 9, 14))
    history.then(
        "CorrectiveActionOrdered", decision="continue", amount=None, deviation_month=5, effective_on=date(2021, 6, 10)
    )
    answers = {ref: value for ref, value in status(history).items() if ref[0] == "deviation_answer"}
    assert answers == {
        ("deviation_answer", 5): ("met", date(2021, 6, 15), date(2021, 6, 10)),
        ("deviation_answer", 6): ("open", date(2021, 7, 14), None),
        ("deviation_answer", 8): ("open", date(2021, 9, 14), None),
    }
    history.then(
        "CorrectiveActionOrdered", decision="continue", amount=None, deviation_month=None, effective_on=date(2021, 9, 1)
    )
    assert {status(history)[("deviation_answer", month)][0] for month in (6, 8)} == {"met"}


def test_the_self_evaluation_ends_what_implementation_still_owed() -> None:
    history = approved()
    history.then("DeviationDetected", month=6, level="red", respond_by=date(2021, 7, 14))
    history.then("RectificationRequired", rectification_no=1, deadline=date(2022, 6, 30))
    history.then(
        "SelfEvaluated", executed=Decimal("90.00"), total=Decimal("80.00"), grade="良", effective_on=date(2022, 3, 1)
    )
    assert status(history) == {
        ("goal_submission", 0): ("met", date(2020, 10, 31), date(2020, 10, 20)),
        ("monitoring_report", 0): ("void", date(2021, 8, 15), date(2022, 3, 1)),
        ("self_evaluation", 0): ("met", date(2022, 3, 31), date(2022, 3, 1)),
        ("deviation_answer", 6): ("void", date(2021, 7, 14), date(2022, 3, 1)),
        ("rectification", 1): ("open", date(2022, 6, 30), None),
    }


def test_a_cancellation_ends_everything_but_the_rectifications() -> None:
    history = approved().then("RectificationRequired", rectification_no=2, deadline=date(2021, 9, 30))
    history.then(
        "CorrectiveActionOrdered", decision="cancel", amount=None, deviation_month=None, effective_on=date(2021, 6, 1)
    )
    assert {ref: value[0] for ref, value in status(history).items()} == {
        ("goal_submission", 0): "met",
        ("monitoring_report", 0): "void",
        ("self_evaluation", 0): "void",
        ("rectification", 2): "open",
    }
    history.then("RectificationAccepted", rectification_no=2, effective_on=date(2021, 9, 20))
    assert status(history)[("rectification", 2)] == ("met", date(2021, 9, 30), date(2021, 9, 20))


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("Closed", {}),
        ("ExAnteAssessed", {"conclusion": "reject"}),
        ("ExAnteReviewed", {"filing_no": 1, "approved": True, "conclusion": "reject"}),
        ("GoalsReviewed", {"rating": "差"}),
    ],
)
def test_closing_rejecting_or_refusing_a_project_voids_what_is_open(name: str, fields: dict[str, Any]) -> None:
    history = approved().then("RectificationRequired", rectification_no=1, deadline=date(2021, 9, 30))
    history.then(name, effective_on=date(2021, 5, 4), **fields)
    assert {ref: value[0] for ref, value in status(history).items()} == {
        ("goal_submission", 0): "met",
        ("monitoring_report", 0): "void",
        ("self_evaluation", 0): "void",
        ("rectification", 1): "void",
    }
    assert {value[2] for ref, value in status(history).items() if ref[0] != "goal_submission"} == {date(2021, 5, 4)}


def test_finance_owes_the_review_of_a_filed_ex_ante_report_until_it_reviews_it() -> None:
    history = ProjectHistory(new_major=True).then(
        "ExAnteFiled", filing_no=1, conclusion="support", review_due=date(2020, 9, 28), effective_on=date(2020, 9, 14)
    )
    assert status(history)[("ex_ante_review", 1)] == ("open", date(2020, 9, 28), None)
    history.then("ExAnteReviewed", filing_no=1, approved=False, conclusion="support", effective_on=date(2020, 9, 21))
    assert status(history)[("ex_ante_review", 1)] == ("met", date(2020, 9, 28), date(2020, 9, 21))
    assert status(history)[("goal_submission", 0)][0] == "open"  # a returned report ends nothing
    history.then(
        "ExAnteFiled", filing_no=2, conclusion="reject", review_due=date(2020, 10, 9), effective_on=date(2020, 9, 22)
    )
    history.then("ExAnteReviewed", filing_no=2, approved=True, conclusion="reject", effective_on=date(2020, 9, 25))
    assert {ref: value[0] for ref, value in status(history).items()} == {
        ("goal_submission", 0): "void",
        ("ex_ante_review", 1): "met",
        ("ex_ante_review", 2): "met",
    }


@pytest.mark.parametrize(("rating", "voided"), [("优", False), ("良", False), ("中", False), ("差", True)])
def test_only_refused_goals_end_the_project(rating: str, voided: bool) -> None:
    history = ProjectHistory().then("GoalsReviewed", rating=rating)
    assert (status(history)[("goal_submission", 0)][0] == "void") is voided


def test_the_schedulers_notices_are_kept_for_the_due_date_they_were_given_for() -> None:
    history = approved()
    history.then(
        "DeadlineApproaching",
        deadline="monitoring_report",
        ref=0,
        due_on=date(2021, 8, 15),
        effective_on=date(2021, 8, 8),
    )
    history.then(
        "DeadlineMissed", deadline="monitoring_report", ref=0, due_on=date(2021, 8, 15), effective_on=date(2021, 8, 16)
    )
    notices = history.last.leaf_index
    history.then(
        "DeadlineMissed",
        deadline="self_evaluation",
        ref=0,
        due_on=date(2022, 1, 31),  # not its due date
        effective_on=date(2022, 2, 1),
    )
    history.then(
        "DeadlineMissed",
        deadline="rectification",
        ref=7,
        due_on=date(2022, 1, 31),  # owes none such
        effective_on=date(2022, 2, 1),
    )
    owed = obligations(history)
    report = owed[("monitoring_report", 0)]
    assert (report["status"], report["approaching_on"], report["missed_on"], report["position"]) == (
        "open",
        date(2021, 8, 8),
        date(2021, 8, 16),
        notices,
    )
    assert (owed[("self_evaluation", 0)]["missed_on"], ("rectification", 7) in owed) == (None, False)


def test_events_of_a_project_not_declared_here_are_ignored() -> None:
    log = Log()
    projects: dict[int, dict[str, Any]] = {}
    owed: Obligations = {}
    stranger = uuid4()
    fold(log.record("Project.BudgetApproved", stranger, amount=Decimal("1.00")), projects, owed, stranger.int, P)
    assert (projects, owed) == ({}, {})


def test_disclosures_are_owed_from_the_days_recorded_until_disclosed_closing_or_not() -> None:
    history = (
        ProjectHistory()
        .then("GoalsSubmitted", effective_on=date(2020, 10, 20))
        .then(
            "BudgetApproved",
            amount=Decimal("100.00"),
            effective_on=date(2021, 1, 15),
            goals_disclosure_due=date(2021, 2, 4),
        )
        .then("Disclosed", what="goals", effective_on=date(2021, 2, 1))
        .then("SelfEvaluated", effective_on=date(2022, 2, 20))
        .then(
            "ResultsApplied",
            decision="maintain",
            effective_on=date(2022, 6, 10),
            results_disclosure_due=date(2022, 6, 30),
        )
        .then("Closed", effective_on=date(2022, 6, 20))
    )
    found = status(history)
    assert found[("goals_disclosure", 0)] == ("met", date(2021, 2, 4), date(2021, 2, 1))
    assert found[("results_disclosure", 0)] == ("open", date(2022, 6, 30), None)  # closing publishes nothing
    assert found[("self_evaluation", 0)][0] == "met"
    history.then("Disclosed", what="results", effective_on=date(2022, 7, 2))
    assert status(history)[("results_disclosure", 0)] == ("met", date(2022, 6, 30), date(2022, 7, 2))


def test_goals_disclosed_before_the_approval_are_never_owed_and_an_old_approval_owes_none() -> None:
    early = (
        ProjectHistory()
        .then("GoalsSubmitted", effective_on=date(2020, 10, 20))
        .then("Disclosed", what="goals", effective_on=date(2020, 12, 1))
        .then(
            "BudgetApproved",
            amount=Decimal("100.00"),
            effective_on=date(2021, 1, 15),
            goals_disclosure_due=date(2021, 2, 4),
        )
    )
    assert ("goals_disclosure", 0) not in status(early)
    assert ("goals_disclosure", 0) not in status(approved())  # recorded before it was a watched duty


# ---------------------------------------------------------------------------
# 两审一督导: each step owed on the day its opening event recorded, met by the step
# ---------------------------------------------------------------------------

KE = "KE-2021-P-001-2"  # the project's second key evaluation: its steps are owed under ref 2 (an answer's 201, …)


def commissioned(plan_due: date | None = date(2021, 10, 1)) -> ProjectHistory:
    return approved().then(
        "KeyEvaluationCommissioned",
        evaluation_id=KE,
        agency_id="a",
        agency_name="某咨询评估有限公司",
        procedure=None if plan_due is None else "two_reviews_one_supervision",
        plan_due=plan_due,
        effective_on=date(2021, 9, 1),
    )


def evaluation_status(history: ProjectHistory) -> dict[tuple[str, int], tuple[str, date, date | None]]:
    return {key: value for key, value in status(history).items() if key[1] >= 2}


def test_the_steps_of_two_reviews_one_supervision_are_owed_and_met_in_turn() -> None:
    history = commissioned()
    assert evaluation_status(history) == {("evaluation_plan", 2): ("open", date(2021, 10, 1), None)}
    history.then(
        "KeyEvaluationPlanSubmitted", evaluation_id=KE, review_due=date(2021, 9, 20), effective_on=date(2021, 9, 5)
    )
    history.then(
        "KeyEvaluationPlanReviewed",
        evaluation_id=KE,
        approved=True,
        plan_due=None,
        supervision_due=date(2021, 11, 9),
        report_due=date(2022, 1, 8),
        effective_on=date(2021, 9, 10),
    )
    history.then(
        "KeyEvaluationSupervised",
        evaluation_id=KE,
        supervision_no=1,
        notes="督导",
        findings=["样本不足"],
        answer_due=date(2021, 10, 25),
        effective_on=date(2021, 10, 10),
    )
    assert evaluation_status(history) == {
        ("evaluation_plan", 2): ("met", date(2021, 10, 1), date(2021, 9, 5)),
        ("evaluation_plan_review", 2): ("met", date(2021, 9, 20), date(2021, 9, 10)),
        ("supervision", 2): ("met", date(2021, 11, 9), date(2021, 10, 10)),
        ("evaluation_report", 2): ("open", date(2022, 1, 8), None),
        ("supervision_answer", 201): ("open", date(2021, 10, 25), None),
    }
    history.then("KeyEvaluationSupervisionAnswered", evaluation_id=KE, supervision_no=1, answer="已补充")
    history.then(
        "KeyEvaluationReportSubmitted", evaluation_id=KE, review_due=date(2021, 12, 20), effective_on=date(2021, 12, 5)
    )
    history.then(
        "KeyEvaluationReportReviewed", evaluation_id=KE, approved=True, report_due=None, effective_on=date(2021, 12, 10)
    )
    assert {key: value[0] for key, value in evaluation_status(history).items()} == {
        ("evaluation_plan", 2): "met",
        ("evaluation_plan_review", 2): "met",
        ("supervision", 2): "met",
        ("supervision_answer", 201): "met",
        ("evaluation_report", 2): "met",
        ("evaluation_report_review", 2): "met",
    }


def test_a_rejection_owes_the_step_again_by_its_new_day_and_a_voiding_ends_all() -> None:
    history = commissioned()
    history.then(
        "KeyEvaluationPlanSubmitted", evaluation_id=KE, review_due=date(2021, 9, 20), effective_on=date(2021, 9, 5)
    )
    history.then(
        "KeyEvaluationPlanReviewed",
        evaluation_id=KE,
        approved=False,
        plan_due=date(2021, 10, 10),
        supervision_due=None,
        report_due=None,
        effective_on=date(2021, 9, 10),
    )
    assert evaluation_status(history)[("evaluation_plan", 2)] == ("open", date(2021, 10, 10), None)
    history.then(
        "KeyEvaluationVoided", evaluation_id=KE, agency_name="某咨询评估有限公司", blacklisting_no=1, was_scored=False
    )
    assert evaluation_status(history)[("evaluation_plan", 2)][0] == "void"


def test_a_commission_before_the_full_procedure_owes_nothing() -> None:
    assert evaluation_status(commissioned(plan_due=None)) == {}


def test_a_cancellation_leaves_a_key_evaluations_steps_owed_until_the_file_is_closed() -> None:
    """A key evaluation goes on after 取消 (the project aggregate takes its steps until the file is closed), so what
    it owes stays owed: hypothesis found the two disagreeing (an agency's plan awaiting review, then a cancellation)."""
    history = commissioned()
    history.then(
        "KeyEvaluationPlanSubmitted", evaluation_id=KE, review_due=date(2021, 9, 20), effective_on=date(2021, 9, 5)
    )
    history.then(
        "CorrectiveActionOrdered", decision="cancel", amount=None, deviation_month=None, effective_on=date(2021, 9, 6)
    )
    assert evaluation_status(history)[("evaluation_plan_review", 2)] == ("open", date(2021, 9, 20), None)
    history.then("Closed", effective_on=date(2021, 9, 7))
    assert evaluation_status(history)[("evaluation_plan_review", 2)][0] == "void"
