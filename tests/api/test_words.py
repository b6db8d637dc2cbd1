"""Issue 18, item 9 over HTTP: codes answered with their Chinese labels beside them, field errors in the language
asked for (Chinese, English, or both by default), and a code where an id belongs pointed to the lookup."""

from __future__ import annotations

from typing import Any

import pytest

from api.labels import VOCABULARIES
from ledger.domain.labels import LABELS
from tests.api.conftest import Service
from tests.api.world import World, build, expect

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def world(shared_service: Service) -> World:
    return build(shared_service)


@pytest.fixture
def s(shared_service: Service, world: World) -> Service:
    return shared_service


def test_a_project_answers_each_code_with_its_chinese_label_beside_it(s: Service, world: World) -> None:
    project = expect(s.get("finance", f"/projects/{world.implementing}", min_position=s.ledger.head() - 1), 200)
    keys = list(project)
    for field, vocabulary in (("stage", "stage"), ("budget_book", "budget_book"), ("kind", "project_kind")):
        assert project[f"{field}_zh"] == LABELS[vocabulary][project[field]], field
        assert keys.index(f"{field}_zh") == keys.index(field) + 1  # right after its code
    assert project["stage"] == "budget_approved"  # the code itself is unchanged
    assert project["stage_zh"] == "预算已批复（实施中）"
    assert project["budget_book_zh"] == "一般公共预算"
    assert (project["grade"], project["grade_zh"]) == (None, None)
    listed = expect(s.get("finance", "/projects"), 200)["items"]
    assert listed
    assert all(item["stage_zh"] == LABELS["stage"][item["stage"]] for item in listed)
    public = expect(s.get(None, "/projects"), 200)["items"]  # what the public sees is labelled too
    assert all(item["budget_book_zh"] == LABELS["budget_book"][item["budget_book"]] for item in public)


def test_history_the_trail_deadlines_and_command_results_are_labelled(s: Service, world: World) -> None:
    history = expect(s.get("auditor", f"/projects/{world.implementing}/history"), 200)
    first = history[0]
    assert (first["event_type"], first["event_type_zh"]) == ("Project.Declared", "项目申报")
    assert (first["principal"]["role"], first["principal"]["role_zh"]) == ("department", "预算部门（单位）")
    trail = expect(s.get("finance", "/trail"), 200)["items"]
    assert all(entry["principal_role_zh"] == LABELS["role"][entry["principal_role"]] for entry in trail)
    assert all(entry["object_type_zh"] == LABELS["object_type"][entry["object_type"]] for entry in trail)
    deadlines = expect(s.get("finance", "/deadlines"), 200)
    assert all(row["kind_zh"] == LABELS["deadline_kind"][row["kind"]] for row in deadlines)
    state = expect(s.get("auditor", f"/projects/{world.implementing}/state"), 200)
    assert (state["type"], state["type_zh"]) == ("Project", "项目")
    written = expect(s.post("finance", "/departments", {"name": "标签测试局", "effective_on": "2020-08-01"}), 201)
    assert [(event["type"], event["type_zh"]) for event in written["events"]] == [("Department.Registered", "部门登记")]
    indicators = expect(s.get("finance", "/indicators"), 200)
    for definition in indicators.values():
        assert definition["level1_zh"] == LABELS["level1"][definition["level1"]]
        assert definition["operator_zh"] == LABELS["operator"][definition["operator"]]


def test_every_vocabulary_is_served_with_its_labels(s: Service) -> None:
    served = expect(s.get(None, "/labels"), 200)
    assert served == VOCABULARIES
    assert served["stage"]["closed"] == "已关闭"
    assert served["problem"]["goals-not-approved"] == "未审核通过绩效目标不得批复预算"


BAD_DECLARATION = {
    "code": "",
    "name": "测试",
    "department": "教育局",
    "fiscal_year": 1999,
    "budget_book": "general_public",
    "requested": "1.00",
    "surprise": 1,
}


