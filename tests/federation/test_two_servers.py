"""Two fedipub servers on loopback sign and verify each other's POSTs and GETs, in both
signature formats; double-knocking finds the format a peer accepts and remembers it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from fedipub.app import create_app
from fedipub.blog import urls_for
from fedipub.client import ClientSettings, GuardedClient
from fedipub.config import Settings
from fedipub.errors import FetchError
from fedipub.keys import KeySet, generate_keyset
from fedipub.signatures import SignatureFormat
from fedipub.signed_http import FormatMemory, SignedHttp
from tests.blogs import ARTICLE, make_blog, publish, write_article
from tests.peers import running_peer
from tests.servers import free_port, serve

pytestmark = pytest.mark.anyio


@dataclass
class Server:
    settings: Settings
    keys: KeySet

    @property
    def base(self) -> str:
        return self.settings.base_url


@pytest.fixture(scope="module")
def other_keyset() -> KeySet:
    return generate_keyset()


def _server(root: Path, keys: KeySet, **settings: object) -> Server:
    port = free_port()
    blog = make_blog(
        root, keys, domain=f"127.0.0.1:{port}", scheme="http", allow_private_addresses=True,
        **settings,
    )  # fmt: skip
    return Server(blog, keys)


@pytest.fixture
def servers(
    tmp_path: Path, keyset: KeySet, other_keyset: KeySet
) -> Iterator[tuple[Server, Server]]:
    a = _server(tmp_path / "a", keyset)
    b = _server(tmp_path / "b", other_keyset, secure_mode=True)
    publish(b.settings, write_article(tmp_path / "src", "a.md", ARTICLE))
    port_a = int(a.base.rsplit(":", 1)[1])
    port_b = int(b.base.rsplit(":", 1)[1])
    with serve(create_app(a.settings), port=port_a), serve(create_app(b.settings), port=port_b):
        yield a, b


@pytest.fixture
async def http() -> AsyncIterator[SignedHttp]:
    client = GuardedClient(ClientSettings(user_agent="test", allow_private_addresses=True))
    yield SignedHttp(client, FormatMemory())
    await client.aclose()


def _follow(sender: Server, receiver: Server, n: int) -> bytes:
    actor = urls_for(sender.settings).actor
    return orjson.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor}#follows/{n}",
            "type": "Follow",
            "actor": actor,
            "object": urls_for(receiver.settings).actor,
        }
    )


async def test_posts_verify_in_both_formats_both_ways(
    servers: tuple[Server, Server], http: SignedHttp
) -> None:
    a, b = servers
    for n, fmt in enumerate(SignatureFormat):
        for sender, receiver in ((a, b), (b, a)):
            memory = FormatMemory()
            memory.remember(receiver.base, fmt)
            signed = SignedHttp(http.client, memory)
            response = await signed.post(
                urls_for(receiver.settings).inbox,
                _follow(sender, receiver, n),
                sender.keys.blog_rsa,
                urls_for(sender.settings).main_key,
            )
            assert response.status == 202, (fmt, response.body)


async def test_authorized_fetch_needs_a_signed_get_in_either_format(
    servers: tuple[Server, Server], http: SignedHttp
) -> None:
    a, b = servers
    article = f"{b.base}/posts/hello-world"
    # Unsigned: refused in secure mode; HTML and the actor stay public.
    unsigned = httpx.get(article, headers={"Accept": "application/activity+json"})
    assert unsigned.status_code == 401
    assert httpx.get(article).status_code == 200
    actor = httpx.get(f"{b.base}/users/blog", headers={"Accept": "application/activity+json"})
    assert actor.status_code == 200
    for fmt in SignatureFormat:
        memory = FormatMemory()
        memory.remember(article, fmt)
        signed = SignedHttp(http.client, memory)
        _, note = await signed.fetch_json(
            article, a.keys.instance_rsa, urls_for(a.settings).instance_key
        )
        assert note["id"] == article
    # A key that is not the one its id names fails, in both formats.
    with pytest.raises(FetchError) as failure:
        await http.fetch_json(article, b.keys.instance_rsa, urls_for(a.settings).instance_key)
    assert failure.value.status == 401


async def test_double_knocking_switches_format_and_remembers_it(
    servers: tuple[Server, Server], http: SignedHttp
) -> None:
    a, _ = servers
    with running_peer() as peer:
        peer.require_rfc9421 = True
        inbox = peer.url("/inbox")
        key, key_id = a.keys.blog_rsa, urls_for(a.settings).main_key
        first = await http.post(inbox, b"{}", key, key_id)
        assert first.status == 202
        assert [("signature-input" in r.headers) for r in peer.inbox_posts()] == [False, True]
        second = await http.post(inbox, b"{}", key, key_id)
        assert second.status == 202
        # Remembered: the second delivery knocked once, in RFC 9421.
        assert [("signature-input" in r.headers) for r in peer.inbox_posts()] == [
            False,
            True,
            True,
        ]
