"""A small recorded world for API tests: two departments, two agencies, projects at useful stages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.schemas.projects import GOALS_EXAMPLE
from tests.api.conftest import Service
from tests.credit_codes import code_of

GOALS = GOALS_EXAMPLE  # the goals the API documents


@dataclass(frozen=True)
class World:
    education: str  # department ids
    health: str
    agency: str  # agency ids
    other_agency: str
    implementing: str  # an education project with its budget approved, goals disclosed, a key evaluation open
    evaluation: str  # that key evaluation (commissioned to 某咨询评估有限公司)
    declared: str  # a health project just declared


def expect(response: Any, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def build(s: Service) -> World:
    education = expect(s.post("finance", "/departments", {"name": "教育局", "effective_on": "2020-08-01"}), 201)["id"]
    health = expect(s.post("finance", "/departments", {"name": "卫生健康委员会", "effective_on": "2020-08-01"}), 201)[
        "id"
    ]
    agency = expect(
        s.post(
            "finance",
            "/agencies",
            {
                "name": "某咨询评估有限公司",
                "credentials": "甲级",
                "credit_code": "91632800864542843F",
                "effective_on": "2020-08-01",
            },
        ),
        201,
    )["id"]
    other = expect(
        s.post(
            "finance",
            "/agencies",
            {
                "name": "另一评估公司",
                "credentials": "乙级",
                "credit_code": code_of("另一评估公司"),
                "effective_on": "2020-08-01",
            },
        ),
        201,
    )["id"]
    pid = expect(
        s.post(
            "education",
            "/projects",
            {
                "code": "JY-01",
                "name": "营养改善",
                "department": "教育局",
                "fiscal_year": 2021,
                "budget_book": "general_public",
                "requested": "1000000.00",
                "effective_on": "2020-09-01",
            },
        ),
        201,
    )["id"]
    expect(s.post("finance", f"/projects/{pid}/admission", {"effective_on": "2020-09-30"}), 200)
    expect(s.post("education", f"/projects/{pid}/goals", {"indicators": GOALS, "effective_on": "2020-10-20"}), 200)
    expect(s.post("finance", f"/projects/{pid}/goals/review", {"rating": "优", "effective_on": "2020-11-05"}), 200)
    expect(
        s.post("finance", f"/projects/{pid}/budget-approval", {"amount": "1000000.00", "effective_on": "2021-01-15"}),
        200,
    )
    expect(s.post("finance", f"/projects/{pid}/disclosures", {"what": "goals", "effective_on": "2021-01-20"}), 201)
    commissioned = expect(
        s.post(
            "finance",
            f"/projects/{pid}/key-evaluations",
            {"agency": "某咨询评估有限公司", "effective_on": "2021-09-01"},
        ),
        201,
    )
    evaluation = commissioned["events"][0]["references"]["evaluation_id"]
    base = f"/projects/{pid}/key-evaluations/{evaluation}"
    # 两审一督导 in full, up to the score: the agency's plan and report (typed documents, cited by the submission and
    # by finance's review of it), finance's reviews and supervision, the answer
    plan, report = (
        {"digest": digest * 32, "type": kind}
        for digest, kind in (("1a", "evaluation_plan"), ("2b", "evaluation_report"))
    )
    expect(s.post("agency", f"{base}/plan", {"evidence": [plan], "effective_on": "2021-09-05"}), 200)
    expect(
        s.post("finance", f"{base}/plan-review", {"approved": True, "evidence": [plan], "effective_on": "2021-09-10"}),
        200,
    )
    supervision = {"notes": "现场督导", "findings": ["样本不足"], "effective_on": "2021-10-10"}
    expect(s.post("finance", f"{base}/supervision", supervision), 201)
    expect(s.post("agency", f"{base}/supervision/1/answer", {"answer": "已补充", "effective_on": "2021-10-15"}), 200)
    expect(s.post("agency", f"{base}/report", {"evidence": [report], "effective_on": "2021-12-05"}), 200)
    expect(
        s.post(
            "finance", f"{base}/report-review", {"approved": True, "evidence": [report], "effective_on": "2021-12-10"}
        ),
        200,
    )
    declared = expect(
        s.post(
            "health",
            "/projects",
            {
                "code": "WJ-01",
                "name": "基本公共卫生服务",
                "department": "卫生健康委员会",
                "fiscal_year": 2021,
                "budget_book": "general_public",
                "requested": "3200000.00",
                "effective_on": "2020-09-01",
            },
        ),
        201,
    )
    expect(s.get("finance", "/readyz", min_position=declared["position"]), 200)  # the read models have it all
    return World(education, health, agency, other, pid, evaluation, declared["id"])
