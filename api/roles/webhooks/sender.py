"""How a webhook delivery is sent: an HTTP POST over a keep-alive connection, opened only where the destinations
allow (:mod:`api.roles.destinations`), directly or through the usual proxies."""

from __future__ import annotations

import base64
import http.client
import ipaddress
import socket
import ssl
import threading
import urllib.request
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from api.roles.destinations import Destinations, parse


class Sender:
    """POSTs deliveries over keep-alive connections: one per receiver (scheme, host, port, credentials) and thread.

    The standard library's client: httpx cost about 0.6 ms of CPU per delivery on these machines, http.client about
    0.1 ms, and a dispatcher that is mostly waiting for its CPU delivers late. Redirects are not followed. A
    connection the receiver closed while idle is reopened and the request sent once more — the receiver may then
    see a delivery twice, which it drops by ``X-Jixiao-Position`` (as after any retry).

    Every connection is opened where ``destinations`` allows (:mod:`api.destinations`): the receiver's host is
    resolved here and checked, and the socket opened to a checked address, with the URL's host in ``Host`` and, for
    HTTPS, in SNI and the certificate check.

    Credentials in the URL (``https://user:password@host/…``) are sent as HTTP Basic authentication. The usual
    proxy variables are honoured (``https_proxy``, ``http_proxy``, ``no_proxy``, as :mod:`urllib.request` reads
    them): plain HTTP is sent through the proxy, HTTPS is tunnelled with CONNECT; credentials in the proxy's URL
    become ``Proxy-Authorization``. The proxy itself is spoken to in plain HTTP (``http://``; other schemes fail
    the attempt). A ``no_proxy`` entry names a host or a domain suffix (a ``:port`` in it is ignored: the host is
    reached directly on every port); address ranges (CIDR) are not understood. Through a proxy, the receiver's name
    is checked as it resolves here before each connection to the proxy (so it must resolve here too), and the proxy
    is asked for the name: it resolves it again, so it should refuse internal destinations itself.
    """

    def __init__(
        self,
        timeout: float,
        *,
        proxies: dict[str, str] | None = None,
        destinations: Destinations | None = None,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout
        self.destinations = destinations or Destinations()
        self._proxies = urllib.request.getproxies() if proxies is None else proxies
        self._local = threading.local()
        self._tls = context or ssl.create_default_context()
        self._all: list[http.client.HTTPConnection] = []
        self._all_lock = threading.Lock()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The receiver's status code; raises if there is none (DestinationRefused, BadURL, OSError,
        http.client.HTTPException, …)."""
        route = self._route(url)
        headers = {**headers, **dict(route.headers)}
        conn = self._connection(route)
        for attempt in (1, 2):
            fresh = conn.sock is None  # http.client opens it on request
            try:
                conn.request("POST", route.target, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    conn.close()
                return response.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                if fresh or attempt == 2:
                    raise
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    def _route(self, url: str) -> _Route:
        receiver = parse(url)
        scheme, host, port = receiver.scheme, receiver.host, receiver.port
        auth = () if receiver.userinfo is None else (("Authorization", _basic(receiver.userinfo)),)
        proxy = self._proxies.get(scheme)
        if not proxy or bypassed(host, self._proxies.get("no", "")):
            return _Route(scheme, host, port, receiver.target, auth)
        proxied = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if proxied.scheme != "http":  # an attempt that fails, in the delivery log, rather than a silent bypass
            raise OSError(f"{scheme}_proxy {proxied.scheme}:// is not supported: an http:// proxy only")
        proxy_host, proxy_port = proxied.hostname or "", proxied.port or 80
        proxy_auth = (
            ()
            if proxied.username is None
            else (("Proxy-Authorization", _basic(f"{proxied.username}:{proxied.password or ''}")),)
        )
        if scheme == "http":  # sent to the proxy, addressed with the whole URL
            netloc = receiver.netloc_host + (f":{port}" if receiver.explicit_port else "")
            return _Route(
                "http",
                proxy_host,
                proxy_port,
                f"http://{netloc}{receiver.target}",
                auth + proxy_auth,
                behind=(host, port),
            )
        return _Route(
            scheme, host, port, receiver.target, auth, (proxy_host, proxy_port), proxy_auth, behind=(host, port)
        )

    def _connection(self, route: _Route) -> http.client.HTTPConnection:
        cache: dict[_Route, http.client.HTTPConnection] = self._local.__dict__.setdefault("connections", {})
        key = replace(route, target="", headers=())
        conn = cache.get(key)
        if conn is not None:
            return conn  # reopened by http.client if the receiver or we closed it
        if route.tunnel is not None:  # HTTPS through a proxy: connect to it, CONNECT to the receiver
            proxy_host, proxy_port = route.tunnel
            conn = _TLSConnection(proxy_host, proxy_port, self.timeout, self._tls, self.destinations, route.behind)
            conn.set_tunnel(route.host, route.port, headers=dict(route.tunnel_headers))
        elif route.scheme == "https":
            conn = _TLSConnection(route.host, route.port, self.timeout, self._tls, self.destinations, None)
        else:
            conn = _Connection(route.host, route.port, self.timeout, self.destinations, route.behind)
        cache[key] = conn
        with self._all_lock:
            self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


@dataclass(frozen=True)
class _Route:
    """Where a delivery goes: the server connected to (or tunnelled through), the request target, the headers
    the URL or the proxy imply, and — through a proxy — the receiver behind it."""

    scheme: str
    host: str
    port: int
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    tunnel: tuple[str, int] | None = None
    tunnel_headers: tuple[tuple[str, str], ...] = ()
    behind: tuple[str, int] | None = None


class _Connection(http.client.HTTPConnection):
    """Plain HTTP, connected only where the destinations allow: to a checked address of the receiver's, or, through
    a proxy (``behind``: the receiver), to the proxy once the receiver was checked."""

    def __init__(
        self, host: str, port: int, timeout: float, destinations: Destinations, behind: tuple[str, int] | None
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self.destinations = destinations
        self.behind = behind

    def connect(self) -> None:
        if self.behind is not None:
            self.destinations.addresses(*self.behind)
            super().connect()
            return
        self.sock = self.destinations.connect(self.host, self.port, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS, connected as :class:`_Connection` is; the TLS session is with the receiver's name (SNI, certificate),
    whatever address it was reached at."""

    def __init__(
        self,
        host: str,
        port: int,
        timeout: float,
        context: ssl.SSLContext,
        destinations: Destinations,
        behind: tuple[str, int] | None,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.tls = context
        self.destinations = destinations
        self.behind = behind

    def connect(self) -> None:
        if self.behind is not None:  # http.client connects to the proxy, CONNECTs, then TLS with the receiver's name
            self.destinations.addresses(*self.behind)
            super().connect()
            return
        sock = self.destinations.connect(self.host, self.port, self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def _basic(userinfo: str) -> str:
    user, _, password = userinfo.partition(":")
    credentials = f"{unquote(user)}:{unquote(password)}".encode()
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def bypassed(host: str, no_proxy: str) -> bool:
    """Whether ``host`` is reached directly: a loopback address, or one ``no_proxy`` (comma-separated hosts and
    domain suffixes, or ``*``) covers."""
    host = host.lower()
    if host == "localhost" or _loopback(host):  # as Go's ProxyFromEnvironment: a proxy's loopback is not ours
        return True
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        if entry == "*":
            return True
        name = (entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry).lstrip(".")  # "host:port": the host
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
