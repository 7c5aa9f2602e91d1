"""The address policy and URL checks of the SSRF guard. Addresses here are values only."""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network, ip_address

import pytest

from fedipub import netguard
from fedipub.netguard import ParsedTarget, check_url, is_public_address

TABLE_ROWS: list[IPv4Network | IPv6Network] = [
    *(network for network, _ in netguard._V4_NOT_GLOBAL),
    *(network for network, _ in netguard._V6_NOT_GLOBAL),
]


@pytest.mark.parametrize("network", TABLE_ROWS, ids=str)
def test_every_row_of_the_table_is_refused_at_both_ends(network: IPv4Network | IPv6Network) -> None:
    assert not is_public_address(network.network_address)
    assert not is_public_address(network.broadcast_address)


@pytest.mark.parametrize(
    "address",
    [
        # Addresses SSRF payloads use, in the forms they take.
        "127.0.0.1",
        "127.255.255.254",
        "0.0.0.0",  # noqa: S104 (a value to judge, never bound)
        "0.1.2.3",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "198.19.255.254",
        "198.51.100.7",
        "203.0.113.9",
        "192.88.99.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fd00::1",
        "fc00::1",
        "fe80::1",
        "fe80::1%eth0",
        "fec0::1",
        "ff02::1",
        "100::1",
        "100:0:0:1::1",
        "2001:db8::1",
        "2001:2::1",
        "2001:10::1",
        "3fff::1",
        "5f00::1",
        "64:ff9b:1::a00:1",
        "::ffff:0:a00:1",
        "4000::1",
        # IPv4 embedded in IPv6: the IPv4 address is judged.
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "::ffff:0.0.0.0",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::1",
        "2002:c0a8:101::1",
        # Teredo (RFC 4380's example): the client 192.0.2.45 is documentation space.
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        # Teredo with a public client behind a private server.
        "2001:0:a00:1:8000:63bf:a247:27dd",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "1.1.1.1",
        "8.8.8.8",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        # Globally reachable rows of the special-purpose registry (AS112, AMT).
        "192.31.196.1",
        "192.52.193.1",
        "192.175.48.1",
        "2606:4700::1",
        "2a00:1450:4001::200e",
        "2001:200::1",
        "::ffff:93.184.216.34",
        # NAT64: how an IPv6-only host with DNS64 sees every IPv4-only peer.
        "64:ff9b::5db8:d822",
        "2002:5db8:d822::1",
        "2001:0:4136:e378:8000:63bf:a247:27dd",
    ],
)
def test_public_addresses_are_accepted(address: str) -> None:
    assert is_public_address(ip_address(address))


@pytest.mark.parametrize(
    ("url", "allow_private", "expected"),
    [
        ("https://Example.COM/users/a", False, ParsedTarget("https", "example.com", 443)),
        ("https://example.com:8443/", False, ParsedTarget("https", "example.com", 8443)),
        ("HTTPS://[2606:4700::1]/", False, ParsedTarget("https", "2606:4700::1", 443)),
        ("http://127.0.0.1:8000/inbox", True, ParsedTarget("http", "127.0.0.1", 8000)),
        ("http://[::1]/", True, ParsedTarget("http", "::1", 80)),
    ],
)
def test_check_url_accepts(url: str, allow_private: bool, expected: ParsedTarget) -> None:
    assert check_url(url, allow_private) == expected


@pytest.mark.parametrize(
    ("url", "allow_private", "message"),
    [
        ("http://example.com/", False, "scheme 'http'"),
        ("ftp://example.com/", True, "scheme 'ftp'"),
        ("file:///etc/passwd", True, "scheme 'file'"),
        ("gopher://127.0.0.1:6379/_", True, "scheme 'gopher'"),
        ("example.com/users/a", False, "scheme '(none)'"),
        ("https://user:secret@example.com/", False, "credentials"),
        ("https://@example.com/", False, "credentials"),
        ("https:///path", False, "no host"),
        ("https://example.com:0/", False, "port"),
        ("https://example.com:65536/", False, "port"),
        ("https://example.com:http/", False, "port"),
    ],
)
def test_check_url_refuses(url: str, allow_private: bool, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_url(url, allow_private)
