"""The department's ex-ante assessment over HTTP: commissioned, filed and reviewed, each refusal with its problem type
and status, who may do what, and what the project's status then shows."""

from __future__ import annotations

from typing import Any

import pytest

from api.schemas.ex_ante import EX_ANTE_REPORT_EXAMPLE
from tests.api.conftest import Service

pytestmark = pytest.mark.db

REPORT = EX_ANTE_REPORT_EXAMPLE


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert response.json()["type"].endswith(code)


def test_a_department_files_finance_reviews_and_the_project_is_admitted(service: Service) -> None:
    s = service
    for name in ("教育局", "卫生健康委员会"):
        ok(s.post("finance", "/departments", {"name": name, "effective_on": "2020-08-01"}), 201)
    for name, credit_code in (("某咨询评估有限公司", "91632800864542843F"), ("另一评估公司", "916300001036648540")):
        registration = {"name": name, "credit_code": credit_code, "credentials": "甲级", "effective_on": "2020-08-01"}
        ok(s.post("finance", "/agencies", registration), 201)
    declared = {
        "code": "JY-02",
        "name": "义务教育学生营养改善计划",
        "department": "教育局",
        "fiscal_year": 2021,
        "budget_book": "general_public",
        "requested": "4800000.00",
        "new_major": True,
        "effective_on": "2020-09-01",
    }
    pid = ok(s.post("education", "/projects", declared), 201)["id"]
    base = f"/projects/{pid}"

    # 委托: the project's own department only, an agency registered.
    commission = {"agency": "另一评估公司", "effective_on": "2020-09-03"}
    refused(s.post("health", f"{base}/ex-ante-agency", commission), 403, "not-own-department")
    refused(s.post("finance", f"{base}/ex-ante-agency", commission), 403, "role-not-allowed")
    refused(
        s.post("education", f"{base}/ex-ante-agency", {**commission, "agency": "无此机构"}), 404, "agency-not-found"
    )
    ok(s.post("education", f"{base}/ex-ante-agency", commission))

    # 出具报告: the department, or the agency it commissioned — not another, not finance; the report as evidence.
    filing = {**REPORT, "effective_on": "2020-09-10"}
    refused(s.post("agency", f"{base}/ex-ante-reports", filing), 403, "not-ex-ante-agency")
    refused(s.post("finance", f"{base}/ex-ante-reports", filing), 403, "role-not-allowed")
    refused(s.post("health", f"{base}/ex-ante-reports", filing), 403, "not-own-department")
    ok(s.post("education", f"{base}/ex-ante-agency", {**commission, "agency": "某咨询评估有限公司"}))
    refused(s.post("agency", f"{base}/ex-ante-reports", {**filing, "evidence": []}), 422, "ex-ante-report-required")
    refused(
        s.post("agency", f"{base}/ex-ante-reports", {**filing, "conclusion": "reject"}),
        422,
        "ex-ante-conclusion-mismatch",
    )
    short = {**filing, "annual_investment": {"2021": "1000000.00", "2022": "5000000.00"}}
    refused(s.post("agency", f"{base}/ex-ante-reports", short), 409, "ex-ante-investment-short")
    unfunded = {**filing, "funding_sources": {"市级财政": "4800000.00"}}
    refused(s.post("agency", f"{base}/ex-ante-reports", unfunded), 409, "ex-ante-funding-mismatch")
    refused(
        s.post("agency", f"{base}/ex-ante-reports", {**filing, "annual_investment": {"next": "6000000.00"}}),
        422,
        "validation-failed",
    )
    filed = ok(s.post("agency", f"{base}/ex-ante-reports", filing), 201)
    refused(s.post("education", f"{base}/ex-ante-reports", filing), 409, "ex-ante-under-review")
    status = ok(s.get("finance", base, min_position=filed["position"]))
    assert (status["ex_ante_review"], status["ex_ante_filed_by"], status["ex_ante_agency"]) == (
        "filed",
        "某咨询评估有限公司",
        "某咨询评估有限公司",
    )
    assert status["ex_ante_review_zh"] == "已报送待审核"
    assert status["ex_ante_led_by"] is None
    refused(s.post("finance", f"{base}/admission", {"effective_on": "2020-09-30"}), 409, "ex-ante-not-reviewed")

    # 审核: finance alone; a return with its reasons, the department files again, the approval lets it in.
    review = f"{base}/ex-ante-reports/1/review"
    refused(s.post("education", review, {"approved": True, "effective_on": "2020-09-15"}), 403, "role-not-allowed")
    refused(s.post("finance", review, {"approved": False, "effective_on": "2020-09-15"}), 422, "reason-required")
    refused(
        s.post("finance", f"{base}/ex-ante-reports/2/review", {"approved": True, "effective_on": "2020-09-15"}),
        404,
        "ex-ante-filing-not-found",
    )
    ok(s.post("finance", review, {"approved": False, "reason": "分年投资额依据不足", "effective_on": "2020-09-15"}))
    again = ok(s.post("education", f"{base}/ex-ante-reports", {**filing, "effective_on": "2020-09-18"}), 201)
    assert again["events"][0]["references"]["filing_no"] == 2
    approved = ok(
        s.post("finance", f"{base}/ex-ante-reports/2/review", {"approved": True, "effective_on": "2020-09-22"})
    )
    status = ok(s.get("education", base, min_position=approved["position"]))
    assert (status["ex_ante_led_by"], status["ex_ante_conclusion"], status["ex_ante_review"]) == (
        "department",
        "support",
        "approved",
    )
    assert (status["ex_ante_filed_by"], status["ex_ante_led_by_zh"]) == ("教育局", "部门（单位）开展、财政审核")
    refused(s.post("finance", review, {"approved": True, "effective_on": "2020-09-22"}), 409, "already-decided")
    ok(s.post("finance", f"{base}/admission", {"effective_on": "2020-09-30"}))

    state = ok(s.get("auditor", f"/objects/{pid}/state"))["state"]
    assert state["ex_ante"]["led_by"] == "department"
    assert [item["status"] for item in state["ex_ante_filings"]] == ["returned", "approved"]
    trail = ok(s.get("auditor", "/trail", object=pid, limit=20, min_position=approved["position"]))
    assert [item["event_type_zh"] for item in trail["items"]][:7] == [
        "项目申报",
        "委托第三方机构开展事前绩效评估",
        "委托第三方机构开展事前绩效评估",
        "报送事前绩效评估报告",
        "事前绩效评估报告审核",
        "报送事前绩效评估报告",
        "事前绩效评估报告审核",
    ]