def _errors(problem: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {error["field"]: (error["code"], error["message"]) for error in problem["errors"]}


def test_field_errors_are_in_chinese_under_zh_cn(s: Service) -> None:
    response = s.client.post(
        "/projects", json=BAD_DECLARATION, headers=s.headers("finance", **{"Accept-Language": "zh-CN"})
    )
    problem = expect(response, 422)
    assert response.headers["content-language"] == "zh-CN"
    assert "accept-language" in response.headers["vary"].lower()
    assert problem["code"] == "validation-failed"
    assert _errors(problem) == {
        "body.code": ("string_too_short", "至少应有1个字符"),
        "body.fiscal_year": ("greater_than_equal", "应大于或等于2000"),
        "body.surprise": ("extra_forbidden", "不接受此字段"),
    }
    assert "应大于或等于2000" in problem["detail"]
    assert (problem["title"], problem["title_zh"]) == ("The request does not match the schema", "请求不符合接口格式")


def test_field_errors_are_in_english_under_en(s: Service) -> None:
    headers = s.headers("finance", **{"Accept-Language": "en-GB,en;q=0.9,zh-CN;q=0.5"})
    response = s.client.post("/projects", json=BAD_DECLARATION, headers=headers)
    problem = expect(response, 422)
    assert response.headers["content-language"] == "en"
    assert _errors(problem)["body.fiscal_year"] == (
        "greater_than_equal",
        "Input should be greater than or equal to 2000",
    )
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in problem["detail"])


def test_field_errors_without_a_language_are_chinese_with_the_english_beside(s: Service) -> None:
    response = s.client.post("/projects", json=BAD_DECLARATION, headers=s.headers("finance"))
    problem = expect(response, 422)
    assert response.headers["content-language"] == "zh-CN, en"
    assert _errors(problem)["body.fiscal_year"] == (
        "greater_than_equal",
        "应大于或等于2000（Input should be greater than or equal to 2000）",
    )
    continued = {**BAD_DECLARATION, "code": "X-1", "fiscal_year": 2021, "continues": {"code": "JY-01"}}
    continued.pop("surprise")
    problem = expect(
        s.client.post("/projects", json=continued, headers=s.headers("finance", **{"Accept-Language": "zh"})), 422
    )
    assert [error["message"] for error in problem["errors"]] == [
        "所延续的项目须以project_id指明，或以fiscal_year和code指明"
    ]


def test_a_code_where_a_project_id_belongs_points_to_the_lookup(s: Service, world: World) -> None:
    response = s.client.get("/projects/JY-01", headers=s.headers("finance", **{"Accept-Language": "en"}))
    problem = expect(response, 422)
    assert (problem["type"], problem["field"]) == ("urn:jixiao:problem:not-an-id", "path.project_id")
    assert problem["lookup"] == "/projects/lookup?fiscal_year={fiscal_year}&code=JY-01"
    assert "/projects/lookup" in problem["detail"]
    assert "/projects?code=JY-01" in problem["detail"]
    found = expect(s.client.get(problem["lookup"].format(fiscal_year=2021), headers=s.headers("finance")), 200)
    assert found["project_id"] == world.implementing
    chinese = expect(
        s.client.get("/projects/JY-01/history", headers=s.headers("auditor", **{"Accept-Language": "zh-CN"})), 422
    )
    assert chinese["detail"].startswith("“JY-01”不是项目编号（UUID）")
    odd = expect(s.get("finance", "/projects/a b&c"), 422)
    assert odd["lookup"] == "/projects/lookup?fiscal_year={fiscal_year}&code=a%20b%26c"


def test_a_code_where_another_id_belongs_points_where_ids_are_listed(s: Service) -> None:
    problem = expect(s.post("finance", "/departments/教育局/units", {"name": "某中学"}), 422)
    assert (problem["code"], problem["lookup"]) == ("not-an-id", "/departments")
    problem = expect(s.post("finance", "/agencies/某咨询评估有限公司/misconduct", {}), 422)
    assert (problem["code"], problem["lookup"]) == ("not-an-id", "/agencies")
