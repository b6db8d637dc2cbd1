"""信息公开 over HTTP: the duties read by who may read them, filtered; an organisation discloses its overall goals; the
public reads what was disclosed and never a field that was not — refusals are problem+json and record nothing."""

from __future__ import annotations

from typing import Any

import pytest

from api.schemas.overall import OVERALL_GOALS_EXAMPLE
from api.schemas.projects import GOALS_EXAMPLE
from tests.api.conftest import ROLES, Service
from tests.api.world import World, build, expect

pytestmark = pytest.mark.db

SECRET_FIXES = "内部审核意见-勿公开-7Q"  # finance's review notes on goals never disclosed
SECRET_REASON = "执行偏差原因-内部-9Z"  # a monitoring report's shortfall reasons


def problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"urn:jixiao:problem:{code}"


@pytest.fixture
def world(service: Service) -> World:
    return build(service)


def undisclosed_project(s: Service) -> str:
    """JY-02 of 教育局: goals rated 良 with review notes, the budget approved on 2021-01-15, a monitoring report —
    and its goals never disclosed (due 2021-02-04)."""
    body = {
        "code": "JY-02",
        "name": "校舍维修",
        "department": "教育局",
        "fiscal_year": 2021,
        "budget_book": "general_public",
        "requested": "500000.00",
        "effective_on": "2020-09-01",
    }
    pid: str = expect(s.post("education", "/projects", body), 201)["id"]
    expect(s.post("finance", f"/projects/{pid}/admission", {"effective_on": "2020-09-30"}), 200)
    expect(
        s.post("education", f"/projects/{pid}/goals", {"indicators": GOALS_EXAMPLE, "effective_on": "2020-10-20"}), 200
    )
    review = {"rating": "良", "required_fixes": SECRET_FIXES, "effective_on": "2020-11-05"}
    expect(s.post("finance", f"/projects/{pid}/goals/review", review), 200)
    expect(
        s.post("finance", f"/projects/{pid}/budget-approval", {"amount": "500000.00", "effective_on": "2021-01-15"}),
        200,
    )
    report = {
        "month": 4,
        "executed": "50000.00",
        "indicator_progress": {},
        "shortfall_reasons": SECRET_REASON,
        "effective_on": "2021-05-05",
    }
    expect(s.post("education", f"/projects/{pid}/monitoring-reports", report), 201)
    return pid


def test_the_duties_as_finance_departments_and_the_public_read_them(service: Service, world: World) -> None:
    s = service
    hidden = undisclosed_project(s)
    head = s.ledger.head()
    every = expect(s.get("finance", "/disclosures", min_position=head - 1), 200)
    kinds = {(row["kind"], row["code"]): row for row in every}
    assert set(kinds) == {("project_goals", "JY-01"), ("project_goals", "JY-02"), ("congress_goals", None)}
    shown, owed = kinds[("project_goals", "JY-01")], kinds[("project_goals", "JY-02")]
    assert (shown["due_on"], shown["done_on"], shown["late"], shown["overdue"]) == (
        "2021-02-04",
        "2021-01-20",
        False,
        False,
    )
    assert (shown["done_by_role"], shown["done_by_organisation"]) == ("finance", "市财政局")
    assert [item["key"] for item in shown["content"]["indicators"]] == [item["key"] for item in GOALS_EXAMPLE]
    assert (owed["due_on"], owed["done_on"], owed["content"], owed["overdue"]) == ("2021-02-04", None, None, True)
    congress = kinds[("congress_goals", None)]  # opened by the year's first goals approved: finance's own
    assert (congress["due_on"], congress["organisation"], congress["overdue"]) == ("2020-12-31", None, True)

    # Filters.
    assert [row["code"] for row in expect(s.get("auditor", "/disclosures", owed=True, kind="project_goals"), 200)] == [
        "JY-02"
    ]
    assert [row["code"] for row in expect(s.get("auditor", "/disclosures", late=False), 200)] == ["JY-01"]
    assert {row["kind"] for row in expect(s.get("auditor", "/disclosures", overdue=True), 200)} == {
        "project_goals",
        "congress_goals",
    }
    assert [row["kind"] for row in expect(s.get("finance", "/disclosures", object_id=hidden), 200)] == ["project_goals"]
    assert expect(s.get("finance", "/disclosures", fiscal_year=2022), 200) == []

    # A department reads its own (not the congress's); another department nothing of it.
    assert {row["code"] for row in expect(s.get("education", "/disclosures"), 200)} == {"JY-01", "JY-02"}
    assert expect(s.get("health", "/disclosures"), 200) == []
    problem(s.get("health", "/disclosures", organisation="教育局"), 403, "not-own-department")
    assert s.get("finance", "/disclosures", kind="nonsense").status_code == 422

    # The public: what was disclosed, and only that.
    for reader in (None, "agency"):
        public = s.get(reader, "/disclosures")
        [row] = expect(public, 200)
        assert set(row) == {
            "object_id",
            "kind",
            "kind_zh",
            "fiscal_year",
            "department",
            "unit",
            "organisation",
            "code",
            "name",
            "subject_id",
            "done_on",
            "content",
        }
        assert (row["code"], row["kind"]) == ("JY-01", "project_goals")
        for never in (SECRET_FIXES, SECRET_REASON, "JY-02", hidden, ROLES["finance"][0], "congress", "due_on", "late"):
            assert never not in public.text, never
        for name in ("owed", "late", "overdue"):
            problem(s.get(reader, "/disclosures", **{name: "true"}), 403, "role-not-allowed")
    # Nor through a project's own page or the public feed.
    assert SECRET_FIXES not in s.get(None, "/projects").text
    assert s.get(None, f"/projects/{hidden}").status_code == 404
    feed = s.get(None, "/events", after=-1, limit=1000)
    assert {event["type"] for event in expect(feed, 200)["events"]} == {"Project.Disclosed"}
    assert SECRET_FIXES not in feed.text
    assert SECRET_REASON not in feed.text


