"""Webhooks against a real receiver: it fails, goes down, recovers — and gets every event once, in order. Receivers
inside the network are refused in every spelling, at registration and at every connection."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.api.conftest import Service, running_service
from tests.api.world import expect

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
REFUSED = "refused by policy 目标地址被策略拒绝"
LOOPBACK = "127.0.0.1/32"  # the receivers of these tests listen on loopback, which only an operator may allow


def signature(secret: str, headers: Mapping[str, str], body: bytes) -> str:
    message = f"{headers['X-Jixiao-Timestamp']}.{headers['X-Jixiao-Position']}.".encode() + body
    return "v2=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Receiver:
    """An HTTP endpoint that checks each delivery's signature and answers as ``answer(attempt_number)`` says."""

    def __init__(self, secret: str, answer: Callable[[int], int] = lambda _: 200) -> None:
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
                with receiver.lock:
                    receiver.attempts += 1
                    status = receiver.answer(receiver.attempts)
                    if not hmac.compare_digest(
                        signature(receiver.secret, dict(self.headers), body), self.headers["X-Jixiao-Signature"]
                    ):
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
def serving(receiver: Receiver | type[BaseHTTPRequestHandler], port: int = 0) -> Iterator[int]:
    handler = receiver.handler() if isinstance(receiver, Receiver) else receiver
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
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
    return [
        expect(service.post("finance", "/departments", {"name": f"部门{n:03}", "effective_on": "2020-08-01"}), 201)[
            "position"
        ]
        for n in names
    ]


def subscription(service: Service, who: str, subscription_id: str) -> Any:
    return expect(service.get(who, f"/subscriptions/{subscription_id}"), 200)


