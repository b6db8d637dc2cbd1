"""The overall evaluation over HTTP (整体绩效评价): the organisation self-evaluates, finance commissions an agency who
scores after 两审一督导, finance applies the results to the department and sets its next control figure; the
``department_overall`` rows and coverage, scoped to who reads; the feed and trail of a department include its
overall goals; 政策调整 of a policy. Every refusal is problem+json with a stable type, and records nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest

from api.schemas.overall import OVERALL_ACTUALS_EXAMPLE, OVERALL_GOALS_EXAMPLE, OVERALL_SCORES_EXAMPLE
from api.schemas.projects import GOALS_EXAMPLE
from projections import feed
from tests.api.conftest import Service
from tests.api.world import expect
from tests.conftest import report

pytestmark = pytest.mark.db

SCHOOL = "德令哈市第一中学"  # the "school" token's unit


def problem(service: Service, response: Any, status: int, code: str, head: int) -> None:
    """``response`` is the problem ``code`` with ``status``, and the log did not move."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"urn:jixiao:problem:{code}"
    assert service.ledger.head() == head


@pytest.fixture
def organisations(service: Service) -> dict[str, str]:
    """教育局 and its school, 卫生健康委员会, an agency; the 2022 overall goals of 教育局 and of the school approved."""
    ids = {}
    for name in ("教育局", "卫生健康委员会"):
        ids[name] = expect(service.post("finance", "/departments", {"name": name, "effective_on": "2020-08-01"}), 201)[
            "id"
        ]
    ids[SCHOOL] = expect(
        service.post("finance", f"/departments/{ids['教育局']}/units", {"name": SCHOOL, "effective_on": "2020-08-03"}),
        201,
    )["id"]
    agency = {
        "name": "某咨询评估有限公司",
        "credentials": "甲级",
        "credit_code": "91632800864542843F",
        "effective_on": "2020-08-01",
    }
    expect(service.post("finance", "/agencies", agency), 201)
    for who, name, rating in (("education", "教育局", "优"), ("school", SCHOOL, "良")):
        at = f"/overall-goals/{ids[name]}/2022"
        expect(service.post(who, at, {"indicators": OVERALL_GOALS_EXAMPLE, "effective_on": "2021-10-15"}), 200)
        expect(service.post("finance", f"{at}/review", {"rating": rating, "effective_on": "2021-10-25"}), 200)
    return ids


def run_the_agencys_steps(s: Service, evaluation: str) -> None:
    """两审一督导 in full over HTTP: the agency's plan (its typed document), finance's review, a supervision with a
    finding, the agency's answer, its report and finance's review — each step refused to another agency (403
    ``not-commissioned``), to finance or a department (``role-not-allowed``) where it is the agency's."""
    s.tokens["other-agency"], _ = s.app.state.tokens.issue("ag-liu", "agency", "另一评估公司", created_by="test")
    plan, final = [report("evaluation_plan")], [report("evaluation_report")]
    submitted = {"evidence": plan, "effective_on": "2023-03-05"}
    head = s.ledger.head()
    problem(s, s.post("other-agency", f"{evaluation}/plan", submitted), 403, "not-commissioned", head)
    problem(s, s.post("education", f"{evaluation}/plan", submitted), 403, "role-not-allowed", head)
    problem(s, s.post("agency", f"{evaluation}/plan", {"effective_on": "2023-03-05"}), 422, "report-required", head)
    review = {"approved": True, "evidence": plan, "effective_on": "2023-03-10"}
    problem(s, s.post("finance", f"{evaluation}/plan-review", review), 409, "plan-not-submitted", head)
    written = expect(s.post("agency", f"{evaluation}/plan", submitted), 200)
    assert [event["type"] for event in written["events"]] == ["OverallGoals.EvaluationPlanSubmitted"]
    expect(s.post("finance", f"{evaluation}/plan-review", review), 200)
    head = s.ledger.head()
    no_findings = {"notes": "现场核查", "effective_on": "2023-04-01"}
    problem(s, s.post("finance", f"{evaluation}/supervision", no_findings), 422, "invalid-value", head)
    supervision = {**no_findings, "findings": ["访谈样本不足"]}
    problem(s, s.post("agency", f"{evaluation}/supervision", supervision), 403, "role-not-allowed", head)
    expect(s.post("finance", f"{evaluation}/supervision", supervision), 200)
    head = s.ledger.head()
    report_body = {"evidence": final, "effective_on": "2023-04-20"}
    problem(s, s.post("agency", f"{evaluation}/report", report_body), 409, "supervision-unanswered", head)
    answer = {"answer": "已补充访谈", "effective_on": "2023-04-10"}
    problem(s, s.post("other-agency", f"{evaluation}/supervision/1/answer", answer), 403, "not-commissioned", head)
    problem(s, s.post("agency", f"{evaluation}/supervision/2/answer", answer), 404, "supervision-not-found", head)
    expect(s.post("agency", f"{evaluation}/supervision/1/answer", answer), 200)
    problem(s, s.post("other-agency", f"{evaluation}/report", report_body), 403, "not-commissioned", s.ledger.head())
    expect(s.post("agency", f"{evaluation}/report", report_body), 200)
    reviewed = {"approved": True, "evidence": final, "effective_on": "2023-05-01"}
    expect(s.post("finance", f"{evaluation}/report-review", reviewed), 200)


