"""Budget units (预算单位) over HTTP: finance registers them under departments, anyone with a token lists them, a
project names its unit, and a unit's staff act and read only for their unit — its department's staff for all its
units. Refusals are problem+json with a stable type; a refused command records nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from api.schemas.overall import OVERALL_GOALS_EXAMPLE as OVERALL_GOALS
from ledger.domain.organisations import unit_id
from tests.api.conftest import ORIGIN, Service
from tests.api.world import GOALS, expect

pytestmark = pytest.mark.db

SCHOOL_ONE = "德令哈市第一中学"
SCHOOL_TWO = "德令哈市第二中学"
CLINIC = "城东社区卫生服务中心"


def project(code: str, unit: str | None, department: str = "教育局") -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": "校园项目",
        "department": department,
        "fiscal_year": 2021,
        "budget_book": "general_public",
        "requested": "500000.00",
        "effective_on": "2020-09-01",
    }
    return body if unit is None else {**body, "unit": unit}


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:jixiao:problem:{code}"
    assert body["title_zh"]
    return body


class Units:
    """Two departments, three units, their staff's tokens, and a project of each unit and of the department."""

    def __init__(self, s: Service) -> None:
        self.s = s
        self.education = expect(
            s.post("finance", "/departments", {"name": "教育局", "effective_on": "2020-08-01"}), 201
        )["id"]
        self.health = expect(
            s.post("finance", "/departments", {"name": "卫生健康委员会", "effective_on": "2020-08-01"}), 201
        )["id"]
        registered = [
            s.post(
                "finance", f"/departments/{self.education}/units", {"name": SCHOOL_ONE, "effective_on": "2020-08-03"}
            ),
            s.post(
                "finance", f"/departments/{self.education}/units", {"name": SCHOOL_TWO, "effective_on": "2020-08-03"}
            ),
            s.post("finance", f"/departments/{self.health}/units", {"name": CLINIC, "effective_on": "2020-08-03"}),
        ]
        self.unit_ids = [expect(response, 201)["id"] for response in registered]
        self.location = registered[0].headers["location"]
        for who, name in (("first", SCHOOL_ONE), ("second", SCHOOL_TWO)):
            s.tokens[who], _ = s.app.state.tokens.issue(f"staff-{who}", "department", name, created_by="test")
        self.first = expect(s.post("first", "/projects", project("YZ-01", SCHOOL_ONE)), 201)["id"]
        self.second = expect(s.post("education", "/projects", project("EZ-01", SCHOOL_TWO)), 201)["id"]
        self.own = expect(s.post("education", "/projects", project("JY-00", None)), 201)
        expect(s.get("finance", "/readyz", min_position=self.own["position"]), 200)
        self.own = self.own["id"]


@pytest.fixture
def units(service: Service) -> Units:
    return Units(service)


def test_finance_registers_units_under_departments_and_anyone_with_a_token_lists_them(
    service: Service, units: Units
) -> None:
    assert units.unit_ids[0] == str(unit_id(SCHOOL_ONE))
    assert units.location == f"/objects/{units.unit_ids[0]}/history"
    listed = expect(service.get("auditor", "/units"), 200)
    assert [(row["name"], row["department"]) for row in listed] == [
        ("城东社区卫生服务中心", "卫生健康委员会"),
        (SCHOOL_ONE, "教育局"),
        (SCHOOL_TWO, "教育局"),
    ]
    assert listed[1]["department_id"] == units.education
    assert listed[1]["registered_on"] == "2020-08-03"
    of_education = expect(service.get("first", "/units", department=" 教育局"), 200)
    assert [row["id"] for row in of_education] == units.unit_ids[:2]
    assert service.get(None, "/units").status_code == 401


def test_registering_a_unit_is_refused_with_a_stable_problem_type(service: Service, units: Units) -> None:
    head = service.ledger.head()
    path = f"/departments/{units.education}/units"
    problem(service.post("education", path, {"name": "新单位"}), 403, "role-not-allowed")
    problem(service.post("finance", path, {"name": "卫生健康委员会"}), 409, "already-exists")  # a department's name
    problem(service.post("finance", path, {"name": f" {CLINIC}"}), 409, "already-exists")  # another's unit
    problem(
        service.post("finance", f"/departments/{units.first}/units", {"name": "新单位"}), 404, "department-not-found"
    )
    assert service.ledger.head() == head


