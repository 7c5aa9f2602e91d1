"""One handler per activity type: the inbox's dispatch table."""

from __future__ import annotations

from fedipub.handlers.actors import handle_delete, handle_flag, handle_move, handle_update
from fedipub.handlers.comments import handle_create
from fedipub.handlers.follows import handle_follow
from fedipub.handlers.reactions import handle_announce, handle_emoji_react, handle_like
from fedipub.handlers.undo import handle_undo
from fedipub.inbox import Handler

HANDLERS: dict[str, Handler] = {
    "Follow": handle_follow,
    "Undo": handle_undo,
    "Create": handle_create,
    "Update": handle_update,
    "Delete": handle_delete,
    "Like": handle_like,
    "Announce": handle_announce,
    "EmojiReact": handle_emoji_react,
    "Move": handle_move,
    "Flag": handle_flag,
}
