"""``project_status``'s fold, without a database: recorded-shaped events in, the project's row out.

Each test folds a project's history (tests/projections/recorded.py) and checks the columns its events change. The
property test beside it (test_projection_properties.py) checks the same fold against the aggregate on random
histories; these name each event's effect, so a fold that forgets one fails here by name.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from ledger.domain.values import SYSTEM, Principal, key
from projections.base import LogEvent, Row
from projections.project_status import fold
from projections.search import grams
from tests.projections.recorded import DEPARTMENT, Log, ProjectHistory

AGENCY = Principal("ag", "agency", "某咨询评估有限公司")


def folded(events: list[LogEvent]) -> Row:
    row: Row | None = None
    for item in events:
        row = fold(row, item)
    assert row is not None
    return row


def row_after(history: ProjectHistory) -> Row:
    return folded(history.events)


def test_a_declaration_starts_the_row_with_what_was_declared() -> None:
    """Declared as it was recorded before budget units existed (no ``unit`` in its JSON): the department's own."""
    history = ProjectHistory(
        code="Ｐ-001 ", department=" 教育局", budget_book="government_fund", special_category="科技", new_major=True
    )
    assert row_after(history) == {
        "project_id": history.id,
        "code": "Ｐ-001 ",
        "code_key": key("P-001"),
        "name": "义务教育薄弱环节改善",
        "name_key": "义务教育薄弱环节改善",
        "name_grams": grams("义务教育薄弱环节改善"),
        "kind": "project",
        "department": " 教育局",
        "department_key": key("教育局"),
        "unit": None,
        "unit_key": None,
        "fiscal_year": 2021,
        "budget_book": "government_fund",
        "special_category": "科技",
        "new_major": True,
        "stage": "declared",
        "ex_ante_led_by": None,
        "ex_ante_conclusion": None,
        "ex_ante_review": None,
        "ex_ante_filed_by": None,
        "ex_ante_agency": None,
        "requested": Decimal("4000000.00"),
        "approved": None,
        "executed": Decimal("0.00"),
        "execution_rate": None,
        "latest_month": None,
        "latest_deviation": None,
        "funding_suspended": False,
        "self_score": None,
        "self_grade": None,
        "re_score": None,
        "re_grade": None,
        "inflated": False,
        "key_score": None,
        "key_grade": None,
        "grade": None,
        "result_decision": None,
        "open_rectifications": 0,
        "overdue_rectifications": 0,
        "goals_disclosed": False,
        "results_disclosed": False,
        "disclosed_approved": None,
        "disclosed_goals": None,
        "disclosed_results": None,
        "disclosed_grade": None,
        "rectifications": {},
        "overdue": {},
        "overdue_deadlines": 0,
        "evaluators": [],
        "key_scores": [],
        "last_changed_at": history.last.recorded_at,
        "version": 1,
        "position": history.last.leaf_index,
    }


def test_a_declaration_for_a_budget_unit_names_it_beside_its_key() -> None:
    row = row_after(ProjectHistory(department="教育局", unit="德令哈市第一中学 "))
    assert (row["department"], row["unit"], row["unit_key"]) == ("教育局", "德令哈市第一中学 ", key("德令哈市第一中学"))
    assert row_after(ProjectHistory(unit=None))["unit_key"] is None


def test_an_event_before_the_declaration_is_refused() -> None:
    event = Log().record("Project.Admitted", uuid4())
    with pytest.raises(AssertionError, match=r"before Project\.Declared"):
        fold(None, event)


def test_events_of_other_aggregates_leave_the_row_as_it_was() -> None:
    log = Log()
    row = folded([log.declare()])
    before = dict(row)
    others = (
        log.record("Department.Registered", uuid4(), name="教育局"),
        log.record("Agency.Registered", uuid4(), name="某咨询评估有限公司", credentials="", affiliation=None),
    )
    for event in others:
        assert fold(row, event) is row
        assert fold(None, event) is None
    assert row == before


