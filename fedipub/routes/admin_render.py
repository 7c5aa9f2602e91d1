"""The admin pages' renderer: jinja2 over the package's `templates/admin/`, never a theme's.

A theme in DATA/templates restyles the public blog; it does not reach the admin, whose forms
carry the CSRF tokens and whose escaping must not depend on a copied template. The pages share
the public stylesheet (colours, light and dark, type) and add static/admin.css.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from fedipub.auth import Session
from fedipub.config import Settings
from fedipub.render import FAVICON, STATIC_PATH, STYLESHEET, template_dir
from fedipub.render_comments import anchor, comment_content, exact_time, iso_utc, web_url
from fedipub.routes.common import services
from fedipub.types import CommentState, FollowState
from fedipub.urls import Urls

ADMIN_STYLESHEET = "admin.css"

# What a redirect after a POST may announce: `?done=KEY`. Only these fixed texts are shown,
# so a crafted link cannot put words on the admin's screen.
NOTICES = {
    "approve": "Comment approved: it shows under the article.",
    "hide": "Comment hidden.",
    "delete": "Comment deleted.",
    "block-author": "Author blocked; their comments, reactions and follow were removed.",
    "block-domain": "Domain blocked; what its accounts left here was removed.",
    "replied": "Reply published under the article and sent to the commenter and followers.",
    "follow-approve": "Follow request approved: an Accept is on its way.",
    "follow-reject": "Follow request rejected: a Reject is on its way.",
    "blocked": "Block added; what it covers was removed.",
    "unblocked": "Block removed.",
    "created": "Article published; it is being delivered to the followers.",
    "updated": "Article updated; the change is being delivered to the followers.",
    "unchanged": "Nothing changed: the article was already published as it is.",
    "unpublished": "Article deleted: its address now answers 410 Gone.",
    "logged-out": "You are logged out.",
}


def _hostname(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class AdminRenderer:
    def __init__(self, settings: Settings, urls: Urls) -> None:
        self._env = Environment(
            loader=FileSystemLoader(template_dir()),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(
            exact_time=exact_time,
            iso_utc=iso_utc,
            web_url=web_url,
            content=comment_content,
            hostname=_hostname,
            anchor=anchor,
            path=_path,
        )
        self._env.globals.update(
            settings=settings,
            urls=urls,
            stylesheet_url=f"{STATIC_PATH}/{STYLESHEET}",
            admin_stylesheet_url=f"{STATIC_PATH}/{ADMIN_STYLESHEET}",
            favicon_url=f"{STATIC_PATH}/{FAVICON}",
        )

    def render(self, template: str, context: Mapping[str, object]) -> str:
        return self._env.get_template(f"admin/{template}").render(context)


def admin_renderer(request: Request) -> AdminRenderer:
    """One renderer per app (its templates compiled once), made on first use: the app's
    lifespan belongs to the public side and knows nothing of the admin."""
    state = request.app.state
    found: AdminRenderer | None = getattr(state, "admin_renderer", None)
    if found is None:
        svc = services(request)
        found = AdminRenderer(svc.settings, svc.urls)
        state.admin_renderer = found
    return found


def now_of(request: Request) -> datetime:
    """The services' clock, in whole seconds as the command line's `utcnow`: these times
    end up in published activities."""
    return datetime.fromtimestamp(services(request).clock(), UTC).replace(microsecond=0)


async def render_page(
    request: Request,
    session: Session | None,
    template: str,
    context: Mapping[str, object],
    *,
    status: int = 200,
    current: str = "",
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page with what every admin page shows: the navigation with its counts (when logged
    in), the CSRF token its forms need, and the notice a redirect announced."""
    common: dict[str, object] = {
        "current": current,
        "csrf": session.csrf if session else "",
        "logged_in": session is not None,
        "notice": NOTICES.get(request.query_params.get("done", "")),
        "pending_comments": 0,
        "pending_follows": 0,
    }
    if session is not None:
        store = services(request).store
        common["pending_comments"] = (await store.admin.comment_counts())[CommentState.PENDING]
        common["pending_follows"] = await store.followers.count(FollowState.PENDING)
    text = admin_renderer(request).render(template, {**common, **context})
    return HTMLResponse(text, status_code=status, headers=dict(headers or {}))
