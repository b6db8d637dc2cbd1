"""The console's pages over HTTP (TestClient): sign-in, each role's home, the tables (filters, paging, sorting,
downloads), the public pages, the language switch, and what answers a refusal, a bad parameter or a missing page:
the console's own page with the right status, never a 500."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from api.console.strings import STRINGS
from tests.api.conftest import Service
from tests.api.world import World, build

pytestmark = pytest.mark.db

SAME = {"Origin": "http://testserver"}
TEMPLATES = Path(__file__).resolve().parents[3] / "api" / "console" / "templates"


@pytest.fixture(scope="module")
def world(shared_service: Service) -> tuple[Service, World]:
    return shared_service, build(shared_service)


def as_(service: Service, who: str | None) -> dict[str, str]:
    """The cookie a signed-in ``who`` sends (None: nobody signed in)."""
    return {} if who is None else {"Cookie": f"jixiao_console={service.tokens[who]}"}


def get(service: Service, who: str | None, path: str, **params: Any) -> Any:
    service.client.cookies.clear()
    # (params only when given: httpx's params replace the path's own query)
    return service.client.get(path, params=params or None, headers=as_(service, who), follow_redirects=False)


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    text: str = response.text
    return text


def body_rows(page: str) -> list[str]:
    """The rows of the page's table body."""
    return re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1].split("</tbody>")[0], re.S)


# ------------------------------------------------------------------------------------------------ sign-in