@pytest.mark.parametrize(
    ("events", "stage"),
    [
        ([("ExAnteAssessed", {"conclusion": "reject"})], "rejected"),
        ([("ExAnteAssessed", {"conclusion": "admit"})], "declared"),
        ([("ExAnteFiled", {"filing_no": 1, "conclusion": "reject"})], "declared"),
        ([("ExAnteReviewed", {"filing_no": 1, "approved": False, "conclusion": "reject"})], "declared"),
        ([("ExAnteReviewed", {"filing_no": 1, "approved": True, "conclusion": "reject"})], "rejected"),
        ([("ExAnteReviewed", {"filing_no": 1, "approved": True, "conclusion": "support"})], "declared"),
        ([("Admitted", {})], "admitted"),
        ([("GoalsSubmitted", {})], "goals_submitted"),
        ([("GoalsReviewed", {"rating": "优"})], "goals_approved"),
        ([("GoalsReviewed", {"rating": "良"})], "goals_approved"),
        ([("GoalsReviewed", {"rating": "中"})], "goals_returned"),
        ([("GoalsReviewed", {"rating": "差"})], "goals_refused"),
        ([("BudgetApproved", {"amount": Decimal("100.00")})], "budget_approved"),
        (
            [
                ("BudgetApproved", {"amount": Decimal("100.00")}),
                ("SelfEvaluated", {"executed": Decimal("90.00"), "total": Decimal("88.00"), "grade": "良"}),
            ],
            "self_evaluated",
        ),
        ([("ResultsApplied", {"decision": "maintain"})], "results_applied"),
        (
            [
                ("BudgetApproved", {"amount": Decimal("100.00")}),
                ("CorrectiveActionOrdered", {"decision": "cancel", "amount": None, "deviation_month": None}),
            ],
            "cancelled",
        ),
        ([("Closed", {})], "closed"),
    ],
)
def test_each_step_of_the_cycle_moves_the_stage(events: list[tuple[str, dict[str, Any]]], stage: str) -> None:
    history = ProjectHistory()
    for name, fields in events:
        history.then(name, **fields)
    assert row_after(history)["stage"] == stage


def test_the_ex_ante_assessment_shows_who_led_it_its_review_and_who_filed_it() -> None:
    history = ProjectHistory(new_major=True)
    history.then("ExAnteAgencyCommissioned", principal=DEPARTMENT, agency_id="a", agency_name="某咨询评估有限公司")
    history.then("ExAnteFiled", principal=AGENCY, filing_no=1, conclusion="support", review_due=date(2020, 9, 30))
    row = row_after(history)
    assert (row["ex_ante_review"], row["ex_ante_filed_by"], row["ex_ante_agency"]) == (
        "filed",
        AGENCY.organisation,
        "某咨询评估有限公司",
    )
    assert (row["ex_ante_led_by"], row["ex_ante_conclusion"]) == (None, None)
    history.then("ExAnteReviewed", filing_no=1, approved=False, conclusion="support", reason="退回")
    assert (row_after(history)["ex_ante_review"], row_after(history)["ex_ante_led_by"]) == ("returned", None)
    history.then("ExAnteFiled", principal=DEPARTMENT, filing_no=2, conclusion="support", review_due=date(2020, 10, 9))
    history.then("ExAnteReviewed", filing_no=2, approved=True, conclusion="support")
    row = row_after(history)
    assert (row["ex_ante_review"], row["ex_ante_filed_by"]) == ("approved", DEPARTMENT.organisation)
    assert (row["ex_ante_led_by"], row["ex_ante_conclusion"]) == ("department", "support")
    finance_led = row_after(ProjectHistory(new_major=True).then("ExAnteAssessed", conclusion="support"))
    assert (finance_led["ex_ante_led_by"], finance_led["ex_ante_conclusion"]) == ("finance", "support")
    assert finance_led["ex_ante_review"] is None


