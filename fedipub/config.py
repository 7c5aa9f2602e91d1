"""Settings: the data folder's `fedipub.toml`, overridden by `FEDIPUB_<NAME>` environment variables.

Nothing is read at import time: `load_settings` is called by the CLI and `create_app`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from fedipub.errors import ConfigError

SETTINGS_FILE = "fedipub.toml"
DATABASE_FILE = "fedipub.sqlite3"
ENV_PREFIX = "FEDIPUB_"

_USERNAME = re.compile(r"^[a-z0-9_]{1,30}$")
_DOMAIN = re.compile(r"^[a-z0-9.-]+(:[0-9]{1,5})?$")
ARTICLE_TYPES = ("Note", "Article")
ACTOR_TYPES = ("Person", "Service", "Organization", "Group", "Application")
MODERATION_MODES = ("open", "first-time", "all")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class ProfileLink:
    """A profile metadata field (Mastodon's PropertyValue attachment)."""

    name: str
    url: str


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    domain: str
    scheme: str = "https"
    username: str = "blog"
    display_name: str = "My blog"
    summary: str = ""
    keys_dir: Path | None = None
    actor_type: str = "Person"
    article_type: str = "Note"
    language: str = "en"
    icon_url: str | None = None
    image_url: str | None = None
    manually_approves_followers: bool = False
    discoverable: bool = True
    indexable: bool = True
    also_known_as: tuple[str, ...] = ()
    profile_links: tuple[ProfileLink, ...] = ()
    allow_private_addresses: bool = False
    secure_mode: bool = False
    moderation: str = "open"
    page_size: int = 20
    # Seconds a signature's Date/created may differ from our clock (Mastodon: one hour).
    signature_window: int = 3600
    # Largest inbox body accepted (Mastodon: 1 MB).
    max_inbox_bytes: int = 1_000_000
    # Per remote host: sustained inbox requests per second, and the burst allowed.
    inbox_rate: int = 20
    inbox_burst: int = 200
    # Seconds between reads of recent comments' `replies` collections (0: never).
    replies_crawl_interval: int = 900
    # Deliver from inside `fedipub serve` (off when `fedipub worker` runs on its own).
    delivery_worker: bool = True
    delivery_concurrency: int = 64
    delivery_per_host: int = 4
    # Helper processes that sign outbound requests (fedipub/signer.py); -1: one per core
    # but one, at most four; 0: sign on the event loop.
    signing_processes: int = -1
    notify_webhook_url: str | None = None
    notify_email: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True
    # How long an admin web session lasts after logging in.
    admin_session_hours: int = 12
    # Addresses (or networks, comma-separated) whose X-Forwarded-For/-Proto are believed: the
    # reverse proxy's. Anyone else could claim any client address.
    trusted_proxies: str = "127.0.0.1"
    log_format: str = "text"
    # Bearer token that opens /metrics to clients other than loopback and the trusted proxies.
    metrics_token: str | None = None
    # The account this blog moved to (`fedipub move`): the actor's movedTo.
    moved_to: str | None = None
    # Days a rotated-out key is kept in keys/previous/ before `fedipub keys rotate` deletes it.
    key_grace_days: int = 7
    created: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def key_folder(self) -> Path:
        return self.keys_dir if self.keys_dir is not None else self.data_dir / "keys"

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_FILE

    @property
    def handle(self) -> str:
        return f"@{self.username}@{self.domain}"


def _coerce(name: str, raw: Any, kind: str) -> Any:
    """Turn a TOML or environment value into the field's type, or refuse with one line.

    `kind` is the field's annotation as text (this module uses postponed annotations).
    """
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "Path | None":
            return Path(str(raw)) if raw not in (None, "") else None
        if kind == "tuple[ProfileLink, ...]":
            return tuple(ProfileLink(name=str(i["name"]), url=str(i["url"])) for i in raw)
        if kind == "tuple[str, ...]":
            if isinstance(raw, str):
                return tuple(part.strip() for part in raw.split(",") if part.strip())
            return tuple(str(i) for i in raw)
        if kind.endswith("| None") and raw in (None, ""):
            return None
        return str(raw)
    except (ValueError, TypeError, KeyError):
        raise ConfigError(f"setting {name!r} has an invalid value: {raw!r}") from None


def trusted_proxy_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The `trusted_proxies` entries as networks; `*` (trust every peer) is left out."""
    return [
        ipaddress.ip_network(entry, strict=False)
        for entry in (part.strip() for part in value.split(","))
        if entry and entry != "*"
    ]


def _check_trusted_proxies(value: str) -> None:
    try:
        trusted_proxy_networks(value)
    except ValueError:
        raise ConfigError(
            f"trusted_proxies must be IP addresses or networks, comma-separated: {value!r}"
        ) from None


def _validate(settings: Settings) -> Settings:
    if not _DOMAIN.match(settings.domain):
        raise ConfigError(f"domain {settings.domain!r} is not a host name (with optional :port)")
    if settings.scheme not in ("http", "https"):
        raise ConfigError(f"scheme must be http or https, not {settings.scheme!r}")
    if not _USERNAME.match(settings.username):
        raise ConfigError("username must be 1-30 characters of a-z, 0-9 and _")
    if settings.article_type not in ARTICLE_TYPES:
        raise ConfigError(f"article_type must be one of {', '.join(ARTICLE_TYPES)}")
    if settings.actor_type not in ACTOR_TYPES:
        raise ConfigError(f"actor_type must be one of {', '.join(ACTOR_TYPES)}")
    if settings.moderation not in MODERATION_MODES:
        raise ConfigError(f"moderation must be one of {', '.join(MODERATION_MODES)}")
    if not 1 <= settings.page_size <= 200:
        raise ConfigError("page_size must be between 1 and 200")
    if not 30 <= settings.signature_window <= 43200:
        raise ConfigError("signature_window must be between 30 and 43200 seconds")
    if not 1024 <= settings.max_inbox_bytes <= 100_000_000:
        raise ConfigError("max_inbox_bytes must be between 1024 and 100000000")
    if settings.log_format not in LOG_FORMATS:
        raise ConfigError(f"log_format must be one of {', '.join(LOG_FORMATS)}")
    if settings.key_grace_days < 0:
        raise ConfigError("key_grace_days must be 0 or more")
    _check_trusted_proxies(settings.trusted_proxies)
    return settings


def settings_from_mapping(data_dir: Path, values: Mapping[str, Any]) -> Settings:
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, raw in values.items():
        if name in ("data_dir", "extra"):
            continue
        if name in fields:
            known[name] = _coerce(name, raw, str(fields[name].type))
        else:
            extra[name] = raw
    if "domain" not in known:
        raise ConfigError("the settings name no domain")
    if known.get("keys_dir") is not None and not known["keys_dir"].is_absolute():
        known["keys_dir"] = data_dir / known["keys_dir"]
    return _validate(Settings(data_dir=data_dir, extra=extra, **known))


def load_settings(data_dir: Path, environ: Mapping[str, str]) -> Settings:
    """Read DIR/fedipub.toml, then let FEDIPUB_<NAME> variables override single settings."""
    path = data_dir / SETTINGS_FILE
    try:
        values: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no blog in {data_dir} (no {SETTINGS_FILE}); create one with: fedipub init --data "
            f"{data_dir} --domain example.com"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    names = {f.name for f in dataclasses.fields(Settings)} - {"data_dir", "extra"}
    for name in names:
        env_value = environ.get(ENV_PREFIX + name.upper())
        if env_value is not None:
            values[name] = env_value
    return settings_from_mapping(data_dir, values)


def settings_to_toml(settings: Settings) -> str:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        if f.name in ("data_dir", "extra"):
            continue
        value = getattr(settings, f.name)
        if value is None:
            continue
        if isinstance(value, Path):
            value = str(value)
        elif f.name == "profile_links":
            value = [{"name": link.name, "url": link.url} for link in value]
        elif isinstance(value, tuple):
            value = list(value)
        values[f.name] = value
    values.update(settings.extra)
    return tomli_w.dumps(values)
