from __future__ import annotations

from pathlib import Path

import pytest

from fedipub.config import (
    SETTINGS_FILE,
    ProfileLink,
    load_settings,
    settings_from_mapping,
    settings_to_toml,
)
from fedipub.errors import ConfigError


def test_settings_round_trip_through_the_toml_file(tmp_path: Path) -> None:
    settings = settings_from_mapping(
        tmp_path,
        {
            "domain": "example.com",
            "display_name": 'Quote " and é',
            "also_known_as": ["https://old.example/users/me"],
            "profile_links": [{"name": "Web", "url": "https://example.com"}],
            "manually_approves_followers": True,
        },
    )
    (tmp_path / SETTINGS_FILE).write_text(settings_to_toml(settings), encoding="utf-8")
    loaded = load_settings(tmp_path, {})
    assert loaded == settings
    assert loaded.profile_links == (ProfileLink("Web", "https://example.com"),)
    assert loaded.base_url == "https://example.com"
    assert loaded.handle == "@blog@example.com"
    assert loaded.key_folder == tmp_path / "keys"


def test_environment_variables_override_the_file(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text('domain = "example.com"\n', encoding="utf-8")
    settings = load_settings(
        tmp_path,
        {
            "FEDIPUB_ALLOW_PRIVATE_ADDRESSES": "1",
            "FEDIPUB_PAGE_SIZE": "7",
            "FEDIPUB_SCHEME": "http",
            "FEDIPUB_ALSO_KNOWN_AS": "https://a.example/u/1, https://b.example/u/2",
        },
    )
    assert settings.allow_private_addresses is True
    assert settings.page_size == 7
    assert settings.base_url == "http://example.com"
    assert settings.also_known_as == ("https://a.example/u/1", "https://b.example/u/2")


def test_relative_key_folder_is_inside_the_data_folder(tmp_path: Path) -> None:
    settings = settings_from_mapping(tmp_path, {"domain": "example.com", "keys_dir": "k"})
    assert settings.key_folder == tmp_path / "k"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "no domain"),
        ({"domain": "exa mple"}, "not a host name"),
        ({"domain": "example.com", "scheme": "ftp"}, "scheme"),
        ({"domain": "example.com", "username": "Bad User"}, "username"),
        ({"domain": "example.com", "article_type": "Video"}, "article_type"),
        ({"domain": "example.com", "moderation": "maybe"}, "moderation"),
        ({"domain": "example.com", "page_size": "lots"}, "page_size"),
        ({"domain": "example.com", "page_size": 0}, "page_size"),
        ({"domain": "example.com", "secure_mode": "perhaps"}, "secure_mode"),
    ],
)
def test_invalid_settings_are_refused(
    tmp_path: Path, values: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping(tmp_path, values)


def test_missing_and_broken_settings_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no blog in"):
        load_settings(tmp_path, {})
    (tmp_path / SETTINGS_FILE).write_text("domain = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path, {})
