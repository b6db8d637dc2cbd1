"""What the OpenAPI document says beyond FastAPI's own: a short, stable operation id for every route.

An operation id is the endpoint function's name in lower camel case (``report_monitoring`` → ``reportMonitoring``):
what a generated client names the method (``ProjectsApi.reportMonitoring``), unique across the document, set by
:class:`api.body.LedgerRoute` for every route that does not name its own. FastAPI's would be
``report_monitoring_projects__project_id__monitoring_reports_post``. Operation ids are a contract with integrators:
renaming an endpoint function renames its operation (tests/api/test_operation_ids.py keeps the published ones).
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from api.problems import STATUS_DESCRIPTIONS, TYPE_PREFIX, problem_codes
from ledger.application.ledger import Ledger
from ledger.domain.errors import CATALOGUE
from ledger.store.tlog import TransparencyLog

OPERATION_ID = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def operation_id_for(endpoint: Callable[..., Any]) -> str:
    """``report_monitoring`` → ``reportMonitoring``."""
    head, *rest = [part for part in endpoint.__name__.split("_") if part]
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# ------------------------------------------------------------------------------------------- problem types

# Each error response of each operation lists the problem types it may carry (``x-problem-types``, and in its
# description), from what the route does:
#
# - the edge's, by its traits: a JSON body (``malformed-body``, ``body-too-large``, ``unsupported-media-type``),
#   parameters (``validation-failed``), an id in the path (``not-an-id``), a token (``unauthenticated``), a role
#   required (``role-not-allowed``), a command (``precondition-malformed``, ``idempotency-key-in-flight``),
#   ``min_position`` (``projection-lagging``), the database (``database-unavailable``), and ``service-stopping``;
# - those its own module names on the way (``raise NotFound(..., code="project-not-found")`` in the endpoint or a
#   helper of its module it calls);
# - for a command, every refusal of the ledger, by kind and so by status (``wrong-stage`` … under 409): which of them
#   a given command meets depends on the state it finds, and ``GET /problems`` describes each.
#
# The statuses those types have are documented too. tests/api/test_openapi.py checks, while fuzzing the live service,
# that every problem answered is one its operation lists.


DOMAIN_EXCEPTIONS = {"DomainError", "InvalidInput", "NotFound", "Forbidden", "RuleViolation", "VersionConflict"}
DB_DEPENDENCIES = {"read_connection", "get_ledger", "get_log", "command_context", "current_principal"}
# Whose functions are followed: the edge's own and the ledger's use cases (a command's refusals deeper down, in the
# aggregates, are listed by kind).
OURS = ("api.", "ledger.application.", "ledger.store.tlog")
SERVICES: dict[str, type] = {"ledger": Ledger, "log": TransparencyLog}
NEVER_LISTED = {"internal-error", "not-found", "method-not-allowed", "not-acceptable"}  # no route of ours answers them


@dataclass(frozen=True)
class Traits:
    """What a route does that decides the problems it may answer with."""

    body: bool
    parameters: bool
    id_in_path: bool
    authenticated: bool
    roles: bool
    command: bool
    min_position: bool
    database: bool
    named: frozenset[str]  # the codes its own module names on its way


def _calls(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _calls(sub)


def traits(route: APIRoute) -> Traits:
    dependants = list(_calls(route.dependant))
    calls = [item.call for item in dependants if item.call is not None]
    names = {getattr(call, "__name__", "") for call in calls}
    path = [field for item in dependants for field in item.path_params]
    query = [field for item in dependants for field in item.query_params]
    return Traits(
        body=route.body_field is not None,
        parameters=bool(path or query or route.body_field is not None),
        id_in_path=any(field.field_info.annotation is UUID for field in path),
        authenticated=bool({"current_principal", "command_context"} & names),
        roles=any(getattr(call, "__qualname__", "").startswith("require.") for call in calls)
        or "command_context" in names,
        command="command_context" in names,
        min_position=any(field.name == "min_position" for field in query),
        database=bool(DB_DEPENDENCIES & names),
        # a route made from another (a read model's download from its list route) answers that one's problems too
        # and a route made at run time (a closure, whose source this reading cannot find) names its own codes
        named=frozenset(
            _named_on_the_way(route.endpoint)
            | _named_on_the_way(getattr(route.endpoint, "made_from", route.endpoint))
            | set(getattr(route.endpoint, "problem_codes", ()))
        ),
    )


def problem_types(route: APIRoute) -> dict[int, list[str]]:
    """Status -> the problem types (codes) ``route`` may answer with under it."""
    found = traits(route)
    codes = set(found.named)
    for code, applies in (
        ("malformed-body", found.body),
        ("body-too-large", found.body),
        ("unsupported-media-type", found.body),
        ("validation-failed", found.parameters),
        ("not-an-id", found.id_in_path),
        ("unauthenticated", found.authenticated),
        ("role-not-allowed", found.roles),
        ("precondition-malformed", found.command),
        ("idempotency-key-in-flight", found.command),
        ("projection-lagging", found.min_position),
        ("invalid-value", found.min_position),
        ("database-unavailable", found.database),
        ("service-stopping", True),
    ):
        if applies:
            codes.add(code)
    if found.command:
        codes |= set(CATALOGUE)
    statuses = problem_codes()
    by_status: dict[int, list[str]] = {}
    for code in sorted(codes - NEVER_LISTED):
        by_status.setdefault(statuses[code][0], []).append(code)
    return dict(sorted(by_status.items()))


def document_problems(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> None:
    """List, under each error response of each operation in ``schema``, the problem types it may carry (adding the
    statuses they have where the route did not name them)."""
    paths = schema.get("paths", {})
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, codes in problem_types(route).items():
                response = responses.setdefault(
                    str(status), {"description": STATUS_DESCRIPTIONS.get(status, "Problem")}
                )
                response["x-problem-types"] = [f"{TYPE_PREFIX}{code}" for code in codes]
                listed = ", ".join(f"`{code}`" for code in codes)
                response["description"] = f"{response.get('description', '')}. Problem types: {listed}".lstrip(". ")
            operation["responses"] = dict(sorted(responses.items()))


def _named_on_the_way(endpoint: Callable[..., Any]) -> set[str]:
    """The problem codes ``endpoint`` names, and those the functions of this service it calls by name name,
    transitively (a helper of its module, or one it imports from another of ours, as ``state_of``)."""
    known = problem_codes()
    found: set[str] = set()
    seen: set[Callable[..., Any]] = set()
    waiting = [endpoint]
    while waiting:
        function = waiting.pop()
        if function in seen:
            continue
        seen.add(function)
        node = _definition(function)
        if node is None:
            continue
        for item in ast.walk(node):
            if isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value in known:
                found.add(item.value)
            elif isinstance(item, ast.Call) and isinstance(item.func, ast.Name):
                name = item.func.id
                if name in DOMAIN_EXCEPTIONS and not any(keyword.arg == "code" for keyword in item.keywords):
                    found.add(_default_code(name))
                called = getattr(function, "__globals__", {}).get(name)
                called = inspect.unwrap(called) if inspect.isfunction(called) else called  # @contextmanager's
                if inspect.isfunction(called) and called.__module__.startswith(OURS):
                    waiting.append(called)
            elif isinstance(item, ast.Call) and isinstance(item.func, ast.Attribute):
                owner = _receiver(item.func, function)
                method = inspect.unwrap(getattr(owner, item.func.attr, None) or _nothing)
                if inspect.isfunction(method) and method.__module__.startswith(OURS):
                    waiting.append(method)
    return found


def _receiver(call: ast.Attribute, caller: Callable[..., Any]) -> type | None:
    """The class whose method ``call`` calls, where it is one of the services the routes hold: ``ledger.x(…)`` and
    ``ctx.ledger.x(…)`` (:class:`Ledger`), ``log.x(…)`` (:class:`TransparencyLog`), or ``self.x(…)`` in a method."""
    receiver = call.value
    if isinstance(receiver, ast.Name) and receiver.id == "self":
        owner = getattr(caller, "__globals__", {}).get(caller.__qualname__.split(".", 1)[0])
        return owner if isinstance(owner, type) else None
    name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return SERVICES.get(name)


def _nothing() -> None:
    """What a name that is no method of the ledger resolves to."""


def _definition(function: Callable[..., Any]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        return _module_functions(inspect.getsourcefile(function) or "").get(function.__qualname__)
    except (OSError, TypeError, SyntaxError):
        return None


@functools.cache
def _module_functions(filename: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """A module's functions and its classes' methods, by qualified name (``Ledger.project``)."""
    with open(filename, encoding="utf-8") as source:
        tree = ast.parse(source.read(), filename)
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{member.name}"] = member
    return found


def _default_code(exception: str) -> str:
    from ledger.domain import errors

    kind: type[errors.DomainError] = getattr(errors, exception)
    return kind.code
