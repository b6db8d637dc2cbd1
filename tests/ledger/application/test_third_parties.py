"""Third parties (第三方机构) through the application, on PostgreSQL: who commissions (finance, or the project's own
department), 两审一督导 in full with who may take each step, 资格 and bars barring a commission, 工作质量考核 of a
real engagement, and a blacklisting voiding the agency's evaluations in the same transaction."""

from __future__ import annotations

from datetime import date
from functools import partial
from uuid import UUID

import pytest

from ledger.application import Ledger
from ledger.domain.values import Principal
from tests.conftest import AGENCY, AUDITOR, EDUCATION, FINANCE, HEALTH, act, report
from tests.credit_codes import code_of
from tests.ledger.application.test_application import approved_project, refused

pytestmark = pytest.mark.db

CODE = "91632800864542843F"  # 统一社会信用代码, its check characters right
OTHER = Principal("ag-2", "agency", "另一评估机构")
PLAN = [report("evaluation_plan")]  # 两审一督导: the agency's plan, cited by its submission and by its review
REPORT = [report("evaluation_report")]
SCORES = {"decision": "14", "process": "18", "output": "30", "effect": "26"}


def agencies(ledger: Ledger) -> None:
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)), AGENCY.organisation, "资信甲级", credit_code=code_of(AGENCY.organisation)
    )
    ledger.register_agency(
        act(FINANCE, date(2020, 8, 1)), OTHER.organisation, "资信乙级", credit_code=code_of(OTHER.organisation)
    )


def commissioned(ledger: Ledger, by: Principal = FINANCE, code: str = "JY-01") -> tuple[UUID, str]:
    pid = approved_project(ledger, code)
    ledger.commission_key_evaluation(act(by, date(2021, 9, 1)), pid, AGENCY.organisation)
    return pid, list(ledger.project(pid).key_evaluations)[-1]


def scored(ledger: Ledger, pid: UUID, evaluation: str) -> None:
    """两审一督导 in full, each step by whom it belongs to."""
    ledger.submit_key_evaluation(act(AGENCY, date(2021, 9, 5), evidence=PLAN), pid, evaluation, "plan")
    ledger.review_key_evaluation(act(FINANCE, date(2021, 9, 10), evidence=PLAN), pid, evaluation, "plan", True)
    ledger.note_key_evaluation_supervision(act(FINANCE, date(2021, 10, 10)), pid, evaluation, "督导", ["样本不足"])
    ledger.answer_key_evaluation_supervision(act(AGENCY, date(2021, 10, 15)), pid, evaluation, 1, "已补充")
    ledger.submit_key_evaluation(act(AGENCY, date(2021, 12, 5), evidence=REPORT), pid, evaluation, "report")
    ledger.review_key_evaluation(act(FINANCE, date(2021, 12, 10), evidence=REPORT), pid, evaluation, "report", True)
    ledger.score_key_evaluation(act(AGENCY, date(2021, 12, 20)), pid, evaluation, SCORES)


def test_the_projects_own_department_commissions_an_agency(ledger: Ledger) -> None:
    agencies(ledger)
    pid, evaluation = commissioned(ledger, by=EDUCATION)
    commission = ledger.project(pid).key_evaluations[evaluation]
    assert (commission["agency_name"], commission["procedure"]) == (AGENCY.organisation, "two_reviews_one_supervision")
    refused(
        ledger,
        "not-own-department",
        lambda: ledger.commission_key_evaluation(act(HEALTH, date(2021, 9, 2)), pid, AGENCY.organisation),
    )
    refused(
        ledger, "invalid-value", lambda: ledger.commission_key_evaluation(act(EDUCATION, date(2021, 9, 2)), pid, None)
    )
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.commission_key_evaluation(act(AUDITOR, date(2021, 9, 2)), pid, AGENCY.organisation),
    )


def test_each_step_is_taken_by_whom_it_belongs_to(ledger: Ledger) -> None:
    agencies(ledger)
    pid, evaluation = commissioned(ledger)
    for who, code in ((OTHER, "not-commissioned"), (FINANCE, "role-not-allowed"), (EDUCATION, "role-not-allowed")):
        refused(
            ledger,
            code,
            partial(ledger.submit_key_evaluation, act(who, date(2021, 9, 5), evidence=PLAN), pid, evaluation, "plan"),
        )
    refused(
        ledger,
        "invalid-value",
        lambda: ledger.submit_key_evaluation(act(AGENCY, date(2021, 9, 5)), pid, evaluation, "memo"),
    )
    ledger.submit_key_evaluation(act(AGENCY, date(2021, 9, 5), evidence=PLAN), pid, evaluation, "plan")
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.review_key_evaluation(
            act(AGENCY, date(2021, 9, 10), evidence=PLAN), pid, evaluation, "plan", True
        ),
    )
    ledger.review_key_evaluation(act(FINANCE, date(2021, 9, 10), evidence=PLAN), pid, evaluation, "plan", True)
    ledger.note_key_evaluation_supervision(act(FINANCE, date(2021, 10, 10)), pid, evaluation, "督导", ["样本不足"])
    refused(
        ledger,
        "not-commissioned",
        lambda: ledger.answer_key_evaluation_supervision(act(OTHER, date(2021, 10, 15)), pid, evaluation, 1, "回复"),
    )
    refused(
        ledger,
        "supervision-unanswered",
        lambda: ledger.submit_key_evaluation(
            act(AGENCY, date(2021, 10, 16), evidence=REPORT), pid, evaluation, "report"
        ),
    )
    ledger.answer_key_evaluation_supervision(act(AGENCY, date(2021, 10, 15)), pid, evaluation, 1, "已补充")
    ledger.submit_key_evaluation(act(AGENCY, date(2021, 12, 5), evidence=REPORT), pid, evaluation, "report")
    ledger.review_key_evaluation(act(FINANCE, date(2021, 12, 10), evidence=REPORT), pid, evaluation, "report", True)
    refused(
        ledger,
        "not-commissioned",
        lambda: ledger.score_key_evaluation(act(OTHER, date(2021, 12, 20)), pid, evaluation, SCORES),
    )
    ledger.score_key_evaluation(act(AGENCY, date(2021, 12, 20)), pid, evaluation, SCORES)
    assert ledger.project(pid).evaluation_basis() == ("key_evaluation", "良")


