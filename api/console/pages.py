"""The console's frame (管理台): its router, sign-in with a token, the language, the page renderer and the error page.

- **Sign-in.** The user pastes a bearer token; it is kept in an HttpOnly, ``SameSite=Strict`` cookie scoped to
  ``/console`` (``Secure`` over https). Each console request carries it to the API's own token checks
  (:func:`api.auth.authenticate`) as the ``Authorization`` header it stands for (:class:`ConsoleRoute`), so a
  revoked token stops working on the next page as it does on the API, and the console sees exactly what the token
  may see. The API's own routes never read the cookie: a cross-site page cannot make the browser act with it.
- **CSRF.** A console POST (sign-in, sign-out) is refused unless its ``Origin`` (or, without one, its ``Referer``)
  is the service itself; the cookie's ``SameSite=Strict`` keeps it off cross-site requests besides.
- **Reading through the API.** :func:`forward` hands a GET to the service's own routes with the token, in process;
  ``/console/api/...`` does it for the pages' scripts and the downloads' links, so the console reads with the API's
  filters, roles and scopes and never a query of its own. It forwards GETs only, to the API's own paths only (never
  the console's, never a path with an empty, ``.`` or ``..`` segment), and its answers are ``no-store``, never
  framed and sandboxed (:data:`FORWARDED_HEADERS`).
- **Headers.** Every page is ``no-store`` with a strict Content-Security-Policy (no inline script or style) and
  ``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for the browsers that know no CSP.
- **Language.** Chinese by default; ``?lang=en`` (or ``zh``) switches and is remembered in a cookie.
- **Errors.** A refusal, a bad parameter, a missing page or a fault answers the console's own page (Chinese and
  English) with the right status; a token that no longer works leads back to the sign-in page.

Over 500 lines: the token cookie, the CSRF check, the forwarding to the API and the error pages are one security
boundary — every console request passes each of them on the one router defined here, and the forwarding's route
(``/console/api/...``) must sit on that router — so a reviewer checks the boundary in one file; cut apart, the
pieces would import one another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import cookie_parser
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from api.auth import PUBLIC, PrincipalDep, authenticate
from api.console.strings import HTML_LANG, LANGS, Lang, translate
from api.labels import label as code_label
from api.params import check_parameters
from api.problems import UNAVAILABLE, EdgeProblem, problem_codes
from ledger.domain.errors import DomainError, Forbidden
from ledger.domain.values import Principal, Role

logger = logging.getLogger(__name__)

PREFIX = "/console"
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
STATIC_PREFIX = f"{PREFIX}/static"
API_PREFIX = f"{PREFIX}/api"

TOKEN_COOKIE = "jixiao_console"  # noqa: S105 (the cookie's name, not a secret)
LANG_COOKIE = "jixiao_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600
MAX_TOKEN = 200  # characters; an issued token is 47

# Only the service itself: its scripts, styles and images, its own API for the pages' fetches; no inline script.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",  # a page shows what its reader's token may see
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for the browsers that do not know CSP (IE-mode intranet browsers)
}

templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a misspelt name fails the page's test, not silently blank
    trim_blocks=True,
    lstrip_blocks=True,
)


class LoginRequired(Exception):
    """The page needs a signed-in reader; ``expired``: the cookie's token no longer works."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("sign in")
        self.expired = expired


