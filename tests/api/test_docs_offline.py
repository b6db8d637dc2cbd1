"""``/docs`` and ``/redoc`` work on an intranet without internet (政务内网): every script, style and icon comes from the
service, the vendored files are the ones ``api/static/README.md`` lists, and the install ships them. In a real
Chromium with the network cut, both pages list every operation and no request leaves the machine.

Nothing here needs the database: the pages and the schema are served without the app's lifespan.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers import docs
from api.routers.docs import STATIC
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import LiveServer, settings_for
from tests.browsers import OFFLINE_FLAGS, chromium, requests_sent

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("/docs", "/redoc")
LOCAL_SCHEMES = ("data", "blob", "about", "chrome", "chrome-search", "chrome-extension", "devtools")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    key = SigningKey.generate("docs-offline-test")
    # A database address nothing listens on: without the lifespan, nothing connects.
    return create_app(settings_for("postgresql://127.0.0.1:9/none", tmp_path_factory.mktemp("docs"), key))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


class Links(HTMLParser):
    """Every ``src`` and ``href`` of a page, and its title."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_title = tag == "title"
        self.urls += [value for name, value in attrs if name in ("src", "href") and value is not None]

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("page", PAGES)
def test_a_page_references_no_address_outside_the_service(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert not re.findall(r"(?i)https?://|wss?://", response.text), "an address outside the service"
    found = links(response.text)
    assert found.urls, "the page loads its assets"
    for url in found.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
    assert "绩效账本" in found.title
    assert "Jixiao Ledger" in found.title
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "://" not in policy


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_follow_a_path_prefix_behind_a_proxy(app: FastAPI, page: str) -> None:
    response = TestClient(app, root_path="/jixiao").get(page)
    assert response.status_code == 200
    found = links(response.text)
    assert found.urls
    assert all(url.startswith("/jixiao/static/") for url in found.urls), found.urls
    assert "/jixiao/openapi.json" in response.text


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("swagger-ui/swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui/swagger-ui.css", "text/css"),
        ("swagger-ui/favicon-32x32.png", "image/png"),
        ("redoc/redoc.standalone.js", "text/javascript"),
    ],
)
def test_the_assets_are_served_as_vendored(client: TestClient, path: str, media_type: str) -> None:
    response = client.get(f"/static/{path}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.content == (STATIC / path).read_bytes()


def listed_checksums() -> dict[str, str]:
    readme = (STATIC / "README.md").read_text(encoding="utf-8")
    block = readme.split("`sha256sum */*` in this folder):", 1)[1].split("```", 2)[1]
    return {name: digest for digest, name in (line.split() for line in block.strip().splitlines())}


def vendored_files() -> list[Path]:
    return sorted(path for path in STATIC.glob("*/*") if path.is_file())


def test_the_vendored_files_are_the_ones_listed_with_their_licences() -> None:
    actual = {str(path.relative_to(STATIC)): hashlib.sha256(path.read_bytes()).hexdigest() for path in vendored_files()}
    assert actual == listed_checksums()
    for folder in {path.parent for path in vendored_files()}:
        assert (folder / "LICENSE").is_file(), folder


def test_the_installed_package_ships_the_vendored_files() -> None:
    """setuptools copies a package's data files by the globs of ``package-data`` (relative to the package's folder):
    every vendored file, and the README that names its version and checksum, must match one. The image installs the
    same wheel (deploy/Dockerfile)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["api"]
    package = ROOT / "api"
    shipped = [
        path
        for path in [*vendored_files(), STATIC / "README.md"]
        if any(fnmatch.fnmatch(str(path.relative_to(package)), pattern) for pattern in patterns)
    ]
    assert shipped == [*vendored_files(), STATIC / "README.md"]


def test_an_install_without_the_assets_is_refused_by_the_image_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs.check_assets()  # this tree has them all
    (tmp_path / "swagger-ui").mkdir()
    (tmp_path / docs.SWAGGER_CSS).write_text("")
    monkeypatch.setattr(docs, "STATIC", tmp_path)
    with pytest.raises(RuntimeError, match="missing") as refused:
        docs.check_assets()
    assert docs.SWAGGER_JS in str(refused.value)
    assert docs.SWAGGER_CSS not in str(refused.value)


# ------------------------------------------------------------------------------------------------ in Chromium


def swagger_operations(driver: Any) -> set[str]:
    found: list[str] = driver.execute_script(
        """return Array.from(document.querySelectorAll('.opblock')).map((block) => {
             const method = Array.from(block.classList).find((name) => name.startsWith('opblock-')).slice(8);
             return method + ' ' + block.querySelector('.opblock-summary-path').getAttribute('data-path');
           });"""
    )
    return set(found)


def redoc_operations(driver: Any) -> set[str]:
    found: list[str] = driver.execute_script(
        """return Array.from(document.querySelectorAll('[data-section-id^="operation/"]'))
             .map((section) => section.getAttribute('data-section-id').slice('operation/'.length));"""
    )
    return set(found)


@pytest.fixture(scope="module")
def served(app: FastAPI) -> Iterator[str]:
    with LiveServer(app, started=True) as base:
        yield base


@pytest.mark.parametrize("page", PAGES)
def test_a_page_lists_every_operation_in_a_browser_without_network(app: FastAPI, served: str, page: str) -> None:
    schema = app.openapi()
    operations = [
        (method, path, operation) for path, item in schema["paths"].items() for method, operation in item.items()
    ]
    if page == "/docs":
        expected, listed = {f"{method} {path}" for method, path, _ in operations}, swagger_operations
    else:
        expected, listed = {operation["operationId"] for _, _, operation in operations}, redoc_operations
    assert len(expected) > 50
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(*OFFLINE_FLAGS, performance_log=True) as driver:
        requests_sent(driver)  # what the browser did before the page (its own start page) is not the page's
        driver.get(served + page)
        # Swagger UI (5.35) renders only the operations in view once a spec lists 150 tags and operations or more
        # (a virtual list): what the page lists is what a reader scrolling through it sees, so scroll it through
        # (back to the top at the bottom) and gather every operation rendered on the way.
        seen: set[str] = set()

        def scrolled_through(_: Any) -> bool:
            seen.update(listed(driver))
            driver.execute_script(
                """if (window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 1) {
                     window.scrollTo(0, 0);
                   } else {
                     window.scrollBy(0, window.innerHeight / 2);
                   }"""
            )
            return seen >= expected

        try:
            WebDriverWait(driver, 120, poll_frequency=0.2).until(scrolled_through)
        except TimeoutException:
            urls = [request["request"]["url"] for request in requests_sent(driver)]
            pytest.fail(f"{page} listed {len(seen)} of {len(expected)} operations; it requested {urls}")
        assert seen == expected
        assert "绩效账本" in driver.title
        requests = requests_sent(driver)
        console = driver.get_log("browser")
    urls = [request["request"]["url"] for request in requests]
    assert f"{served}/openapi.json" in urls
    outside = [url for url in urls if urlsplit(url).scheme not in LOCAL_SCHEMES and not url.startswith(f"{served}/")]
    assert not outside, f"requests left the service: {outside}"
    failed = [(request["request"]["url"], request["failed"]) for request in requests if "failed" in request]
    assert not failed, failed
    errors = [entry["message"] for entry in console if entry["level"] == "SEVERE"]
    assert not errors, errors
