"""A corpus of bad input: each is refused with a 4xx problem (RFC 9457), and the log head does not move."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Service
from tests.api.world import World, build, expect

pytestmark = pytest.mark.db

DECLARE = {
    "code": "BAD-01",
    "name": "测试项目",
    "department": "教育局",
    "fiscal_year": 2021,
    "budget_book": "general_public",
    "requested": "100.00",
    "effective_on": "2020-09-01",
}
SQL = "'; DROP TABLE ledger_events; --"
SCRIPT = "<script>alert(1)</script>"


def declare(**changes: Any) -> bytes:
    return json.dumps({**DECLARE, **changes}, ensure_ascii=False).encode()


def raw(text: str) -> bytes:
    return text.encode()


# (name, path, body bytes, extra headers, status, problem code)
CORPUS: list[tuple[str, str, bytes, dict[str, str], int, str]] = [
    ("huge body", "/projects", b'{"name": "' + b"x" * 2_000_000 + b'"}', {}, 413, "body-too-large"),
    ("malformed JSON", "/projects", b'{"code": ', {}, 400, "malformed-body"),
    ("trailing garbage", "/projects", declare() + b" ]", {}, 400, "malformed-body"),
    ("nested 100,000 deep", "/projects", b"[" * 100_000 + b"]" * 100_000, {}, 400, "malformed-body"),
    (
        "nested in a field",
        "/projects/{implementing}/ex-ante-assessment",
        raw('{"scores": ' + '{"a": ' * 300 + "1" + "}" * 300 + "}"),
        {},
        422,
        "validation-failed",
    ),
    ("NaN", "/projects", raw(declare().decode().replace('"100.00"', "NaN")), {}, 400, "malformed-body"),
    ("Infinity", "/projects", raw(declare().decode().replace('"100.00"', "Infinity")), {}, 400, "malformed-body"),
    ("-Infinity", "/projects", raw(declare().decode().replace('"100.00"', "-Infinity")), {}, 400, "malformed-body"),
    ("1e309", "/projects", raw(declare().decode().replace('"100.00"', "1e309")), {}, 422, "invalid-money"),
    (
        "a 5,000-digit number",
        "/projects",
        raw(declare().decode().replace('"100.00"', "9" * 5000)),
        {},
        400,
        "malformed-body",
    ),
    ("negative money", "/projects", declare(requested="-100.00"), {}, 422, "invalid-money"),
    (
        "negative zero-ish money",
        "/projects",
        raw(declare().decode().replace('"100.00"', "-0.001")),
        {},
        422,
        "invalid-money",
    ),
    ("fractional fen (string)", "/projects", declare(requested="100.001"), {}, 422, "invalid-money"),
    (
        "fractional fen (number)",
        "/projects",
        raw(declare().decode().replace('"100.00"', "12.345")),
        {},
        422,
        "invalid-money",
    ),
    ("money as a boolean", "/projects", declare(requested=True), {}, 422, "validation-failed"),
    ("invalid UTF-8", "/projects", b'{"code": "\xff\xfe", "name": "x"}', {}, 400, "malformed-body"),
    ("SQL in an enum", "/projects", declare(budget_book=SQL), {}, 422, "validation-failed"),
    ("SQL as a year", "/projects", declare(fiscal_year=SQL), {}, 422, "validation-failed"),
    ("script as evidence", "/projects", declare(evidence=[SCRIPT]), {}, 422, "validation-failed"),
    ("SQL in a path id", f"/projects/{SQL}/admission", raw("{}"), {}, 422, "not-an-id"),
    ("unknown field", "/projects", declare(approved_by_mayor=True), {}, 422, "validation-failed"),
    ("duplicate key", "/projects", raw('{"code": "A", "code": "B"}'), {}, 400, "malformed-body"),
    ("not JSON", "/projects", declare(), {"Content-Type": "text/plain"}, 415, "unsupported-media-type"),
    (
        "form-encoded",
        "/projects",
        b"code=A&name=B",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "unsupported-media-type",
    ),
    ("an array, not an object", "/projects", raw("[1, 2]"), {}, 422, "validation-failed"),
    ("no body", "/projects/{implementing}/budget-approval", b"", {}, 422, "validation-failed"),
    ("null for a required field", "/projects", declare(name=None), {}, 422, "validation-failed"),
    ("a year of 1e20", "/projects", declare(fiscal_year=10**20), {}, 422, "validation-failed"),
    ("a 10,000-character name", "/projects", declare(name="名" * 10_000), {}, 422, "validation-failed"),
    ("a NUL in a name", "/projects", declare(name="营养\u0000计划"), {}, 422, "invalid-value"),
    (
        "a lone surrogate",
        "/projects",
        raw(declare().decode().replace('"测试项目"', '"\\ud800"')),
        {},
        422,
        "validation-failed",
    ),
    (
        "a date outside the fiscal year",
        "/projects/{implementing}/monitoring-reports",
        raw('{"month": 4, "executed": "1.00", "effective_on": "2023-01-01"}'),
        {},
        422,
        "invalid-date",
    ),
    (
        "a date after today",
        "/projects/{implementing}/monitoring-reports",
        raw('{"month": 4, "executed": "1.00", "effective_on": "2999-01-01"}'),
        {},
        422,
        "effective-date-in-future",
    ),
    (
        "a date before the project was declared",
        "/projects/{implementing}/monitoring-reports",
        raw('{"month": 4, "executed": "1.00", "effective_on": "1900-01-01"}'),
        {},
        422,
        "effective-date-too-early",
    ),
    ("an impossible date", "/projects", declare(effective_on="2021-02-30"), {}, 422, "validation-failed"),
    (
        "a score over 100",
        "/departments/{education}/assessments",
        raw(
            json.dumps(
                {
                    "fiscal_year": 2021,
                    "scores": {
                        "running_cost": 101,
                        "management_efficiency": 90,
                        "duty_performance": 90,
                        "social_effect": 90,
                        "sustainability": 90,
                        "satisfaction": 90,
                    },
                }
            )
        ),
        {},
        422,
        "invalid-score",
    ),
    (
        "weights not summing to 90",
        "/projects/{implementing}/goal-adjustments",
        raw(
            json.dumps(
                {
                    "reason": "x",
                    "indicators": [
                        {
                            "key": "I1",
                            "level1": "output",
                            "level2": "quantity",
                            "name": "n",
                            "operator": ">=",
                            "target": 1,
                            "weight": 89,
                        }
                    ],
                }
            )
        ),
        {},
        422,
        "invalid-weights",
    ),
    (
        "an unknown indicator level",
        "/projects/{implementing}/goal-adjustments",
        raw(
            json.dumps(
                {
                    "reason": "x",
                    "indicators": [
                        {
                            "key": "I1",
                            "level1": "output",
                            "level2": "vibes",
                            "name": "n",
                            "operator": ">=",
                            "target": 1,
                            "weight": 90,
                        }
                    ],
                }
            )
        ),
        {},
        422,
        "invalid-indicator",
    ),
    (
        "a re-evaluation rate below the plan's 10%",
        "/rulesets",
        raw(json.dumps({"version": 2, "parameters": {"re_evaluation_rate": "0.0999"}, "reason": "降低比例"})),
        {},
        422,
        "re-evaluation-rate-below-minimum",
    ),
    (
        "a January–July report due before July ends",
        "/rulesets",
        raw(json.dumps({"version": 2, "parameters": {"monitoring_report_due": [0, 7, 31]}, "reason": "提前"})),
        {},
        422,
        "invalid-rule-parameter",
    ),
    (
        "a rule parameter that does not exist",
        "/rulesets",
        raw(json.dumps({"version": 2, "parameters": {"reevaluation_rate": "0.2"}, "reason": "x"})),
        {},
        422,
        "invalid-rule-parameter",
    ),
]


@pytest.fixture(scope="module")
def service(shared_service: Service) -> Service:
    return shared_service


@pytest.fixture(scope="module")
def world(service: Service) -> World:
    return build(service)


@pytest.mark.parametrize(("name", "path", "body", "headers", "status", "code"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_input_is_refused_with_a_problem_and_records_nothing(
    service: Service, world: World, name: str, path: str, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    head = service.ledger.head()
    who = "education" if path.endswith(("monitoring-reports", "goal-adjustments")) else "finance"
    response = service.client.post(
        path.format(**vars(world)),
        content=body,
        headers={"Content-Type": "application/json", **service.headers(who), **headers},
    )
    problem = expect(response, status)
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == f"urn:jixiao:problem:{code}", problem
    assert {"title", "status", "detail", "instance", "title_zh"} <= set(problem)
    assert service.ledger.head() == head


def test_a_refused_ruleset_names_the_parameter_in_chinese_and_english(service: Service) -> None:
    head = service.ledger.head()
    body = {"version": 2, "parameters": {"re_evaluation_rate": "0.0999"}, "reason": "降低比例"}
    problem = expect(service.post("finance", "/rulesets", body), 422)
    assert (problem["type"], problem["field"]) == (
        "urn:jixiao:problem:re-evaluation-rate-below-minimum",
        "re_evaluation_rate",
    )
    assert problem["title_zh"] == "再评价抽查比例不得低于10%"
    assert "再评价抽查比例" in problem["detail"]
    assert "may not be below" in problem["detail"]
    body = {"version": 2, "parameters": {"qualitative_shares": [["好", "1"], ["较好", "1.5"]]}, "reason": "x"}
    problem = expect(service.post("finance", "/rulesets", body), 422)
    assert (problem["code"], problem["field"]) == ("invalid-rule-parameter", "qualitative_shares")
    assert problem["detail"].startswith("定性指标得分比例（qualitative_shares）")
    assert service.ledger.head() == head


def chunks(size: int) -> Iterator[bytes]:
    yield b'{"name": "'
    for _ in range(size // 65_536):
        yield b"x" * 65_536
    yield b'"}'


def test_a_huge_body_without_content_length_is_refused_as_it_streams(service: Service, world: World) -> None:
    head = service.ledger.head()
    response = service.client.post(
        "/projects",
        content=chunks(3_000_000),
        headers={"Content-Type": "application/json", **service.headers("finance")},
    )
    assert expect(response, 413)["code"] == "body-too-large"
    assert service.ledger.head() == head


def test_sql_and_script_in_free_text_are_stored_exactly_as_given_and_harm_nothing(
    service: Service, world: World
) -> None:
    """Free text is the department's own words: recorded verbatim (it is evidence), returned JSON-escaped."""
    created = expect(
        service.post("education", "/projects", {**DECLARE, "code": "SQL-01", "name": SQL, "reason": SCRIPT}), 201
    )
    status = expect(service.get("education", f"/projects/{created['id']}", min_position=created["position"]), 200)
    assert status["name"] == SQL
    history = expect(service.get("auditor", f"/projects/{created['id']}/history"), 200)
    assert history[0]["reason"] == SCRIPT
    assert service.ledger.head() == created["position"] + 1


def test_every_problem_type_is_listed_and_unknown_routes_and_methods_are_problems(service: Service) -> None:
    listed = {item["code"] for item in expect(service.get(None, "/problems"), 200)}
    codes = {code for *_, code in CORPUS}
    assert codes <= listed
    missing = service.client.get("/nowhere")
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/problem+json")
    wrong = service.client.delete("/projects")
    assert (expect(wrong, 405)["code"], wrong.headers["content-type"]) == (
        "method-not-allowed",
        "application/problem+json",
    )
