"""Where webhooks may be delivered: a receiver's host in any spelling, and every address it resolves to.

A subscription's URL is chosen by whoever holds a token. Unchecked, the dispatcher would post from inside the
bureau's network to whatever it names — the cloud's metadata service, the database, an intranet console — and its
delivery log would tell, attempt by attempt, which ports answered. So a receiver must be a public address:
loopback, private, shared (CGNAT), link-local, multicast, unspecified, broadcast, reserved and documentation ranges
are refused, in IPv4 and IPv6, also where an IPv6 address stands for an IPv4 one (mapped, compatible, 6to4, NAT64),
unless the operator allows them (``JIXIAO_WEBHOOK_ALLOW``: networks and host names).

Hosts are read as the URL standard reads them (percent-decoded, IDNA-mapped, trailing dot dropped, IPv4 in
decimal, octal, hex and short forms), and what the check saw is what is connected to: the host is resolved here,
every address it resolves to must pass, and the socket is opened to one of those addresses, once per connection —
so a name that resolves to something else a second later (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[Address]]

REFUSED_BY_POLICY = "refused by policy 目标地址被策略拒绝"

# Beside what ipaddress calls not global: ranges a receiver is never in (each checked in its own IP version).
REFUSED_NETWORKS: tuple[Network, ...] = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
DEFAULT_PORTS = {"http": 80, "https": 443}
_NAME = re.compile(r"[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")


class DestinationRefused(Exception):
    """The receiver is, or resolves to, an address the policy refuses. Says nothing more, on purpose."""

    def __init__(self) -> None:
        super().__init__(REFUSED_BY_POLICY)


class BadURL(ValueError):
    """Not a URL a webhook can be delivered to."""


@dataclass(frozen=True)
class Receiver:
    """A webhook URL, read once: the host in canonical form, the port always known."""

    scheme: str
    host: str  # a lower-case ASCII name without a trailing dot, or an IP address in its standard form
    port: int
    target: str  # path and query, as sent in the request line
    userinfo: str | None = None  # as written (percent-encoded), sent as HTTP Basic authentication
    explicit_port: bool = False

    @property
    def address(self) -> Address | None:
        """The host if it is an IP address."""
        return _literal(self.host)

    @property
    def netloc_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def url(self) -> str:
        """The URL as stored: the same receiver, each part in one spelling."""
        credentials = f"{self.userinfo}@" if self.userinfo is not None else ""
        port = f":{self.port}" if self.explicit_port and self.port != DEFAULT_PORTS[self.scheme] else ""
        return f"{self.scheme}://{credentials}{self.netloc_host}{port}{self.target}"


def parse(url: str) -> Receiver:
    """Read a webhook URL as the URL standard would; raises BadURL."""
    if _FORBIDDEN.search(url):
        raise BadURL("a webhook URL has no spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError as error:  # brackets that hold no IPv6 address
        raise BadURL(str(error)) from None
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        raise BadURL("a webhook URL is http(s)://host/…")
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):
        inner, bracket, rest = hostport[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise BadURL("an IPv6 address is written in brackets: http://[2001:db8::1]:8080/")
        host, port_text = _ipv6(unquote(inner)), rest[1:]
        explicit = bool(rest)
    else:
        name, colon, port_text = hostport.partition(":")
        host, explicit = _host(name), bool(colon)
    port = _port(port_text) if port_text else DEFAULT_PORTS[parts.scheme]
    target = _encoded(parts.path or "/") + (f"?{_encoded(parts.query)}" if parts.query else "")
    return Receiver(parts.scheme, host, port, target, userinfo if at else None, explicit and bool(port_text))


def _host(written: str) -> str:
    try:
        host = unquote(written, errors="strict").lower()
        if not host.isascii():
            host = host.encode("idna").decode("ascii")  # nameprep maps fullwidth and circled digits, 。 and ．
    except UnicodeError:
        raise BadURL("the host is not a valid (internationalised) domain name") from None
    host = host.removesuffix(".")
    address = _ipv4(host)
    if address is not None:
        return str(address)
    if not _NAME.fullmatch(host) or len(host) > 253:
        raise BadURL("the host is not a domain name or an IP address")
    return host


def _ipv6(text: str) -> str:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise BadURL("not an IPv6 address in the brackets") from None
    if address.scope_id:
        raise BadURL("an IPv6 zone (%…) names an interface of this machine, not a receiver")
    return str(address)


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise BadURL("the port is a number from 1 to 65535")
    return int(text)


def _encoded(text: str) -> str:
    return quote(text, safe="/%:@!$&'()*+,;=-._~?")


def _ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` as the URL standard (and inet_aton) reads an IPv4 address: one to four parts, each decimal, octal
    (``0177``) or hex (``0x7f``) — 127.0.0.1, 2130706433, 0177.0.0.1, 0x7f.1, 127.1 — or None for a domain name."""
    numbers = [_number(part) for part in host.split(".")]
    if numbers[-1] is None:
        return None  # a name: it does not end in a number
    if len(numbers) > 4 or any(number is None for number in numbers):
        raise BadURL("the host ends in a number but is not an IPv4 address")
    *leading, last = (number for number in numbers if number is not None)
    if any(number > 255 for number in leading) or last >= 256 ** (4 - len(leading)):
        raise BadURL("the host is not an IPv4 address: a part is out of range")
    return ipaddress.IPv4Address(sum(number << 8 * (3 - index) for index, number in enumerate(leading)) + last)