def test_an_organisation_discloses_its_overall_goals(service: Service, world: World) -> None:
    s = service
    overall = f"/overall-goals/{world.education}/2022"
    disclose = f"/disclosures/overall-goals/{world.education}/2022"
    expect(s.post("education", overall, {"indicators": OVERALL_GOALS_EXAMPLE, "effective_on": "2021-10-15"}), 200)
    head = s.ledger.head()
    problem(s.post("education", disclose, {"effective_on": "2021-10-20"}), 409, "overall-goals-not-approved")
    review = {"rating": "中", "required_fixes": SECRET_FIXES, "effective_on": "2021-10-20"}
    assert s.ledger.head() == head
    expect(s.post("finance", f"{overall}/review", review), 200)
    expect(s.post("education", overall, {"indicators": OVERALL_GOALS_EXAMPLE, "effective_on": "2021-10-22"}), 200)
    approved = expect(s.post("finance", f"{overall}/review", {"rating": "优", "effective_on": "2021-10-25"}), 200)
    assert [event["type"] for event in approved["events"]] == ["OverallGoals.Reviewed", "DisclosureDuty.Opened"]
    [owed] = expect(s.get("education", "/disclosures", kind="overall_goals", min_position=approved["position"]), 200)
    assert (owed["due_on"], owed["done_on"], owed["organisation"]) == ("2021-11-14", None, "教育局")
    assert expect(s.get(None, "/disclosures", kind="overall_goals"), 200) == []  # approved, not yet disclosed

    head = s.ledger.head()
    problem(s.post("health", disclose, {"effective_on": "2021-11-01"}), 403, "not-own-department")
    problem(s.post("auditor", disclose, {"effective_on": "2021-11-01"}), 403, "role-not-allowed")
    problem(s.post("finance", f"/disclosures/overall-goals/{world.health}/2022", {}), 404, "overall-goals-not-found")
    problem(s.post("education", f"/disclosures/overall-goals/{world.agency}/2022", {}), 404, "department-not-found")
    assert s.ledger.head() == head
    done = s.post("education", disclose, {"effective_on": "2021-11-01", "reason": "随部门预算公开"})
    written = expect(done, 201)
    assert done.headers["location"] == f"/disclosures?object_id={written['id']}"
    problem(s.post("education", disclose, {"effective_on": "2021-11-02"}), 409, "already-decided")
    public = s.get(None, "/disclosures", kind="overall_goals", min_position=written["position"])
    [row] = expect(public, 200)
    assert (row["organisation"], row["done_on"]) == ("教育局", "2021-11-01")
    assert [item["level1"] for item in row["content"]["indicators"]] == [
        item["level1"] for item in OVERALL_GOALS_EXAMPLE
    ]
    assert SECRET_FIXES not in public.text  # the review that returned them is not disclosed
    assert "DisclosureDuty.Disclosed" in {
        event["type"] for event in expect(s.get(None, "/events", after=-1, limit=1000), 200)["events"]
    }
    # The department's trail holds its duty's events; another department's does not.
    trail = expect(s.get("education", "/trail", object=written["id"]), 200)["items"]
    assert [item["event_type"] for item in trail] == ["DisclosureDuty.Opened", "DisclosureDuty.Disclosed"]
    assert expect(s.get("health", "/trail", object=written["id"]), 200)["items"] == []