def test_self_evaluation_a_commissioned_evaluation_and_the_control_figure(
    service: Service, organisations: dict[str, str]
) -> None:
    s, at = service, f"/overall-goals/{organisations['教育局']}/2022"
    evaluated = expect(
        s.post(
            "education", f"{at}/self-evaluation", {"actuals": OVERALL_ACTUALS_EXAMPLE, "effective_on": "2023-02-20"}
        ),
        200,
    )
    assert evaluated["events"][0]["type"] == "OverallGoals.SelfEvaluated"
    commissioned = s.post(
        "finance", f"{at}/evaluations", {"agency": "某咨询评估有限公司", "effective_on": "2023-03-01"}
    )
    assert expect(commissioned, 201)["events"][0]["references"] == {"evaluation_no": 1}
    assert commissioned.headers["location"] == f"{at}/evaluations/1"
    evaluation = f"{at}/evaluations/1"
    head = s.ledger.head()
    problem(
        s,
        s.post("agency", f"{evaluation}/score", {"scores": OVERALL_SCORES_EXAMPLE, "effective_on": "2023-03-02"}),
        409,
        "report-not-reviewed",
        head,
    )
    run_the_agencys_steps(s, evaluation)
    scores = {"scores": OVERALL_SCORES_EXAMPLE, "effective_on": "2023-05-10"}
    head = s.ledger.head()
    problem(s, s.post("education", f"{evaluation}/score", scores), 403, "role-not-allowed", head)
    problem(s, s.post("finance", f"{evaluation}/score", scores), 403, "role-not-allowed", head)
    problem(s, s.post("agency", f"{at}/evaluations/2/score", scores), 404, "overall-evaluation-not-found", head)
    too_high = {"scores": {**OVERALL_SCORES_EXAMPLE, "duty_performance": "31"}, "effective_on": "2023-05-10"}
    problem(s, s.post("agency", f"{evaluation}/score", too_high), 422, "invalid-score", head)
    expect(s.post("agency", f"{evaluation}/score", scores), 200)  # 87: 良

    applied = {"control_figure": "12000000.00", "rate": "0.01", "effective_on": "2023-06-01"}
    head = s.ledger.head()
    problem(s, s.post("education", f"{at}/result-application", applied), 403, "role-not-allowed", head)
    problem(s, s.post("finance", f"{at}/result-application", applied), 422, "reason-required", head)
    same = {**applied, "rate": "0", "reason": "照章"}
    problem(s, s.post("finance", f"{at}/result-application", same), 409, "control-figure-override-not-needed", head)
    wrong = {**applied, "rate": "2", "reason": "翻倍"}
    problem(s, s.post("finance", f"{at}/result-application", wrong), 422, "invalid-value", head)
    written = expect(s.post("finance", f"{at}/result-application", {**applied, "reason": "重点任务增加"}), 200)
    assert [event["type"] for event in written["events"]] == [
        "OverallGoals.ResultsApplied",
        "OverallGoals.ControlFigureAdjusted",
    ]
    head = s.ledger.head()
    problem(s, s.post("finance", f"{at}/result-application", applied), 409, "already-decided", head)

    row = expect(s.get("auditor", at, min_position=written["position"]), 200)
    (procedure,) = row["procedures"]
    assert (procedure["procedure"], procedure["step"], procedure["step_zh"], procedure["supervisions"]) == (
        "two_reviews_one_supervision",
        "scored",
        "已评分",
        1,
    )
    assert (row["self_score"], row["self_grade"], row["evaluation_score"], row["evaluation_grade"]) == (
        "96.00",  # 办学条件改善 较好: 16 of 20
        "优",
        "87",
        "良",
    )
    assert (row["evaluator"], row["inflated"], row["result_basis"], row["result_decision"]) == (
        "某咨询评估有限公司",
        False,  # 96 is 9 above 87: within the ruleset's 10
        "evaluation",
        "increase",
    )
    assert (row["default_rate"], row["control_rate"], row["control_amount"], row["next_control_figure"]) == (
        "0",
        "0.01",
        "120000.00",
        "12120000.00",
    )
    assert (row["next_fiscal_year"], row["control_override"], row["control_override_reason"]) == (
        2023,
        True,
        "重点任务增加",
    )


