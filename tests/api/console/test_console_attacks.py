"""The console attacked as its threat model says: an untrusted network user, a signed-in user of a lesser role, a
page of another origin (cross-site forms and fetches, framing), and what a response must not leak to a shared
browser. Each test names the attack; the ones the console already withstood stay as regressions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.console.pages import CONTENT_SECURITY_POLICY, TEMPLATES
from tests.api.conftest import Service
from tests.api.world import World, build

pytestmark = pytest.mark.db

SAME = {"Origin": "http://testserver"}
EVIL = {"Origin": "http://evil.example"}


@pytest.fixture(scope="module")
def world(shared_service: Service) -> tuple[Service, World]:
    return shared_service, build(shared_service)


def cookie(service: Service, who: str) -> dict[str, str]:
    return {"Cookie": f"jixiao_console={service.tokens[who]}"}


def send(service: Service, method: str, path: str, who: str | None = None, **kwargs: Any) -> Any:
    """A request as raw as httpx sends it (the path's dot segments and escapes kept), with ``who``'s cookie."""
    service.client.cookies.clear()
    headers = {**(cookie(service, who) if who else {}), **kwargs.pop("headers", {})}
    return service.client.request(method, path, headers=headers, follow_redirects=False, **kwargs)


def project_codes(service: Service) -> list[str]:
    response = service.get("finance", "/projects", limit=200)
    assert response.status_code == 200, response.text
    return [row["code"] for row in response.json()["items"]]


DECLARATION = {
    "code": "CSRF-01",
    "name": "跨站写入",
    "department": "教育局",
    "fiscal_year": 2021,
    "budget_book": "general_public",
    "requested": "1000.00",
    "effective_on": "2020-09-01",
}


# ------------------------------------------------------------------------------------------------ CSRF


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("origin", [SAME, EVIL, {}])
def test_the_passthrough_never_writes(world: tuple[Service, World], method: str, origin: dict[str, str]) -> None:
    """A form or fetch (of another site, or of this one) cannot write through /console/api/ with the cookie: the
    passthrough answers GET only, and forwards every request as a GET."""
    service, _ = world
    response = send(service, method, "/console/api/projects", "education", json=DECLARATION, headers=origin)
    assert response.status_code == 405, response.text
    form = send(service, method, "/console/api/projects", "education", data={"code": "CSRF-01"}, headers=origin)
    assert form.status_code == 405
    assert "CSRF-01" not in project_codes(service)


def test_a_write_route_reached_with_get_through_the_passthrough_writes_nothing(world: tuple[Service, World]) -> None:
    """A GET of a write route's path (an <img src> on another page) is the route's GET or a 405, never the write."""
    service, world_ = world
    before = service.get("auditor", "/projects/" + world_.declared).json()["version"]
    for path in (f"/projects/{world_.declared}/admission", "/departments", "/admin/tokens", "/projects"):
        response = send(service, "GET", f"/console/api{path}", "finance")
        assert response.status_code in (200, 403, 404, 405), (path, response.text)
    assert service.get("auditor", "/projects/" + world_.declared).json()["version"] == before


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_no_other_console_path_takes_a_write(world: tuple[Service, World], method: str) -> None:
    service, _ = world
    for path in ("/console", "/console/tables/projects", "/console/public/api/projects", "/console/no-such"):
        response = send(service, method, path, "finance", headers=SAME)
        assert response.status_code == 405, (path, response.status_code)


def test_sign_in_by_get_or_with_an_opaque_origin_is_refused(world: tuple[Service, World]) -> None:
    """Login CSRF (signing a victim in as the attacker): only a POST from this service's own page signs in."""
    service, _ = world
    by_get = send(service, "GET", f"/console/login?token={service.tokens['finance']}")
    assert "jixiao_console" not in by_get.headers.get("set-cookie", "")
    for headers in (
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},
        {"Referer": "http://testserver.evil.example/console"},
        {"Referer": "http://evil.example/?http://testserver/"},
    ):
        response = send(service, "POST", "/console/login", data={"token": service.tokens["finance"]}, headers=headers)
        assert response.status_code == 403, headers
        assert "jixiao_console" not in response.headers.get("set-cookie", "")


