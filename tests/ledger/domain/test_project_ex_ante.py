"""The department's ex-ante assessment (ledger.domain.ex_ante, Project.file_ex_ante / review_ex_ante): filed by the
department (or its commissioned agency) with the plan's five dimensions and sector points, reviewed (审核) by finance;
admission needs the reviewed conclusion; finance's own assessment stays possible — every rule and refusal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Snapshot

from ledger.domain import rules
from ledger.domain.deadlines import DeadlineKind
from ledger.domain.errors import DomainError
from ledger.domain.ex_ante import ExAnteReport, checked_report
from ledger.domain.project import Project
from ledger.domain.project_values import Stage
from ledger.domain.values import SYSTEM, Attribution, Principal
from tests.ledger.domain.project_support import (
    AGENCY,
    ASSESSED_ON,
    DEPT,
    FINANCE,
    FY,
    REQUESTED,
    D,
    P,
    admit,
    declare,
    digest,
    events_of,
    ex_ante_scores,
    mutating,
    refused,
)

FILED_ON = date(2020, 9, 14)  # a Monday: ten working days later is Monday 2020-09-28
REVIEWED_ON = date(2020, 9, 21)
OPINIONS = {
    "necessity": "符合营养改善政策要求，立项必要",
    "economy": "生均标准符合国家规定",
    "goal_rationality": "目标量化、可衡量",
    "feasibility": "供餐方案可行",
    "funding_compliance": "资金来源合规",
}


SEVENTEEN = D(17)


def report_of(
    each: Decimal = SEVENTEEN,
    *,
    kind: str = "project",
    sources: dict[str, Any] | None = None,
    years: dict[str, Any] | None = None,
    affordability: str = "在财力可承受范围内，既尽力而为又量力而行",
    conclusion: str | None = None,
    opinions: dict[str, str] | None = None,
    opinion: str = "予以支持",
    evidence: tuple[str, ...] = (digest(7),),
    params: rules.RuleParameters = P,
) -> ExAnteReport:
    return checked_report(
        scores=ex_ante_scores(each),
        opinions=OPINIONS if opinions is None else opinions,
        opinion=opinion,
        funding_sources={"市级财政": "4800000.00", "上级补助": "1200000.00"} if sources is None else sources,
        annual_investment={str(FY): "4800000.00", str(FY + 1): "1200000.00"} if years is None else years,
        affordability=affordability,
        stated_conclusion=conclusion,
        evidence=evidence,
        kind=kind,
        fiscal_year=FY,
        requested=REQUESTED,
        params=params,
    )


def file(
    project: Project,
    each: Decimal = SEVENTEEN,
    *,
    agency: str | None = None,
    by: Principal = DEPT,
    on: date = FILED_ON,
    holidays: tuple[date, ...] = (),
) -> int:
    return project.file_ex_ante(
        report_of(each), agency, P, 1, holidays, Attribution(by, on, "", (digest(7),)), calendar_version=3
    )


def review(project: Project, number: int = 1, approved: bool = True, reason: str = "", on: date = REVIEWED_ON) -> None:
    project.review_ex_ante(number, approved, Attribution(FINANCE, on, reason))


def commission(project: Project, on: date = date(2020, 9, 5)) -> None:
    project.commission_ex_ante_agency("a-1", AGENCY.organisation, P, Attribution(DEPT, on, "委托第三方开展事前评估"))


def needing() -> Project:
    return declare(new_major=True)


# ---------------------------------------------------------------- filing and review


def test_the_department_files_and_finance_approves_then_it_is_admitted() -> None:
    project = needing()
    assert file(project) == 1
    (filed,) = events_of(project, Project.ExAnteFiled)
    assert (filed.total, filed.conclusion, filed.agency_name) == (D(85), "support", None)
    assert filed.review_due == date(2020, 9, 28)
    assert filed.calendar_version == 3
    assert filed.evidence == [digest(7)]
    assert filed.annual_investment == {"2021": D("4800000.00"), "2022": D("1200000.00")}
    assert project.ex_ante is None
    assert project.pending_ex_ante_filing is not None
    review(project)
    assert project.ex_ante is not None
    assert project.ex_ante["led_by"] == "department"
    assert project.ex_ante["filed_by"] == {"role": "department", "organisation": "教育局"}
    assert project.ex_ante["conclusion"] == "support"
    assert project.ex_ante["reviewed_on"] == REVIEWED_ON
    assert project.ex_ante_filings[0]["status"] == "approved"
    admit(project)
    assert project.stage == Stage.ADMITTED


def test_admission_waits_for_the_review() -> None:
    project = needing()
    file(project)
    refused(project, "ex-ante-not-reviewed", lambda: admit(project))


def test_a_returned_report_is_filed_again_and_admission_waits_for_it() -> None:
    project = needing()
    file(project)
    refused(project, "reason-required", lambda: review(project, approved=False))
    review(project, approved=False, reason="分年投资额测算依据不足")
    assert project.ex_ante is None
    assert project.ex_ante_filings[0]["status"] == "returned"
    assert project.ex_ante_filings[0]["review"]["reason"] == "分年投资额测算依据不足"
    refused(project, "ex-ante-required", lambda: admit(project))
    assert file(project, on=REVIEWED_ON) == 2
    review(project, 2, on=REVIEWED_ON)
    assert project.ex_ante is not None
    assert project.ex_ante["filing_no"] == 2


def test_an_approved_negative_conclusion_rejects_the_project() -> None:
    project = needing()
    file(project, D(11))
    review(project)
    assert project.stage == Stage.REJECTED
    assert project.ex_ante is not None
    assert project.ex_ante["conclusion"] == "reject"
    refused(project, "wrong-stage", lambda: admit(project))


def test_support_after_revision_needs_the_revisions_stated_at_admission() -> None:
    project = needing()
    file(project, D(13))
    review(project)
    refused(project, "reason-required", lambda: admit(project))
    admit(project, "已按评估意见调整实施方案")
    assert project.stage == Stage.ADMITTED


def test_one_report_awaits_review_at_a_time_and_finance_does_not_assess_over_it() -> None:
    project = needing()
    file(project)
    refused(project, "ex-ante-under-review", lambda: file(project))
    refused(
        project,
        "ex-ante-under-review",
        lambda: project.assess_ex_ante(ex_ante_scores(D(17)), P, 1, Attribution(FINANCE, ASSESSED_ON)),
    )
    refused(project, "ex-ante-under-review", lambda: commission(project))


def test_nothing_is_filed_once_an_assessment_stands() -> None:
    project = needing()
    project.assess_ex_ante(ex_ante_scores(D(17)), P, 1, Attribution(FINANCE, ASSESSED_ON))
    refused(project, "already-decided", lambda: file(project))
    refused(project, "already-decided", lambda: commission(project))
    refused(project, "ex-ante-filing-not-found", lambda: review(project))


def test_a_project_that_needs_none_files_none() -> None:
    project = declare()
    refused(project, "ex-ante-not-required", lambda: file(project))
    refused(project, "ex-ante-not-required", lambda: commission(project))


def test_a_review_reviews_a_report_awaiting_it_once_and_not_before_its_filing() -> None:
    project = needing()
    refused(project, "ex-ante-filing-not-found", lambda: review(project))
    file(project)
    refused(project, "effective-date-too-early", lambda: review(project, on=FILED_ON.replace(day=13)))
    review(project, approved=False, reason="退回")
    refused(project, "already-decided", lambda: review(project))


def test_no_review_after_the_project_left_its_declaration() -> None:
    project = needing()
    file(project, D(11))
    review(project)
    refused(project, "wrong-stage", lambda: review(project))


# ---------------------------------------------------------------- finance-led stays


def test_finance_led_assessment_is_recorded_as_such() -> None:
    project = needing()
    project.assess_ex_ante(ex_ante_scores(D(17)), P, 1, Attribution(FINANCE, ASSESSED_ON, "专家评审"))
    assert project.ex_ante is not None
    assert project.ex_ante["led_by"] == "finance"
    assert project.ex_ante_filings == []
    admit(project)


def test_finance_may_assess_itself_after_returning_a_report() -> None:
    project = needing()
    file(project)
    review(project, approved=False, reason="另行组织评估")
    project.assess_ex_ante(ex_ante_scores(D(17)), P, 1, Attribution(FINANCE, REVIEWED_ON))
    assert project.ex_ante is not None
    assert project.ex_ante["led_by"] == "finance"


# ---------------------------------------------------------------- the commissioned agency


def test_the_commissioned_agency_files_and_the_filing_says_so() -> None:
    project = needing()
    commission(project)
    assert project.ex_ante_agency is not None
    assert project.ex_ante_agency["agency_name"] == AGENCY.organisation
    file(project, agency=AGENCY.organisation, by=AGENCY)
    review(project)
    assert project.ex_ante is not None
    assert project.ex_ante["agency"] == AGENCY.organisation
    assert project.ex_ante["filed_by"] == {"role": "agency", "organisation": AGENCY.organisation}


def test_an_agency_not_commissioned_files_nothing() -> None:
    project = needing()
    refused(project, "ex-ante-agency-not-commissioned", lambda: file(project, agency="另一机构", by=AGENCY))
    commission(project)
    refused(project, "ex-ante-agency-not-commissioned", lambda: file(project, agency="另一机构", by=AGENCY))


def test_an_agency_files_no_earlier_than_its_commissioning() -> None:
    project = needing()
    commission(project, on=date(2020, 9, 10))
    refused(
        project,
        "effective-date-too-early",
        lambda: file(project, agency=AGENCY.organisation, by=AGENCY, on=date(2020, 9, 9)),
    )


# ---------------------------------------------------------------- the deadline


def test_finance_review_is_watched_in_working_days() -> None:
    project = needing()
    holiday = date(2020, 9, 16)
    file(project, holidays=(holiday,))
    due = date(2020, 9, 29)  # one holiday on the way moves it a working day
    deadlines = project.open_deadlines(P)
    assert any(d.kind == DeadlineKind.EX_ANTE_REVIEW and d.ref == 1 and d.due_on == due for d in deadlines)
    noticed = project.raise_deadline_notices(date(2020, 9, 30), P, SYSTEM)
    assert [(d.kind, d.ref) for d in noticed if d.kind == "ex_ante_review"] == [("ex_ante_review", 1)]
    review(project, on=date(2020, 9, 30))
    assert all(d.kind != DeadlineKind.EX_ANTE_REVIEW for d in project.open_deadlines(P))


def test_the_review_period_is_a_ruleset_parameter() -> None:
    import dataclasses

    params = dataclasses.replace(P, ex_ante_review_working_days=3)
    project = needing()
    project.file_ex_ante(report_of(), None, params, 2, (), Attribution(DEPT, FILED_ON, "", (digest(7),)))
    assert events_of(project, Project.ExAnteFiled)[0].review_due == date(2020, 9, 17)
    with pytest.raises(DomainError) as refusal:
        dataclasses.replace(P, ex_ante_review_working_days=0).validate()
    assert refusal.value.code == "invalid-rule-parameter"


# ---------------------------------------------------------------- the report's content


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"conclusion": "reject"}, "ex-ante-conclusion-mismatch"),
        ({"conclusion": "maybe"}, "invalid-value"),
        ({"opinions": {**OPINIONS, "economy": " "}}, "invalid-value"),
        ({"opinions": {**OPINIONS, "beauty": "好"}}, "invalid-value"),
        ({"opinion": ""}, "invalid-value"),
        ({"sources": {}}, "invalid-value"),
        ({"sources": {"市级财政": "0"}}, "invalid-money"),
        ({"sources": {"市级财政": "1.001"}}, "invalid-money"),
        ({"years": {}}, "invalid-value"),
        ({"years": {"next": "6000000.00"}}, "invalid-value"),
        ({"years": {str(FY + 1): "6000000.00"}}, "ex-ante-investment-short"),
        ({"years": {str(FY): "4000000.00", str(FY + 1): "2000000.00"}}, "ex-ante-investment-short"),
        ({"sources": {"市级财政": "4800000.00"}}, "ex-ante-funding-mismatch"),
        ({"kind": "policy", "affordability": " "}, "ex-ante-affordability-required"),
        ({"evidence": ()}, "ex-ante-report-required"),
    ],
)
def test_a_report_is_refused_for(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(DomainError) as refusal:
        report_of(**changes)
    assert refusal.value.code == code, refusal.value


def test_scores_are_checked_as_finance_assessments_are() -> None:
    with pytest.raises(DomainError) as refusal:
        report_of(D(21))
    assert refusal.value.code == "invalid-score"


def test_a_report_concluding_what_its_points_give_is_taken() -> None:
    assert report_of(D(13), conclusion="support_after_revision").conclusion == "support_after_revision"
    assert report_of(D(17), kind="policy").affordability
    assert report_of(D(17), affordability="").affordability == ""  # a project (not a policy) may leave it out


# ---------------------------------------------------------------- replay and old logs


def test_replaying_the_events_rebuilds_the_project() -> None:
    project = needing()
    commission(project)
    file(project, agency=AGENCY.organisation, by=AGENCY)
    review(project, approved=False, reason="退回")
    file(project, on=REVIEWED_ON)
    review(project, 2, on=REVIEWED_ON)
    replayed: Any = None
    for item in project.collect_events():
        replayed = mutating(item).mutate(replayed)
    assert replayed == project


def test_a_snapshot_taken_before_department_filings_reads_as_finances_assessment() -> None:
    state: dict[str, Any] = {"ex_ante": {"scores": {}, "total": D(85), "conclusion": "support", "ruleset_version": 1}}
    Project.upcast_v7_v8(state)
    assert state["ex_ante"]["led_by"] == "finance"
    assert (state["ex_ante_filings"], state["ex_ante_agency"]) == ([], None)
    empty: dict[str, Any] = {"ex_ante": None}
    Project.upcast_v7_v8(empty)
    assert empty["ex_ante"] is None


def test_a_snapshot_of_a_finance_assessed_project_taken_before_filings_restores_it() -> None:
    project = needing()
    project.assess_ex_ante(ex_ante_scores(D(17)), P, 1, Attribution(FINANCE, ASSESSED_ON, "专家评审"))
    admit(project)
    project.collect_events()
    snapshot = Snapshot.take(project)
    assert snapshot.state["class_version"] == 9
    state = {k: v for k, v in snapshot.state.items() if k not in ("ex_ante_agency", "ex_ante_filings", "spot_checks")}
    state["ex_ante"] = {k: v for k, v in state["ex_ante"].items() if k != "led_by"}  # as version 7 kept it
    old = Snapshot(
        originator_id=project.id,
        originator_version=project.version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state={**state, "class_version": 7},
    )
    restored: Any = old.mutate(None)
    assert restored == project
    assert restored.ex_ante["led_by"] == "finance"
