"""deploy/nginx/fedipub.conf, run by the real nginx in front of fedipub on loopback with a
self-signed certificate: the blog's public address is https://127.0.0.1:<nginx port>.

What it shows: pages and documents load through the proxy; static files come from nginx
itself; the app sees the public host and scheme; a peer's signature over that host verifies;
and X-Forwarded-* from anyone but the trusted proxy is ignored.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import fedipub
from fedipub.app import create_app
from fedipub.keys import KeySet
from tests.blogs import ARTICLE, make_blog, publish, write_article
from tests.deploy.certificates import self_signed
from tests.peers import Peer, running_peer, signed_headers
from tests.servers import free_port, serve

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
AS2 = "application/activity+json"

pytestmark = pytest.mark.skipif(
    NGINX is None,
    reason="nginx is not installed (Debian: nginx-light, from .ci/install-system-packages)",
)


def render_site(
    *, https_port: int, http_port: int, app_port: int, data: Path, cert: Path, key: Path
) -> str:
    """The shipped server blocks, with this machine's ports and paths in place of the
    example's. Every replaced line must be there: the test is of the file as shipped."""
    text = (DEPLOY / "nginx" / "fedipub.conf").read_text(encoding="utf-8")
    replacements = [
        ("/etc/letsencrypt/live/blog.example.com/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/blog.example.com/privkey.pem", str(key)),
        ("server_name blog.example.com;", "server_name 127.0.0.1;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("    listen [::]:80;\n", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("root /var/lib/fedipub;", f"root {data};"),
        (
            "root /opt/fedipub/venv/lib/python3.11/site-packages/fedipub;",
            f"root {Path(fedipub.__file__).parent};",
        ),
        ("root /var/www/letsencrypt;", f"root {data};"),
    ]
    for old, new in replacements:
        assert old in text, f"deploy/nginx/fedipub.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


def nginx_conf(folder: Path, site: str) -> Path:
    """A main configuration around the site; everything nginx writes stays in `folder`."""
    (folder / "site.conf").write_text(site, encoding="utf-8")
    # As root, nginx's workers would run as nobody, who cannot read pytest's 0700 folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  access_log {folder}/access.log;\n"
        f"  client_body_temp_path {folder}/body;\n  proxy_temp_path {folder}/proxy;\n"
        f"  include {folder}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    return conf


@contextmanager
def running_nginx(conf: Path, port: int) -> Iterator[None]:
    assert NGINX is not None
    folder = conf.parent
    command = [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {(folder / 'error.log').read_text()}")
                time.sleep(0.02)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


async def seen(request: Request) -> Response:
    """A probe added to the real app for this test: what the app believes about a request."""
    return JSONResponse(
        {
            "scheme": request.url.scheme,
            "host": request.headers.get("host"),
            "client": request.client.host if request.client else None,
        }
    )


@dataclass
class Proxied:
    public: str  # https://127.0.0.1:<nginx port>
    direct: str  # the app itself, http://127.0.0.1:<app port>
    tls: ssl.SSLContext
    peer: Peer
    key: rsa.RSAPrivateKey
    actor: dict[str, object]

    def get(self, path: str, **options: object) -> httpx.Response:
        with httpx.Client(verify=self.tls) as client:
            return client.get(f"{self.public}{path}", **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory, keyset: KeySet) -> Iterator[Proxied]:
    root = tmp_path_factory.mktemp("nginx")
    https_port, http_port, app_port = free_port(), free_port(), free_port()
    blog = make_blog(
        root / "data",
        keyset,
        domain=f"127.0.0.1:{https_port}",
        scheme="https",
        allow_private_addresses=True,  # the peer is on loopback, over http
        delivery_worker=False,
        trusted_proxies="127.0.0.1",
    )
    publish(blog, write_article(root / "src", "a.md", ARTICLE))
    (blog.data_dir / "media").mkdir()
    (blog.data_dir / "media" / "cat.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a cat")
    cert, key = self_signed(root, "127.0.0.1")
    site = render_site(
        https_port=https_port,
        http_port=http_port,
        app_port=app_port,
        data=blog.data_dir,
        cert=cert,
        key=key,
    )
    app = create_app(blog)
    app.router.routes.append(Route("/_seen", seen))
    peer_key = keyset.instance_rsa  # any RSA key will do for the peer's account
    with (
        running_peer() as peer,
        serve(app, port=app_port) as direct,
        running_nginx(nginx_conf(root, site), https_port),
    ):
        yield Proxied(
            public=f"https://127.0.0.1:{https_port}",
            direct=direct,
            tls=ssl.create_default_context(cafile=str(cert)),
            peer=peer,
            key=peer_key,
            actor=peer.add_actor("alice", peer_key),
        )


def test_pages_and_documents_load_through_the_proxy(proxied: Proxied) -> None:
    page = proxied.get("/posts/hello-world")
    assert page.status_code == 200
    assert "Hello &lt;World&gt;" in page.text
    assert page.headers["vary"] == "Accept"
    note = proxied.get("/posts/hello-world", headers={"Accept": AS2})
    assert note.json()["id"] == f"{proxied.public}/posts/hello-world"
    assert "strict-transport-security" in page.headers


def test_static_files_and_media_come_from_nginx(proxied: Proxied) -> None:
    style = proxied.get("/static/style.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    # The app puts a Content-Security-Policy on everything it answers; nginx does not.
    assert "content-security-policy" not in style.headers
    assert "content-security-policy" in proxied.get("/").headers
    media = proxied.get("/media/cat.jpg")
    assert media.status_code == 200
    assert media.content.startswith(b"\xff\xd8")


def test_the_app_sees_the_public_host_and_scheme_not_what_clients_claim(
    proxied: Proxied,
) -> None:
    through = proxied.get("/_seen", headers={"X-Forwarded-For": "203.0.113.9"}).json()
    # nginx replaces the client's X-Forwarded-For with the address it saw.
    assert through == {
        "scheme": "https",
        "host": proxied.public.removeprefix("https://"),
        "client": "127.0.0.1",
    }


def test_forwarded_headers_count_only_from_the_trusted_proxy(proxied: Proxied) -> None:
    claims = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    # 127.0.0.2 is loopback too, but not in trusted_proxies: its claims are ignored.
    untrusted = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=untrusted) as client:
        seen_untrusted = client.get(f"{proxied.direct}/_seen", headers=claims).json()
    assert seen_untrusted["client"] == "127.0.0.2"
    assert seen_untrusted["scheme"] == "http"
    # The same claims from the trusted address are believed.
    seen_trusted = httpx.get(f"{proxied.direct}/_seen", headers=claims).json()
    assert seen_trusted["client"] == "203.0.113.9"
    assert seen_trusted["scheme"] == "https"


def _follow(proxied: Proxied) -> bytes:
    return orjson.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": proxied.peer.url(f"/follows/{time.monotonic_ns()}"),
            "type": "Follow",
            "actor": proxied.actor["id"],
            "object": f"{proxied.public}/users/blog",
        }
    )


def _post(proxied: Proxied, signed_for: str, body: bytes) -> httpx.Response:
    key_id = f"{proxied.actor['id']}#main-key"
    headers = signed_headers("POST", signed_for, body, proxied.key, key_id)
    headers.pop("host")  # httpx sends the Host of the URL it is given
    with httpx.Client(verify=proxied.tls) as client:
        return client.post(f"{proxied.public}/users/blog/inbox", content=body, headers=headers)


def test_a_signed_post_through_the_proxy_verifies(proxied: Proxied) -> None:
    inbox = f"{proxied.public}/users/blog/inbox"
    response = _post(proxied, inbox, _follow(proxied))
    assert response.status_code == 202, response.text
    # Signed for the app's own address, replayed through the proxy: the Host differs.
    replayed = _post(proxied, f"{proxied.direct}/users/blog/inbox", _follow(proxied))
    assert replayed.status_code == 401


def test_nginx_refuses_bodies_over_the_inbox_limit(proxied: Proxied) -> None:
    with httpx.Client(verify=proxied.tls) as client:
        response = client.post(f"{proxied.public}/inbox", content=b"x" * 1_100_000)
    assert response.status_code == 413
    assert "nginx" in response.text
