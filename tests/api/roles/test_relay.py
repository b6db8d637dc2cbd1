"""The NATS relay, killed mid-stream and restarted, leaves JetStream with every event exactly once, in order.

Needs a NATS server with JetStream (``JIXIAO_NATS_URL``, default the machine's nats://127.0.0.1:4222). Without
one the test is skipped with the reason — unless ``JIXIAO_REQUIRE_NATS=1`` (as ``.ci/run`` sets), when that is
a failure: CI never passes it by skipping.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlparse

import nats
import pytest

from ledger.application import Ledger
from ledger.domain.organisations import Department
from ledger.domain.values import Attribution
from tests.conftest import FINANCE

pytestmark = pytest.mark.db

EVENTS = 4000


@pytest.fixture
def nats_url() -> str:
    url = os.environ.get("JIXIAO_NATS_URL", "nats://127.0.0.1:4222")
    address = urlparse(url.split(",")[0])
    try:
        socket.create_connection((address.hostname or "127.0.0.1", address.port or 4222), timeout=2).close()
    except OSError as error:
        if os.environ.get("JIXIAO_REQUIRE_NATS") == "1":
            pytest.fail(f"JIXIAO_REQUIRE_NATS=1 but no NATS server answers at {url}: {error}")
        pytest.skip(f"no NATS server at {url} ({error}); set JIXIAO_NATS_URL to run the relay test")
    return url


@pytest.fixture
def stream(nats_url: str) -> Iterator[tuple[str, str]]:
    """A stream and subject prefix of this test's own, deleted afterwards."""
    name = f"JIXIAO_TEST_{uuid.uuid4().hex[:10].upper()}"
    yield name, f"jixiao-test.{name.lower()}"

    async def delete() -> None:
        connection = await nats.connect(nats_url)
        try:
            await connection.jetstream().delete_stream(name)
        finally:
            await connection.close()

    asyncio.run(delete())


async def stream_messages(url: str, name: str) -> list[tuple[int, int, int]]:
    """(stream sequence, Nats-Msg-Id, payload position) of every message, in stream order."""
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        info = await js.stream_info(name)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg(name, seq=seq)
            assert message.data is not None
            found.append((seq, int((message.headers or {})["Nats-Msg-Id"]), json.loads(message.data)["position"]))
        return found
    finally:
        await connection.close()


async def stream_count(url: str, name: str) -> int:
    connection = await nats.connect(url)
    try:
        return int((await connection.jetstream().stream_info(name)).state.messages)
    except nats.js.errors.NotFoundError:
        return 0
    finally:
        await connection.close()


def relay(database_url: str, nats_url: str, stream: tuple[str, str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JIXIAO_NATS_URL": nats_url,
        "JIXIAO_NATS_STREAM": stream[0],
        "JIXIAO_NATS_SUBJECT_PREFIX": stream[1],
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "relay", "nats"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_the_relay_killed_mid_stream_publishes_every_event_exactly_once(
    ledger: Ledger, database_url: str, nats_url: str, stream: tuple[str, str]
) -> None:
    for first in range(0, EVENTS, 200):  # many events quickly: 200 departments a transaction
        ledger.save(
            *(
                Department.register(f"部门{n:05}", Attribution(FINANCE, date(2020, 8, 1)))
                for n in range(first, first + 200)
            )
        )
    head = ledger.head()
    process = relay(database_url, nats_url, stream)
    deadline = time.monotonic() + 60
    while (published := asyncio.run(stream_count(nats_url, stream[0]))) < 200:
        assert process.poll() is None, "the relay exited"
        assert time.monotonic() < deadline, "the relay did not start publishing"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert published < head, "the relay finished before it could be killed mid-stream"
    restarted = relay(database_url, nats_url, stream)
    try:
        ledger.save(*(Department.register(f"后来{n}", Attribution(FINANCE, date(2020, 8, 2))) for n in range(5)))
        head += 5
        deadline = time.monotonic() + 120
        while asyncio.run(stream_count(nats_url, stream[0])) < head:
            assert restarted.poll() is None, "the restarted relay exited"
            assert time.monotonic() < deadline, "the relay did not catch up"
            time.sleep(0.1)
        time.sleep(0.5)  # would anything more (a repeat) arrive?
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
    messages = asyncio.run(stream_messages(nats_url, stream[0]))
    assert [message_id for _, message_id, _ in messages] == list(range(head))
    assert all(message_id == position for _, message_id, position in messages)
