"""The service's own requests in the log: the principal a token names, on its request's line (with a database)."""

from __future__ import annotations

import logging

import pytest

from tests.api.conftest import Service
from tests.api.world import expect

pytestmark = pytest.mark.db


def test_an_authenticated_requests_line_names_its_principal_and_its_id(
    shared_service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.access")
    s = shared_service
    answered = s.client.get("/departments", headers=s.headers("finance", **{"X-Request-ID": "audit-7"}))
    expect(answered, 200)
    public = s.client.get("/projects")
    expect(public, 200)
    refused = s.client.get("/departments", headers={"Authorization": "Bearer not-a-token"})
    expect(refused, 401)
    lines = {record.path + str(record.status): record for record in caplog.records if record.name == "api.access"}  # type: ignore[attr-defined]
    seen = lines["/departments200"]
    assert answered.headers["X-Request-ID"] == "audit-7"
    assert (seen.method, seen.request_id, seen.principal) == ("GET", "audit-7", "fin-wang")  # type: ignore[attr-defined]
    assert lines["/projects200"].principal is None  # type: ignore[attr-defined]
    assert lines["/departments401"].principal is None  # type: ignore[attr-defined]
    assert refused.headers["X-Request-ID"] == lines["/departments401"].request_id  # type: ignore[attr-defined]
