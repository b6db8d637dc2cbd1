"""What the OpenAPI document tells integrators beyond FastAPI's own: the problem types each error response may carry,
and the Chinese label beside every code an answer holds (no database: the document alone)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from api.app import create_app
from api.labels import SUFFIX, Labelled
from api.problems import TYPE_PREFIX, problem_codes
from ledger.domain.errors import CATALOGUE
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import settings_for


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    key = SigningKey.generate("x")
    app: FastAPI = create_app(settings_for("postgresql://unused@127.0.0.1/unused", tmp_path_factory.mktemp("doc"), key))
    return app.openapi()


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {operation["operationId"]: operation for item in document["paths"].values() for operation in item.values()}


def _types(operation: dict[str, Any], status: int) -> set[str]:
    listed = operation["responses"].get(str(status), {}).get("x-problem-types", [])
    return {name.removeprefix(TYPE_PREFIX) for name in listed}


def test_every_listed_problem_type_exists_and_has_the_status_it_is_listed_under(document: dict[str, Any]) -> None:
    known = problem_codes()
    listed = 0
    for name, operation in _operations(document).items():
        for status, response in operation["responses"].items():
            for problem in response.get("x-problem-types", []):
                assert problem.startswith(TYPE_PREFIX), (name, problem)
                code = problem.removeprefix(TYPE_PREFIX)
                assert known[code][0] == int(status), (name, status, code)
                assert f"`{code}`" in response["description"], (name, status, code)
                listed += 1
    assert listed > 1000


def test_each_route_lists_the_problems_of_what_it_does(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert "not-an-id" in _types(operations["getProject"], 422)
    assert "project-not-found" in _types(operations["getProject"], 404)
    assert "not-own-department" in _types(operations["getProject"], 403)
    assert "projection-lagging" in _types(operations["getProject"], 503)  # it takes min_position
    assert "goals-not-approved" in _types(operations["approveBudget"], 409)
    assert "stale-version" in _types(operations["approveBudget"], 412)
    assert {"malformed-body", "precondition-malformed"} <= _types(operations["approveBudget"], 400)
    assert _types(operations["approveBudget"], 409) | _types(operations["approveBudget"], 412) >= {
        code for code, (kind, *_) in CATALOGUE.items() if kind.value in ("rule", "conflict")
    }
    assert "sample-not-found" in _types(operations["getSample"], 404)  # raised by the ledger's use case it calls
    assert {"not-yet-existing", "object-not-found"} <= _types(operations["objectState"], 404)  # by a shared helper
    assert _types(operations["healthz"], 503) == {"role-stopped", "service-stopping"}
    assert "not-ready" in _types(operations["readyz"], 503)
    assert "too-many-streams" in _types(operations["stream"], 429)
    # What a route does not do, it does not list.
    assert "role-stopped" not in _types(operations["getProject"], 503)
    assert not _types(operations["listProjects"], 400)  # no body
    assert "not-an-id" not in _types(operations["listProjects"], 422)  # no id in its path
    assert "unauthenticated" not in _types(operations["verifierKey"], 401)  # public, no token read


def _response_schemas(document: dict[str, Any]) -> set[str]:
    """The components an answer (2xx) may be made of, followed through their references."""
    components = document["components"]["schemas"]
    found: set[str] = set()

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"].rsplit("/", 1)[-1]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    waiting = [
        name
        for item in document["paths"].values()
        for operation in item.values()
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for name in refs(response)
    ]
    while waiting:
        name = waiting.pop()
        if name not in found:
            found.add(name)
            waiting.extend(refs(components[name]))
    return found


def _coded_names() -> set[str]:
    def subclasses(cls: type[Labelled]) -> Iterator[type[Labelled]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return {name for model in subclasses(Labelled) for name in model.__coded__}


def test_every_code_an_answer_holds_has_its_chinese_label_beside_it(document: dict[str, Any]) -> None:
    """Whatever answer holds a field named as a labelled code elsewhere (stage, grade, role, …), or an enum, has its
    ``_zh`` beside it: a model added later that forgets to mark its codes is caught here."""
    coded = _coded_names()
    assert {"stage", "grade", "budget_book", "role", "result_decision", "kind", "status"} <= coded
    components = document["components"]["schemas"]
    # The service's own state, and the problem catalogue (its titles are the labels): not codes of the domain.
    exempt = {("Health", "status"), ("Readiness", "status"), ("ProblemType", "type"), ("ProblemType", "status")}
    exempt.add(("EventOut", "type"))  # the feed, rendered by PostgreSQL byte for byte: GET /labels names its types
    missing = []
    for name in sorted(_response_schemas(document)):
        properties = components[name].get("properties", {})
        for field, schema in properties.items():
            if field.endswith(SUFFIX) or (name, field) in exempt:
                continue
            if (field in coded or "enum" in schema) and field + SUFFIX not in properties:
                missing.append(f"{name}.{field}")
    assert not missing, missing
