"""Every role's refusals: 401 without a valid token, 403 for a role or organisation that may not act — and a
refused command records nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from api.schemas.overall import OVERALL_GOALS_EXAMPLE as OVERALL_GOALS
from tests.api.conftest import ORIGIN, Service
from tests.api.world import GOALS, World, build, expect

pytestmark = pytest.mark.db

SCORES = {"decision": 14, "process": 18, "output": 30, "effect": 26}

# (who, path builder, body, status, problem code)
Case = tuple[str | None, Callable[[World], str], dict[str, Any], int, str]
COMMAND_REFUSALS: list[Case] = [
    (
        None,
        lambda w: "/projects",
        {
            "code": "X",
            "name": "x",
            "department": "教育局",
            "fiscal_year": 2021,
            "budget_book": "general_public",
            "requested": "1.00",
        },
        401,
        "unauthenticated",
    ),
    ("auditor", lambda w: f"/projects/{w.declared}/admission", {}, 403, "role-not-allowed"),
    (
        "admin",
        lambda w: "/projects",
        {
            "code": "X",
            "name": "x",
            "department": "教育局",
            "fiscal_year": 2021,
            "budget_book": "general_public",
            "requested": "1.00",
        },
        403,
        "role-not-allowed",
    ),
    (
        "health",
        lambda w: "/projects",
        {
            "code": "X",
            "name": "x",
            "department": "教育局",
            "fiscal_year": 2021,
            "budget_book": "general_public",
            "requested": "1.00",
        },
        403,
        "not-own-department",
    ),
    (
        "health",
        lambda w: f"/projects/{w.implementing}/monitoring-reports",
        {"month": 4, "executed": "1.00"},
        403,
        "not-own-department",
    ),
    ("education", lambda w: f"/projects/{w.implementing}/budget-approval", {"amount": "1.00"}, 403, "role-not-allowed"),
    ("education", lambda w: f"/projects/{w.declared}/goals", {"indicators": GOALS}, 403, "not-own-department"),
    ("agency", lambda w: f"/projects/{w.declared}/admission", {}, 403, "role-not-allowed"),
    (
        "education",
        lambda w: f"/projects/{w.implementing}/key-evaluations/{w.evaluation}/score",
        {"scores": SCORES},
        403,
        "role-not-allowed",
    ),
    (
        "finance",
        lambda w: f"/projects/{w.implementing}/key-evaluations/{w.evaluation}/score",
        {"scores": SCORES},
        403,
        "role-not-allowed",
    ),
    (
        "other-agency",
        lambda w: f"/projects/{w.implementing}/key-evaluations/{w.evaluation}/score",
        {"scores": SCORES},
        403,
        "not-commissioned",
    ),
    (
        "health",
        lambda w: f"/overall-goals/{w.education}/2022",
        {"indicators": OVERALL_GOALS},
        403,
        "not-own-department",
    ),
    (
        "education",
        lambda w: f"/agencies/{w.agency}/misconduct",
        {"kind": "other", "description": "x"},
        403,
        "role-not-allowed",
    ),
    ("education", lambda w: "/rulesets", {"version": 2, "parameters": {}, "reason": "x"}, 403, "role-not-allowed"),
    ("finance", lambda w: "/admin/tokens", {"name": "x", "role": "auditor"}, 403, "role-not-allowed"),
    ("auditor", lambda w: "/re-evaluation-samples", {"fiscal_year": 2021}, 403, "role-not-allowed"),
    # the draw: finance announces and reveals, the audit office contributes — and does nothing else
    ("auditor", lambda w: "/re-evaluation-samples/2021/announcement", {"commitment": "0" * 64}, 403,
     "role-not-allowed"),
    ("finance", lambda w: "/re-evaluation-samples/2021/contribution", {"contribution": "00" * 32}, 403,
     "role-not-allowed"),
    ("education", lambda w: "/re-evaluation-samples/2021/contribution", {"contribution": "00" * 32}, 403,
     "role-not-allowed"),
    ("auditor", lambda w: "/re-evaluation-samples/2021/reveal", {"secret": "00" * 32}, 403, "role-not-allowed"),
    ("auditor", lambda w: f"/projects/{w.implementing}/re-evaluation", {"scores": {}}, 403, "role-not-allowed"),
    ("auditor", lambda w: f"/projects/{w.implementing}/re-evaluation/commission", {"agency": "x"}, 403,
     "role-not-allowed"),
    ("auditor", lambda w: "/departments", {"name": "审计局自设部门"}, 403, "role-not-allowed"),
    # the overall evaluation: the organisation self-evaluates, finance commissions and applies, the agency scores
    ("finance", lambda w: f"/overall-goals/{w.education}/2021/self-evaluation", {"actuals": {}}, 403,
     "role-not-allowed"),
    ("agency", lambda w: f"/overall-goals/{w.education}/2021/self-evaluation", {"actuals": {}}, 403,
     "role-not-allowed"),
    ("education", lambda w: f"/overall-goals/{w.education}/2021/evaluations", {}, 403, "role-not-allowed"),
    (
        "education",
        lambda w: f"/overall-goals/{w.education}/2021/result-application",
        {"control_figure": "1.00"},
        403,
        "role-not-allowed",
    ),
    ("auditor", lambda w: f"/overall-goals/{w.education}/2021/evaluations/1/plan-review", {"approved": True}, 403,
     "role-not-allowed"),
    ("education", lambda w: f"/projects/{w.implementing}/policy-decision", {}, 403, "role-not-allowed"),
]  # fmt: skip


@pytest.fixture(scope="module")
def service(shared_service: Service) -> Service:
    return shared_service  # every test here is refused or only reads: they can share one recorded world


@pytest.fixture(scope="module")
def database_url_of_service(service: Service) -> str:
    url: str = service.app.state.ledger.database_url
    return url


@pytest.fixture(scope="module")
def world(service: Service) -> World:
    world = build(service)
    service.tokens["other-agency"], _ = service.app.state.tokens.issue("ag-other", "agency", "另一评估公司", "test")
    return world


@pytest.mark.parametrize(("who", "path", "body", "status", "code"), COMMAND_REFUSALS)
def test_a_command_the_principal_may_not_send_is_refused_and_records_nothing(
    service: Service,
    world: World,
    who: str | None,
    path: Callable[[World], str],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    head = service.ledger.head()
    response = service.post(who, path(world), {**body, "effective_on": "2021-12-20"})
    problem = expect(response, status)
    assert problem["code"] == code
    assert response.headers["content-type"] == "application/problem+json"
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert service.ledger.head() == head


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        (None, "/trail", 401),
        (None, "/coverage", 401),
        (None, "/departments/ranking", 401),
        (None, "/admin/tokens", 401),
        ("education", "/coverage", 403),
        ("agency", "/departments/ranking?fiscal_year=2021", 200),
        ("finance", "/admin/tokens", 403),
        ("agency", "/objects/{education}/history", 403),
        ("education", "/projects/{declared}", 403),
        ("education", "/projects/{declared}/history", 403),
        ("education", "/projects/{declared}/bundle", 403),
        (None, "/projects/{implementing}/bundle", 401),
        ("agency", "/projects/{implementing}/state", 403),
        ("education", "/log/leaves/0", 403),
        ("education", "/projects?department=卫生健康委员会", 403),
        ("health", "/deadlines?department=教育局", 403),
        (None, "/overall-goals", 401),
        ("agency", "/overall-goals", 403),
        ("education", "/overall-goals/coverage", 403),
        ("health", "/overall-goals?organisation=教育局", 403),
        (None, "/overall-goals/{education}/2021", 401),
    ],
)
def test_reads_are_confined_to_what_the_role_may_see(
    service: Service, world: World, who: str | None, path: str, status: int
) -> None:
    response = service.client.get(path.format(**vars(world)), headers=service.headers(who))
    assert response.status_code == status, response.text


def test_a_department_sees_its_own_projects_and_the_public_only_what_was_disclosed(
    service: Service, world: World
) -> None:
    position = service.ledger.head() - 1
    own = expect(service.get("education", "/projects", min_position=position), 200)["items"]
    assert [item["project_id"] for item in own] == [world.implementing]
    everything = expect(service.get("auditor", "/projects"), 200)["items"]
    assert {item["project_id"] for item in everything} == {world.implementing, world.declared}
    public = expect(service.get(None, "/projects"), 200)["items"]
    assert [(item["project_id"], item["approved"], item["grade"]) for item in public] == [
        (world.implementing, "1000000.00", None)
    ]
    assert "stage" not in public[0]
    expect(service.get(None, f"/projects/{world.declared}"), 404)
    trail = expect(service.get("health", "/trail"), 200)["items"]
    assert {item["object_id"] for item in trail} <= {world.declared, world.health}


def test_a_bad_or_revoked_token_is_refused_not_downgraded_to_public(service: Service, world: World) -> None:
    bad = service.client.get("/projects", headers={"Authorization": "Bearer jxl_not-a-token"})
    assert expect(bad, 401)["code"] == "unauthenticated"
    basic = service.client.get("/projects", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert expect(basic, 401)["code"] == "unauthenticated"
    issued = expect(
        service.post("admin", "/admin/tokens", {"name": "aud-2", "role": "auditor", "organisation": "市审计局"}), 201
    )
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert service.client.get("/trail", headers=headers).status_code == 200
    expect(service.client.delete(f"/admin/tokens/{issued['token_id']}", headers=service.headers("admin")), 200)
    assert service.client.get("/trail", headers=headers).status_code == 401  # the revocation cleared the cache
    for role in ("public", "system", "nobody"):
        refused = service.post("admin", "/admin/tokens", {"name": "x", "role": role})
        assert refused.status_code == 422, role


def test_the_command_line_issues_a_token_the_service_accepts(
    service: Service, world: World, database_url_of_service: str
) -> None:
    # The service's key and origin: it honours only token records signed with them.
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_service,
        "JIXIAO_SIGNING_KEY": service.key.to_string(),
        "JIXIAO_LOG_ORIGIN": ORIGIN,
    }
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "token",
            "create",
            "--role",
            "department",
            "--org",
            "卫生健康委员会",
            "--name",
            "hw-wu",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("jxl_")
    headers = {"Authorization": f"Bearer {token}"}
    assert service.client.get(f"/projects/{world.declared}", headers=headers).status_code == 200
    listed = subprocess.run(
        [sys.executable, "-m", "api.cli", "token", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "hw-wu" in listed.stdout
    assert token not in listed.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "api.cli", "token", "create", "--role", "system", "--name", "x"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "no token is issued for role system" in refused.stderr
