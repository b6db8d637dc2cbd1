"""Issue 14, over HTTP: control characters in query and path parameters, dates that would slip past the blacklist,
what each role reads, text kept exactly as given and matched by its normalised key, and as-of before existence."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from ledger.domain.organisations import ASSESSMENT_DIMENSIONS
from tests.api.conftest import Service
from tests.api.world import GOALS, World, build, expect
from tests.credit_codes import code_of

pytestmark = pytest.mark.db

BLACKLISTED = "失信评估事务所"
NFC_NAME = "Zhōngshān区教育局"
NFD_NAME = unicodedata.normalize("NFD", NFC_NAME)
COMPATIBILITY_NAME = "\uf900城区文化局"  # U+F900, a CJK compatibility ideograph: NFC rewrites it to U+8C48


@dataclass(frozen=True)
class Scene:
    world: World
    red: str  # an education project with its goals disclosed and a red deviation that was never disclosed
    nfd_project: str  # a project of the department registered under NFD_NAME, declared with the NFC spelling


def declare(s: Service, who: str, code: str, department: str, **changes: Any) -> Any:
    return expect(
        s.post(
            who,
            "/projects",
            {
                "code": code,
                "name": "测试项目",
                "department": department,
                "fiscal_year": 2021,
                "budget_book": "general_public",
                "requested": "1000000.00",
                "effective_on": "2020-09-01",
                **changes,
            },
        ),
        201,
    )


@pytest.fixture(scope="module")
def service(shared_service: Service) -> Service:
    return shared_service


@pytest.fixture(scope="module")
def scene(service: Service) -> Scene:
    s = service
    world = build(s)
    s.tokens["other-agency"], _ = s.app.state.tokens.issue("ag-other", "agency", "另一评估公司", "test")
    red = declare(s, "education", "JY-RED", "教育局")["id"]
    expect(s.post("finance", f"/projects/{red}/admission", {"effective_on": "2020-09-30"}), 200)
    expect(s.post("education", f"/projects/{red}/goals", {"indicators": GOALS, "effective_on": "2020-10-20"}), 200)
    expect(s.post("finance", f"/projects/{red}/goals/review", {"rating": "优", "effective_on": "2020-11-05"}), 200)
    expect(
        s.post("finance", f"/projects/{red}/budget-approval", {"amount": "1000000.00", "effective_on": "2021-01-15"}),
        200,
    )
    expect(s.post("finance", f"/projects/{red}/disclosures", {"what": "goals", "effective_on": "2021-01-20"}), 201)
    expect(
        s.post(
            "education",
            f"/projects/{red}/monitoring-reports",
            {
                "month": 6,
                "executed": "100000.00",
                "indicator_progress": {"I1": 40, "I2": 40},
                "effective_on": "2021-07-05",
            },
        ),
        201,
    )
    reviewed = expect(
        s.post(
            "finance",
            f"/projects/{red}/monitoring-reports/6/review",
            {"opinion": "进度严重滞后", "effective_on": "2021-07-10"},
        ),
        200,
    )
    assert [event["type"] for event in reviewed["events"]][-1] == "Project.DeviationDetected"
    # An agency blacklisted from today: in force whenever a command is recorded for the next three years.
    agency = expect(
        s.post(
            "finance",
            "/agencies",
            {
                "name": BLACKLISTED,
                "credentials": "乙级",
                "credit_code": code_of(BLACKLISTED),
                "effective_on": "2020-08-01",
            },
        ),
        201,
    )["id"]
    expect(
        s.post(
            "finance",
            f"/agencies/{agency}/misconduct",
            {"kind": "falsification", "description": "伪造记录", "evidence": ["a" * 64]},
        ),
        201,
    )
    expect(s.post("finance", f"/agencies/{agency}/blacklisting", {"reason": "弄虚作假"}), 201)
    expect(s.post("finance", "/departments", {"name": NFD_NAME, "effective_on": "2020-08-01"}), 201)
    nfd_project = declare(s, "finance", "ZS-01", NFC_NAME)["id"]
    expect(s.get("finance", "/readyz", min_position=s.ledger.head() - 1), 200)
    return Scene(world, red, nfd_project)


# ------------------------------------------------------------------ item 4: NUL in any query or path parameter


def _operations(service: Service) -> list[tuple[str, str, dict[str, Any]]]:
    document = expect(service.client.get("/openapi.json"), 200)
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _path(template: str, operation: dict[str, Any], poisoned: str | None) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        schema = parameter.get("schema", {})
        if parameter["name"] == poisoned:
            value = "%00"
        elif schema.get("format") == "uuid":
            value = "00000000-0000-0000-0000-000000000000"
        elif schema.get("type") == "integer":
            value = "2021"
        else:
            value = "x"
        template = template.replace("{" + parameter["name"] + "}", value)
    return template


@pytest.mark.parametrize("who", [None, "finance"])
def test_a_nul_in_any_query_or_path_parameter_of_the_live_openapi_is_a_422_naming_it(
    service: Service, scene: Scene, who: str | None
) -> None:
    head = service.ledger.head()
    checked = 0
    for method, path, operation in _operations(service):
        for parameter in operation.get("parameters", []):
            if parameter["in"] not in ("query", "path"):
                continue
            if parameter["in"] == "query":
                url, params = _path(path, operation, None), {parameter["name"]: "营养\x00计划"}
            else:
                url, params = _path(path, operation, parameter["name"]), {}
            response = service.client.request(method, url, params=params, headers=service.headers(who))
            where = f"{method} {path} {parameter['in']}.{parameter['name']}"
            assert response.status_code == 422, f"{where}: {response.status_code} {response.text[:300]}"
            problem = response.json()
            assert response.headers["content-type"] == "application/problem+json", where
            assert problem["type"] == "urn:jixiao:problem:validation-failed", where
            assert problem["field"] == f"{parameter['in']}.{parameter['name']}", where
            checked += 1
    assert checked > 40  # every route's parameters, not only the ones the issue named
    assert service.ledger.head() == head


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/projects", "department"),
        ("/projects", "stage"),
        ("/projects", "code"),
        ("/trail", "principal"),
        ("/trail", "organisation"),
        ("/trail", "event_type"),
        ("/deadlines", "department"),
        ("/projects", "unknown"),
    ],
)
def test_the_parameters_the_issue_named_and_other_control_characters(
    service: Service, scene: Scene, path: str, name: str
) -> None:
    for value in ("\x00", "a\x01b", "\x7f", "\x9b"):
        for who in (None, "finance"):
            problem = expect(service.client.get(path, params={name: value}, headers=service.headers(who)), 422)
            assert (problem["code"], problem["field"]) == ("validation-failed", f"query.{name}")
            assert problem["errors"][0]["field"] == f"query.{name}"


# ------------------------------------------------------------------------- item 11: dates and the blacklist


def test_a_blacklisting_in_force_when_the_command_is_recorded_refuses_it_whatever_date_it_states(
    service: Service, scene: Scene
) -> None:
    head = service.ledger.head()
    path = f"/projects/{scene.world.implementing}/key-evaluations"
    for stated in ("2021-06-01", "2020-09-02"):
        refused = expect(service.post("finance", path, {"agency": BLACKLISTED, "effective_on": stated}), 409)
        assert refused["code"] == "agency-blacklisted"
    future = expect(service.post("finance", path, {"agency": BLACKLISTED, "effective_on": "2030-06-01"}), 422)
    assert (future["code"], future["field"]) == ("effective-date-in-future", "effective_on")
    assert future["title_zh"]
    assert service.ledger.head() == head


@pytest.mark.parametrize(
    ("suffix", "who", "body"),
    [
        ("plan-review", "finance", {"approved": True}),
        ("report-review", "finance", {"approved": True}),
        ("supervision", "finance", {"notes": "现场督导"}),
        ("score", "agency", {"scores": {"decision": 14, "process": 18, "output": 30, "effect": 26}}),
    ],
)
def test_key_evaluation_commands_refuse_dates_before_the_commissioning_and_after_today(
    service: Service, scene: Scene, suffix: str, who: str, body: dict[str, Any]
) -> None:
    head = service.ledger.head()
    path = f"/projects/{scene.world.implementing}/key-evaluations/{scene.world.evaluation}/{suffix}"
    for stated, code in (
        ("0001-01-01", "effective-date-too-early"),
        ("2021-08-31", "effective-date-too-early"),
        ("9999-12-31", "effective-date-in-future"),
        ((date.today() + timedelta(days=2)).isoformat(), "effective-date-in-future"),
    ):
        problem = expect(service.post(who, path, {**body, "effective_on": stated}), 422)
        assert (problem["code"], problem["field"]) == (code, "effective_on"), stated
    assert service.ledger.head() == head


def test_every_command_has_a_lower_bound(service: Service, scene: Scene) -> None:
    head = service.ledger.head()
    early = {
        "code": "JY-EARLY",
        "name": "x",
        "department": "教育局",
        "fiscal_year": 2021,
        "budget_book": "general_public",
        "requested": "1.00",
        "effective_on": "2019-12-31",
    }
    assert expect(service.post("education", "/projects", early), 422)["code"] == "effective-date-too-early"
    before_declared = service.post(
        "finance", f"/projects/{scene.world.declared}/admission", {"effective_on": "2020-08-31"}
    )
    assert expect(before_declared, 422)["code"] == "effective-date-too-early"
    before_registered = service.post(
        "finance",
        f"/departments/{scene.world.education}/assessments",
        {"fiscal_year": 2021, "scores": dict.fromkeys(ASSESSMENT_DIMENSIONS, 90), "effective_on": "2020-07-31"},
    )
    assert expect(before_registered, 422)["code"] == "effective-date-too-early"
    ancient = service.post("finance", "/departments", {"name": "远古局", "effective_on": "0001-01-01"})
    assert expect(ancient, 422)["code"] == "effective-date-too-early"
    assert service.ledger.head() == head


# --------------------------------------------------------------------- items 12, 13, 14, 15: who sees what


@pytest.mark.parametrize(
    "query",
    [
        {"deviation": "red"},
        {"deviation": "yellow"},
        {"stage": "budget_approved"},
        {"stage": "declared"},
        {"overdue": "true"},
        {"overdue": "false"},
    ],
)
def test_the_public_cannot_filter_on_what_was_not_disclosed(
    service: Service, scene: Scene, query: dict[str, str]
) -> None:
    (name,) = query
    for who in (None, "agency"):
        problem = expect(service.get(who, "/projects", **query), 403)
        assert (problem["code"], problem["field"]) == ("role-not-allowed", f"query.{name}")
    assert expect(service.get("finance", "/projects", **query), 200)["items"] is not None


def test_the_public_filters_grades_only_among_disclosed_results(service: Service, scene: Scene) -> None:
    assert expect(service.get(None, "/projects", fiscal_year=2021), 200)["items"]  # goals disclosed: listed
    for grade in ("优", "良", "中", "差"):
        assert expect(service.get(None, "/projects", grade=grade), 200)["items"] == []
    red = [item["project_id"] for item in expect(service.get("finance", "/projects", deviation="red"), 200)["items"]]
    assert red == [scene.red]


def test_an_agency_reads_only_the_deadlines_of_the_evaluations_it_was_commissioned_for(
    service: Service, scene: Scene
) -> None:
    everything = expect(service.get("finance", "/deadlines", on="2021-01-01"), 200)
    assert {row["project_id"] for row in everything} >= {scene.world.implementing, scene.world.declared, scene.red}
    own = expect(service.get("agency", "/deadlines", on="2021-01-01"), 200)
    assert own
    assert {row["project_id"] for row in own} == {scene.world.implementing}
    assert expect(service.get("other-agency", "/deadlines", on="2021-01-01"), 200) == []
    assert expect(service.get("agency", "/deadlines", on="2021-01-01", department="卫生健康委员会"), 200) == []


def test_an_administrator_registers_no_department(service: Service, scene: Scene) -> None:
    head = service.ledger.head()
    refused = service.post("admin", "/departments", {"name": "信息化局", "effective_on": "2020-08-01"})
    assert expect(refused, 403)["code"] == "role-not-allowed"
    assert service.ledger.head() == head


@pytest.mark.parametrize("who", [None, "agency"])
def test_the_public_feed_shows_organisation_and_role_but_no_staff_id(
    service: Service, scene: Scene, who: str | None
) -> None:
    page = expect(service.get(who, "/events", limit=1000), 200)
    assert page["events"]
    for event in page["events"]:
        assert event["principal"] == {"id": None, "role": "finance", "organisation": "市财政局"}
        principal = event["payload"]["principal"]["_data_"]
        assert "id" not in principal
        assert principal["organisation"] == "市财政局"
        assert "fin-wang" not in str(event)
    refused = service.get(who, "/events", with_state="true")
    assert expect(refused, 403)["code"] == "role-not-allowed"
    finance = expect(service.get("finance", "/events", limit=1000), 200)["events"]
    assert "fin-wang" in {event["principal"]["id"] for event in finance}


# ------------------------------------------------------------------- item 17: text as given, matched by key


def test_names_are_stored_exactly_as_given(service: Service, scene: Scene) -> None:
    created = expect(
        service.post("finance", "/departments", {"name": COMPATIBILITY_NAME, "effective_on": "2020-08-01"}), 201
    )
    listed = {
        row["id"]: row["name"]
        for row in expect(service.get("finance", "/departments", min_position=created["position"]), 200)
    }
    assert listed[created["id"]] == COMPATIBILITY_NAME
    history = expect(service.get("auditor", f"/objects/{created['id']}/history"), 200)
    assert history[0]["payload"]["name"] == COMPATIBILITY_NAME
    nfd = next(name for name in listed.values() if unicodedata.normalize("NFC", name) == NFC_NAME)
    assert nfd == NFD_NAME


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("\uf901区财政所", "\u66f4区财政所"),  # a compatibility ideograph, and the ideograph it stands for
        ("ABC评估咨询有限公司", "ＡＢＣ评估咨询有限公司"),  # full-width Latin, as Chinese input methods type it
        ("DEF评估咨询有限公司", "def评估咨询有限公司"),
        ("某某（集团）评估公司", "某某(集团)评估公司"),
        ("某某评估公司", "某某评估公司\u3000"),  # an ideographic space typed after it
    ],
)
def test_duplicates_are_refused_on_the_normalised_key(service: Service, scene: Scene, first: str, second: str) -> None:
    expect(
        service.post(
            "finance",
            "/agencies",
            {"name": first, "credentials": "甲级", "credit_code": code_of(first), "effective_on": "2020-08-01"},
        ),
        201,
    )
    head = service.ledger.head()
    refused = service.post(
        "finance",
        "/agencies",
        {"name": second, "credentials": "甲级", "credit_code": code_of(second), "effective_on": "2020-08-01"},
    )
    assert expect(refused, 409)["code"] == "already-exists"
    assert service.ledger.head() == head


@pytest.mark.parametrize("spelling", [NFD_NAME, NFC_NAME, f"  {NFC_NAME} "])
def test_filters_match_any_spelling_of_a_name(service: Service, scene: Scene, spelling: str) -> None:
    projects = {
        item["project_id"]: item
        for item in expect(service.get("finance", "/projects", department=spelling), 200)["items"]
    }
    assert scene.nfd_project in projects
    assert projects[scene.nfd_project]["department"] == NFC_NAME  # as the declaration gave it
    assert {unicodedata.normalize("NFC", item["department"]) for item in projects.values()} == {NFC_NAME}
    deadlines = expect(service.get("finance", "/deadlines", department=spelling, on="2020-09-01"), 200)
    assert scene.nfd_project in {row["project_id"] for row in deadlines}


def test_a_department_acts_and_reads_under_any_spelling_of_its_name(service: Service, scene: Scene) -> None:
    token, _ = service.app.state.tokens.issue("zs-wu", "department", NFD_NAME, "test")
    service.tokens["zhongshan"] = token
    own = expect(service.get("zhongshan", "/projects"), 200)["items"]
    assert [item["project_id"] for item in own] == [scene.nfd_project]
    expect(service.get("zhongshan", f"/projects/{scene.nfd_project}"), 200)
    written = expect(
        service.post(
            "zhongshan",
            "/projects",
            {
                "code": "ZS-02",
                "name": "测试项目二",
                "department": NFC_NAME,
                "fiscal_year": 2021,
                "budget_book": "general_public",
                "requested": "1.00",
                "effective_on": "2020-09-01",
            },
        ),
        201,
    )
    trail = expect(service.get("auditor", "/trail", organisation=NFC_NAME, min_position=written["position"]), 200)[
        "items"
    ]
    assert [item["object_id"] for item in trail] == [written["id"]]
    assert trail[0]["organisation"] == NFD_NAME  # the token's own spelling, as recorded


def test_a_code_is_looked_up_by_its_key(service: Service, scene: Scene) -> None:
    # Finance finds the project just declared by any spelling of its code; the public finds disclosed projects
    # only (issue 16), and nothing of this one is disclosed yet.
    found = expect(service.get("finance", "/projects/lookup", fiscal_year=2021, code="zs-01"), 200)
    assert found["project_id"] == scene.nfd_project
    hidden = expect(service.get(None, "/projects/lookup", fiscal_year=2021, code="zs-01"), 404)
    assert hidden["code"] == "project-not-found"
    duplicate = service.post(
        "finance",
        "/projects",
        {
            "code": "ｚｓ－０１",
            "name": "重复",
            "department": NFC_NAME,
            "fiscal_year": 2021,
            "budget_book": "general_public",
            "requested": "1.00",
            "effective_on": "2020-09-01",
        },
    )
    assert expect(duplicate, 409)["code"] == "already-exists"


# --------------------------------------------------------------------------- item 18: before it existed


def test_the_state_before_the_project_existed_is_a_404_of_its_own(service: Service, scene: Scene) -> None:
    for path in (f"/projects/{scene.world.implementing}/state", f"/objects/{scene.world.implementing}/state"):
        problem = expect(service.get("auditor", path, as_of="2000-01-01T00:00:00+08:00"), 404)
        assert (problem["code"], problem["field"]) == ("not-yet-existing", "as_of")
        assert problem["type"] == "urn:jixiao:problem:not-yet-existing"
        assert problem["title_zh"]
    listed = {item["code"]: item for item in expect(service.get(None, "/problems"), 200)}
    assert listed["not-yet-existing"]["status"] == 404
