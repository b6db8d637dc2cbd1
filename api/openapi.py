"""What the OpenAPI document says beyond FastAPI's own: a short, stable operation id for every route.

An operation id is the endpoint function's name in lower camel case (``report_monitoring`` → ``reportMonitoring``):
what a generated client names the method (``ProjectsApi.reportMonitoring``), unique across the document, set by
:class:`api.body.LedgerRoute` for every route that does not name its own. FastAPI's would be
``report_monitoring_projects__project_id__monitoring_reports_post``. Operation ids are a contract with integrators:
renaming an endpoint function renames its operation (tests/api/test_operation_ids.py keeps the published ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

OPERATION_ID = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def operation_id_for(endpoint: Callable[..., Any]) -> str:
    """``report_monitoring`` → ``reportMonitoring``."""
    head, *rest = [part for part in endpoint.__name__.split("_") if part]
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