def test_the_apis_own_routes_never_read_the_console_cookie(world: tuple[Service, World]) -> None:
    """Were the cookie sent to the API's routes (its path is /console; a same-site page could still try), a form
    of another site could write with it: the API reads the Authorization header only."""
    service, _ = world
    declared = send(service, "POST", "/projects", "education", json={**DECLARATION, "code": "CSRF-02"}, headers=EVIL)
    assert declared.status_code == 401, declared.text
    read = send(service, "GET", "/projects", "finance")
    assert read.status_code == 200
    assert "stage" not in read.json()["items"][0]  # the public's view
    assert "CSRF-02" not in project_codes(service)


# ---------------------------------------------------------------------------------------------- the passthrough's paths


TRAVERSALS = [
    "/console/api/../admin/tokens",
    "/console/api/%2e%2e/admin/tokens",
    "/console/api/..%2fadmin/tokens",
    "/console/api/%2fadmin/tokens",
    "/console/api//evil.example/projects",
    "/console/api/http://evil.example/projects",
    "/console/api/https:%2f%2fevil.example",
    "/console/api/console/login",
    "/console/api//console/api/admin/tokens",
    "/console/api/%2Fconsole%2Fapi%2Fprojects",
    "/console/api/console/public/api/projects",
    "/console/api/./console/tables",
    "/console/api/\\\\evil.example",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_the_passthrough_reaches_only_the_api_as_the_reader(world: tuple[Service, World], path: str) -> None:
    """Dot segments, encoded slashes, absolute URLs and //host neither leave the service (the forwarding is in
    process: there is no request to another host to make) nor reach the console itself or an admin's route with a
    finance token."""
    service, _ = world
    response = send(service, "GET", path, "finance")
    assert response.status_code in (403, 404), (path, response.status_code, response.text[:300])
    assert "evil.example" not in response.headers.get("location", "")
    if response.status_code == 404:  # the API's problem, or the console's own 404 page: never a console page
        assert "not-found" in response.text, path


@pytest.mark.parametrize("path", ["/console/api/projects/", "/console/api/projects//", "/console/public/api/projects/"])
def test_a_path_of_the_passthrough_is_the_apis_own_never_a_redirect(world: tuple[Service, World], path: str) -> None:
    """A trailing slash made the API's router redirect to the slash-less path on the Host the request named: an
    absolute Location to any host a proxy or a poisoned cache lets through. The passthrough takes the API's own paths
    only (no empty, . or .. segment), so it never redirects."""
    service, _ = world
    response = send(service, "GET", path, "finance", headers={"Host": "evil.example"})
    assert response.status_code == 404, response.status_code
    assert "location" not in response.headers


# ------------------------------------------------------------------------------------------------ redirects and headers


NEXT = [
    "https://evil.example/",
    "//evil.example/console",
    "/\\evil.example",
    "/console\\@evil.example",
    "///evil.example",
    " //evil.example",
    "\t//evil.example",
    "http:/evil.example",
    "/console/..//evil.example",
    "/console@evil.example",
    "javascript:alert(1)//console",
    "/console\r\nSet-Cookie: jixiao_console=attacker",
    "/console%0d%0aSet-Cookie:%20x=y",
]


@pytest.mark.parametrize("target", NEXT)
def test_next_never_leaves_the_service_nor_splits_the_header(world: tuple[Service, World], target: str) -> None:
    service, _ = world
    response = send(
        service, "POST", "/console/login", data={"token": service.tokens["auditor"], "next": target}, headers=SAME
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/console")
    assert not location.startswith("//")
    assert "\r" not in location
    assert "\n" not in location
    assert "\\" not in location
    assert response.headers.get_list("set-cookie") == [response.headers["set-cookie"]]
    assert "attacker" not in response.headers["set-cookie"]
    form = send(service, "GET", "/console/login", params={"next": target})
    assert form.status_code == 422 or 'name="next" value="/console' in form.text  # 422: a control character


def test_the_sign_in_redirect_of_a_page_keeps_to_the_page(world: tuple[Service, World]) -> None:
    service, _ = world
    response = send(service, "GET", "/console/tables//evil.example/x")
    assert response.status_code in (303, 404)
    assert response.headers.get("location", "/console/login?next=%2Fconsole").startswith(
        "/console/login?next=%2Fconsole"
    )
    assert send(service, "GET", "/console//evil.example/x").status_code == 404  # the console's 404, to anyone


# ------------------------------------------------------------------------------------------------ XSS


MARKUP = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def _no_markup(text: str) -> None:
    assert "<script>alert" not in text
    assert "<img src=x" not in text
    assert "onerror=alert(2)>" not in text


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/console/tables/projects", {"q": MARKUP}),
        ("/console/tables/projects", {"code": MARKUP, "sort": MARKUP, "dir": MARKUP}),
        ("/console/tables/projects", {"fiscal_year": MARKUP}),
        ("/console/tables/trail", {"principal": MARKUP, "cursor": MARKUP}),
        ("/console/tables/deadlines", {"kind": MARKUP}),
        ("/console/tables/" + MARKUP, {}),
        ("/console/" + MARKUP, {}),
        ("/console/login", {"next": MARKUP}),
        ("/console/public/projects", {"q": MARKUP, "grade": MARKUP}),
        ("/console", {"year": MARKUP}),
    ],
)
def test_what_a_url_carries_is_shown_never_run(world: tuple[Service, World], path: str, params: Any) -> None:
    service, _ = world
    response = send(service, "GET", path, "finance", params=params)
    assert response.status_code < 500
    _no_markup(response.text)


