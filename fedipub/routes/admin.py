"""The admin web at /admin: logging in and out, and the routes of every admin page.

Everything is mounted under /admin behind `ADMIN_HEADERS` (no-store, no framing).
Pages need a session (`admin_guard.page`); POSTs also need the session's CSRF token and a
same-site Origin (`admin_guard.action`). The login form is the one POST without a session:
it is rate limited per client instead (`auth.AdminAuth.login`).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from fedipub.auth import LoginOutcome, Session, client_key
from fedipub.middleware import HeadersMiddleware
from fedipub.routes import admin_activity, admin_moderation, admin_writing
from fedipub.routes.admin_guard import (
    ADMIN_HEADERS,
    ADMIN_PATH,
    HOME_PATH,
    LOGIN_PATH,
    SESSION_COOKIE,
    Form,
    action,
    admin_auth,
    current_session,
    from_our_pages,
    problem,
    read_form,
    redirect,
    refused,
    safe_next,
)
from fedipub.routes.admin_render import now_of, render_page
from fedipub.routes.common import services

_LOGIN_MESSAGES = {
    LoginOutcome.WRONG: (401, "That is not the password."),
    LoginOutcome.UNSET: (401, "No admin password is set yet."),
}


async def _login_page(
    request: Request,
    *,
    next_path: str,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    context = {
        "has_password": await admin_auth(request).has_password(),
        "next": next_path,
        "error": error,
    }
    return await render_page(request, None, "login.html", context, status=status, headers=headers)


async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if await current_session(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    return await _login_page(request, next_path=next_path)


async def login(request: Request) -> Response:
    if not from_our_pages(request):
        return await refused(request, None)
    form = await read_form(request)
    next_path = safe_next(form.get("next"))
    address = request.client.host if request.client else None
    result = await admin_auth(request).login(
        form.get("password", ""), client_key(address), now_of(request)
    )
    if result.outcome is LoginOutcome.LIMITED:
        minutes = -(-result.retry_after // 60)
        error = f"Too many wrong passwords from your address: try again in {minutes} min."
        return await _login_page(
            request,
            next_path=next_path,
            error=error,
            status=429,
            headers={"Retry-After": str(result.retry_after)},
        )
    if result.session is None:
        status, error = _LOGIN_MESSAGES[result.outcome]
        return await _login_page(request, next_path=next_path, error=error, status=status)
    response = RedirectResponse(next_path, status_code=303)
    settings = services(request).settings
    response.set_cookie(
        SESSION_COOKIE,
        result.session.token,
        max_age=settings.admin_session_hours * 3600,
        path=ADMIN_PATH,
        secure=settings.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@action
async def logout(request: Request, session: Session, form: Form) -> Response:
    await admin_auth(request).logout(session)
    response = redirect(LOGIN_PATH, done="logged-out")
    response.delete_cookie(
        SESSION_COOKIE,
        path=ADMIN_PATH,
        secure=services(request).settings.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


async def home(request: Request) -> Response:
    return RedirectResponse(HOME_PATH, status_code=303)


async def unknown(request: Request) -> Response:
    """Any other path or method under /admin. Answered here rather than by the router, whose
    404 and 405 are raised past the mount's middleware and would lack its headers."""
    return await problem(request, await current_session(request), 404, "No such admin page.")


routes = [
    Mount(
        ADMIN_PATH,
        routes=[
            Route("/", home),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/comments", admin_moderation.comments),
            Route("/comments/moderate", admin_moderation.moderate_comment, methods=["POST"]),
            Route("/comments/reply", admin_moderation.reply_to_comment, methods=["POST"]),
            Route("/followers", admin_moderation.followers),
            Route("/followers/answer", admin_moderation.answer_follow, methods=["POST"]),
            Route("/blocks", admin_moderation.blocks),
            Route("/blocks/add", admin_moderation.add_block, methods=["POST"]),
            Route("/blocks/remove", admin_moderation.remove_block, methods=["POST"]),
            Route("/deliveries", admin_activity.deliveries),
            Route("/inbox-log", admin_activity.inbox_log),
            Route("/write", admin_writing.write, methods=["GET"]),
            Route("/write", admin_writing.write_action, methods=["POST"]),
            Route("/articles/delete", admin_writing.delete_article, methods=["POST"]),
            Route("/{path:path}", unknown, methods=["GET", "HEAD", "POST", "PUT", "DELETE"]),
        ],
        middleware=[Middleware(HeadersMiddleware, headers=ADMIN_HEADERS, override=True)],
    )
]
