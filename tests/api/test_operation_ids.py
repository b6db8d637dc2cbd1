"""Every operation has a short, stable, unique id (its endpoint's name in lower camel case): what generated clients
name their methods. The ids published so far are a contract: none of them may disappear or change."""

from __future__ import annotations

import keyword
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.app import create_app
from api.body import LedgerRoute
from api.openapi import OPERATION_ID, operation_id_for
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import settings_for

# The operation ids integrators' clients were generated from (issue 18): each stays, naming the same route.
PUBLISHED = {
    "declareProject": ("POST", "/projects"),
    "assessExAnte": ("POST", "/projects/{project_id}/ex-ante-assessment"),
    "admitProject": ("POST", "/projects/{project_id}/admission"),
    "submitGoals": ("POST", "/projects/{project_id}/goals"),
    "reviewGoals": ("POST", "/projects/{project_id}/goals/review"),
    "approveBudget": ("POST", "/projects/{project_id}/budget-approval"),
    "requestGoalAdjustment": ("POST", "/projects/{project_id}/goal-adjustments"),
    "decideGoalAdjustment": ("POST", "/projects/{project_id}/goal-adjustments/{adjustment_no}/decision"),
    "reportMonitoring": ("POST", "/projects/{project_id}/monitoring-reports"),
    "reviewMonitoring": ("POST", "/projects/{project_id}/monitoring-reports/{month}/review"),
    "orderCorrectiveAction": ("POST", "/projects/{project_id}/corrective-actions"),
    "selfEvaluate": ("POST", "/projects/{project_id}/self-evaluation"),
    "reEvaluate": ("POST", "/projects/{project_id}/re-evaluation"),
    "commissionKeyEvaluation": ("POST", "/projects/{project_id}/key-evaluations"),
    "reviewKeyEvaluationPlan": ("POST", "/projects/{project_id}/key-evaluations/{evaluation_id}/plan-review"),
    "reviewKeyEvaluationReport": ("POST", "/projects/{project_id}/key-evaluations/{evaluation_id}/report-review"),
    "noteKeyEvaluationSupervision": ("POST", "/projects/{project_id}/key-evaluations/{evaluation_id}/supervision"),
    "scoreKeyEvaluation": ("POST", "/projects/{project_id}/key-evaluations/{evaluation_id}/score"),
    "applyResults": ("POST", "/projects/{project_id}/result-application"),
    "requireRectification": ("POST", "/projects/{project_id}/rectifications"),
    "reportRectification": ("POST", "/projects/{project_id}/rectifications/{rectification_no}/report"),
    "decideRectification": ("POST", "/projects/{project_id}/rectifications/{rectification_no}/decision"),
    "disclose": ("POST", "/projects/{project_id}/disclosures"),
    "closeProject": ("POST", "/projects/{project_id}/closure"),
    "listProjects": ("GET", "/projects"),
    "projectIdOf": ("GET", "/projects/lookup"),
    "getProject": ("GET", "/projects/{project_id}"),
    "projectHistory": ("GET", "/projects/{project_id}/history"),
    "projectState": ("GET", "/projects/{project_id}/state"),
    "registerDepartment": ("POST", "/departments"),
    "listDepartments": ("GET", "/departments"),
    "departmentRanking": ("GET", "/departments/ranking"),
    "registerUnit": ("POST", "/departments/{department_id}/units"),
    "assessDepartment": ("POST", "/departments/{department_id}/assessments"),
    "listUnits": ("GET", "/units"),
    "registerAgency": ("POST", "/agencies"),
    "listAgencies": ("GET", "/agencies"),
    "reviewAgencyQuality": ("POST", "/agencies/{agency_id}/quality-reviews"),
    "recordMisconduct": ("POST", "/agencies/{agency_id}/misconduct"),
    "blacklistAgency": ("POST", "/agencies/{agency_id}/blacklisting"),
    "liftBlacklisting": ("POST", "/agencies/{agency_id}/blacklisting/lift"),
    "getBlacklist": ("GET", "/blacklist"),
    "recordDecision": ("POST", "/decisions"),
    "reportDecisionRectification": ("POST", "/decisions/{decision_id}/rectification/report"),
    "decideDecisionRectification": ("POST", "/decisions/{decision_id}/rectification/decision"),
    "listDecisions": ("GET", "/decisions"),
    "submitToCongress": ("POST", "/congress-submissions"),
    "submitOverallGoals": ("POST", "/overall-goals/{organisation_id}/{fiscal_year}"),
    "reviewOverallGoals": ("POST", "/overall-goals/{organisation_id}/{fiscal_year}/review"),
    "requestOverallGoalsAdjustment": ("POST", "/overall-goals/{organisation_id}/{fiscal_year}/adjustments"),
    "decideOverallGoalsAdjustment": (
        "POST",
        "/overall-goals/{organisation_id}/{fiscal_year}/adjustments/{adjustment_no}/decision",
    ),
    "listIndicators": ("GET", "/indicators"),
    "defineIndicator": ("POST", "/indicators"),
    "reviseIndicator": ("POST", "/indicators/{code}/revisions"),
    "retireIndicator": ("POST", "/indicators/{code}/retirement"),
    "listRulesets": ("GET", "/rulesets"),
    "adoptRuleset": ("POST", "/rulesets"),
    "drawSample": ("POST", "/re-evaluation-samples"),
    "getSample": ("GET", "/re-evaluation-samples/{fiscal_year}"),
    "accountabilityTrail": ("GET", "/trail"),
    "coverage": ("GET", "/coverage"),
    "deadlines": ("GET", "/deadlines"),
    "continuations": ("GET", "/budget-linkage"),
    "objectHistory": ("GET", "/objects/{object_id}/history"),
    "objectState": ("GET", "/objects/{object_id}/state"),
    "verifierKey": ("GET", "/log/key"),
    "latestCheckpoint": ("GET", "/log/checkpoint"),
    "latestCheckpointNote": ("GET", "/log/checkpoint/note"),
    "checkpoints": ("GET", "/log/checkpoints"),
    "inclusionProof": ("GET", "/log/proofs/inclusion"),
    "consistencyProof": ("GET", "/log/proofs/consistency"),
    "leaf": ("GET", "/log/leaves/{leaf_index}"),
    "auditBundle": ("GET", "/projects/{project_id}/bundle"),
    "readFeed": ("GET", "/events"),
    "stream": ("GET", "/events/stream"),
    "subscribe": ("POST", "/subscriptions"),
    "listSubscriptions": ("GET", "/subscriptions"),
    "getSubscription": ("GET", "/subscriptions/{subscription_id}"),
    "enableSubscription": ("POST", "/subscriptions/{subscription_id}/enable"),
    "disableSubscription": ("POST", "/subscriptions/{subscription_id}/disable"),
    "unsubscribe": ("DELETE", "/subscriptions/{subscription_id}"),
    "deliveries": ("GET", "/subscriptions/{subscription_id}/deliveries"),
    "issueToken": ("POST", "/admin/tokens"),
    "listTokens": ("GET", "/admin/tokens"),
    "revokeToken": ("DELETE", "/admin/tokens/{token_id}"),
    "healthz": ("GET", "/healthz"),
    "readyz": ("GET", "/readyz"),
    "metrics": ("GET", "/metrics"),
    "problemTypes": ("GET", "/problems"),
}
# Words a generated client could not use as a method name (Python, JavaScript/TypeScript, Java, Go).
RESERVED = set(keyword.kwlist) | {
    "delete", "new", "function", "var", "let", "const", "default", "switch", "case", "this", "void", "typeof",
    "instanceof", "export", "extends", "super", "package", "private", "public", "protected", "static", "interface",
    "enum", "func", "go", "map", "range", "select", "type", "chan", "defer", "fallthrough", "goto",
}  # fmt: skip


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    settings = settings_for(
        "postgresql://unused@127.0.0.1/unused", tmp_path_factory.mktemp("ids"), SigningKey.generate("x")
    )
    return create_app(settings)


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_has_a_short_unique_id_a_client_can_use(app: FastAPI) -> None:
    ids = [operation.get("operationId", "") for _, _, operation in _operations(app)]
    assert len(ids) > 60
    assert len(set(ids)) == len(ids), sorted(name for name in ids if ids.count(name) > 1)
    for name in ids:
        assert OPERATION_ID.match(name), f"{name!r} is not lower camel case"
        assert len(name) <= 40, name
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        assert name not in RESERVED, f"{name!r} is a reserved word somewhere"
        assert snake not in RESERVED, f"{snake!r} is a reserved word somewhere"


