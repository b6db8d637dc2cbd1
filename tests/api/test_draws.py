"""The re-evaluation draw over HTTP: each step's problem types, the year's draws as recorded (the failed ones kept),
and everyone — the public too — following the draw in the feed."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pytest

from tests.api.conftest import Service
from tests.api.test_events import feed_all
from tests.conftest import EDUCATION, act, report
from tests.ledger.application.test_application import approved_project

pytestmark = pytest.mark.db

SECRET = hashlib.sha256("财政局抽查密钥 HTTP".encode()).hexdigest()
COMMITMENT = hashlib.sha256(bytes.fromhex(SECRET)).hexdigest()


def problem(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["type"].endswith(code)
    if field is not None:
        assert body["field"] == field


def test_a_failed_draw_for_everyone_to_see_and_its_problem_types(service: Service) -> None:
    ledger = service.ledger
    for i in range(3):
        pid = approved_project(ledger, code=f"H-{i}", goals_disclosed=False)
        ledger.self_evaluate(
            act(EDUCATION, date(2022, 2, 20), evidence=[report("self_evaluation_report")]),
            pid,
            {"I1": "5000", "I2": "200", "I3": "92", "I4": "90"},
            "1000000.00",
        )
    path = "/re-evaluation-samples/2021"
    problem(
        service.post("finance", f"{path}/announcement", {"commitment": SECRET[:10]}),
        422,
        "invalid-draw-value",
        "commitment",
    )
    announced = service.post(
        "finance", f"{path}/announcement", {"commitment": COMMITMENT, "effective_on": "2022-04-01"}
    )
    assert announced.status_code == 201, announced.text
    assert announced.headers["location"] == path
    problem(
        service.post("finance", f"{path}/reveal", {"secret": SECRET, "effective_on": "2022-04-02"}),
        409,
        "contribution-missing",
    )
    problem(
        service.post("auditor", f"{path}/contribution", {"contribution": "ab" * 16, "effective_on": "2022-04-06"}),
        422,
        "invalid-draw-value",
        "contribution",
    )
    problem(
        service.post("finance", f"{path}/announcement", {"commitment": "11" * 32, "effective_on": "2022-04-02"}),
        409,
        "draw-open",
    )
    # nobody contributes; the scheduler records the failed draw after its day
    assert ledger.sweep("draw-deadlines", date(2022, 4, 19)).raised == {"ReEvaluationSample.Failed": 1}
    problem(
        service.post("auditor", f"{path}/contribution", {"contribution": "ab" * 32, "effective_on": "2022-04-14"}),
        409,
        "draw-not-open",
    )
    sample = service.get("education", path).json()  # any reader
    assert sample["drawn"] is False
    assert [(d["status"], d["status_zh"], d["missing"], d["missing_zh"]) for d in sample["draws"]] == [
        ("failed", "逾期未揭示，抽签失败", "contribution", "审计随机数未提交")
    ]
    public, _ = feed_all(service, None, limit=100)
    assert [event["type"] for event in public] == ["ReEvaluationSample.Announced", "ReEvaluationSample.Failed"]
    assert public[0]["principal"]["id"] is None
    assert public[1]["payload"]["missing"] == "contribution"
