"""fedipub.parse against what real peers send (tests/fixtures/activities, see its PROVENANCE.md)
and against what a hostile peer could send instead."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from fedipub.errors import MalformedError, TooLargeError
from fedipub.keydocs import is_actor
from fedipub.parse import (
    MAX_BODY_BYTES,
    Activity,
    RemoteActor,
    RemoteNote,
    Visibility,
    clean_text,
    first_id,
    ids_of,
    origin_of,
    parse_activity,
    parse_actor,
    parse_datetime,
    parse_deleted_object_id,
    parse_json_body,
    parse_note,
    same_origin,
    visibility_of,
)
from fedipub.parse.note import NOTE_TYPES
from fedipub.vocab import AS_PUBLIC

FIXTURES = Path(__file__).parent.parent / "fixtures" / "activities"
PARSERS: dict[str, Callable[[dict[str, Any]], Activity | RemoteNote | RemoteActor]] = {
    "activity": parse_activity,
    "note": parse_note,
    "actor": parse_actor,
}


@cache
def _read(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_read(name))
    return document


def _parts(document: dict[str, Any], where: str = "document") -> Iterator[tuple[str, str]]:
    """A payload and the objects embedded in it, each with the parser it calls for."""
    kind = document.get("type")
    if is_actor(document):
        yield where, "actor"
    elif kind in NOTE_TYPES or kind == "ChatMessage":
        yield where, "note"
    elif "actor" in document:
        yield where, "activity"
    if isinstance(document.get("object"), dict):
        yield from _parts(
            document["object"], "object" if where == "document" else f"{where}.object"
        )


def _part(document: dict[str, Any], where: str) -> dict[str, Any]:
    for _ in range(0 if where == "document" else where.count(".") + 1):
        document = document["object"]
    return document


CASES = [
    (path.relative_to(FIXTURES).as_posix(), where, parser)
    for path in sorted(FIXTURES.rglob("*.json"))
    for where, parser in _parts(load(path.relative_to(FIXTURES).as_posix()))
]
# What is right to refuse among the captured payloads, and why.
REFUSED = {
    # No `published`: Kroeg's Note, the Note Pleroma abridged inside an Announce, and a
    # Mastodon poll vote (a Note with only a `name`) cannot be placed in a thread.
    ("kroeg/pleroma-fixtures/kroeg-post-activity.json", "object"): "published is missing",
    ("mastodon/pleroma-fixtures/mastodon-announce-private.json", "object"): "published is missing",
    ("mastodon/pleroma-fixtures/mastodon-vote.json", "object"): "published is missing",
    # Private chat lines are never replies to an article.
    ("pleroma/lemmy-assets/objects/chat_message.json", "document"): "ChatMessage is not a post",
    (
        "lemmy/lemmy-assets/activities/create_or_update/create_private_message_0.19.json",
        "object",
    ): "ChatMessage is not a post",
    # Pleroma's templates, with "{{DOMAIN}}" and "{{activity_id}}" where URLs belong.
    ("mastodon/pleroma-fixtures/application_actor.json", "document"): "actor id is not",
    ("pleroma/pleroma-fixtures/relay-accept-follow.json", "document"): "object id is not",
    ("pleroma/pleroma-fixtures/relay-accept-follow.json", "object"): "activity id is not",
    # A damaged publicKeyPem (a base64 line is one character short).
    ("mastodon/pleroma-fixtures/mastodon-update.json", "object"): "not a PEM public key",
}


def test_every_fixture_is_exercised() -> None:
    assert {name for name, _, _ in CASES} == {
        path.relative_to(FIXTURES).as_posix() for path in FIXTURES.rglob("*.json")
    }
    assert set(REFUSED) <= {(name, where) for name, where, _ in CASES}


@pytest.mark.parametrize(("name", "where", "parser"), CASES, ids=[f"{n}:{w}" for n, w, _ in CASES])
def test_every_captured_payload_parses_or_is_rightly_refused(
    name: str, where: str, parser: str
) -> None:
    document = _part(load(name), where)
    reason = REFUSED.get((name, where))
    if reason is None:
        assert PARSERS[parser](document).id == document["id"]
    else:
        with pytest.raises(MalformedError, match=reason):
            PARSERS[parser](document)


# ---- Mastodon ----


def test_mastodon_reply_with_mention_and_content_map() -> None:
    document = load("mastodon/lemmy-assets/activities/create_note.json")
    activity = parse_activity(document)
    assert (activity.type, activity.actor) == ("Create", "https://mastodon.madrid/users/felix")
    assert activity.object_id == "https://mastodon.madrid/users/felix/statuses/107224289116410645"
    assert activity.object == document["object"]
    assert activity.published == datetime(2021, 11, 5, 11, 46, 50, tzinfo=UTC)
    note = parse_note(document["object"])
    assert note.attributed_to == activity.actor
    assert note.in_reply_to == "https://mamot.fr/users/retiolus/statuses/107224244380204526"
    assert note.language == "en"
    # Public in cc only, followers in to: Mastodon's "unlisted".
    assert note.visibility is Visibility.UNLISTED
    assert [(m.href, m.name) for m in note.mentions] == [
        ("https://mamot.fr/users/retiolus", "@retiolus@mamot.fr")
    ]
    assert note.content_html.startswith(
        '<p><span><a href="https://mamot.fr/@retiolus" rel="nofollow noopener ugc">@<span>'
    )
    assert "class=" not in note.content_html
    assert note.url == "https://mastodon.madrid/@felix/107224289116410645"
    assert note.replies == f"{note.id}/replies"
    assert note.context is None  # Mastodon's conversation is a tag: URI, not a thread URL


def test_mastodon_attachment_keeps_alt_text_size_and_blurhash() -> None:
    note = parse_note(load("mastodon/lemmy-assets/objects/note_2.json"))
    assert note.visibility is Visibility.PUBLIC
    [image] = note.attachments
    assert image.kind == "image" and image.media_type == "image/jpeg"
    assert image.name.startswith("The KDE dragons Katie and Konqi")
    assert (image.width, image.height) == (1500, 1095)
    assert image.blurhash == "USQv:h-W-qI-^,W;RPs=^-R%NZxbo#sDobSc"
    undescribed = parse_note(
        load("mastodon/pleroma-fixtures/mastodon-create-with-attachment.json")["object"]
    )
    assert [(a.kind, a.name) for a in undescribed.attachments] == [("image", "")]


def test_mastodon_content_warning_and_hashtag() -> None:
    note = parse_note(
        load("mastodon/pleroma-fixtures/mastodon-post-activity-hashtag.json")["object"]
    )
    assert (note.summary, note.sensitive, note.hashtags) == ("cw", True, ("moo",))
    nsfw = parse_note(load("mastodon/pleroma-fixtures/mastodon-post-activity-nsfw.json")["object"])
    assert (nsfw.summary, nsfw.sensitive, nsfw.hashtags) == ("cw", False, ("NSFW",))


def test_content_map_without_content_gives_text_and_language() -> None:
    document = load("mastodon/bonfire-fixtures/mastodon-post-activity-contentmaps.json")
    note = parse_note(document["object"])
    assert "testing" in note.content_html and "probando" not in note.content_html
    assert note.language == "en"
    assert parse_note(load("mastodon/bonfire-fixtures/note_with_language.json")).language == "ja"


def test_custom_emojis_in_a_content_warning() -> None:
    note = parse_note(load("mastodon/bonfire-fixtures/emoji-in-summary.json"))
    assert note.summary == ":joker_smile:"
    assert [(e.shortcode, e.url) for e in note.emojis] == [
        (":joker_disapprove:", "https://patch.local/emoji/custom/joker_disapprove.png"),
        (":joker_smile:", "https://patch.local/emoji/custom/joker_smile.png"),
    ]
    assert note.sensitive is False  # "sensitive": null
    assert note.context == "https://patch.local/contexts/2c3ce4b4-18b1-4b1a-8965-3932027b5326"


def test_mastodon_question_and_private_reply() -> None:
    question = parse_note(
        load("mastodon/pleroma-fixtures/mastodon-question-activity.json")["object"]
    )
    assert question.type == "Question"
    assert question.content_html == "<p>Why is Tenshi eating a corndog so cute?</p>"
    direct = parse_note(load("mastodon/lemmy-assets/activities/private_message.json"))
    assert direct.visibility is Visibility.DIRECT and direct.language == "es"


def test_mastodon_actors() -> None:
    actor = parse_actor(
        load("mastodon/fedify-fixtures/activitypub.academy-actor-brauca_darradiul.json")
    )
    assert actor.handle == "@brauca_darradiul@activitypub.academy"
    assert actor.display_name == "Brauca Darradiul"
    assert actor.shared_inbox == "https://activitypub.academy/inbox"
    assert actor.profile_url == "https://activitypub.academy/@brauca_darradiul"
    assert [key.key_id for key in actor.keys] == [f"{actor.id}#main-key"]
    spec = parse_actor(load("mastodon/mastodon-spec-fixtures/activitypub-actor.json"))
    assert (spec.display_name, spec.summary_html) == ("foo", "<p>test</p>")  # "name": ""
    assert spec.avatar_url == "https://quitter.no/avatar/7477-300-20160211190340.png"
    # The handle's user is preferredUsername and its host the id's, whatever the id's path says.
    karen = parse_actor(load("mastodon/bonfire-fixtures/mastodon-actor.json"))
    assert (karen.handle, karen.display_name) == ("@karen@mastodon.local", "karen")


# ---- Activities ----


def test_interactions_name_their_object() -> None:
    like = parse_activity(load("mastodon/pleroma-fixtures/mastodon-like.json"))
    assert (
        like.object_id
        == "http://localtesting.pleroma.lol/objects/eb92579d-3417-42a8-8652-2492c2d4f454"
    )
    react = parse_activity(load("pleroma/pleroma-fixtures/emoji-reaction.json"))
    assert (react.type, react.object) == ("EmojiReact", None)
    announce = parse_activity(load("mastodon/pleroma-fixtures/mastodon-announce.json"))
    assert announce.to == (AS_PUBLIC,) and announce.object_id is not None
    undo = parse_activity(load("mastodon/pleroma-fixtures/mastodon-undo-announce.json"))
    assert undo.object is not None
    # "to": "http://www.w3.org/ns/activitystreams#Public" (http, a single string) is Public too.
    assert parse_activity(undo.object).to == (AS_PUBLIC,)
    follow = parse_activity(load("hubzilla/pleroma-fixtures/hubzilla-follow-activity.json"))
    assert follow.actor == "https://hubzilla.example.org/channel/kaniini"  # an embedded actor


def test_deletes_name_what_they_delete() -> None:
    tombstone = parse_activity(load("mastodon/pleroma-fixtures/mastodon-delete.json"))
    assert parse_deleted_object_id(tombstone) == (
        "http://mastodon.example.org/users/gargron/statuses/99620895606148759"
    )
    account = parse_activity(load("mastodon/pleroma-fixtures/mastodon-delete-user.json"))
    assert parse_deleted_object_id(account) == account.actor
    bare = parse_activity(load("lotide/lemmy-assets/activities/delete_note.json"))
    assert parse_deleted_object_id(bare) == "https://narwhal.city/posts/12"
    with pytest.raises(MalformedError, match="a Like deletes nothing"):
        parse_deleted_object_id(
            parse_activity(load("mastodon/pleroma-fixtures/mastodon-like.json"))
        )


def test_move_and_flag() -> None:
    move = parse_activity(load("gotosocial/docs-examples/move.json"))
    assert move.target == "https://another-server.com/users/my_new_account_hurray"
    assert move.to == ("https://example.org/users/1happyturtle/followers",)  # a single string
    flag = parse_activity(load("mastodon/lemmy-assets/activities/flag.json"))
    assert flag.object_ids == (
        "https://example.com/users/1",
        "https://example.com/posts/380590",
        "https://example.com/posts/380591",
    )
    assert flag.to == ("https://example.com/users/1",)


def test_update_of_a_person_and_of_a_note() -> None:
    update = parse_activity(load("friendica/lemmy-assets/activities/update_note.json"))
    assert update.object is not None
    note = parse_note(update.object)
    assert note.updated == datetime(2022, 3, 24, 21, 37, 34, tzinfo=UTC)
    community = parse_activity(
        load("lemmy/lemmy-assets/activities/community/update_community.json")
    )
    assert community.object is not None
    assert parse_actor(community.object).display_name == "The Updated Community"


# ---- Pleroma, Misskey, and the rest of the fediverse ----


def test_pleroma_notes() -> None:
    reply = parse_note(load("pleroma/lemmy-assets/objects/note.json"))
    assert reply.visibility is Visibility.UNLISTED  # to: an actor and followers; cc: Public
    assert reply.summary is None  # Pleroma sends "" for no content warning
    assert reply.content_html == "Have what?"
    assert (
        reply.context == "https://queer.hacktivis.me/contexts/34cba3d2-2f35-4169-aeff-56af9bfeb753"
    )
    created = parse_note(load("pleroma/lemmy-assets/activities/create_note.json")["object"])
    assert (created.visibility, created.in_reply_to) == (
        Visibility.PUBLIC,
        "https://enterprise.lemmy.ml/post/55143",
    )


def test_pleroma_actor_with_emoji_in_its_name() -> None:
    actor = parse_actor(load("pleroma/lemmy-assets/objects/person.json"))
    assert actor.display_name == "Haelwenn /элвэн/ :bzh:"
    assert [e.shortcode for e in actor.emojis] == [":anarchy:", ":bzh:", ":gentoo:"]
    blank = parse_actor(load("pleroma/pleroma-fixtures/info.pleroma.site-actor.json"))
    assert (blank.display_name, blank.shared_inbox, blank.summary_html) == (
        "admin",
        None,
        "<p></p>",
    )


def test_misskey_content_is_authoritative() -> None:
    quote = parse_note(load("misskey/bonfire-fixtures/quote.json"))
    assert "RE: </span>" in quote.content_html  # not _misskey_content's "i quompt u" alone
    mfm = parse_note(load("misskey/bonfire-fixtures/mfm_x_format.json"))
    assert mfm.content_html == "this does not get replaced"  # not `source`
    poll = parse_note(load("misskey/pleroma-fixtures/misskey_poll_no_end_date.json"))
    assert poll.type == "Question" and poll.mentions[0].name == "@march@marchgenso.me"
    actor = parse_actor(load("misskey/bonfire-fixtures/mametsuko@mk.absturztau.be.json"))
    assert (actor.handle, actor.manually_approves_followers) == ("@mametsuko@mk.local", True)


def test_gotosocial_actor() -> None:
    actor = parse_actor(load("gotosocial/docs-examples/person-with-propertyvalue-fields.json"))
    assert (actor.handle, actor.display_name) == (
        "@1happyturtle@example.org",
        "happy little turtle :3",
    )
    assert actor.summary_html == "<p>i post about things that concern me</p>"


def test_lemmy_comment_and_link_post() -> None:
    comment = parse_note(load("lemmy/lemmy-assets/objects/comment.json"))
    assert comment.language == "fr"  # Lemmy's {"identifier": "fr"} instead of a contentMap
    assert comment.in_reply_to == "https://enterprise.lemmy.ml/post/55143"
    assert comment.updated == datetime(2021, 3, 1, 13, 43, 3, 955787, tzinfo=UTC)
    page = parse_note(load("lemmy/lemmy-assets/objects/page_image_and_link.json"))
    assert page.name == "Post with image and link"
    assert [(a.kind, a.url) for a in page.attachments] == [
        ("image", "https://enterprise.lemmy.ml/pictrs/image/eOtYb9iEiB.png"),
        ("link", "https://example.com/some-article"),
    ]


def test_friendica_content_wins_over_its_different_content_map() -> None:
    note = parse_note(load("friendica/lemmy-assets/objects/note_1.json"))
    assert "<bdi>" not in note.content_html and note.content_html.endswith("</span> test")
    assert note.language == "de"
    assert note.context == "https://lemmy.schuerz.at/post/25360#context"


def test_peertube_video_and_markdown_comment() -> None:
    video = parse_note(load("peertube/lemmy-assets/objects/video.json"))
    # attributedTo is [Person, Group]; url a list of Links, the text/html one being the page.
    assert video.attributed_to == "https://tilvids.com/accounts/thelinuxexperiment"
    assert video.url == "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1"
    assert video.name is not None and video.name.startswith("Mesa, Wayland & X.org in trouble")
    assert video.content_html.startswith("<p>Head to https://squarespace.com/")
    comment = parse_note(load("peertube/lemmy-assets/objects/note.json"))
    assert comment.content_html == "<p>@af2@bae.st idk</p>"  # Markdown, shown as text
    channel = parse_actor(load("peertube/lemmy-assets/objects/group.json"))
    assert channel.avatar_url is not None and "13b0214b" in channel.avatar_url  # the 120px one


def test_other_servers() -> None:
    smithereen = parse_note(load("smithereen/lemmy-assets/objects/note.json"))
    assert [(m.href, m.name) for m in smithereen.mentions] == [
        ("https://ds9.lemmy.ml/u/nutomic", "")
    ]
    wordpress = parse_activity(load("wordpress/lemmy-assets/activities/announce.json"))
    assert wordpress.object is not None and isinstance(wordpress.object["object"], dict)
    article = parse_note(wordpress.object["object"])
    assert (article.type, article.name) == ("Article", "Lemmy (Part 4)")
    lotide = parse_note(load("lotide/lemmy-assets/objects/page.json"))
    assert lotide.content_html == "" and lotide.url == lotide.id  # its url is the linked video
    kroeg = parse_activity(load("kroeg/pleroma-fixtures/kroeg-post-activity.json"))
    assert (kroeg.actor, kroeg.to, kroeg.cc) == (
        "https://puckipedia.com/",
        (AS_PUBLIC,),
        ("https://puckipedia.com/followers",),
    )


# ---- Hostile input ----


def _hostile_note(**fields: Any) -> dict[str, Any]:
    return load("mastodon/lemmy-assets/objects/note_2.json") | fields


def _hostile_actor(**fields: Any) -> dict[str, Any]:
    return load("mastodon/lemmy-assets/objects/person.json") | fields


def test_hostile_html_does_not_survive() -> None:
    content = (
        '<p onclick="x()" style="position:fixed">hi<script>alert(1)</script>'
        '<img src="https://evil.example/x.png" onerror="alert(2)">'
        '<a href="javascript:alert(3)">j</a><a href="https://ok.example/">ok</a></p>'
        '<svg onload="alert(4)"><a href="https://evil.example/">svg</a></svg>'
        '<iframe src="https://evil.example/"></iframe><style>*{display:none}</style>'
    )
    html = parse_note(_hostile_note(content=content)).content_html
    for banned in ("script", "alert", "<img", "onerror", "onclick", "style", "javascript:", "svg"):
        assert banned not in html
    assert '<a href="https://ok.example/" rel="nofollow noopener ugc">ok</a>' in html


def test_display_names_cannot_spoof() -> None:
    assert clean_text("Admin\u202egnp.exe", 100) == "Admingnp.exe"
    assert clean_text("a\u200bd\u2060m\ufeffi\u200dn\u2066\u061c", 100) == "admin"
    assert clean_text("<b>Bold</b>\n\t<script>x</script>Tom &amp; Jerry &amp;lt;", 100) == (
        "Bold Tom & Jerry &lt;"
    )
    assert clean_text("coder 👩\u200d💻 \u3164", 100) == "coder 👩\u200d💻"  # emoji ZWJ kept
    assert clean_text("x" * 500, 100) == "x" * 100
    actor = parse_actor(_hostile_actor(name="<i>\u202eAdmin</i>\u200b"))
    assert actor.display_name == "Admin"


def test_hostile_urls_are_dropped() -> None:
    emoji = {"type": "Emoji", "name": ":x:", "icon": {"url": "javascript:alert(1)"}}
    bad_name = {"type": "Emoji", "name": ':a" onload="x:', "icon": {"url": "https://a.example/"}}
    media = [
        {"type": "Document", "url": "data:image/png;base64,AAAA"},
        {"type": "Document", "url": "/relative.png"},
        {"type": "Document", "url": "https://cdn.example/ok.png", "mediaType": "image/png"},
    ]
    note = parse_note(
        _hostile_note(tag=[emoji, bad_name], attachment=media, url="https://evil.example/")
    )
    assert note.emojis == ()
    assert [a.url for a in note.attachments] == ["https://cdn.example/ok.png"]
    assert note.url == note.id  # a "view original" link to another host is not believed
    actor = parse_actor(
        _hostile_actor(icon={"url": "javascript:alert(1)"}, endpoints={"sharedInbox": "ftp://x"})
    )
    assert (actor.avatar_url, actor.shared_inbox) == (None, None)


def test_inboxes_must_be_on_the_actors_origin() -> None:
    with pytest.raises(MalformedError, match="not on the origin"):
        parse_actor(_hostile_actor(inbox="https://victim.example/inbox"))
    elsewhere = parse_actor(_hostile_actor(endpoints={"sharedInbox": "https://victim.example/"}))
    assert elsewhere.shared_inbox is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": None}, "object id is missing"),
        ({"id": "javascript:alert(1)"}, "object id is not an absolute http"),
        ({"id": "/users/kde/statuses/1"}, "object id is not an absolute http"),
        ({"attributedTo": None}, "attributedTo is missing"),
        (
            {"attributedTo": [{"type": "Image", "id": "https://a.example/"}]},
            "attributedTo is missing",
        ),
        ({"published": None}, "published is missing"),
        ({"published": "yesterday"}, "published is not an ISO 8601 date"),
        ({"type": "Tombstone"}, "a Tombstone is not a post"),
        ({"content": "<p>" + "a" * 100_000 + "</p>"}, "content is over 100000 bytes"),
    ],
)
def test_notes_without_what_a_comment_needs_are_refused(
    fields: dict[str, Any], reason: str
) -> None:
    with pytest.raises(MalformedError, match=reason):
        parse_note(_hostile_note(**fields))


def test_attributed_to_list_with_embedded_objects() -> None:
    author = [
        {"type": "Link", "href": "https://a.example/"},
        {"type": "Person", "id": "https://b.example/u"},
    ]
    assert parse_note(_hostile_note(attributedTo=author)).attributed_to == "https://b.example/u"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": None}, "activity id is missing"),
        ({"actor": None}, "actor is missing"),
        ({"actor": {"type": "Person"}}, "actor is missing"),
        ({"actor": "acct:felix@mastodon.madrid"}, "actor is not an absolute"),
        ({"type": 7}, "activity type is missing"),
        ({"object": "urn:uuid:1"}, "object id is not an absolute"),
    ],
)
def test_activities_without_what_a_handler_needs_are_refused(
    fields: dict[str, Any], reason: str
) -> None:
    with pytest.raises(MalformedError, match=reason):
        parse_activity(load("mastodon/lemmy-assets/activities/like_page.json") | fields)


def test_activity_type_lists_and_single_recipients() -> None:
    like = load("mastodon/lemmy-assets/activities/like_page.json")
    parsed = parse_activity(
        like | {"type": ["Unknown", "Like"], "to": AS_PUBLIC, "cc": "as:Public"}
    )
    assert (parsed.type, parsed.to, parsed.cc) == ("Like", (AS_PUBLIC,), (AS_PUBLIC,))


def test_lists_are_capped() -> None:
    mention = {"type": "Mention", "href": "https://a.example/u", "name": "@u@a.example"}
    note = parse_note(_hostile_note(tag=[mention] * 5000, cc=["https://a.example/u"] * 5000))
    assert len(note.mentions) == 100 and note.cc == ("https://a.example/u",)


# Values of every JSON type, and AS2 shapes in the wrong place.
WRONG_SHAPES: list[Any] = [
    None, 0, -1, 1.5, True, "", "x", "javascript:alert(1)", [], {}, [None], [1, {}], {"id": 1},
    {"type": ["Person"]}, [{"type": ["Note"], "id": "https://a.example/"}], {"href": 5}, "Public",
]  # fmt: skip


@pytest.mark.parametrize(
    ("parser", "name"),
    [
        ("note", "peertube/lemmy-assets/objects/video.json"),
        ("actor", "mastodon/fedify-fixtures/activitypub.academy-actor-brauca_darradiul.json"),
        ("activity", "mastodon/lemmy-assets/activities/create_note.json"),
    ],
)
def test_any_field_of_any_shape_is_read_or_refused(parser: str, name: str) -> None:
    """Nothing but MalformedError escapes, whatever shape a field takes (no TypeError from a
    list where a string was expected, no KeyError from a missing key)."""
    document = load(name)
    for key in document:
        for value in WRONG_SHAPES:
            for shape in (value, [value, value]):
                with contextlib.suppress(MalformedError):
                    PARSERS[parser](document | {key: shape})


# ---- The JSON body ----


def test_json_body_limits() -> None:
    body = _read("mastodon/lemmy-assets/activities/create_note.json").encode()
    assert parse_json_body(body)["type"] == "Create"
    with pytest.raises(TooLargeError):
        parse_json_body(body + b" " * (MAX_BODY_BYTES + 1 - len(body)))
    parse_json_body(body + b" " * (MAX_BODY_BYTES - len(body)))
    for bad in (b"[]", b'"x"', b"1", b"null", b"\xff\xfe", b'{"a": NaN}', b'{"a": "\\ud800"}', b""):
        with pytest.raises(MalformedError):
            parse_json_body(bad)


def test_deep_nesting_is_refused_quickly() -> None:
    assert parse_json_body(b'{"a":' * 31 + b"{}" + b"}" * 31)  # 32 levels
    with pytest.raises(MalformedError, match="JSON nested too deeply"):
        parse_json_body(b'{"a":' * 32 + b"[]" + b"}" * 32)
    start = time.perf_counter()
    for opening, closing in ((b"[", b"]"), (b'{"a":', b"}")):
        with pytest.raises(MalformedError):
            parse_json_body(b'{"a":' + opening * 10_000 + closing * 10_000 + b"}")
    assert time.perf_counter() - start < 1


# ---- Small values ----


def test_ids() -> None:
    value = ["https://a.example/1", {"id": "https://a.example/2"}, {"type": "Note"}, 3, {"id": 4}]
    assert ids_of(value) == ("https://a.example/1", "https://a.example/2")
    assert ids_of({"id": "https://a.example/3"}) == ("https://a.example/3",)
    assert (first_id(None), first_id([]), first_id("https://a.example/")) == (
        None,
        None,
        "https://a.example/",
    )


def test_origins() -> None:
    assert origin_of("HTTPS://Mastodon.Social:443/users/a") == "https://mastodon.social"
    assert origin_of("http://lemmy-alpha:8541/u/a") == "http://lemmy-alpha:8541"
    assert same_origin("https://a.example/u", "https://a.example:443/inbox")
    assert not same_origin("https://a.example/", "http://a.example/")
    assert not same_origin("https://a.example/", "https://b.a.example/")
    assert not same_origin("javascript:alert(1)", "javascript:alert(1)")
    assert origin_of("https://xn--80ak6aa92e.com/") == "https://xn--80ak6aa92e.com"
    for bad in (
        "ftp://a.example/",
        "//a.example/",
        "https://good.example@evil.example/",
        "https://evil.example\\@good.example/",
        "https://a.example:99999/",
        "https://a.example/with space",
        "https://аррӏе.com/",  # a Unicode host, here a homograph of apple.com
    ):
        with pytest.raises(MalformedError):
            origin_of(bad)


def test_dates() -> None:
    expected = datetime(2021, 3, 22, 16, 54, 46, 461939, tzinfo=UTC)
    assert parse_datetime("2021-03-22T16:54:46.461939Z") == expected
    assert parse_datetime("2021-03-22T17:54:46.461939+01:00") == expected
    assert parse_datetime("2022-08-01T11:06:49.568Z").microsecond == 568000
    assert parse_datetime("2017-12-19T16:56:29.7576707+00:00").second == 29  # Kroeg's 7 digits
    assert parse_datetime("2021-11-05T11:46:50").tzinfo is UTC
    for bad in ("", "tomorrow", "1969-12-31T23:59:59Z", "2021-13-01T00:00:00Z", 1636112810, None):
        with pytest.raises(MalformedError):
            parse_datetime(bad)


def test_visibility() -> None:
    followers = "https://a.example/users/eve/followers"
    assert visibility_of([AS_PUBLIC], []) is Visibility.PUBLIC
    assert visibility_of(["as:Public"], []) is Visibility.PUBLIC
    assert visibility_of([followers], ["Public"]) is Visibility.UNLISTED
    assert visibility_of([followers], ["https://b.example/u"]) is Visibility.FOLLOWERS
    assert visibility_of(["https://soc.example/followers/jakob"], []) is Visibility.FOLLOWERS
    assert visibility_of(["https://a.example/c/x"], [], "https://a.example/c/x") is (
        Visibility.FOLLOWERS
    )
    assert visibility_of(["https://b.example/u"], []) is Visibility.DIRECT
    assert visibility_of([], []) is Visibility.DIRECT