def test_an_operation_id_is_its_endpoints_name_in_camel_case_unless_the_route_names_one(app: FastAPI) -> None:
    routes = [route for route in app.routes if isinstance(route, APIRoute) and route.include_in_schema]
    assert routes
    assert all(isinstance(route, LedgerRoute) for route in routes)
    for route in routes:
        assert route.operation_id == operation_id_for(route.endpoint), route.path
    assert operation_id_for(test_an_operation_id_is_its_endpoints_name_in_camel_case_unless_the_route_names_one) == (
        "testAnOperationIdIsItsEndpointsNameInCamelCaseUnlessTheRouteNamesOne"
    )


def test_a_route_declared_later_gets_an_id_by_the_same_rule_and_may_name_its_own() -> None:
    from fastapi import APIRouter

    router = APIRouter(prefix="/things", route_class=LedgerRoute)

    @router.get("/{thing_id}/parts")
    def list_thing_parts() -> list[str]:
        """Parts."""
        return []

    @router.get("/named", operation_id="chosenName")
    def whatever() -> list[str]:
        """Named."""
        return []

    assert [route.operation_id for route in router.routes if isinstance(route, APIRoute)] == [
        "listThingParts",
        "chosenName",
    ]


def test_published_operation_ids_keep_naming_the_same_routes(app: FastAPI) -> None:
    found = {operation["operationId"]: (method, path) for method, path, operation in _operations(app)}
    changed = {name: (route, found.get(name)) for name, route in PUBLISHED.items() if found.get(name) != route}
    assert not changed, changed