def test_a_reason_and_a_principals_names_are_shown_never_run(world: tuple[Service, World]) -> None:
    """Text a user recorded (a reason) and the names an administrator gave a token are escaped on every page."""
    service, world_ = world
    reviewed = service.post(
        "finance",
        f"/projects/{world_.declared}/admission",
        {"effective_on": "2020-09-30", "reason": MARKUP},
    )
    assert reviewed.status_code == 200, reviewed.text
    service.get("finance", "/readyz", min_position=reviewed.json()["position"])
    token, _ = service.app.state.tokens.issue(MARKUP, "department", "卫生健康委员会" + MARKUP, created_by="test")
    service.tokens["markup"] = token
    for who, path in (
        ("finance", "/console/tables/trail"),
        ("auditor", "/console"),
        ("markup", "/console"),
        ("markup", "/console/tables/projects"),
    ):
        response = send(service, "GET", path, who)
        assert response.status_code < 500, response.text[:500]
        _no_markup(response.text)


# -------------------------------------------------------------------------------------------- cookies, caching, framing


def test_the_token_cookie_is_httponly_strict_scoped_and_secure_over_https(world: tuple[Service, World]) -> None:
    service, _ = world
    service.client.cookies.clear()
    response = service.client.post(
        "https://testserver/console/login",
        data={"token": service.tokens["finance"]},
        headers={"Origin": "https://testserver"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    attributes = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
    assert {"httponly", "secure", "samesite=strict", "path=/console"} <= set(attributes)
    assert not any(part.startswith(("domain=", "max-age=", "expires=")) for part in attributes)  # a session cookie
    out = service.client.post(
        "https://testserver/console/logout", headers={"Origin": "https://testserver"}, follow_redirects=False
    )
    assert "secure" in out.headers["set-cookie"].lower()
    service.client.cookies.clear()


def test_the_content_security_policy_is_complete() -> None:
    policy = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert not any("unsafe" in value or "*" in value or "http" in value for value in policy.values())


def test_no_template_holds_what_the_policy_would_block() -> None:
    """Inline script, inline event handlers, inline styles and javascript: links would be blocked by the policy
    (or, if it were loosened for them, be the holes it closes)."""
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\son\w+\s*=", text), template.name
        assert not re.search(r"\sstyle\s*=", text), template.name
        assert "javascript:" not in text, template.name
        assert "|safe" not in text.replace(" ", ""), template.name


# ------------------------------------------------------------------------------------------------ role scoping


def test_a_department_reads_no_other_department_through_tables_or_the_passthrough(world: tuple[Service, World]) -> None:
    service, world_ = world
    health = world_.declared
    for path, params in (
        ("/console/tables/projects", {"department": "卫生健康委员会"}),
        ("/console/tables/projects", {"department": " 卫生健康委员会 "}),
        ("/console/api/projects", {"department": "卫生健康委员会"}),
        ("/console/api/projects.csv", {"department": "卫生健康委员会"}),
        (f"/console/api/projects/{health}", {}),
        (f"/console/api/projects/{health}/history", {}),
        ("/console/api/trail", {"object": health}),
        ("/console/tables/trail", {"object": health}),
        ("/console/api/deadlines", {"project": health}),
    ):
        response = send(service, "GET", path, "education", params=params)
        assert "WJ-01" not in response.text, (path, params)
        assert "基本公共卫生服务" not in response.text, (path, params)
    rows = send(service, "GET", "/console/tables/projects", "education").text
    assert "JY-01" in rows
    assert "WJ-01" not in rows


def test_an_agency_sees_only_what_it_was_commissioned_for(world: tuple[Service, World]) -> None:
    service, world_ = world
    for path in ("/console", "/console/tables/deadlines", "/console/api/deadlines", "/console/tables/trail"):
        response = send(service, "GET", path, "agency")
        assert "WJ-01" not in response.text, path
    assert send(service, "GET", f"/console/api/projects/{world_.declared}/history", "agency").status_code in (403, 404)
    assert send(service, "GET", "/console/tables/coverage", "agency").status_code == 403


def test_a_header_token_outranks_the_cookie_and_never_adds_to_it(world: tuple[Service, World]) -> None:
    """A request carrying both is read as its Authorization header: the cookie cannot lend a stronger role."""
    service, _ = world
    response = send(
        service,
        "GET",
        "/console/api/coverage",
        "finance",
        headers={"Authorization": f"Bearer {service.tokens['agency']}"},
    )
    assert response.status_code == 403


def test_the_public_passthrough_reads_as_the_public_whatever_the_cookie_or_header(world: tuple[Service, World]) -> None:
    service, _ = world
    for headers in ({}, {"Authorization": f"Bearer {service.tokens['finance']}"}):
        projects = send(service, "GET", "/console/public/api/projects", "finance", headers=headers)
        assert projects.status_code == 200
        assert "WJ-01" not in projects.text
        assert "stage" not in projects.json()["items"][0]
        assert send(service, "GET", "/console/public/api/trail", "finance", headers=headers).status_code == 401
        assert send(service, "GET", "/console/public/api/admin/tokens", "admin", headers=headers).status_code == 401


# ------------------------------------------------------------------------------------------------ caching, framing

PAGES = ["/console", "/console/tables", "/console/tables/projects", "/console/tables/no-such", "/console/no-such"]


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_in_page_is_neither_stored_nor_framed(world: tuple[Service, World], path: str) -> None:
    """A signed-in reader's page is not stored (a shared office computer, its back button, a proxy) and may not be
    framed by another site (clickjacking): in browsers that know frame-ancestors, and in older ones (an intranet's
    IE-mode browser) that know only X-Frame-Options."""
    service, _ = world
    for who in ("finance", "agency"):
        response = send(service, "GET", path, who)
        assert response.headers.get("cache-control") == "no-store", (path, who)
        assert response.headers.get("x-frame-options") == "DENY", (path, who)
        assert response.headers.get("x-content-type-options") == "nosniff", (path, who)
        assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), (path, who)


@pytest.mark.parametrize("path", ["/console/login", "/console/public", "/console/public/projects"])
def test_the_pages_anyone_sees_cannot_be_framed_either(world: tuple[Service, World], path: str) -> None:
    """The sign-in page framed under another site's decoy would take a pasted token's clicks (clickjacking)."""
    service, _ = world
    response = send(service, "GET", path)
    assert response.headers.get("x-frame-options") == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


PASSED = ["/console/api/projects", "/console/api/projects.csv", "/console/api/trail", "/console/api/coverage"]


@pytest.mark.parametrize("path", [*PASSED, "/console/api/no-such", "/console/public/api/projects"])
def test_what_the_passthrough_answers_is_neither_stored_nor_framed(world: tuple[Service, World], path: str) -> None:
    """The passthrough's JSON, downloads and problems are what the reader's token reads, as much as a page is: not
    stored by a shared browser or a proxy, not framed, not sniffed into something else."""
    service, _ = world
    for who in ("finance", "agency"):
        response = send(service, "GET", path, who)
        assert response.headers.get("cache-control") == "no-store", (path, who)
        assert response.headers.get("x-frame-options") == "DENY", (path, who)
        assert response.headers.get("x-content-type-options") == "nosniff", (path, who)
        assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), (path, who)


def test_the_passthrough_serves_no_page_of_its_own_origin_that_could_run_script(world: tuple[Service, World]) -> None:
    """The API's HTML (its docs, whose policy allows inline script) through /console/api/ would be a same-origin page
    under the cookie's path: whatever the passthrough answers is sandboxed and may load and run nothing."""
    service, _ = world
    for path in ("/console/api/docs", "/console/api/redoc", "/console/public/api/docs", "/console/api/projects"):
        response = send(service, "GET", path, "finance")
        policy = response.headers.get("content-security-policy", "")
        assert "sandbox" in policy.split("; "), path
        assert "default-src 'none'" in policy, path
        assert "unsafe-inline" not in policy, path
