"""The guarded client against real HTTP servers on loopback.

With the guard on, every hostile URL must be refused before a socket opens: canary listeners count
accepted connections and must count none. With it off (as in development), the same client
fetches, redirects, caps, times out and pools. Host names only ever go through `FakeDNS`.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import socket
import ssl
import time
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fedipub import client as client_module
from fedipub import netguard
from fedipub.client import ClientSettings, GuardedClient
from fedipub.errors import DeliveryError, FetchError, UnsafeURLError
from fedipub.vocab import ACTIVITY_JSON, JRD_JSON, LD_JSON_AS
from tests.loopback import (
    FakeDNS,
    Handler,
    LoopbackServer,
    Seen,
    answer_when_released,
    reply,
    running,
    write_response,
)

pytestmark = pytest.mark.anyio

AS2 = {"content-type": ACTIVITY_JSON}
# Stands in for a peer on the internet: see the `public_loopback` fixture.
PUBLIC_LOOPBACK = IPv4Address("127.0.0.2")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def redirect_to(location: str) -> Handler:
    return reply(302, b"", {"location": location})


@asynccontextmanager
async def guarded(
    allow_private: bool, dns: FakeDNS | None = None, **settings: Any
) -> AsyncIterator[GuardedClient]:
    client = GuardedClient(
        ClientSettings(
            user_agent="fedipub-test/1 (+https://blog.test/)",
            allow_private_addresses=allow_private,
            **settings,
        ),
        resolver=dns or FakeDNS({}),
    )
    try:
        yield client
    finally:
        await client.aclose()


class UrlSigner(httpx.Auth):
    """Signs with the URL being requested, as HTTP signatures do."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["signature"] = f"signed {request.url}"
        yield request


# ----- guard on ---------------------------------------------------------------------------------