def test_a_quality_review_names_an_overall_evaluation(service: Service, organisations: dict[str, str]) -> None:
    """工作质量考核 over HTTP of an overall evaluation commissioned to the agency (``overall_engagement`` in place
    of a key evaluation's project and id): once; another organisation's, an evaluation that is not, or both kinds
    named are problems that record nothing."""
    s, at = service, f"/overall-goals/{organisations['教育局']}/2022"
    expect(s.post("finance", f"{at}/evaluations", {"agency": "某咨询评估有限公司", "effective_on": "2023-03-01"}), 201)
    [agency] = [row["id"] for row in expect(s.get("finance", "/agencies"), 200) if row["name"] == "某咨询评估有限公司"]
    reviews = f"/agencies/{agency}/quality-reviews"
    named = {"organisation_id": organisations["教育局"], "fiscal_year": 2022, "evaluation_no": 1}
    body = {"overall_engagement": named, "score": "55", "notes": "报告粗糙", "effective_on": "2023-06-01"}
    head = s.ledger.head()
    for engagement, status, code in (
        ({**named, "evaluation_no": 2}, 404, "engagement-not-found"),
        ({**named, "organisation_id": organisations[SCHOOL]}, 404, "engagement-not-found"),  # none commissioned
        ({**named, "organisation_id": agency}, 404, "engagement-not-found"),  # not an organisation
    ):
        problem(s, s.post("finance", reviews, {**body, "overall_engagement": engagement}), status, code, head)
    both = {**body, "project_id": organisations["教育局"], "evaluation_id": "KE-2021-JY-01-1"}
    problem(s, s.post("finance", reviews, both), 422, "invalid-value", head)
    problem(s, s.post("agency", reviews, body), 403, "role-not-allowed", head)
    written = s.post("finance", reviews, body)
    assert [event["type"] for event in expect(written, 201)["events"]] == ["Agency.QualityAssessed"]
    assert written.headers["location"] == f"/objects/{agency}/history"
    problem(
        s, s.post("finance", reviews, {**body, "effective_on": "2023-06-02"}), 409, "already-decided", s.ledger.head()
    )


def test_who_self_evaluates_and_to_whom_results_apply(service: Service, organisations: dict[str, str]) -> None:
    s = service
    school, department = (f"/overall-goals/{organisations[name]}/2022" for name in (SCHOOL, "教育局"))
    body = {"actuals": OVERALL_ACTUALS_EXAMPLE, "effective_on": "2023-02-20"}
    head = s.ledger.head()
    problem(s, s.post("health", f"{school}/self-evaluation", body), 403, "not-own-department", head)
    problem(s, s.post("school", f"{department}/self-evaluation", body), 403, "not-own-department", head)
    problem(s, s.post("finance", f"{department}/self-evaluation", body), 403, "role-not-allowed", head)
    problem(s, s.post("education", f"{department}/self-evaluation", {**body, "effective_on": "2022-11-30"}), 422,
            "invalid-date", head)  # fmt: skip
    unknown = f"/overall-goals/{organisations['卫生健康委员会']}/2022/self-evaluation"
    problem(s, s.post("health", unknown, body), 404, "overall-goals-not-found", head)
    expect(s.post("school", f"{school}/self-evaluation", body), 200)
    result = {"control_figure": "800000.00", "effective_on": "2023-06-01"}
    head = s.ledger.head()
    problem(s, s.post("finance", f"{school}/result-application", result), 409, "overall-results-unit", head)
    problem(s, s.post("finance", f"{department}/result-application", result), 409, "no-results", head)
    adjustment = {"indicators": OVERALL_GOALS_EXAMPLE, "reason": "调整", "effective_on": "2023-03-01"}
    problem(s, s.post("school", f"{school}/adjustments", adjustment), 409, "overall-goals-evaluated", head)
    commission = {"effective_on": "2023-03-01"}
    expect(s.post("finance", f"{department}/evaluations", commission), 201)
    problem(s, s.post("finance", f"{department}/result-application", result), 409, "overall-evaluation-open",
            s.ledger.head())  # fmt: skip


