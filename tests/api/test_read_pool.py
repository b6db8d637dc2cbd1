"""A query takes its read connection only once its caller is known.

On one server the token store and the queries share a pool. A query that took its connection first and then
looked its token up (a cache miss: the token is new, or its cached lookup is older than five seconds) waited for a
second connection while holding one: as many such queries at once as the pool has connections, and none could go
on until the pool gave up (``READ_WAIT``, 5 s) and each was answered 503 — every five seconds under a steady load of
as many clients as connections, found by ``bench/bench_replica.py``. With a pool of one, one query is enough.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.api.conftest import running_service

pytestmark = pytest.mark.db


def test_a_query_with_a_token_not_yet_looked_up_is_answered_on_a_pool_of_one(database_url: str, tmp_path: Path) -> None:
    with running_service(database_url, tmp_path, read_pool_size=1) as service:
        token, _ = service.app.state.tokens.issue("fin-pool", "finance", "市财政局", created_by="test")
        started = time.monotonic()
        answer = service.client.get("/departments", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - started < 4.0  # not after the pool's 5 s wait
        refused = service.client.get("/departments", headers={"Authorization": "Bearer jxl_not-a-token"})
        assert refused.status_code == 401, refused.text