@pytest.fixture
def public_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let 127.0.0.2 pass the address check, as a peer on the internet would.

    A test may connect only to loopback, yet "redirect from an allowed origin" and "the name's
    checked address is the one dialled" need an allowed origin. Every other address is still
    judged by the real policy.
    """
    real = netguard.is_public_address

    def policy(ip: IPv4Address | IPv6Address) -> bool:
        return ip == PUBLIC_LOOPBACK or real(ip)

    monkeypatch.setattr("fedipub.dialer.is_public_address", policy)


@pytest.fixture(scope="session")
def public_test_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for public.test only: no IP address in it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "public.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("public.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def public_tls(
    public_test_cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> ssl.SSLContext:
    """The server side of public.test, its certificate trusted the way an operator would do it."""
    cert, key = public_test_cert
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@asynccontextmanager
async def canaries() -> AsyncIterator[list[LoopbackServer]]:
    """Listeners on the loopback addresses the hostile URLs below point at."""
    async with (
        running(reply(200, b"canary")) as v4,
        running(reply(200, b"canary"), host="::1") as v6,
        running(reply(200, b"canary"), host=str(PUBLIC_LOOPBACK)) as fake_public,
    ):
        yield [v4, v6, fake_public]


@pytest.mark.usefixtures("public_loopback")
@pytest.mark.parametrize(
    ("url", "answers"),
    [
        pytest.param("https://127.0.0.1:{v4}/", {}, id="loopback"),
        pytest.param("https://[::1]:{v6}/", {}, id="loopback-v6"),
        # Linux delivers connections to 0.0.0.0 to the local host ("0.0.0.0 day").
        pytest.param("https://0.0.0.0:{v4}/", {}, id="unspecified"),
        pytest.param("https://[::ffff:127.0.0.1]:{v4}/", {}, id="v4-mapped-loopback"),
        pytest.param("https://169.254.169.254/latest/meta-data/", {}, id="cloud-metadata"),
        pytest.param("https://canary.test:{v4}/", {"canary.test": [["127.0.0.1"]]}, id="name"),
        pytest.param(
            "https://canary.test:{v4}/", {"canary.test": [["::ffff:127.0.0.1"]]}, id="name-mapped"
        ),
        # One allowed answer does not excuse another: every address is checked.
        pytest.param(
            "https://mixed.test:{public}/",
            {"mixed.test": [[str(PUBLIC_LOOPBACK), "127.0.0.1"]]},
            id="name-public-then-private",
        ),
        pytest.param(
            "https://mixed.test:{v4}/",
            {"mixed.test": [["127.0.0.1", str(PUBLIC_LOOPBACK)]]},
            id="name-private-then-public",
        ),
    ],
)
async def test_hostile_urls_are_refused_before_any_connection(
    url: str, answers: dict[str, list[list[str]]]
) -> None:
    async with canaries() as (v4, v6, public), guarded(False, FakeDNS(answers)) as client:
        target = url.format(v4=v4.port, v6=v6.port, public=public.port)
        with pytest.raises(UnsafeURLError, match="not a public address"):
            await client.fetch_json(target)
        with pytest.raises(UnsafeURLError, match="not a public address"):
            await client.post(target, b"{}", headers={"content-type": ACTIVITY_JSON})
    assert [canary.accepted for canary in (v4, v6, public)] == [0, 0, 0]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:{v4}/", "scheme 'http'"),
        ("https://user:pw@127.0.0.1:{v4}/", "credentials"),
        ("file:///etc/passwd", "scheme 'file'"),
        # urllib strips the blank and sees https; httpx does not (CVE-2023-24329).
        (" https://127.0.0.1:{v4}/", "ambiguous"),
    ],
)
async def test_urls_refused_by_shape(url: str, message: str) -> None:
    async with canaries() as (v4, _, _), guarded(False) as client:
        with pytest.raises(UnsafeURLError, match=message):
            await client.get(url.format(v4=v4.port))
    assert v4.accepted == 0


@pytest.mark.usefixtures("public_loopback")
async def test_a_name_is_dialled_at_the_address_that_was_checked(
    public_tls: ssl.SSLContext,
) -> None:
    # The second answer would rebind public.test to loopback; it must never be asked for.
    dns = FakeDNS({"public.test": [[str(PUBLIC_LOOPBACK)], ["127.0.0.1"]]})
    async with (
        canaries() as (v4, _, _),
        running(reply(200, b'{"id": "x"}', AS2), str(PUBLIC_LOOPBACK), public_tls) as peer,
        guarded(False, dns) as client,
    ):
        url = f"https://public.test:{peer.port}/actor"
        # The certificate names public.test only, so this also shows SNI and verification use
        # the name while the socket goes to the IP.
        assert await client.fetch_json(url) == (url, {"id": "x"})
        assert await client.fetch_json(url) == (url, {"id": "x"})
    assert dns.lookups == ["public.test"]
    assert (peer.accepted, v4.accepted) == (1, 0)


@pytest.mark.usefixtures("public_loopback")
async def test_a_post_goes_over_tls_to_the_checked_address_and_the_name_is_verified(
    public_tls: ssl.SSLContext,
) -> None:
    """POSTs (deliveries) take the other client, `http1`: the same pinning, SNI and checks."""
    dns = FakeDNS(
        {
            "public.test": [[str(PUBLIC_LOOPBACK)], ["127.0.0.1"]],
            "other.test": [[str(PUBLIC_LOOPBACK)]],
        }
    )
    async with (
        canaries() as (v4, _, _),
        running(reply(202, b""), str(PUBLIC_LOOPBACK), public_tls) as peer,
        guarded(False, dns) as client,
    ):
        url = f"https://public.test:{peer.port}/inbox"
        for _ in range(2):
            response = await client.post(url, b"{}", headers={"content-type": ACTIVITY_JSON})
            assert response.status == 202
        # The certificate names public.test only.
        with pytest.raises(DeliveryError, match="certificate"):
            await client.post(f"https://other.test:{peer.port}/inbox", b"{}", headers={})
    assert [seen.headers["host"] for seen in peer.requests] == [f"public.test:{peer.port}"] * 2
    assert (peer.accepted, v4.accepted) == (1, 0)  # one kept-alive connection; no rebinding
    assert dns.lookups == ["public.test", "other.test"]


@pytest.mark.usefixtures("public_loopback")
@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("https://127.0.0.1:{v4}/", "not a public address"),
        ("https://[::ffff:127.0.0.1]:{v4}/", "not a public address"),
        ("https://canary.test:{v4}/", "not a public address"),
        ("http://127.0.0.1:{v4}/", "scheme 'http'"),
    ],
)
async def test_each_redirect_hop_is_checked(
    public_tls: ssl.SSLContext, location: str, message: str
) -> None:
    dns = FakeDNS({"public.test": [[str(PUBLIC_LOOPBACK)]], "canary.test": [["127.0.0.1"]]})
    async with canaries() as (v4, _, _):
        hop = redirect_to(location.format(v4=v4.port))
        async with (
            running(hop, str(PUBLIC_LOOPBACK), public_tls) as peer,
            guarded(False, dns) as client,
        ):
            with pytest.raises(UnsafeURLError, match=message):
                await client.get(f"https://public.test:{peer.port}/start")
    assert (len(peer.requests), v4.accepted) == (1, 0)


# ----- guard off (development against local peers) ---------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "accept"),
    [
        (ACTIVITY_JSON, None),
        (f"{ACTIVITY_JSON}; charset=utf-8", None),
        (LD_JSON_AS, None),
        ("application/ld+json", None),
        (JRD_JSON, JRD_JSON),
        ("application/json", f"{JRD_JSON}, application/json"),
    ],
)
async def test_fetch_json_returns_the_object(content_type: str, accept: str | None) -> None:
    handler = reply(200, b'{"type": "Person"}', {"content-type": content_type})
    async with running(handler) as peer, guarded(True) as client:
        if accept is None:
            result = await client.fetch_json(peer.url("/actor"))
        else:
            result = await client.fetch_json(peer.url("/actor"), accept=accept)
    assert result == (peer.url("/actor"), {"type": "Person"})
    headers = peer.requests[0].headers
    assert headers["user-agent"] == "fedipub-test/1 (+https://blog.test/)"
    assert headers["accept-encoding"] == "gzip, deflate"
    assert headers["accept"] == (accept or client_module.AS2_ACCEPT)


@pytest.mark.parametrize(
    ("status", "headers", "body", "message"),
    [
        (200, {"content-type": "text/html"}, b"<html></html>", "unexpected content type"),
        (200, {"content-type": JRD_JSON}, b"{}", "unexpected content type"),
        (200, {"content-type": 'application/ld+json; profile="urn:other"'}, b"{}", "content type"),
        (200, AS2, b'["not", "an", "object"]', "not an object"),
        (200, AS2, b"{not json", "invalid JSON"),
        (404, AS2, b'{"error": "gone"}', "status 404"),
        (500, AS2, b"{}", "status 500"),
    ],
)
async def test_fetch_json_refuses(
    status: int, headers: dict[str, str], body: bytes, message: str
) -> None:
    async with running(reply(status, body, headers)) as peer, guarded(True) as client:
        with pytest.raises(FetchError, match=message) as caught:
            await client.fetch_json(peer.url())
    assert caught.value.status == status


async def hop_down(seen: Seen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """/hop/N redirects to /hop/N-1; /hop/0 is the document."""
    left = int(seen.path.rsplit("/", 1)[1])
    if left:
        await write_response(writer, 301, {"location": f"/hop/{left - 1}"}, b"")
    else:
        await write_response(writer, 200, AS2, b"{}")


async def test_five_redirects_are_followed_and_a_sixth_is_refused() -> None:
    async with running(hop_down) as peer, guarded(True) as client:
        assert await client.fetch_json(peer.url("/hop/5")) == (peer.url("/hop/0"), {})
        with pytest.raises(FetchError, match="more than 5 redirects"):
            await client.fetch_json(peer.url("/hop/6"))
    assert len(peer.requests) == 6 + 6


async def test_auth_signs_every_hop_and_credentials_stay_with_their_origin() -> None:
    async with (
        running(reply(200, b"done")) as second,
        running(redirect_to(second.url("/final"))) as first,
        guarded(True) as client,
    ):
        response = await client.get(
            first.url("/start"), headers={"authorization": "Bearer t"}, auth=UrlSigner()
        )
    assert (response.url, response.status, response.body) == (second.url("/final"), 200, b"done")
    [start], [final] = first.requests, second.requests
    assert start.headers["signature"] == f"signed {first.url('/start')}"
    assert final.headers["signature"] == f"signed {second.url('/final')}"
    assert start.headers["authorization"] == "Bearer t"
    assert "authorization" not in final.headers


async def test_a_gzip_bomb_is_cut_off_at_the_cap() -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 10_000
    handler = reply(200, bomb, {**AS2, "content-encoding": "gzip"})
    async with running(handler) as peer, guarded(True, max_response_bytes=100_000) as client:
        with pytest.raises(FetchError, match="response too large"):
            await client.fetch_json(peer.url())


async def declare_huge(
    seen: Seen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    await write_response(writer, 200, {**AS2, "content-length": "1000000000"}, b"{")
    await reader.read()  # until the client hangs up


async def test_a_declared_length_over_the_cap_is_refused_without_reading() -> None:
    async with running(declare_huge) as peer, guarded(True, total_timeout=5.0) as client:
        started = time.monotonic()
        with pytest.raises(FetchError, match="response too large"):
            await client.fetch_json(peer.url())
    assert time.monotonic() - started < 1.0


async def trickle(seen: Seen, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Each byte comes well within any per-read timeout; the whole body never does."""
    await write_response(writer, 200, {**AS2, "content-length": "200"}, b"")
    for _ in range(200):
        if writer.is_closing():
            return
        writer.write(b" ")
        await asyncio.sleep(0.02)


