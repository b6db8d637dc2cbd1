"""``JIXIAO_LOG_FORMAT=json``: ``jixiao serve`` writes every line of its log as JSON — uvicorn's, each request's
(with the request id it echoed), the scheduler's job runs (checkpoints among them) and the read models' progress."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability.conftest import wait_until
from tests.reliability.test_sse_shutdown import output, serving

pytestmark = pytest.mark.db


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_serve_logs_json_lines_with_the_request_id_and_the_runs_of_its_roles(database_url: str, tmp_path: Path) -> None:
    settings = {
        "JIXIAO_LOG_FORMAT": "json",
        "JIXIAO_LOG_LEVEL": "info",
        "JIXIAO_RUN_SCHEDULER": "true",
        "JIXIAO_CHECKPOINT_INTERVAL": "60",
    }
    with serving(database_url, tmp_path, **settings) as (_, base, log):
        answered = httpx.get(f"{base}/projects/NY-01", headers={"X-Request-ID": "e2e-42"}, timeout=30)
        assert answered.headers["X-Request-ID"] == "e2e-42"
        made = httpx.get(f"{base}/problems", timeout=30).headers["X-Request-ID"]

        def logged() -> list[dict[str, Any]]:
            return _lines(output_all(log))

        def seen() -> bool:  # a request's line is written once it is answered: a moment after the client has it
            lines = logged()
            ran = any(line.get("job") == "checkpoints" and line.get("outcome") == "ok" for line in lines)
            return ran and {"e2e-42", made} <= {line.get("request_id") for line in lines}

        wait_until(seen, timeout=120, what="the checkpoints job's run and both requests' lines in the log")
        lines = logged()
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id", "principal"} <= set(line), line
    requests = {line["request_id"]: line for line in lines if line["logger"] == "api.access"}
    assert requests["e2e-42"]["path"] == "/projects/NY-01"
    assert (requests["e2e-42"]["method"], requests["e2e-42"]["status"]) == ("GET", 422)
    assert requests["e2e-42"]["duration_ms"] >= 0
    assert requests[made]["path"] == "/problems"
    assert any(line["logger"].startswith("uvicorn") for line in lines), "uvicorn's own lines go the same way"
    runs = [(line["job"], line["outcome"]) for line in lines if "job" in line]
    assert ("checkpoints", "started") in runs
    assert ("checkpoints", "ok") in runs
    assert any(line.get("role") == "read-models" and line.get("outcome") == "started" for line in lines), output(log)


def output_all(log: Any) -> str:
    log.seek(0)
    return str(log.read().decode(errors="replace"))
