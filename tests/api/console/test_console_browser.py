"""The console in a real browser: Debian's headless Chromium, driven by Selenium through the system's chromedriver
(tests/browsers.py; skipped where they are missing unless ``JIXIAO_REQUIRE_JS=1``), at 1366×768 and with no network
but loopback. Sign in with a token, see the role's home, open a table, filter it, page it, download its CSV and read
it back, switch to English, sign out, and read the public pages with no token.

Each page is saved as a screenshot (PNG) under ``$JIXIAO_SCREENSHOTS`` or ``var/screenshots/`` (git-ignored): the
test's artefacts, and what the README shows.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import LiveServer, Service
from tests.api.world import World, build
from tests.browsers import OFFLINE_FLAGS, ROOT, chromium, chromium_binaries, requests_sent

pytestmark = pytest.mark.db

SCREENSHOTS = Path(os.environ.get("JIXIAO_SCREENSHOTS") or ROOT / "var" / "screenshots")
WINDOW = (1366, 768)  # an office screen


@pytest.fixture(scope="module")
def console(shared_service: Service) -> Iterator[tuple[Service, World, str]]:
    chromium_binaries()  # skip (or fail where required) before building anything
    world = build(shared_service)
    with LiveServer(shared_service.app, started=True) as base:
        yield shared_service, world, base


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium(f"--window-size={WINDOW[0]},{WINDOW[1]}", *OFFLINE_FLAGS, performance_log=True) as driver:
        yield driver


def shot(driver: Any, name: str) -> Path:
    """Save the page as ``name``.png (the whole page's height, at the window's width)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WINDOW[0], max(WINDOW[1], min(int(height) + 140, 4000)))
    driver.save_screenshot(str(path))
    driver.set_window_size(*WINDOW)
    return path


def wait_for(condition: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def by_css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def sign_in(driver: Any, base: str, token: str) -> None:
    driver.get(f"{base}/console/login")
    field = by_css(driver, "#token")
    assert driver.switch_to.active_element == field  # the page starts on the token field
    field.send_keys(token)
    field.submit()
    wait_for(lambda: driver.current_url.rstrip("/").endswith("/console"))


def only_loopback(driver: Any, base: str) -> None:
    """Every request the pages made went to the service itself: nothing from a CDN or anywhere else."""
    for request in requests_sent(driver):
        url = request["request"]["url"]
        if url.startswith(("chrome:", "data:", "about:")):  # the browser's own pages, not the network
            continue
        assert url.startswith(base), url
        assert "failed" not in request or request["failed"] in ("net::ERR_ABORTED",), request


def test_a_finance_officer_signs_in_filters_pages_and_downloads(
    console: tuple[Service, World, str], browser: Any
) -> None:
    service, _, base = console
    driver = browser
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{base}/console")  # signed out: to the sign-in page, which comes back here
    wait_for(lambda: "/console/login" in driver.current_url)
    shot(driver, "login")
    sign_in(driver, base, service.tokens["finance"])
    assert "2021年度全年概览" in driver.page_source
    assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
    assert driver.execute_script("return document.documentElement.scrollWidth") <= WINDOW[0]  # no sideways scroll
    shot(driver, "home-finance")

    # The keyboard reaches the skip link first, and it leads to the content.
    by_css(driver, "body").send_keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("class") == "skip"

    driver.get(f"{base}/console/tables/projects")
    search = by_css(driver, "#f-q")
    assert by_css(driver, "label[for=f-q]").text.startswith("名称包含")
    search.send_keys("营养", Keys.ENTER)
    wait_for(lambda: "q=" in driver.current_url)
    rows = driver.find_elements("css selector", "table.rows tbody tr")
    assert len(rows) == 1
    assert "JY-01" in rows[0].text
    shot(driver, "table-projects")

    driver.get(f"{base}/console/tables/trail?size=10")
    first = [row.text for row in driver.find_elements("css selector", "table.rows tbody tr")]
    assert len(first) == 10
    by_css(driver, "a[rel=next]").click()
    wait_for(lambda: "cursor=" in driver.current_url)
    second = [row.text for row in driver.find_elements("css selector", "table.rows tbody tr")]
    assert second
    assert not set(first) & set(second)
    shot(driver, "table-trail")

    # The CSV download, as the browser saves it, read back.
    driver.get(f"{base}/console/tables/projects?q=%E8%90%A5%E5%85%BB")
    folder = tempfile.mkdtemp(prefix="jixiao-downloads-")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": folder})
    by_css(driver, "p.downloads a[href*='.csv']").click()
    saved = wait_for(lambda: [path for path in Path(folder).glob("*.csv") if path.stat().st_size > 0])
    rows_read = list(csv.reader(io.StringIO(saved[0].read_bytes().decode("utf-8-sig"))))
    assert rows_read[0][1] == "项目编码"
    assert [row[1] for row in rows_read[1:]] == ["JY-01"]

    # English, remembered from page to page.
    by_css(driver, "a[hreflang=en]").click()
    wait_for(lambda: driver.execute_script("return document.documentElement.lang") == "en")
    driver.get(f"{base}/console")
    assert "2021 at a glance" in driver.page_source
    shot(driver, "home-finance-en")
    by_css(driver, "a[hreflang=zh-CN]").click()
    wait_for(lambda: driver.execute_script("return document.documentElement.lang") == "zh-CN")

    by_css(driver, "header form button[type=submit]").click()  # sign out
    wait_for(lambda: "/console/login" in driver.current_url)
    driver.get(f"{base}/console/tables/projects")
    assert "/console/login" in driver.current_url
    only_loopback(driver, base)


@pytest.mark.parametrize("who", ["education", "agency", "auditor"])
def test_each_role_sees_its_home(console: tuple[Service, World, str], browser: Any, who: str) -> None:
    service, _, base = console
    sign_in(browser, base, service.tokens[who])
    expected = {"education": "教育局 待办事项", "agency": "某咨询评估有限公司 受托评价", "auditor": "审计工作台"}
    assert expected[who] in browser.page_source
    assert browser.execute_script("return document.documentElement.scrollWidth") <= WINDOW[0]
    shot(browser, f"home-{who}")
    refused = "/console/tables/coverage"
    browser.get(f"{base}{refused}")
    if who == "auditor":
        assert "覆盖率" in browser.find_element("css selector", "h1").text
    else:
        assert "403" in browser.find_element("css selector", "h1").text
        assert "role-not-allowed" in browser.page_source
    only_loopback(browser, base)


def test_the_public_pages_need_no_token(console: tuple[Service, World, str], browser: Any) -> None:
    _, _, base = console
    browser.get(f"{base}/console/public")
    assert "最新签名检查点" in browser.page_source
    shot(browser, "public")
    browser.get(f"{base}/console/public/projects")
    text = browser.find_element("css selector", "table.rows").text
    assert "JY-01" in text
    assert "WJ-01" not in text
    shot(browser, "public-projects")
    browser.get(f"{base}/console/public/blacklist")
    assert browser.find_element("css selector", "h1").text == "第三方机构失信黑名单"
    browser.get(f"{base}/console/public/disclosures")
    assert "JY-01" in browser.page_source or "营养改善" in browser.page_source
    only_loopback(browser, base)
