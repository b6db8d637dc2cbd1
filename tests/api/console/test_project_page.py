"""The project page (/console/projects/{id}) on the fiscal-year 2021 demo: over HTTP (TestClient) for what the
server renders, and in Debian's headless Chromium (Selenium) for what the reader does — sign in with a token, pin
the verifier key, walk the timeline, move the slider to an earlier state, see the badge green; then a test proxy in
front of the service alters one byte of one event in the audit bundle and the badge turns red, naming that event.

Screenshots of the page are kept in ``$JIXIAO_SCREENSHOTS`` (else var/screenshots/, which git ignores).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

import api.console.project as project_module
from api.cli.demo import run_demo
from api.console.strings import STRINGS
from ledger.application.ledger import Act
from ledger.domain.values import Principal
from ledger.log.audit import dumps_bundle, verify_bundle
from tests.api.conftest import LiveServer, Service
from tests.browsers import chromium

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[3]
SAME = {"Origin": "http://testserver"}
SCREENSHOTS = Path(os.environ.get("JIXIAO_SCREENSHOTS") or ROOT / "var" / "screenshots")


@dataclass(frozen=True)
class Demo:
    service: Service
    project: (
        UUID  # 高标准农田建设 (NY-01): yellow then red deviations, key evaluations, results, an overdue rectification
    )
    history: list[dict[str, Any]]


@pytest.fixture(scope="module")
def demo(shared_service: Service) -> Demo:
    run_demo(shared_service.ledger)
    with psycopg.connect(shared_service.app.state.settings.database_url) as conn:
        row = conn.execute("SELECT max(leaf_index) FROM ledger_events").fetchone()
    assert row is not None
    deadline = time.monotonic() + 120
    while shared_service.get("finance", "/readyz", min_position=row[0]).status_code != 200:
        assert time.monotonic() < deadline, "the read models did not catch up with the demo"
    project = UUID(
        shared_service.get("finance", "/projects/lookup", fiscal_year=2021, code="NY-01").json()["project_id"]
    )
    history = shared_service.get("finance", f"/projects/{project}/history").json()
    return Demo(shared_service, project, history)


def sign_in(service: Service, who: str) -> None:
    """Sign in through the console's form, as a reader does (the cookie stays with the client)."""
    response = service.client.post(
        "/console/login", data={"token": service.tokens[who], "next": "/console"}, headers=SAME, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --------------------------------------------------------------------------------------------- server-rendered


def test_the_page_shows_every_event_goals_monitoring_evaluations_and_rectifications(demo: Demo) -> None:
    service = demo.service
    sign_in(service, "auditor")
    page = service.client.get(f"/console/projects/{demo.project}")
    assert page.status_code == 200, page.text
    html = page.text
    rows = re.findall(r'<tr id="v(\d+)" data-version="\d+" data-leaf-hash="([0-9a-f]{64})"', html)
    assert [(int(v), h) for v, h in rows] == [(e["version"], e["leaf_hash"]) for e in demo.history]
    text = text_of(html)
    for expected in ("项目申报", "绩效目标审核", "监控报告", "高标准农田建设", "建成高标准农田", "农业农村和科技局"):
        assert expected in text, expected
    assert "红色预警" in text
    assert "黄色预警" in text
    assert html.count('class="point red"') == 1
    assert html.count('class="point yellow"') == 1
    assert "某咨询评估有限公司" in text
    assert "青海某会计师事务所" in text
    assert "部分地块灌排设施未达设计标准" in text
    assert "逾期" in text
    assert "调减预算" in text  # the results applied
    assert "<script " not in html.replace('<script type="module" src="/console/static/project.js">', "")
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_the_state_at_an_earlier_version_a_date_or_an_instant(demo: Demo) -> None:
    service = demo.service
    sign_in(service, "finance")
    first = service.client.get(f"/console/projects/{demo.project}/at", params={"version": 1})
    assert first.status_code == 200
    assert 'data-version="1"' in first.text
    assert f"第 1 版，共 {len(demo.history)} 版" in text_of(first.text)  # the demo project's versions, all listed
    assert "尚未申报绩效目标" in text_of(first.text)
    on = service.client.get(f"/console/projects/{demo.project}", params={"on": "2021-06-01"})
    expected = max(e["version"] for e in demo.history if e["effective_on"] <= "2021-06-01")
    assert f'id="state-version" data-version="{expected}"' in on.text
    assert f'id="v{expected + 1}" data-version="{expected + 1}"' in on.text  # later rows still listed, marked later
    instant = demo.history[4]["recorded_at"]
    at = service.client.get(f"/console/projects/{demo.project}/at", params={"as_of": instant})
    assert 'data-version="5"' in at.text
    before = service.client.get(f"/console/projects/{demo.project}", params={"on": "2019-01-01"})
    assert before.status_code == 404
    assert "not-yet-existing" in before.text


def test_the_history_is_read_again_only_when_the_project_has_a_new_event(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = demo.service
    asked: list[str] = []
    forward = project_module.forward  # type: ignore[attr-defined]

    async def counting(request: Any, path: str, params: Any = None) -> Any:
        asked.append(path)
        return await forward(request, path, params)

    monkeypatch.setattr(project_module, "forward", counting)
    # a project of its own (the other tests read the demo's NY-01 as it is)
    education = Principal("edu-zhang", "department", "教育局")
    other = service.ledger.declare_project(
        Act(education, date(2021, 3, 1), '新增项目 <img src=x onerror="alert(1)">'),
        code="CACHE-01",
        name="校园安全改造",
        kind="project",
        department="教育局",
        fiscal_year_=2021,
        budget_book="general_public",
        special_category=None,
        requested="500000.00",
        new_major=False,
    ).aggregate_id
    before = len(service.get("finance", f"/projects/{other}/history").json())
    sign_in(service, "auditor")
    page = f"/console/projects/{other}"
    assert service.client.get(page).status_code == 200
    history = f"/projects/{other}/history"
    asked.clear()
    for params in ({}, {"version": 1}, {"on": "2021-06-01"}):
        assert service.client.get(page, params=params).status_code == 200
        assert service.client.get(f"{page}/at", params=params).status_code == 200
    assert history not in asked  # the same head: the history as the API answered it
    # the head's state on each of the six (the reader's right checked every time), the earlier one on four
    assert asked.count(f"/projects/{other}/state") == 10
    finance = Principal("fin-wang", "finance", "市财政局")
    service.ledger.admit_project(Act(finance, date(2021, 3, 15), "纳入项目库"), other)
    again = service.client.get(page)
    assert history in asked
    assert f'id="v{before + 1}" data-version="{before + 1}"' in again.text
    assert "纳入项目库" in text_of(again.text)
    assert "<img src=x" not in again.text  # a reason is shown as text, in the row and in its data-reason
    assert again.text.count("新增项目 &lt;img src=x onerror=&#34;alert(1)&#34;&gt;") == 2


def test_english_and_refusals(demo: Demo) -> None:
    service = demo.service
    sign_in(service, "finance")
    english = service.client.get(f"/console/projects/{demo.project}", params={"lang": "en"})
    assert "Timeline of events" in english.text
    assert "Project.Declared" in english.text
    service.client.get("/console", params={"lang": "zh"})
    sign_in(service, "health")  # another department's staff: the API refuses its history, the page says so
    other = service.client.get(f"/console/projects/{demo.project}")
    assert other.status_code == 403
    assert "role-not-allowed" in other.text
    service.client.post("/console/logout", headers=SAME)
    assert service.client.get(f"/console/projects/{demo.project}", follow_redirects=False).status_code == 303
    sign_in(service, "finance")
    missing = service.client.get("/console/projects/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


def test_the_verifier_page_shows_the_published_key(demo: Demo) -> None:
    sign_in(demo.service, "auditor")
    page = demo.service.client.get("/console/verifier")
    assert page.status_code == 200
    assert demo.service.key.verifier.to_string() in page.text


def test_the_project_pages_words_add_to_the_consoles_and_replace_none() -> None:
    """project.py adds its words to api.console.strings: a key both name must mean the same, or the other pages
    would show the project page's wording (or the reverse)."""
    source = (ROOT / "api" / "console" / "strings.py").read_text(encoding="utf-8")
    console: dict[str, object] = {}
    exec(compile(source, "strings.py", "exec"), console)  # the console's own words, before project.py added any
    own = console["STRINGS"]
    assert isinstance(own, dict)
    shared = {key: (own[key], words) for key, words in project_module.PROJECT_STRINGS.items() if key in own}
    assert {key: pair for key, pair in shared.items() if pair[0] != pair[1]} == {}
    for key in project_module.PROJECT_STRINGS.keys() | own.keys():
        assert STRINGS[key] == (own.get(key) or project_module.PROJECT_STRINGS[key])


# --------------------------------------------------------------------------------------------- in Chromium


class TamperingProxy:
    """A local HTTP proxy in front of the service. Passes every request through as it is (the Host header too, so
    the console's same-origin check sees the proxy's origin), except that with ``tamper`` set to an event's
    position it flips one byte of that event's stored state in every audit bundle it passes on."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.tamper: int | None = None
        self.bundles = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.relay()

            def do_POST(self) -> None:
                self.relay()

            def relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "accept-encoding")}
                # closed before answering: a browser that navigates away mid-answer (a broken pipe below) must not
                # leave the upstream connection open (an unclosed socket fails the test under -W error)
                with closing(http.client.HTTPConnection(proxy.upstream, timeout=60)) as conn:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                if self.path.split("?")[0].endswith("/bundle") and answer.status == 200:
                    proxy.bundles += 1
                    if proxy.tamper is not None:
                        data = altered(data, proxy.tamper)
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def altered(data: bytes, position: int) -> bytes:
    """The bundle with one byte of event ``position``'s stored state flipped."""
    bundle = json.loads(data)
    state = bytearray(base64.b64decode(bundle["events"][position]["state"]))
    state[len(state) // 2] ^= 0x01
    bundle["events"][position]["state"] = base64.b64encode(bytes(state)).decode()
    return dumps_bundle(bundle).encode()


def wait_for(driver: Any, condition: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the page shows: {driver.find_element('id', 'main').text[:2000]}")
        time.sleep(0.1)


def screenshot(driver: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def badge_state(driver: Any, *states: str) -> str | None:
    state = driver.find_element("id", "badge").get_attribute("data-state")
    return state if state in states else None


def test_in_chromium_walk_slide_verify_then_a_tampered_bundle_turns_the_badge_red(demo: Demo) -> None:
    service = demo.service
    # the first 纠偏措施 (a corrective action ordered) of the demo project, wherever the demo's story puts it
    position = next(
        index for index, event in enumerate(demo.history) if event["event_type"] == "Project.CorrectiveActionOrdered"
    )
    with LiveServer(service.app, started=True) as upstream:
        proxy = TamperingProxy(upstream)
        with proxy as base, chromium() as driver:
            walk_slide_and_tamper(driver, base, demo, proxy, position)


def walk_slide_and_tamper(driver: Any, base: str, demo: Demo, proxy: TamperingProxy, position: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    service = demo.service
    driver.set_window_size(1366, 768)
    page = f"{base}/console/projects/{demo.project}"
    # sign in with a token: the sign-in page brings the reader back to the project
    driver.get(f"{base}/console/login?next=/console/projects/{demo.project}")
    driver.find_element(By.ID, "token").send_keys(service.tokens["auditor"])
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    wait_for(driver, lambda: driver.current_url.startswith(page))
    # nothing pinned yet: the bundle agrees with itself, which the badge does not call verified
    assert wait_for(driver, lambda: badge_state(driver, "unpinned", "ok", "failed", "error")) == "unpinned"
    # pin the published key, as an auditor would after comparing it with the bureau's notice
    driver.get(f"{base}/console/verifier")
    published = driver.find_element(By.ID, "published-key").text
    assert published == service.key.verifier.to_string()
    driver.find_element(By.ID, "pin-key").send_keys(published)
    driver.find_element(By.ID, "pin-save").click()
    wait_for(driver, lambda: driver.find_element(By.ID, "pinned-now").text == published)
    assert driver.find_element(By.ID, "pinned-compare").text == "与本服务公布的密钥一致"
    screenshot(driver, "verifier-key")
    # the project page: every row checked, the badge green
    driver.get(page)
    assert wait_for(driver, lambda: badge_state(driver, "ok", "failed", "error", "unpinned")) == "ok"
    latest_stage = driver.find_element(By.ID, "fact-stage").text
    rows = driver.find_elements(By.CSS_SELECTOR, "#timeline tbody tr")
    assert len(rows) == len(demo.history)
    marks = [row.find_element(By.CSS_SELECTOR, "td.check").text for row in rows]
    assert marks == ["✓"] * len(rows)
    labels = [row.find_elements(By.TAG_NAME, "td")[1].text for row in rows]
    assert labels[0] == "项目申报"
    assert "监控报告" in " ".join(labels)
    badge = driver.find_element(By.ID, "badge").text
    assert f"{len(rows)} 个事件" in badge
    screenshot(driver, "project-verified")
    driver.execute_script("document.getElementById('monitoring-h').scrollIntoView()")
    screenshot(driver, "project-monitoring")
    # walk the slider back with the keyboard: the earlier state replaces the sections, later rows fade
    slider = driver.find_element(By.ID, "version")
    slider.send_keys(Keys.HOME)
    wait_for(driver, lambda: driver.find_element(By.ID, "state-version").get_attribute("data-version") == "1")
    assert driver.find_element(By.ID, "fact-stage").text != latest_stage
    assert "尚未申报绩效目标" in driver.find_element(By.ID, "state").text
    assert len(driver.find_elements(By.CSS_SELECTOR, "#timeline tr.later")) == len(rows) - 1
    # … then forward to the version of the first monitoring report (wherever the demo's story puts it)
    monitored = next(event["version"] for event in demo.history if event["event_type"] == "Project.MonitoringReported")
    for _ in range(monitored - 1):
        slider.send_keys(Keys.ARROW_RIGHT)
    wait_for(
        driver, lambda: driver.find_element(By.ID, "state-version").get_attribute("data-version") == str(monitored)
    )
    assert driver.find_element(By.ID, "fact-executed").text == "1800000.00"  # the first monitoring report only
    assert f"version={monitored}" in driver.current_url
    screenshot(driver, "project-earlier-state")
    # a byte of one event altered on its way to the browser: red, naming that event
    proxy.tamper = position
    driver.find_element(By.ID, "verify-again").click()
    assert wait_for(driver, lambda: badge_state(driver, "failed", "error")) == "failed"
    badge = driver.find_element(By.ID, "badge")
    label = demo.history[position]["event_type_zh"]
    assert f"第 {position + 1} 版「{label}」" in badge.text, badge.text
    assert badge.get_attribute("data-event") == str(position + 1)
    bad = driver.find_element(By.ID, f"v{position + 1}")
    assert bad.find_element(By.CSS_SELECTOR, "td.check").text == "✗"
    assert [r.find_element(By.CSS_SELECTOR, "td.check").text for r in rows[:position]] == ["✓"] * position
    # the shot shows the red badge and the event it names (the page was left scrolled down at the slider)
    driver.execute_script("document.getElementById('verify-h').scrollIntoView()")
    screenshot(driver, "project-tampered")
    assert proxy.bundles >= 3
    # in English too, the event named by its version and type
    driver.get(f"{page}?lang=en")
    assert wait_for(driver, lambda: badge_state(driver, "failed", "error", "ok")) == "failed"
    assert f"version {position + 1}, “Project.CorrectiveActionOrdered”" in driver.find_element(By.ID, "badge").text
    driver.get(f"{page}?lang=zh")
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]
    assert not errors, errors


def test_the_tampered_bundle_is_refused_by_the_python_verifier_too(demo: Demo) -> None:
    """The proxy's alteration is one the offline verifier names the same way (the corpora hold the rest)."""
    text = demo.service.get("finance", f"/projects/{demo.project}/bundle").content
    report = verify_bundle(altered(text, 11), demo.service.key.verifier)
    assert report.failures
    assert report.failures[0].startswith("event 11 (")
