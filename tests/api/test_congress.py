"""报送人大 over HTTP: finance submits a year's approved goals with the budget draft in one event; the refusals are
problem+json with a stable type and record nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Service
from tests.api.world import World, build, expect

pytestmark = pytest.mark.db


def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["type"] == f"urn:jixiao:problem:{code}"


@pytest.fixture
def world(service: Service) -> World:
    return build(service)


def test_finance_submits_the_goals_to_the_congress(service: Service, world: World) -> None:
    body = {"fiscal_year": 2021, "what": "goals", "project_ids": [world.implementing], "effective_on": "2020-12-28"}
    head = service.ledger.head()
    problem(service.post("education", "/congress-submissions", body), 403, "role-not-allowed")
    problem(service.post("finance", "/congress-submissions", {**body, "what": "results"}), 409, "no-results")
    problem(
        service.post("finance", "/congress-submissions", {**body, "project_ids": [world.declared]}),
        409,
        "goals-not-approved",
    )
    assert service.post("finance", "/congress-submissions", {**body, "project_ids": []}).status_code == 422
    assert service.ledger.head() == head
    submitted = service.post("finance", "/congress-submissions", body)
    written = expect(submitted, 201)
    assert submitted.headers["location"] == f"/objects/{written['id']}/history"
    [event, met] = written["events"]
    assert (event["type"], met["type"]) == ("CongressSubmission.Submitted", "DisclosureDuty.Fulfilled")
    problem(service.post("finance", "/congress-submissions", body), 409, "already-exists")
