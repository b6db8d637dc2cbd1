"""The webhook dispatcher's HTTP client: keep-alive per receiver, a connection the receiver dropped replaced, and
every connection opened to an address the destination policy checked."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api.roles.destinations import Address, DestinationRefused, Destinations, Resolver, resolve_host
from api.roles.webhooks.sender import Sender, bypassed

LOOPBACK = Destinations(["127.0.0.0/8", "::1/128"])  # the receivers of these tests listen on loopback


def resolving(table: dict[str, list[str]], asked: list[str] | None = None) -> Resolver:
    """A DNS stub for the names in ``table`` (each asking pops the first answer while more are left); other names
    go to the system's resolver."""

    def resolve(host: str, port: int) -> list[Address]:
        if asked is not None:
            asked.append(host)
        if host not in table:
            return resolve_host(host, port)
        answer = table[host].pop(0) if len(table[host]) > 1 else table[host][0]
        return [ipaddress.ip_address(answer)]

    return resolve


class Receiver(ThreadingHTTPServer):
    """A local receiver that records which connection (client port) each delivery came on."""

    daemon_threads = True

    def __init__(self, *, keep_alive: bool, close_after: bool = False, tls: ssl.SSLContext | None = None) -> None:
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
        self.tls = tls

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, address

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks?x=1"


@pytest.fixture
def sender() -> Iterator[Sender]:
    client = Sender(timeout=5, destinations=LOOPBACK)
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
        statuses = [sender.post(receiver.url, f"event {n}".encode(), {"X-Jixiao-Position": str(n)}) for n in range(5)]
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
    sender = Sender(
        timeout=5,
        proxies={"http": f"http://relay:pw@127.0.0.1:{proxy_port}", "no": "internal.example"},
        destinations=Destinations(resolve=resolving({"receiver.example": ["93.184.216.34"]})),
    )
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
    sender = Sender(
        timeout=5,
        proxies={"https": f"127.0.0.1:{proxy.server_address[1]}"},
        destinations=Destinations(resolve=resolving({"receiver.example": ["93.184.216.34"]})),
    )
    try:
        with pytest.raises(OSError, match="403"):
            sender.post("https://receiver.example/hooks", b"{}", {})
    finally:
        sender.close()
        proxy.shutdown()
        proxy.server_close()
    [(method, target, _)] = proxy.requests
    assert (method, target) == ("CONNECT", "receiver.example:443")


@pytest.mark.parametrize(
    ("host", "no_proxy", "direct"),
    [
        ("hooks.internal.example", "internal.example", True),
        ("internal.example", ".internal.example", True),
        ("notinternal.example", "internal.example", False),
        ("receiver.example", "*", True),
        ("Receiver.Example", "receiver.example:8443, other", True),
        ("receiver.example", "", False),
        ("127.0.0.1", "", True),
        ("localhost", "", True),
        ("::1", "", True),
    ],
)
def test_no_proxy_names_hosts_and_domains(host: str, no_proxy: str, direct: bool) -> None:
    assert bypassed(host, no_proxy) is direct


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


def test_a_connection_goes_to_the_address_checked_with_the_names_host_header() -> None:
    receiver = serving(Receiver(keep_alive=False))  # a new connection for every delivery
    port = receiver.server_address[1]
    asked: list[str] = []
    answers = {"receiver.test": ["127.0.0.1", "127.0.0.1", "127.0.0.2"]}  # the third time: an address not allowed
    sender = Sender(timeout=5, destinations=Destinations(["127.0.0.1/32"], resolve=resolving(answers, asked)))
    try:
        statuses = [sender.post(f"http://receiver.test:{port}/in", b"{}", {}) for _ in range(2)]
        with pytest.raises(DestinationRefused):  # resolved again for each connection: rebinding is caught
            sender.post(f"http://receiver.test:{port}/in", b"{}", {})
    finally:
        sender.close()
        receiver.shutdown()
        receiver.server_close()
    assert statuses == [202, 202]
    assert asked == ["receiver.test"] * 3
    assert [(target, headers["Host"]) for _, target, headers in receiver.requests] == [
        ("/in", f"receiver.test:{port}")
    ] * 2


def self_signed(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server's TLS context for ``name`` and a client's context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    return server, client


def test_https_to_a_checked_address_speaks_tls_with_the_receivers_name(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path, "receiver.test")
    names: list[str | None] = []
    server_tls.sni_callback = lambda _sock, name, _ctx: names.append(name)
    receiver = serving(Receiver(keep_alive=True, tls=server_tls))
    port = receiver.server_address[1]
    stub = resolving({"receiver.test": ["127.0.0.1"], "impostor.test": ["127.0.0.1"]})
    sender = Sender(timeout=5, destinations=Destinations(["127.0.0.1/32"], resolve=stub), context=client_tls)
    try:
        status = sender.post(f"https://receiver.test:{port}/in", b"{}", {})
        with pytest.raises(ssl.SSLCertVerificationError):  # the certificate is checked against the URL's name
            sender.post(f"https://impostor.test:{port}/in", b"{}", {})
    finally:
        sender.close()
        receiver.shutdown()
        receiver.server_close()
    assert status == 202
    assert names[0] == "receiver.test"
    assert receiver.requests[0][2]["Host"] == f"receiver.test:{port}"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_through_a_proxy_the_receiver_is_checked_before_the_proxy_is_asked(scheme: str) -> None:
    proxy = serving(Receiver(keep_alive=True))
    sender = Sender(
        timeout=5,
        proxies={scheme: f"http://127.0.0.1:{proxy.server_address[1]}"},
        destinations=Destinations(resolve=resolving({"console.intranet.test": ["10.0.0.5"]})),
    )
    try:
        for url in (
            f"{scheme}://console.intranet.test/admin",
            f"{scheme}://10.0.0.5/",
            f"{scheme}://0xa000005/",
            f"{scheme}://[::ffff:a00:5]/",
        ):
            with pytest.raises(DestinationRefused):
                sender.post(url, b"{}", {})
    finally:
        sender.close()
        proxy.shutdown()
        proxy.server_close()
    assert proxy.requests == []
