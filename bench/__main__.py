"""`python -m bench` (`make bench`): every benchmark at its full size, one after the other;
the table is printed and written to bench/RESULTS.md."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from bench import fanout, fetch, inbox, memory, page
from bench.results import Row, markdown_table, print_rows, write_results

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SUITE: dict[str, Callable[[], list[Row]]] = {
    "memory": memory.run,
    "inbox": inbox.run,
    "fanout": fanout.run,
    "page": page.run,
    "fetch": fetch.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=sorted(SUITE), action="append", help="repeatable")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    started = time.perf_counter()
    rows: list[Row] = []
    for name, run in SUITE.items():
        if args.only and name not in args.only:
            continue
        found = run()
        print_rows(found)
        rows.extend(found)
    elapsed = time.perf_counter() - started
    print()
    print(markdown_table(rows))
    write_results(args.results, rows, elapsed=elapsed)
    print(f"written to {args.results} ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
