"""The schema, as named and ordered migrations: `fedipub/store/schema/NNNN_name.sql`.

Each migration runs in the same transaction as the row that records it, so a database is
always at exactly one named version; a database from any earlier release upgrades in place.
Never edit a migration that has shipped: add a new file with the next number.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def migrations() -> tuple[tuple[str, str], ...]:
    """(name, SQL) pairs in the order they apply, read from the package on first use."""
    folder = resources.files("fedipub.store").joinpath("schema")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))
    return tuple(
        (name.removesuffix(".sql"), folder.joinpath(name).read_text(encoding="utf-8"))
        for name in names
    )
