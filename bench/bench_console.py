"""The console's pages (api/console): each page's render time, p50 and p95, in process.

    python -m bench.bench_console [--events N] [--projects N] [--rounds N]

On a fresh database the service (``create_app``, its lifespan started by a TestClient: no network between) gets a
1,000-event project (``--events``: declared … budget approved, then supervision notes) among ``--projects`` other
projects, and a token per role. Each page is then asked ``--rounds`` times as the role that reads it, after one
warm-up request; the time is the whole request, from the client's call to the last byte (the page's API reads
through the service's own routes, the read models' queries, the template).

The issue's target (every page under 300 ms p95 for a 1,000-event project) is printed beside each page; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from api.config.settings import Settings
from api.deps import READ_MODELS
from bench.common import bench_database, fmt_ms, machine_line, percentile, print_header, print_table, verdict
from bench.sample import build_project, build_projects, fill_to, prepare_ledger
from ledger.application.ledger import Ledger
from ledger.log.checkpoint import SigningKey
from projections.positions import log_size, positions

TARGET_P95_MS = 300.0
ORIGIN = "bench.example.gov.cn/jixiao"
ROLES = {
    "finance": ("bench-fin", "finance", "市财政局"),
    "department": ("bench-edu", "department", "教育局"),
    "agency": ("bench-agency", "agency", "某咨询评估有限公司"),
    "auditor": ("bench-aud", "auditor", "市审计局"),
}


def pages(project_code: str) -> list[tuple[str, str | None, str]]:
    """(name, role or None for no token, path) of every page measured."""
    return [
        ("sign-in", None, "/console/login"),
        ("home: finance", "finance", "/console"),
        ("home: department", "department", "/console"),
        ("home: agency", "agency", "/console"),
        ("home: auditor", "auditor", "/console"),
        ("tables", "finance", "/console/tables"),
        ("table: projects", "finance", "/console/tables/projects"),
        ("table: projects, searched", "finance", "/console/tables/projects?q=%E8%90%A5%E5%85%BB&sort=code"),
        ("table: projects, by code", "finance", f"/console/tables/projects?code={project_code}"),
        ("table: trail, 200 a page", "finance", "/console/tables/trail?size=200"),
        ("table: trail, one project", "auditor", "/console/tables/trail?size=200&object={project_id}"),
        ("project page", "auditor", "/console/projects/{project_id}"),
        ("project: its slider at version 500", "auditor", "/console/projects/{project_id}/at?version=500"),
        ("verifier key", "auditor", "/console/verifier"),
        ("table: deadlines", "finance", "/console/tables/deadlines"),
        ("table: coverage", "finance", "/console/tables/coverage"),
        ("table: ranking", "finance", "/console/tables/departments-ranking"),
        ("table: disclosures", "finance", "/console/tables/disclosures"),
        ("table: blacklist", "finance", "/console/tables/blacklist"),
        ("table: decisions", "finance", "/console/tables/decisions"),
        ("public", None, "/console/public"),
        ("public: projects", None, "/console/public/projects"),
        ("public: disclosures", None, "/console/public/disclosures"),
        ("public: blacklist", None, "/console/public/blacklist"),
        ("english: finance home", "finance", "/console?lang=en"),
    ]


def wait_for_read_models(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while positions(conn, READ_MODELS) < log_size(conn):
            if time.monotonic() > deadline:
                raise RuntimeError("the read models did not catch up")
            time.sleep(0.2)


def measure(client: TestClient, cookie: dict[str, str], path: str, rounds: int) -> tuple[int, list[float]]:
    status = client.get(path, headers=cookie).status_code  # warm-up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path, headers=cookie)
        times.append(time.perf_counter() - started)
        status = response.status_code
    return status, times


def run(events: int, projects: int, rounds: int) -> None:
    key = SigningKey.generate("bench.example.gov.cn-jixiao")
    with tempfile.TemporaryDirectory(prefix="jixiao-bench-console-") as folder, bench_database() as db:
        ledger = Ledger(db.url, signing_key=key)
        try:
            prepare_ledger(ledger)
            project = build_project(ledger, "BENCH-CONSOLE")
            fill_to(ledger, project, events, 100)
            build_projects(ledger, "BENCH-OTHER", projects)
        finally:
            ledger.close()
        settings = Settings(
            database_url=db.url,
            data_dir=Path(folder),
            checkpoint_interval=0,
            run_scheduler=False,
            signing_key=key.to_string(),
            log_origin=ORIGIN,
        )
        app = create_app(settings)
        with TestClient(app, raise_server_exceptions=False) as client:
            cookies: dict[str | None, dict[str, str]] = {None: {}} | {
                role: {"Cookie": f"jixiao_console={app.state.tokens.issue(*who, created_by='bench')[0]}"}
                for role, who in ROLES.items()
            }
            wait_for_read_models(db.url)
            print_header(
                "Console pages: render time per request (in process)",
                [
                    ("machine", machine_line("fastapi", "jinja2", "psycopg")),
                    ("log", f"{events:,}-event project among {projects} others; {rounds} requests a page"),
                    ("target", f"p95 < {TARGET_P95_MS:.0f} ms a page (issue 19)"),
                ],
            )
            rows = []
            for name, role, path in pages("BENCH-CONSOLE"):
                path = path.replace("{project_id}", str(project.id))
                status, times = measure(client, cookies[role], path, rounds)
                p95 = percentile(times, 95) * 1000
                rows.append(
                    [
                        name,
                        role or "public",
                        str(status),
                        fmt_ms(percentile(times, 50) * 1000),
                        fmt_ms(p95),
                        verdict(p95 < TARGET_P95_MS and status == 200),
                    ]
                )
            print_table(["page", "as", "status", "p50", "p95", "< 300 ms"], rows, right=[2, 3, 4])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000, help="events of the measured project (default 1,000)")
    parser.add_argument("--projects", type=int, default=50, help="other projects in the log (default 50)")
    parser.add_argument("--rounds", type=int, default=30, help="requests a page (default 30)")
    args = parser.parse_args(argv)
    run(args.events, args.projects, args.rounds)


if __name__ == "__main__":
    main()