def test_an_agency_not_qualified_or_barred_is_not_commissioned(ledger: Ledger) -> None:
    agencies(ledger)
    pid = approved_project(ledger)
    ledger.change_agency_qualification(act(FINANCE, date(2021, 8, 1), "年检未通过"), AGENCY.organisation, "suspended")
    refused(
        ledger,
        "agency-not-qualified",
        lambda: ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, AGENCY.organisation),
    )
    refused(
        ledger,
        "role-not-allowed",
        lambda: ledger.change_agency_qualification(
            act(EDUCATION, date(2021, 8, 2), "x"), AGENCY.organisation, "qualified"
        ),
    )
    ledger.change_agency_qualification(act(FINANCE, date(2021, 8, 2), "整改完成"), AGENCY.organisation, "qualified")
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, AGENCY.organisation)
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 1)), pid, AGENCY.organisation)
    first, second = list(ledger.project(pid).key_evaluations)
    ledger.review_agency_quality(act(FINANCE, date(2021, 9, 20)), AGENCY.organisation, pid, first, "50", "底稿缺失")
    ledger.review_agency_quality(act(FINANCE, date(2021, 9, 21)), AGENCY.organisation, pid, second, "45", "抽样不规范")
    bar = ledger.agency(AGENCY.organisation).bars[0]
    assert (bar["start"], bar["until"]) == (date(2021, 9, 21), date(2022, 9, 21))
    refused(
        ledger,
        "agency-barred",
        lambda: ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 22)), pid, AGENCY.organisation),
    )


def test_a_quality_review_names_an_engagement_of_the_agency(ledger: Ledger) -> None:
    agencies(ledger)
    pid, evaluation = commissioned(ledger)
    for project, named, agency in (
        (pid, "KE-2021-JY-01-9", AGENCY.organisation),  # no such evaluation
        (UUID(int=7), evaluation, AGENCY.organisation),  # no such project
        (pid, evaluation, OTHER.organisation),  # another agency's engagement
    ):
        refused(
            ledger,
            "engagement-not-found",
            partial(ledger.review_agency_quality, act(FINANCE, date(2021, 9, 20)), agency, project, named, "90"),
        )
    refused(
        ledger,
        "engagement-not-found",
        lambda: ledger.record_misconduct(
            act(FINANCE, date(2021, 9, 20)), OTHER.organisation, "falsification", "伪造", [(pid, evaluation)]
        ),
    )
    ledger.review_agency_quality(act(FINANCE, date(2021, 9, 20)), AGENCY.organisation, pid, evaluation, "90")
    assessment = ledger.agency(AGENCY.organisation).quality_assessments[0]
    assert assessment["engagement"] == {"project_id": str(pid), "evaluation_id": evaluation}
    assert (assessment["score"], assessment["warning"]) == (90, False)


def test_a_blacklisting_voids_the_named_scores_and_every_unfinished_evaluation(ledger: Ledger) -> None:
    agencies(ledger)
    named_pid, named = commissioned(ledger, code="JY-01")
    scored(ledger, named_pid, named)
    kept_pid, kept = commissioned(ledger, code="JY-02")
    scored(ledger, kept_pid, kept)
    open_pid, unfinished = commissioned(ledger, code="JY-03")
    ledger.commission_key_evaluation(act(FINANCE, date(2021, 9, 2)), open_pid, OTHER.organisation)
    ledger.record_misconduct(
        act(FINANCE, date(2022, 1, 5), evidence=["a" * 64]),
        AGENCY.organisation,
        "untrue_results",
        "评价结果不实",
        [(named_pid, named)],
    )
    head = ledger.head()
    written = ledger.blacklist_agency(act(FINANCE, date(2022, 1, 10), "评价结果不实"), AGENCY.organisation)
    assert ledger.head() == head + 3  # the blacklisting and two voidings, in one transaction
    assert {event.type for event in written.events} == {"Agency.Blacklisted", "Project.KeyEvaluationVoided"}
    assert ledger.project(named_pid).key_evaluations[named]["voided"]["was_scored"] is True
    assert ledger.project(named_pid).evaluation_basis() is None  # the score no longer stands
    assert ledger.project(open_pid).key_evaluations[unfinished]["voided"]["was_scored"] is False
    assert ledger.project(kept_pid).key_evaluations[kept]["voided"] is None  # scored, not named: it stands
    others = [
        item for item in ledger.project(open_pid).key_evaluations.values() if item["agency_name"] != AGENCY.organisation
    ]
    assert others[0]["voided"] is None  # another agency's
    refused(
        ledger,
        "blacklisting-public",
        lambda: ledger.blacklist_agency(act(FINANCE, date(2022, 1, 11), "不公开"), OTHER.organisation, None, False),
    )
