"""The in-browser verifier on a 1,000-event project's bundle: headless Chromium and Node beside the Python verifier.

    python -m bench.bench_verify_browser [--events N] [--noise N] [--rounds N]

Builds, on a fresh database, a project of N events (default 1,000: declared … budget approved, then supervision
notes) among ``--noise`` events of other projects, signs a checkpoint cosigned by two witnesses over HTTP, exports
the project's bundle and checks it ``--rounds`` times with each verifier, every check pinning the log's key and both
witnesses:

1. ``verifyBundle`` of ``api/console/static/verify.js`` in the system's headless Chromium, the page served over
   plain http by a local server; timed inside the page, from having the bundle's text to having the verdict (the
   first round also pays for the engine's warm-up);
2. the same module in Node;
3. ``ledger.audit.verify_bundle`` (OpenSSL through ``cryptography``, hashlib), the baseline;
4. SHA-256 of every event's leaf-hash input in the page, with the vendored pure-JavaScript SHA-256 and with WebCrypto
   (``crypto.subtle.digest``, all calls in flight at once) on 127.0.0.1, a secure context: why the verifier does
   not use WebCrypto.

The target (under 2 s in the browser) is printed beside the measurement; nothing is asserted.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from api.roles.witness import WitnessHome, WitnessServer
from bench.common import BenchDatabase, bench_database, verdict
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
from ledger.application.ledger import Act, Ledger
from ledger.log.audit import dumps_bundle, verify_bundle
from ledger.log.checkpoint import SigningKey, VerifierKey
from ledger.log.witness import TrustPolicy, WitnessEndpoint, WitnessKey
from ledger.store.tlog import TransparencyLog
from tests.browsers import call, chromium, node_binary, run_browser, run_node, static_server

ORIGIN = "bench.example.gov.cn/jixiao"
TARGET_BROWSER_S = 2.0

# Hash every event's leaf input both ways inside the page; answers {pure, webcrypto} in milliseconds.
_HASH_BOTH = """
const [inputs, done] = arguments;
(async () => {
  const { sha256 } = await import("/static/vendor/noble-hashes/sha2.js");
  const data = inputs.map((text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
  let started = performance.now();
  for (const item of data) sha256(item);
  const pure = performance.now() - started;
  started = performance.now();
  await Promise.all(data.map((item) => crypto.subtle.digest("SHA-256", item)));
  return { pure, webcrypto: performance.now() - started };
})().then(done, (error) => done({ error: String(error) }));
"""


def build_bundle(
    db: BenchDatabase, events: int, noise: int, folder: Path
) -> tuple[str, VerifierKey, tuple[WitnessKey, ...]]:
    """The project's bundle, the log's verifier key and the witnesses' keys."""
    key = SigningKey.generate("bench.example.gov.cn-jixiao")
    servers, endpoints = [], []
    for name in ("sjj.example.gov.cn/witness", "rd.example.gov.cn/witness"):
        home = WitnessHome(folder / name.split(".")[0])
        witness_key = home.init(name)
        home.add_log(ORIGIN, key.verifier)
        server = WitnessServer(("127.0.0.1", 0), home.witness())
        server.start()
        servers.append(server)
        endpoints.append(WitnessEndpoint(witness_key.verifier, f"http://127.0.0.1:{server.server_address[1]}"))
    ledger = Ledger(db.url, signing_key=key)
    log = TransparencyLog(db.url, origin=ORIGIN, signing_key=key, witnesses=endpoints)
    try:
        ledger.bootstrap()
        log.create_tables()
        ledger.register_department(Act(FINANCE, EFFECTIVE_ON, reason="基准测试"), DEPARTMENT)
        project = build_project(ledger, "BENCH-VERIFY")
        others = build_projects(ledger, "BENCH-NOISE", max(1, noise // 900 + 1))
        batches = max(1, (events - SETUP_EVENTS) // 50)
        noise_per_batch = noise // batches
        for n in range(batches):  # the project's events among the others', as in a busy log
            fill_to(ledger, project, min(events, SETUP_EVENTS + (n + 1) * 50), 50)
            if noise_per_batch:
                add_batch(ledger, others[n % len(others)], noise_per_batch, n * noise_per_batch)
        fill_to(ledger, project, events, 50)
        bundle = dumps_bundle(log.export_bundle(key.verifier, project.id))
        return bundle, key.verifier, tuple(endpoint.key for endpoint in endpoints)
    finally:
        log.close()
        ledger.close()
        for server in servers:
            server.shutdown()
            server.server_close()


def leaf_inputs(bundle: dict[str, Any]) -> list[str]:
    """Each event's leaf-hash input (what verify.js hashes), base64 for the page."""
    object_id = UUID(bundle["object_id"]).bytes
    inputs = []
    for event in bundle["events"]:
        topic = event["topic"].encode()
        state = base64.b64decode(event["state"])
        data = (
            b"\x00JXL1"
            + object_id
            + event["originator_version"].to_bytes(8, "big")
            + len(topic).to_bytes(4, "big")
            + topic
            + len(state).to_bytes(4, "big")
            + state
        )
        inputs.append(base64.b64encode(data).decode())
    return inputs


def fmt(ms: Sequence[float]) -> str:
    return f"first {ms[0]:8.1f} ms   median {statistics.median(ms):8.1f} ms   best {min(ms):8.1f} ms"


def run(events: int, noise: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="jixiao-bench-verify-") as folder, bench_database() as db:
        started = time.perf_counter()
        text, key, witnesses = build_bundle(db, events, noise, Path(folder))
        built = time.perf_counter() - started
    bundle = json.loads(text)
    proof_nodes = [len(event["inclusion_proof"]) for event in bundle["events"]]
    options = {"logKey": key.to_string(), "witnesses": [witness.to_string() for witness in witnesses]}
    calls = [call("verifyBundle", text, options)] * rounds

    python_ms = []
    for _ in range(rounds):
        started = time.perf_counter()
        report = verify_bundle(text, key, TrustPolicy(key, witnesses, len(witnesses)))
        python_ms.append((time.perf_counter() - started) * 1000)
        assert report.ok, report.failures
    node = run_node(calls)
    with static_server() as base, chromium() as driver:
        browser = run_browser(driver, base, calls)
        version = driver.capabilities.get("browserVersion", "?")
        hashed = driver.execute_async_script(_HASH_BOTH, leaf_inputs(bundle))
    for results in (node, browser):
        verdicts = [result.get("value", {}).get("ok") for result in results]
        assert all(verdicts), results[0].get("error") or results[0]["value"]["failures"]
    node_ms = [result["ms"] for result in node]
    browser_ms = [result["ms"] for result in browser]

    node_version = subprocess.run([node_binary(), "--version"], capture_output=True, text=True, check=True).stdout
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"In-browser verifier, {platform.node()} ({platform.machine()}, {os.cpu_count()} cores, load average "
        f"{load}), Chromium {version}, Node {node_version.strip()}"
    )
    print(
        f"bundle: {len(bundle['events'])} events of one project, {len(text.encode()):,} bytes, tree size "
        f"{bundle['checkpoint'].split(chr(10))[1]}, {min(proof_nodes)}–{max(proof_nodes)} proof nodes per event, "
        f"cosigned by {len(witnesses)} witnesses (built in {built:.0f} s)"
    )
    print(
        f"Chromium (headless, in the page)  {fmt(browser_ms)}   target < {TARGET_BROWSER_S:.0f} s: "
        f"{verdict(max(browser_ms) < TARGET_BROWSER_S * 1000)}"
    )
    print(f"Node                              {fmt(node_ms)}")
    print(f"Python verify_bundle              {fmt(python_ms)}")
    python_median = statistics.median(python_ms)
    print(
        f"ratio to Python (median)          Chromium {statistics.median(browser_ms) / python_median:.1f}×   "
        f"Node {statistics.median(node_ms) / python_median:.1f}×"
    )
    if "error" in hashed:
        print(f"SHA-256 of the {len(bundle['events'])} leaf inputs in the page: {hashed['error']}")
    else:
        ratio = hashed["webcrypto"] / max(hashed["pure"], 0.01)
        print(
            f"SHA-256 of the {len(bundle['events'])} leaf inputs in the page: pure JavaScript "
            f"{hashed['pure']:.1f} ms, WebCrypto {hashed['webcrypto']:.1f} ms (ratio {ratio:.1f}×)"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_verify_browser", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000, help="events of the project in the bundle")
    parser.add_argument("--noise", type=int, default=9000, help="events of other projects in the log")
    parser.add_argument("--rounds", type=int, default=5, help="checks of the bundle per verifier")
    args = parser.parse_args(argv)
    if args.events < SETUP_EVENTS or args.rounds < 1 or args.noise < 0:
        parser.error(f"--events must be at least {SETUP_EVENTS}, --rounds at least 1, --noise not negative")
    run(args.events, args.noise, args.rounds)


if __name__ == "__main__":
    main()
