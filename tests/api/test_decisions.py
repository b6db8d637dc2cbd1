"""通报, 表彰 and 约谈 over HTTP: finance records them citing the ranking, the department reports its rectification
and finance accepts it; the ranking shows what was decided; the list is scoped to who reads. Refusals are
problem+json with a stable type, and record nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain.organisations import ASSESSMENT_DIMENSIONS
from tests.api.conftest import Service
from tests.api.world import expect

pytestmark = pytest.mark.db


def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"urn:jixiao:problem:{code}"


@pytest.fixture
def ranked(service: Service) -> dict[str, str]:
    """教育局 and 卫生健康委员会, assessed for 2021 (教育局 higher)."""
    ids = {}
    for name, score in (("教育局", "90"), ("卫生健康委员会", "70")):
        ids[name] = expect(service.post("finance", "/departments", {"name": name, "effective_on": "2020-08-01"}), 201)[
            "id"
        ]
        expect(
            service.post(
                "finance",
                f"/departments/{ids[name]}/assessments",
                {
                    "fiscal_year": 2021,
                    "scores": dict.fromkeys(ASSESSMENT_DIMENSIONS, score),
                    "effective_on": "2022-04-01",
                },
            ),
            200,
        )
    return ids


def test_an_interview_its_rectification_and_the_ranking(service: Service, ranked: dict[str, str]) -> None:
    commended = expect(
        service.post(
            "finance",
            "/decisions",
            {
                "kind": "commendation",
                "organisation": "教育局",
                "basis": "ranking",
                "fiscal_year": 2021,
                "reason": "排名第一",
                "effective_on": "2022-06-10",
            },
        ),
        201,
    )
    interviewed = service.post(
        "finance",
        "/decisions",
        {
            "kind": "interview",
            "organisation": "卫生健康委员会",
            "basis": "ranking",
            "fiscal_year": 2021,
            "reason": "排名末位",
            "evidence": ["ab" * 32],
            "effective_on": "2022-06-10",
        },
    )
    did = expect(interviewed, 201)["id"]
    assert interviewed.headers["location"] == f"/objects/{did}/history"
    ranking = expect(
        service.get("auditor", "/departments/ranking", fiscal_year=2021, min_position=interviewed.json()["position"]),
        200,
    )
    assert [(row["department"], row["rank"], row["decisions"]) for row in ranking] == [
        ("教育局", 1, ["commendation"]),
        ("卫生健康委员会", 2, ["interview"]),
    ]
    listed = expect(service.get("finance", "/decisions", fiscal_year=2021), 200)
    assert [(row["subject"], row["kind_zh"], row["rectification_due"]) for row in listed] == [
        ("教育局", "表彰", None),
        ("卫生健康委员会", "约谈", "2022-07-10"),
    ]
    assert listed[1]["overdue"] is True  # the service's today is after 2022-07-10 and nothing was reported
    own = expect(service.get("health", "/decisions"), 200)
    assert [row["decision_id"] for row in own] == [did]
    assert expect(service.get("education", "/decisions"), 200)[0]["decision_id"] == commended["id"]
    problem(service.get("education", "/decisions", organisation="卫生健康委员会"), 403, "not-own-department")
    problem(service.get("agency", "/decisions"), 403, "role-not-allowed")
    # The department's trail holds the decisions about it, not another's.
    trail = expect(service.get("health", "/trail", object=did), 200)["items"]
    assert [(item["event_type"], item["reason"]) for item in trail] == [("Decision.Recorded", "排名末位")]
    assert expect(service.get("education", "/trail", object=did), 200)["items"] == []
    problem(service.get(None, "/decisions"), 401, "unauthenticated")

    head = service.ledger.head()
    report = {"measures": "已整改", "effective_on": "2022-07-01"}
    problem(service.post("education", f"/decisions/{did}/rectification/report", report), 403, "not-own-department")
    problem(
        service.post("finance", f"/decisions/{did}/rectification/decision", {"accept": True}), 409, "already-decided"
    )
    assert service.ledger.head() == head
    expect(service.post("health", f"/decisions/{did}/rectification/report", report), 200)
    accepted = expect(
        service.post(
            "finance", f"/decisions/{did}/rectification/decision", {"accept": True, "effective_on": "2022-07-05"}
        ),
        200,
    )
    [row] = expect(service.get("health", "/decisions", min_position=accepted["position"]), 200)
    assert (row["rectification_status"], row["reports"], row["accepted_on"], row["overdue"]) == (
        "accepted",
        1,
        "2022-07-05",
        False,
    )


def test_refusals_are_problems_and_record_nothing(service: Service, ranked: dict[str, str]) -> None:
    head = service.ledger.head()
    body = {"kind": "praise", "organisation": "教育局", "basis": "ranking", "fiscal_year": 2021, "reason": "第一"}
    problem(service.post("education", "/decisions", body), 403, "role-not-allowed")
    problem(service.post("finance", "/decisions", {**body, "fiscal_year": 2020}), 404, "decision-basis-not-found")
    problem(service.post("finance", "/decisions", {**body, "organisation": "不存在"}), 404, "department-not-found")
    problem(service.post("finance", "/decisions", {**body, "reason": ""}), 422, "reason-required")
    assert service.post("finance", "/decisions", {**body, "kind": "warning"}).status_code == 422
    problem(
        service.post(
            "finance", "/decisions/00000000-0000-0000-0000-000000000000/rectification/decision", {"accept": True}
        ),
        404,
        "decision-not-found",
    )
    assert service.ledger.head() == head
    expect(service.post("finance", "/decisions", body), 201)
    problem(service.post("finance", "/decisions", body), 409, "already-exists")
    problem(service.post("finance", "/decisions", {**body, "kind": "criticism"}), 409, "contradictory-decision")