async def test_a_slow_body_hits_the_total_deadline() -> None:
    deadline = {"total_timeout": 0.5, "connect_timeout": 0.5}
    async with running(trickle) as peer, guarded(True, None, **deadline) as client:
        started = time.monotonic()
        with pytest.raises(FetchError, match="timed out"):
            await client.fetch_json(peer.url())
        with pytest.raises(DeliveryError, match="timed out"):
            await client.post(peer.url(), b"{}", headers={})
    assert time.monotonic() - started < 2.0


async def test_sequential_requests_to_one_host_share_one_connection() -> None:
    async with running(reply(200, b"{}", AS2)) as peer, guarded(True) as client:
        for _ in range(20):
            await client.fetch_json(peer.url())
    assert peer.accepted == 1


async def test_the_least_recently_used_host_is_evicted_and_closed() -> None:
    async with (
        running(reply(200, b"a")) as a,
        running(reply(200, b"b")) as b,
        running(reply(200, b"c")) as c,
        guarded(True, max_hosts=2) as client,
    ):
        for peer in (a, b, c):
            await client.get(peer.url())
        await a.until(lambda: a.ended >= 1)
        assert b.ended == 0
        assert (await client.get(a.url())).body == b"a"
        await b.until(lambda: b.ended >= 1)
        assert (a.accepted, b.accepted, c.accepted) == (2, 1, 1)


