"""The README's curl walk-through, run as written against a live server: what it promises is what happens."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from ledger.log.checkpoint import SigningKey
from tests.api.conftest import ORIGIN, LiveServer, Service, settings_for
from tests.standalone import standalone

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- walkthrough -->\n```sh\n(.*?)```\n<!-- /walkthrough -->", text, re.S)
    assert found, "README.md lost its walk-through block"
    return found.group(1)


def test_the_readme_walkthrough_runs_as_written(database_url: str, tmp_path: Path) -> None:
    """Every step must succeed (``set -euo pipefail``; the helpers fail on an HTTP error), on a ledger that already
    has a signed checkpoint, as after ``make demo`` or a minute of the scheduler: the walk-through's own events come
    after it."""
    key = SigningKey.generate(ORIGIN)
    app = create_app(settings_for(database_url, tmp_path / "data", key))
    with LiveServer(app) as base:
        token, _ = app.state.tokens.issue("fin-setup", "finance", "市财政局", created_by="test")
        earlier = httpx.post(
            f"{base}/departments",
            json={"name": "民政局", "effective_on": "2020-08-01"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert earlier.status_code == 201, earlier.text
        assert app.state.log.sign_checkpoint() is not None
        env = {
            **os.environ,
            "API": base,
            "J": f"{sys.executable} -m api.cli",
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
            "JIXIAO_SIGNING_KEY": key.to_string(),
            "JIXIAO_LOG_ORIGIN": ORIGIN,
        }
        run = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + walkthrough()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    for promised in (
        '"code":"ex-ante-required"',
        '"replayed":true',
        "Project.DeviationDetected\n",
        "\nred\n",
        "\n优\n",
        "Project.GoalsSubmitted\n",
        "budget_approved\n",
        "OK: 14 events of",
    ):
        assert promised in out, f"{promised!r} not in the output:\n{out[-3000:]}"
    assert "urn:jixiao:problem" not in out.replace('"type":"urn:jixiao:problem:ex-ante-required"', ""), out


def client_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- client -->\n```python\n(.*?)```\n<!-- /client -->", text, re.S)
    assert found, "README.md lost its client example"
    return found.group(1)


def test_the_readme_client_follows_the_feed_resumes_and_proves_what_it_received(
    service: Service, tmp_path: Path
) -> None:
    """Run as written, in a process that refuses psycopg, eventsourcing, FastAPI and pydantic: the verifier it
    imports stands alone."""
    for n in range(12):
        service.post("finance", "/departments", {"name": f"部门{n:02}", "effective_on": "2020-08-01"})
    signed = service.app.state.log.sign_checkpoint()
    assert signed is not None
    key = service.key.verifier.to_string()
    with LiveServer(service.app, started=True) as base:
        env = {
            **os.environ,
            "API": base,
            "TOKEN": service.tokens["auditor"],
            "LEDGER_KEY": key,
            "PYTHONPATH": str(ROOT),
        }
        first = subprocess.run(
            [sys.executable, "-c", standalone(client_example())],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert first.returncode == 0, first.stderr
        handled = [int(line.split()[0]) for line in first.stdout.splitlines()]
        assert handled == list(range(signed.column_size))
        assert (tmp_path / "cursor.txt").read_text() == str(signed.column_size - 1)
        for n in range(12, 15):
            service.post("finance", "/departments", {"name": f"部门{n:02}", "effective_on": "2020-08-01"})
        later = service.app.state.log.sign_checkpoint()
        second = subprocess.run(
            [sys.executable, "-c", standalone(client_example())],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert second.returncode == 0, second.stderr
    resumed = [int(line.split()[0]) for line in second.stdout.splitlines()]
    assert resumed == list(range(signed.column_size, later.column_size))  # exactly where it stopped
