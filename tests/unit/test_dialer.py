"""The dialer answers only addresses that were checked: literals by their own publicness, names
through the resolver it was given, every answer judged (one private address refuses the host),
and only answers that passed are remembered, for `ttl` seconds of its clock and `size` hosts.

No test touches the network: literals are never resolved, names only reach `FakeResolver`.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from fedipub.dialer import Dialer, ResolveError, ResolveTimeout
from fedipub.errors import UnsafeURLError

pytestmark = pytest.mark.anyio

PUBLIC_V4 = "1.1.1.1"
OTHER_PUBLIC_V4 = "8.8.8.8"
PUBLIC_V6 = "2606:4700:4700::1111"
TTL = 30.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeResolver:
    """Answers from a table that a test may change between lookups, counting every question."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    asked: list[tuple[str, int]] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append((host, port))
        return self.answers[host]

    def times_asked(self, host: str) -> int:
        return sum(1 for asked, _ in self.asked if asked == host)


def _dialer(
    answers: Mapping[str, list[str]] | None = None,
    *,
    allow_private: bool = False,
    size: int = 16,
) -> tuple[Dialer, FakeResolver, Clock]:
    resolver = FakeResolver(dict(answers or {}))
    clock = Clock()
    return Dialer(resolver, allow_private, ttl=TTL, size=size, clock=clock), resolver, clock


# --- literals -------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", [PUBLIC_V4, PUBLIC_V6])
@pytest.mark.parametrize("allow_private", [False, True])
async def test_a_public_literal_is_answered_as_itself_without_resolving(
    literal: str, allow_private: bool
) -> None:
    dialer, resolver, _ = _dialer(allow_private=allow_private)

    assert await dialer.addresses(literal, 443, 5.0) == [literal]
    assert resolver.asked == []


