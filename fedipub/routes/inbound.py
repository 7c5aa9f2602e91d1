"""Turning a Starlette request into the plain `InboundRequest` the services verify."""

from __future__ import annotations

from starlette.requests import Request

from fedipub.errors import TooLargeError
from fedipub.signatures import combine_header_lines
from fedipub.verify import InboundRequest


def _target(request: Request) -> str:
    """The request-target exactly as on the request line: signatures cover its raw bytes."""
    path = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    query = request.scope.get("query_string", b"")
    target = path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


def _headers(request: Request) -> dict[str, str]:
    # Starlette's Headers mapping shows only the first of a repeated field; signatures cover
    # all of them, joined (cavage-12 §2.3, RFC 9421 §2.1).
    return combine_header_lines(
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in request.scope["headers"]
    )


async def read_inbound(request: Request, base_url: str, max_bytes: int) -> InboundRequest:
    """The request with its body, refusing (413) a body over `max_bytes` before reading it
    all. `base_url` is this server's public origin, never taken from the Host header."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise TooLargeError(f"body over {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise TooLargeError(f"body over {max_bytes} bytes")
        chunks.append(chunk)
    target = _target(request)
    return InboundRequest(
        method=request.method,
        target=target,
        url=f"{base_url}{target}",
        headers=_headers(request),
        body=b"".join(chunks),
        client=request.client.host if request.client else "",
    )
