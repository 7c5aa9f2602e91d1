"""What every command module shares: the data folder, settings, the store, tables."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from fedipub.config import Settings, load_settings
from fedipub.errors import ConfigError
from fedipub.keys import load_keyset
from fedipub.services import Services, build_services
from fedipub.store import Store, open_store

T = TypeVar("T")
Handler = Callable[[argparse.Namespace], int]


class AddCommand(Protocol):
    """Registers a subcommand (with the common --data option) and returns its parser."""

    def __call__(self, name: str, handler: Handler, text: str) -> argparse.ArgumentParser: ...


def data_dir(args: argparse.Namespace) -> Path:
    raw = args.data or os.environ.get("FEDIPUB_DATA")
    if not raw:
        raise ConfigError("no data folder: pass --data DIR or set FEDIPUB_DATA")
    return Path(raw)


def settings_of(args: argparse.Namespace) -> Settings:
    return load_settings(data_dir(args), os.environ)


def run_with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        store = await open_store(settings.database_path)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    for row in (headers, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def run_with_services(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    """Run `work` with everything the server has: store, keys, the guarded client."""

    async def run() -> T:
        store = await open_store(settings.database_path)
        services = build_services(settings, store, load_keyset(settings.key_folder))
        try:
            return await work(services)
        finally:
            await services.aclose()
            await store.close()

    return asyncio.run(run())