class ConsoleRoute(APIRoute):
    """A console page: the sign-in cookie read as the bearer token it holds, and every failure answered as the
    console's own page (never problem+json, never a traceback)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().handle(with_token(scope), receive, send)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                check_parameters(request)
                response = await handler(request)
            except LoginRequired as needed:
                response = _to_login(request, expired=needed.expired)
            except EdgeProblem as problem:
                if problem.code == "unauthenticated":
                    response = _to_login(request, expired=TOKEN_COOKIE in request.cookies)
                else:
                    response = error_page(request, problem.code, problem.detail)
            except DomainError as error:
                response = error_page(request, error.code, error.detail)
            except RequestValidationError as invalid:
                detail = "; ".join(
                    f"{'.'.join(str(part) for part in issue.get('loc', ()))}: {issue.get('msg', '')}"
                    for issue in invalid.errors()
                )
                response = error_page(request, "validation-failed", detail)
            except StarletteHTTPException as error:
                code = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "malformed-body")
                response = error_page(request, code, str(error.detail), status=error.status_code)
            except UNAVAILABLE as error:
                logger.warning("%s: the database is unavailable (%s)", request.url.path, type(error).__name__)
                response = error_page(request, "database-unavailable", "")
            except Exception:
                logger.exception("console page %s failed", request.url.path)
                response = error_page(request, "internal-error", translate(lang_of(request), "internal"))
            return remember_lang(request, response)

        return handle


router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=ConsoleRoute)
router.mount(STATIC_PREFIX, StaticFiles(directory=STATIC, check_dir=False), name="console-static")


# --------------------------------------------------------------------------------------------- the token


def with_token(scope: Scope) -> Scope:
    """``scope`` with the sign-in cookie's token as its ``Authorization`` header (unless it has one)."""
    headers: list[tuple[bytes, bytes]] = list(scope.get("headers", ()))
    if any(name == b"authorization" for name, _ in headers):
        return scope
    token = _cookie_token(headers)
    if token is None:
        return scope
    return {**scope, "headers": [*headers, (b"authorization", b"Bearer " + token.encode("ascii"))]}


def _cookie_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"cookie":
            token = cookie_parser(value.decode("latin-1")).get(TOKEN_COOKIE)
            if token and _plausible(token):
                return token
    return None


def _plausible(token: str) -> bool:
    """A token the Authorization header can carry (printable ASCII, bounded); anything else is no token."""
    return 0 < len(token) <= MAX_TOKEN and token.isascii() and token.isprintable() and " " not in token


async def viewer(request: Request, principal: PrincipalDep) -> Principal:
    """The reader of a console page: the signed-in principal, or ``public`` with no cookie. A cookie whose token
    no longer works leads to the sign-in page."""
    request.state.console_principal = principal
    return principal


Viewer = Annotated[Principal, Depends(viewer)]


async def signed_in(principal: Viewer) -> Principal:
    """The signed-in principal, or a redirect to the sign-in page (which comes back here once signed in)."""
    if principal.role == Role.PUBLIC:
        raise LoginRequired
    return principal


SignedIn = Annotated[Principal, Depends(signed_in)]


