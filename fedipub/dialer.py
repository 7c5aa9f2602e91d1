"""Which addresses the server may open a socket to, for a host name or literal.

Both outbound paths (httpx for GETs, `http1` for POSTs) ask here and connect only to what this
answers: the host is resolved once, refused if any address is not public (`netguard`), and the
socket goes to an address that was checked, so a second DNS answer cannot swap in a private one
(DNS rebinding, GHSA-r48c-xx2h-fv4g).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

from fedipub.errors import UnsafeURLError
from fedipub.netguard import is_public_address

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""Turns (host, port) into IP address strings; the default asks the system (getaddrinfo)."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ANSWER_TTL = 30.0  # seconds; shorter than most records' own TTL, which getaddrinfo hides
ANSWERS_KEPT = 4096


class ResolveError(OSError):
    """The name has no usable address, or resolving it failed."""


class ResolveTimeout(ResolveError):
    """Resolving the name took longer than allowed."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class Dialer:
    """Answers are remembered for `ttl` seconds (at most `size` hosts): a fan-out opens a
    connection to each of a thousand hosts, and asking the system resolver is a trip to a
    thread. Only answers that passed the check are kept, so a host is checked as often."""

    def __init__(
        self,
        resolver: Resolver,
        allow_private: bool,
        *,
        ttl: float = ANSWER_TTL,
        size: int = ANSWERS_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._answers: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()

    async def addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The addresses to try, in order; UnsafeURLError when any of them is not public
        (one allowed answer does not excuse another), ResolveError when there are none."""
        kept = self._answers.get(host)
        if kept is not None and kept[0] > self._clock():
            self._answers.move_to_end(host)
            return kept[1]
        checked = await self._check(host, port, timeout)
        self._answers[host] = (self._clock() + self._ttl, checked)
        self._answers.move_to_end(host)
        if len(self._answers) > self._size:
            self._answers.popitem(last=False)
        return checked

    async def _check(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            found = [ipaddress.ip_address(host)]
            found_by = ""
        except ValueError:
            found = await self._resolve(host, port, timeout)
            found_by = f"{host} resolves to "
        if not found:
            raise ResolveError(f"{host} has no address")
        refused = [address for address in found if not is_public_address(address)]
        if refused and not self._allow_private:
            raise UnsafeURLError(host, f"{found_by}{refused[0]}, not a public address")
        return [str(address) for address in found]

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[IPAddress]:
        try:
            async with asyncio.timeout(timeout):
                answers = await self._resolver(host, port)
            return [ipaddress.ip_address(address) for address in answers]
        except TimeoutError:
            raise ResolveTimeout(f"resolving {host} timed out") from None
        except (OSError, ValueError) as exc:
            raise ResolveError(f"cannot resolve {host}: {exc}") from exc
