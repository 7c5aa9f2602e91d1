"""A benchmark's figures as rows of the results table, and the table itself."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Row:
    """One figure. `ceiling` is what the same run measured for the bare alternative (None when
    the figure is judged against a fixed number); `met` is None for figures shown for
    information only."""

    benchmark: str
    figure: float
    unit: str
    ceiling: float | None
    target: str
    met: bool | None
    command: str
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ceiling is None or self.ceiling == 0:
            return None
        return self.figure / self.ceiling


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _met(row: Row) -> str:
    return "—" if row.met is None else ("yes" if row.met else "**no**")


def print_rows(rows: Iterable[Row]) -> None:
    for row in rows:
        ceiling = "" if row.ceiling is None else f"  ceiling {_number(row.ceiling)} {row.unit}"
        ratio = "" if row.ratio is None else f"  ratio {row.ratio:.2f}"
        print(
            f"{row.benchmark}: {_number(row.figure)} {row.unit}{ceiling}{ratio}"
            f"  target {row.target}  met {_met(row)}"
        )
        if row.note:
            print(f"    {row.note}")
        print(f"    reproduce: {row.command}")


def markdown_table(rows: Sequence[Row]) -> str:
    lines = [
        "| benchmark | figure | ceiling | ratio | target | met? | command |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ceiling = "" if row.ceiling is None else f"{_number(row.ceiling)} {row.unit}"
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}"
        figure = f"{_number(row.figure)} {row.unit}"
        benchmark = f"{row.benchmark}<br>{row.note}" if row.note else row.benchmark
        lines.append(
            f"| {benchmark} | {figure} | {ceiling} | {ratio} | {row.target} | {_met(row)}"
            f" | `{row.command}` |"
        )
    return "\n".join(lines) + "\n"


def machine() -> str:
    """One line naming what the figures were measured on."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text(encoding="utf-8").splitlines()[0]
        memory = f", {int(first.split()[1]) / 1024 / 1024:.0f} GB RAM"
    return (
        f"{os.cpu_count()} cores ({model}){memory}, {platform.system()} {platform.release()},"
        f" Python {platform.python_version()}"
    )


def write_results(path: Path, rows: Sequence[Row], *, elapsed: float) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        "# Benchmark results\n\n"
        f"Measured {stamp} on {machine()}; the whole suite took {elapsed:.0f} s.\n"
        "Reproduce all of them with `make bench` (or `.venv/bin/python -m bench`), one with its"
        " command below. Each ceiling is measured in the same run, on the same machine, with"
        " the same load generator, so ratios are steadier than absolute figures, which vary"
        " by ±20% from run to run on a shared virtual machine.\n\n" + markdown_table(rows)
    )
    path.write_text(text, encoding="utf-8")
