"""`fedipub admin-password`: sets the password of the admin web at /admin."""

from __future__ import annotations

import argparse
import getpass
import sys

from fedipub.auth import MIN_PASSWORD_LENGTH, check_new_password, hash_password
from fedipub.commands.common import AddCommand, run_with_store, settings_of
from fedipub.errors import ConfigError
from fedipub.publishing import utcnow


def _read_password() -> str:
    """From a terminal: asked twice, not echoed. Otherwise the first line of stdin, so that
    scripts can pipe it in (never as an argument: those show in `ps` and shell history)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass(f"New admin password (at least {MIN_PASSWORD_LENGTH} characters): ")
    if getpass.getpass("The same again: ") != password:
        raise ConfigError("the two passwords differ")
    return password


def cmd_admin_password(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    encoded = hash_password(check_new_password(_read_password()))
    run_with_store(settings, lambda store: store.admin.set_password_hash(encoded, utcnow()))
    print(f"admin password set; log in at {settings.base_url}/admin/login")
    print("every earlier admin session has ended")
    return 0


def register(command: AddCommand) -> None:
    command(
        "admin-password",
        cmd_admin_password,
        "set the admin web's password (from stdin, or asked for on a terminal)",
    )
