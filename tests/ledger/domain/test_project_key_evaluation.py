"""Unit tests of the project (ledger.domain.project): an agency's key evaluation under 两审一督导 in full — plan and
report each submitted and reviewed, supervision with findings and their answers, each step's deadline — and its
voiding when the agency is blacklisted (作废). The key evaluation's simpler rules (finance's own, the order of the
reviews, the basis of the results) are in test_project_evaluation.py."""

from __future__ import annotations

from datetime import date

from ledger.domain.project import Project
from ledger.domain.values import SYSTEM, Attribution
from tests.ledger.domain.project_support import (
    AGENCY,
    FINANCE,
    KE,
    D,
    P,
    apply_results,
    build,
    commission,
    re_scores,
    refused,
    score_key,
)

# ---------------------------------------------------------------------------
# 两审一督导 in full: an agency's key evaluation commissioned now
# ---------------------------------------------------------------------------


def full(project: Project) -> None:
    project.commission_key_evaluation(KE, "agency-id", AGENCY.organisation, Attribution(FINANCE, date(2022, 3, 1)), P)


def submit(project: Project, what: str, on: date) -> None:
    method = project.submit_key_evaluation_plan if what == "plan" else project.submit_key_evaluation_report
    method(KE, P, Attribution(AGENCY, on))


def review(project: Project, what: str, on: date, approved: bool = True, reason: str = "") -> None:
    method = project.review_key_evaluation_plan if what == "plan" else project.review_key_evaluation_report
    method(KE, approved, Attribution(FINANCE, on, reason), P)


def supervise(project: Project, on: date, findings: list[str] | None = None) -> int:
    return project.supervise_key_evaluation(
        KE, "现场督导", ["底稿不完整"] if findings is None else findings, Attribution(FINANCE, on), P
    )


def answer(project: Project, number: int, on: date) -> None:
    project.answer_key_evaluation_supervision(KE, number, "已补充底稿", Attribution(AGENCY, on))


def through_supervision(project: Project) -> None:
    full(project)
    submit(project, "plan", date(2022, 3, 5))
    review(project, "plan", date(2022, 3, 10))
    supervise(project, date(2022, 3, 20))
    answer(project, 1, date(2022, 3, 25))


def test_full_procedure_records_each_step_and_its_next_deadline() -> None:
    project = build("self_evaluated")
    full(project)
    evaluation = project.key_evaluation(KE)
    assert evaluation["procedure"] == "two_reviews_one_supervision"
    assert evaluation["plan_due"] == date(2022, 3, 31)  # evaluation_plan_days 30
    submit(project, "plan", date(2022, 3, 5))
    assert (evaluation["plan_pending"], evaluation["plan_review_due"], evaluation["plan_due"]) == (
        True,
        date(2022, 3, 20),
        None,
    )
    review(project, "plan", date(2022, 3, 10))
    assert evaluation["supervision_due"] == date(2022, 5, 9)  # supervision_days 60
    assert evaluation["report_due"] == date(2022, 7, 8)  # evaluation_report_days 120
    assert supervise(project, date(2022, 3, 20)) == 1
    assert evaluation["supervisions"][0]["answer_due"] == date(2022, 4, 4)  # supervision_answer_days 15
    assert evaluation["supervision_due"] is None
    answer(project, 1, date(2022, 3, 25))
    submit(project, "report", date(2022, 4, 1))
    review(project, "report", date(2022, 4, 10))
    score_key(project)
    assert project.key_evaluation(KE)["score"] is not None
    assert project.evaluation_basis() == ("key_evaluation", "优")
    kinds = [type(item).__name__ for item in project.pending_events][-8:]
    assert kinds == [
        "KeyEvaluationCommissioned",
        "KeyEvaluationPlanSubmitted",
        "KeyEvaluationPlanReviewed",
        "KeyEvaluationSupervised",
        "KeyEvaluationSupervisionAnswered",
        "KeyEvaluationReportSubmitted",
        "KeyEvaluationReportReviewed",
        "KeyEvaluationScored",
    ]


