"""Errors as RFC 9457 problem details (``application/problem+json``), each with a stable ``type``.

The ``type`` is ``urn:jixiao:problem:<code>``: the ledger's domain error codes (``goals-not-approved``,
``agency-blacklisted``, …) and a few of the HTTP edge's own (``malformed-body``, ``unauthenticated``, …).
Clients branch on ``type`` (or the same ``code``); ``title`` is English, ``title_zh`` Chinese; ``field`` names
the offending input where there is one, and ``errors`` lists every field a request failed validation on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import psycopg
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.i18n import Language, message, negotiate
from api.logs import REQUEST_ID_HEADER, SCOPE_KEY
from ledger.domain.errors import CATALOGUE, DomainError, ErrorKind

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:jixiao:problem:"

STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.RULE: 409,  # well-formed and allowed, but the project's current state refuses it
    ErrorKind.CONFLICT: 409,
}
STATUS_BY_CODE: dict[str, int] = {"stale-version": 412}  # If-Match named a version that is not the current one

# The HTTP edge's own problems: code -> (status, English title, Chinese title).
EDGE_PROBLEMS: dict[str, tuple[int, str, str]] = {
    "malformed-body": (400, "The request body is not valid JSON", "请求体不是有效的JSON"),
    "validation-failed": (422, "The request does not match the schema", "请求不符合接口格式"),
    "not-an-id": (
        422,
        "An id (UUID) is expected here: look the id up by the code (lookup names where)",
        "此处应为编号（UUID），请按代码查询编号（见lookup）",
    ),
    "unauthenticated": (401, "A valid bearer token is required", "需要有效的访问令牌"),
    "not-found": (404, "No such resource", "资源不存在"),
    "method-not-allowed": (405, "Method not allowed on this resource", "该资源不支持此方法"),
    "not-acceptable": (406, "Cannot produce the requested media type", "无法提供所请求的格式"),
    "body-too-large": (413, "The request body is too large", "请求体过大"),
    "unsupported-media-type": (415, "Send JSON (Content-Type: application/json)", "请以JSON格式提交"),
    "precondition-malformed": (400, 'If-Match must be a quoted version, e.g. "7"', "If-Match格式应为版本号"),
    "projection-lagging": (
        503,
        "The read models have not reached the requested position yet",
        "查询数据尚未更新到所需位置",
    ),
    "too-many-streams": (429, "Too many open event streams", "事件流连接数已达上限"),
    "not-yet-checkpointed": (
        409,
        "No signed checkpoint covers this leaf yet",
        "尚无已签名的检查点覆盖该叶",
    ),
    "idempotency-key-in-flight": (
        409,
        "A request with this idempotency key is still being processed",
        "相同幂等键的请求正在处理中",
    ),
    "webhook-destination-refused": (
        422,
        "The webhook's destination is refused by policy",
        "回调地址被策略拒绝（环回、内网、链路本地、组播等地址）",
    ),
    "database-unavailable": (
        503,
        "The database is unavailable for a moment; retry shortly",
        "数据库暂不可用，请稍后重试",
    ),
    "not-ready": (503, "Not ready: a role this process runs is down or behind", "服务未就绪：后台任务中断或滞后"),
    "role-stopped": (503, "A role this process runs has stopped: restart the process", "后台任务已停止，请重启进程"),
    "service-stopping": (
        503,
        "The service stopped before the request finished; retry",
        "服务正在停止，请求未完成，请重试",
    ),
    "cross-site-form": (
        403,
        "A console form is accepted only from the console's own pages (same origin)",
        "管理台表单只接受来自本服务页面的提交（同源）",
    ),
    "internal-error": (500, "Internal error", "内部错误"),
}
# Failures of the database itself (restarting, a session ended, no connection to be had in time), as the driver and
# the event-sourcing library raise them: worth a retry, never a 500. A command that failed so recorded nothing,
# or was settled as recorded (ledger.recorder.LedgerRecorder.insert_events).
UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
)
RETRY_AFTER = "1"  # seconds, in every 503


class FieldError(BaseModel):
    field: str = Field(description="Where in the request: a dotted path such as body.indicators.0.weight")
    message: str = Field(
        description="What is wrong, in the language Accept-Language asks for (zh-CN or en); without one, Chinese "
        "with the English beside it"
    )
    code: str = Field(
        default="", description="The kind of error, stable (pydantic's: missing, string_too_long, uuid_parsing, …)"
    )


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:jixiao:problem:goals-not-approved",
                    "title": "No approved goals, no budget",
                    "status": 409,
                    "detail": "goals of JY-01 are not rated 优/良 (rating: 中): no approved goals, no budget",
                    "instance": "/projects/5c1e…/budget-approval",
                    "code": "goals-not-approved",
                    "title_zh": "未审核通过绩效目标不得批复预算",
                    "field": None,
                    "errors": [],
                }
            ]
        }
    )

    type: str = Field(description="Stable URI naming the kind of problem: urn:jixiao:problem:<code>")
    title: str
    status: int
    detail: str = ""
    instance: str = Field(default="", description="The request path")
    code: str = Field(description="The same as the end of type: what clients branch on")
    title_zh: str = ""
    field: str | None = None
    errors: list[FieldError] = Field(default_factory=list)
    lookup: str | None = Field(
        default=None,
        description="Where to find the id a code names (not-an-id): a URI template, e.g. "
        "/projects/lookup?fiscal_year={fiscal_year}&code=NY-01",
    )


def problem_codes() -> dict[str, tuple[int, str, str]]:
    """Every problem this service can answer with: code -> (status, title, title_zh)."""
    domain = {
        code: (STATUS_BY_CODE.get(code, STATUS_BY_KIND[kind]), title, title_zh)
        for code, (kind, title, title_zh) in CATALOGUE.items()
    }
    return {**domain, **EDGE_PROBLEMS}


def problem_response(
    request: Request | None,
    code: str,
    detail: str = "",
    *,
    status: int | None = None,
    field: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    lookup: str | None = None,
) -> JSONResponse:
    known_status, title, title_zh = problem_codes()[code]
    problem = Problem(
        type=f"{TYPE_PREFIX}{code}",
        title=title,
        status=status or known_status,
        detail=detail,
        instance=request.url.path if request is not None else "",
        code=code,
        title_zh=title_zh,
        field=field,
        errors=errors or [],
        lookup=lookup,
    )
    return JSONResponse(
        problem.model_dump(mode="json"), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers
    )


class EdgeProblem(Exception):
    """Raised by the HTTP edge for one of EDGE_PROBLEMS."""

    def __init__(self, code: str, detail: str = "", *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail
        self.headers = headers


def domain_status(error: DomainError) -> int:
    return STATUS_BY_CODE.get(error.code, STATUS_BY_KIND[error.kind])


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


# A path's id parameter → what it names (English, Chinese), and where to find the id from what people call it.
ID_LOOKUPS: dict[str, tuple[str, str, str]] = {
    "project_id": ("project", "项目", "/projects/lookup?fiscal_year={{fiscal_year}}&code={value}"),
    "department_id": ("department", "部门", "/departments"),
    "organisation_id": ("department or budget unit", "部门或预算单位", "/units"),
    "agency_id": ("agency", "第三方机构", "/agencies"),
    "decision_id": ("decision", "决定", "/decisions"),
    "subscription_id": ("subscription", "订阅", "/subscriptions"),
}
SHOWN = 64  # characters of a wrong id repeated back


def _is_wrong_id(issue: dict[str, Any]) -> bool:
    location = tuple(issue.get("loc", ()))
    return issue.get("type") in ("uuid_parsing", "uuid_type") and len(location) == 2 and location[0] == "path"


def _not_an_id(
    request: Request, issue: dict[str, Any], language: Language, errors: list[FieldError], headers: dict[str, str]
) -> JSONResponse:
    """``GET /projects/NY-01``: a code where the path takes an id. Say so, and where the id is found."""
    name = str(issue["loc"][1])
    value = str(issue.get("input", ""))[:SHOWN]
    what, what_zh, where = ID_LOOKUPS.get(name, ("object", "对象", ""))
    lookup = where.format(value=quote(value, safe="")) or None
    english = f"{value!r} is not a {what} id (a UUID)" + (f": find it at {lookup}" if lookup else "")
    if name == "project_id":
        listing = f"/projects?code={quote(value, safe='')}"
        english += f" (the fiscal year and the code), or list the projects of that code: {listing}"
        zh = f"“{value}”不是项目编号（UUID）：请按年度和项目代码查询编号 {lookup}，或列出该代码的项目 {listing}"
    else:
        zh = f"“{value}”不是{what_zh}编号（UUID）" + (f"：请在 {lookup} 查询编号" if lookup else "")
    detail = {Language.EN: english, Language.ZH: zh}.get(language, f"{zh}（{english}）")
    return problem_response(
        request, "not-an-id", detail, field=f"path.{name}", errors=errors, headers=headers, lookup=lookup
    )


def install(app: FastAPI) -> None:
    """Answer every error, the framework's included, as problem+json."""

    @app.exception_handler(DomainError)
    async def on_domain_error(request: Request, error: DomainError) -> JSONResponse:
        return problem_response(request, error.code, error.detail, status=domain_status(error), field=error.field)

    @app.exception_handler(EdgeProblem)
    async def on_edge_problem(request: Request, error: EdgeProblem) -> JSONResponse:
        return problem_response(request, error.code, error.detail, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        issues = list(error.errors())
        if any(issue.get("type") == "json_invalid" for issue in issues):
            reasons = "; ".join(str((issue.get("ctx") or {}).get("error", issue.get("msg"))) for issue in issues)
            return problem_response(request, "malformed-body", reasons)
        language = negotiate(request.headers.get("accept-language"))
        errors = [
            FieldError(
                field=_location(issue.get("loc", ())), message=message(issue, language), code=str(issue.get("type", ""))
            )
            for issue in issues
        ]
        headers = {"Content-Language": language.value, "Vary": "Accept-Language"}
        wrong_id = next((issue for issue in issues if _is_wrong_id(issue)), None)
        if wrong_id is not None:
            return _not_an_id(request, wrong_id, language, errors, headers)
        first = errors[0] if errors else None
        detail = ("；" if language is not Language.EN else "; ").join(
            f"{item.field}: {item.message}" for item in errors
        )
        return problem_response(
            request, "validation-failed", detail, field=first.field if first else None, errors=errors, headers=headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {
            400: "malformed-body",
            401: "unauthenticated",
            404: "not-found",
            405: "method-not-allowed",
            406: "not-acceptable",
            413: "body-too-large",
            415: "unsupported-media-type",
        }.get(error.status_code, "internal-error")
        return problem_response(
            request, code, str(error.detail), status=error.status_code, headers=dict(error.headers or {})
        )

    async def on_unavailable(request: Request, error: Exception) -> JSONResponse:
        logger.warning(
            "%s %s: the database is unavailable (%s: %s)", request.method, request.url.path, type(error).__name__, error
        )
        return problem_response(request, "database-unavailable", "retry shortly", headers={"Retry-After": RETRY_AFTER})

    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, on_unavailable)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        # Answered outside the request log's middleware (Starlette's last resort): the request's id, from its scope.
        request_id = request.scope.get(SCOPE_KEY)
        if request_id is None:
            return problem_response(request, "internal-error", "see the service log")
        return problem_response(
            request,
            "internal-error",
            f"see the service log, request {request_id}",
            headers={REQUEST_ID_HEADER: request_id},
        )


class CutAtShutdown:
    """Answer 503 ``service-stopping`` to a request the shutdown cuts short.

    Asked to stop, uvicorn lets open requests finish for ``JIXIAO_SHUTDOWN_TIMEOUT`` seconds, then cancels them: it
    would answer 500 and log a traceback for each. Here a cut request is answered 503 with Retry-After (if nothing was
    sent yet) and logged in one line; its cancellation ends with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # only the server cancels a request's task: as it stops, after the grace period
            logger.warning("%s %s cut short: the service stopped", scope.get("method"), scope.get("path"))
            if not started:
                response = problem_response(
                    Request(scope),
                    "service-stopping",
                    "retry: this instance is stopping",
                    headers={"Retry-After": RETRY_AFTER, "Connection": "close"},
                )
                await response(scope, receive, send)


STATUS_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request",
    401: "No valid token",
    403: "This principal may not",
    404: "Not found",
    409: "Refused by the rules, or a concurrent change",
    412: "If-Match names an older version",
    413: "Body too large",
    415: "Not JSON",
    422: "Invalid input",
    429: "Too many open streams (Retry-After)",
    503: "Read models lagging, or the database unavailable for a moment (Retry-After)",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems a route may answer with (rewritten to problem+json by the app, which
    lists under each the problem types it may carry: :func:`api.openapi.document_problems`)."""
    return {
        status: {"model": Problem, "description": STATUS_DESCRIPTIONS.get(status, "Problem")} for status in statuses
    }


COMMAND_PROBLEMS = documented(400, 401, 403, 404, 409, 412, 413, 415, 422)
QUERY_PROBLEMS = documented(401, 403, 422, 503)
