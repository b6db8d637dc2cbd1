"""The interactive API documentation (接口文档), with every asset served by the service itself.

FastAPI's own ``/docs`` and ``/redoc`` load Swagger UI and ReDoc from a CDN: on a government intranet (政务内网),
which has no internet, they are blank pages. These pages load the copies vendored under ``api/static`` (versions,
licences and checksums in ``api/static/README.md``), and their Content-Security-Policy lets the browser fetch
nothing from anywhere but the service, so a page that still reached out would fail here as it would on the intranet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from api.body import LedgerRoute

STATIC = Path(__file__).resolve().parent.parent / "static"
STATIC_PREFIX = "/static"

SWAGGER_TITLE = "绩效账本 接口文档 · Jixiao Ledger API docs"
REDOC_TITLE = "绩效账本 接口参考 · Jixiao Ledger API reference"

# Only the service itself: scripts and styles from its files (and the pages' own inline start-up script and the
# styles the two libraries set inline), images also as data: URIs, ReDoc's search index in a blob: worker.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    )
)

SWAGGER_JS = "swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui/swagger-ui.css"
FAVICON = "swagger-ui/favicon-32x32.png"
REDOC_JS = "redoc/redoc.standalone.js"
ASSETS = (SWAGGER_JS, SWAGGER_CSS, FAVICON, REDOC_JS)

router = APIRouter(tags=["docs"], route_class=LedgerRoute, include_in_schema=False)
router.mount(STATIC_PREFIX, StaticFiles(directory=STATIC, check_dir=False), name="static")


def check_assets() -> None:
    """Refuse an install whose package lacks the files the pages load (the image's build runs this)."""
    missing = [path for path in ASSETS if not (STATIC / path).is_file()]
    if missing:
        raise RuntimeError(f"the API docs' vendored files are missing from {STATIC}: {', '.join(missing)}")


def _root(request: Request) -> str:
    """The path the service is mounted at behind a proxy (``--root-path``), as FastAPI's own pages prefix it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _asset(request: Request, path: str) -> str:
    return f"{_root(request)}{STATIC_PREFIX}/{path}"


def _page(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI (接口文档): try every operation from the browser."""
    return _page(
        get_swagger_ui_html(
            openapi_url=_root(request) + request.app.openapi_url,
            title=SWAGGER_TITLE,
            swagger_js_url=_asset(request, SWAGGER_JS),
            swagger_css_url=_asset(request, SWAGGER_CSS),
            swagger_favicon_url=_asset(request, FAVICON),
            # The validator badge would send the schema's address to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc (接口参考): the whole API on one page."""
    return _page(
        get_redoc_html(
            openapi_url=_root(request) + request.app.openapi_url,
            title=REDOC_TITLE,
            redoc_js_url=_asset(request, REDOC_JS),
            redoc_favicon_url=_asset(request, FAVICON),
            with_google_fonts=False,
        )
    )