def test_the_review_meets_its_missed_deadline() -> None:
    history = ProjectHistory(new_major=True)
    history.then("ExAnteFiled", principal=DEPARTMENT, filing_no=1, conclusion="support", review_due=date(2020, 9, 30))
    history.then("DeadlineMissed", principal=SYSTEM, deadline="ex_ante_review", ref=1, due_on=date(2020, 9, 30))
    assert row_after(history)["overdue"] == {"ex_ante_review:1": "2020-09-30"}
    history.then("ExAnteReviewed", filing_no=1, approved=True, conclusion="support")
    assert row_after(history)["overdue"] == {}


def test_amounts_and_the_execution_rate_follow_approval_monitoring_reductions_and_self_evaluation() -> None:
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("3600000.00"))
    row = row_after(history)
    assert (row["approved"], row["executed"], row["execution_rate"]) == (
        Decimal("3600000.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    history.then("MonitoringReported", month=7, executed=Decimal("1800000.00"))
    row = row_after(history)
    assert (row["executed"], row["latest_month"], row["execution_rate"]) == (Decimal("1800000.00"), 7, Decimal("50.00"))
    history.then("CorrectiveActionOrdered", decision="reduce_budget", amount=Decimal("600000.00"), deviation_month=7)
    row = row_after(history)
    assert (row["approved"], row["execution_rate"]) == (Decimal("3000000.00"), Decimal("60.00"))
    history.then("SelfEvaluated", executed=Decimal("2000000.00"), total=Decimal("88.50"), grade="良")
    row = row_after(history)
    assert (row["executed"], row["execution_rate"]) == (Decimal("2000000.00"), Decimal("66.67"))
    assert (row["self_score"], row["self_grade"], row["grade"]) == (Decimal("88.50"), "良", "良")


def test_monitoring_before_approval_has_no_execution_rate() -> None:
    history = ProjectHistory().then("MonitoringReported", month=3, executed=Decimal("10.00"))
    assert (row_after(history)["execution_rate"], row_after(history)["latest_month"]) == (None, 3)


@pytest.mark.parametrize(
    ("decision", "suspended"), [("suspend_funding", True), ("cancel", True), ("continue", False), ("reallocate", False)]
)
def test_a_corrective_action_suspends_funding_or_resumes_it(decision: str, suspended: bool) -> None:
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("100.00"))
    history.then("DeviationDetected", month=6, level="red").then("FundingSuspended", deviation_month=6)
    row = row_after(history)
    assert (row["latest_deviation"], row["funding_suspended"]) == ("red", True)
    history.then("CorrectiveActionOrdered", decision=decision, amount=None, deviation_month=6)
    assert row_after(history)["funding_suspended"] is suspended


def test_a_reduced_budget_leaves_funding_as_it_was() -> None:
    history = (
        ProjectHistory().then("BudgetApproved", amount=Decimal("100.00")).then("FundingSuspended", deviation_month=6)
    )
    history.then("CorrectiveActionOrdered", decision="reduce_budget", amount=Decimal("40.00"), deviation_month=6)
    row = row_after(history)
    assert (row["approved"], row["funding_suspended"], row["stage"]) == (Decimal("60.00"), True, "budget_approved")


def test_the_grade_is_the_key_evaluations_then_the_re_evaluations_then_the_self_evaluations() -> None:
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("100.00"))
    history.then("SelfEvaluated", executed=Decimal("100.00"), total=Decimal("92.00"), grade="优")
    assert (row_after(history)["grade"], row_after(history)["inflated"]) == ("优", False)
    history.then("ReEvaluated", total=Decimal("75.00"), grade="中", inflated=True)
    row = row_after(history)
    assert (row["re_score"], row["re_grade"], row["grade"], row["inflated"]) == (Decimal("75.00"), "中", "中", True)
    history.then("KeyEvaluationScored", total=Decimal("85.00"), grade="良", inflated=False)
    row = row_after(history)
    assert (row["key_score"], row["key_grade"], row["grade"]) == (Decimal("85.00"), "良", "良")
    assert row["inflated"] is True  # once found inflated, the project stays flagged
    assert (row["self_score"], row["self_grade"]) == (Decimal("92.00"), "优")


