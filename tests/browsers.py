"""Run the in-browser verifier (``api/console/static/verify.js``) from tests: in Node, and in the system's headless
Chromium driven by Selenium, with the static folder served by a local HTTP server (nothing is downloaded).

Where Node or Chromium is missing the tests that need it are skipped with the reason — unless
``JIXIAO_REQUIRE_JS=1`` (as ``.ci/run`` sets after installing them), when they fail instead, so a machine without
them cannot pass for a tested one.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "api" / "console" / "static"
VERIFY_JS = STATIC / "verify.js"
CALLS_JS = Path(__file__).resolve().parent / "verify_calls.mjs"

REQUIRED = os.environ.get("JIXIAO_REQUIRE_JS") == "1"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)

Call = dict[str, Any]


def hexed(data: bytes) -> dict[str, str]:
    """Bytes as an argument of a call (see tests/verify_calls.mjs)."""
    return {"$hex": data.hex()}


def call(fn: str, *args: Any) -> Call:
    return {"fn": fn, "args": list(args)}


def unhex(value: Any) -> Any:
    """A result with its bytes and BigInts turned back into Python's."""
    if isinstance(value, list):
        return [unhex(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"$hex"}:
            return bytes.fromhex(value["$hex"])
        if set(value) == {"$int"}:
            return int(value["$int"])
        return {key: unhex(item) for key, item in value.items()}
    return value


def _missing(what: str) -> NoReturn:
    if REQUIRED:
        pytest.fail(f"JIXIAO_REQUIRE_JS=1 but {what}")
    pytest.skip(what)


def node_binary() -> str:
    """The Node executable, or skip (fail where required)."""
    found = shutil.which("node")
    if found is None:
        _missing("no `node` on PATH: the JavaScript verifier's tests need Node 20 or later")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        _missing(f"Node {version} is too old: the JavaScript verifier's tests need Node 20 or later")
    return found


# Reads the calls on stdin, answers the results on stdout. `withoutWebCrypto` removes globalThis.crypto before the
# verifier is imported: what a page served over plain http on an intranet has.
_NODE_MAIN = """
import { readFileSync } from "node:fs";
const [verifyUrl, callsUrl, withoutWebCrypto] = process.argv.slice(1);
if (withoutWebCrypto === "1") Object.defineProperty(globalThis, "crypto", { value: undefined });
const verifier = await import(verifyUrl);
const { runCalls } = await import(callsUrl);
const calls = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(await runCalls(verifier, calls)));
"""


def run_node(calls: Sequence[Call], *, without_webcrypto: bool = False, timeout: float = 300) -> list[dict[str, Any]]:
    """Run ``calls`` in one Node process; each result is ``{"value": …, "ms": …}`` or ``{"error": …, "ms": …}``."""
    node = node_binary()
    run = subprocess.run(
        [
            node,
            "--input-type=module",
            "-e",
            _NODE_MAIN,
            VERIFY_JS.as_uri(),
            CALLS_JS.as_uri(),
            "1" if without_webcrypto else "0",
        ],
        input=json.dumps(list(calls)),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    results: list[dict[str, Any]] = json.loads(run.stdout)
    return results


def values(results: Sequence[dict[str, Any]]) -> list[Any]:
    """The values of results that must all have succeeded."""
    errors = [result["error"] for result in results if "error" in result]
    assert not errors, errors[:5]
    return [unhex(result["value"]) for result in results]


# --------------------------------------------------------------------------------------------- Chromium


class _StaticHandler(SimpleHTTPRequestHandler):
    """``/static/…`` from api/console/static, ``/harness/verify_calls.mjs`` and an empty page at ``/``."""

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if clean.startswith("/static/"):
            return super().translate_path(clean.removeprefix("/static"))
        if clean == "/harness/verify_calls.mjs":
            return str(CALLS_JS)
        return str(STATIC / "__missing__")

    def do_GET(self) -> None:
        if self.path == "/":
            body = b"<!doctype html><meta charset=utf-8><title>verify.js</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the tests' output is the verdicts


_StaticHandler.extensions_map = {**_StaticHandler.extensions_map, ".js": "text/javascript", ".mjs": "text/javascript"}


def intranet_address() -> str | None:
    """A non-loopback IPv4 address of this machine, if it has one: a page served there over plain http is not a
    secure context, so it has no WebCrypto (as on an intranet), unlike one on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, the kernel only picks a source address
            address: str = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@contextmanager
def static_server(host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the static folder; yields the base URL."""
    handler = functools.partial(_StaticHandler, directory=str(STATIC))
    server = ThreadingHTTPServer((host, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium_binaries() -> tuple[str, str]:
    """Debian's ``chromium`` and ``chromium-driver``, or skip (fail where required)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        _missing("no headless Chromium: install Debian's `chromium` and `chromium-driver` packages")
    return browser, driver


# No network but loopback: every other name fails to resolve, and any request for another address goes to a proxy
# where nothing listens (Chromium never sends loopback through a proxy). What an intranet without internet offers.
OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
)


@contextmanager
def chromium(*flags: str, performance_log: bool = False) -> Iterator[Any]:
    """A headless Chromium with a fresh profile, driven by Selenium through the system's chromedriver; ``flags``
    added to its command line, and with ``performance_log`` every network request in ``driver.get_log("performance")``
    (see :func:`requests_sent`)."""
    browser, driver_path = chromium_binaries()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="jixiao-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, *flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if performance_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_script_timeout(300)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


_BROWSER_SCRIPT = """
const [calls, done] = arguments;
Promise.all([import("/static/verify.js"), import("/harness/verify_calls.mjs")])
  .then(([verifier, harness]) => harness.runCalls(verifier, calls))
  .then(done, (error) => done({ error: String(error) }));
"""


def run_browser(driver: Any, base_url: str, calls: Sequence[Call]) -> list[dict[str, Any]]:
    """Open the empty page at ``base_url`` and run ``calls`` in it, as ES modules served from there."""
    driver.get(f"{base_url}/")
    results = driver.execute_async_script(_BROWSER_SCRIPT, list(calls))
    assert isinstance(results, list), results
    return results


def secure_context(driver: Any) -> bool:
    """Whether the page open in ``driver`` is a secure context (and so has WebCrypto)."""
    return bool(driver.execute_script("return window.isSecureContext && !!(globalThis.crypto && crypto.subtle)"))


def requests_sent(driver: Any) -> list[dict[str, Any]]:
    """The requests the driven tab has made since this was last called (``Network.requestWillBeSent``'s parameters,
    and each request's ``failed`` reason, if it failed), from a driver started with ``performance_log``."""
    sent: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}  # a redirect is sent again under the same id
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            latest[params["requestId"]] = request = dict(params)
            sent.append(request)
        elif message["method"] == "Network.loadingFailed" and params["requestId"] in latest:
            latest[params["requestId"]]["failed"] = params.get("blockedReason") or params.get("errorText")
    return sent
