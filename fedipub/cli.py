"""The `fedipub` command: argument parsing → settings → services. No logic of its own.

Every user mistake ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fedipub import __version__
from fedipub.commands import admin, blog, delivery, moderation, ops, ops_moves
from fedipub.commands.common import Handler
from fedipub.errors import FedipubError

MODULES = (blog, moderation, delivery, admin, ops, ops_moves)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fedipub", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"fedipub {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--data", help="the data folder (default: $FEDIPUB_DATA)")
        sub.set_defaults(handler=handler)
        return sub

    for module in MODULES:
        module.register(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except FedipubError as exc:
        print(f"fedipub: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
