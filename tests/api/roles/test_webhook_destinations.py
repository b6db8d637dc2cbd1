"""Where webhooks may go: every spelling of an internal host is read as that host, and refused unless allowed."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from api.config.settings import Settings
from api.roles.destinations import (
    Address,
    BadURL,
    DestinationRefused,
    Destinations,
    Resolver,
    allow_entry,
    parse,
    refused,
)

SPELLINGS = [  # (as written, the host it is)
    ("http://2130706433/", "127.0.0.1"),
    ("http://0177.0.0.1/", "127.0.0.1"),
    ("http://0x7f.1/", "127.0.0.1"),
    ("http://0X7F.0.0.1/", "127.0.0.1"),
    ("http://127.1/", "127.0.0.1"),
    ("http://127.0.1/", "127.0.0.1"),
    ("http://0x7f000001/", "127.0.0.1"),
    ("http://017700000001/", "127.0.0.1"),
    ("http://127.0.0.1./", "127.0.0.1"),
    ("http://example.com@127.0.0.1/", "127.0.0.1"),
    ("http://%31%32%37.0.0.1/", "127.0.0.1"),
    ("http://①②⑦.0.0.1/", "127.0.0.1"),
    ("http://１２７．０．０．１/", "127.0.0.1"),
    ("http://127。0。0。1/", "127.0.0.1"),
    ("http://0/", "0.0.0.0"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1"),
    ("http://[0:0:0:0:0:FFFF:7F00:1]/", "::ffff:7f00:1"),
    ("http://LocalHost./", "localhost"),
    ("http://%6c%6fcalhost/", "localhost"),
    ("http://中国.example/", "xn--fiqs8s.example"),
]


@pytest.mark.parametrize(("url", "host"), SPELLINGS)
def test_every_spelling_of_a_host_is_read_as_that_host(url: str, host: str) -> None:
    assert parse(url).host == host


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "http:///x",
        "http://example.com:99999/",
        "http://example.com:0/",
        "http://example.com:-1/",
        "http://example.com:+80/",
        "http://example.com:８０/",
        "http://1.2.3.256/",
        "http://1.2.3.4.5/",
        "http://foo.1/",
        "http://0x100.0.0.1/",
        "http://08.0.0.1/",
        "http://[127.0.0.1]/",
        "http://[fe80::1%25eth0]/",
        "http://[::1/",
        "http://a b/",
        "http://evil.example\\@127.0.0.1/",
        "http://127.0.0.1\t/",
        "http://%zz/",
        "http://%40127.0.0.1/",
        "http://exa_mple..com/",
        "http://a/\r\nX: y",
    ],
)
def test_what_is_no_webhook_url(url: str) -> None:
    with pytest.raises(BadURL):
        parse(url)


def test_the_stored_url_is_the_receiver_in_one_spelling() -> None:
    assert (
        parse("HTTP://user:p%40ss@Hooks.Example.COM.:0443/in?x=ü#frag").url
        == "http://user:p%40ss@hooks.example.com:443/in?x=%C3%BC"
    )
    assert parse("https://hooks.example.com:443").url == "https://hooks.example.com/"
    assert parse("http://[2001:DB8::1]:8080/").url == "http://[2001:db8::1]:8080/"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.255",
        "0.0.0.0",
        "0.1.2.3",
        "255.255.255.255",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "198.51.100.1",
        "203.0.113.1",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",
        "ff02::1",
        "ff0e::1",
        "2001:db8::1",
        "100::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "::10.0.0.1",
        "64:ff9b::127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2002:7f00:1::",
        "2002:a00:1::1",
        "2002:a9fe:a9fe::",
        "2001::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    assert refused(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "2606:4700:4700::1111",
        "2400:3200::1",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:808:808::1",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert not refused(ipaddress.ip_address(address))


def resolver(table: dict[str, list[str]], asked: list[str] | None = None) -> Resolver:
    """A DNS stub: ``table`` maps names to their addresses; what was asked is appended to ``asked``."""

    def resolve(host: str, port: int) -> list[Address]:
        if asked is not None:
            asked.append(host)
        if host not in table:
            raise OSError(f"no such host {host}")
        return [ipaddress.ip_address(address) for address in table[host]]

    return resolve


def test_a_name_is_refused_if_any_of_its_addresses_is() -> None:
    destinations = Destinations(
        resolve=resolver(
            {
                "split.example": ["93.184.216.34", "127.0.0.1"],
                "ok.example": ["93.184.216.34"],
                "v6.example": ["2606:4700::1", "::ffff:10.0.0.1"],
            }
        )
    )
    assert destinations.addresses("ok.example", 443) == [ipaddress.ip_address("93.184.216.34")]
    for host in ("split.example", "v6.example"):
        with pytest.raises(DestinationRefused) as refusal:
            destinations.addresses(host, 443)
        assert str(refusal.value) == "refused by policy 目标地址被策略拒绝"  # nothing about which address, or why


def test_registration_refuses_what_resolves_inside_and_lets_an_unknown_name_wait_for_delivery() -> None:
    asked: list[str] = []
    destinations = Destinations(resolve=resolver({"inside.example": ["10.1.2.3"]}, asked))
    with pytest.raises(DestinationRefused):
        destinations.check(parse("https://inside.example/hook"))
    destinations.check(parse("https://not-yet.example/hook"))  # checked again at every connection
    with pytest.raises(DestinationRefused):
        destinations.check(parse("http://0x7f.1/"))
    assert asked == ["inside.example", "not-yet.example"]  # an address is not looked up


def test_the_operator_allows_networks_and_names() -> None:
    table = {
        "hooks.intranet.example": ["10.9.9.9"],
        "a.corp.example": ["10.8.8.8"],
        "corp.example": ["10.7.7.7"],
        "other.example": ["10.1.2.3", "10.1.2.4"],
    }
    destinations = Destinations(
        ["10.1.2.3/32", " Hooks.Intranet.Example. ", ".corp.example", "fd00::/8"], resolve=resolver(table)
    )
    assert destinations.addresses("10.1.2.3", 80) == [ipaddress.ip_address("10.1.2.3")]
    assert destinations.addresses("::ffff:10.1.2.3", 80) == [ipaddress.ip_address("::ffff:10.1.2.3")]
    assert destinations.addresses("fd00::5", 80) == [ipaddress.ip_address("fd00::5")]
    for host in ("hooks.intranet.example", "a.corp.example", "corp.example"):
        assert destinations.addresses(host, 80)
    for host in ("10.1.2.4", "127.0.0.1", "other.example"):  # other.example: one of its addresses is not allowed
        with pytest.raises(DestinationRefused):
            destinations.addresses(host, 80)


@pytest.mark.parametrize(
    ("entry", "canonical"),
    [
        ("10.1.2.3", "10.1.2.3/32"),
        ("10.1.2.3/24", "10.1.2.0/24"),
        ("FD00::/8", "fd00::/8"),
        ("::1", "::1/128"),
        ("Hooks.Example.", "hooks.example"),
        (".Example.ORG", ".example.org"),
        ("中国.example", "xn--fiqs8s.example"),
    ],
)
def test_allow_entries_are_read_once(entry: str, canonical: str) -> None:
    assert allow_entry(entry) == canonical


@pytest.mark.parametrize("entry", ["10.1.2.3/33", "127.1", "0x7f.1", "a b", "http://x/", "", "*"])
def test_an_allow_entry_that_is_neither_a_network_nor_a_name_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="neither a network"):
        allow_entry(entry)


def test_the_setting_is_checked_when_the_service_starts() -> None:
    # the text as the environment gives it: the setting's validator splits it
    allowed = Settings(webhook_allow="10.1.2.3, Hooks.Intranet.Example ,,fd00::/8").webhook_allow  # type: ignore[arg-type]
    assert allowed == ["10.1.2.3/32", "hooks.intranet.example", "fd00::/8"]
    with pytest.raises(ValidationError, match="neither a network"):
        Settings(webhook_allow="10.1.2.3/33")  # type: ignore[arg-type]
