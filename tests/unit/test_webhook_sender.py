"""The webhook dispatcher's HTTP client: keep-alive per receiver, a connection the receiver dropped replaced."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from api.webhooks import Sender, _bypassed


class Receiver(ThreadingHTTPServer):
    """A local receiver that records which connection (client port) each delivery came on."""

    daemon_threads = True

    def __init__(self, *, keep_alive: bool, close_after: bool = False) -> None:
        self.bodies: list[tuple[int, bytes]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, target, headers
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_CONNECT(self) -> None:
                receiver.requests.append(("CONNECT", self.path, dict(self.headers)))
                self.send_response(403)  # a proxy that refuses the tunnel: what it was asked is what is tested
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                receiver.requests.append(("POST", self.path, dict(self.headers)))
                receiver.bodies.append((self.client_address[1], self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if close_after:  # drop the connection without saying so, as an idle timeout would
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True

            def log_message(self, *_: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks?x=1"


@pytest.fixture
def sender() -> Iterator[Sender]:
    client = Sender(timeout=5)
    try:
        yield client
    finally:
        client.close()


def serving(receiver: Receiver) -> Receiver:
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    return receiver


def test_deliveries_to_one_receiver_share_a_connection(sender: Sender) -> None:
    receiver = serving(Receiver(keep_alive=True))
    try:
        statuses = [sender.post(receiver.url, f"event {n}".encode(), {"X-Jixiao-Position": str(n)})
                    for n in range(5)]
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert statuses == [202] * 5
    assert [body for _, body in receiver.bodies] == [f"event {n}".encode() for n in range(5)]
    assert len({port for port, _ in receiver.bodies}) == 1


@pytest.mark.parametrize(("keep_alive", "close_after"), [(False, False), (True, True)])
def test_a_connection_the_receiver_closed_is_replaced(sender: Sender, keep_alive: bool, close_after: bool) -> None:
    receiver = serving(Receiver(keep_alive=keep_alive, close_after=close_after))
    try:
        statuses = [sender.post(receiver.url, f"event {n}".encode(), {}) for n in range(4)]
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert statuses == [202] * 4
    assert [body for _, body in receiver.bodies] == [f"event {n}".encode() for n in range(4)]  # once each, in order
    assert len(sender._all) == 1  # one connection object, reopened: nothing accumulates per delivery


def test_no_receiver_is_an_error_not_a_status(sender: Sender) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        sender.post(f"http://127.0.0.1:{port}/", b"{}", {})


def test_credentials_in_the_url_are_sent_as_basic_authentication(sender: Sender) -> None:
    receiver = serving(Receiver(keep_alive=True))
    port = receiver.server_address[1]
    try:
        status = sender.post(f"http://hook%40user:s%3Acret@127.0.0.1:{port}/in", b"{}", {})
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert status == 202
    _, target, headers = receiver.requests[0]
    assert target == "/in"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"hook@user:s:cret").decode()


def test_plain_http_goes_through_the_proxy_addressed_with_the_whole_url() -> None:
    proxy = serving(Receiver(keep_alive=True))
    proxy_port = proxy.server_address[1]
    sender = Sender(timeout=5, proxies={"http": f"http://relay:pw@127.0.0.1:{proxy_port}", "no": "internal.example"})
    try:
        status = sender.post("http://receiver.example:8080/hooks?x=1", b"{}", {"X-Jixiao-Position": "7"})
        with pytest.raises(socket.gaierror):  # not through the proxy: straight to a host no DNS knows
            sender.post("http://hooks.internal.example/", b"{}", {})
    finally:
        sender.close()
        proxy.shutdown()
        proxy.server_close()
    assert status == 202
    [(method, target, headers)] = proxy.requests
    assert (method, target) == ("POST", "http://receiver.example:8080/hooks?x=1")
    assert headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"relay:pw").decode()
    assert headers["X-Jixiao-Position"] == "7"


def test_https_is_tunnelled_through_the_proxy() -> None:
    proxy = serving(Receiver(keep_alive=True))
    sender = Sender(timeout=5, proxies={"https": f"127.0.0.1:{proxy.server_address[1]}"})
    try:
        with pytest.raises(OSError, match="403"):
            sender.post("https://receiver.example/hooks", b"{}", {})
    finally:
        sender.close()
        proxy.shutdown()
        proxy.server_close()
    [(method, target, _)] = proxy.requests
    assert (method, target) == ("CONNECT", "receiver.example:443")


@pytest.mark.parametrize(("host", "no_proxy", "bypassed"), [
    ("hooks.internal.example", "internal.example", True),
    ("internal.example", ".internal.example", True),
    ("notinternal.example", "internal.example", False),
    ("receiver.example", "*", True),
    ("Receiver.Example", "receiver.example:8443, other", True),
    ("receiver.example", "", False),
    ("127.0.0.1", "", True),
    ("localhost", "", True),
    ("::1", "", True),
])
def test_no_proxy_names_hosts_and_domains(host: str, no_proxy: str, bypassed: bool) -> None:
    assert _bypassed(host, no_proxy) is bypassed


def test_a_proxy_of_another_scheme_fails_the_attempt_rather_than_being_bypassed() -> None:
    sender = Sender(timeout=5, proxies={"https": "socks5://127.0.0.1:1080"})
    try:
        with pytest.raises(OSError, match="socks5"):
            sender.post("https://receiver.example/hooks", b"{}", {})
    finally:
        sender.close()


def test_an_ipv6_receiver_is_addressed_in_brackets_through_the_proxy() -> None:
    sender = Sender(timeout=5, proxies={"http": "http://127.0.0.1:3128"})
    route = sender._route("http://[2001:db8::1]:8080/hooks")
    assert (route.host, route.port, route.target) == ("127.0.0.1", 3128, "http://[2001:db8::1]:8080/hooks")