def test_the_rows_and_the_coverage_are_read_as_the_role_may(service: Service, organisations: dict[str, str]) -> None:
    s = service
    last = expect(
        s.post(
            "education",
            f"/overall-goals/{organisations['教育局']}/2022/self-evaluation",
            {"actuals": OVERALL_ACTUALS_EXAMPLE, "effective_on": "2023-02-20"},
        ),
        200,
    )
    everything = expect(s.get("finance", "/overall-goals", fiscal_year=2022, min_position=last["position"]), 200)
    assert [(row["organisation"], row["kind"], row["status"], row["rating"]) for row in everything] == [
        ("教育局", "department", "approved", "优"),
        (SCHOOL, "unit", "approved", "良"),
    ]
    assert everything[0]["self_grade"] == "优"
    assert [row["organisation"] for row in expect(s.get("education", "/overall-goals"), 200)] == ["教育局", SCHOOL]
    assert [row["organisation"] for row in expect(s.get("school", "/overall-goals"), 200)] == [SCHOOL]
    assert expect(s.get("health", "/overall-goals"), 200) == []
    assert [row["organisation"] for row in expect(s.get("auditor", "/overall-goals", kind="unit"), 200)] == [SCHOOL]
    forbidden = s.get("health", "/overall-goals", organisation="教育局")
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "not-own-department")
    assert s.get("agency", "/overall-goals").status_code == 403
    assert s.get(None, "/overall-goals").status_code == 401

    school_row = f"/overall-goals/{organisations[SCHOOL]}/2022"
    assert expect(s.get("education", school_row), 200)["department"] == "教育局"
    assert expect(s.get("school", school_row), 200)["organisation"] == SCHOOL
    department_row = f"/overall-goals/{organisations['教育局']}/2022"
    assert s.get("school", department_row).json()["code"] == "not-own-department"
    assert (
        s.get("finance", f"/overall-goals/{organisations['教育局']}/2023").json()["code"] == "overall-goals-not-found"
    )
    nowhere = "/overall-goals/00000000-0000-5000-8000-000000000000/2022"
    assert s.get("finance", nowhere).json()["code"] == "department-not-found"

    [coverage] = expect(s.get("auditor", "/overall-goals/coverage", fiscal_year=2022), 200)
    assert coverage == {
        "fiscal_year": 2022,
        "departments": 2,
        "units": 1,
        "departments_submitted": 1,
        "departments_approved": 1,
        "units_submitted": 1,
        "units_approved": 1,
        "department_coverage": "50.00",
        "unit_coverage": "100.00",
        "target": "100",
        "met": False,
        "self_evaluated": 1,
        "evaluated": 0,
        "results_applied": 0,
    }
    [empty] = expect(s.get("finance", "/overall-goals/coverage", fiscal_year=2021), 200)
    assert (empty["departments_submitted"], empty["department_coverage"], empty["target"], empty["met"]) == (
        0,
        "0.00",
        "60",
        False,
    )
    assert [row["fiscal_year"] for row in expect(s.get("finance", "/overall-goals/coverage"), 200)] == [2022]
    assert s.get("education", "/overall-goals/coverage").status_code == 403


def test_a_departments_feed_and_trail_hold_its_overall_goals_and_its_units(
    service: Service, organisations: dict[str, str]
) -> None:
    s = service
    caught_up = s.ledger.head() - 1
    events = expect(
        s.get("education", "/events", after=-1, limit=1000, topics="OverallGoals.*", min_position=caught_up), 200
    )["events"]
    assert [event["type"] for event in events] == ["OverallGoals.Submitted", "OverallGoals.Reviewed"] * 2
    own = expect(s.get("school", "/events", after=-1, limit=1000, topics="OverallGoals.*"), 200)["events"]
    assert {event["payload"]["organisation"] for event in own if "organisation" in event["payload"]} == {SCHOOL}
    assert expect(s.get("health", "/events", after=-1, limit=1000, topics="OverallGoals.*"), 200)["events"] == []
    trail = expect(s.get("education", "/trail", event_type="OverallGoals.Reviewed"), 200)["items"]
    assert [item["event_type_zh"] for item in trail] == ["整体绩效目标审核"] * 2
    # The live streams learn whose overall goals are whose from their submission, as from a project's declaration.
    with psycopg.connect(s.ledger.database_url, autocommit=True) as conn:
        tail = [feed.TailEvent(*row) for row in conn.execute(feed.TAIL, (-1, s.ledger.head()), binary=True)]
    owners = {(event.declared_by, event.declared_for) for event in tail if event.type == "OverallGoals.Submitted"}
    assert owners == {("教育局", "教育局"), ("教育局", SCHOOL)}


