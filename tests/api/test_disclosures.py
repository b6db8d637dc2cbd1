"""信息公开 over HTTP: the duties read by who may read them, filtered; an organisation discloses its overall goals; the
public reads what was disclosed and never a field that was not — refusals are problem+json and record nothing."""

from __future__ import annotations

import io
import zipfile
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


SECRET_TARGET = 7777  # a target adjusted after the goals were disclosed


def settled(s: Service, written: dict[str, Any]) -> None:
    """Wait until the read models hold what ``written`` wrote."""
    expect(s.get("finance", "/readyz", min_position=written["position"]), 200)


def public_texts(s: Service, pid: str) -> list[str]:
    """Everything the public can read of the projects, by every route and format an attacker would try."""
    texts = [
        s.get(None, "/projects").text,
        s.get(None, f"/projects/{pid}").text,
        s.get(None, "/projects.csv").content.decode("utf-8-sig"),
        s.get(None, "/projects.csv", header="en").content.decode("utf-8-sig"),
        s.get(None, "/projects", code="JY-01", fiscal_year=2021).text,
        s.get(None, "/projects", q="营养").text,
        s.get(None, "/projects/lookup", fiscal_year=2021, code="JY-01").text,
        s.get("agency", "/projects").text,
    ]
    xlsx = s.get(None, "/projects.xlsx")
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as book:
        texts += [book.read(name).decode() for name in book.namelist() if "sharedStrings" in name or "sheets/" in name]
    return texts


def test_the_public_reads_the_goals_and_results_as_disclosed_never_what_came_after(
    service: Service, world: World
) -> None:
    s, pid = service, world.implementing
    base = f"/projects/{pid}"
    [shown] = expect(s.get(None, "/projects"), 200)["items"]
    assert [(item["key"], item["target"]) for item in shown["goals"]] == [
        (item["key"], str(item["target"])) for item in GOALS_EXAMPLE
    ]
    assert (shown["approved"], shown["results"], shown["grade"], shown["self_score"]) == (
        "1000000.00",
        None,
        None,
        None,
    )
    assert "ETag" not in s.get(None, base).headers  # its version counts events the public may not see

    # After the disclosure: the goals adjusted, the budget cut, the project self-evaluated.
    adjusted = [dict(item) for item in GOALS_EXAMPLE]
    adjusted[0]["target"] = SECRET_TARGET
    request = {"indicators": adjusted, "reason": "学校合并", "effective_on": "2021-06-01"}
    expect(s.post("education", f"{base}/goal-adjustments", request), 201)
    expect(
        s.post("finance", f"{base}/goal-adjustments/1/decision", {"approve": True, "effective_on": "2021-06-10"}), 200
    )
    cut = {"decision": "reduce_budget", "amount": "123456.00", "reason": "压减", "effective_on": "2021-07-01"}
    expect(s.post("finance", f"{base}/corrective-actions", cut), 201)
    evaluated = {
        "actuals": {"I1": 5100, "I2": 200, "I3": 93, "I4": 91},
        "executed": "800000.00",
        "evidence": [{"digest": "5e" * 32, "type": "self_evaluation_report"}],
    }
    settled(s, expect(s.post("education", f"{base}/self-evaluation", {**evaluated, "effective_on": "2022-02-20"}), 200))
    [row] = expect(s.get(None, "/projects"), 200)["items"]
    assert (row["results_disclosed"], row["results"], row["grade"], row["self_score"]) == (False, None, None, None)
    assert expect(s.get(None, "/projects", grade="优"), 200)["items"] == []  # the live grade is not disclosed
    assert expect(s.get(None, "/projects", grade="良"), 200)["items"] == []
    for text in public_texts(s, pid):
        for never in (str(SECRET_TARGET), "876544", "5100", "800000"):  # the cut amount, an actual, executed
            assert never not in text, never

    # The results disclosed with the self-evaluation; the key evaluation scored and the results applied after.
    settled(
        s, expect(s.post("education", f"{base}/disclosures", {"what": "results", "effective_on": "2022-02-25"}), 201)
    )
    [disclosed] = expect(s.get(None, "/projects"), 200)["items"]
    finance_row = expect(s.get("finance", base), 200)
    assert disclosed["grade"] == finance_row["grade"] == finance_row["self_grade"]
    assert disclosed["self_score"] == finance_row["self_score"]
    assert disclosed["results"]["self_evaluation"] == {"total": finance_row["self_score"], "grade": disclosed["grade"]}
    assert (disclosed["results"]["key_evaluation"], disclosed["result_decision"]) == (None, None)
    scores = {"decision": 10, "process": 12, "output": 20, "effect": 18}  # 60: 中
    scored = {"scores": scores, "effective_on": "2022-03-01"}
    expect(s.post("agency", f"{base}/key-evaluations/{world.evaluation}/score", scored), 200)
    settled(s, expect(s.post("finance", f"{base}/result-application", {"effective_on": "2022-06-30"}), 200))
    live = expect(s.get("finance", base), 200)
    assert (live["grade"], live["result_decision"]) == ("中", "reduce")
    [after] = expect(s.get(None, "/projects"), 200)["items"]
    assert after == disclosed  # nothing the public reads moved: the later grade and decision are not disclosed
    assert expect(s.get(None, "/projects", grade="中"), 200)["items"] == []
    assert [item["code"] for item in expect(s.get(None, "/projects", grade=disclosed["grade"]), 200)["items"]] == [
        "JY-01"
    ]
    for text in public_texts(s, pid):
        for never in (str(SECRET_TARGET), "876544", '"reduce"', "60.00"):
            assert never not in text, never


def test_the_public_does_not_learn_that_an_undisclosed_project_exists(service: Service, world: World) -> None:
    s = service
    hidden = undisclosed_project(s)
    for reader in (None, "agency"):
        problem(s.get(reader, "/projects/lookup", fiscal_year=2021, code="JY-02"), 404, "project-not-found")
        problem(s.get(reader, f"/projects/{hidden}"), 404, "project-not-found")
        assert "JY-02" not in s.get(reader, "/projects", code="JY-02").text
        assert "JY-02" not in s.get(reader, "/projects.csv").content.decode("utf-8-sig")
    assert expect(s.get("education", "/projects/lookup", fiscal_year=2021, code="JY-02"), 200)["project_id"] == hidden
