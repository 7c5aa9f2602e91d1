"""Where a reader is sent to reply or follow from their own instance; and never elsewhere."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from fedipub.errors import MalformedError
from fedipub.remote_interaction import (
    Account,
    Intent,
    expand,
    find_template,
    nodeinfo_url,
    parse_account,
    redirect_url,
    software_name,
    webfinger_url,
)

ARTICLE = "https://blog.example/posts/hello?x=1&y=2"
ENCODED = quote(ARTICLE, safe="")

# The shape of mastodon.social's answer for a user, trimmed: OStatus and FEP-3b86 both.
MASTODON_JRD: dict[str, Any] = {
    "subject": "acct:me@mastodon.social",
    "links": [
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
         "href": "https://mastodon.social/@me"},
        {"rel": "self", "type": "application/activity+json",
         "href": "https://mastodon.social/users/me"},
        {"rel": "http://ostatus.org/schema/1.0/subscribe",
         "template": "https://mastodon.social/authorize_interaction?uri={uri}"},
        {"rel": "https://w3id.org/fep/3b86/Create",
         "template": "https://mastodon.social/share?text={content}"},
        {"rel": "https://w3id.org/fep/3b86/Object",
         "template": "https://mastodon.social/authorize_interaction?uri={object}"},
    ],
}  # fmt: skip
# Pleroma's and Misskey's WebFinger: only the OStatus template.
PLEROMA_JRD = {
    "links": [
        {"rel": "http://ostatus.org/schema/1.0/subscribe",
         "template": "https://pleroma.example/ostatus_subscribe?acct={uri}"}
    ]
}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mastodon.social", Account("mastodon.social")),
        ("  Mastodon.Social ", Account("mastodon.social")),
        ("https://mastodon.social/", Account("mastodon.social")),
        ("http://mastodon.social", Account("mastodon.social")),
        ("@me@mastodon.social", Account("mastodon.social", "me")),
        ("Me_2@Mastodon.Social", Account("mastodon.social", "Me_2")),
        ("@first.last@pleroma.example", Account("pleroma.example", "first.last")),
        ("münchen.social", Account("xn--mnchen-3ya.social")),
        ("localhost:3000", Account("localhost:3000")),
        ("@me@127.0.0.1:8080", Account("127.0.0.1:8080", "me")),
    ],
)
def test_instances_and_handles_are_understood(value: str, expected: Account) -> None:
    assert parse_account(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "javascript:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "https://mastodon.social/@me",
        "https://user:pw@mastodon.social",
        "mastodon.social/path",
        "mastodon.social?x",
        "mastodon.social#x",
        "me @mastodon.social",
        "mastodon\n.social",
        "mastodon .social",
        "mastodon\t.social",
        "@@mastodon.social",
        "@me@",
        "me@evil.example@mastodon.social",
        "evil.example\\@mastodon.social",
        "-bad.example",
        "bad-.example",
        "a..b",
        "localhost",
        "mastodon.social:0",
        "mastodon.social:65536",
        "[::1]",
        "x" * 64 + ".example",
        "e" * 321,
        "mastodon.social\u202e",
    ],
)
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(MalformedError):
        parse_account(value)


def test_webfinger_is_asked_about_the_account() -> None:
    account = Account("mastodon.social", "me")
    assert webfinger_url(account) == (
        "https://mastodon.social/.well-known/webfinger?resource=acct%3Ame%40mastodon.social"
    )


def test_activity_intents_come_before_the_ostatus_template() -> None:
    assert find_template(MASTODON_JRD, Intent.INTERACT) == (
        "https://mastodon.social/authorize_interaction?uri={object}"
    )
    intent = {
        "rel": "https://w3id.org/fep/3b86/Follow",
        "href": "https://mastodon.social/follow?o={object}",
    }
    follow = {"links": [*MASTODON_JRD["links"], intent]}
    assert find_template(follow, Intent.FOLLOW) == "https://mastodon.social/follow?o={object}"
    assert find_template(follow, Intent.INTERACT) == (
        "https://mastodon.social/authorize_interaction?uri={object}"
    )
    assert find_template(PLEROMA_JRD, Intent.FOLLOW) == (
        "https://pleroma.example/ostatus_subscribe?acct={uri}"
    )
    assert find_template({"links": "nonsense"}, Intent.FOLLOW) is None
    assert find_template({"links": [{"rel": 1}, "x", {"rel": "self"}]}, Intent.FOLLOW) is None


def test_the_uri_is_percent_encoded_and_unknown_placeholders_emptied() -> None:
    template = "https://a.example/i?object={object}&back={on-success}"
    assert expand(template, ARTICLE, ["a.example"]) == f"https://a.example/i?object={ENCODED}&back="


@pytest.mark.parametrize(
    "template",
    [
        "http://a.example/i?uri={uri}",  # not https
        "https://b.example/i?uri={uri}",  # another host
        "https://a.example.evil.example/i?uri={uri}",
        "https://a.example@evil.example/i?uri={uri}",
        "https://evil.example\\@a.example/i?uri={uri}",
        "https://a.example\\@evil.example/i?uri={uri}",
        "https://a.example/i?uri={uri}#x",
        "https://a.example/i uri={uri}",
        "javascript:alert(1)//https://a.example/?{uri}",
        "https://a.example/nothing-to-fill",
        "//a.example/i?uri={uri}",
    ],
)
def test_a_template_pointing_anywhere_else_is_refused(template: str) -> None:
    assert expand(template, ARTICLE, ["a.example"]) is None


def test_a_handle_follows_its_jrd() -> None:
    account = Account("mastodon.social", "me")
    assert redirect_url(account, ARTICLE, Intent.INTERACT, jrd=MASTODON_JRD) == (
        f"https://mastodon.social/authorize_interaction?uri={ENCODED}"
    )


def test_the_host_webfinger_was_redirected_to_may_hold_the_page() -> None:
    # Mastodon's LOCAL_DOMAIN/WEB_DOMAIN split: @me@example.com lives at social.example.com.
    template = "https://social.example.com/authorize_interaction?uri={uri}"
    jrd = {"links": [{"rel": "http://ostatus.org/schema/1.0/subscribe", "template": template}]}
    account = Account("example.com", "me")
    found = redirect_url(
        account,
        ARTICLE,
        Intent.INTERACT,
        jrd=jrd,
        jrd_url="https://social.example.com/.well-known/webfinger?resource=acct:me@example.com",
    )
    assert found == f"https://social.example.com/authorize_interaction?uri={ENCODED}"
    assert redirect_url(account, ARTICLE, Intent.INTERACT, jrd=jrd) == (
        f"https://example.com/authorize_interaction?uri={ENCODED}"
    )


@pytest.mark.parametrize(
    ("software", "expected"),
    [
        (None, f"https://x.example/authorize_interaction?uri={ENCODED}"),
        ("mastodon", f"https://x.example/authorize_interaction?uri={ENCODED}"),
        ("unknown-software", f"https://x.example/authorize_interaction?uri={ENCODED}"),
        ("akkoma", f"https://x.example/ostatus_subscribe?acct={ENCODED}"),
        ("pleroma", f"https://x.example/ostatus_subscribe?acct={ENCODED}"),
        ("misskey", f"https://x.example/authorize-follow?acct={ENCODED}"),
        ("sharkey", f"https://x.example/authorize-follow?acct={ENCODED}"),
        ("gotosocial", None),
    ],
)
def test_a_bare_host_gets_its_softwares_page(software: str | None, expected: str | None) -> None:
    found = redirect_url(Account("x.example"), ARTICLE, Intent.INTERACT, software=software)
    assert found == expected


def test_a_useless_jrd_falls_back_to_mastodons_page() -> None:
    jrd = {"links": [{"rel": "http://ostatus.org/schema/1.0/subscribe",
                      "template": "https://evil.example/?uri={uri}"}]}  # fmt: skip
    found = redirect_url(Account("x.example", "me"), ARTICLE, Intent.FOLLOW, jrd=jrd)
    assert found == f"https://x.example/authorize_interaction?uri={ENCODED}"


def test_nodeinfo_names_the_software() -> None:
    links = {
        "links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/1.0", "href": "https://x/1.0"},
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": "https://x/2.1"},
        ]
    }
    assert nodeinfo_url(links) == "https://x/2.1"
    assert nodeinfo_url({"links": [{"rel": "other", "href": "https://x"}]}) is None
    assert software_name({"software": {"name": "Akkoma", "version": "3"}}) == "akkoma"
    assert software_name({"software": "akkoma"}) is None