def test_finance_reviews_only_a_plan_the_agency_submitted() -> None:
    project = build("self_evaluated")
    full(project)
    refused(project, "plan-not-submitted", lambda: review(project, "plan", date(2022, 3, 10)))
    submit(project, "plan", date(2022, 3, 5))
    refused(project, "submission-pending", lambda: submit(project, "plan", date(2022, 3, 6)))


def test_a_rejected_plan_needs_its_reason_and_is_submitted_again_by_a_new_day() -> None:
    project = build("self_evaluated")
    full(project)
    submit(project, "plan", date(2022, 3, 5))
    refused(project, "reason-required", lambda: review(project, "plan", date(2022, 3, 10), approved=False))
    review(project, "plan", date(2022, 3, 10), approved=False, reason="样本设计不合理")
    evaluation = project.key_evaluation(KE)
    assert (evaluation["plan_approved"], evaluation["plan_pending"]) == (False, False)
    assert evaluation["plan_due"] == date(2022, 4, 9)
    submit(project, "plan", date(2022, 3, 15))
    review(project, "plan", date(2022, 3, 16))
    refused(project, "already-decided", lambda: submit(project, "plan", date(2022, 3, 17)))


def test_supervision_waits_for_the_approved_plan_and_states_findings() -> None:
    project = build("self_evaluated")
    full(project)
    refused(project, "plan-not-reviewed", lambda: supervise(project, date(2022, 3, 4)))
    submit(project, "plan", date(2022, 3, 5))
    review(project, "plan", date(2022, 3, 10))
    refused(project, "invalid-value", lambda: supervise(project, date(2022, 3, 20), findings=[]))
    refused(project, "invalid-value", lambda: supervise(project, date(2022, 3, 20), findings=["问题", " "]))


def test_the_report_waits_for_a_supervision_and_every_answer() -> None:
    project = build("self_evaluated")
    full(project)
    refused(project, "plan-not-reviewed", lambda: submit(project, "report", date(2022, 3, 4)))
    submit(project, "plan", date(2022, 3, 5))
    review(project, "plan", date(2022, 3, 10))
    refused(project, "supervision-required", lambda: submit(project, "report", date(2022, 3, 15)))
    supervise(project, date(2022, 3, 20))
    refused(project, "supervision-unanswered", lambda: submit(project, "report", date(2022, 3, 21)))
    answer(project, 1, date(2022, 3, 25))
    refused(project, "already-decided", lambda: answer(project, 1, date(2022, 3, 26)))
    refused(project, "supervision-not-found", lambda: answer(project, 2, date(2022, 3, 26)))
    refused(project, "report-not-submitted", lambda: review(project, "report", date(2022, 3, 26)))
    submit(project, "report", date(2022, 4, 1))
    refused(project, "submission-pending", lambda: submit(project, "report", date(2022, 4, 2)))


def test_a_supervision_after_the_report_was_submitted_holds_its_review() -> None:
    project = build("self_evaluated")
    through_supervision(project)
    submit(project, "report", date(2022, 4, 1))
    supervise(project, date(2022, 4, 2), ["结论依据不足"])
    refused(project, "supervision-unanswered", lambda: review(project, "report", date(2022, 4, 3)))
    answer(project, 2, date(2022, 4, 4))
    review(project, "report", date(2022, 4, 5), approved=False, reason="结论依据不足")
    assert project.key_evaluation(KE)["report_due"] == date(2022, 8, 3)
    refused(project, "report-not-reviewed", lambda: score_key(project))
    submit(project, "report", date(2022, 4, 8))
    review(project, "report", date(2022, 4, 10))
    refused(project, "already-decided", lambda: supervise(project, date(2022, 4, 11)))
    score_key(project)


def test_only_an_agencys_evaluation_has_submissions_and_answers() -> None:
    project = build("self_evaluated")
    commission(project)  # finance's own evaluation (no procedure)
    refused(project, "wrong-stage", lambda: submit(project, "plan", date(2022, 3, 5)))
    refused(project, "wrong-stage", lambda: answer(project, 1, date(2022, 3, 5)))