@pytest.mark.parametrize("first", ["ReEvaluated", "KeyEvaluationScored"])
def test_a_project_once_found_inflated_stays_flagged_whichever_evaluation_follows(first: str) -> None:
    then = "KeyEvaluationScored" if first == "ReEvaluated" else "ReEvaluated"
    history = ProjectHistory().then(first, total=Decimal("70.00"), grade="中", inflated=True)
    history.then(then, total=Decimal("90.00"), grade="优", inflated=False)
    assert row_after(history)["inflated"] is True


def test_agencies_commissioned_are_kept_by_the_key_of_their_name_once() -> None:
    history = ProjectHistory()
    history.then("KeyEvaluationCommissioned", agency_name="某咨询评估有限公司")
    history.then("KeyEvaluationCommissioned", agency_name=" 某咨询评估有限公司 ")  # another spelling, the same agency
    history.then("KeyEvaluationCommissioned", agency_name=None)  # the finance bureau evaluates itself
    history.then("KeyEvaluationCommissioned", agency_name="青海某会计师事务所")
    assert row_after(history)["evaluators"] == [key("某咨询评估有限公司"), key("青海某会计师事务所")]


def test_rectifications_are_counted_open_until_accepted_and_overdue_when_flagged() -> None:
    history = ProjectHistory()
    history.then("RectificationRequired", rectification_no=1, deadline=date(2022, 6, 30))
    history.then("RectificationRequired", rectification_no=2, deadline=date(2022, 7, 31))
    row = row_after(history)
    assert (row["open_rectifications"], row["overdue_rectifications"]) == (2, 0)
    history.then("RectificationOverdue", rectification_no=1).then("RectificationReported", rectification_no=1)
    row = row_after(history)
    assert (row["open_rectifications"], row["overdue_rectifications"]) == (2, 1)
    assert row["rectifications"] == {
        "1": {"status": "reported", "overdue": True},
        "2": {"status": "open", "overdue": False},
    }
    history.then("RectificationAccepted", rectification_no=1).then("RectificationReported", rectification_no=2)
    history.then("RectificationRejected", rectification_no=2)
    row = row_after(history)
    assert (row["open_rectifications"], row["overdue_rectifications"]) == (1, 0)
    assert row["rectifications"] == {
        "1": {"status": "accepted", "overdue": True},
        "2": {"status": "open", "overdue": False},
    }


def missed(history: ProjectHistory, deadline: str, ref: int, due_on: date) -> None:
    history.then("DeadlineMissed", deadline=deadline, ref=ref, due_on=due_on)


def test_a_missed_deadline_is_overdue_until_what_it_asked_for_arrives() -> None:
    history = ProjectHistory()
    missed(history, "goal_submission", 0, date(2020, 10, 31))
    row = row_after(history)
    assert (row["overdue"], row["overdue_deadlines"]) == ({"goal_submission:0": "2020-10-31"}, 1)
    history.then("GoalsSubmitted").then("BudgetApproved", amount=Decimal("100.00"))
    assert (row_after(history)["overdue"], row_after(history)["overdue_deadlines"]) == ({}, 0)
    missed(history, "monitoring_report", 0, date(2021, 8, 15))
    history.then("MonitoringReported", month=6, executed=Decimal("10.00"))  # not the January–July report
    assert row_after(history)["overdue_deadlines"] == 1
    history.then("MonitoringReported", month=7, executed=Decimal("20.00"))
    assert row_after(history)["overdue_deadlines"] == 0


def test_the_monitoring_report_clears_its_miss_by_the_month_it_recorded_the_ruleset_asked_for() -> None:
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("100.00"))
    missed(history, "monitoring_report", 0, date(2021, 10, 15))
    history.then("MonitoringReported", month=8, executed=Decimal("10.00"), monitoring_report_month=9)
    assert row_after(history)["overdue_deadlines"] == 1
    history.then("MonitoringReported", month=9, executed=Decimal("20.00"), monitoring_report_month=9)
    assert row_after(history)["overdue_deadlines"] == 0
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("100.00"))
    missed(history, "monitoring_report", 0, date(2021, 7, 15))
    history.then("MonitoringReported", month=6, executed=Decimal("10.00"), monitoring_report_month=6)
    assert row_after(history)["overdue_deadlines"] == 0