async def test_an_evicted_host_finishes_its_request_before_closing() -> None:
    arrived, release = asyncio.Event(), asyncio.Event()
    async with (
        running(answer_when_released(arrived, release, b"late")) as a,
        running(reply(200, b"b")) as b,
        guarded(True, max_hosts=1) as client,
    ):
        pending = asyncio.create_task(client.get(a.url()))
        await asyncio.wait_for(arrived.wait(), 5)
        await client.get(b.url())  # evicts a's client while its request is in flight
        release.set()
        assert (await pending).body == b"late"
        await a.until(lambda: a.ended >= 1)


async def test_post_returns_any_status_and_follows_no_redirect() -> None:
    async with (
        running(reply(302, b"elsewhere", {"location": "/other"})) as moved,
        running(reply(500, b"x" * 5000)) as failing,
        guarded(True, max_response_bytes=1000) as client,
    ):
        body = b'{"type": "Create"}'
        response = await client.post(moved.url("/inbox"), body, headers={"x-test": "1"})
        assert (response.status, response.headers["location"]) == (302, "/other")
        assert len(moved.requests) == 1
        assert (moved.requests[0].method, moved.requests[0].body) == ("POST", body)
        assert moved.requests[0].headers["x-test"] == "1"
        response = await client.post(failing.url("/inbox"), body, headers={})
        assert (response.status, response.body) == (500, b"x" * 1000)


@pytest.mark.parametrize("host", ["xn--strae-oqa.test", "straße.test", "STRASSE.test"])
async def test_the_resolver_is_asked_for_the_name_as_sent(host: str) -> None:
    expected = "strasse.test" if host.startswith("STRASSE") else "xn--strae-oqa.test"
    dns = FakeDNS({expected: [["127.0.0.1"]]})
    async with running(reply(200, b"ok")) as peer, guarded(True, dns) as client:
        response = await client.get(f"http://{host}:{peer.port}/")
    assert (response.body, dns.lookups) == (b"ok", [expected])
    assert peer.requests[0].headers["host"] == f"{expected}:{peer.port}"


async def test_network_failures_become_fetch_and_delivery_errors() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    url = f"http://127.0.0.1:{closed_port}/"
    async with guarded(True) as client:
        with pytest.raises(FetchError, match="ConnectError") as caught:
            await client.get(url)
        assert type(caught.value) is FetchError
        with pytest.raises(DeliveryError, match="ConnectError"):
            await client.post(url, b"{}", headers={})
        with pytest.raises(FetchError, match="cannot resolve"):
            await client.get("http://unknown.test/")
    async with guarded(True, FakeDNS({"junk.test": [["not an address"]]})) as client:
        with pytest.raises(FetchError, match="cannot resolve"):
            await client.get("http://junk.test/")
