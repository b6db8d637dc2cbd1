"""The console's project page (/console/projects/{id}) for a 1,000-event project: rendered on the server, and its
verification badge checked in headless Chromium.

    python -m bench.bench_project_page [--events N] [--noise N] [--renders N] [--rounds N]

Builds, on a fresh database, a project of N events (default 1,000: declared … budget approved, then supervision
notes, as bench/bench_verify_browser.py does) among ``--noise`` events of other projects, starts the service
(scheduler and projections as configured by default, no witness) and signs in as an auditor, then:

1. renders the page ``--renders`` times through the service's HTTP stack in process (TestClient: routing, the
   console's cookie, the in-process API reads of state and rulesets, the templates; the history as the first view
   read it, kept for the project's head version), and the slider's fragment at version N/2 as many times; p50 and
   p95 of each, and the first view alone;
2. opens the page ``--rounds`` times in headless Chromium over real HTTP (uvicorn on loopback), the verifier key
   pinned in localStorage, and reads what the badge measured itself: from asking for the bundle to the verdict,
   every row of the timeline held to its signed event (the bundle's fetch, verify.js and the comparison).

Targets (printed beside the measurements, not asserted): the page in < 300 ms at p95, the badge's check in < 2 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.config.settings import Settings
from bench.common import bench_database, percentile, verdict
from bench.sample import (
    DEPARTMENT,
    EFFECTIVE_ON,
    FINANCE,
    SETUP_EVENTS,
    add_batch,
    build_project,
    build_projects,
    fill_to,
)
from ledger.application.ledger import Act
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import LiveServer
from tests.browsers import chromium

ORIGIN = "bench.example.gov.cn/jixiao-console"
TARGET_RENDER_MS = 300.0
TARGET_BADGE_MS = 2000.0


cpu: dict[str, list[float]] = {}  # the process's CPU time per request (every thread), in ms, by path


def timings(client: TestClient, path: str, count: int, **params: Any) -> list[float]:
    """Wall-clock milliseconds of each of ``count`` GETs (and their CPU time, kept in ``cpu``)."""
    out = []
    for _ in range(count):
        started, used = time.perf_counter(), time.process_time()
        response = client.get(path, params=params)
        out.append((time.perf_counter() - started) * 1000)
        cpu.setdefault(path, []).append((time.process_time() - used) * 1000)
        assert response.status_code == 200, response.text[:500]
    return out


def fmt(ms: Sequence[float]) -> str:
    return f"p50 {percentile(ms, 50):8.1f} ms   p95 {percentile(ms, 95):8.1f} ms   max {max(ms):8.1f} ms"


phases: list[tuple[float, float]] = []  # each check's fetch of the bundle and verifyBundle, in ms


def badge_ms(driver: Any, page: str) -> float:
    driver.get(page)
    deadline = time.monotonic() + 120
    while True:
        state = driver.execute_script("return document.getElementById('badge').dataset.state")
        if state in ("ok", "failed", "error", "unpinned"):
            break
        if time.monotonic() > deadline:
            raise RuntimeError("the badge gave no verdict in 120 s")
        time.sleep(0.05)
    if state != "ok":
        raise RuntimeError(f"the badge says {state}: {driver.find_element('id', 'badge').text}")
    measured = driver.execute_script("return {...document.getElementById('badge').dataset}")
    phases.append((float(measured["fetchMs"]), float(measured["verifyMs"])))
    return float(measured["ms"])


def run(events: int, noise: int, renders: int, rounds: int) -> None:
    key = SigningKey.generate(ORIGIN.replace("/", "-"))
    with tempfile.TemporaryDirectory(prefix="jixiao-bench-console-") as folder, bench_database() as db:
        settings = Settings(
            database_url=db.url,
            data_dir=Path(folder),
            checkpoint_interval=0,
            run_scheduler=False,
            signing_key=key.to_string(),
            log_origin=ORIGIN,
        )
        app = create_app(settings)
        with TestClient(app) as client:
            ledger = app.state.ledger
            started = time.perf_counter()
            ledger.register_department(Act(FINANCE, EFFECTIVE_ON, reason="基准测试"), DEPARTMENT)
            project = build_project(ledger, "BENCH-PAGE")
            others = build_projects(ledger, "BENCH-NOISE", max(1, noise // 900 + 1))
            batches = max(1, (events - SETUP_EVENTS) // 50)
            for n in range(batches):  # the project's events among the others', as in a busy log
                fill_to(ledger, project, min(events, SETUP_EVENTS + (n + 1) * 50), 50)
                if noise // batches:
                    add_batch(ledger, others[n % len(others)], noise // batches, n * (noise // batches))
            fill_to(ledger, project, events, 50)
            built = time.perf_counter() - started
            token, _ = app.state.tokens.issue("aud-bench", "auditor", "市审计局", created_by="bench")
            signed = client.post(
                "/console/login",
                data={"token": token, "next": "/console"},
                headers={"Origin": "http://testserver"},
                follow_redirects=False,
            )
            assert signed.status_code == 303, signed.text[:500]
            page = f"/console/projects/{project.id}"
            started = time.perf_counter()
            first = client.get(page)  # the first view reads the history through the API; the next ones keep it
            cold_ms = (time.perf_counter() - started) * 1000
            assert first.status_code == 200, first.text[:500]
            assert first.text.count("data-leaf-hash=") == events
            size = len(first.content)
            page_ms = timings(client, page, renders)
            fragment_ms = timings(client, f"{page}/at", renders, version=events // 2)
            with LiveServer(app, started=True) as base, chromium() as driver:
                driver.set_window_size(1366, 768)
                driver.get(f"{base}/console/login")
                driver.add_cookie({"name": "jixiao_console", "value": token, "path": "/console"})
                driver.execute_script(
                    "localStorage.setItem('jixiao.verifierKey', arguments[0])", key.verifier.to_string()
                )
                browser_ms = [badge_ms(driver, f"{base}{page}") for _ in range(rounds)]
                version = driver.capabilities.get("browserVersion", "?")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Project page, {platform.node()} ({platform.machine()}, {os.cpu_count()} cores, load average {load}), "
        f"Chromium {version}"
    )
    print(f"project: {events} events among {noise} of other projects (built in {built:.0f} s); page {size:,} bytes")
    met = percentile(page_ms, 95) < TARGET_RENDER_MS
    print(f"page render (server, {renders}×)        {fmt(page_ms)}   target p95 < 300 ms: {verdict(met)}")
    print(f"  CPU per render (the process, all threads): {fmt(cpu[page])}")
    print(f"  the first view of the project at its head (its history read through the API): {cold_ms:.1f} ms")
    print(f"slider fragment at version {events // 2} ({renders}×) {fmt(fragment_ms)}")
    print(f"  CPU per fragment: {fmt(cpu[f'{page}/at'])}")
    print(
        f"badge check in Chromium ({rounds}×)       first {browser_ms[0]:8.1f} ms   median "
        f"{statistics.median(browser_ms):8.1f} ms   max {max(browser_ms):8.1f} ms   target < 2 s: "
        f"{verdict(max(browser_ms) < TARGET_BADGE_MS)}"
    )
    fetch, check = (statistics.median(phase) for phase in zip(*phases, strict=True))
    print(f"  of which (median): the bundle's fetch {fetch:.0f} ms, verifyBundle {check:.0f} ms")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_project_page", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000, help="events of the project")
    parser.add_argument("--noise", type=int, default=2000, help="events of other projects in the log")
    parser.add_argument("--renders", type=int, default=30, help="server renders of the page (and of the fragment)")
    parser.add_argument("--rounds", type=int, default=5, help="loads of the page in Chromium")
    args = parser.parse_args(argv)
    if args.events < SETUP_EVENTS or args.renders < 1 or args.rounds < 1 or args.noise < 0:
        parser.error(f"--events must be at least {SETUP_EVENTS}, --renders and --rounds at least 1, --noise >= 0")
    run(args.events, args.noise, args.renders, args.rounds)


if __name__ == "__main__":
    main()
