"""The OpenAPI document is complete (a description and examples for every route, problems for every error), and
schemathesis, fuzzing the live service from that document, finds no 5xx and no response that breaks it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.config.database import drop_database, ensure_database
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import ORIGIN, LiveServer, settings_for
from tests.api.world import build

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def live(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A live server over a recorded world, and a finance token for the fuzzer."""
    name = "jixiao_fuzz_" + SigningKey.generate("x").verifier.key_id.hex()
    url = ensure_database(pg_admin_url, name)
    key = SigningKey.generate(ORIGIN)
    # No dispatcher: the fuzzer's subscriptions name random hosts, and nothing here is about delivering to them.
    app = create_app(settings_for(url, tmp_path_factory.mktemp("fuzz"), key, run_dispatcher=False))
    try:
        with LiveServer(app) as base:
            tokens = {
                who: app.state.tokens.issue(*principal, created_by="test")[0]
                for who, principal in {
                    "finance": ("fin-fuzz", "finance", "市财政局"),
                    "education": ("edu-fuzz", "department", "教育局"),
                    "health": ("hw-fuzz", "department", "卫生健康委员会"),
                    "auditor": ("aud-fuzz", "auditor", "市审计局"),
                    "agency": ("ag-fuzz", "agency", "某咨询评估有限公司"),
                    "admin": ("adm-fuzz", "admin", "信息中心"),
                }.items()
            }
            client = _Client(base, tokens)
            try:
                build(client)  # type: ignore[arg-type]
            finally:
                client.http.close()
            yield base, {"Authorization": f"Bearer {tokens['finance']}"}
    finally:
        drop_database(pg_admin_url, name)


class _Client:
    """Just enough of tests.api.conftest.Service for world.build, over real HTTP."""

    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.tokens = tokens

    def headers(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}

    def post(self, who: str | None, path: str, body: Any = None) -> httpx.Response:
        return self.http.post(path, json=body, headers=self.headers(who))

    def get(self, who: str | None, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.headers(who))


@schemathesis.check
def documented_problem_type(ctx: Any, response: Any, case: Any) -> bool | None:
    """A problem answered is one its operation lists under that status (``x-problem-types``)."""
    if response.status_code < 400:
        return None
    if not response.headers.get("content-type", [""])[0].startswith("application/problem+json"):
        return None  # not a problem (uvicorn's own refusal of a request that is not HTTP): the other checks see it
    listed = case.operation.definition.raw.get("responses", {}).get(str(response.status_code), {})
    problem_type = response.json().get("type")
    if problem_type not in listed.get("x-problem-types", []):
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code} {problem_type}, "
            f"which it does not list: {listed.get('x-problem-types')}"
        )
    return None


CHECKS = [
    not_a_server_error,
    documented_problem_type,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# uvicorn's own answer to a request its HTTP parser refuses, sent before the app is called: no route's, and so no part
# of the app's OpenAPI document.
REFUSED_BEFORE_THE_APP = (400, "text/plain; charset=utf-8", b"Invalid HTTP request received.")


def refused_before_the_app(response: Response) -> bool:
    """Whether ``response`` is uvicorn's refusal of a request that is not valid HTTP, not the app's answer.

    Negative cases carry extra headers of random names, and Hypothesis draws some strings from the constants of the
    project's modules loaded in the process (its "local constants"): ``transfer-encoding``, ``content-length``,
    ``host`` and ``Connection`` among them (api/body.py reads the first two). With a random value such a header is
    not valid HTTP, and uvicorn answers it itself. Which modules are loaded depends on the tests run before in the
    same process, so even derandomized this happened in some full runs and never alone. The app's own error answers
    are problem+json, so this cannot hide one of them; everything else about the response is still checked."""
    content_type = response.headers.get("content-type", [""])[0]
    return (response.status_code, content_type, response.content) == REFUSED_BEFORE_THE_APP


def test_the_live_service_keeps_its_own_openapi_document(live: tuple[str, dict[str, str]]) -> None:
    """Positive and negative cases for every operation, as finance sends them, against the running server."""
    base, auth = live
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if operation.path == "/events/stream":
            continue  # a response that never ends, by design: test_events.py follows it
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
            )
            def call(case: Any) -> None:
                response = case.call(base_url=base, headers=auth)
                if not refused_before_the_app(response):
                    case.validate_response(response, checks=CHECKS, headers=auth)

            try:
                call()
            except Unsatisfiable:
                continue  # no parameters to get wrong: nothing negative to send
            except (Exception, BaseExceptionGroup) as error:  # collect every operation's failures
                failures[f"{operation.label} ({mode.value})"] = str(error)[:2000]
    assert operations > 50
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())


def test_a_request_that_is_not_valid_http_is_refused_before_the_app_and_only_that_is_left_out(
    live: tuple[str, dict[str, str]],
) -> None:
    """What the fuzzer leaves out of its checks is uvicorn's refusal alone: the same case fails them (a 400 the
    document does not give the route), and the app's own answer to a bad request is not taken for it."""
    base, auth = live
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operation = schema["/projects"]["GET"]
    refused = operation.Case(headers={"transfer-encoding": "ha1|"}).call(base_url=base, headers=auth)
    assert refused_before_the_app(refused)
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        operation.Case(headers={"transfer-encoding": "ha1|"}).validate_response(refused, checks=CHECKS, headers=auth)
    answered = operation.Case(query={"limit": "many"}).call(base_url=base, headers=auth)
    assert answered.status_code in (400, 422)
    assert not refused_before_the_app(answered)


def test_every_route_is_described_and_every_body_has_an_example(tmp_path: Path, database_url: str) -> None:
    document = create_app(settings_for(database_url, tmp_path, SigningKey.generate("x"))).openapi()
    components = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("description"), f"{where} has no description"
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                name = body["schema"]["$ref"].rsplit("/", 1)[-1]
                assert components[name].get("examples"), f"{where}: {name} has no example"
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], where
