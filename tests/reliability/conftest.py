"""A PostgreSQL of these tests' own, which they stop and restart (never the session's shared server), and helpers."""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.cluster import Cluster
from tests.conftest import fresh_database


def wait_until(condition: Callable[[], object], timeout: float = 60.0, what: str = "") -> float:
    """Seconds until ``condition()`` held (polled); fails the test if it did not within ``timeout``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    folder = Path(tempfile.mkdtemp(prefix="jixiao-restart-pg-"))
    own = Cluster(folder)
    try:
        yield own
    finally:
        own.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_database(cluster: Cluster) -> Iterator[str]:
    with fresh_database(cluster.admin_url) as url:
        yield url