@pytest.mark.parametrize("literal", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fe80::1"])
async def test_a_private_literal_is_refused_unless_private_addresses_are_allowed(
    literal: str,
) -> None:
    guarded, resolver, _ = _dialer()
    with pytest.raises(UnsafeURLError, match="not a public address"):
        await guarded.addresses(literal, 443, 5.0)

    open_, _, _ = _dialer(allow_private=True)
    assert await open_.addresses(literal, 443, 5.0) == [literal]
    assert resolver.asked == []


async def test_an_ipv4_mapped_literal_is_judged_by_the_ipv4_address_it_carries() -> None:
    dialer, _, _ = _dialer()

    with pytest.raises(UnsafeURLError):
        await dialer.addresses("::ffff:169.254.169.254", 443, 5.0)
    # Compared as addresses: how a mapped address is spelled changed in Python 3.13.
    [mapped] = await dialer.addresses("::ffff:1.1.1.1", 443, 5.0)
    assert ipaddress.ip_address(mapped) == ipaddress.ip_address("::ffff:1.1.1.1")


# --- names ----------------------------------------------------------------------------------


async def test_a_name_is_resolved_through_the_given_resolver_with_its_port() -> None:
    dialer, resolver, _ = _dialer({"social.example": [PUBLIC_V4, PUBLIC_V6]})

    assert await dialer.addresses("social.example", 8443, 5.0) == [PUBLIC_V4, PUBLIC_V6]
    assert resolver.asked == [("social.example", 8443)]


async def test_one_private_answer_among_public_ones_refuses_the_host() -> None:
    dialer, _, _ = _dialer({"rebind.example": [PUBLIC_V4, "10.0.0.1", OTHER_PUBLIC_V4]})

    with pytest.raises(UnsafeURLError, match=r"rebind\.example resolves to 10\.0\.0\.1"):
        await dialer.addresses("rebind.example", 443, 5.0)


async def test_private_answers_pass_when_private_addresses_are_allowed() -> None:
    dialer, _, _ = _dialer({"peer.local": ["127.0.0.1", PUBLIC_V4]}, allow_private=True)

    assert await dialer.addresses("peer.local", 80, 5.0) == ["127.0.0.1", PUBLIC_V4]


async def test_a_name_with_no_address_is_a_resolve_error() -> None:
    dialer, _, _ = _dialer({"empty.example": []})

    with pytest.raises(ResolveError, match="has no address") as raised:
        await dialer.addresses("empty.example", 443, 5.0)
    assert not isinstance(raised.value, ResolveTimeout)


async def test_a_failing_resolver_is_a_resolve_error() -> None:
    async def failing(host: str, port: int) -> Sequence[str]:
        raise OSError(-2, "Name or service not known")

    dialer = Dialer(failing, False)

    with pytest.raises(ResolveError, match=r"cannot resolve gone\.example") as raised:
        await dialer.addresses("gone.example", 443, 5.0)
    assert isinstance(raised.value.__cause__, OSError)


@pytest.mark.parametrize("junk", [["not-an-address"], ["1.1.1"], ["1.1.1.1", ""], ["999.1.1.1"]])
async def test_a_resolver_answering_junk_is_a_resolve_error(junk: list[str]) -> None:
    dialer, _, _ = _dialer({"junk.example": junk})

    with pytest.raises(ResolveError, match=r"cannot resolve junk\.example"):
        await dialer.addresses("junk.example", 443, 5.0)


async def test_a_resolver_slower_than_the_timeout_is_a_resolve_timeout() -> None:
    never = asyncio.Event()
    asked: list[str] = []

    async def hanging(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        await never.wait()
        return [PUBLIC_V4]

    dialer = Dialer(hanging, False)

    with pytest.raises(ResolveTimeout, match="timed out"):
        await dialer.addresses("slow.example", 443, 0.05)
    assert asked == ["slow.example"]


# --- remembered answers ---------------------------------------------------------------------


async def test_an_answer_is_remembered_for_ttl_seconds_of_the_clock() -> None:
    dialer, resolver, clock = _dialer({"social.example": [PUBLIC_V4]})

    assert await dialer.addresses("social.example", 443, 5.0) == [PUBLIC_V4]
    clock.now += TTL - 0.001
    resolver.answers["social.example"] = [OTHER_PUBLIC_V4]
    assert await dialer.addresses("social.example", 443, 5.0) == [PUBLIC_V4]
    assert resolver.times_asked("social.example") == 1

    clock.now += 0.001  # exactly `ttl` after the answer: it has expired
    assert await dialer.addresses("social.example", 443, 5.0) == [OTHER_PUBLIC_V4]
    assert resolver.times_asked("social.example") == 2


async def test_answers_are_remembered_per_host() -> None:
    dialer, resolver, _ = _dialer({"a.example": [PUBLIC_V4], "b.example": [OTHER_PUBLIC_V4]})

    assert await dialer.addresses("a.example", 443, 5.0) == [PUBLIC_V4]
    assert await dialer.addresses("b.example", 443, 5.0) == [OTHER_PUBLIC_V4]
    assert await dialer.addresses("a.example", 443, 5.0) == [PUBLIC_V4]
    assert await dialer.addresses("b.example", 443, 5.0) == [OTHER_PUBLIC_V4]
    assert resolver.asked == [("a.example", 443), ("b.example", 443)]


async def test_at_most_size_hosts_are_remembered_and_the_oldest_is_forgotten() -> None:
    hosts = {f"h{n}.example": [PUBLIC_V4] for n in range(4)}
    dialer, resolver, _ = _dialer(hosts, size=3)

    for host in hosts:  # h0 was answered first and is pushed out by h3
        await dialer.addresses(host, 443, 5.0)
    for host in ["h1.example", "h2.example", "h3.example"]:
        await dialer.addresses(host, 443, 5.0)
    assert [resolver.times_asked(host) for host in hosts] == [1, 1, 1, 1]

    await dialer.addresses("h0.example", 443, 5.0)
    assert resolver.times_asked("h0.example") == 2


async def test_a_refused_answer_is_never_remembered() -> None:
    dialer, resolver, _ = _dialer({"flip.example": ["192.168.1.1"]})

    with pytest.raises(UnsafeURLError):
        await dialer.addresses("flip.example", 443, 5.0)
    resolver.answers["flip.example"] = [PUBLIC_V4]
    assert await dialer.addresses("flip.example", 443, 5.0) == [PUBLIC_V4]
    assert resolver.times_asked("flip.example") == 2


async def test_a_failed_lookup_is_never_remembered() -> None:
    dialer, resolver, _ = _dialer({"later.example": []})

    with pytest.raises(ResolveError):
        await dialer.addresses("later.example", 443, 5.0)
    resolver.answers["later.example"] = [PUBLIC_V4]
    assert await dialer.addresses("later.example", 443, 5.0) == [PUBLIC_V4]
    assert resolver.times_asked("later.example") == 2


async def test_a_host_that_turns_private_after_its_answer_expired_is_refused() -> None:
    dialer, resolver, clock = _dialer({"rebind.example": [PUBLIC_V4]})

    assert await dialer.addresses("rebind.example", 443, 5.0) == [PUBLIC_V4]
    resolver.answers["rebind.example"] = ["127.0.0.1"]
    clock.now += TTL
    with pytest.raises(UnsafeURLError):
        await dialer.addresses("rebind.example", 443, 5.0)
    with pytest.raises(UnsafeURLError):  # the expired public answer is not served instead
        await dialer.addresses("rebind.example", 443, 5.0)
    assert resolver.times_asked("rebind.example") == 3
