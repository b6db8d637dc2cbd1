"""Fixtures of the integration tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.config.database import as_url
from api.config.migrations import grant_service_role, migrate
from api.config.settings import Settings
from ledger.application.ledger import Ledger


@pytest.fixture
def service_url(ledger: Ledger, database_url: str) -> Iterator[str]:
    """The schema migrated by the owner, then the service role granted by the owner, as a deployment does it; the
    URL connects as that role."""
    migrate(database_url, Settings(database_url=database_url, log_origin="test/log"))
    role = f"jixiao_app_{uuid.uuid4().hex[:8]}"
    grant_service_role(database_url, role, None)
    params = conninfo_to_dict(database_url)
    params["user"] = role
    params.pop("password", None)
    try:
        yield as_url(make_conninfo(**params))  # type: ignore[arg-type]
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")  # type: ignore[arg-type]
            conn.execute(f"DROP ROLE {role}")  # type: ignore[arg-type]