def test_a_project_names_its_unit_and_a_unit_of_another_department_is_refused(service: Service, units: Units) -> None:
    shown = expect(service.get("education", f"/projects/{units.first}"), 200)
    assert (shown["department"], shown["unit"]) == ("教育局", SCHOOL_ONE)
    assert expect(service.get("education", f"/projects/{units.own}"), 200)["unit"] is None
    head = service.ledger.head()
    body = problem(service.post("education", "/projects", project("X-1", CLINIC)), 409, "unit-not-in-department")
    assert body["title_zh"] == "该预算单位不属于项目所属部门"
    problem(service.post("education", "/projects", project("X-2", "不存在的单位")), 404, "unit-not-found")
    assert service.ledger.head() == head


def test_a_units_staff_act_only_for_their_unit_and_its_departments_staff_for_all_its_units(
    service: Service, units: Units
) -> None:
    head = service.ledger.head()
    problem(service.post("first", "/projects", project("X-3", SCHOOL_TWO)), 403, "not-own-department")
    problem(service.post("first", "/projects", project("X-4", None)), 403, "not-own-department")
    problem(
        service.post("first", f"/overall-goals/{units.education}/2022", {"indicators": OVERALL_GOALS}),
        403,
        "not-own-department",
    )
    assert service.ledger.head() == head
    for pid in (units.first, units.second, units.own):
        expect(service.post("finance", f"/projects/{pid}/admission", {"effective_on": "2020-09-30"}), 200)
    head = service.ledger.head()
    goals = {"indicators": GOALS, "effective_on": "2020-10-20"}
    problem(service.post("first", f"/projects/{units.second}/goals", goals), 403, "not-own-department")  # a sibling's
    problem(service.post("first", f"/projects/{units.own}/goals", goals), 403, "not-own-department")  # the department's
    problem(service.post("health", f"/projects/{units.first}/goals", goals), 403, "not-own-department")
    assert service.ledger.head() == head
    expect(service.post("first", f"/projects/{units.first}/goals", goals), 200)
    expect(service.post("education", f"/projects/{units.second}/goals", goals), 200)


def test_a_units_staff_read_only_their_units_projects(service: Service, units: Units) -> None:
    codes = {row["code"] for row in expect(service.get("first", "/projects"), 200)["items"]}
    assert codes == {"YZ-01"}
    assert {row["code"] for row in expect(service.get("education", "/projects"), 200)["items"]} == {
        "YZ-01",
        "EZ-01",
        "JY-00",
    }
    problem(service.get("first", f"/projects/{units.second}"), 403, "not-own-department")
    problem(service.get("first", f"/projects/{units.own}"), 403, "not-own-department")
    assert service.get("first", f"/projects/{units.first}/history").status_code == 200
    assert service.get("education", f"/projects/{units.first}/history").status_code == 200
    problem(service.get("first", f"/projects/{units.second}/history"), 403, "role-not-allowed")
    deadlines = expect(service.get("first", "/deadlines"), 200)
    assert {(row["project_code"], row["unit"]) for row in deadlines} == {("YZ-01", SCHOOL_ONE)}
    assert {row["project_code"] for row in expect(service.get("education", "/deadlines"), 200)} == {
        "YZ-01",
        "EZ-01",
        "JY-00",
    }
    followed = expect(service.get("first", "/events", limit=100), 200)["events"]
    assert {event["aggregate_id"] for event in followed} == {units.unit_ids[0], units.first}
    departments = expect(service.get("education", "/events", limit=100), 200)["events"]
    assert {event["aggregate_id"] for event in departments} == {
        units.education,
        *units.unit_ids[:2],
        units.first,
        units.second,
        units.own,
    }
    trail = expect(service.get("first", "/trail"), 200)["items"]
    assert {row["object_id"] for row in trail} == {units.unit_ids[0], units.first}


def test_the_command_line_issues_a_token_for_a_units_staff(service: Service, units: Units) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": service.ledger.database_url,
        "JIXIAO_SIGNING_KEY": service.key.to_string(),
        "JIXIAO_LOG_ORIGIN": ORIGIN,
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", "token", "create", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    created = cli("--role", "department", "--unit", SCHOOL_TWO, "--name", "ez-zhou")
    assert created.returncode == 0, created.stderr
    assert f"(department, {SCHOOL_TWO})" in created.stderr
    headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
    assert service.client.get(f"/projects/{units.second}", headers=headers).status_code == 200
    assert service.client.get(f"/projects/{units.first}", headers=headers).status_code == 403
    for wrong in (
        ("--role", "auditor", "--unit", SCHOOL_TWO),
        ("--role", "department", "--org", "教育局", "--unit", SCHOOL_TWO),
    ):
        refused_cli = cli(*wrong, "--name", "x-unit")
        assert refused_cli.returncode == 2
        assert "--unit" in refused_cli.stderr