def planted(database_url: str, url: str, position: int, status: str = "active") -> str:
    """A subscription written straight into the table — by whoever holds the database, or made before a policy
    refused its URL — which the dispatcher must still check."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        created = uuid.uuid4()
        conn.execute(
            "INSERT INTO webhook_subscriptions (id, url, topics, secret, principal_id, principal_role, "
            "principal_org, position, status) VALUES (%s, %s, '{}', 'a-planted-secret-value', 'fin-wang', "
            "'finance', '市财政局', %s, %s)",
            (created, url, position, status),
        )
        conn.execute("NOTIFY ledger_events")
    return str(created)


def free_port() -> int:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        return int(placeholder.getsockname()[1])


@pytest.fixture
def fast(database_url: str, tmp_path: Path) -> Iterator[Service]:
    with running_service(
        database_url, tmp_path, webhook_backoff=0.05, webhook_max_attempts=40, webhook_allow=LOOPBACK
    ) as service:
        yield service


@pytest.fixture
def strict(database_url: str, tmp_path: Path) -> Iterator[Service]:
    """The default policy (nothing allowed beside public addresses); one attempt before a dead letter."""
    with running_service(database_url, tmp_path, webhook_backoff=0.05, webhook_max_attempts=1) as service:
        yield service


def test_a_receiver_that_fails_goes_down_and_recovers_gets_every_event_once_in_order(fast: Service) -> None:
    secret = "a-shared-secret-of-some-length"
    receiver = Receiver(secret, lambda attempt: 500 if attempt <= 3 else 200)
    with serving(receiver) as port:
        created = expect(
            fast.post(
                "finance",
                "/subscriptions",
                {"url": f"http://127.0.0.1:{port}/hook", "topics": ["Department.*"], "secret": secret},
            ),
            201,
        )
        positions = record(fast, range(10))
        wait_until(lambda: len(receiver.accepted) == 10)
    # Down: connections refused while more is recorded.
    positions += record(fast, range(10, 25))
    time.sleep(1.0)
    status = subscription(fast, "finance", created["id"])
    assert status["attempts"] > 0
    assert "ConnectionRefusedError" in status["last_error"]
    with serving(receiver, port):
        positions += record(fast, range(25, 30))
        wait_until(lambda: len(receiver.accepted) == 30)
        # The cursor is recorded just after the receiver's 2xx (a batch at a time): it arrives at the last one.
        wait_until(lambda: subscription(fast, "finance", created["id"])["position"] == positions[-1], timeout=5)
    assert receiver.accepted == positions  # every event once, in position order
    assert receiver.bad_signatures == 0
    log = expect(fast.get("finance", f"/subscriptions/{created['id']}/deliveries", limit=1000), 200)
    assert [item["status_code"] for item in log[:4]] == [500, 500, 500, 200]
    assert [item["position"] for item in log if item["status_code"] == 200] == positions  # logged once, in order


def test_a_dead_letter_stops_delivery_until_the_subscription_is_enabled_again(
    database_url: str, tmp_path: Path
) -> None:
    with running_service(
        database_url, tmp_path, webhook_backoff=0.05, webhook_max_attempts=3, webhook_allow=LOOPBACK
    ) as service:
        secret = "another-shared-secret-value"
        healthy = threading.Event()
        receiver = Receiver(secret, lambda _: 200 if healthy.is_set() else 503)
        with serving(receiver) as port:
            created = expect(
                service.post(
                    "auditor", "/subscriptions", {"url": f"http://127.0.0.1:{port}/", "secret": secret, "after": -1}
                ),
                201,
            )
            head = service.ledger.head()
            wait_until(lambda: subscription(service, "auditor", created["id"])["status"] == "dead")
            stuck = subscription(service, "auditor", created["id"])
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
        created = expect(
            fast.post(
                "finance",
                "/subscriptions",
                {"url": f"http://127.0.0.1:{port}/", "topics": ["Department.*"], "secret": secret, "after": before},
            ),
            201,
        )
        wait_until(lambda: subscription(fast, "finance", created["id"])["position"] == positions[-1])
    assert receiver.accepted == positions
    log = expect(fast.get("finance", f"/subscriptions/{created['id']}/deliveries", limit=100), 200)
    assert [(item["position"], item["status_code"]) for item in log] == [
        *[(position, 200) for position in positions[:4]],
        (positions[4], 503),
        *[(position, 200) for position in positions[4:]],
    ]
    assert [item["attempt"] for item in log][4:6] == [1, 2]


# Item 16: the signature covers the timestamp and the position; the README's receiver checks both.


def readme_receiver() -> dict[str, Any]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- receiver -->\n```python\n(.*?)```\n<!-- /receiver -->", text, re.S)
    assert found, "README.md lost its receiver example"
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), "README.md (receiver)", "exec"), namespace)
    return namespace


def test_the_readme_receiver_accepts_each_delivery_once_and_refuses_forgeries_and_replays(fast: Service) -> None:
    secret = "the-readme-receiver-secret"
    readme = readme_receiver()
    handled: list[int] = []
    readme["handle"] = lambda event: handled.append(event["position"])
    cursor = [-1]
    seen: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((dict(self.headers), body))
            self.send_response(readme["receive"](secret.encode(), self.headers, body, cursor))
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    with serving(Handler) as port:
        expect(
            fast.post(
                "finance",
                "/subscriptions",
                {"url": f"http://127.0.0.1:{port}/", "topics": ["Department.*"], "secret": secret},
            ),
            201,
        )
        positions = record(fast, range(5))
        wait_until(lambda: handled == positions)
    headers, body = seen[-1]
    receive = readme["receive"]
    assert headers["X-Jixiao-Signature"] == signature(secret, headers, body)
    assert receive(secret.encode(), headers, body, cursor) == 200  # a repeat: answered, not handled again
    assert handled == positions
    moved = {**headers, "X-Jixiao-Position": str(int(headers["X-Jixiao-Position"]) + 1)}
    assert receive(secret.encode(), moved, body, cursor) == 401  # the position is signed
    stale = {**headers, "X-Jixiao-Timestamp": str(int(time.time()) - 301)}
    stale["X-Jixiao-Signature"] = signature(secret, stale, body)
    assert receive(secret.encode(), stale, body, cursor) == 401  # well signed, but too old: a replay
    version_1 = (
        "sha256="
        + hmac.new(secret.encode(), headers["X-Jixiao-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    assert receive(secret.encode(), {**headers, "X-Jixiao-Signature": version_1}, body, cursor) == 401
    assert handled == positions


# Item 7: no webhook to the inside of the network, however it is spelt.

INTERNAL = [
    "http://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/",
    "http://2130706433/",
    "http://0.0.0.0:22/",
    "http://127.0.0.1:5432/",
    "http://0177.0.0.1/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://0x7f000001/",
    "http://127.0.0.1./",
    "http://example.com@127.0.0.1/",
    "http://%31%32%37.0.0.1/",
    "http://①②⑦.0.0.1/",
    "http://１２７．０．０．１/",
    "http://localhost:8000/",
    "http://LOCALHOST./",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::]/",
    "http://[ff02::1]/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://255.255.255.255/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://0/",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_receiver_is_refused_at_registration_in_every_spelling(shared_service: Service, url: str) -> None:
    refused = expect(shared_service.post("finance", "/subscriptions", {"url": url}), 422)
    assert refused["type"] == "urn:jixiao:problem:webhook-destination-refused"
    assert "JIXIAO_WEBHOOK_ALLOW" in refused["detail"]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:99999/", "http://hooks.example.com:0/", "http://[fe80::1%25eth0]/", "http://a\\@127.0.0.1/"],
)
def test_a_url_no_delivery_could_use_is_refused_at_registration(shared_service: Service, url: str) -> None:
    refused = expect(shared_service.post("finance", "/subscriptions", {"url": url}), 422)
    assert (refused["code"], refused["field"]) == ("invalid-value", "url")


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names this test makes up, answered by a stub of the system's resolver (other names go to the real one)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.rstrip(".").lower() in answers:
            family = kwargs.get("family", args[0] if args else 0)
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (address, int(port or 0), 0, 0) if ":" in address else (address, int(port or 0)),
                )
                for address in answers[host.rstrip(".").lower()]
                if family in (0, socket.AF_INET6 if ":" in address else socket.AF_INET)
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_a_name_is_refused_if_any_address_it_resolves_to_is_internal(
    shared_service: Service, dns: dict[str, list[str]]
) -> None:
    dns["mixed.example.test"] = ["93.184.216.34", "10.1.2.3"]
    dns["inside.example.test"] = ["::ffff:192.168.0.10"]
    for name in ("mixed.example.test", "inside.example.test"):
        refused = expect(shared_service.post("finance", "/subscriptions", {"url": f"https://{name}/hook"}), 422)
        assert refused["code"] == "webhook-destination-refused"


def test_deliveries_to_the_inside_are_refused_at_every_connection_and_the_log_tells_nothing(
    strict: Service, database_url: str
) -> None:
    """Subscriptions the registration check never saw (written into the table by whoever holds the database, or
    made before an operator narrowed the policy) are checked at delivery: nothing reaches the receiver listening on
    loopback, and an open port and a closed one read the same in the delivery log."""
    receiver = Receiver("a-planted-secret-value")
    with serving(receiver) as port:
        closed = free_port()
        urls = [
            f"http://127.0.0.1:{port}/",
            f"http://127.0.0.1:{closed}/",
            f"http://2130706433:{port}/",
            f"http://0177.0.0.1:{port}/",
            f"http://0x7f.1:{port}/",
            f"http://127.1:{port}/",
            f"http://localhost:{port}/",
            f"http://localhost.:{port}/",
            f"http://x@127.0.0.1:{port}/",
            f"http://%31%32%37.0.0.1:{port}/",
            f"http://①②⑦.0.0.1:{port}/",
            f"http://[::ffff:127.0.0.1]:{port}/",
            f"http://[::1]:{port}/",
            f"http://0.0.0.0:{port}/",
            f"http://0:{port}/",
        ]
        head = strict.ledger.head()
        planted_ids = [planted(database_url, url, head - 1) for url in urls]
        record(strict, range(1))
        wait_until(lambda: all(subscription(strict, "finance", item)["status"] == "dead" for item in planted_ids))
    assert receiver.attempts == 0
    for item in planted_ids:
        [attempt] = expect(strict.get("finance", f"/subscriptions/{item}/deliveries"), 200)
        assert (attempt["status_code"], attempt["error"]) == (None, REFUSED)
        assert subscription(strict, "finance", item)["last_error"] == REFUSED


def test_a_name_that_resolves_inside_after_registration_is_refused_at_delivery(
    strict: Service, dns: dict[str, list[str]]
) -> None:
    """DNS rebinding: public when the subscription is made, loopback when the dispatcher connects."""
    receiver = Receiver("a-rebinding-secret-value")
    with serving(receiver) as port:
        dns["hooks.rebinding.test"] = ["93.184.216.34"]
        created = expect(
            strict.post(
                "finance", "/subscriptions", {"url": f"http://hooks.rebinding.test:{port}/", "secret": receiver.secret}
            ),
            201,
        )
        dns["hooks.rebinding.test"] = ["127.0.0.1"]
        record(strict, range(1))
        wait_until(lambda: subscription(strict, "finance", created["id"])["status"] == "dead")
    assert receiver.attempts == 0
    assert subscription(strict, "finance", created["id"])["last_error"] == REFUSED


def test_enabling_a_subscription_checks_its_receiver_again(strict: Service, database_url: str) -> None:
    stuck = planted(database_url, "http://127.0.0.1:8080/", strict.ledger.head() - 1, status="dead")
    refused = expect(strict.post("finance", f"/subscriptions/{stuck}/enable"), 422)
    assert refused["code"] == "webhook-destination-refused"
    assert subscription(strict, "finance", stuck)["status"] == "dead"
    assert expect(strict.post("finance", f"/subscriptions/{stuck}/disable"), 200)["status"] == "disabled"


def test_the_operator_allows_an_intranet_receiver_by_name(database_url: str, tmp_path: Path) -> None:
    with running_service(database_url, tmp_path, webhook_allow="localhost") as service:
        receiver = Receiver("an-intranet-receiver-secret")
        with serving(receiver) as port:
            created = expect(
                service.post(
                    "finance",
                    "/subscriptions",
                    {"url": f"http://LocalHost.:{port}/in", "topics": ["Department.*"], "secret": receiver.secret},
                ),
                201,
            )
            assert created["url"] == f"http://localhost:{port}/in"  # stored as it is delivered to
            positions = record(service, range(3))
            wait_until(lambda: receiver.accepted == positions)
            refused = expect(service.post("finance", "/subscriptions", {"url": f"http://127.0.0.1:{port}/"}), 422)
    assert refused["code"] == "webhook-destination-refused"  # the name is allowed, not the address


# Item 6: whatever goes wrong with a delivery is a failed attempt — logged, retried, dead-lettered, no traceback.


def test_a_url_the_dispatcher_cannot_use_is_a_failed_attempt_and_ends_in_a_dead_letter(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_service(
        database_url, tmp_path, webhook_backoff=0.05, webhook_max_attempts=3, webhook_allow=LOOPBACK
    ) as service:
        bad = planted(database_url, "http://127.0.0.1:99999/", service.ledger.head() - 1)
        with caplog.at_level(logging.INFO, logger="api.roles.webhooks"):
            record(service, range(1))
            wait_until(lambda: subscription(service, "finance", bad)["status"] == "dead")
        log = expect(service.get("finance", f"/subscriptions/{bad}/deliveries"), 200)
    assert [item["attempt"] for item in log] == [1, 2, 3]
    assert all("port" in item["error"] and item["status_code"] is None for item in log)
    assert not [
        entry
        for entry in caplog.records
        if entry.name == "api.roles.webhooks" and (entry.exc_info or entry.levelno >= logging.ERROR)
    ]
