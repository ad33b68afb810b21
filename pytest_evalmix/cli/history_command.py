"""``evalmix history MANIFEST``: how a set has moved over its git history (docs/cli.md).

The rows come from `revisions.history`, the views from `report.history_views`; this module
parses nothing but its arguments, brings the results reader, and writes the view.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_evalmix.cli.project import Failure, find_project

FORMATS = ("table", "md", "json", "html")  # report.history_views.RENDER
USAGE = 4  # a bad ref or argument, as pytest's exit status for a usage error


class UsageError(Exception):
    """A bad argument: one ``evalmix: error:`` line, exit 4."""


def add_parser(commands: Any) -> None:
    """Add ``history`` to the subcommands of `main.build_parser`."""
    history = commands.add_parser(
        "history",
        help="how an eval set has moved over its git history",
        description=(
            "One row per commit that changed the set's manifest or data files, newest first, "
            "read from git (nothing is checked out): counts and shares by origin, golds labelled "
            "llm, provisional labels open and overdue, pass rates where a results file was "
            "committed."
        ),
    )
    history.add_argument("manifest", metavar="MANIFEST", type=Path, help="the eval set's manifest")
    history.add_argument("--since", metavar="REF", help="only the commits of REF..HEAD")
    history.add_argument("--max-commits", type=int, metavar="N", help="at most the N newest rows")
    history.add_argument("--format", choices=FORMATS, default="table", help="default table")
    history.add_argument("--out", type=Path, metavar="PATH", help="write here, not to stdout")


def _outcomes(path: Path, shown: str, evalset: object, ids: list[str]) -> Sequence[bool | None]:
    from pytest_evalmix.model.evalset import EvalSet
    from pytest_evalmix.results.file import NONE, PASSED, read_results

    assert isinstance(evalset, EvalSet)
    results = read_results(
        path,
        shown,
        "pass-rates",
        ids,
        fmt=evalset.results_format,
        threshold=evalset.results_threshold,
    )
    return [None if code == NONE else code == PASSED for code in results.codes]


def run_history(args: argparse.Namespace) -> int:
    from pytest_evalmix.errors import ManifestError
    from pytest_evalmix.files.atomic import write_atomic
    from pytest_evalmix.model import policy as policy_mod
    from pytest_evalmix.model.text import escape
    from pytest_evalmix.report.history_views import RENDER
    from pytest_evalmix.revisions.history import HistoryError, history

    manifest: Path = args.manifest
    try:
        if args.max_commits is not None and args.max_commits < 1:
            raise UsageError(f"--max-commits {args.max_commits}: give a positive whole number")
        if not manifest.is_file():
            raise UsageError(f"no manifest at {manifest}")
        project = find_project(manifest.absolute().parent)
        try:
            project_policy = policy_mod.from_pyproject(project.rootdir)
        except policy_mod.PolicyError as exc:
            raise Failure(f"pyproject.toml [tool.evalmix.policy]: {exc.message}") from None
        except ValueError as exc:
            raise Failure(f"pyproject.toml: {exc}") from None
        try:
            rows = history(
                project.rootdir,
                manifest.absolute(),
                project_policy,
                since=args.since,
                max_commits=args.max_commits,
                outcomes=_outcomes,
            )
        except HistoryError as exc:
            raise UsageError(str(exc)) from None
        except ManifestError as exc:
            raise Failure(str(exc)) from None
    except UsageError as exc:
        print(f"evalmix: error: {escape(str(exc))}", file=sys.stderr)
        return USAGE
    text = RENDER[args.format](rows)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_atomic(args.out.absolute(), text, base=project.rootdir)
    except OSError as exc:
        raise Failure(f"cannot write {args.out}: {exc}") from None
    return 0
