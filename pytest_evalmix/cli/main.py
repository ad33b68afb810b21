"""The ``evalmix`` command: the same core as the pytest plugin, for work outside a test run.

Subcommands register themselves in `build_parser`; each is a thin front end over the core. Exit
status: 0 done, 1 failed (with one message, never a traceback), 2 a usage error, 130 interrupted.

The commands find the project the way pytest would, approximately: the rootdir is the nearest
ancestor of the file they work on that holds a pytest configuration (``pytest.ini``,
``.pytest.ini``, ``pyproject.toml`` with ``[tool.pytest.ini_options]``, ``tox.ini`` with
``[pytest]``, ``setup.cfg`` with ``[tool:pytest]``), else the nearest with a ``pyproject.toml``,
else the working directory. The ini options ``evalmix_dir`` and ``evalmix_model`` are read from
that configuration, so the CLI and ``pytest --evalmix`` share one cache, ledger and review log.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_evalmix.cli.history_command import add_parser as add_history
from pytest_evalmix.cli.history_command import run_history
from pytest_evalmix.cli.project import Failure
from pytest_evalmix.cli.propose_command import run_propose
from pytest_evalmix.cli.review_command import run_review
from pytest_evalmix.cli.schema_command import SCHEMAS, run_schema
from pytest_evalmix.model.defaults import SYNTH_MODES
from pytest_evalmix.model.defaults import VERSION as __version__


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return number


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--evalmix-dir",
        metavar="DIR",
        help="where the cache, ledger and reviews live (default: ini evalmix_dir, else "
        ".evalmix under the rootdir)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evalmix",
        description=(
            "Tools for an LLM eval set checked by pytest-evalmix. "
            "The checks themselves run under `pytest --evalmix`."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    propose = commands.add_parser(
        "propose",
        help="paraphrase a set's inputs into candidates for review",
        description=(
            "Paraphrase the inputs of an eval set's records (production by default) into "
            "synthetic candidate records with no gold, for `evalmix review`."
        ),
    )
    propose.add_argument("manifest", metavar="MANIFEST", type=Path, help="the eval set's manifest")
    propose.add_argument("--n", type=_positive, default=10, help="rewrites per seed (default 10)")
    propose.add_argument(
        "--out", type=Path, required=True, metavar="QUEUE", help="the queue to write (JSONL)"
    )
    propose.add_argument(
        "--origin",
        default="production",
        choices=("production", "synthetic", "adversarial"),
        help="which records are the seeds (default production)",
    )
    propose.add_argument("--limit", type=_positive, metavar="K", help="use at most K seeds")
    cells = propose.add_mutually_exclusive_group()
    cells.add_argument(
        "--cell",
        metavar="AXIS=VALUE,...",
        help="only the seeds of this cell of the coverage grid (leave an axis out for every "
        "value of it); candidates carry the cell as their grid",
    )
    cells.add_argument(
        "--fill",
        action="store_true",
        help="only the seeds of the cells below coverage.min_per_cell",
    )
    propose.add_argument(
        "--synth",
        choices=SYNTH_MODES,
        default="replay",
        help="how the synthesizer uses its cache (default replay), as --evalmix-synth",
    )
    propose.add_argument("--model", help="the model (default: ini evalmix_model)")
    propose.add_argument(
        "--concurrency", type=_positive, default=8, help="requests in flight (default 8)"
    )
    _common(propose)

    review = commands.add_parser(
        "review",
        help="accept, edit or reject each candidate of a queue",
        description=(
            "Show each candidate of a queue beside its seed and the seed's gold, and take a "
            "typed decision: a accept, r reject, e edit, s skip, q quit, ? help."
        ),
    )
    review.add_argument("queue", metavar="QUEUE", type=Path, help="a queue from evalmix propose")
    review.add_argument(
        "--into",
        required=True,
        type=Path,
        metavar="DATA_FILE",
        help="the JSONL data file that accepted records are appended to",
    )
    review.add_argument(
        "--reviewer", metavar="NAME", help="your name (default: git config user.name)"
    )
    review.add_argument(
        "--blind",
        action="store_true",
        help="hide the seed and its gold until you have given a gold (paraphrases)",
    )
    _common(review)
    review.set_defaults(parser=review)

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of a file format, for editors",
        description="Print the JSON Schema generated from pytest-evalmix's models.",
    )
    schema.add_argument("kind", choices=SCHEMAS, help="example (a record), manifest or results")
    schema.add_argument(
        "--file",
        action="store_true",
        help="for example: the schema of a whole YAML or JSON record file (a list of records, "
        "or a mapping with examples:) instead of one record",
    )
    schema.set_defaults(parser=schema)
    add_history(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "schema":
            return run_schema(args)
        if args.command == "history":
            return run_history(args)
        if args.command == "propose":
            return run_propose(args)
        return run_review(args)
    except Failure as exc:
        from pytest_evalmix.model.text import escape  # messages quote data: ids, paths

        print(f"evalmix: error: {escape(str(exc), keep=chr(10))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nevalmix: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`evalmix schema manifest | head`): not worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
