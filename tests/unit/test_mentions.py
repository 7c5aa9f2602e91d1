from __future__ import annotations

from fedipub.mentions import find_mentions, link_mentions, mention_tags
from fedipub.types import MentionTarget

ALICE = MentionTarget(
    acct="alice@social.example",
    actor_id="https://social.example/users/alice",
    profile_url="https://social.example/@alice",
    inbox="https://social.example/inbox",
)


def test_handles_are_found_once_outside_code_and_addresses() -> None:
    text = (
        "Thanks @alice@social.example and @Bob@Other.Example:8443!\n"
        "Not `@code@in.line` nor\n```\n@block@code.example\n```\n"
        "nor mail@example.com nor https://x.example/@user@host.example, "
        "again @alice@social.example."
    )
    assert find_mentions(text) == ("alice@social.example", "Bob@other.example:8443")


def test_mentions_become_h_card_links_except_in_code_and_links() -> None:
    html = (
        "<p>Hi @alice@social.example, <code>@alice@social.example</code> "
        '<a href="https://x.example">@alice@social.example</a> @unknown@else.example</p>'
    )
    out = link_mentions(html, {ALICE.acct: ALICE})
    assert out.count('class="u-url mention"') == 1
    assert (
        '<a href="https://social.example/@alice" class="u-url mention">@<span>alice</span></a>'
        in out
    )
    assert "<code>@alice@social.example</code>" in out
    assert "@unknown@else.example" in out


def test_mention_tags() -> None:
    assert mention_tags([ALICE]) == [
        {"type": "Mention", "href": ALICE.actor_id, "name": "@alice@social.example"}
    ]