def test_a_rejecting_conclusion_approved_rejects_the_project_and_finance_may_still_lead(service: Service) -> None:
    s = service
    ok(s.post("finance", "/departments", {"name": "教育局", "effective_on": "2020-08-01"}), 201)
    projects = []
    for code in ("JY-03", "JY-04"):
        body = {
            "code": code,
            "name": "智慧校园",
            "department": "教育局",
            "fiscal_year": 2021,
            "budget_book": "general_public",
            "requested": "4800000.00",
            "new_major": True,
            "effective_on": "2020-09-01",
        }
        projects.append(ok(s.post("education", "/projects", body), 201)["id"])
    rejecting = {**REPORT, "scores": dict.fromkeys(REPORT["scores"], 10), "conclusion": "reject"}
    ok(
        s.post("education", f"/projects/{projects[0]}/ex-ante-reports", {**rejecting, "effective_on": "2020-09-10"}),
        201,
    )
    reviewed = ok(
        s.post(
            "finance",
            f"/projects/{projects[0]}/ex-ante-reports/1/review",
            {"approved": True, "effective_on": "2020-09-20"},
        )
    )
    status = ok(s.get("finance", f"/projects/{projects[0]}", min_position=reviewed["position"]))
    assert (status["stage"], status["ex_ante_conclusion"]) == ("rejected", "reject")
    refused(s.post("finance", f"/projects/{projects[0]}/admission", {"effective_on": "2020-09-30"}), 409, "wrong-stage")

    assessed = ok(
        s.post(
            "finance",
            f"/projects/{projects[1]}/ex-ante-assessment",
            {"scores": REPORT["scores"], "evidence": REPORT["evidence"], "effective_on": "2020-09-20"},
        )
    )
    status = ok(s.get("finance", f"/projects/{projects[1]}", min_position=assessed["position"]))
    assert (status["ex_ante_led_by"], status["ex_ante_review"], status["ex_ante_filed_by"]) == ("finance", None, None)
    refused(
        s.post("education", f"/projects/{projects[1]}/ex-ante-reports", {**REPORT, "effective_on": "2020-09-21"}),
        409,
        "already-decided",
    )
