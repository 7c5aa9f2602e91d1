"""Mentions in articles: `@user@host` in the Markdown, resolved through WebFinger, become
links, Mention tags and recipients. Pure: resolving is the caller's (network) business."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

from fedipub.types import MentionTarget

# A handle as Mastodon writes it: not inside a word, a URL or an e-mail address.
_HANDLE = re.compile(
    r"(?<![\w@/.:])@([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d{1,5})?)"
)
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
# In HTML, text between tags, outside <a> and <code>/<pre> elements.
_HTML_TOKENS = re.compile(r"(<[^>]+>)")


def find_mentions(markdown: str) -> tuple[str, ...]:
    """The handles mentioned in `markdown`, outside code, as `user@host`, each once."""
    text = _CODE.sub(" ", markdown)
    found = (f"{user}@{host.lower()}" for user, host in _HANDLE.findall(text))
    return tuple(dict.fromkeys(found))


def link_mentions(body_html: str, targets: Mapping[str, MentionTarget]) -> str:
    """`@user@host` in the rendered HTML's text becomes Mastodon's h-card mention link."""
    if not targets:
        return body_html
    parts = _HTML_TOKENS.split(body_html)
    depth = 0  # inside <a>, <code> or <pre>: left alone
    for index, part in enumerate(parts):
        if part.startswith("<"):
            name = part[1:].split(None, 1)[0].rstrip(">/").lower() if len(part) > 2 else ""
            if name in ("a", "code", "pre"):
                depth += 1
            elif name in ("/a", "/code", "/pre"):
                depth = max(0, depth - 1)
            continue
        if depth == 0:
            parts[index] = _HANDLE.sub(lambda m: _link(m, targets), part)
    return "".join(parts)


def _link(match: re.Match[str], targets: Mapping[str, MentionTarget]) -> str:
    target = targets.get(f"{match.group(1)}@{match.group(2).lower()}")
    if target is None:
        return match.group(0)
    return (
        f'<span class="h-card" translate="no"><a href="{html.escape(target.profile_url)}" '
        f'class="u-url mention">@<span>{html.escape(match.group(1))}</span></a></span>'
    )


def mention_tags(targets: Iterable[MentionTarget]) -> list[dict[str, str]]:
    return [{"type": "Mention", "href": t.actor_id, "name": f"@{t.acct}"} for t in targets]
