"""Webhooks against a real receiver: it fails, goes down, recovers — and gets every event once, in order."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Service, running_service
from tests.api.world import expect

pytestmark = pytest.mark.db


class Receiver:
    """An HTTP endpoint that checks each delivery's signature and answers as ``answer(attempt_number)`` says."""

    def __init__(self, secret: str, answer: Callable[[int], int]) -> None:
        self.secret = secret
        self.answer = answer
        self.attempts = 0
        self.accepted: list[int] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(receiver.secret.encode(),
                                                self.headers["X-Jixiao-Timestamp"].encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                with receiver.lock:
                    receiver.attempts += 1
                    status = receiver.answer(receiver.attempts)
                    if not hmac.compare_digest(expected, self.headers["X-Jixiao-Signature"]):
                        receiver.bad_signatures += 1
                        status = 401
                    position = int(self.headers["X-Jixiao-Position"])
                    assert json.loads(body)["position"] == position
                    if status == 200 and position not in receiver.accepted:  # a receiver drops repeats by position
                        receiver.accepted.append(position)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        return Handler


@contextmanager
def serving(receiver: Receiver, port: int = 0) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", port), receiver.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def record(service: Service, names: range) -> list[int]:
    return [expect(service.post("finance", "/departments", {"name": f"部门{n:03}", "effective_on": "2020-08-01"}),
                   201)["position"] for n in names]


@pytest.fixture
def fast(database_url: str, tmp_path: Path) -> Iterator[Service]:
    with running_service(database_url, tmp_path, webhook_backoff=0.05, webhook_max_attempts=40) as service:
        yield service


def test_a_receiver_that_fails_goes_down_and_recovers_gets_every_event_once_in_order(fast: Service) -> None:
    secret = "a-shared-secret-of-some-length"
    receiver = Receiver(secret, lambda attempt: 500 if attempt <= 3 else 200)
    with serving(receiver) as port:
        created = expect(fast.post("finance", "/subscriptions", {
            "url": f"http://127.0.0.1:{port}/hook", "topics": ["Department.*"], "secret": secret}), 201)
        positions = record(fast, range(10))
        wait_until(lambda: len(receiver.accepted) == 10)
    # Down: connections refused while more is recorded.
    positions += record(fast, range(10, 25))
    time.sleep(1.0)
    status = expect(fast.get("finance", f"/subscriptions/{created['id']}"), 200)
    assert status["attempts"] > 0
    assert "ConnectionRefusedError" in status["last_error"]
    with serving(receiver, port):
        positions += record(fast, range(25, 30))
        wait_until(lambda: len(receiver.accepted) == 30)
        # The cursor is recorded just after the receiver's 2xx (a batch at a time): it arrives at the last one.
        wait_until(lambda: expect(fast.get("finance", f"/subscriptions/{created['id']}"), 200)["position"]
                   == positions[-1], timeout=5)
    assert receiver.accepted == positions  # every event once, in position order
    assert receiver.bad_signatures == 0
    log = expect(fast.get("finance", f"/subscriptions/{created['id']}/deliveries", limit=1000), 200)
    assert [item["status_code"] for item in log[:4]] == [500, 500, 500, 200]
    assert [item["position"] for item in log if item["status_code"] == 200] == positions  # logged once, in order


def test_a_dead_letter_stops_delivery_until_the_subscription_is_enabled_again(database_url: str,
                                                                           tmp_path: Path) -> None:
    with running_service(database_url, tmp_path, webhook_backoff=0.05, webhook_max_attempts=3) as service:
        secret = "another-shared-secret-value"
        healthy = threading.Event()
        receiver = Receiver(secret, lambda _: 200 if healthy.is_set() else 503)
        with serving(receiver) as port:
            created = expect(service.post("auditor", "/subscriptions", {
                "url": f"http://127.0.0.1:{port}/", "secret": secret, "after": -1}), 201)
            head = service.ledger.head()
            wait_until(lambda: expect(service.get("auditor", f"/subscriptions/{created['id']}"),
                                      200)["status"] == "dead")
            stuck = expect(service.get("auditor", f"/subscriptions/{created['id']}"), 200)
            assert (stuck["position"], stuck["attempts"], receiver.attempts) == (-1, 3, 3)
            time.sleep(0.5)
            assert receiver.attempts == 3  # dead means no more attempts
            healthy.set()
            expect(service.post("auditor", f"/subscriptions/{created['id']}/enable"), 200)
            wait_until(lambda: len(receiver.accepted) == head)
        assert receiver.accepted == list(range(head))  # the stuck event first, then everything after it, once
        other = service.get("finance", f"/subscriptions/{created['id']}")
        assert expect(other, 403)["code"] == "role-not-allowed"
        assert service.post("auditor", "/subscriptions", {"url": "file:///etc/passwd"}).status_code == 422


def test_deliveries_before_a_failure_are_recorded_before_it(fast: Service) -> None:
    """Successes are recorded a batch at a time: a failure in mid-page first records those before it."""
    secret = "a-third-shared-secret-value"
    receiver = Receiver(secret, lambda attempt: 503 if attempt == 5 else 200)  # the 5th attempt fails, once
    with serving(receiver) as port:
        before = fast.ledger.head() - 1
        positions = record(fast, range(8))  # recorded before the subscription exists: one page, from `after`
        created = expect(fast.post("finance", "/subscriptions", {
            "url": f"http://127.0.0.1:{port}/", "topics": ["Department.*"], "secret": secret, "after": before}), 201)
        wait_until(lambda: expect(fast.get("finance", f"/subscriptions/{created['id']}"), 200)["position"]
                   == positions[-1])
    assert receiver.accepted == positions
    log = expect(fast.get("finance", f"/subscriptions/{created['id']}/deliveries", limit=100), 200)
    assert [(item["position"], item["status_code"]) for item in log] == [
        *[(position, 200) for position in positions[:4]], (positions[4], 503),
        *[(position, 200) for position in positions[4:]]]
    assert [item["attempt"] for item in log][4:6] == [1, 2]