def needs(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency admitting signed-in principals of ``roles`` only; any other role gets the 403 page."""

    async def check(principal: SignedIn) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise Forbidden(
                f"role {principal.role} may not see this page (allowed: {allowed})", code="role-not-allowed"
            )
        return principal

    return check


# --------------------------------------------------------------------------------------------- language


def lang_of(request: Request) -> Lang:
    """The page's language: ``?lang=``, else the remembered choice, else Chinese."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if chosen in LANGS:
            return "en" if chosen == "en" else "zh"
    return "zh"


def remember_lang(request: Request, response: Response) -> Response:
    chosen = request.query_params.get("lang")
    if chosen in LANGS and chosen != request.cookies.get(LANG_COOKIE):
        response.set_cookie(
            LANG_COOKIE, chosen, max_age=LANG_COOKIE_AGE, path=PREFIX, samesite="strict", secure=_https(request)
        )
    return response


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


# --------------------------------------------------------------------------------------------- rendering


def root(request: Request) -> str:
    """The path the service is mounted at behind a proxy (``--root-path``)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def url_with(request: Request, **changes: Any) -> str:
    """This page's own path and query with ``changes`` (a value of None drops the parameter)."""
    params = [(name, value) for name, value in request.query_params.multi_items() if name not in changes]
    params += [(name, str(value)) for name, value in changes.items() if value is not None and value != ""]
    query = urlencode(params)
    return f"{root(request)}{request.url.path}" + (f"?{query}" if query else "")


# Who may open a project's page: its history is read through the API, which gives no agency and nobody unsigned a
# project's history, so their pages name projects without linking to a page that would refuse them.
NO_PROJECT_PAGES = frozenset({Role.AGENCY, Role.PUBLIC})


def project_pages(request: Request) -> str | None:
    """Where the reader's project pages are (``…/console/projects``), or None if the reader may open none."""
    principal: Principal = getattr(request.state, "console_principal", PUBLIC)
    return None if principal.role in NO_PROJECT_PAGES else f"{root(request)}{PREFIX}/projects"


def common(request: Request) -> dict[str, Any]:
    """What every template is given: the reader, the language and its helpers."""
    lang = lang_of(request)
    principal: Principal = getattr(request.state, "console_principal", PUBLIC)
    base = root(request)

    def label(vocabulary: str, code: Any) -> Any:
        """A code's label in the page's language: Chinese from the domain's labels, else the code itself."""
        return code_label(vocabulary, code) if lang == "zh" else code

    return {
        "request": request,
        "principal": principal,
        "signed_in": principal.role != Role.PUBLIC,
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "t": lambda key: translate(lang, key),
        "label": label,
        "href": lambda path: f"{base}{path}",
        "static": lambda path: f"{base}{STATIC_PREFIX}/{path}",
        "url_with": lambda **changes: url_with(request, **changes),
        "path": request.url.path,
        "project_pages": project_pages(request),
    }


def render(request: Request, template: str, /, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` (a file under api/console/templates) with the common context and ``context``."""
    html = templates.get_template(template).render({**common(request), **context})
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def error_page(request: Request, code: str, detail: str = "", *, status: int | None = None) -> HTMLResponse:
    """The console's page for a problem (its code from the catalogue: Chinese and English titles)."""
    known, title, title_zh = problem_codes().get(code, problem_codes()["internal-error"])
    return render(
        request,
        "error.html",
        status_code=status or known,
        status=status or known,
        code=code,
        title=title,
        title_zh=title_zh,
        detail=detail,
    )


def _to_login(request: Request, *, expired: bool) -> Response:
    target = f"{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
    query = urlencode({"next": target, **({"expired": "1"} if expired else {})})
    response = RedirectResponse(f"{root(request)}{PREFIX}/login?{query}", status_code=303)
    if expired:
        _forget_token(request, response)
    return response


def _forget_token(request: Request, response: Response) -> None:
    response.delete_cookie(TOKEN_COOKIE, path=PREFIX, secure=_https(request), httponly=True, samesite="strict")


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path of this service, never another site."""
    if target and target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return PREFIX


# --------------------------------------------------------------------------------------------- CSRF


def same_origin(request: Request) -> bool:
    """Whether a POST comes from the service's own pages: its ``Origin`` (or ``Referer``) is this service."""
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("referer")
    if referer is not None:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" == own
    return False


async def form_of(request: Request) -> dict[str, str]:
    """A url-encoded form's fields (the last value of each), read without a multipart parser."""
    from urllib.parse import parse_qsl

    body = await request.body()
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20))
    except (UnicodeDecodeError, ValueError):
        return {}


# --------------------------------------------------------------------------------------------- sign-in


@router.get("/login")
async def login_form(request: Request, next: str | None = None, expired: bool = False) -> HTMLResponse:
    """The sign-in page: paste a token."""
    message = "token_expired" if expired else None
    return render(request, "login.html", next=_safe_next(next), message=message)


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the pasted token with the API's own checks; keep it in the console's cookie."""
    if not same_origin(request):
        raise EdgeProblem("cross-site-form", "the form's Origin (or Referer) is not this service")
    form = await form_of(request)
    token = form.get("token", "").strip()
    target = _safe_next(form.get("next"))
    principal = None
    if _plausible(token):
        probe = Request(with_token({**request.scope, "headers": [(b"authorization", f"Bearer {token}".encode())]}))
        try:
            principal = await authenticate(probe, _bearer(token))
        except EdgeProblem:
            principal = None
    if principal is None or principal.role == Role.PUBLIC:
        return render(request, "login.html", status_code=401, next=target, message="token_refused")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        TOKEN_COOKIE, token, path=PREFIX, httponly=True, samesite="strict", secure=_https(request), max_age=None
    )
    return response


def _bearer(token: str) -> Any:
    from fastapi.security import HTTPAuthorizationCredentials

    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Forget the token (the cookie); the token itself stays valid until an administrator revokes it."""
    if not same_origin(request):
        raise EdgeProblem("cross-site-form", "the form's Origin (or Referer) is not this service")
    response = RedirectResponse(f"{root(request)}{PREFIX}/login", status_code=303)
    _forget_token(request, response)
    return response


# --------------------------------------------------------------------------------------------- the API, in process


async def forward(
    request: Request, path: str, params: Mapping[str, Any] | None = None, *, public: bool = False
) -> tuple[int, bytes]:
    """GET ``path`` (an API path such as ``/projects``) from the service's own routes, in process, as the console's
    reader (its token; ``public``: as the public, without it), with ``params`` as the query; the status and the
    body. The API's filters, roles, scopes and problems apply unchanged."""
    scope = _api_scope(request, path, params, public=public)
    status = 500
    body: list[bytes] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await request.app.router(scope, receive, send)
    return status, b"".join(body)


def _api_scope(request: Request, path: str, params: Mapping[str, Any] | None, *, public: bool = False) -> Scope:
    if not path.startswith("/") or path.startswith(PREFIX):
        raise EdgeProblem("not-found", f"{path} is not an API path")
    query = urlencode(
        [
            (name, str(v))
            for name, value in (params or {}).items()
            for v in (value if isinstance(value, list) else [value])
        ]
    )
    keep = {b"accept-language", b"host", b"user-agent"} | (set() if public else {b"authorization"})
    headers = [(name, value) for name, value in with_token(request.scope)["headers"] if name in keep]
    scope = {
        key: value
        for key, value in request.scope.items()
        if key not in ("router", "endpoint", "route", "path_params", "state")
    }
    scope.update(
        {
            "method": "GET",
            "path": path,
            "raw_path": path.encode("utf-8"),
            "query_string": query.encode("ascii"),
            "headers": headers,
            "path_params": {},
            "state": {},
        }
    )
    return scope


# What the passthrough answers is what the reader's token reads, as a page is: not stored, not framed, not sniffed;
# and whatever the route's own type (the API docs' HTML), a sandboxed document that may load and run nothing.
FORWARDED_HEADERS = {
    b"cache-control": b"no-store",
    b"content-security-policy": b"default-src 'none'; frame-ancestors 'none'; sandbox",
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
}


class _Forwarded(Response):
    """An API GET answered as the API answers it (streamed: a download passes through as it is written), with
    :data:`FORWARDED_HEADERS` in place of the route's own."""

    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope = scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(name, value) for name, value in message.get("headers", ()) if name not in FORWARDED_HEADERS]
                message = {**message, "headers": [*kept, *FORWARDED_HEADERS.items()]}
            await send(message)

        app = scope["app"]
        try:
            await app.router(self.scope, receive, guarded)
        except StarletteHTTPException as error:  # the router's own 404 or 405, outside every route's handlers
            answer = await app.exception_handlers[StarletteHTTPException](Request(self.scope), error)
            await answer(self.scope, receive, guarded)


@router.get("/api/{path:path}")
async def api_passthrough(request: Request, path: str) -> Response:
    """The API's GET routes for the console's pages and links, with the reader's token: ``/console/api/projects.csv
    ?fiscal_year=2021`` is ``GET /projects.csv?fiscal_year=2021`` as the signed-in reader."""
    return passthrough(request, path, public=False)


def passthrough(request: Request, path: str, *, public: bool) -> Response:
    """The API's answer to a GET of ``/path`` with this request's query, as the reader (or as the public).

    Only a path as the API's routes spell them: no empty, ``.`` or ``..`` segment, which no route has and which
    would otherwise have the API's router answer a redirect (a trailing slash) to the Host the request named."""
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        raise EdgeProblem("not-found", f"/{path} is not an API path")
    scope = _api_scope(request, f"/{path}", None, public=public)
    scope["query_string"] = request.scope.get("query_string", b"")
    return _Forwarded(scope)


# --------------------------------------------------------------------------------------------- pages


async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking read (a projection's query) off the event loop."""
    return await run_in_threadpool(function, *args)


def finish() -> None:
    """Close the router: every other console path answers the console's 404 page. Called once every page module has
    added its routes (api/console/__init__.py)."""

    @router.get("/{rest:path}")
    async def not_found(request: Request, _reader: Viewer, rest: str) -> Response:
        if rest == "":  # /console/ is the home page
            return RedirectResponse(f"{root(request)}{PREFIX}", status_code=308)
        return error_page(request, "not-found", translate(lang_of(request), "page_not_found"))
