"""The ``evalmix`` command: the same core as the pytest plugin, for work outside a test run.

Subcommands register themselves in `build_parser`; each is a thin front end over the core.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evalmix",
        description=(
            "Tools for an LLM eval set checked by pytest-evalmix. "
            "The checks themselves run under `pytest --evalmix`."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
