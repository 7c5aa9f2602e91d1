"""What stands in front of every admin page: the session cookie, the CSRF token and origin
check on every POST, the form body, and the headers every /admin response carries."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fedipub.auth import AdminAuth, Session, csrf_matches, same_origin
from fedipub.errors import MalformedError, TooLargeError
from fedipub.routes.admin_render import now_of, render_page
from fedipub.routes.common import services

ADMIN_PATH = "/admin"
LOGIN_PATH = f"{ADMIN_PATH}/login"
HOME_PATH = f"{ADMIN_PATH}/comments"
SESSION_COOKIE = "fedipub_admin"
CSRF_FIELD = "csrf"
# An article's Markdown is the largest thing posted here.
MAX_FORM_BYTES = 1_000_000
FORM_TYPE = "application/x-www-form-urlencoded"

Form = Mapping[str, str]
Endpoint = Callable[[Request], Awaitable[Response]]
PageHandler = Callable[[Request, Session], Awaitable[Response]]
ActionHandler = Callable[[Request, Session, Form], Awaitable[Response]]

ADMIN_HEADERS = [
    # Admin pages hold what the public must not see: no cache keeps a copy.
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
    # Links out (a commenter's profile) do not carry admin URLs along, while the admin's own
    # POSTs keep their Origin, which browsers send as "null" under `no-referrer`.
    (b"referrer-policy", b"same-origin"),
]


def admin_auth(request: Request) -> AdminAuth:
    svc = services(request)
    return AdminAuth(svc.store, svc.executor, svc.settings.admin_session_hours)


async def current_session(request: Request) -> Session | None:
    return await admin_auth(request).session(request.cookies.get(SESSION_COOKIE), now_of(request))


def safe_next(value: str | None) -> str:
    """Where to go after logging in: only a page of the admin, never another site."""
    # A path of ours; a backslash is left out, as some browsers read it as a slash.
    if value and value.startswith(f"{ADMIN_PATH}/") and "\\" not in value:
        return value
    return HOME_PATH


def redirect(path: str, **params: str) -> RedirectResponse:
    """303 See Other: after a POST the browser GETs the page, and reloading it repeats
    nothing."""
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def to_login(request: Request) -> RedirectResponse:
    """To the login page, and back to this page after; a form posted without a session is
    not replayed (its token belonged to the session that ended)."""
    if request.method != "GET":
        return redirect(LOGIN_PATH)
    wanted = request.url.path
    if request.url.query:
        wanted = f"{wanted}?{request.url.query}"
    return redirect(LOGIN_PATH, next=wanted if wanted != HOME_PATH else "")


async def read_form(request: Request) -> dict[str, str]:
    """The url-encoded body; the admin's forms send nothing else (no uploads)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise MalformedError(f"expected {FORM_TYPE}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise TooLargeError(f"form over {MAX_FORM_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            raise TooLargeError(f"form over {MAX_FORM_BYTES} bytes")
    try:
        # The admin's largest form has a handful of fields.
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20))
    except UnicodeDecodeError:
        raise MalformedError("the form is not UTF-8") from None
    except ValueError:
        raise MalformedError("too many form fields") from None


def from_our_pages(request: Request) -> bool:
    return same_origin(
        request.headers.get("origin"),
        request.headers.get("referer"),
        services(request).settings.domain,
    )


async def problem(request: Request, session: Session | None, status: int, message: str) -> Response:
    """An admin page saying what went wrong, with the navigation around it."""
    title = HTTPStatus(status).phrase
    context = {"title": title, "message": message, "status": status}
    return await render_page(request, session, "error.html", context, status=status)


async def refused(request: Request, session: Session | None) -> Response:
    message = (
        "This form did not come from this admin page, or it has expired. "
        "Go back, reload the page and try again."
    )
    return await problem(request, session, 403, message)


def page(handler: PageHandler) -> Endpoint:
    """A GET that needs a session; without one, the login page (and back here after)."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        session = await current_session(request)
        if session is None:
            return to_login(request)
        return await handler(request, session)

    return endpoint


def action(handler: ActionHandler) -> Endpoint:
    """A POST that changes something: it needs a session, must come from our own pages
    (Origin/Referer) and must carry the session's CSRF token. The origin is checked before
    the body is read, the token before anything is done."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        session = await current_session(request)
        if session is None:
            return to_login(request)
        if not from_our_pages(request):
            return await refused(request, session)
        form = await read_form(request)
        if not csrf_matches(session.csrf, form.get(CSRF_FIELD)):
            return await refused(request, session)
        return await handler(request, session, form)

    return endpoint