def test_a_corrective_action_answers_its_deviation_or_every_one() -> None:
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("100.00"))
    missed(history, "deviation_answer", 3, date(2021, 4, 20))
    missed(history, "deviation_answer", 5, date(2021, 6, 18))
    missed(history, "deviation_answer", 6, date(2021, 7, 16))
    history.then("CorrectiveActionOrdered", decision="continue", amount=None, deviation_month=3)
    assert set(row_after(history)["overdue"]) == {"deviation_answer:5", "deviation_answer:6"}
    history.then("CorrectiveActionOrdered", decision="continue", amount=None, deviation_month=None)
    assert row_after(history)["overdue"] == {}


def test_self_evaluation_and_cancellation_end_what_implementation_owed_but_not_rectifications() -> None:
    for last in ("SelfEvaluated", "CorrectiveActionOrdered"):
        history = ProjectHistory().then("BudgetApproved", amount=Decimal("100.00"))
        missed(history, "monitoring_report", 0, date(2021, 8, 15))
        missed(history, "deviation_answer", 9, date(2021, 10, 15))
        missed(history, "self_evaluation", 0, date(2022, 3, 31))
        history.then("RectificationRequired", rectification_no=1, deadline=date(2021, 12, 31))
        missed(history, "rectification", 1, date(2021, 12, 31))
        fields = (
            {"executed": Decimal("100.00"), "total": Decimal("80.00"), "grade": "良"}
            if last == "SelfEvaluated"
            else {"decision": "cancel", "amount": None, "deviation_month": None}
        )
        history.then(last, **fields)
        row = row_after(history)
        assert (row["overdue"], row["overdue_deadlines"]) == ({"rectification:1": "2021-12-31"}, 1), last
        history.then("RectificationAccepted", rectification_no=1)
        assert row_after(history)["overdue_deadlines"] == 0, last


@pytest.mark.parametrize(
    ("name", "fields"),
    [("Closed", {}), ("ExAnteAssessed", {"conclusion": "reject"}), ("GoalsReviewed", {"rating": "差"})],
)
def test_closing_rejecting_or_refusing_a_project_ends_everything_it_owed(name: str, fields: dict[str, Any]) -> None:
    history = ProjectHistory()
    missed(history, "goal_submission", 0, date(2020, 10, 31))
    missed(history, "rectification", 2, date(2021, 1, 31))
    history.then(name, **fields)
    assert (row_after(history)["overdue"], row_after(history)["overdue_deadlines"]) == ({}, 0)


def test_what_a_disclosure_made_public_is_kept_and_later_events_do_not_change_it() -> None:
    goals = [{"key": "I1", "level1": "output", "level2": "quantity", "name": "人数", "operator": ">=", "target": "5000",
              "unit": "人", "weight": "30"}]  # fmt: skip
    results = {"self_evaluation": {"total": "85.00", "grade": "良"}, "re_evaluation": None, "key_evaluation": None,
               "basis": None, "grade": "良", "decision": None}  # fmt: skip
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("900000.00"))
    history.then("Disclosed", what="goals", content={"indicators": goals, "approved_amount": "900000.00"})
    history.then("CorrectiveActionOrdered", decision="reduce_budget", amount=Decimal("100000.00"), deviation_month=6)
    evaluated = {"executed": Decimal("800000.00"), "grade": "良", "total": Decimal("85.00")}
    history.then("SelfEvaluated", **evaluated).then("Disclosed", what="results", content=results)
    history.then("ReEvaluated", grade="中", total=Decimal("70.00"), inflated=True)
    history.then("ResultsApplied", decision="reduce_next_year")
    row = row_after(history)
    assert (row["grade"], row["result_decision"], row["approved"]) == ("中", "reduce_next_year", Decimal("800000.00"))
    assert (row["disclosed_approved"], row["disclosed_goals"]) == (Decimal("900000.00"), goals)  # … not what was
    assert (row["disclosed_results"], row["disclosed_grade"]) == (results, "良")  # made public


