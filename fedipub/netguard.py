"""Which URLs and addresses the server may reach: the pure half of the SSRF guard.

`client.py` asks `check_url` about every URL before a request and `is_public_address` about every
address a host name resolves to, just before connecting to that very address.

The address policy is a table of the ranges in IANA's special-purpose address registries that are
not globally reachable (https://www.iana.org/assignments/iana-ipv4-special-registry/ and
https://www.iana.org/assignments/iana-ipv6-special-registry/), plus multicast. A missed range is
an SSRF hole (Fedify CVE-2026-50131), so IPv6 is also held to an allowlist: only global unicast
(2000::/3) passes, and a range IANA assigns later outside it is refused without a code change.
The stdlib's `is_private`/`is_global` are not used: they were wrong for several of these ranges
until CPython 3.11.10 / 3.12.4 (CVE-2024-4032), and this server supports older patch releases.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from urllib.parse import urlsplit

# IPv4 ranges refused, with the registry's reason. The registry also lists three globally
# reachable blocks, which stay allowed: 192.31.196.0/24 and 192.175.48.0/24 (AS112 DNS),
# 192.52.193.0/24 (AMT).
_V4_NOT_GLOBAL: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), reason)
    for network, reason in (
        # Linux connects 0.0.0.0 to the local host ("0.0.0.0 day"), so this is loopback too.
        ("0.0.0.0/8", "RFC 791: this host on this network"),
        ("10.0.0.0/8", "RFC 1918: private use"),
        ("100.64.0.0/10", "RFC 6598: shared address space (carrier-grade NAT)"),
        ("127.0.0.0/8", "RFC 1122: loopback"),
        # Cloud metadata services answer on 169.254.169.254.
        ("169.254.0.0/16", "RFC 3927: link-local"),
        ("172.16.0.0/12", "RFC 1918: private use"),
        # Refused whole: its two globally reachable /32s (192.0.0.9, .10) serve no documents.
        ("192.0.0.0/24", "RFC 6890: IETF protocol assignments"),
        ("192.0.2.0/24", "RFC 5737: documentation (TEST-NET-1)"),
        ("192.88.99.0/24", "RFC 7526: deprecated 6to4 relay anycast"),
        ("192.168.0.0/16", "RFC 1918: private use"),
        ("198.18.0.0/15", "RFC 2544: benchmarking"),
        ("198.51.100.0/24", "RFC 5737: documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "RFC 5737: documentation (TEST-NET-3)"),
        ("224.0.0.0/4", "RFC 5771: multicast"),
        ("240.0.0.0/4", "RFC 1112: reserved"),
        # Inside 240.0.0.0/4; its own row in the registry.
        ("255.255.255.255/32", "RFC 919: limited broadcast"),
    )
)

# Only global unicast space is ever public; everything else in IPv6 is reserved by the IETF.
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")

# IPv6 ranges refused. Rows outside 2000::/3 are caught by the allowlist as well; they are listed
# so that the table reads line by line against the registry.
_V6_NOT_GLOBAL: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), reason)
    for network, reason in (
        ("::/128", "RFC 4291: unspecified"),
        ("::1/128", "RFC 4291: loopback"),
        ("::ffff:0:0:0/96", "RFC 2765: IPv4-translated (SIIT)"),
        ("64:ff9b:1::/48", "RFC 8215: local-use IPv4/IPv6 translation"),
        ("100::/64", "RFC 6666: discard-only"),
        ("100:0:0:1::/64", "RFC 9780: dummy prefix"),
        # Holds benchmarking 2001:2::/48 and ORCHID; its few anycast /128s serve no documents.
        # Teredo (2001::/32) is judged by its embedded addresses before this row is reached.
        ("2001::/23", "RFC 2928: IETF protocol assignments"),
        ("2001:db8::/32", "RFC 3849: documentation"),
        ("3fff::/20", "RFC 9637: documentation"),
        ("5f00::/16", "RFC 9602: segment routing (SRv6) SIDs"),
        ("fc00::/7", "RFC 4193: unique local"),
        ("fe80::/10", "RFC 4291: link-local"),
        ("fec0::/10", "RFC 3879: deprecated site-local"),
        ("ff00::/8", "RFC 4291: multicast"),
    )
)

_V4_MAPPED = IPv6Network("::ffff:0:0/96")  # RFC 4291 §2.5.5.2
_V4_COMPATIBLE = IPv6Network("::/96")  # RFC 4291 §2.5.5.1, deprecated; holds :: and ::1 too
_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix (DNS64 on IPv6-only hosts)

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ParsedTarget:
    """Where a checked URL points: lower-case scheme and host (IPv6 without brackets), port."""

    scheme: str
    host: str
    port: int


def is_public_address(ip: IPv4Address | IPv6Address) -> bool:
    """True when `ip` is globally reachable unicast: the only addresses fetched for a peer."""
    if isinstance(ip, IPv4Address):
        return not any(ip in network for network, _ in _V4_NOT_GLOBAL)
    # A zone index only means something on a local link.
    if ip.scope_id:
        return False
    embedded = _embedded_ipv4(ip)
    if embedded:
        # The packet ends up at the IPv4 address (kernel mapping, NAT64, 6to4 or Teredo relay),
        # so that address is the one judged: ::ffff:169.254.169.254 is the metadata service.
        return all(is_public_address(v4) for v4 in embedded)
    if ip not in _V6_GLOBAL_UNICAST:
        return False
    return not any(ip in network for network, _ in _V6_NOT_GLOBAL)


def _embedded_ipv4(ip: IPv6Address) -> tuple[IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address stands for, if it is one of the embedding forms."""
    low32 = IPv4Address(int(ip) & 0xFFFF_FFFF)
    if ip in _V4_MAPPED or ip in _V4_COMPATIBLE or ip in _NAT64:
        return (low32,)
    if ip.sixtofour is not None:  # 2002::/16, RFC 3056
        return (ip.sixtofour,)
    if ip.teredo is not None:  # 2001::/32, RFC 4380: (server, client)
        return ip.teredo
    return ()


def check_url(url: str, allow_private: bool) -> ParsedTarget:
    """Parse an outbound URL, raising ValueError when it may not be fetched.

    Plain http is for development against local peers only (`allow_private`). Credentials in the
    URL are refused: they would be sent to whoever the URL names.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    allowed = ("http", "https") if allow_private else ("https",)
    if scheme not in allowed:
        raise ValueError(f"scheme {scheme or '(none)'!r} is not allowed")
    if "@" in parts.netloc:
        raise ValueError("credentials in the URL are not allowed")
    host = parts.hostname
    if not host:
        raise ValueError("the URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    if port is None:
        port = DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise ValueError("the port is not a number from 1 to 65535")
    return ParsedTarget(scheme=scheme, host=host, port=port)
