"""Headers every response carries."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: the pages work without JavaScript, and what little they
# use is served from /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self' https:; base-uri 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii")),
]


class HeadersMiddleware:
    """Adds `headers` to every HTTP response: to what the route set (`override=False`), or in
    place of any the route set with the same names (`override=True`). Pure ASGI (no
    BaseHTTPMiddleware): it adds headers without buffering bodies."""

    def __init__(
        self, app: ASGIApp, headers: Sequence[tuple[bytes, bytes]], *, override: bool = False
    ) -> None:
        self.app = app
        self._headers = list(headers)
        self._names = {name for name, _ in self._headers}
        self._override = override

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = list(message.get("headers", []))
                if self._override:
                    kept = [(k, v) for k, v in present if k.lower() not in self._names]
                    message["headers"] = [*kept, *self._headers]
                else:
                    names = {k.lower() for k, _ in present}
                    extra = [(k, v) for k, v in self._headers if k not in names]
                    message["headers"] = [*present, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