def test_finance_decides_a_policys_adjustment(service: Service, organisations: dict[str, str]) -> None:
    s = service
    declared = expect(
        s.post(
            "education",
            "/projects",
            {
                "code": "ZC-01",
                "name": "义务教育学生营养改善政策",
                "kind": "policy",
                "department": "教育局",
                "fiscal_year": 2021,
                "budget_book": "general_public",
                "requested": "1000000.00",
                "effective_on": "2020-09-01",
            },
        ),
        201,
    )
    at = f"/projects/{declared['id']}"
    expect(s.post("finance", f"{at}/admission", {"effective_on": "2020-09-30"}), 200)
    expect(s.post("education", f"{at}/goals", {"indicators": GOALS_EXAMPLE, "effective_on": "2020-10-20"}), 200)
    expect(s.post("finance", f"{at}/goals/review", {"rating": "优", "effective_on": "2020-11-05"}), 200)
    expect(s.post("finance", f"{at}/budget-approval", {"amount": "1000000.00", "effective_on": "2021-01-15"}), 200)
    head = s.ledger.head()
    problem(s, s.post("finance", f"{at}/policy-decision", {"effective_on": "2022-07-01"}), 409, "wrong-stage", head)
    actuals = {"I1": 5000, "I2": 200, "I3": 95, "I4": 92}
    expect(
        s.post(
            "education",
            f"{at}/self-evaluation",
            {
                "actuals": actuals,
                "executed": "1000000.00",
                "evidence": [{"digest": "5e" * 32, "type": "self_evaluation_report"}],
                "effective_on": "2022-02-25",
            },
        ),
        200,
    )
    expect(s.post("finance", f"{at}/result-application", {"effective_on": "2022-06-10"}), 200)
    head = s.ledger.head()
    terminate = {"decision": "terminate", "effective_on": "2022-07-01"}
    problem(s, s.post("education", f"{at}/policy-decision", terminate), 403, "role-not-allowed", head)
    problem(s, s.post("finance", f"{at}/policy-decision", terminate), 422, "reason-required", head)
    bad = s.post("finance", f"{at}/policy-decision", {"decision": "abolish", "effective_on": "2022-07-01"})
    assert (bad.status_code, bad.json()["code"]) == (422, "validation-failed")
    decided = expect(s.post("finance", f"{at}/policy-decision", {**terminate, "reason": "到期终止"}), 200)
    assert decided["events"][0]["type"] == "Project.PolicyAdjustmentDecided"
    head = s.ledger.head()
    problem(s, s.post("finance", f"{at}/policy-decision", {"effective_on": "2022-07-02"}), 409, "already-decided", head)
    plain = expect(
        s.post(
            "education",
            "/projects",
            {
                "code": "XM-01",
                "name": "校舍维修",
                "department": "教育局",
                "fiscal_year": 2021,
                "budget_book": "general_public",
                "requested": "100000.00",
                "effective_on": "2020-09-01",
            },
        ),
        201,
    )
    head = s.ledger.head()
    refused = s.post("finance", f"/projects/{plain['id']}/policy-decision", {"effective_on": "2022-07-01"})
    problem(s, refused, 409, "not-a-policy", head)


def test_the_rows_show_the_self_evaluation_due_and_the_schedulers_notices(
    service: Service, organisations: dict[str, str]
) -> None:
    s = service
    evaluated = {"actuals": OVERALL_ACTUALS_EXAMPLE, "effective_on": "2023-02-20"}
    expect(s.post("education", f"/overall-goals/{organisations['教育局']}/2022/self-evaluation", evaluated), 200)
    assert s.ledger.sweep("overall-deadlines", date(2023, 4, 2)).raised == {"OverallGoals.DeadlineMissed": 1}
    assert s.ledger.sweep("overall-deadlines", date(2023, 4, 3)).raised == {}
    rows = expect(s.get("finance", "/overall-goals", fiscal_year=2022, min_position=s.ledger.head() - 1), 200)
    noticed = {
        row["organisation"]: (
            row["self_evaluation_due"],
            row["self_evaluation_approaching_on"],
            row["self_evaluation_missed_on"],
        )
        for row in rows
    }
    assert noticed == {"教育局": ("2023-03-31", None, None), SCHOOL: ("2023-03-31", None, "2023-04-01")}
    school = expect(s.get("school", f"/overall-goals/{organisations[SCHOOL]}/2022"), 200)
    assert school["self_evaluation_missed_on"] == "2023-04-01"
    trail = expect(s.get("school", "/trail", object=school["goals_id"]), 200)["items"]
    assert "整体绩效评价逾期" in [item["event_type_zh"] for item in trail]
