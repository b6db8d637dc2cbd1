"""A project drawn for re-evaluation (抽中再评价): its results wait for the re-evaluation — finance's own, or a
commissioned agency's score once the reviews accept it — and so does closing its file."""

from __future__ import annotations

from datetime import date

from ledger.domain.project import Project
from ledger.domain.rules import DEFAULT_PARAMETERS
from ledger.domain.values import Attribution
from tests.ledger.domain.project_support import (
    AGENCY,
    FINANCE,
    P,
    apply_results,
    build,
    close,
    re_evaluate,
    re_scores,
    refused,
    select,
)

RE = "RE-2021-EDU-2021-001-1"


def commission_re(project: Project, evaluation_id: str = RE) -> None:
    project.commission_re_evaluation(
        evaluation_id,
        "agency-id",
        "某咨询评估有限公司",
        Attribution(FINANCE, date(2022, 4, 12), "委托再评价"),
        DEFAULT_PARAMETERS,
    )


def agency_scores(project: Project, evaluation_id: str = RE) -> None:
    """两审一督导 in full, as for any agency's key evaluation, then the score."""
    project.submit_key_evaluation_plan(evaluation_id, DEFAULT_PARAMETERS, Attribution(AGENCY, date(2022, 4, 12)))
    project.review_key_evaluation_plan(evaluation_id, True, Attribution(FINANCE, date(2022, 4, 13)), DEFAULT_PARAMETERS)
    project.supervise_key_evaluation(
        evaluation_id, "现场督导", ["样本量偏小"], Attribution(FINANCE, date(2022, 4, 14)), DEFAULT_PARAMETERS
    )
    project.answer_key_evaluation_supervision(evaluation_id, 1, "已扩大样本", Attribution(AGENCY, date(2022, 4, 15)))
    project.submit_key_evaluation_report(evaluation_id, DEFAULT_PARAMETERS, Attribution(AGENCY, date(2022, 4, 16)))
    project.review_key_evaluation_report(
        evaluation_id, True, Attribution(FINANCE, date(2022, 4, 20)), DEFAULT_PARAMETERS
    )
    project.score_key_evaluation(evaluation_id, re_scores(), P, 1, Attribution(AGENCY, date(2022, 4, 21), "再评价评分"))


def test_results_wait_for_the_re_evaluation_of_a_sampled_project() -> None:
    project = build("self_evaluated")
    select(project)
    error = refused(project, "re-evaluation-pending", lambda: apply_results(project))
    assert "drawn for re-evaluation" in error.detail
    re_evaluate(project)
    apply_results(project)
    assert project.results is not None
    assert project.results["basis"] == "re_evaluation"


def test_a_project_not_drawn_applies_its_results_on_its_self_evaluation() -> None:
    project = build("self_evaluated")
    apply_results(project)
    assert project.results is not None
    assert project.results["basis"] == "self_evaluation"


def test_a_sampled_project_whose_results_were_applied_before_the_draw_is_not_closed_before_its_re_evaluation() -> None:
    project = build("results_applied")
    select(project)
    refused(project, "re-evaluation-pending", lambda: close(project))
    re_evaluate(project)
    close(project)
    assert project.stage == "closed"


def test_finance_commissions_an_agency_to_re_evaluate_and_its_score_stands_as_the_re_evaluation() -> None:
    project = build("self_evaluated")
    refused(project, "not-selected", lambda: commission_re(project))
    select(project)
    commission_re(project)
    assert project.commissioned_re_evaluation == RE
    assert project.key_evaluations[RE]["agency_name"] == "某咨询评估有限公司"
    assert isinstance(project.pending_events[-1], Project.ReEvaluationCommissioned)
    assert not project.re_evaluation_stands
    refused(project, "re-evaluation-commissioned", lambda: re_evaluate(project))
    refused(project, "re-evaluation-commissioned", lambda: commission_re(project, "RE-2021-EDU-2021-001-2"))
    assert project.key_evaluations[RE]["procedure"] is not None  # 两审一督导 in full, as any agency's
    refused(  # finance cannot pass the agency's plan before the agency submits one
        project,
        "plan-not-submitted",
        lambda: project.review_key_evaluation_plan(
            RE, True, Attribution(FINANCE, date(2022, 4, 13)), DEFAULT_PARAMETERS
        ),
    )
    agency_scores(project)
    assert project.re_evaluation_stands
    assert project.evaluation_basis() == ("re_evaluation", "优")
    apply_results(project)
    assert project.results is not None
    assert project.results["basis"] == "re_evaluation"


def test_no_agency_once_finance_has_re_evaluated() -> None:
    project = build("self_evaluated")
    select(project)
    re_evaluate(project)
    refused(project, "already-decided", lambda: commission_re(project))


def test_a_commissioned_re_evaluation_is_replayed_as_one() -> None:
    project = build("self_evaluated")
    select(project)
    commission_re(project)
    agency_scores(project)
    replayed = None
    for event in project.collect_events():
        replayed = event.mutate(replayed)
    assert isinstance(replayed, Project)
    assert replayed.key_evaluations[RE]["re_evaluation"] is True
    assert replayed.re_evaluation_stands