def test_each_step_is_open_as_a_deadline_until_it_is_taken() -> None:
    project = build("self_evaluated")
    full(project)

    def owed() -> set[tuple[str, int]]:
        return {(item.kind, item.ref) for item in project.open_deadlines(P) if item.kind not in ("rectification",)}

    assert ("evaluation_plan", 1) in owed()
    submit(project, "plan", date(2022, 3, 5))
    assert ("evaluation_plan", 1) not in owed()
    assert ("evaluation_plan_review", 1) in owed()
    review(project, "plan", date(2022, 3, 10))
    assert {("supervision", 1), ("evaluation_report", 1)} <= owed()
    supervise(project, date(2022, 3, 20))
    assert ("supervision", 1) not in owed()
    assert ("supervision_answer", 101) in owed()
    answer(project, 1, date(2022, 3, 25))
    assert ("supervision_answer", 101) not in owed()
    submit(project, "report", date(2022, 4, 1))
    assert ("evaluation_report_review", 1) in owed()
    assert ("evaluation_report", 1) not in owed()
    review(project, "report", date(2022, 4, 10))
    assert not {kind for kind, _ in owed()} & {"evaluation_report_review", "evaluation_report"}


def test_missed_steps_raise_their_notices_once() -> None:
    project = build("self_evaluated")
    full(project)
    raised = project.raise_deadline_notices(date(2022, 4, 1), P, SYSTEM)
    assert [(item.kind, item.due_on) for item in raised if item.kind.startswith("evaluation")] == [
        ("evaluation_plan", date(2022, 3, 31))
    ]
    again = project.raise_deadline_notices(date(2022, 4, 2), P, SYSTEM)
    assert not [item for item in again if item.kind.startswith("evaluation")]


# ---------------------------------------------------------------------------
# 作废: an agency blacklisted
# ---------------------------------------------------------------------------


def test_a_voided_score_is_no_basis_and_results_wait_for_a_new_evaluation() -> None:
    project = build("self_evaluated")
    through_supervision(project)
    submit(project, "report", date(2022, 4, 1))
    review(project, "report", date(2022, 4, 10))
    score_key(project, re_scores(D(15), D(15)))
    assert project.evaluation_basis() == ("key_evaluation", "中")
    assert project.unfinished_or_named("agency-id", set()) == []
    assert project.unfinished_or_named("agency-id", {KE}) == [KE]
    assert project.void_key_evaluation(KE, AGENCY.organisation, 1, Attribution(FINANCE, date(2022, 5, 1), "列入黑名单"))
    assert not project.void_key_evaluation(KE, AGENCY.organisation, 1, Attribution(FINANCE, date(2022, 5, 1)))
    assert project.evaluation_basis() == ("self_evaluation", "优")
    assert project.needs_new_evaluation
    refused(project, "new-evaluation-required", lambda: apply_results(project))
    refused(project, "evaluation-voided", lambda: supervise(project, date(2022, 5, 2)))
    project.commission_key_evaluation("KE-2", None, None, Attribution(FINANCE, date(2022, 5, 3)))
    project.review_key_evaluation_plan("KE-2", True, Attribution(FINANCE, date(2022, 5, 4)))
    project.review_key_evaluation_report("KE-2", True, Attribution(FINANCE, date(2022, 5, 5)))
    project.score_key_evaluation("KE-2", re_scores(), P, 1, Attribution(FINANCE, date(2022, 5, 6)))
    assert not project.needs_new_evaluation
    assert project.evaluation_basis() == ("key_evaluation", "优")
    apply_results(project)


def test_an_unfinished_evaluation_is_voided_and_owes_nothing_more() -> None:
    project = build("self_evaluated")
    full(project)
    assert project.unfinished_or_named("agency-id", set()) == [KE]
    assert project.unfinished_or_named("another", set()) == []
    refused(  # a blacklisting dated back before the commission voids nothing
        project,
        "effective-date-too-early",
        lambda: project.void_key_evaluation(KE, AGENCY.organisation, 1, Attribution(FINANCE, date(2020, 1, 1))),
    )
    project.void_key_evaluation(KE, AGENCY.organisation, 1, Attribution(FINANCE, date(2022, 3, 3)))
    assert not [item for item in project.open_deadlines(P) if item.kind.startswith("evaluation")]
    refused(project, "evaluation-voided", lambda: submit(project, "plan", date(2022, 3, 5)))
    refused(project, "new-evaluation-required", lambda: apply_results(project))