def test_sign_in_then_home_then_sign_out(world: tuple[Service, World]) -> None:
    service, _ = world
    service.client.cookies.clear()
    first = service.client.get("/console/tables?x=1", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/console/login?next=%2Fconsole%2Ftables%3Fx%3D1"
    response = service.client.post(
        "/console/login",
        data={"token": service.tokens["finance"], "next": "/console/tables?x=1"},
        headers=SAME,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/tables?x=1"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http here; https sets it
    home = html(service.client.get("/console"))
    assert "fin-wang" in home
    assert '<html lang="zh-CN">' in home
    out = service.client.post("/console/logout", headers=SAME, follow_redirects=False)
    assert out.status_code == 303
    assert service.client.get("/console", follow_redirects=False).status_code == 303
    service.client.cookies.clear()


def test_a_wrong_token_is_refused_and_a_redirect_stays_on_the_console(world: tuple[Service, World]) -> None:
    service, _ = world
    service.client.cookies.clear()
    for token in ("jxl_not-a-token", "", "令牌", "x" * 500):
        response = service.client.post("/console/login", data={"token": token}, headers=SAME, follow_redirects=False)
        assert "jixiao_console" not in response.headers.get("set-cookie", "")
        assert "令牌无效或已被吊销" in html(response, 401)
    for target in ("https://evil.example/", "//evil.example/console", "/projects", "/console\\@evil"):
        response = service.client.post(
            "/console/login",
            data={"token": service.tokens["auditor"], "next": target},
            headers=SAME,
            follow_redirects=False,
        )
        assert response.headers["location"] == "/console", target
    service.client.cookies.clear()


def test_a_cross_site_sign_in_or_out_is_refused(world: tuple[Service, World]) -> None:
    service, _ = world
    service.client.cookies.clear()
    for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/x"}, {}):
        response = service.client.post(
            "/console/login", data={"token": service.tokens["finance"]}, headers=headers, follow_redirects=False
        )
        assert "cross-site-form" in html(response, 403)
        assert "jixiao_console" not in response.headers.get("set-cookie", "")
    response = service.client.post("/console/logout", headers={"Origin": "http://evil.example"})
    assert "cross-site-form" in html(response, 403)


def test_a_revoked_or_forged_cookie_leads_back_to_sign_in(world: tuple[Service, World]) -> None:
    service, _ = world
    service.client.cookies.clear()
    response = service.client.get(
        "/console/tables/projects", headers={"Cookie": "jixiao_console=jxl_forged"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "expired=1" in response.headers["location"]
    assert 'jixiao_console=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    login = html(service.client.get(response.headers["location"]))
    assert "登录已失效" in login


# ------------------------------------------------------------------------------------------------ homes


def test_each_role_has_its_home(world: tuple[Service, World]) -> None:
    service, _ = world
    finance = html(get(service, "finance", "/console"))
    assert "2021年度全年概览" in finance
    assert "预算已批复（实施中）" in finance  # JY-01's stage, counted
    assert "覆盖率与年度目标" in finance
    assert "部门综合绩效考评排名" in finance
    assert "教育局" in finance
    education = html(get(service, "education", "/console"))
    assert "教育局 待办事项" in education
    assert "JY-01" in education  # its obligations (the monitoring report, the self-evaluation…)
    assert "WJ-01" not in education  # health's
    assert "个工作日" in education
    agency = html(get(service, "agency", "/console"))
    assert "营养改善" in agency
    assert "评价方案审核" in agency
    # the world runs 两审一督导 in full, all but the score: commissioned, plan submitted and approved, supervised, the
    # findings answered, report submitted and approved (the agency's own steps shown beside finance's)
    assert agency.count("✔ 已完成") == 7
    auditor = html(get(service, "auditor", "/console"))
    assert "审计工作台" in auditor
    assert "czj.example.gov.cn/jixiao-test" in auditor  # the checkpoint's origin
    assert "Project.Declared" not in auditor or "已申报" in auditor
    admin = html(get(service, "admin", "/console"))
    assert "admin-sun" in admin
    other_year = html(get(service, "finance", "/console", year=2030))
    assert "2030年度全年概览" in other_year


@pytest.mark.parametrize("who", ["finance", "education", "agency", "auditor", "admin"])
def test_every_link_on_a_home_opens_for_its_reader(world: tuple[Service, World], who: str) -> None:
    """A home never offers its reader a page that reader may not open (an agency reads no project's history, so its
    home names its projects without linking to their pages)."""
    service, _ = world
    home = html(get(service, who, "/console"))
    links = sorted({href.replace("&amp;", "&") for href in re.findall(r'href="(/console[^"#]*)"', home)})
    assert links
    for link in links:
        if link.startswith("/console/static/"):
            continue
        response = get(service, who, link)
        assert response.status_code in (200, 303), (who, link, response.status_code)


# ------------------------------------------------------------------------------------------------ tables


def test_every_table_opens_for_finance_and_refuses_roles_it_must(world: tuple[Service, World]) -> None:
    service, _ = world
    listing = html(get(service, "finance", "/console/tables"))
    slugs = re.findall(r'href="/console/tables/([\w-]+)"', listing)
    assert {"projects", "trail", "deadlines", "coverage", "blacklist", "departments-ranking"} <= set(slugs)
    for slug in slugs:
        html(get(service, "finance", f"/console/tables/{slug}"))
    refused = html(get(service, "agency", "/console/tables/coverage"), 403)
    assert "role-not-allowed" in refused
    assert "权限" in refused or "不允许" in refused or "角色" in refused  # the Chinese title
    assert '<p lang="en">' in refused
    assert html(get(service, "education", "/console/tables/projects", department="卫生健康委员会"), 403)
    assert get(service, None, "/console/tables/projects").status_code == 303  # sign in first


def test_a_table_filters_searches_sorts_and_pages(world: tuple[Service, World]) -> None:
    service, _ = world
    found = html(get(service, "finance", "/console/tables/projects", q="营养"))
    assert "JY-01" in found
    assert "WJ-01" not in found
    by_stage = html(get(service, "finance", "/console/tables/projects", stage="declared"))
    assert "WJ-01" in by_stage
    assert "JY-01" not in by_stage
    ordered = html(get(service, "finance", "/console/tables/projects", sort="code", dir="desc"))
    assert ordered.index("WJ-01") < ordered.index("JY-01")
    ordered = html(get(service, "finance", "/console/tables/projects", sort="code", dir="asc"))
    assert ordered.index("JY-01") < ordered.index("WJ-01")
    first = html(get(service, "finance", "/console/tables/trail", size=10))
    following = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert following is not None, "the trail has more than 10 entries"
    second = html(get(service, "finance", following.group(1).replace("&amp;", "&")))
    assert len(body_rows(first)) == 10
    assert body_rows(second)
    assert set(body_rows(first)).isdisjoint(body_rows(second))
    by_person = html(get(service, "finance", "/console/tables/trail", principal="edu-zhang"))
    assert "edu-zhang" in by_person
    assert "fin-wang" not in by_person.split("<tbody>")[1]
    since = html(get(service, "finance", "/console/tables/trail", **{"from": "2999-01-01"}))
    assert "没有符合条件的记录" in since


def test_the_downloads_are_the_readers(world: tuple[Service, World]) -> None:
    service, _ = world
    page = html(get(service, "finance", "/console/tables/projects", q="营养"))
    link = re.search(r'href="(/console/api/projects\.csv[^"]*)"', page)
    assert link is not None
    response = get(service, "finance", link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["项目编号", "项目编码"]
    assert [row[1] for row in rows[1:]] == ["JY-01"]
    assert get(service, "finance", "/console/api/projects.xlsx").status_code == 200
    public = get(service, None, "/console/public/api/projects.csv")
    codes = [row[1] for row in csv.reader(io.StringIO(public.content.decode("utf-8-sig")))][1:]
    assert codes == ["JY-01"]  # only the disclosed
    assert get(service, "agency", "/console/api/coverage.csv").status_code == 403


# ------------------------------------------------------------------------------------------------ public


def test_public_pages_need_no_token_and_show_only_what_was_disclosed(world: tuple[Service, World]) -> None:
    service, _ = world
    for who in (None, "finance"):  # a signed-in reader sees the public view there too
        home = html(get(service, who, "/console/public"))
        assert "最新签名检查点" in home
        assert "czj.example.gov.cn/jixiao-test" in home
        projects = html(get(service, who, "/console/public/projects"))
        assert "JY-01" in projects
        assert "WJ-01" not in projects  # declared, nothing disclosed
        for undisclosed in ("所处阶段", "预算执行率", "已执行金额", "申报金额", "overdue"):
            assert undisclosed not in projects, undisclosed
        html(get(service, who, "/console/public/disclosures"))
        html(get(service, who, "/console/public/blacklist"))
    refused = html(get(service, None, "/console/public/projects", stage="declared"), 403)
    assert "role-not-allowed" in refused


# ------------------------------------------------------------------------------------------------ language


def test_english_by_switch_and_remembered(world: tuple[Service, World]) -> None:
    service, _ = world
    service.client.cookies.clear()
    response = service.client.get("/console/public?lang=en")
    page = html(response)
    assert '<html lang="en">' in page
    assert "Latest signed checkpoint" in page
    assert "jixiao_lang=en" in response.headers["set-cookie"]
    again = html(service.client.get("/console/public"))  # the cookie remembers
    assert '<html lang="en">' in again
    back = html(service.client.get("/console/public?lang=zh"))
    assert '<html lang="zh-CN">' in back
    service.client.cookies.clear()


# ------------------------------------------------------------------------------------------------ robustness


BAD = [
    ("/console", {"year": "abc"}),
    ("/console", {"year": "99999999999999999999"}),
    ("/console/tables/projects", {"fiscal_year": "abc"}),
    ("/console/tables/projects", {"fiscal_year": "1800"}),
    ("/console/tables/projects", {"cursor": "not-a-uuid"}),
    ("/console/tables/projects", {"size": "999999", "page": "-3", "sort": "nope", "dir": "sideways"}),
    ("/console/tables/projects", {"deviation": "blue", "overdue": "perhaps"}),
    ("/console/tables/projects", {"q": "a\x00b"}),
    ("/console/tables/projects", {"q": "x" * 5000}),
    ("/console/tables/trail", {"from": "2021-13-45", "object": "nope"}),
    ("/console/tables/trail", {"cursor": "-1"}),
    ("/console/tables/deadlines", {"on": "yesterday", "kind": "<script>"}),
    ("/console/tables/no-such-table", {}),
    ("/console/no/such/page", {}),
    ("/console/public/no-such", {}),
    ("/console/public/projects", {"grade": "A+", "cursor": "zz"}),
    ("/console/api/no/such/route", {}),
]


@pytest.mark.parametrize(("path", "params"), BAD)
def test_bad_parameters_answer_a_page_never_a_500(world: tuple[Service, World], path: str, params: Any) -> None:
    service, _ = world
    response = get(service, "finance", path, **params)
    assert response.status_code < 500, response.text[:2000]
    assert "<script>" not in response.text
    if not path.startswith("/console/api/"):
        assert response.headers["content-type"].startswith("text/html")
        assert "Traceback" not in response.text


def test_the_console_with_a_trailing_slash_is_its_home(world: tuple[Service, World]) -> None:
    service, _ = world
    response = get(service, "finance", "/console/")
    assert response.status_code == 308
    assert response.headers["location"] == "/console"


def test_static_files_are_served_from_the_console(world: tuple[Service, World]) -> None:
    service, _ = world
    for path in ("console.css", "verify.js", "vendor/noble-hashes/sha2.js"):
        assert get(service, None, f"/console/static/{path}").status_code == 200, path


def test_every_page_sets_a_strict_content_security_policy(world: tuple[Service, World]) -> None:
    service, _ = world
    policy = get(service, None, "/console/public").headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_every_word_a_template_asks_for_is_in_the_strings_table() -> None:
    asked = set()
    for template in TEMPLATES.glob("*.html"):
        asked |= set(re.findall(r"""\bt\(["']([\w]+)["']\)""", template.read_text(encoding="utf-8")))
    assert asked
    assert asked <= set(STRINGS), asked - set(STRINGS)


def test_what_anyone_typed_is_shown_never_run(world: tuple[Service, World]) -> None:
    service, _ = world
    name = '<img src=x onerror="alert(1)">营养'
    body = {
        "code": "XSS-01",
        "name": name,
        "department": "教育局",
        "fiscal_year": 2021,
        "budget_book": "general_public",
        "requested": "1000.00",
        "effective_on": "2020-09-01",
    }
    declared = service.post("education", "/projects", body)
    assert declared.status_code == 201, declared.text
    service.get("finance", "/readyz", min_position=declared.json()["position"])
    page = html(get(service, "finance", "/console/tables/projects", code="XSS-01"))
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;营养" in page
    assert "<img" not in page
