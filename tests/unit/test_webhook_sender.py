"""The webhook dispatcher's HTTP client: keep-alive per receiver, a connection the receiver dropped replaced."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from api.webhooks import Sender


class Receiver(ThreadingHTTPServer):
    """A local receiver that records which connection (client port) each delivery came on."""

    daemon_threads = True

    def __init__(self, *, keep_alive: bool, close_after: bool = False) -> None:
        self.bodies: list[tuple[int, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
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


def test_no_receiver_is_an_error_not_a_status(sender: Sender) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        sender.post(f"http://127.0.0.1:{port}/", b"{}", {})
