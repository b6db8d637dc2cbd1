"""Third parties over HTTP (issue 17): a department commissions an agency, the agency's steps of 两审一督导 with
their problems, 资格 and the credit code's check, and the public blacklist as a credit platform (信用青海) takes it."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api.conftest import Service
from tests.api.world import build, expect
from tests.credit_codes import credit_code

pytestmark = pytest.mark.db


def problem(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert (body["code"], body["type"]) == (code, f"urn:jixiao:problem:{code}")


def test_a_department_commissions_and_the_agency_submits(service: Service) -> None:
    world = build(service)
    commission = {"agency": "另一评估公司", "effective_on": "2021-09-02"}
    problem(
        service.post("health", f"/projects/{world.implementing}/key-evaluations", commission), 403, "not-own-department"
    )
    problem(
        service.post("education", f"/projects/{world.implementing}/key-evaluations", {"effective_on": "2021-09-02"}),
        422,
        "invalid-value",
    )
    created = expect(service.post("education", f"/projects/{world.implementing}/key-evaluations", commission), 201)
    evaluation = created["events"][0]["references"]["evaluation_id"]
    base = f"/projects/{world.implementing}/key-evaluations/{evaluation}"
    problem(service.post("agency", f"{base}/plan", {"effective_on": "2021-09-05"}), 403, "not-commissioned")
    problem(
        service.post("finance", f"{base}/plan-review", {"approved": True, "effective_on": "2021-09-05"}),
        409,
        "plan-not-submitted",
    )
    problem(service.post("education", f"{base}/plan", {"effective_on": "2021-09-05"}), 403, "role-not-allowed")
    supervision = {"notes": "督导", "findings": ["样本不足"], "effective_on": "2021-09-06"}
    problem(service.post("finance", f"{base}/supervision", supervision), 409, "plan-not-reviewed")
    history = expect(service.get("auditor", f"/objects/{world.implementing}/history"), 200)
    commissions = [entry for entry in history if entry["event_type"] == "Project.KeyEvaluationCommissioned"]
    assert commissions[-1]["principal"]["organisation"] == "教育局"  # the department commissioned it


def test_an_agency_registers_with_a_valid_credit_code_and_a_suspended_one_is_not_commissioned(service: Service) -> None:
    world = build(service)
    body = {
        "name": "新评估公司",
        "credentials": "甲级",
        "credit_code": "91632800864542843G",
        "effective_on": "2020-08-01",
    }
    problem(service.post("finance", "/agencies", body), 422, "invalid-credit-code")
    without = {"name": "新评估公司", "credentials": "甲级", "effective_on": "2020-08-01"}
    assert service.post("finance", "/agencies", without).status_code == 422  # the code is required
    suspend = {"qualification": "suspended", "effective_on": "2021-08-01"}
    problem(service.post("finance", f"/agencies/{world.other_agency}/qualification", suspend), 422, "reason-required")
    expect(service.post("finance", f"/agencies/{world.other_agency}/qualification", {**suspend, "reason": "年检"}), 200)
    commission = {"agency": "另一评估公司", "effective_on": "2021-09-02"}
    problem(
        service.post("finance", f"/projects/{world.implementing}/key-evaluations", commission),
        409,
        "agency-not-qualified",
    )
    quality = {
        "project_id": world.implementing,
        "evaluation_id": "KE-2021-JY-01-9",
        "score": "80",
        "effective_on": "2022-01-05",
    }
    problem(service.post("finance", f"/agencies/{world.agency}/quality-reviews", quality), 404, "engagement-not-found")


def test_the_public_blacklist_csv_gives_what_a_credit_platform_takes(service: Service) -> None:
    world = build(service)
    misconduct = {
        "kind": "untrue_results",
        "description": "评价结果不实",
        "engagements": [{"project_id": world.implementing, "evaluation_id": world.evaluation}],
        "evidence": ["a" * 64],
        "effective_on": "2022-01-05",
    }
    expect(service.post("finance", f"/agencies/{world.agency}/misconduct", misconduct), 201)
    private = {"public": False, "reason": "评价结果不实", "effective_on": "2022-01-10"}
    problem(service.post("finance", f"/agencies/{world.agency}/blacklisting", private), 409, "blacklisting-public")
    listed = expect(
        service.post(
            "finance",
            f"/agencies/{world.agency}/blacklisting",
            {"reason": "评价结果不实", "effective_on": "2022-01-10"},
        ),
        201,
    )
    assert {event["type"] for event in listed["events"]} == {"Agency.Blacklisted", "Project.KeyEvaluationVoided"}
    response = service.get(None, "/blacklist.csv", min_position=listed["position"])
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with its BOM, as Excel wants it
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["第三方机构"] == "某咨询评估有限公司"
    assert row["统一社会信用代码"] == "91632800864542843F"
    assert row["失信行为（认定事实）"] == "评价结果不实：评价结果不实"
    assert row["认定机关"] == "市财政局"
    assert (row["列入日期"], row["期满日期"]) == ("2022-01-10", "2025-01-10")
    as_json = expect(service.get(None, "/blacklist"), 200)
    assert (as_json[0]["credit_code"], as_json[0]["authority"]) == ("91632800864542843F", "市财政局")


def test_a_credit_code_held_by_another_agency_is_a_409_problem_naming_it(service: Service) -> None:
    build(service)
    head = service.ledger.head()
    body = {"name": "第三家评估公司", "credentials": "乙级", "effective_on": "2020-08-01"}
    refused = service.post("finance", "/agencies", {**body, "credit_code": "91632800864542843f"})
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == "urn:jixiao:problem:credit-code-taken"
    assert "某咨询评估有限公司" in refused.json()["detail"]
    assert service.ledger.head() == head
    [held] = expect(service.get("finance", "/agencies", credit_code=" 9163 2800 8645 4284 3f "), 200)
    assert held["name"] == "某咨询评估有限公司"
    assert expect(service.get("finance", "/agencies", credit_code=credit_code(7)), 200) == []
    assert service.get("finance", "/agencies", credit_code="123").status_code == 422
    expect(service.post("finance", "/agencies", {**body, "credit_code": credit_code(7)}), 201)