def test_a_disclosure_recorded_without_its_content_keeps_the_row_as_it_then_stood() -> None:
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("900000.00")).then("Disclosed", what="goals")
    evaluated = {"executed": Decimal("800000.00"), "grade": "良", "total": Decimal("85.00")}
    history.then("SelfEvaluated", **evaluated).then("Disclosed", what="results")
    history.then("ResultsApplied", decision="maintain")
    row = row_after(history)
    assert (row["disclosed_approved"], row["disclosed_goals"], row["disclosed_grade"]) == (
        Decimal("900000.00"),
        None,
        "良",
    )
    assert row["disclosed_results"] == {
        "self_evaluation": {"total": "85.00", "grade": "良"},
        "grade": "良",
        "decision": None,
    }


def test_disclosures_results_and_bookkeeping() -> None:
    history = ProjectHistory().then("Disclosed", what="goals")
    assert (row_after(history)["goals_disclosed"], row_after(history)["results_disclosed"]) == (True, False)
    history.then("ResultsApplied", decision="reduce_next_year").then("Disclosed", what="results")
    row = row_after(history)
    assert (row["goals_disclosed"], row["results_disclosed"], row["result_decision"]) == (
        True,
        True,
        "reduce_next_year",
    )
    assert (row["last_changed_at"], row["version"], row["position"]) == (
        history.last.recorded_at,
        4,
        history.last.leaf_index,
    )


def test_events_the_row_does_not_show_still_move_its_version_and_position() -> None:
    history = ProjectHistory().then("MonitoringReviewed", month=7, opinion="同意")
    row = row_after(history)
    assert (row["stage"], row["version"], row["position"]) == ("declared", 2, 1)


def test_a_voided_key_score_no_longer_counts_and_a_missed_step_is_met_by_taking_it() -> None:
    history = ProjectHistory().then("BudgetApproved", amount=Decimal("100.00"), effective_on=date(2021, 1, 15))
    history.then("SelfEvaluated", executed=Decimal("100.00"), total=Decimal("95.00"), grade="优")
    for number, grade in ((1, "中"), (2, "良")):
        history.then(
            "KeyEvaluationScored",
            evaluation_id=f"KE-2021-P-001-{number}",
            total=Decimal("70.00") if grade == "中" else Decimal("85.00"),
            grade=grade,
            inflated=False,
        )
    assert (row_after(history)["key_grade"], row_after(history)["grade"]) == ("良", "良")
    history.then(
        "KeyEvaluationVoided", evaluation_id="KE-2021-P-001-2", agency_name="甲", blacklisting_no=1, was_scored=True
    )
    row = row_after(history)
    assert (row["key_score"], row["key_grade"], row["grade"]) == (Decimal("70.00"), "中", "中")
    history.then(
        "KeyEvaluationVoided", evaluation_id="KE-2021-P-001-1", agency_name="甲", blacklisting_no=1, was_scored=True
    )
    row = row_after(history)
    assert (row["key_score"], row["key_grade"], row["grade"]) == (None, None, "优")
    history.then("DeadlineMissed", deadline="evaluation_plan", ref=3, due_on=date(2022, 3, 1))
    history.then("DeadlineMissed", deadline="supervision_answer", ref=301, due_on=date(2022, 3, 2))
    assert row_after(history)["overdue_deadlines"] == 2
    history.then("KeyEvaluationPlanSubmitted", evaluation_id="KE-2021-P-001-3", review_due=date(2022, 3, 20))
    assert row_after(history)["overdue"] == {"supervision_answer:301": "2022-03-02"}
    history.then(
        "KeyEvaluationVoided", evaluation_id="KE-2021-P-001-3", agency_name="甲", blacklisting_no=1, was_scored=False
    )
    assert row_after(history)["overdue_deadlines"] == 0
