"""Issue 18, item 10: the log. A request id taken (if well formed) or made, echoed and on every line of the request;
one line per request with method, path, status, duration and principal; JSON lines on request; the scheduler's and
the read models' runs told through the same log. No database: a small app, a fake job book, a fake clock."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from api.config.settings import Settings
from api.logs import (
    JsonFormatter,
    RequestContext,
    RequestLog,
    TextFormatter,
    configure_logging,
    note_principal,
    request_id_of,
)
from api.problems import install
from api.roles.scheduler import Job, JobBook, JobOutcome, Jobs
from projections.runner import REPORT_EVERY, Progress

here = logging.getLogger("tests.api.test_logs")


@pytest.mark.parametrize(
    "given",
    ["7f3c2a9e-1d4b-4c8e-9f00-123456789abc", "abc", "req:1/2+3=4@host.example_x-y", "x" * 128],
)
def test_a_well_formed_request_id_is_kept(given: str) -> None:
    assert request_id_of(given) == given


@pytest.mark.parametrize(
    "given", [None, "", "x" * 129, "two words", "id\r\nX-Injected: 1", "id\n", "名字", '"quoted"', "a;b", "<id>"]
)
def test_any_other_request_id_is_replaced_by_a_new_one(given: str | None) -> None:
    made = request_id_of(given)
    assert made != given
    assert len(made) == 32
    assert int(made, 16) >= 0
    assert request_id_of(given) != made  # a new one each time


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    install(app)

    @app.get("/things/{name}")
    async def thing(name: str, request: Request) -> dict[str, str]:
        if request.headers.get("authorization"):
            note_principal("fin-wang")
        here.info("looking at %s", name)
        return {"name": name}

    @app.get("/broken")
    async def broken() -> dict[str, str]:
        raise RuntimeError("a bug")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(RequestLog)
    return app


@pytest.fixture
def context() -> Iterator[None]:
    """The request context on caplog's records too (the service's configuration puts it on its own handler)."""
    handler = logging.getLogger().handlers
    request_filter = RequestContext()
    for item in handler:
        item.addFilter(request_filter)
    yield
    for item in handler:
        item.removeFilter(request_filter)


def _access(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "api.access"]


def test_a_request_gets_an_id_echoed_and_one_line_with_what_happened(
    app: FastAPI, caplog: pytest.LogCaptureFixture, context: None
) -> None:
    caplog.set_level(logging.DEBUG)
    with TestClient(app) as client:
        given = client.get("/things/a", headers={"X-Request-ID": "abc-123", "Authorization": "Bearer x"})
        made = client.get("/things/b", headers={"X-Request-ID": "bad id\t"})
    assert given.headers["X-Request-ID"] == "abc-123"
    assert made.headers["X-Request-ID"] != "bad id\t"
    assert len(made.headers["X-Request-ID"]) == 32
    first, second = _access(caplog)
    assert (first.method, first.path, first.status, first.levelno) == ("GET", "/things/a", 200, logging.INFO)  # type: ignore[attr-defined]
    assert isinstance(first.duration_ms, float)  # type: ignore[attr-defined]
    assert (first.request_id, first.principal) == ("abc-123", "fin-wang")  # type: ignore[attr-defined]
    assert (second.request_id, second.principal) == (made.headers["X-Request-ID"], None)  # type: ignore[attr-defined]
    inside = [record for record in caplog.records if record.name == here.name]
    assert [record.request_id for record in inside] == ["abc-123", made.headers["X-Request-ID"]]  # type: ignore[attr-defined]
    assert inside[0].principal == "fin-wang"  # type: ignore[attr-defined]
    outside = logging.makeLogRecord({"msg": "between requests"})
    RequestContext().filter(outside)
    assert (outside.request_id, outside.principal) == (None, None)  # type: ignore[attr-defined]


def test_a_failed_request_is_logged_as_a_500_and_its_answer_names_the_request(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/broken", headers={"X-Request-ID": "trace-500"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "trace-500"
    assert "trace-500" in response.json()["detail"]
    (line,) = _access(caplog)
    assert (line.status, line.levelno) == (500, logging.WARNING)  # type: ignore[attr-defined]


def test_probes_are_logged_at_debug_while_they_succeed(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="api.access")
    with TestClient(app) as client:
        client.get("/healthz")
        client.get("/things/x")
    assert [record.path for record in _access(caplog)] == ["/things/x"]  # type: ignore[attr-defined]


def _record(**extra: Any) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "api.access", "levelno": logging.INFO, "levelname": "INFO", **extra})
    record.msg, record.args = "%s %s %d", ("GET", "/projects", 200)
    return record


def test_a_json_line_has_time_level_logger_message_request_and_the_records_fields() -> None:
    record = _record(
        request_id="r-1", principal="fin-wang", method="GET", path="/projects", status=200, duration_ms=3.2
    )
    line = json.loads(JsonFormatter().format(record))
    assert list(line)[:6] == ["time", "level", "logger", "message", "request_id", "principal"]
    assert line["level"] == "info"
    assert line["logger"] == "api.access"
    assert line["message"] == "GET /projects 200"
    assert (line["request_id"], line["principal"]) == ("r-1", "fin-wang")
    assert (line["method"], line["path"], line["status"], line["duration_ms"]) == ("GET", "/projects", 200, 3.2)
    assert datetime.fromisoformat(line["time"]).utcoffset() is not None
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failed = _record(exc_info=sys.exc_info())
    assert "ValueError: boom" in json.loads(JsonFormatter().format(failed))["exception"]
    text = TextFormatter().format(_record(request_id="r-1", principal="fin-wang"))
    assert text.endswith("INFO api.access: GET /projects 200 [req r-1 fin-wang]")


def test_configured_for_json_every_line_of_the_process_is_json(capfd: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    kept = (root.handlers[:], root.level)
    try:
        configure_logging("json", "info")
        logging.getLogger("uvicorn.error").info("Started server process")
        here.warning("something %s", "odd", extra={"job": "deadlines"})
    finally:
        root.handlers[:], _ = kept
        root.setLevel(kept[1])
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("uvicorn.error", "Started server process"),
        (here.name, "something odd"),
    ]
    assert lines[1]["job"] == "deadlines"


def test_the_log_format_is_a_setting_text_by_default() -> None:
    assert Settings().log_format == "text"
    assert Settings(log_format="json").log_format == "json"
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="xml")


class Book(JobBook):
    def __init__(self) -> None:
        super().__init__("postgresql://unused")
        self.records: list[dict[str, Any]] = []

    def record(self, job: str, **fields: Any) -> None:
        self.records.append({"job": job, **fields})


def test_each_job_run_is_logged_as_it_starts_and_ends_with_its_outcome(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="api.roles.scheduler")

    def fails(day: date) -> JobOutcome:
        raise RuntimeError("the database went away")

    jobs = Jobs(
        [
            Job("checkpoints", timedelta(seconds=60), "sign", lambda day: JobOutcome({"Checkpoint": 1}, "signed")),
            Job("deadlines", timedelta(seconds=60), "sweep", fails),
        ],
        Book(),
        clock=lambda: datetime(2021, 3, 1, tzinfo=UTC),
        zone=UTC,
        runner="host:1",
    )
    jobs.run("checkpoints", trigger="scheduled")
    with pytest.raises(RuntimeError):
        jobs.run("deadlines", trigger="manual")
    lines = [(record.job, record.outcome, record.levelno) for record in caplog.records]  # type: ignore[attr-defined]
    assert lines == [
        ("checkpoints", "started", logging.INFO),
        ("checkpoints", "ok", logging.INFO),
        ("deadlines", "started", logging.INFO),
        ("deadlines", "failed", logging.ERROR),
    ]
    ok, failed = caplog.records[1], caplog.records[3]
    assert ok.raised == {"Checkpoint": 1}  # type: ignore[attr-defined]
    assert ok.trigger == "scheduled"  # type: ignore[attr-defined]
    assert "raised Checkpoint ×1 (signed)" in ok.getMessage()
    assert failed.exc_info is not None
    assert isinstance(failed.duration_ms, float)  # type: ignore[attr-defined]


def test_the_read_models_tell_what_they_applied_at_most_every_few_seconds(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="projections.runner")
    now = [0.0]
    progress = Progress(clock=lambda: now[0])
    progress.add(0, 0.001)  # nothing yet: nothing said
    progress.add(500, 0.2)  # the first catch-up: said at once
    for _ in range(10):
        now[0] += 0.05
        progress.add(3, 0.001)  # following: gathered
    now[0] += REPORT_EVERY
    progress.add(1, 0.001)
    progress.add(2, 0.001)
    progress.report(force=True)  # as it stops
    said = [(record.outcome, record.events) for record in caplog.records]  # type: ignore[attr-defined]
    assert said == [("caught-up", 500), ("applied", 31), ("applied", 2)]
    assert progress.total == 533