def _number(part: str) -> int | None:
    digits, base, allowed = part, 10, "0123456789"
    if part[:2] in ("0x", "0X"):
        digits, base, allowed = part[2:], 16, "0123456789abcdefABCDEF"
    elif len(part) > 1 and part.startswith("0"):
        digits, base, allowed = part[1:], 8, "01234567"
    if not part or any(char not in allowed for char in digits):
        return None
    return int(digits, base) if digits else 0


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _embedded(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4 (2002:…)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour


def refused(address: Address) -> bool:
    """Whether ``address`` is no public receiver's (before the operator's allow-list)."""
    embedded = _embedded(address)
    if embedded is not None:
        return refused(embedded)
    return (
        not address.is_global
        or address.is_multicast
        or any(address.version == network.version and address in network for network in REFUSED_NETWORKS)
    )


def allow_entry(text: str) -> str:
    """One entry of ``JIXIAO_WEBHOOK_ALLOW`` in canonical form: a network (``10.1.2.3/32``, ``fd00::/8``), a host
    name (``hooks.intranet.example``) or, with a leading dot, a domain and every name under it."""
    entry = text.strip().lower()
    try:
        return str(ipaddress.ip_network(entry, strict=False))
    except ValueError:
        pass
    suffix = entry.startswith(".")
    try:
        name = _host(entry.removeprefix("."))
    except BadURL:
        name = ""
    if not name or _literal(name) is not None:
        raise ValueError(f"{text.strip()!r} is neither a network (CIDR, e.g. 10.1.2.3/32) nor a host name")
    return f".{name}" if suffix else name


class Destinations:
    """The policy: which receivers the dispatcher may connect to, and the connections to them."""

    def __init__(self, allow: Iterable[str] = (), *, resolve: Resolver | None = None) -> None:
        entries = [allow_entry(entry) for entry in allow]
        self.networks = tuple(ipaddress.ip_network(entry) for entry in entries if "/" in entry)
        self.names = tuple(entry for entry in entries if "/" not in entry)
        self._resolve = resolve or resolve_host

    def allows_name(self, host: str) -> bool:
        return any(
            host == name or (name.startswith(".") and (host.endswith(name) or host == name[1:])) for name in self.names
        )

    def allows_address(self, address: Address) -> bool:
        if not refused(address):
            return True
        candidates = [address, *filter(None, [_embedded(address)])]
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.networks
        )

    def addresses(self, host: str, port: int) -> list[Address]:
        """Where ``host`` may be reached: every address it resolves to, each allowed. Raises DestinationRefused if
        one is not (a name with one bad address among good ones is a name someone can steer), OSError if it does
        not resolve."""
        literal = _literal(host)
        if literal is not None:
            found = [literal]
        else:
            found = self._resolve(host, port)
            if not found:
                raise OSError(f"{host} resolves to no address")
            if self.allows_name(host):
                return found
        if not all(self.allows_address(address) for address in found):
            raise DestinationRefused
        return found

    def check(self, receiver: Receiver) -> None:
        """At registration: refuse a receiver that is, or now resolves to, a refused address. A name that does not
        resolve here (yet) passes: every connection checks it again."""
        with contextlib.suppress(OSError):
            self.addresses(receiver.host, receiver.port)

    def connect(self, host: str, port: int, timeout: float | None) -> socket.socket:
        """A TCP connection to ``host``, opened to an address that was checked, never resolved again."""
        failure: OSError | None = None
        for address in self.addresses(host, port):
            sock = socket.socket(socket.AF_INET6 if address.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect((str(address), port))
            except OSError as error:
                sock.close()
                failure = error
                continue
            return sock
        assert failure is not None
        raise failure


def resolve_host(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (the system's resolver, as any client would use)."""
    found: list[Address] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(sockaddr[0])
        if address not in found:
            found.append(address)
    return found
